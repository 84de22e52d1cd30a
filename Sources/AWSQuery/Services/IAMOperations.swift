/// The IAM operations console-access makes: the seam between the core and IAM. `IAMClient`
/// implements it over the wire, `RetryingIAM` on top of any implementation (retry and rate in
/// one place), and the test-support target's `InMemoryIAM` in memory, with the same semantics
/// (a contract test suite runs the same cases against it and against moto).
///
/// Each method is one API call (list methods follow `Marker` paging and may make several);
/// failures are `AWSServiceError` (IAM's answer) or `AWSClientError` (no usable answer).
public protocol IAMOperations: Sendable {
    // Users
    func getUser(userName: String) async throws -> AWSResult<IAMUser>
    /// All users, following paging; `pathPrefix` narrows them, `pageSize` sets `MaxItems`.
    func listUsers(pathPrefix: String?, pageSize: Int?) async throws -> AWSResult<[IAMUser]>

    // Login profiles (console passwords)
    func getLoginProfile(userName: String) async throws -> AWSResult<LoginProfile>
    /// Not idempotent: a second call answers `EntityAlreadyExists`.
    func createLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<LoginProfile>
    func updateLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<Void>
    /// Not idempotent: a second call answers `NoSuchEntity`.
    func deleteLoginProfile(userName: String) async throws -> AWSResult<Void>

    // Managed policies
    func attachUserPolicy(userName: String, policyArn: String) async throws -> AWSResult<Void>
    func listAttachedUserPolicies(userName: String) async throws -> AWSResult<[AttachedPolicy]>

    // Access keys and MFA
    func listAccessKeys(userName: String) async throws -> AWSResult<[AccessKeyMetadata]>
    func updateAccessKey(userName: String, accessKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    func getAccessKeyLastUsed(accessKeyId: String) async throws -> AWSResult<AccessKeyLastUsed>
    func listMFADevices(userName: String) async throws -> AWSResult<[MFADevice]>

    // SSH public keys, signing certificates, service-specific credentials (all following
    // paging), and unbinding MFA devices: what offboarding deactivates besides access keys.
    func listSSHPublicKeys(userName: String) async throws -> AWSResult<[SSHPublicKeyMetadata]>
    func updateSSHPublicKey(userName: String, sshPublicKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    func listSigningCertificates(userName: String) async throws -> AWSResult<[SigningCertificate]>
    func updateSigningCertificate(userName: String, certificateId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    func listServiceSpecificCredentials(userName: String) async throws
        -> AWSResult<[ServiceSpecificCredentialMetadata]>
    func updateServiceSpecificCredential(
        userName: String, serviceSpecificCredentialId: String, status: AccessKeyStatus
    ) async throws -> AWSResult<Void>
    /// Not idempotent: a second call answers `NoSuchEntity` (the device is no longer the user's).
    func deactivateMFADevice(userName: String, serialNumber: String) async throws -> AWSResult<Void>

    // Account
    /// The account password policy, or nil when the account has none.
    func getAccountPasswordPolicy() async throws -> AWSResult<PasswordPolicy?>
    func generateCredentialReport() async throws -> AWSResult<CredentialReportState>
    /// The last generated report, refused past `maxBytes` decoded.
    func getCredentialReport(maxBytes: Int) async throws -> AWSResult<CredentialReportContent>
}

extension IAMOperations {
    public func getCredentialReport() async throws -> AWSResult<CredentialReportContent> {
        try await getCredentialReport(maxBytes: IAMClient.maxCredentialReportBytes)
    }
}

extension IAMClient: IAMOperations {}
