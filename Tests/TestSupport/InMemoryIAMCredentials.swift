import AWSQuery
import Foundation

// InMemoryIAM's answers for the credentials a user holds besides the password and access keys:
// SSH public keys, signing certificates, service-specific credentials, and MFA devices. As IAM:
// `NoSuchEntity` (404) for a missing user or an id the user does not hold; setting a status a
// credential already has succeeds; deactivating an MFA device unbinds it from the user (a
// virtual device stays in the account), so a second deactivation answers `NoSuchEntity`. Lists
// page by `listPageSize`, one recorded call per page.
extension InMemoryIAM {
    public func listSSHPublicKeys(userName: String) async throws -> AWSResult<[SSHPublicKeyMetadata]> {
        let action = "ListSSHPublicKeys"
        return try await perform(action, user: userName, pages: pages(userName, \.sshKeys)) {
            let record = try existing(userName, action)
            return record.sshKeys.map {
                SSHPublicKeyMetadata(
                    userName: record.name, sshPublicKeyId: $0.id, status: $0.status, uploadDate: $0.created)
            }
        }
    }

    public func updateSSHPublicKey(userName: String, sshPublicKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    {
        let action = "UpdateSSHPublicKey"
        return try await perform(action, user: userName) {
            try setStatus(status, of: sshPublicKeyId, in: \.sshKeys, userName, action, kind: "SSH Public Key")
        }
    }

    public func listSigningCertificates(userName: String) async throws -> AWSResult<[SigningCertificate]> {
        let action = "ListSigningCertificates"
        return try await perform(action, user: userName, pages: pages(userName, \.certificates)) {
            let record = try existing(userName, action)
            return record.certificates.map {
                SigningCertificate(
                    userName: record.name, certificateId: $0.id, status: $0.status, uploadDate: $0.created)
            }
        }
    }

    public func updateSigningCertificate(userName: String, certificateId: String, status: AccessKeyStatus)
        async throws -> AWSResult<Void>
    {
        let action = "UpdateSigningCertificate"
        return try await perform(action, user: userName) {
            try setStatus(status, of: certificateId, in: \.certificates, userName, action, kind: "Certificate")
        }
    }

    public func listServiceSpecificCredentials(userName: String) async throws
        -> AWSResult<[ServiceSpecificCredentialMetadata]>
    {
        let action = "ListServiceSpecificCredentials"
        return try await perform(action, user: userName, pages: pages(userName, \.serviceCredentials)) {
            let record = try existing(userName, action)
            return record.serviceCredentials.map {
                ServiceSpecificCredentialMetadata(
                    userName: record.name, serviceSpecificCredentialId: $0.id, serviceName: $0.serviceName ?? "",
                    serviceUserName: $0.serviceUserName, status: $0.status, createDate: $0.created)
            }
        }
    }

    public func updateServiceSpecificCredential(
        userName: String, serviceSpecificCredentialId: String, status: AccessKeyStatus
    ) async throws -> AWSResult<Void> {
        let action = "UpdateServiceSpecificCredential"
        return try await perform(action, user: userName) {
            try setStatus(
                status, of: serviceSpecificCredentialId, in: \.serviceCredentials, userName, action,
                kind: "Service Specific Credential")
        }
    }

    public func deactivateMFADevice(userName: String, serialNumber: String) async throws -> AWSResult<Void> {
        let action = "DeactivateMFADevice"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard let index = record.mfa.firstIndex(of: serialNumber) else {
                throw serviceError(
                    .noSuchEntity, 404, "MFA Device with serial number \(serialNumber) does not exist.",
                    action: action)
            }
            users[userName.lowercased()]?.mfa.remove(at: index)
        }
    }

    /// The calls a list of the user's `credentials` takes at `listPageSize` per page.
    func pages(_ userName: String, _ credentials: KeyPath<UserRecord, [Credential]>) -> Int {
        pageCount(users[userName.lowercased()]?[keyPath: credentials].count ?? 0)
    }

    /// The calls a list of `count` items takes at `listPageSize` per page (one for an empty list).
    func pageCount(_ count: Int) -> Int { max(1, (count + listPageSize - 1) / listPageSize) }

    private func setStatus(
        _ status: AccessKeyStatus, of id: String, in credentials: WritableKeyPath<UserRecord, [Credential]>,
        _ userName: String, _ action: String, kind: String
    ) throws {
        let record = try existing(userName, action)
        guard let index = record[keyPath: credentials].firstIndex(where: { $0.id == id }) else {
            throw serviceError(.noSuchEntity, 404, "The \(kind) with id \(id) cannot be found.", action: action)
        }
        users[userName.lowercased()]?[keyPath: credentials][index].status = status
    }
}
