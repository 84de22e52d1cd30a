import AWSQuery
import Foundation

extension ConsoleAccessService {
    // MARK: Dry run

    /// Reads the current state and says what `enable`/`reset`/`disable` would change, changing
    /// nothing: the same outcome a real run would report, with `planned` for a row that would
    /// change something or succeed.
    public func plan(
        user: String, action: ConsoleAction, password: Password?, deactivateAccessKeys: Bool = false,
        passwordWillBeGenerated: Bool = false, resetExisting: Bool = false
    ) async -> Outcome {
        await counted { _ in
            await planSteps(
                user: user, action: action, password: password, deactivateAccessKeys: deactivateAccessKeys,
                passwordWillBeGenerated: passwordWillBeGenerated, resetExisting: resetExisting)
        }
    }

    private func planSteps(
        user: String, action: ConsoleAction, password: Password?, deactivateAccessKeys: Bool,
        passwordWillBeGenerated: Bool, resetExisting: Bool
    ) async -> Outcome {
        var outcome = Outcome(user: user, action: action, status: .planned)
        if let refusal = localProblem(
            user: user, action: action, password: password, passwordWillBeGenerated: passwordWillBeGenerated)
        {
            return refused(outcome, refusal)
        }
        do {
            let found: AWSResult<IAMUser>
            do {
                found = try await iam.getUser(userName: user)
            } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                return notFound(outcome, error, wait: .none, waited: nil)
            }
            outcome.requestId = found.requestId
            let hasProfile: Bool
            do {
                let profile = try await iam.getLoginProfile(userName: user)
                outcome.requestId = profile.requestId
                hasProfile = true
            } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                hasProfile = false
            }
            var notes: [String] = []
            switch action {
            case .enable:
                if !hasProfile {
                    outcome.changes.append(.profileCreated)
                } else if resetExisting {
                    outcome.changes.append(.passwordReset)
                } else {
                    notes.append(Self.alreadyEnabledNote)
                }
                let attached = try await iam.listAttachedUserPolicies(userName: user)
                if !attached.value.contains(where: { $0.policyArn == changePasswordPolicyArn }) {
                    outcome.changes.append(.policyAttached)
                }
            case .reset:
                guard hasProfile else { return Self.noLoginProfile(outcome) }
                outcome.changes.append(.passwordReset)
            case .disable:
                if hasProfile { outcome.changes.append(.profileDeleted) }
                if deactivateAccessKeys {
                    let keys = try await iam.listAccessKeys(userName: user)
                    outcome.deactivatedKeys = keys.value.filter { $0.status == .active }.map(\.accessKeyId)
                    if !outcome.deactivatedKeys.isEmpty { outcome.changes.append(.accessKeysDeactivated) }
                }
            }
            let what =
                outcome.changes.isEmpty
                ? "would change nothing (already as asked)"
                : "would: " + Self.describe(outcome.changes, keys: outcome.deactivatedKeys)
            outcome.detail = ([what] + notes).joined(separator: "; ")
            return outcome
        } catch {
            return failed(outcome, error)
        }
    }
}
