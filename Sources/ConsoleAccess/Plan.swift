import AWSQuery
import Foundation

extension ConsoleAccessService {
    // MARK: Dry run

    /// Reads the current state and says what `enable`/`reset`/`disable` would change, changing
    /// nothing: the same outcome a real run would report, with `planned` for a row that would
    /// change something or succeed.
    public func plan(
        user: String, action: ConsoleAction, password: Password?, revoke: RevokeKinds = .console,
        restore: RestoreList? = nil, passwordWillBeGenerated: Bool = false, resetExisting: Bool = false
    ) async -> Outcome {
        await counted { _ in
            await planSteps(
                user: user, action: action, password: password, revoke: revoke, restore: restore,
                passwordWillBeGenerated: passwordWillBeGenerated, resetExisting: resetExisting)
        }
    }

    private func planSteps(
        user: String, action: ConsoleAction, password: Password?, revoke: RevokeKinds, restore: RestoreList?,
        passwordWillBeGenerated: Bool, resetExisting: Bool
    ) async -> Outcome {
        var outcome = Outcome(user: user, action: action, status: .planned)
        if let refusal = localProblem(
            user: user, action: action, password: password, passwordWillBeGenerated: passwordWillBeGenerated)
        {
            return refused(outcome, refusal)
        }
        if action == .restore,
            let refusal = restoreRefusal(
                user: user, list: restore, password: password, passwordWillBeGenerated: passwordWillBeGenerated)
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
                if hasProfile && revoke.contains(.console) { outcome.changes.append(.profileDeleted) }
                for kind in revoke.credentialKinds {
                    let listed = try await credentials(kind, user: user)
                    let active = listed.value.filter(\.active).map { RevokedCredential(kind: kind, id: $0.id) }
                    outcome.revoked += active
                    if !active.isEmpty, let change = Change.deactivated(kind) { outcome.changes.append(change) }
                }
            case .restore:
                try await planRestore(restore, user: user, hasProfile: hasProfile, &outcome, &notes)
            }
            let what =
                outcome.changes.isEmpty
                ? "would change nothing (already as asked)"
                : "would: " + Self.describe(outcome.changes, revoked: outcome.revoked + outcome.reactivated)
            outcome.detail = ([what] + notes).joined(separator: "; ")
            return outcome
        } catch {
            return failed(outcome, error)
        }
    }

    /// What a restore would bring back: the inactive listed credentials that still exist, and
    /// console access when listed and missing.
    private func planRestore(
        _ list: RestoreList?, user: String, hasProfile: Bool, _ outcome: inout Outcome, _ notes: inout [String]
    ) async throws {
        guard let list else { return }
        for kind in list.credentialKinds where kind != .mfa {
            let listed = try await credentials(kind, user: user)
            for credential in list.credentials where credential.kind == kind {
                guard let found = listed.value.first(where: { $0.id == credential.id }) else {
                    notes.append("\(kind.noun): \(credential.id) no longer exists")
                    continue
                }
                if !found.active { outcome.reactivated.append(credential) }
            }
            if outcome.reactivated.contains(where: { $0.kind == kind }), let change = Change.reactivated(kind) {
                outcome.changes.append(change)
            }
        }
        if list.credentials.contains(where: { $0.kind == .mfa }) {
            notes.append(
                "MFA devices cannot be reactivated without codes from the device; the user must register them again")
        }
        if list.console {
            if !hasProfile { outcome.changes.append(.profileCreated) }
            let attached = try await iam.listAttachedUserPolicies(userName: user)
            if !attached.value.contains(where: { $0.policyArn == changePasswordPolicyArn }) {
                outcome.changes.append(.policyAttached)
            }
        }
    }
}
