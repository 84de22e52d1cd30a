import AWSQuery
import Foundation

/// An `AWSConnector` with an `InMemoryIAM` behind it: a batch or review runs its whole engine
/// (setup, identity check, limiter, retries, report) without a server. `identityFault`, when
/// set, is what `sts:GetCallerIdentity` throws.
public struct InMemoryConnector: AWSConnector {
    public let iam: InMemoryIAM
    public let identity: CallerIdentity
    public let region: String
    public var identityFault: AWSServiceError?

    public init(
        iam: InMemoryIAM,
        identity: CallerIdentity = CallerIdentity(
            account: "123456789012", arn: "arn:aws:iam::123456789012:user/operator", userId: "AIDAOPERATOR"),
        region: String = "us-east-1", identityFault: AWSServiceError? = nil
    ) {
        self.iam = iam
        self.identity = identity
        self.region = region
        self.identityFault = identityFault
    }

    public func withConnection<T: Sendable>(
        _ configuration: AWSConfiguration, _ body: (AWSConnection) async throws -> T
    ) async throws -> T {
        let (identity, fault) = (self.identity, identityFault)
        let observer = configuration.observer
        await iam.setObserver(observer)
        return try await body(
            AWSConnection(iam: iam, region: region) {
                observer?(
                    CallRecord(
                        service: "sts", action: "GetCallerIdentity", userName: nil, startedAt: Date(), duration: .zero,
                        httpStatus: fault?.httpStatus ?? 200, errorCode: fault?.code, requestId: nil,
                        attempt: CallContext.attempt))
                if let fault { throw fault }
                return AWSResult(value: identity, requestId: "in-memory")
            })
    }
}
