import Foundation

/// A kind of credential an IAM user can hold, as `--revoke` names it.
///
/// Revoking deactivates, never deletes: access keys, SSH public keys, signing certificates and
/// service-specific credentials are set `Inactive`, MFA devices are deactivated (unbound from
/// the user; a virtual device stays in the account). The login profile (`console`) has no
/// inactive state: it is deleted.
public enum CredentialKind: String, Sendable, Codable, CaseIterable, Comparable {
    case console
    case keys
    case ssh
    case certs
    case serviceCredentials = "service-credentials"
    case mfa

    /// The plural noun for details: "access keys", "SSH public keys", ...
    public var noun: String {
        switch self {
        case .console: return "login profile"
        case .keys: return "access keys"
        case .ssh: return "SSH public keys"
        case .certs: return "signing certificates"
        case .serviceCredentials: return "service-specific credentials"
        case .mfa: return "MFA devices"
        }
    }

    /// A cell's word for an error message: quoted when `Validation.isSafeToShow` allows it,
    /// else only its length.
    static func shown(_ word: String) -> String {
        Validation.isSafeToShow(word) ? "`\(word)`" : "(not shown, \(word.count) characters)"
    }

    /// The order kinds are revoked and listed in: the console first (the most used way in).
    public static func < (lhs: CredentialKind, rhs: CredentialKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Which kinds a `disable` revokes: `--revoke console,keys,...` or `--revoke all`.
public struct RevokeKinds: Sendable, Equatable, CustomStringConvertible {
    public let kinds: Set<CredentialKind>

    /// Today's default: only the console password.
    public static let console = RevokeKinds([.console])
    /// `--deactivate-access-keys`: the console password and every access key.
    public static let consoleAndKeys = RevokeKinds([.console, .keys])
    /// `--revoke all`: every kind.
    public static let all = RevokeKinds(Set(CredentialKind.allCases))

    public init(_ kinds: Set<CredentialKind>) {
        self.kinds = kinds
    }

    /// Parses `--revoke`'s value: `all`, or kinds separated by commas (spaces around them are
    /// ignored; a kind named twice counts once).
    public init(parsing text: String) throws(RevokeKindsError) {
        let words = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if words == ["all"] {
            self = .all
            return
        }
        var kinds: Set<CredentialKind> = []
        for word in words {
            if word.isEmpty { throw RevokeKindsError(text: text, reason: "an empty kind") }
            if word == "all" { throw RevokeKindsError(text: text, reason: "`all` goes alone") }
            guard let kind = CredentialKind(rawValue: word) else {
                throw RevokeKindsError(text: text, reason: "unknown kind \(CredentialKind.shown(word))")
            }
            kinds.insert(kind)
        }
        self.kinds = kinds
    }

    public func contains(_ kind: CredentialKind) -> Bool { kinds.contains(kind) }

    /// The kinds other than the console, in revoking order.
    public var credentialKinds: [CredentialKind] { kinds.filter { $0 != .console }.sorted() }

    /// `console,keys`, or `all`.
    public var description: String {
        self == .all ? "all" : kinds.sorted().map(\.rawValue).joined(separator: ",")
    }
}

/// A `--revoke` value that names no kind or an unknown one.
public struct RevokeKindsError: Error, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String

    /// The whole `--revoke` value is quoted: it comes from the command line, not a file cell
    /// (a `revoke` cell's error uses `reason` alone).
    public var description: String {
        "--revoke \(text): \(reason); give `all` or kinds separated by commas from: "
            + CredentialKind.allCases.map(\.rawValue).joined(separator: ", ")
    }
}

/// One credential a row deactivated (or, in a dry run, would): its kind and its id (an access
/// key id, SSH public key id, certificate id, service-specific credential id or MFA serial),
/// never a secret.
public struct RevokedCredential: Sendable, Equatable, Codable {
    public let kind: CredentialKind
    public let id: String

    public init(kind: CredentialKind, id: String) {
        self.kind = kind
        self.id = id
    }
}

/// A kind whose revoking (or restoring) failed for one row: which, and why (the code and
/// message of the call that failed). The other kinds were still tried.
public struct CredentialFailure: Sendable, Equatable {
    public let kind: CredentialKind
    public let code: String
    public let message: String

    public init(kind: CredentialKind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }
}
