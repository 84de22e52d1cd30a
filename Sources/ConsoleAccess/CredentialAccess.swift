import AWSQuery

/// The IAM calls for each kind of credential other than the console password, in one place:
/// listing a user's credentials of a kind with their status, deactivating one, reactivating one.
/// `disable --revoke`, its dry run and `restore` all go through these.
extension ConsoleAccessService {
    /// Every credential of `kind` bound to `user`, by id, with whether it is active (MFA
    /// devices bound to a user are always active).
    func credentials(_ kind: CredentialKind, user: String) async throws -> AWSResult<[(id: String, active: Bool)]> {
        switch kind {
        case .console:
            preconditionFailure("the login profile is not listed as a credential")
        case .keys:
            let listed = try await iam.listAccessKeys(userName: user)
            // A key whose status IAM did not say is taken as active: revoking then sets it
            // Inactive rather than leaving it.
            return Self.result(listed) { ($0.accessKeyId, $0.status != .inactive) }
        case .ssh:
            let listed = try await iam.listSSHPublicKeys(userName: user)
            return Self.result(listed) { ($0.sshPublicKeyId, $0.status == .active) }
        case .certs:
            let listed = try await iam.listSigningCertificates(userName: user)
            return Self.result(listed) { ($0.certificateId, $0.status == .active) }
        case .serviceCredentials:
            let listed = try await iam.listServiceSpecificCredentials(userName: user)
            return Self.result(listed) { ($0.serviceSpecificCredentialId, $0.status == .active) }
        case .mfa:
            let listed = try await iam.listMFADevices(userName: user)
            return Self.result(listed) { ($0.serialNumber, true) }
        }
    }

    /// Sets one credential `Inactive`; for MFA, deactivates the device (unbinds it).
    func deactivate(_ kind: CredentialKind, id: String, user: String) async throws -> AWSResult<Void> {
        switch kind {
        case .console:
            preconditionFailure("the login profile is deleted, not deactivated")
        case .keys:
            return try await iam.updateAccessKey(userName: user, accessKeyId: id, status: .inactive)
        case .ssh:
            return try await iam.updateSSHPublicKey(userName: user, sshPublicKeyId: id, status: .inactive)
        case .certs:
            return try await iam.updateSigningCertificate(userName: user, certificateId: id, status: .inactive)
        case .serviceCredentials:
            return try await iam.updateServiceSpecificCredential(
                userName: user, serviceSpecificCredentialId: id, status: .inactive)
        case .mfa:
            return try await iam.deactivateMFADevice(userName: user, serialNumber: id)
        }
    }

    /// Sets one credential `Active` again. Not for MFA devices (they need codes from the device)
    /// nor the console (re-enabled like `enable`).
    func reactivate(_ kind: CredentialKind, id: String, user: String) async throws -> AWSResult<Void> {
        switch kind {
        case .console, .mfa:
            preconditionFailure("\(kind.noun) cannot be reactivated by id")
        case .keys:
            return try await iam.updateAccessKey(userName: user, accessKeyId: id, status: .active)
        case .ssh:
            return try await iam.updateSSHPublicKey(userName: user, sshPublicKeyId: id, status: .active)
        case .certs:
            return try await iam.updateSigningCertificate(userName: user, certificateId: id, status: .active)
        case .serviceCredentials:
            return try await iam.updateServiceSpecificCredential(
                userName: user, serviceSpecificCredentialId: id, status: .active)
        }
    }

    private static func result<T>(_ listed: AWSResult<[T]>, _ transform: (T) -> (String, Bool))
        -> AWSResult<[(id: String, active: Bool)]>
    {
        AWSResult(
            value: listed.value.map { item in
                let (id, active) = transform(item)
                return (id: id, active: active)
            }, requestId: listed.requestId)
    }
}
