import AWSQuery
import Foundation

/// What a `restore` row brings back: console access (`console`, re-enabled as `enable` does) and
/// credentials by kind and id, written `console;keys:AKIA…;ssh:APKA…;mfa:arn:aws:iam::…:mfa/…`.
public struct RestoreList: Sendable, Equatable, CustomStringConvertible {
    public var console: Bool
    public var credentials: [RevokedCredential]

    /// The longest id accepted (IAM's ids are at most 128 characters; MFA serials are ARNs).
    public static let maxIdLength = 512

    public init(console: Bool, credentials: [RevokedCredential]) {
        self.console = console
        self.credentials = credentials
    }

    /// What undoes a disable outcome: `console` when its login profile was deleted (or may
    /// have been, after a lost answer), and every credential it deactivated or tried to (a
    /// restore reactivates only what is inactive, and each of these was active before); nil when
    /// it changed nothing.
    public init?(undoing outcome: Outcome) {
        guard outcome.action == .disable else { return nil }
        let console = outcome.changes.contains(.profileDeleted) || outcome.profileDeletionUncertain
        let credentials = outcome.revokeAttempted.isEmpty ? outcome.revoked : outcome.revokeAttempted
        guard console || !credentials.isEmpty else { return nil }
        self.init(console: console, credentials: credentials)
    }

    /// Parses a `credentials` cell.
    public init(parsing text: String) throws(RestoreListError) {
        var console = false
        var credentials: [RevokedCredential] = []
        for (index, item) in text.split(separator: ";", omittingEmptySubsequences: false).enumerated() {
            let item = item.trimmingCharacters(in: .whitespaces)
            let entry = "entry \(index + 1)"
            if item == CredentialKind.console.rawValue {
                console = true
                continue
            }
            // Never quoted whole: a password typed one column off must not reach the report.
            guard let colon = item.firstIndex(of: ":") else {
                throw RestoreListError(item.isEmpty ? "\(entry) is empty" : "\(entry) is neither console nor kind:id")
            }
            let kindText = String(item[..<colon])
            let id = String(item[item.index(after: colon)...])
            guard let kind = CredentialKind(rawValue: kindText), kind != .console else {
                throw RestoreListError("\(entry): unknown kind \(CredentialKind.shown(kindText))")
            }
            guard !id.isEmpty, id.count <= Self.maxIdLength, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw RestoreListError(
                    "\(entry): the \(kind.rawValue) id must be 1-\(Self.maxIdLength) printable ASCII characters")
            }
            credentials.append(RevokedCredential(kind: kind, id: id))
        }
        self.init(console: console, credentials: credentials)
    }

    /// `console;keys:AKIA…`: what `init(parsing:)` reads.
    public var description: String {
        ((console ? [CredentialKind.console.rawValue] : []) + credentials.map { "\($0.kind.rawValue):\($0.id)" })
            .joined(separator: ";")
    }

    /// The kinds listed other than the console, in restoring order.
    var credentialKinds: [CredentialKind] { Set(credentials.map(\.kind)).sorted() }
}

/// A `credentials` cell that cannot be read.
public struct RestoreListError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String

    init(_ reason: String) { self.reason = reason }

    public var description: String {
        "credentials: \(reason); expected entries like console;keys:AKIA...;ssh:APKA... separated by ;"
    }
}

extension ConsoleAccessService {
    // MARK: Restore

    /// Undoes an offboarding: reactivates exactly the credentials `list` names (nothing else),
    /// and with `console` re-enables console access as `enable` does (temporary password, reset
    /// required, `IAMUserChangePassword`). A credential that no longer exists is reported, not
    /// fatal; one already active is left alone. MFA devices cannot be reactivated without codes
    /// from the device: the detail says the user must register them again. Running the same
    /// restore twice changes nothing the second time.
    public func restore(user: String, list: RestoreList, password: Password?) async -> Outcome {
        await counted { ledger in await restoreSteps(user: user, list: list, password: password, ledger) }
    }

    private func restoreSteps(user: String, list: RestoreList, password: Password?, _ ledger: CallLedger) async
        -> Outcome
    {
        var outcome = Outcome(user: user, action: .restore, status: .changed)
        if let refusal = Validation.refusal(user: user, action: .restore, password: nil) {
            return refused(outcome, refusal)
        }
        if let refusal = restoreRefusal(user: user, list: list, password: password) {
            return refused(outcome, refusal)
        }
        if let missing = await missingUser(user, &outcome) { return missing }
        var notes: [String] = []
        for kind in list.credentialKinds {
            let ids = list.credentials.filter { $0.kind == kind }.map(\.id)
            if kind == .mfa {
                notes.append(
                    "MFA devices \(ids.joined(separator: " ")): cannot be reactivated without codes from the device; the user must register them again"
                )
                continue
            }
            await reactivateKind(kind, ids: ids, user: user, &outcome, &notes)
        }
        if list.console, let password {
            await enableAgain(user: user, password: password, &outcome, &notes, ledger)
        }
        if let first = outcome.credentialFailures.first {
            return failedCredentials(outcome, first, notes: notes)
        }
        outcome.status = outcome.changes.isEmpty ? .unchanged : .changed
        outcome.detail = ([Self.describe(outcome.changes, revoked: outcome.reactivated)] + notes)
            .filter { !$0.isEmpty }.joined(separator: "; ")
        return outcome
    }

    /// Why a restore row that enables console access is refused before any call: no password
    /// (and none will be generated), or one that enable would refuse. Its dry run says the same.
    func restoreRefusal(user: String, list: RestoreList?, password: Password?, passwordWillBeGenerated: Bool = false)
        -> Refusal?
    {
        guard list?.console == true, !passwordWillBeGenerated else { return nil }
        guard let password, !password.isEmpty else { return .missingPassword(.restore) }
        return localProblem(user: user, action: .enable, password: password)
    }

    /// Sets each listed credential of `kind` active again, if it still exists and is inactive.
    private func reactivateKind(
        _ kind: CredentialKind, ids: [String], user: String, _ outcome: inout Outcome, _ notes: inout [String]
    ) async {
        do {
            let listed = try await credentials(kind, user: user)
            outcome.requestId = listed.requestId
            var reactivated = 0
            for id in ids {
                guard let found = listed.value.first(where: { $0.id == id }) else {
                    notes.append("\(kind.noun): \(id) no longer exists")
                    continue
                }
                if found.active { continue }
                let done = try await reactivate(kind, id: id, user: user)
                outcome.requestId = done.requestId
                outcome.reactivated.append(RevokedCredential(kind: kind, id: id))
                reactivated += 1
            }
            if reactivated > 0, let change = Change.reactivated(kind) { outcome.changes.append(change) }
        } catch {
            Self.noteFailure(of: kind, error, in: &outcome)
        }
    }

    /// Console access as `enable` gives it; a user who has it already keeps their password.
    private func enableAgain(
        user: String, password: Password, _ outcome: inout Outcome, _ notes: inout [String], _ ledger: CallLedger
    ) async {
        let enabled = await enableSteps(
            user: user, password: password, resetExisting: false, waitForUser: .none, ledger)
        outcome.changes += enabled.changes
        outcome.requestId = enabled.requestId ?? outcome.requestId
        switch enabled.status {
        case .changed:
            break
        case .unchanged:
            notes.append(enabled.detail)
        default:
            outcome.credentialFailures.append(
                CredentialFailure(kind: .console, code: enabled.errorCode ?? "", message: enabled.message ?? ""))
            if outcome.credentialFailures.count == 1 {
                outcome.message = enabled.message
                outcome.httpStatus = enabled.httpStatus
            }
        }
    }
}
