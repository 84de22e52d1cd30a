import AWSQuery
import Foundation

/// One cell of the credential report that holds a time, as IAM documents the values: an ISO 8601
/// time (with an offset, `2024-05-01T12:00:00+00:00`), `N/A` (not applicable: no password, no
/// key), `no_information` (never used, or last used before IAM started tracking it in
/// October 2014) or `not_supported` (the root user's password rotation, a key IAM cannot track).
public enum ReportTime: Sendable, Equatable {
    case date(Date)
    case notApplicable
    case noInformation
    case notSupported
    /// Empty, or anything else; kept so the review can say what it saw.
    case unreadable(String)

    public init(_ cell: String) {
        switch cell {
        case "N/A": self = .notApplicable
        case "no_information": self = .noInformation
        case "not_supported": self = .notSupported
        default:
            if let date = ISO8601.parse(cell) { self = .date(date) } else { self = .unreadable(cell) }
        }
    }

    public var date: Date? {
        if case .date(let date) = self { return date }
        return nil
    }
}

/// One access key's columns of the credential report (the report has two per user; it gives no
/// key id: `--detail` reads them with `ListAccessKeys`).
public struct ReportAccessKey: Sendable, Equatable {
    /// 1 or 2: which of the report's key columns.
    public var slot: Int
    public var active: Bool
    /// When the key was created or last rotated.
    public var lastRotated: ReportTime
    public var lastUsed: ReportTime
    public var lastUsedService: String?
    public var lastUsedRegion: String?

    /// Whether the report describes a key at all: `N/A` for a slot with no key.
    public var exists: Bool { active || lastRotated.date != nil }
}

/// One user's row of the credential report.
public struct CredentialReportEntry: Sendable, Equatable {
    /// The report's name for the account's root user.
    public static let rootUser = "<root_account>"

    public var user: String
    public var arn: String
    public var userCreated: Date?
    /// `password_enabled`: TRUE/FALSE; `not_supported` (root) is false here.
    public var passwordEnabled: Bool
    public var passwordLastUsed: ReportTime
    public var passwordLastChanged: ReportTime
    public var passwordNextRotation: ReportTime
    public var mfaActive: Bool
    public var accessKeys: [ReportAccessKey]
    /// `cert_1_active`, `cert_2_active`.
    public var certificatesActive: [Bool]
    public var certificatesLastRotated: [ReportTime]
    /// False when the report has no `cert_1_active` / `cert_2_active` columns (IAM's always has
    /// them); `certificatesActive` is then all false, which says nothing.
    public var certificatesReported = true
    /// The report's line number (for messages).
    public var line: Int

    public var isRoot: Bool { user == Self.rootUser }

    /// The IAM path, from the ARN (`arn:aws:iam::123456789012:user/division/team/name` →
    /// `/division/team/`): user names cannot hold `/`, so this is exact. `/` when unreadable.
    public var path: String {
        guard let resource = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).last,
            resource.hasPrefix("user/")
        else { return "/" }
        let rest = resource.dropFirst("user".count)
        guard let slash = rest.lastIndex(of: "/") else { return "/" }
        return String(rest[...slash])
    }

    /// Active keys as the report shows them.
    public var activeKeys: [ReportAccessKey] { accessKeys.filter(\.active) }

    /// How many signing certificates the report shows active (IAM allows two per user, the
    /// report has a column for each); nil when the report has no certificate columns.
    public var activeCertificates: Int? {
        certificatesReported ? certificatesActive.filter { $0 }.count : nil
    }
}
