import AWSQuery

extension ConsoleAccessService {
    // MARK: Disable

    /// Revokes what `revoke` names (by default the console password only): deletes the login
    /// profile (`console`), and sets every active credential of the other kinds inactive (never
    /// deletes one). Already inactive credentials are left alone and not counted. A kind that fails does not stop the others; the row is
    /// then `failed` and its detail says which kinds were done and which failed. No profile is
    /// `unchanged`; no user is `not-found`.
    public func disable(user: String, revoke: RevokeKinds = .console) async -> Outcome {
        await counted { ledger in await disableSteps(user: user, revoke: revoke, ledger) }
    }

    private func disableSteps(user: String, revoke: RevokeKinds, _ ledger: CallLedger) async -> Outcome {
        var outcome = Outcome(user: user, action: .disable, status: .changed)
        if let refusal = localProblem(user: user, action: .disable, password: nil) {
            return refused(outcome, refusal)
        }
        var notes: [String] = []
        if revoke.contains(.console) {
            // A console that could not be deleted is the row's failure, but the other kinds are
            // still revoked: a leaver keeps as little as possible.
            if let missing = await deleteConsole(user: user, &outcome, &notes, ledger) { return missing }
        } else if let missing = await missingUser(user, &outcome) {
            return missing
        }
        for kind in revoke.credentialKinds {
            await revokeKind(kind, user: user, &outcome, &notes, ledger)
        }
        if let first = outcome.credentialFailures.first {
            return failedCredentials(outcome, first, notes: notes)
        }
        // Most likely this run's lost request deleted it: reported `changed`, the doubt in detail.
        outcome.status = outcome.changes.isEmpty && !outcome.profileDeletionUncertain ? .unchanged : .changed
        outcome.detail = ([Self.describe(outcome.changes, revoked: outcome.revoked)] + notes)
            .filter { !$0.isEmpty }.joined(separator: "; ")
        return outcome
    }

    /// Deletes the login profile; a missing profile is told apart from a missing user (the
    /// `not-found` outcome is returned). A failure is noted as the console kind's.
    private func deleteConsole(
        user: String, _ outcome: inout Outcome, _ notes: inout [String], _ ledger: CallLedger
    ) async -> Outcome? {
        do {
            let deleted = try await iam.deleteLoginProfile(userName: user)
            outcome.requestId = deleted.requestId
            outcome.changes.append(.profileDeleted)
        } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
            if let missing = await missingUser(user, &outcome) { return missing }
            if ledger.tracking("DeleteLoginProfile").answerLost {
                outcome.profileDeletionUncertain = true
                notes.append(
                    "no login profile now (console access disabled); an answer to DeleteLoginProfile was lost, so whether this run deleted it or it was already gone cannot be known"
                )
            } else {
                notes.append("no login profile (console access already disabled)")
            }
        } catch {
            Self.noteFailure(of: .console, error, in: &outcome)
            if ledger.tracking("DeleteLoginProfile").answerLost {
                outcome.profileDeletionUncertain = true
                notes.append(Self.unknownAfterLostAnswer("DeleteLoginProfile"))
            }
        }
        return nil
    }

    /// `not-found` when the user does not exist (GetUser), nil when it does; a failure to tell
    /// is the row's failure.
    func missingUser(_ user: String, _ outcome: inout Outcome) async -> Outcome? {
        do {
            let found = try await iam.getUser(userName: user)
            outcome.requestId = found.requestId
            return nil
        } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
            return notFound(outcome, error, wait: .none, waited: nil)
        } catch {
            return failed(outcome, error)
        }
    }

    /// Deactivates every active credential of `kind`, noting each id; a failure is noted for
    /// the kind (what was deactivated before it stays noted) and the caller goes on.
    private func revokeKind(
        _ kind: CredentialKind, user: String, _ outcome: inout Outcome, _ notes: inout [String],
        _ ledger: CallLedger
    ) async {
        var deactivated = 0
        do {
            let listed = try await credentials(kind, user: user)
            outcome.requestId = listed.requestId
            for credential in listed.value where credential.active {
                // Noted before the call: if its answer is lost and the retries fail, IAM may
                // still have applied it, and the way back must list it.
                outcome.revokeAttempted.append(RevokedCredential(kind: kind, id: credential.id))
                do {
                    let done = try await deactivate(kind, id: credential.id, user: user)
                    outcome.requestId = done.requestId
                } catch let error as AWSServiceError
                    where kind == .mfa && error.errorCode == .noSuchEntity
                    && ledger.tracking("DeactivateMFADevice").answerLost
                {
                    // The lost attempt unbound it: the retry finds it gone.
                }
                outcome.revoked.append(RevokedCredential(kind: kind, id: credential.id))
                deactivated += 1
            }
        } catch {
            Self.noteFailure(of: kind, error, in: &outcome)
        }
        if deactivated > 0, let change = Change.deactivated(kind) {
            outcome.changes.append(change)
        } else if !outcome.credentialFailures.contains(where: { $0.kind == kind }) {
            notes.append("no active \(kind.noun)")
        }
    }

    /// Notes that `kind` failed with `error`: the detail names the reason briefly (IAM's own
    /// message); the row's message, request id and HTTP status are the first failure's.
    static func noteFailure(of kind: CredentialKind, _ error: any Error, in outcome: inout Outcome) {
        let failure = RowFailure(error)
        let reason = (error as? AWSServiceError)?.message ?? failure.message
        outcome.credentialFailures.append(CredentialFailure(kind: kind, code: failure.code, message: reason))
        if outcome.credentialFailures.count == 1 {
            outcome.message = failure.message
            outcome.requestId = failure.requestId ?? outcome.requestId
            outcome.httpStatus = failure.httpStatus
        }
    }

    /// The row after at least one kind failed: `failed`, with the first failure's code and
    /// message, and a detail naming what was done and every kind that failed.
    func failedCredentials(_ outcome: Outcome, _ first: CredentialFailure, notes: [String]) -> Outcome {
        var outcome = outcome
        outcome.status = .failed
        outcome.errorCode = first.code
        let done = Self.describe(outcome.changes, revoked: outcome.revoked + outcome.reactivated)
        let failedKinds = outcome.credentialFailures.map { "\($0.kind.noun) (\($0.code): \($0.message))" }
        outcome.detail =
            ([done.isEmpty ? "nothing was changed" : "done: \(done)"] + notes
            + ["failed: \(failedKinds.joined(separator: ", "))"]).joined(separator: "; ")
        return outcome
    }
}
