import AWSQuery
import Foundation

extension ConsoleAccessService {
    /// The detail of an enable row whose user already had a login profile.
    public static let alreadyEnabledNote = "console access already enabled (password not changed)"
    /// The error code of a reset row whose user has no login profile.
    public static let noLoginProfileCode = "NoLoginProfile"

    // MARK: Enable

    /// Gives `user` console access, in the fewest calls: `CreateLoginProfile` (always with
    /// `PasswordResetRequired=true`) then `AttachUserPolicy(IAMUserChangePassword)`: 2 calls for a
    /// new profile. A user who already has a profile keeps their password (`unchanged`), unless
    /// `resetExisting`; for them the policy is listed and attached only when missing.
    ///
    /// - Parameters:
    ///   - resetExisting: set the password of a user who already has a login profile
    ///     (`UpdateLoginProfile`), as `reset` does.
    ///   - waitForUser: while the user does not exist, keep retrying within this window.
    public func enable(
        user: String, password: Password, resetExisting: Bool = false, waitForUser: UserWait = .none
    ) async -> Outcome {
        await counted { ledger in
            await enableSteps(
                user: user, password: password, resetExisting: resetExisting, waitForUser: waitForUser, ledger)
        }
    }

    func enableSteps(
        user: String, password: Password, resetExisting: Bool, waitForUser: UserWait, _ ledger: CallLedger
    ) async -> Outcome {
        var outcome = Outcome(user: user, action: .enable, status: .changed)
        if let refusal = localProblem(user: user, action: .enable, password: password) {
            return refused(outcome, refusal)
        }
        enum Step {
            case created
            case existed(AWSServiceError)
        }
        var waited: Duration?
        var missing: AWSServiceError?
        var notes: [String] = []
        var pending: String?
        do {
            pending = "CreateLoginProfile"
            let step = try await waitingForUser(waitForUser, waited: &waited) { () -> Step? in
                do {
                    let created = try await iam.createLoginProfile(
                        userName: user, password: password.revealed, passwordResetRequired: true)
                    outcome.requestId = created.requestId
                    return .created
                } catch let error as AWSServiceError where error.errorCode == .entityAlreadyExists {
                    return .existed(error)
                } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                    missing = error
                    return nil
                }
            }
            pending = nil
            guard let step else {
                return notFound(outcome, missing, wait: waitForUser, waited: waited)
            }
            var profileIsNew: Bool
            switch step {
            case .created:
                profileIsNew = true
            case .existed(let conflict):
                profileIsNew = false
                let tracking = ledger.tracking("CreateLoginProfile")
                if tracking.answerLost, let sentAt = tracking.firstSentAt {
                    // An attempt's answer was lost: did that attempt create the profile?
                    switch try await originOfProfile(user: user, sentAt: sentAt, conflict: conflict, outcome: &outcome)
                    {
                    case .thisRun(let date):
                        profileIsNew = true
                        notes.append(
                            "an answer to CreateLoginProfile was lost; IAM shows the profile created at \(ISO8601.format(date)), after this run sent it"
                        )
                    case .earlier(let date):
                        notes.append(
                            "an answer to CreateLoginProfile was lost; IAM shows the profile created at \(ISO8601.format(date)), before this run sent it"
                        )
                    case .unknown:
                        notes.append(
                            "an answer to CreateLoginProfile was lost and IAM gives no creation date: this run may have created the login profile"
                        )
                    }
                }
            }
            if profileIsNew {
                outcome.changes.append(.profileCreated)
            } else if resetExisting {
                let updated = try await iam.updateLoginProfile(
                    userName: user, password: password.revealed, passwordResetRequired: true)
                outcome.requestId = updated.requestId
                outcome.changes.append(.passwordReset)
            }
            // The policy: attached at once for a new profile (attaching twice is harmless);
            // listed first for an existing one, so a re-run makes no write.
            var needsPolicy = true
            if !profileIsNew {
                let attached = try await iam.listAttachedUserPolicies(userName: user)
                outcome.requestId = attached.requestId
                needsPolicy = !attached.value.contains { $0.policyArn == changePasswordPolicyArn }
            }
            if needsPolicy, let missingPolicy = try await attachChangePasswordPolicy(user: user, outcome: &outcome) {
                if let note = missingPolicy.note {
                    notes.append(note)
                } else {
                    outcome.status = .failed
                    let done = Self.describe(outcome.changes)
                    var detail = [done.isEmpty ? "nothing was changed" : "done before the failure: \(done)"]
                    if !profileIsNew && !resetExisting { detail.append(Self.alreadyEnabledNote) }
                    detail.append(missingPolicy.failure)
                    outcome.detail = (detail + notes).joined(separator: "; ")
                    return outcome
                }
            }
            outcome.status = outcome.changes.isEmpty ? .unchanged : .changed
            var parts = [Self.describe(outcome.changes)]
            if !profileIsNew && !resetExisting { parts.append(Self.alreadyEnabledNote) }
            if let waited { parts.append("user found after waiting \(UserWait.describe(waited)) (--wait-for-user)") }
            outcome.detail = (parts + notes).filter { !$0.isEmpty }.joined(separator: "; ")
            return outcome
        } catch {
            var failure = failed(outcome, error)
            if let pending, ledger.tracking(pending).answerLost {
                failure.detail = Self.unknownAfterLostAnswer(pending)
            }
            if !notes.isEmpty { failure.detail += "; " + notes.joined(separator: "; ") }
            return failure
        }
    }

    /// Why `IAMUserChangePassword` could not be attached: a note when the row may still count as
    /// done, else the failure to report.
    struct MissingPolicy {
        var note: String?
        var failure: String
    }

    /// Attaches `IAMUserChangePassword`. Returns nil when attached; on `LimitExceeded` (the user
    /// already has IAM's maximum of managed policies) says why it is missing and whether that
    /// matters: it does not when the account password policy lets users change their own password.
    func attachChangePasswordPolicy(user: String, outcome: inout Outcome) async throws -> MissingPolicy? {
        do {
            let attach = try await iam.attachUserPolicy(userName: user, policyArn: changePasswordPolicyArn)
            outcome.requestId = attach.requestId
            outcome.changes.append(.policyAttached)
            return nil
        } catch let error as AWSServiceError where error.errorCode == .limitExceeded {
            outcome.errorCode = error.code
            outcome.message = error.description
            outcome.requestId = error.requestId ?? outcome.requestId
            outcome.httpStatus = error.httpStatus
            let why =
                "\(Self.changePasswordPolicyName) not attached: the user is at IAM's limit of attached managed policies (LimitExceeded)"
            if passwordPolicy?.allowUsersToChangePassword == true {
                return MissingPolicy(
                    note: why + "; not needed: the account password policy lets users change their own password",
                    failure: why)
            }
            return MissingPolicy(
                note: nil,
                failure: why
                    + ", and the account password policy does not let users change their own password: the user cannot change the temporary password at sign-in"
            )
        }
    }

    // MARK: Reset

    /// Sets a new temporary password (`UpdateLoginProfile`, `PasswordResetRequired=true`) for a
    /// user who has a login profile; never creates one. A user without one is `failed` with
    /// `NoLoginProfile` (use enable), a missing user `not-found`.
    public func reset(user: String, password: Password, waitForUser: UserWait = .none) async -> Outcome {
        await counted { _ in await resetSteps(user: user, password: password, waitForUser: waitForUser) }
    }

    private func resetSteps(user: String, password: Password, waitForUser: UserWait) async -> Outcome {
        var outcome = Outcome(user: user, action: .reset, status: .changed)
        if let refusal = localProblem(user: user, action: .reset, password: password) {
            return refused(outcome, refusal)
        }
        var waited: Duration?
        var missing: AWSServiceError?
        do {
            // true: reset; false: the user exists without a login profile; nil: no such user.
            let step = try await waitingForUser(waitForUser, waited: &waited) { () -> Bool? in
                do {
                    // Idempotent: a retry after a lost answer sets the same password again.
                    let updated = try await iam.updateLoginProfile(
                        userName: user, password: password.revealed, passwordResetRequired: true)
                    outcome.requestId = updated.requestId
                    return true
                } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                    do {
                        let found = try await iam.getUser(userName: user)
                        outcome.requestId = found.requestId
                        return false
                    } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                        missing = error
                        return nil
                    }
                }
            }
            guard let step else { return notFound(outcome, missing, wait: waitForUser, waited: waited) }
            let waitNote = waited.map { "user found after waiting \(UserWait.describe($0)) (--wait-for-user)" }
            guard step else {
                return Self.noLoginProfile(outcome, note: waitNote)
            }
            outcome.changes = [.passwordReset]
            outcome.status = .changed
            outcome.detail = ([Self.describe(outcome.changes)] + (waitNote.map { [$0] } ?? [])).joined(separator: "; ")
            return outcome
        } catch {
            return failed(outcome, error)
        }
    }

    /// A reset row whose user has no console password: nothing is created.
    static func noLoginProfile(_ outcome: Outcome, note: String? = nil) -> Outcome {
        var outcome = outcome
        outcome.status = .failed
        outcome.changes = []
        outcome.errorCode = noLoginProfileCode
        outcome.message =
            "\(outcome.user) has no login profile (no console password); reset only replaces an existing password: use enable to give console access"
        outcome.detail = (["nothing was changed: no login profile to reset (use enable)"] + (note.map { [$0] } ?? []))
            .joined(separator: "; ")
        return outcome
    }

    /// The `not-found` outcome, saying how long the row waited for the user when it did.
    func notFound(_ outcome: Outcome, _ error: AWSServiceError?, wait: UserWait, waited: Duration?) -> Outcome {
        var outcome = outcome
        outcome.status = .notFound
        outcome.changes = []
        outcome.errorCode = error?.code ?? AWSErrorCode.noSuchEntity.rawValue
        outcome.message = error?.message
        outcome.requestId = error?.requestId ?? outcome.requestId
        outcome.httpStatus = error?.httpStatus
        outcome.detail = "no IAM user named \(outcome.user)"
        if wait.window > .zero {
            outcome.detail +=
                " (still none after waiting \(UserWait.describe(waited ?? .zero)), --wait-for-user \(UserWait.describe(wait.window)))"
        }
        return outcome
    }
}
