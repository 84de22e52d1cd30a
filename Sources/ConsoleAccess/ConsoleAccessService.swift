import AWSQuery
import Foundation
import Logging

/// The console-access core: validates, then enables, resets or disables one user's console
/// access, each API call retried on its own, and returns an `Outcome` saying exactly what changed.
///
/// It talks to IAM only through `IAMOperations`: over the wire (`IAMClient`) in a run, in
/// memory (`InMemoryIAM`) in unit tests. Retry and rate apply in one place, the `RetryingIAM`
/// every call goes through; each row's attempts and lost answers are counted by its own
/// `CallLedger`.
public struct ConsoleAccessService: Sendable {
    public static let changePasswordPolicyName = "IAMUserChangePassword"

    /// IAM, every call retried through `executor`.
    public let iam: RetryingIAM
    /// Who is running the tool (`GetCallerIdentity`), used to refuse disabling oneself.
    public let caller: CallerIdentity?
    /// The caller's IAM user name, lower-cased (IAM user names are unique ignoring case), when
    /// the caller is an IAM user.
    private let callerUserNameKey: String?
    /// The account password policy, checked locally; nil when none is set or it could not be read.
    public let passwordPolicy: PasswordPolicy?
    public let partition: Partition
    public var executor: CallExecutor { iam.executor }
    public var logger: Logger

    public init(
        iam: any IAMOperations, caller: CallerIdentity?, passwordPolicy: PasswordPolicy?, partition: Partition? = nil,
        executor: CallExecutor = CallExecutor(), logger: Logger = Logger(label: "console-access")
    ) {
        self.iam = RetryingIAM(iam, executor: executor)
        self.caller = caller
        self.callerUserNameKey = caller?.userName?.lowercased()
        self.passwordPolicy = passwordPolicy
        self.partition = partition ?? caller?.partition ?? .aws
        self.changePasswordPolicyArn =
            "arn:\(self.partition.rawValue):iam::aws:policy/\(Self.changePasswordPolicyName)"
        self.logger = logger
    }

    /// `arn:<partition>:iam::aws:policy/IAMUserChangePassword`
    public let changePasswordPolicyArn: String

    // MARK: Validation

    /// Why a row would be refused before any call, or nil when it may proceed: IAM's rules, the
    /// account password policy, and the self-disable guard.
    /// `passwordWillBeGenerated`: the enable row has no password because one will be generated
    /// (`--generate-passwords`), so there is none to check yet.
    public func localProblem(
        user: String, action: ConsoleAction, password: Password?, passwordWillBeGenerated: Bool = false
    ) -> Refusal? {
        let generated = action.takesPassword && passwordWillBeGenerated && password == nil
        if let refusal = Validation.refusal(
            user: user, action: generated ? .disable : action, password: password)
        {
            return refusal
        }
        switch action {
        case .enable, .reset:
            if let password, !generated, let policy = passwordPolicy {
                let violations = policy.violations(of: password)
                if !violations.isEmpty { return .passwordPolicy(violations: violations) }
            }
        case .disable:
            if let caller, let callerUserNameKey, user.lowercased() == callerUserNameKey {
                return .selfDisable(callerArn: caller.arn)
            }
        case .restore:
            // Its password, when it lists `console`, is checked by `restore` (as enable's).
            break
        }
        return nil
    }

    /// Runs one row's steps with its own `CallLedger`; the outcome's `attempts` are the requests
    /// they sent.
    func counted(_ steps: (CallLedger) async -> Outcome) async -> Outcome {
        let ledger = CallLedger()
        var outcome = await ledger.recording { await steps(ledger) }
        outcome.attempts = ledger.attempts
        return outcome
    }

    // MARK: Helpers

    func refused(_ outcome: Outcome, _ refusal: Refusal) -> Outcome {
        var outcome = outcome
        outcome.status = .invalid
        outcome.detail = refusal.description
        outcome.message = refusal.description
        return outcome
    }

    /// A failure after `outcome.changes` were made: the status, code and message are
    /// `RowFailure`'s (the one mapping from error to report); the detail says what was done first.
    func failed(_ outcome: Outcome, _ error: any Error) -> Outcome {
        var outcome = outcome
        let failure = RowFailure(error)
        outcome.status = failure.status
        outcome.errorCode = failure.code
        outcome.message = failure.message
        outcome.requestId = failure.requestId ?? outcome.requestId
        outcome.httpStatus = failure.httpStatus ?? outcome.httpStatus
        let done = Self.describe(outcome.changes, revoked: outcome.revoked + outcome.reactivated)
        outcome.detail = done.isEmpty ? "nothing was changed" : "done before the failure: \(done)"
        return outcome
    }

    /// The detail of a row whose non-idempotent call lost an answer and then failed.
    static func unknownAfterLostAnswer(_ action: String) -> String {
        "an answer to \(action) was lost and its retries failed: whether IAM applied it is unknown (check the user before rerunning)"
    }

    /// The changes in words, each deactivation with the ids it deactivated:
    /// `login profile deleted, access keys deactivated: AKIA1 AKIA2`.
    static func describe(_ changes: [Change], revoked: [RevokedCredential] = []) -> String {
        changes.map { change in
            guard let kind = change.credentialKind else { return change.rawValue }
            let ids = revoked.filter { $0.kind == kind }.map(\.id)
            return "\(change.rawValue): \(ids.joined(separator: " "))"
        }.joined(separator: ", ")
    }
}
