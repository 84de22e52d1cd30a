import Foundation
import NIOConcurrencyHelpers

/// What the calls made for one piece of work (a report row, a reviewed user) cost and left
/// unknown: requests sent (retries included) and, for the non-idempotent calls
/// (`CreateLoginProfile`, `DeleteLoginProfile`, `DeactivateMFADevice`), when this run first sent
/// each and whether an attempt's answer was lost (a timeout, a dropped connection, a request the
/// transport sent again), so that IAM may have applied a request whose answer never arrived.
/// Tracking is per action: work that makes one action several times (one `DeactivateMFADevice`
/// per device) binds a ledger around each call to tell them apart.
///
/// `RetryingIAM` writes to the ledger bound to the current task (`CallLedger.$current`); work
/// that wants the figures binds its own ledger around its calls.
public final class CallLedger: Sendable {
    /// What one non-idempotent call left unknown.
    public struct Tracking: Sendable, Equatable {
        /// The local clock when the first attempt started.
        public var firstSentAt: Date?
        /// True when an attempt's answer was lost.
        public var answerLost: Bool = false
    }

    private struct State {
        var attempts = 0
        var tracking: [String: Tracking] = [:]
    }

    private let state = NIOLockedValueBox(State())

    @TaskLocal public static var current: CallLedger?

    public init() {}

    /// Requests sent so far, retries included.
    public var attempts: Int { state.withLockedValue { $0.attempts } }

    /// What is known about the non-idempotent call `action` (`CreateLoginProfile`, ...).
    public func tracking(_ action: String) -> Tracking {
        state.withLockedValue { $0.tracking[action] ?? Tracking() }
    }

    /// Runs `body` with this ledger bound for every call it makes.
    public func recording<T>(_ body: () async throws -> T) async rethrows -> T {
        try await Self.$current.withValue(self) { try await body() }
    }

    func add(attempts: Int) {
        state.withLockedValue { $0.attempts += attempts }
    }

    func sent(_ action: String, at date: Date) {
        state.withLockedValue { state in
            if state.tracking[action]?.firstSentAt == nil {
                state.tracking[action, default: Tracking()].firstSentAt = date
            }
        }
    }

    func lost(_ action: String) {
        state.withLockedValue { $0.tracking[action, default: Tracking()].answerLost = true }
    }
}

/// Any `IAMOperations`, each call retried on its own through one `CallExecutor` (backoff, retry
/// quota, the shared rate limiter): the one place retry and rate apply, so a step that
/// succeeded is never repeated by a later step's retry and call sites stay plain calls.
/// Attempts and lost answers go to the current task's `CallLedger`.
public struct RetryingIAM: IAMOperations {
    public let base: any IAMOperations
    public let executor: CallExecutor

    public init(_ base: any IAMOperations, executor: CallExecutor) {
        self.base = base
        self.executor = executor
    }

    /// Runs an idempotent call with retries.
    func retried<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        var attempts = 0
        defer { CallLedger.current?.add(attempts: attempts) }
        return try await executor.run(attempts: &attempts, operation)
    }

    /// Runs a non-idempotent call with retries, noting in the ledger when it was first sent and
    /// whether an attempt's answer was lost.
    func tracked<T: Sendable>(_ action: String, _ operation: () async throws -> T) async throws -> T {
        let ledger = CallLedger.current
        return try await retried {
            ledger?.sent(action, at: Date())
            // The transport may send the request again on its own (a reused connection that
            // closed without answering): that first copy's answer is lost too.
            let notice = ResendNotice()
            do {
                let value = try await TransportNotices.$resend.withValue(notice) { try await operation() }
                if notice.resent { ledger?.lost(action) }
                return value
            } catch {
                if notice.resent || (error as? AWSClientError)?.answerMayBeLost == true { ledger?.lost(action) }
                throw error
            }
        }
    }

    public func getUser(userName: String) async throws -> AWSResult<IAMUser> {
        try await retried { try await base.getUser(userName: userName) }
    }

    public func listUsers(pathPrefix: String?, pageSize: Int?) async throws -> AWSResult<[IAMUser]> {
        try await retried { try await base.listUsers(pathPrefix: pathPrefix, pageSize: pageSize) }
    }

    public func getLoginProfile(userName: String) async throws -> AWSResult<LoginProfile> {
        try await retried { try await base.getLoginProfile(userName: userName) }
    }

    public func createLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<LoginProfile>
    {
        try await tracked("CreateLoginProfile") {
            try await base.createLoginProfile(
                userName: userName, password: password, passwordResetRequired: passwordResetRequired)
        }
    }

    public func updateLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<Void>
    {
        // Idempotent: a retry after a lost answer sets the same password again.
        try await retried {
            try await base.updateLoginProfile(
                userName: userName, password: password, passwordResetRequired: passwordResetRequired)
        }
    }

    public func deleteLoginProfile(userName: String) async throws -> AWSResult<Void> {
        try await tracked("DeleteLoginProfile") { try await base.deleteLoginProfile(userName: userName) }
    }

    public func attachUserPolicy(userName: String, policyArn: String) async throws -> AWSResult<Void> {
        // Attaching an attached policy succeeds: retrying is safe.
        try await retried { try await base.attachUserPolicy(userName: userName, policyArn: policyArn) }
    }

    public func listAttachedUserPolicies(userName: String) async throws -> AWSResult<[AttachedPolicy]> {
        try await retried { try await base.listAttachedUserPolicies(userName: userName) }
    }

    public func listAccessKeys(userName: String) async throws -> AWSResult<[AccessKeyMetadata]> {
        try await retried { try await base.listAccessKeys(userName: userName) }
    }

    public func updateAccessKey(userName: String, accessKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    {
        try await retried {
            try await base.updateAccessKey(userName: userName, accessKeyId: accessKeyId, status: status)
        }
    }

    public func getAccessKeyLastUsed(accessKeyId: String) async throws -> AWSResult<AccessKeyLastUsed> {
        try await retried { try await base.getAccessKeyLastUsed(accessKeyId: accessKeyId) }
    }

    public func listMFADevices(userName: String) async throws -> AWSResult<[MFADevice]> {
        try await retried { try await base.listMFADevices(userName: userName) }
    }

    public func listSSHPublicKeys(userName: String) async throws -> AWSResult<[SSHPublicKeyMetadata]> {
        try await retried { try await base.listSSHPublicKeys(userName: userName) }
    }

    public func updateSSHPublicKey(userName: String, sshPublicKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    {
        // Setting a status it already has succeeds: retrying is safe.
        try await retried {
            try await base.updateSSHPublicKey(userName: userName, sshPublicKeyId: sshPublicKeyId, status: status)
        }
    }

    public func listSigningCertificates(userName: String) async throws -> AWSResult<[SigningCertificate]> {
        try await retried { try await base.listSigningCertificates(userName: userName) }
    }

    public func updateSigningCertificate(userName: String, certificateId: String, status: AccessKeyStatus)
        async throws -> AWSResult<Void>
    {
        try await retried {
            try await base.updateSigningCertificate(userName: userName, certificateId: certificateId, status: status)
        }
    }

    public func listServiceSpecificCredentials(userName: String) async throws
        -> AWSResult<[ServiceSpecificCredentialMetadata]>
    {
        try await retried { try await base.listServiceSpecificCredentials(userName: userName) }
    }

    public func updateServiceSpecificCredential(
        userName: String, serviceSpecificCredentialId: String, status: AccessKeyStatus
    ) async throws -> AWSResult<Void> {
        try await retried {
            try await base.updateServiceSpecificCredential(
                userName: userName, serviceSpecificCredentialId: serviceSpecificCredentialId, status: status)
        }
    }

    public func deactivateMFADevice(userName: String, serialNumber: String) async throws -> AWSResult<Void> {
        // A retry after a lost answer finds the device unbound (`NoSuchEntity`): the ledger says why.
        try await tracked("DeactivateMFADevice") {
            try await base.deactivateMFADevice(userName: userName, serialNumber: serialNumber)
        }
    }

    public func getAccountPasswordPolicy() async throws -> AWSResult<PasswordPolicy?> {
        try await retried { try await base.getAccountPasswordPolicy() }
    }

    public func generateCredentialReport() async throws -> AWSResult<CredentialReportState> {
        try await retried { try await base.generateCredentialReport() }
    }

    public func getCredentialReport(maxBytes: Int) async throws -> AWSResult<CredentialReportContent> {
        try await retried { try await base.getCredentialReport(maxBytes: maxBytes) }
    }
}
