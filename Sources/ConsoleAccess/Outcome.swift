import AWSQuery

/// What a row asks for.
public enum ConsoleAction: String, Sendable, Codable, CaseIterable {
    /// Create the console password (reset required at first sign-in) and attach
    /// `IAMUserChangePassword`. A user who already has one keeps it (unless asked to reset it).
    case enable
    /// Delete the console password (and, when asked, deactivate access keys).
    case disable
    /// Set a new temporary console password on an existing login profile; never creates one.
    case reset
    /// Undo an offboarding: reactivate the credentials a row lists by id and, when it lists
    /// `console`, enable console access again (as `enable`, with a temporary password).
    case restore

    /// Reset and enable rows carry a password (the row's own or a generated one); a restore row
    /// does when it lists `console`.
    public var takesPassword: Bool { self == .enable || self == .reset }
}

/// One thing a call changed (or, in a dry run, would change).
public enum Change: String, Sendable, Codable, Equatable {
    case profileCreated = "login profile created"
    case passwordReset = "password reset"
    case policyAttached = "IAMUserChangePassword attached"
    case profileDeleted = "login profile deleted"
    case accessKeysDeactivated = "access keys deactivated"
    case sshKeysDeactivated = "SSH public keys deactivated"
    case certificatesDeactivated = "signing certificates deactivated"
    case serviceCredentialsDeactivated = "service-specific credentials deactivated"
    case mfaDeactivated = "MFA devices deactivated"
    case accessKeysReactivated = "access keys reactivated"
    case sshKeysReactivated = "SSH public keys reactivated"
    case certificatesReactivated = "signing certificates reactivated"
    case serviceCredentialsReactivated = "service-specific credentials reactivated"

    /// What deactivating credentials of `kind` changed (nil for the console: its profile is deleted).
    static func deactivated(_ kind: CredentialKind) -> Change? {
        switch kind {
        case .console: return nil
        case .keys: return .accessKeysDeactivated
        case .ssh: return .sshKeysDeactivated
        case .certs: return .certificatesDeactivated
        case .serviceCredentials: return .serviceCredentialsDeactivated
        case .mfa: return .mfaDeactivated
        }
    }

    /// What reactivating credentials of `kind` changed (nil for the console and MFA devices,
    /// which are not reactivated by id).
    static func reactivated(_ kind: CredentialKind) -> Change? {
        switch kind {
        case .console, .mfa: return nil
        case .keys: return .accessKeysReactivated
        case .ssh: return .sshKeysReactivated
        case .certs: return .certificatesReactivated
        case .serviceCredentials: return .serviceCredentialsReactivated
        }
    }

    /// The credential kind this change deactivated or reactivated, if it is one.
    var credentialKind: CredentialKind? {
        CredentialKind.allCases.first { Change.deactivated($0) == self || Change.reactivated($0) == self }
    }
}

/// How a row ended.
public enum OutcomeStatus: String, Sendable, Codable, CaseIterable {
    /// Something changed in IAM.
    case changed
    /// IAM was already as asked (e.g. disabling a user with no console password).
    case unchanged
    /// A call failed; `detail` says what had been done before it.
    case failed
    /// The IAM user does not exist.
    case notFound = "not-found"
    /// The row was refused before any call (bad name, password or policy, self-disable).
    case invalid
    /// Never started (the run was stopped first).
    case notRun = "not-run"
    /// Dry run: what would change.
    case planned
    /// A row run in each of the run's accounts (`--accounts`, `--organization`), in an account
    /// where its user does not exist: the common case, not a failure (a row naming its account
    /// keeps `not-found`).
    case absent
}

/// The result of enabling or disabling one user: a value, not a log line.
public struct Outcome: Sendable, Equatable {
    public var user: String
    public var action: ConsoleAction
    public var status: OutcomeStatus
    /// What changed, in order.
    public var changes: [Change]
    /// A readable summary of what happened (never a password).
    public var detail: String
    /// The AWS error code (or client error kind) of the failure, if any.
    public var errorCode: String?
    /// The failure's message (never a password).
    public var message: String?
    /// The request id of the last call made, or of the failed call.
    public var requestId: String?
    /// Requests sent for this row, retries included (0 when refused locally).
    public var attempts: Int
    /// The HTTP status of the failure, if any.
    public var httpStatus: Int?
    /// Credentials deactivated (or, planned, that would be), by kind and id, in order.
    public var revoked: [RevokedCredential]
    /// Every credential a disable tried to deactivate (a superset of `revoked`: a call whose
    /// answer was lost may have been applied), for the way back.
    public var revokeAttempted: [RevokedCredential] = []
    /// A disable's login profile is gone but whether this run deleted it is unknown (an answer
    /// to `DeleteLoginProfile` was lost); the way back lists `console` then too.
    public var profileDeletionUncertain = false
    /// Credentials reactivated by a restore (or, planned, that would be), by kind and id.
    public var reactivated: [RevokedCredential]
    /// Kinds whose revoking failed (the row is then `failed`; the other kinds were still tried).
    public var credentialFailures: [CredentialFailure]

    /// Access key ids deactivated, when asked to.
    public var deactivatedKeys: [String] { revoked.filter { $0.kind == .keys }.map(\.id) }

    public init(
        user: String, action: ConsoleAction, status: OutcomeStatus, changes: [Change] = [], detail: String = "",
        errorCode: String? = nil, message: String? = nil, requestId: String? = nil, attempts: Int = 0,
        httpStatus: Int? = nil, revoked: [RevokedCredential] = [], reactivated: [RevokedCredential] = [],
        credentialFailures: [CredentialFailure] = []
    ) {
        self.user = user
        self.action = action
        self.status = status
        self.changes = changes
        self.detail = detail
        self.errorCode = errorCode
        self.message = message
        self.requestId = requestId
        self.attempts = attempts
        self.httpStatus = httpStatus
        self.revoked = revoked
        self.reactivated = reactivated
        self.credentialFailures = credentialFailures
    }

    /// True when IAM took the row's password: a login profile was created or its password reset
    /// (a generated password is written out only then).
    public var passwordWasSet: Bool {
        changes.contains(.profileCreated) || changes.contains(.passwordReset)
    }

    /// `changed` and `unchanged` (and `planned` in a dry run) are successes.
    public var succeeded: Bool { status == .changed || status == .unchanged || status == .planned }

    /// True when the failure is about who we are or what we may do (exit code 3).
    public var isAuthorizationFailure: Bool {
        status == .failed && errorCode.map { AWSErrorCode($0).isAuthorization } == true
    }
}
