import Foundation
import Logging

/// What credential providers that call STS need to make an STS client.
public struct STSContext: Sendable {
    public let endpoint: ServiceEndpoint
    public let transport: any HTTPTransport
    public let logger: Logger
    /// Sees the credential calls too (`AssumeRole`, `AssumeRoleWithWebIdentity`): the audit log
    /// and the run's call counts have every AWS call.
    public let observer: (@Sendable (CallRecord) -> Void)?

    public init(
        endpoint: ServiceEndpoint, transport: any HTTPTransport, logger: Logger,
        observer: (@Sendable (CallRecord) -> Void)? = nil
    ) {
        self.endpoint = endpoint
        self.transport = transport
        self.logger = logger
        self.observer = observer
    }

    /// An STS client signing with `credentials` (nil: for unsigned calls only).
    public func client(credentials: (any CredentialProvider)?) -> STSClient {
        STSClient(
            query: QueryClient(
                endpoint: endpoint, apiVersion: STSClient.apiVersion, credentials: credentials, transport: transport,
                logger: logger, observer: observer))
    }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    public var name: String { "environment variables" }

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func credentials() async throws -> AWSCredentials {
        let id = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (nil, nil):
            throw CredentialError.notFound(
                source: name, reason: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        case (.some, nil):
            throw CredentialError.misconfigured(
                source: name, reason: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, .some):
            throw CredentialError.misconfigured(
                source: name, reason: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (let id?, let secret?):
            return try AWSCredentials(
                accessKeyId: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"],
                source: "environment"
            ).checkedForHeaders(source: name, names: ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"), fetched: false)
        }
    }
}

/// A role assumed with a web identity token file (EKS IRSA, GitHub OIDC): `AWS_ROLE_ARN`,
/// `AWS_WEB_IDENTITY_TOKEN_FILE`, optional `AWS_ROLE_SESSION_NAME`. The token file is read on
/// every fetch because it rotates.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public let roleArn: String?
    public let tokenFile: String?
    public let sessionName: String?
    public let sts: STSContext
    public var name: String { "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)" }

    public init(roleArn: String?, tokenFile: String?, sessionName: String?, sts: STSContext) {
        self.roleArn = roleArn.flatMap { $0.isEmpty ? nil : $0 }
        self.tokenFile = tokenFile.flatMap { $0.isEmpty ? nil : $0 }
        self.sessionName = sessionName.flatMap { $0.isEmpty ? nil : $0 }
        self.sts = sts
    }

    public init(environment: [String: String], sts: STSContext) {
        self.init(
            roleArn: environment["AWS_ROLE_ARN"], tokenFile: environment["AWS_WEB_IDENTITY_TOKEN_FILE"],
            sessionName: environment["AWS_ROLE_SESSION_NAME"], sts: sts)
    }

    public func credentials() async throws -> AWSCredentials {
        guard let roleArn, let tokenFile else {
            if roleArn == nil && tokenFile == nil {
                throw CredentialError.notFound(source: name, reason: "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
            }
            throw CredentialError.misconfigured(
                source: name, reason: "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE must both be set")
        }
        let token = try TokenFile.read(tokenFile, source: name)
        do {
            return try await sts.client(credentials: nil).assumeRoleWithWebIdentity(
                roleArn: roleArn, sessionName: sessionName ?? RoleSession.defaultName(), webIdentityToken: token
            ).value
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError.fetchFailed(source: name, reason: "\(error)")
        }
    }
}

/// Assumes a role with credentials from another provider (STS `AssumeRole`).
public struct AssumeRoleCredentialProvider: CredentialProvider {
    public let roleArn: String
    public let sessionName: String
    public let externalId: String?
    public let durationSeconds: Int?
    public let source: any CredentialProvider
    public let sts: STSContext
    public var name: String { "assume role \(roleArn)" }

    public init(
        roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil,
        source: any CredentialProvider, sts: STSContext
    ) {
        self.roleArn = roleArn
        self.sessionName = sessionName ?? RoleSession.defaultName()
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.source = source
        self.sts = sts
    }

    public func credentials() async throws -> AWSCredentials {
        let client = sts.client(credentials: source)
        return try await client.assumeRole(
            roleArn: roleArn, sessionName: sessionName, externalId: externalId, durationSeconds: durationSeconds
        ).value
    }
}

public enum RoleSession {
    /// `console-access-<unix seconds>`, as the AWS CLI names its sessions `botocore-session-<n>`.
    public static func defaultName() -> String {
        "console-access-\(Int(Date().timeIntervalSince1970))"
    }
}

/// Token files (web identity, container authorization): read whole, up to a limit, trimmed.
enum TokenFile {
    /// The largest token file read (bytes). Web identity tokens (JWTs) are a few kilobytes.
    static let maximumSize = 64 * 1024

    static func read(_ path: String, source: String) throws(CredentialError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CredentialError.fetchFailed(source: source, reason: "cannot read token file \(path)")
        }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maximumSize + 1) else {
            throw CredentialError.fetchFailed(source: source, reason: "cannot read token file \(path)")
        }
        guard data.count <= maximumSize else {
            throw CredentialError.fetchFailed(
                source: source, reason: "token file \(path) is larger than \(maximumSize) bytes")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialError.fetchFailed(source: source, reason: "token file \(path) is empty")
        }
        return token
    }
}
