/// What a run talks to once connected: IAM, the caller's identity, the region.
public struct AWSConnection: Sendable {
    public let iam: any IAMOperations
    public let region: String
    /// `sts:GetCallerIdentity` (the run retries it through its executor).
    public let callerIdentity: @Sendable () async throws -> AWSResult<CallerIdentity>
    /// AWS Organizations (`--organization`): nil where the connector has none.
    public let organizations: (any OrganizationsOperations)?

    public init(
        iam: any IAMOperations, region: String, organizations: (any OrganizationsOperations)? = nil,
        callerIdentity: @escaping @Sendable () async throws -> AWSResult<CallerIdentity>
    ) {
        self.iam = iam
        self.region = region
        self.organizations = organizations
        self.callerIdentity = callerIdentity
    }
}

/// Opens an `AWSConnection` for the length of a body: the seam between a run and AWS. Runs use
/// `LiveAWSConnector` (HTTP client, credential chain, IAM and STS over the wire); engine tests
/// use an in-memory IAM behind the same seam.
public protocol AWSConnector: Sendable {
    /// Connects with `configuration`, runs `body`, and closes what it opened.
    ///
    /// - Throws: what setting up the connection throws (configuration, credential source), and
    ///   whatever `body` throws.
    func withConnection<T: Sendable>(
        _ configuration: AWSConfiguration, _ body: (AWSConnection) async throws -> T
    ) async throws -> T
}

/// The real thing: one HTTP client (closed after the body), the session's credential chain,
/// IAM and STS over the Query protocol.
public struct LiveAWSConnector: AWSConnector {
    public init() {}

    public func withConnection<T: Sendable>(
        _ configuration: AWSConfiguration, _ body: (AWSConnection) async throws -> T
    ) async throws -> T {
        try await AWSHTTPClient.withClient(settings: configuration.http) { transport in
            let session = try AWSSession.make(configuration: configuration, transport: transport)
            let sts = session.sts
            return try await body(
                AWSConnection(iam: session.iam, region: session.region, organizations: session.organizations) {
                    try await sts.getCallerIdentity()
                })
        }
    }
}
