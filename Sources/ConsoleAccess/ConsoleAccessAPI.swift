import AWSQuery
import Foundation
import Logging

/// Why a run could not start: the identity check or the setup failed before any change.
public struct SetupError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// True for missing credentials and authorization failures (exit code 3).
    public let isCredentialsProblem: Bool
    public let errorCode: String?
    public let requestId: String?

    public var description: String { message }

    public init(message: String, isCredentialsProblem: Bool, errorCode: String? = nil, requestId: String? = nil) {
        self.message = message
        self.isCredentialsProblem = isCredentialsProblem
        self.errorCode = errorCode
        self.requestId = requestId
    }

    /// Classifies an error thrown while setting up, with the same mapping as a row's failure.
    public init(_ error: any Error, during step: String) {
        let failure = RowFailure(error)
        self.init(
            message: "\(step): \(error)", isCredentialsProblem: failure.isCredentialsProblem,
            errorCode: failure.code == RowFailure.unknownCode ? nil : failure.code, requestId: failure.requestId)
    }
}

extension ConsoleAccessService {
    /// Confirms who we are (`GetCallerIdentity`, before any change) and reads the account
    /// password policy once. A policy that cannot be read for lack of permission is noted in
    /// `notes` and the run goes on (IAM still enforces it).
    public static func connect(
        session: AWSSession, executor: CallExecutor = CallExecutor(), logger: Logger = Logger(label: "console-access")
    ) async throws -> (service: ConsoleAccessService, notes: [String]) {
        var attempts = 0
        let identity: CallerIdentity
        do {
            identity = try await executor.run(attempts: &attempts) { try await session.sts.getCallerIdentity() }.value
        } catch {
            throw SetupError(error, during: "checking the caller's identity (sts:GetCallerIdentity)")
        }
        logger.debug(
            "caller identity", metadata: ["account": "\(identity.account)", "arn": "\(identity.arn)"])
        return try await connect(iam: session.iam, executor: executor, caller: identity, logger: logger)
    }

    /// Like `connect(session:executor:logger:)` for a caller whose identity was already checked
    /// (a run's shared setup did it): reads the account password policy once, nothing more.
    public static func connect(
        iam: any IAMOperations, executor: CallExecutor, caller identity: CallerIdentity,
        logger: Logger = Logger(label: "console-access")
    ) async throws -> (service: ConsoleAccessService, notes: [String]) {
        var attempts = 0
        var notes: [String] = []
        var policy: PasswordPolicy?
        do {
            policy = try await executor.run(attempts: &attempts) { try await iam.getAccountPasswordPolicy() }
                .value
        } catch let error as AWSServiceError where error.errorCode.isAuthorization {
            notes.append(
                "could not read the account password policy (\(error.code)); passwords are not checked against it before sending, IAM still enforces it"
            )
        } catch {
            throw SetupError(error, during: "reading the account password policy (iam:GetAccountPasswordPolicy)")
        }
        if let policy {
            logger.debug(
                "password policy",
                metadata: [
                    "min_length": "\(policy.minimumPasswordLength)", "symbols": "\(policy.requireSymbols)",
                    "numbers": "\(policy.requireNumbers)", "upper": "\(policy.requireUppercaseCharacters)",
                    "lower": "\(policy.requireLowercaseCharacters)",
                ])
        }
        let service = ConsoleAccessService(
            iam: iam, caller: identity, passwordPolicy: policy, partition: identity.partition,
            executor: executor, logger: logger)
        return (service, notes)
    }
}

/// One user's console-access change, for Swift programs: the same parameters as
/// `console-access modify`.
public struct ModifyRequest: Sendable {
    public var user: String
    public var action: ConsoleAction
    /// Required for `.enable` and `.reset`.
    public var password: Password?
    /// With `.disable`: what to revoke (default: the console password only).
    public var revoke: RevokeKinds
    /// With `.restore`: what to bring back.
    public var restore: RestoreList
    /// With `.enable`: a user who already has a login profile gets the new password too.
    public var resetExisting: Bool
    /// With `.enable`/`.reset`: keep retrying while the user does not exist yet, within this window.
    public var waitForUser: UserWait
    /// Where and as whom: profile, region, endpoint, credentials, role to assume.
    public var aws: AWSConfiguration
    public var retry: RetryPolicy

    public init(
        user: String, action: ConsoleAction, password: Password? = nil, revoke: RevokeKinds = .console,
        restore: RestoreList = RestoreList(console: false, credentials: []),
        resetExisting: Bool = false, waitForUser: UserWait = .none,
        aws: AWSConfiguration = AWSConfiguration(), retry: RetryPolicy = RetryPolicy()
    ) {
        self.user = user
        self.action = action
        self.password = password
        self.revoke = revoke
        self.restore = restore
        self.resetExisting = resetExisting
        self.waitForUser = waitForUser
        self.aws = aws
        self.retry = retry
    }
}

/// The result of `ConsoleAccessAPI.modify`: success or failure, and the detailed outcome.
public struct ModifyResult: Sendable {
    public let outcome: Outcome
    /// Who ran it, when the identity check got that far.
    public let caller: CallerIdentity?
    /// Setup notes (e.g. the password policy could not be read).
    public let notes: [String]
    /// Set when the run stopped before the change (credentials, identity check).
    public let setupError: SetupError?

    public var succeeded: Bool { setupError == nil && outcome.succeeded }

    public var exitStatus: ExitStatus {
        if let setupError { return setupError.isCredentialsProblem ? .credentials : .failure }
        return ExitStatus.of(outcome)
    }
}

/// The library entry point.
public enum ConsoleAccessAPI {
    /// Enables, resets or disables one user's console access. Makes its own HTTP client and shuts it
    /// down; to reuse a session across calls, use `modify(_:session:)`.
    public static func modify(_ request: ModifyRequest) async -> ModifyResult {
        do {
            return try await AWSHTTPClient.withClient(settings: request.aws.http) { transport in
                let session = try AWSSession.make(configuration: request.aws, transport: transport)
                return await modify(request, session: session)
            }
        } catch {
            return ModifyResult(
                outcome: Outcome(
                    user: request.user, action: request.action, status: .failed, detail: "nothing was changed"),
                caller: nil, notes: [], setupError: SetupError(error, during: "setting up the AWS client"))
        }
    }

    /// Enables, resets or disables one user's console access with an existing session.
    public static func modify(_ request: ModifyRequest, session: AWSSession) async -> ModifyResult {
        let logger = request.aws.logger
        let notStarted = Outcome(
            user: request.user, action: request.action, status: .failed, detail: "nothing was changed")
        // Refuse what can be refused without credentials before touching AWS.
        if let refusal = Validation.refusal(
            user: request.user, action: request.action, password: request.password ?? Password(""))
        {
            return ModifyResult(
                outcome: Outcome(
                    user: request.user, action: request.action, status: .invalid, detail: refusal.description,
                    message: refusal.description),
                caller: nil, notes: [], setupError: nil)
        }
        let executor = CallExecutor(policy: request.retry)
        let connected: (service: ConsoleAccessService, notes: [String])
        do {
            connected = try await ConsoleAccessService.connect(session: session, executor: executor, logger: logger)
        } catch let error as SetupError {
            return ModifyResult(outcome: notStarted, caller: nil, notes: [], setupError: error)
        } catch {
            return ModifyResult(
                outcome: notStarted, caller: nil, notes: [], setupError: SetupError(error, during: "connecting"))
        }
        let service = connected.service
        let outcome: Outcome
        switch request.action {
        case .enable:
            outcome = await service.enable(
                user: request.user, password: request.password ?? Password(""), resetExisting: request.resetExisting,
                waitForUser: request.waitForUser)
        case .reset:
            outcome = await service.reset(
                user: request.user, password: request.password ?? Password(""), waitForUser: request.waitForUser)
        case .disable:
            outcome = await service.disable(user: request.user, revoke: request.revoke)
        case .restore:
            outcome = await service.restore(user: request.user, list: request.restore, password: request.password)
        }
        return ModifyResult(outcome: outcome, caller: service.caller, notes: connected.notes, setupError: nil)
    }
}
