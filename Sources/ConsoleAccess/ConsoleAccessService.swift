import AWSQuery
import Foundation
import Logging

/// The console-access core: validates, then enables, resets or disables one user's console
/// access, each API call retried on its own, and returns an `Outcome` saying exactly what changed.
public struct ConsoleAccessService: Sendable {
    public static let changePasswordPolicyName = "IAMUserChangePassword"

    public let iam: IAMClient
    /// Who is running the tool (`GetCallerIdentity`), used to refuse disabling oneself.
    public let caller: CallerIdentity?
    /// The caller's IAM user name, lower-cased (IAM user names are unique ignoring case), when
    /// the caller is an IAM user.
    private let callerUserNameKey: String?
    /// The account password policy, checked locally; nil when none is set or it could not be read.
    public let passwordPolicy: PasswordPolicy?
    public let partition: Partition
    public var executor: CallExecutor
    public var logger: Logger

    public init(
        iam: IAMClient, caller: CallerIdentity?, passwordPolicy: PasswordPolicy?, partition: Partition? = nil,
        executor: CallExecutor = CallExecutor(), logger: Logger = Logger(label: "console-access")
    ) {
        self.iam = iam
        self.caller = caller
        self.callerUserNameKey = caller?.userName?.lowercased()
        self.passwordPolicy = passwordPolicy
        self.partition = partition ?? caller?.partition ?? .aws
        self.changePasswordPolicyArn =
            "arn:\(self.partition.rawValue):iam::aws:policy/\(Self.changePasswordPolicyName)"
        self.executor = executor
        self.logger = logger
    }

    /// `arn:<partition>:iam::aws:policy/IAMUserChangePassword`
    public let changePasswordPolicyArn: String

    // MARK: Validation

    /// Why a row would be refused before any call, or nil when it may proceed.
    /// `passwordWillBeGenerated`: the enable row has no password because one will be generated
    /// (`--generate-passwords`), so there is none to check yet.
    public func localProblem(
        user: String, action: ConsoleAction, password: Password?, passwordWillBeGenerated: Bool = false
    ) -> String? {
        if let problem = Validation.checkUserName(user) { return problem.description }
        switch action {
        case .enable, .reset:
            if passwordWillBeGenerated && password == nil { return nil }
            guard let password, !password.isEmpty else { return "\(action.rawValue) needs a password" }
            if let problem = password.problem { return problem.description }
            if let policy = passwordPolicy {
                let violations = policy.violations(of: password)
                if !violations.isEmpty { return "password rejected: " + violations.joined(separator: "; ") }
            }
        case .disable:
            if let caller, let callerUserNameKey, user.lowercased() == callerUserNameKey {
                return
                    "refusing to disable the console access of the identity running this tool (\(caller.arn))"
            }
        }
        return nil
    }

    // MARK: Disable

    /// Deletes the login profile. No profile is `unchanged`; no user is `not-found`. With
    /// `deactivateAccessKeys`, every active access key is then set `Inactive` (never deleted).
    public func disable(user: String, deactivateAccessKeys: Bool = false) async -> Outcome {
        var outcome = Outcome(user: user, action: .disable, status: .changed)
        if let problem = localProblem(user: user, action: .disable, password: nil) {
            return refused(outcome, problem)
        }
        var notes: [String] = []
        var tracking = CallTracking()
        var pending: String? = "DeleteLoginProfile"
        // A lost answer followed by NoSuchEntity: the profile is gone, by this run or before it.
        var deletedUncertain = false
        do {
            do {
                let deleted = try await runTracked(&tracking, attempts: &outcome.attempts, action: "DeleteLoginProfile")
                {
                    try await iam.deleteLoginProfile(userName: user)
                }
                pending = nil
                outcome.requestId = deleted.requestId
                outcome.changes.append(.profileDeleted)
            } catch let error as AWSServiceError where error.code == "NoSuchEntity" {
                pending = nil
                // No profile, or no user? GetUser tells them apart.
                do {
                    let found = try await executor.run(attempts: &outcome.attempts) {
                        try await iam.getUser(userName: user)
                    }
                    outcome.requestId = found.requestId
                    if tracking.answerLost {
                        deletedUncertain = true
                        notes.append(
                            "no login profile now (console access disabled); an answer to DeleteLoginProfile was lost, so whether this run deleted it or it was already gone cannot be known"
                        )
                    } else {
                        notes.append("no login profile (console access already disabled)")
                    }
                } catch let error as AWSServiceError where error.code == "NoSuchEntity" {
                    outcome.status = .notFound
                    outcome.errorCode = error.code
                    outcome.message = error.message
                    outcome.requestId = error.requestId
                    outcome.httpStatus = error.httpStatus
                    outcome.detail = "no IAM user named \(user)"
                    return outcome
                }
            }
            if deactivateAccessKeys {
                let keys = try await executor.run(attempts: &outcome.attempts) {
                    try await iam.listAccessKeys(userName: user)
                }
                outcome.requestId = keys.requestId
                for key in keys.value where key.status == .active {
                    let updated = try await executor.run(attempts: &outcome.attempts) {
                        try await iam.updateAccessKey(userName: user, accessKeyId: key.accessKeyId, status: .inactive)
                    }
                    outcome.requestId = updated.requestId
                    outcome.deactivatedKeys.append(key.accessKeyId)
                }
                if !outcome.deactivatedKeys.isEmpty {
                    outcome.changes.append(.accessKeysDeactivated)
                } else {
                    notes.append("no active access keys")
                }
            }
            // Most likely this run's lost request deleted it: reported `changed`, the doubt in detail.
            outcome.status = outcome.changes.isEmpty && !deletedUncertain ? .unchanged : .changed
            outcome.detail = ([Self.describe(outcome.changes, keys: outcome.deactivatedKeys)] + notes)
                .filter { !$0.isEmpty }.joined(separator: "; ")
            return outcome
        } catch {
            var failure = failed(outcome, error, notFoundMeansUser: false)
            if let pending, tracking.answerLost {
                failure.detail =
                    "an answer to \(pending) was lost and its retries failed: whether IAM applied it is unknown (check the user before rerunning)"
            }
            return failure
        }
    }

    // MARK: Helpers

    func refused(_ outcome: Outcome, _ reason: String) -> Outcome {
        var outcome = outcome
        outcome.status = .invalid
        outcome.detail = reason
        outcome.message = reason
        return outcome
    }

    /// A failure after `outcome.changes` were made: the detail says what was done first.
    func failed(_ outcome: Outcome, _ error: any Error, notFoundMeansUser: Bool) -> Outcome {
        var outcome = outcome
        outcome.status = .failed
        switch error {
        case let error as AWSServiceError:
            outcome.errorCode = error.code
            outcome.message = error.description
            outcome.requestId = error.requestId ?? outcome.requestId
            outcome.httpStatus = error.httpStatus
            if error.code == "NoSuchEntity" && notFoundMeansUser {
                // The same shape as the other not-found outcomes: AWS's own message.
                outcome.status = .notFound
                outcome.message = error.message
                outcome.detail = "no IAM user named \(outcome.user)"
                return outcome
            }
        case let error as AWSClientError:
            switch error.kind {
            case .timeout: outcome.errorCode = "ClientTimeout"
            case .connection: outcome.errorCode = "ConnectionError"
            case .invalidResponse(let status):
                outcome.errorCode = "InvalidResponse"
                outcome.httpStatus = status
            case .invalidRequest: outcome.errorCode = "InvalidRequest"
            }
            outcome.message = error.description
        case is CancellationError:
            outcome.errorCode = "Cancelled"
            outcome.message = "stopped before the row finished"
        case let error as CredentialError:
            outcome.errorCode = "NoCredentials"
            outcome.message = error.description
        default:
            outcome.errorCode = "Error"
            outcome.message = "\(error)"
        }
        let done = Self.describe(outcome.changes, keys: outcome.deactivatedKeys)
        outcome.detail = done.isEmpty ? "nothing was changed" : "done before the failure: \(done)"
        return outcome
    }

    static func describe(_ changes: [Change], keys: [String] = []) -> String {
        changes.map { change in
            change == .accessKeysDeactivated
                ? "access keys deactivated: \(keys.joined(separator: " "))" : change.rawValue
        }.joined(separator: ", ")
    }
}
