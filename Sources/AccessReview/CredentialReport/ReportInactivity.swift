import AWSQuery
import Foundation

/// What the review concluded about one user.
public enum ReviewState: String, Sendable, Codable, CaseIterable {
    /// Marked: console (or, with `--include-keys`, an active key) unused for more than N days.
    case inactive
    /// Has console access or an active key, used recently enough.
    case active
    /// Neither a console password nor an active access key.
    case noAccess = "no_access"
    /// Console access whose age the report cannot show (no last use and no password change date).
    case undetermined
    /// No `--inactive-days`: nothing was judged.
    case notJudged = "not_judged"
}

/// One user of the credential report, judged.
public struct ReportUserReview: Sendable, Equatable {
    public var entry: CredentialReportEntry
    public var state: ReviewState
    /// Why: `console unused 131 days`, `never signed in; password set 200 days ago`,
    /// `key AKIA…EXAMPLE unused 95 days`; several joined by `; `.
    public var reasons: [String]
    /// True when the console password is what is stale.
    public var consoleStale: Bool
    /// The report key slots (1, 2) found stale (only judged with `--include-keys`).
    public var staleKeySlots: [Int]
    /// Whole days since the console was last used (or, never used, since the password was set).
    public var consoleIdleDays: Int?
    /// What `--detail` read for this user; nil without it.
    public var detail: UserDetail?

    public var userName: String { entry.user }
    /// Goes into the emitted batch file.
    public var isFlagged: Bool { state == .inactive }
}

/// What `--detail` adds from per-user calls: what the report lacks.
public struct UserDetail: Sendable, Equatable {
    public var passwordResetRequired: Bool?
    public var changePasswordPolicyAttached: Bool?
    public var mfaSerials: [String]
    /// How many MFA devices `ListMFADevices` returned; nil when it was not called (the report
    /// shows no MFA, or a read before it failed).
    public var mfaDevices: Int?
    /// Access key ids by report slot order (oldest first, as the report orders them).
    public var accessKeyIds: [String]
    /// How many SSH public keys and service-specific credentials are active (the report has
    /// neither); nil when not read.
    public var sshKeysActive: Int?
    public var serviceCredentialsActive: Int?
    /// The listings the caller was not allowed (`AccessDenied`): their counts stay nil.
    public var deniedReads: [String] = []
    public var error: String?

    public init(
        passwordResetRequired: Bool? = nil, changePasswordPolicyAttached: Bool? = nil, mfaSerials: [String] = [],
        mfaDevices: Int? = nil, accessKeyIds: [String] = [], sshKeysActive: Int? = nil,
        serviceCredentialsActive: Int? = nil, error: String? = nil
    ) {
        self.passwordResetRequired = passwordResetRequired
        self.changePasswordPolicyAttached = changePasswordPolicyAttached
        self.mfaSerials = mfaSerials
        self.mfaDevices = mfaDevices
        self.accessKeyIds = accessKeyIds
        self.sshKeysActive = sshKeysActive
        self.serviceCredentialsActive = serviceCredentialsActive
        self.error = error
    }
}

/// The inactivity rule an auditor accepts, on the credential report:
/// - console: `password_last_used`; never used → how long ago the password was set
///   (`password_last_changed`), never the user's creation alone: a password the report gives no
///   date for is `undetermined`, not inactive;
/// - access keys (only with `includeKeys`): an active key's last use, else its last rotation
///   (creation).
/// Stale means more than `days` whole days before `now`.
public struct ReportInactivityRule: Sendable, Equatable {
    public var days: Int?
    public var includeKeys: Bool
    public var now: Date

    public init(days: Int?, includeKeys: Bool, now: Date) {
        self.days = days
        self.includeKeys = includeKeys
        self.now = now
    }

    func age(_ date: Date) -> Int { max(0, Int((now.timeIntervalSince(date) / 86_400).rounded(.down))) }

    func stale(_ date: Date) -> Bool {
        guard let days else { return false }
        return now.timeIntervalSince(date) > Double(days) * 86_400
    }

    /// Shortens a key id for a reason: `AKIAIOSFODNN7EXAMPLE` → `AKIA…EXAMPLE`.
    static func shortKey(_ id: String) -> String {
        id.count > 12 ? "\(id.prefix(4))…\(id.suffix(7))" : id
    }

    public func review(_ entry: CredentialReportEntry, detail: UserDetail? = nil) -> ReportUserReview {
        var reasons: [String] = []
        var consoleStale = false
        var idle: Int?
        var undetermined = false
        if entry.passwordEnabled {
            if let used = entry.passwordLastUsed.date {
                idle = age(used)
                consoleStale = stale(used)
                reasons.append(consoleStale ? "console unused \(age(used)) days" : "console used \(age(used)) days ago")
            } else if let set = entry.passwordLastChanged.date {
                idle = age(set)
                consoleStale = stale(set)
                reasons.append("never signed in; password set \(age(set)) days ago")
            } else {
                undetermined = true
                reasons.append("never signed in; the report gives no date the password was set")
            }
        }
        var staleSlots: [Int] = []
        for key in entry.activeKeys {
            let name =
                detail.flatMap { $0.accessKeyIds.count >= key.slot ? $0.accessKeyIds[key.slot - 1] : nil }
                .map { "key \(Self.shortKey($0))" } ?? "access key \(key.slot)"
            if let used = key.lastUsed.date {
                let isStale = stale(used)
                if isStale { staleSlots.append(key.slot) }
                if includeKeys {
                    reasons.append(isStale ? "\(name) unused \(age(used)) days" : "\(name) used \(age(used)) days ago")
                }
            } else if let rotated = key.lastRotated.date {
                let isStale = stale(rotated)
                if isStale { staleSlots.append(key.slot) }
                if includeKeys { reasons.append("\(name) never used; created \(age(rotated)) days ago") }
            }
        }
        if !includeKeys { staleSlots = [] }
        let hasAccess = entry.passwordEnabled || !entry.activeKeys.isEmpty
        let state: ReviewState
        if days == nil {
            state = hasAccess ? .notJudged : .noAccess
        } else if consoleStale || !staleSlots.isEmpty {
            state = .inactive
        } else if undetermined {
            state = .undetermined
        } else {
            state = hasAccess ? .active : .noAccess
        }
        return ReportUserReview(
            entry: entry, state: state, reasons: reasons, consoleStale: consoleStale, staleKeySlots: staleSlots,
            consoleIdleDays: idle, detail: detail)
    }
}
