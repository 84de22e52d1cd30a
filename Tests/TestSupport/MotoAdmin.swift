import AWSQuery
import Foundation

/// IAM calls tests need to set up state in moto (users, keys, roles, MFA, password policy).
/// They go through the project's own `QueryClient`, so setup exercises the same wire code.
public struct MotoAdmin: Sendable {
    public let iam: QueryClient
    public let endpoint: String

    public init(endpoint: String, transport: any HTTPTransport, credentials: AWSCredentials = Moto.testCredentials) {
        self.endpoint = endpoint
        self.iam = QueryClient(
            endpoint: ServiceEndpoint.iam(region: "us-east-1", override: endpoint), apiVersion: IAMClient.apiVersion,
            credentials: StaticCredentialProvider(credentials), transport: transport)
    }

    @discardableResult
    public func createUser(_ name: String, path: String = "/") async throws -> String {
        let response = try await iam.call(
            "CreateUser", [QueryParameter("UserName", name), QueryParameter("Path", path)])
        return response.result.child(path: "User", "Arn")?.text ?? ""
    }

    public func createLoginProfile(_ name: String, password: String) async throws {
        _ = try await iam.call(
            "CreateLoginProfile",
            [QueryParameter("UserName", name), QueryParameter("Password", password, secret: true)])
    }

    /// Creates an access key and returns its id and secret.
    public func createAccessKey(_ name: String) async throws -> AWSCredentials {
        let response = try await iam.call("CreateAccessKey", [QueryParameter("UserName", name)])
        let key = response.result.child("AccessKey")
        return AWSCredentials(
            accessKeyId: key?.string("AccessKeyId") ?? "", secretAccessKey: key?.string("SecretAccessKey") ?? "")
    }

    public func attachUserPolicy(_ name: String, policyArn: String) async throws {
        _ = try await iam.call(
            "AttachUserPolicy", [QueryParameter("UserName", name), QueryParameter("PolicyArn", policyArn)])
    }

    /// Creates a role any principal may assume; returns its ARN.
    public func createRole(_ name: String) async throws -> String {
        let trust =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]}]}"#
        let response = try await iam.call(
            "CreateRole", [QueryParameter("RoleName", name), QueryParameter("AssumeRolePolicyDocument", trust)])
        return response.result.child(path: "Role", "Arn")?.text ?? ""
    }

    /// Creates and enables a virtual MFA device (named `device`, else after the user) for the
    /// user; returns its serial number.
    public func enableVirtualMFA(_ name: String, device: String? = nil) async throws -> String {
        let created = try await iam.call(
            "CreateVirtualMFADevice", [QueryParameter("VirtualMFADeviceName", device ?? name)])
        let serial = created.result.child(path: "VirtualMFADevice", "SerialNumber")?.text ?? ""
        _ = try await iam.call(
            "EnableMFADevice",
            [
                QueryParameter("UserName", name), QueryParameter("SerialNumber", serial),
                QueryParameter("AuthenticationCode1", "123456"), QueryParameter("AuthenticationCode2", "654321"),
            ])
        return serial
    }

    /// Uploads an SSH public key (`CredentialMaterial.sshPublicKey` unless given); returns its id.
    public func uploadSSHPublicKey(_ name: String, body: String = CredentialMaterial.sshPublicKey) async throws
        -> String
    {
        let response = try await iam.call(
            "UploadSSHPublicKey", [QueryParameter("UserName", name), QueryParameter("SSHPublicKeyBody", body)])
        return response.result.child(path: "SSHPublicKey", "SSHPublicKeyId")?.text ?? ""
    }

    /// Uploads a signing certificate (`CredentialMaterial.certificatePEM` unless given); returns its id.
    public func uploadSigningCertificate(_ name: String, body: String = CredentialMaterial.certificatePEM)
        async throws -> String
    {
        let response = try await iam.call(
            "UploadSigningCertificate", [QueryParameter("UserName", name), QueryParameter("CertificateBody", body)])
        return response.result.child(path: "Certificate", "CertificateId")?.text ?? ""
    }

    public func updateAccountPasswordPolicy(_ parameters: [String: String]) async throws {
        _ = try await iam.call(
            "UpdateAccountPasswordPolicy",
            parameters.sorted { $0.key < $1.key }.map { QueryParameter($0.key, $0.value) })
    }
}
