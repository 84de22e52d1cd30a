import AWSQuery
import ConsoleAccess
import Logging
import NIOConcurrencyHelpers

/// The setup every run shares (batch, review, the credential-report review): an API call
/// counter that sees every call, live progress, and — on `withSession` — the HTTP client (its
/// lifetime is the body's), the AWS session, one adaptive rate limiter and one retrying
/// executor for every call, and the caller's identity checked before anything else.
///
/// Make one per run, before anything that may call AWS: its counts (`calls`) are the run's
/// summary even when the run stops before connecting.
public struct RunContext: Sendable {
    /// The run's AWS configuration, with `calls` observing every call.
    public let aws: AWSConfiguration
    public let retry: RetryPolicy
    /// `--max-rate`: requests per second never to exceed.
    public let maxRate: Double?
    /// Every API call of the run, counted (the summary's `api_calls` and `throttled_calls`).
    public let calls: CallCounter
    /// The run's live progress (finished items, failures, throttles).
    public let progress: RunProgress

    /// How the run reaches AWS: over the wire, or (in tests) an in-memory IAM.
    public let connector: any AWSConnector

    public init(
        aws: AWSConfiguration, retry: RetryPolicy, maxRate: Double?, progress: (any BatchProgress)? = nil,
        connector: any AWSConnector = LiveAWSConnector()
    ) {
        self.connector = connector
        let calls = CallCounter()
        self.calls = calls
        self.aws = calls.observing(aws)
        self.retry = retry
        self.maxRate = maxRate
        self.progress = RunProgress(progress, calls: calls)
    }

    /// Opens the HTTP client and the session, checks who we are (`sts:GetCallerIdentity`, once),
    /// runs `body`, and shuts the client down.
    ///
    /// - Throws: `RunSetupError` when the client or session cannot be set up (`.client`) or the
    ///   identity check fails (`.identity`); whatever `body` throws, unchanged.
    ///
    /// - Parameter role: a member account's role to assume on top of the run's credentials (a
    ///   multi-account run's session in that account, with its own limiter and identity).
    public func withSession<T: Sendable>(role: AssumedRole? = nil, _ body: (RunSession) async throws -> T)
        async throws -> T
    {
        var aws = self.aws
        aws.accountRole = role
        let (retry, maxRate) = (self.retry, self.maxRate)
        do {
            return try await connector.withConnection(aws) { connection in
                let limiter = AdaptiveRateLimiter(ceiling: maxRate)
                let executor = CallExecutor(policy: retry, limiter: limiter)
                let identity: CallerIdentity
                do {
                    var attempts = 0
                    identity = try await executor.run(attempts: &attempts) { try await connection.callerIdentity() }
                        .value
                } catch {
                    throw RunSetupError.identity(
                        SetupError(error, during: "checking the caller's identity (sts:GetCallerIdentity)"))
                }
                aws.logger.debug(
                    "caller identity", metadata: ["account": "\(identity.account)", "arn": "\(identity.arn)"])
                let session = RunSession(
                    iam: connection.iam, region: connection.region, executor: executor, identity: identity,
                    logger: aws.logger, organizations: connection.organizations)
                do {
                    return try await body(session)
                } catch {
                    throw BodyError(error: error)
                }
            }
        } catch let error as BodyError {
            throw error.error
        } catch let error as RunSetupError {
            throw error
        } catch {
            throw RunSetupError.client(SetupError(error, during: "setting up the AWS client"))
        }
    }
}

/// Carries a `withSession` body's own errors through the client's scope, so they are not taken
/// for setup errors.
private struct BodyError: Error {
    let error: any Error
}

/// What `RunContext.withSession` hands its body: a connected, identified session.
public struct RunSession: Sendable {
    /// IAM as the connector gives it (calls go through `executor`, or a `RetryingIAM` over both).
    public let iam: any IAMOperations
    public let region: String
    /// Every call of the run goes through it: retries, the retry quota, the shared rate limiter.
    public let executor: CallExecutor
    /// Who we are, checked before anything else.
    public let identity: CallerIdentity
    public let logger: Logger
    /// AWS Organizations, where the connector has it (`--organization`).
    public var organizations: (any OrganizationsOperations)? = nil

    /// The caller's partition (from its ARN; else from the region).
    public var partition: Partition { identity.partition ?? Partition.of(region: region) }
}

/// Why `RunContext.withSession` did not run its body.
public enum RunSetupError: Error, Sendable, CustomStringConvertible {
    /// The HTTP client or the AWS session could not be set up (configuration, credentials source).
    case client(SetupError)
    /// `sts:GetCallerIdentity` failed: no credentials, bad credentials, or no network.
    case identity(SetupError)

    public var setup: SetupError {
        switch self {
        case .client(let error), .identity(let error): return error
        }
    }

    public var description: String { setup.message }
}

/// Counts API calls and throttled answers across the run.
public final class CallCounter: Sendable {
    private let state = NIOLockedValueBox((total: 0, throttled: 0, authorization: 0))

    func record(_ record: CallRecord) {
        state.withLockedValue { state in
            state.total += 1
            if let code = record.errorCode {
                let code = AWSErrorCode(code)
                if code.isThrottling { state.throttled += 1 }
                if code.isAuthorization { state.authorization += 1 }
            }
        }
    }

    /// `configuration`, with this counter seeing every call before any observer it already had.
    func observing(_ configuration: AWSConfiguration) -> AWSConfiguration {
        var configuration = configuration
        let previous = configuration.observer
        configuration.observer = { record in
            self.record(record)
            previous?(record)
        }
        return configuration
    }

    public var total: Int { state.withLockedValue { $0.total } }
    public var throttled: Int { state.withLockedValue { $0.throttled } }
    /// Calls answered with an authorization error (`AccessDenied` and kin).
    public var authorizationFailures: Int { state.withLockedValue { $0.authorization } }
}

/// Live progress for a run: counts finished and failed items and hands them, with the
/// throttled-call count, to the terminal progress line (if any).
public final class RunProgress: Sendable {
    private let display: (any BatchProgress)?
    private let calls: CallCounter
    private let counts = NIOLockedValueBox((done: 0, failed: 0))

    init(_ display: (any BatchProgress)?, calls: CallCounter) {
        self.display = display
        self.calls = calls
    }

    /// One item (row, user) finished, out of `total`.
    public func finished(failed: Bool, total: Int) {
        guard let display else { return }
        let (done, failures) = counts.withLockedValue { state -> (Int, Int) in
            state.done += 1
            if failed { state.failed += 1 }
            return (state.done, state.failed)
        }
        display.update(done: done, total: total, failed: failures, throttled: calls.throttled)
    }

    public func finish() { display?.finish() }
}

extension Duration {
    /// The duration in seconds, for summaries.
    public var inSeconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
