import Foundation

/// The JSON shape both the ECS container endpoint and EC2 instance metadata answer with.
struct MetadataCredentialsDocument: Decodable {
    let code: String?
    let message: String?
    let accessKeyId: String?
    let secretAccessKey: String?
    let token: String?
    let expiration: String?

    enum CodingKeys: String, CodingKey {
        case code = "Code"
        case message = "Message"
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
        case token = "Token"
        case expiration = "Expiration"
    }

    func credentials(source: String) throws -> AWSCredentials {
        if let code, code != "Success" {
            throw CredentialError.fetchFailed(source: source, reason: "the endpoint answered \(code): \(message ?? "")")
        }
        guard let id = accessKeyId, let secret = secretAccessKey, !id.isEmpty, !secret.isEmpty else {
            throw CredentialError.fetchFailed(source: source, reason: "the answer has no AccessKeyId/SecretAccessKey")
        }
        return AWSCredentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: token,
            expiration: expiration.flatMap(ISO8601.parse),
            source: source)
    }

    static func decode(_ body: [UInt8], source: String) throws -> AWSCredentials {
        do {
            return try JSONDecoder().decode(MetadataCredentialsDocument.self, from: Data(body)).credentials(
                source: source)
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError.fetchFailed(source: source, reason: "the answer is not a credentials document")
        }
    }
}

/// ECS/EKS container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2),
/// or `AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
public struct ContainerCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    public let transport: any HTTPTransport
    public var timeout: Duration = .seconds(2)
    public var name: String { "container credentials (ECS)" }

    public init(environment: [String: String], transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    public func credentials() async throws -> AWSCredentials {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard Self.isAllowed(fullURI: full) else {
                throw CredentialError.misconfigured(
                    source: name,
                    reason:
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback/ECS/EKS address, not \(full)")
            }
            url = full
        } else {
            throw CredentialError.notFound(
                source: name,
                reason: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        var headers: [(name: String, value: String)] = [(name: "Accept", value: "application/json")]
        if let tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !tokenFile.isEmpty {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw CredentialError.fetchFailed(source: name, reason: "cannot read \(tokenFile)")
            }
            headers.append(
                (
                    name: "Authorization",
                    value: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                ))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers.append((name: "Authorization", value: token))
        }
        let response: HTTPResponseData
        do {
            response = try await transport.send(
                HTTPRequestData(url: url, method: "GET", headers: headers, useProxy: false), timeout: timeout)
        } catch {
            throw CredentialError.fetchFailed(
                source: name, reason: "\(TransportErrors.map(error, action: "GET \(url)"))")
        }
        guard response.status == 200 else {
            throw CredentialError.fetchFailed(source: name, reason: "\(url) answered HTTP \(response.status)")
        }
        return try MetadataCredentialsDocument.decode(response.body, source: "container credentials")
    }

    static func isAllowed(fullURI: String) -> Bool {
        guard let components = URLComponents(string: fullURI), let scheme = components.scheme?.lowercased(),
            let host = components.host
        else { return false }
        if scheme == "https" { return true }
        guard scheme == "http" else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
            || host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23"
    }
}

/// EC2 instance metadata (IMDSv2): a session token first (`PUT /latest/api/token`), then the
/// role name and its credentials. `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the address;
/// `AWS_EC2_METADATA_DISABLED=true` turns it off.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    public let transport: any HTTPTransport
    public var timeout: Duration = .seconds(1)
    public var name: String { "EC2 instance metadata (IMDSv2)" }
    /// Tries of the first request (the session token): one retry.
    static let attempts = 2

    public init(environment: [String: String], transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    var endpoint: String {
        var value =
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "http://169.254.169.254"
        while value.hasSuffix("/") { value.removeLast() }
        return value
    }

    public func credentials() async throws -> AWSCredentials {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw CredentialError.notFound(source: name, reason: "disabled by AWS_EC2_METADATA_DISABLED")
        }
        let base = endpoint
        // About 1 s to answer (connect included), and one more try after a timeout or a failed
        // connection, as the SDKs do: off EC2 the address does not answer, and the chain moves on.
        let tokenRequest = HTTPRequestData(
            url: base + "/latest/api/token", method: "PUT",
            headers: [(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "21600")], useProxy: false)
        var tokenResponse: HTTPResponseData?
        for attempt in 1...Self.attempts where tokenResponse == nil {
            do {
                tokenResponse = try await transport.send(tokenRequest, timeout: timeout)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                try Task.checkCancellation()
                if attempt == Self.attempts {
                    throw CredentialError.notFound(source: name, reason: "no instance metadata service at \(base)")
                }
            }
        }
        guard let tokenResponse else {
            throw CredentialError.notFound(source: name, reason: "no instance metadata service at \(base)")
        }
        guard tokenResponse.status == 200 else {
            throw CredentialError.fetchFailed(
                source: name, reason: "the session token request answered HTTP \(tokenResponse.status)")
        }
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let headers = [(name: "X-aws-ec2-metadata-token", value: token)]
        let rolePath = base + "/latest/meta-data/iam/security-credentials/"
        let roleResponse = try await get(rolePath, headers: headers)
        guard roleResponse.status == 200 else {
            if roleResponse.status == 404 {
                throw CredentialError.notFound(source: name, reason: "the instance has no IAM role attached")
            }
            throw CredentialError.fetchFailed(source: name, reason: "\(rolePath) answered HTTP \(roleResponse.status)")
        }
        guard
            let role = String(decoding: roleResponse.body, as: UTF8.self).split(whereSeparator: \.isNewline).first
                .map({ $0.trimmingCharacters(in: .whitespaces) }), !role.isEmpty
        else {
            throw CredentialError.notFound(source: name, reason: "the instance has no IAM role attached")
        }
        let credentialsResponse = try await get(rolePath + role, headers: headers)
        guard credentialsResponse.status == 200 else {
            throw CredentialError.fetchFailed(
                source: name, reason: "credentials for role \(role) answered HTTP \(credentialsResponse.status)")
        }
        return try MetadataCredentialsDocument.decode(credentialsResponse.body, source: "instance role \(role)")
    }

    private func get(_ url: String, headers: [(name: String, value: String)]) async throws -> HTTPResponseData {
        do {
            return try await transport.send(
                HTTPRequestData(url: url, method: "GET", headers: headers, useProxy: false), timeout: timeout)
        } catch {
            throw CredentialError.fetchFailed(
                source: name, reason: "\(TransportErrors.map(error, action: "GET \(url)"))")
        }
    }
}
