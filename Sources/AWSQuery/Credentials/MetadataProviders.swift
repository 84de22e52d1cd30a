import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        return try AWSCredentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: token,
            expiration: expiration.flatMap(ISO8601.parse),
            source: source
        ).checkedForHeaders(source: source, names: ("AccessKeyId", "Token"), fetched: true)
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
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address (127.0.0.0/8, ::1, localhost) or the ECS/EKS address (169.254.170.2, 169.254.170.23, fd00:ec2::23), without user info; not \(AWSConfigurationError.printable(AWSConfigurationError.withoutUserInfo(full)))"
                )
            }
            url = full
        } else {
            throw CredentialError.notFound(
                source: name,
                reason: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        var headers: [(name: String, value: String)] = [(name: "Accept", value: "application/json")]
        if let tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !tokenFile.isEmpty {
            let token = try TokenFile.read(tokenFile, source: name)
            try HeaderValue.check(
                token, "the token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", source: name, fetched: false)
            headers.append((name: "Authorization", value: token))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            try HeaderValue.check(token, "AWS_CONTAINER_AUTHORIZATION_TOKEN", source: name, fetched: false)
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

    /// The SDKs' rule: https to any host, or http to a loopback address or the ECS/EKS
    /// container endpoints. Hosts are compared as parsed IP addresses (`127.0.0.1.evil.com` is
    /// not loopback); `localhost` is the only name accepted (no DNS lookup is made here).
    static func isAllowed(fullURI: String) -> Bool {
        guard !fullURI.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let components = URLComponents(string: fullURI), let scheme = components.scheme?.lowercased(),
            components.user == nil, components.password == nil, var host = components.host, !host.isEmpty
        else { return false }
        if scheme == "https" { return true }
        guard scheme == "http" else { return false }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.lowercased() == "localhost" { return true }
        if let v4 = IPAddress.v4(host) {
            return v4[0] == 127 || v4 == [169, 254, 170, 2] || v4 == [169, 254, 170, 23]
        }
        if let v6 = IPAddress.v6(host) {
            let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
            let eksPodIdentity: [UInt8] = [0xFD, 0x00, 0x0E, 0xC2] + Array(repeating: 0, count: 11) + [0x23]
            return v6 == loopback || v6 == eksPodIdentity
        }
        return false
    }
}

/// IP address literals, parsed strictly (by `inet_pton`: dotted decimal with four parts for
/// IPv4, no octal or short forms; IPv6 without zone).
enum IPAddress {
    static func v4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        let value = UInt32(bigEndian: address.s_addr)
        return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func v6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        // Safe because it copies exactly the 16 bytes of a local, initialized `in6_addr` (whose
        // field names differ between C libraries, so no portable field to read them from).
        return withUnsafeBytes(of: &address) { Array($0) }
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
        try HeaderValue.check(token, "the IMDS session token", source: name, fetched: true)
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
        // The role name becomes part of the next URL's path.
        guard role.utf8.count <= 128,
            role.utf8.allSatisfy({
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#")
                    && $0 != UInt8(ascii: "%")
            })
        else {
            throw CredentialError.fetchFailed(
                source: name, reason: "the role name the endpoint answered is not a valid role name")
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
