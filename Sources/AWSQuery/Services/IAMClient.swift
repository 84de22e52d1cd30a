import Foundation

/// The IAM calls console-access makes. Each method is one API call (list methods follow
/// `Marker` paging and may make several), with no retries: see `QueryClient`.
public struct IAMClient: Sendable {
    public static let apiVersion = "2010-05-08"
    public var query: QueryClient

    public init(query: QueryClient) {
        self.query = query
    }

    // MARK: Login profiles

    public func getLoginProfile(userName: String) async throws -> AWSResult<LoginProfile> {
        let response = try await query.call("GetLoginProfile", [user(userName)])
        return AWSResult(
            value: LoginProfile(response.result.child("LoginProfile") ?? response.result), requestId: response.requestId
        )
    }

    /// Creates a console password. The password is sent, never logged.
    public func createLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<LoginProfile>
    {
        let response = try await query.call(
            "CreateLoginProfile",
            [
                user(userName), QueryParameter("Password", password, secret: true),
                QueryParameter("PasswordResetRequired", passwordResetRequired ? "true" : "false"),
            ])
        return AWSResult(
            value: LoginProfile(response.result.child("LoginProfile") ?? response.result), requestId: response.requestId
        )
    }

    /// Replaces a console password. The password is sent, never logged.
    public func updateLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<Void>
    {
        let response = try await query.call(
            "UpdateLoginProfile",
            [
                user(userName), QueryParameter("Password", password, secret: true),
                QueryParameter("PasswordResetRequired", passwordResetRequired ? "true" : "false"),
            ])
        return AWSResult(value: (), requestId: response.requestId)
    }

    public func deleteLoginProfile(userName: String) async throws -> AWSResult<Void> {
        let response = try await query.call("DeleteLoginProfile", [user(userName)])
        return AWSResult(value: (), requestId: response.requestId)
    }

    // MARK: Policies

    public func attachUserPolicy(userName: String, policyArn: String) async throws -> AWSResult<Void> {
        let response = try await query.call(
            "AttachUserPolicy", [user(userName), QueryParameter("PolicyArn", policyArn)])
        return AWSResult(value: (), requestId: response.requestId)
    }

    public func listAttachedUserPolicies(userName: String) async throws -> AWSResult<[AttachedPolicy]> {
        try await paged("ListAttachedUserPolicies", [user(userName)], list: "AttachedPolicies", AttachedPolicy.init)
    }

    // MARK: Users

    public func getUser(userName: String) async throws -> AWSResult<IAMUser> {
        let response = try await query.call("GetUser", [user(userName)])
        return AWSResult(
            value: IAMUser(response.result.child("User") ?? response.result), requestId: response.requestId)
    }

    /// All users, following paging. `pathPrefix` narrows them (`/` is all); `pageSize` sets
    /// `MaxItems` per page (IAM's default is 100).
    public func listUsers(pathPrefix: String? = nil, pageSize: Int? = nil) async throws -> AWSResult<[IAMUser]> {
        var parameters: [QueryParameter] = []
        if let pathPrefix { parameters.append(QueryParameter("PathPrefix", pathPrefix)) }
        if let pageSize { parameters.append(QueryParameter("MaxItems", String(pageSize))) }
        return try await paged("ListUsers", parameters, list: "Users", IAMUser.init)
    }

    // MARK: Access keys and MFA

    public func listAccessKeys(userName: String) async throws -> AWSResult<[AccessKeyMetadata]> {
        try await paged("ListAccessKeys", [user(userName)], list: "AccessKeyMetadata", AccessKeyMetadata.init)
    }

    public func updateAccessKey(userName: String, accessKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    {
        let response = try await query.call(
            "UpdateAccessKey",
            [user(userName), QueryParameter("AccessKeyId", accessKeyId), QueryParameter("Status", status.rawValue)])
        return AWSResult(value: (), requestId: response.requestId)
    }

    public func getAccessKeyLastUsed(accessKeyId: String) async throws -> AWSResult<AccessKeyLastUsed> {
        let response = try await query.call("GetAccessKeyLastUsed", [QueryParameter("AccessKeyId", accessKeyId)])
        return AWSResult(
            value: AccessKeyLastUsed(response.result.child("AccessKeyLastUsed") ?? XMLTree(name: "AccessKeyLastUsed")),
            requestId: response.requestId)
    }

    public func listMFADevices(userName: String) async throws -> AWSResult<[MFADevice]> {
        try await paged("ListMFADevices", [user(userName)], list: "MFADevices", MFADevice.init)
    }

    // MARK: SSH public keys, signing certificates, service-specific credentials, MFA

    public func listSSHPublicKeys(userName: String) async throws -> AWSResult<[SSHPublicKeyMetadata]> {
        try await paged("ListSSHPublicKeys", [user(userName)], list: "SSHPublicKeys", SSHPublicKeyMetadata.init)
    }

    public func updateSSHPublicKey(userName: String, sshPublicKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    {
        try await send(
            "UpdateSSHPublicKey",
            [
                user(userName), QueryParameter("SSHPublicKeyId", sshPublicKeyId),
                QueryParameter("Status", status.rawValue),
            ])
    }

    /// The user's signing certificates, without their bodies.
    public func listSigningCertificates(userName: String) async throws -> AWSResult<[SigningCertificate]> {
        try await paged("ListSigningCertificates", [user(userName)], list: "Certificates", SigningCertificate.init)
    }

    public func updateSigningCertificate(userName: String, certificateId: String, status: AccessKeyStatus)
        async throws -> AWSResult<Void>
    {
        try await send(
            "UpdateSigningCertificate",
            [user(userName), QueryParameter("CertificateId", certificateId), QueryParameter("Status", status.rawValue)])
    }

    /// All services' credentials, following `Marker` paging when IAM pages them.
    public func listServiceSpecificCredentials(userName: String) async throws
        -> AWSResult<[ServiceSpecificCredentialMetadata]>
    {
        try await paged(
            "ListServiceSpecificCredentials", [user(userName)], list: "ServiceSpecificCredentials",
            ServiceSpecificCredentialMetadata.init)
    }

    public func updateServiceSpecificCredential(
        userName: String, serviceSpecificCredentialId: String, status: AccessKeyStatus
    ) async throws -> AWSResult<Void> {
        try await send(
            "UpdateServiceSpecificCredential",
            [
                user(userName), QueryParameter("ServiceSpecificCredentialId", serviceSpecificCredentialId),
                QueryParameter("Status", status.rawValue),
            ])
    }

    /// Unbinds the MFA device from the user (a virtual device stays in the account). Not
    /// idempotent: a second call answers `NoSuchEntity`.
    public func deactivateMFADevice(userName: String, serialNumber: String) async throws -> AWSResult<Void> {
        try await send("DeactivateMFADevice", [user(userName), QueryParameter("SerialNumber", serialNumber)])
    }

    // MARK: Account

    /// The account password policy, or nil when the account has none (IAM answers 404 `NoSuchEntity`).
    public func getAccountPasswordPolicy() async throws -> AWSResult<PasswordPolicy?> {
        do {
            let response = try await query.call("GetAccountPasswordPolicy")
            let node = response.result.child("PasswordPolicy") ?? response.result
            return AWSResult(value: PasswordPolicy(node), requestId: response.requestId)
        } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
            return AWSResult(value: nil, requestId: error.requestId)
        }
    }

    // MARK: Helpers

    private func user(_ name: String) -> QueryParameter {
        QueryParameter("UserName", name)
    }

    /// One call whose answer carries nothing but its request id.
    private func send(_ action: String, _ parameters: [QueryParameter]) async throws -> AWSResult<Void> {
        let response = try await query.call(action, parameters)
        return AWSResult(value: (), requestId: response.requestId)
    }

    /// Follows `IsTruncated`/`Marker` until the list is complete.
    private func paged<T: Sendable>(
        _ action: String, _ parameters: [QueryParameter], list: String, _ make: (XMLTree) -> T
    ) async throws -> AWSResult<[T]> {
        var items: [T] = []
        var marker: String?
        var requestId: String?
        var pages = 0
        repeat {
            var pageParameters = parameters
            if let marker { pageParameters.append(QueryParameter("Marker", marker)) }
            let response = try await query.call(action, pageParameters)
            requestId = response.requestId
            let result = response.result
            items.append(contentsOf: (result.child(list)?.members ?? []).map(make))
            let truncated = result.string("IsTruncated") == "true"
            let next = result.string("Marker")
            pages += 1
            if truncated, let next, !next.isEmpty, next != marker, pages < 10_000 {
                marker = next
            } else {
                marker = nil
            }
        } while marker != nil
        return AWSResult(value: items, requestId: requestId)
    }
}
