import Foundation

/// The STS calls console-access makes.
public struct STSClient: Sendable {
    public static let apiVersion = "2011-06-15"
    public var query: QueryClient

    public init(query: QueryClient) {
        self.query = query
    }

    public func getCallerIdentity() async throws -> AWSResult<CallerIdentity> {
        let response = try await query.call("GetCallerIdentity")
        let result = response.result
        return AWSResult(
            value: CallerIdentity(
                account: result.string("Account") ?? "", arn: result.string("Arn") ?? "",
                userId: result.string("UserId") ?? ""),
            requestId: response.requestId)
    }

    /// Assumes a role with the caller's credentials.
    public func assumeRole(
        roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil
    ) async throws -> AWSResult<AWSCredentials> {
        var parameters = [QueryParameter("RoleArn", roleArn), QueryParameter("RoleSessionName", sessionName)]
        // Secret-like: an answer echoing it is scrubbed before it reaches an error or a log.
        if let externalId { parameters.append(QueryParameter("ExternalId", externalId, secret: true)) }
        if let durationSeconds { parameters.append(QueryParameter("DurationSeconds", String(durationSeconds))) }
        let response = try await query.call("AssumeRole", parameters)
        return AWSResult(
            value: try Self.credentials(from: response, action: "AssumeRole", source: "assume-role \(roleArn)"),
            requestId: response.requestId)
    }

    /// Exchanges a web identity token (e.g. from an EKS service account) for role credentials. Unsigned.
    public func assumeRoleWithWebIdentity(
        roleArn: String, sessionName: String, webIdentityToken: String, durationSeconds: Int? = nil
    ) async throws -> AWSResult<AWSCredentials> {
        var parameters = [
            QueryParameter("RoleArn", roleArn), QueryParameter("RoleSessionName", sessionName),
            QueryParameter("WebIdentityToken", webIdentityToken, secret: true),
        ]
        if let durationSeconds { parameters.append(QueryParameter("DurationSeconds", String(durationSeconds))) }
        let response = try await query.call("AssumeRoleWithWebIdentity", parameters, signed: false)
        return AWSResult(
            value: try Self.credentials(
                from: response, action: "AssumeRoleWithWebIdentity", source: "web identity \(roleArn)"),
            requestId: response.requestId)
    }

    static func credentials(from response: QueryResponse, action: String, source: String) throws -> AWSCredentials {
        guard let node = response.result.child("Credentials"), let id = node.string("AccessKeyId"),
            let secret = node.string("SecretAccessKey")
        else {
            throw AWSClientError(
                .invalidResponse(httpStatus: response.httpStatus), action: action,
                detail: "the response has no Credentials element")
        }
        return try AWSCredentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: node.string("SessionToken"),
            expiration: node.string("Expiration").flatMap(ISO8601.parse), source: source
        ).checkedForHeaders(source: "\(action) answer", names: ("AccessKeyId", "SessionToken"), fetched: true)
    }
}
