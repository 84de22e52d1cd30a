import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import ConsoleAccess

/// `restore`: undoing an offboarding exactly (what it deactivated, nothing that was inactive
/// before), console access again as `enable` gives it, MFA reported for re-registration, a
/// vanished credential reported and not fatal, a second run changing nothing.
@Suite("Restoring an offboarding on the in-memory IAM")
struct RestoreTests {
    static let password = Password("Restore-Passw0rd!x")

    func service(_ iam: InMemoryIAM) -> ConsoleAccessService {
        ConsoleAccessService(
            iam: iam, caller: nil, passwordPolicy: nil, partition: .aws,
            executor: CallExecutor(policy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1))))
    }

    struct Statuses: Equatable {
        var keys: [AccessKeyStatus]
        var ssh: [AccessKeyStatus]
        var certs: [AccessKeyStatus]
        var services: [AccessKeyStatus]
    }

    func statuses(_ iam: InMemoryIAM, _ user: String) async -> Statuses {
        Statuses(
            keys: await iam.accessKeyStatuses(user), ssh: await iam.sshKeyStatuses(user),
            certs: await iam.certificateStatuses(user), services: await iam.serviceCredentialStatuses(user))
    }

    /// One of each credential, some already inactive before the offboarding.
    func leaver(_ iam: InMemoryIAM) async {
        await iam.addUser("leaver")
        await iam.addLoginProfile("leaver")
        await iam.addAccessKey("leaver")
        await iam.addAccessKey("leaver", status: .inactive)
        await iam.addSSHPublicKey("leaver")
        await iam.addSSHPublicKey("leaver", status: .inactive)
        await iam.addSigningCertificate("leaver")
        await iam.addServiceSpecificCredential("leaver")
        await iam.addMFADevice("leaver")
    }

    @Test("offboard with every kind, restore from its undo: every credential's status as before")
    func roundTrip() async throws {
        let iam = InMemoryIAM()
        await leaver(iam)
        let before = await statuses(iam, "leaver")
        let service = service(iam)
        let offboarded = await service.disable(user: "leaver", revoke: .all)
        #expect(offboarded.status == .changed)
        let list = try #require(RestoreList(undoing: offboarded))
        #expect(list.console)
        #expect(list.credentials == offboarded.revoked)

        let restored = await service.restore(user: "leaver", list: list, password: Self.password)
        #expect(restored.status == .changed, "\(restored.detail)")
        #expect(await statuses(iam, "leaver") == before, "nothing inactive before is reactivated")
        let profile = try #require(await iam.loginProfile("leaver"))
        #expect(profile.passwordResetRequired)
        #expect(await iam.attachedPolicies("leaver") == ["arn:aws:iam::aws:policy/IAMUserChangePassword"])
        #expect(
            restored.changes == [
                .accessKeysReactivated, .sshKeysReactivated, .certificatesReactivated,
                .serviceCredentialsReactivated, .profileCreated, .policyAttached,
            ])
        #expect(restored.detail.contains("must register them again"), "MFA: \(restored.detail)")
        #expect(!restored.detail.contains(Self.password.revealed))

        let again = await service.restore(user: "leaver", list: list, password: Self.password)
        #expect(again.status == .unchanged, "\(again.detail)")
        #expect(again.reactivated.isEmpty)
    }

    @Test("a credential deleted since the offboarding is reported, not fatal; the rest is restored")
    func vanishedCredential() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("gone")
        let key = await iam.addAccessKey("gone", status: .inactive)
        let list = RestoreList(
            console: false,
            credentials: [
                RevokedCredential(kind: .keys, id: "AKIAIOSFODNN7EXAMPLE"), RevokedCredential(kind: .keys, id: key),
            ])
        let outcome = await service(iam).restore(user: "gone", list: list, password: nil)
        #expect(outcome.status == .changed)
        #expect(outcome.detail.contains("access keys: AKIAIOSFODNN7EXAMPLE no longer exists"), "\(outcome.detail)")
        #expect(await iam.accessKeyStatuses("gone") == [.active])
    }

    @Test("console without a password is refused before any call; a missing user is not-found")
    func refusals() async throws {
        let iam = InMemoryIAM()
        let list = RestoreList(console: true, credentials: [])
        let noPassword = await service(iam).restore(user: "someone", list: list, password: nil)
        #expect(noPassword.status == .invalid)
        #expect(noPassword.detail.contains("restore needs a password"))
        #expect(await iam.calls.isEmpty)
        let missing = await service(iam).restore(user: "someone", list: list, password: Self.password)
        #expect(missing.status == .notFound)
    }

    @Test("a failing kind: the row is failed and names it; the other kinds are restored")
    func failingKind() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("half")
        let key = await iam.addAccessKey("half", status: .inactive)
        let cert = await iam.addSigningCertificate("half", status: .inactive)
        await iam.inject(.error(.accessDenied, httpStatus: 403, message: "denied"), on: "ListAccessKeys")
        let list = RestoreList(
            console: false,
            credentials: [RevokedCredential(kind: .keys, id: key), RevokedCredential(kind: .certs, id: cert)])
        let outcome = await service(iam).restore(user: "half", list: list, password: nil)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "AccessDenied")
        #expect(outcome.detail.contains("failed: access keys (AccessDenied: denied)"), "\(outcome.detail)")
        #expect(await iam.certificateStatuses("half") == [.active])
    }

    @Test("the credentials cell: written and read back the same; bad cells named")
    func listFormat() throws {
        let list = RestoreList(
            console: true,
            credentials: [
                RevokedCredential(kind: .keys, id: "AKIAEXAMPLE"),
                RevokedCredential(kind: .mfa, id: "arn:aws:iam::123456789012:mfa/leaver"),
            ])
        #expect(list.description == "console;keys:AKIAEXAMPLE;mfa:arn:aws:iam::123456789012:mfa/leaver")
        #expect(try RestoreList(parsing: list.description) == list)
        #expect(
            try RestoreList(parsing: " keys:A ; console ")
                == RestoreList(
                    console: true,
                    credentials: [
                        RevokedCredential(kind: .keys, id: "A")
                    ]))
        for bad in [
            "", "keys", "keys:", "bogus:1", "console:1", "keys:a b", "keys:" + String(repeating: "x", count: 513),
        ] {
            #expect(throws: RestoreListError.self, "\(bad)") { try RestoreList(parsing: bad) }
        }
    }

    @Test("dry run of a restore with console and no password: invalid, as the real run would say")
    func planWithoutPassword() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("p")
        let list = RestoreList(console: true, credentials: [])
        let planned = await service(iam).plan(user: "p", action: .restore, password: nil, restore: list)
        let real = await service(iam).restore(user: "p", list: list, password: nil)
        #expect(planned.status == .invalid)
        #expect(planned.detail == real.detail)
        let generated = await service(iam).plan(
            user: "p", action: .restore, password: nil, restore: list, passwordWillBeGenerated: true)
        #expect(generated.status == .planned)
    }

    @Test("dry run of a restore: what would be reactivated and re-enabled, nothing changed")
    func plan() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("p")
        let key = await iam.addAccessKey("p", status: .inactive)
        let list = RestoreList(console: true, credentials: [RevokedCredential(kind: .keys, id: key)])
        let outcome = await service(iam).plan(
            user: "p", action: .restore, password: Self.password, restore: list)
        #expect(outcome.status == .planned)
        #expect(outcome.changes == [.accessKeysReactivated, .profileCreated, .policyAttached])
        #expect(await iam.accessKeyStatuses("p") == [.inactive])
        #expect(await iam.loginProfile("p") == nil)
    }
}

/// The `credentials` and `revoke` cells come from files written by other people: any text is
/// either refused with a typed error or read into a value that writes back to itself.
@Suite("Restore and revoke cells: any text, no crash, a round trip")
struct CellParsingPropertyTests {
    static let pieces = [
        "console", "keys", "ssh", "certs", "service-credentials", "mfa", "all", ":", ";", ",", " ", "\t", "AKIA1",
        "arn:aws:iam::123456789012:mfa/x", "ß", "\"", "", "x",
    ]

    func randomText(_ rng: inout SplitMix64) -> String {
        (0..<Int.random(in: 0..<8, using: &rng)).map { _ in
            Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &rng)]
        }
        .joined()
    }

    @Test("RestoreList(parsing:) on 20,000 random cells")
    func restoreList() {
        var rng = SplitMix64(seed: 20)
        var parsed = 0
        for _ in 0..<20_000 {
            let text = randomText(&rng)
            guard let list = try? RestoreList(parsing: text) else { continue }
            parsed += 1
            #expect((try? RestoreList(parsing: list.description)) == list, "\(text) -> \(list)")
        }
        #expect(parsed > 100, "the generator reaches valid cells too")
    }

    @Test("RevokeKinds(parsing:) on 20,000 random cells")
    func revokeKinds() {
        var rng = SplitMix64(seed: 21)
        var parsed = 0
        for _ in 0..<20_000 {
            let text = randomText(&rng)
            guard let kinds = try? RevokeKinds(parsing: text) else { continue }
            parsed += 1
            #expect((try? RevokeKinds(parsing: kinds.description)) == kinds, "\(text) -> \(kinds)")
        }
        #expect(parsed > 100)
    }
}
