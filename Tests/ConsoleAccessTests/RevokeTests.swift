import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import ConsoleAccess

/// `disable` with `--revoke`: every kind of credential deactivated (never deleted), already
/// inactive ones left alone, a failing kind not stopping the others, the dry run; on the
/// in-memory IAM (the contract suite checks its answers against moto).
@Suite("Revoking every credential kind on the in-memory IAM")
struct RevokeTests {
    func service(_ iam: InMemoryIAM) -> ConsoleAccessService {
        ConsoleAccessService(
            iam: iam, caller: nil, passwordPolicy: nil, partition: .aws,
            executor: CallExecutor(policy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1))))
    }

    struct Leaver {
        var key: String
        var oldKey: String
        var ssh: String
        var cert: String
        var service: String
        var mfa: String
    }

    /// A user with a login profile and one of each credential (and one key already inactive).
    func leaver(_ iam: InMemoryIAM, _ name: String = "leaver") async -> Leaver {
        await iam.addUser(name)
        await iam.addLoginProfile(name)
        return Leaver(
            key: await iam.addAccessKey(name), oldKey: await iam.addAccessKey(name, status: .inactive),
            ssh: await iam.addSSHPublicKey(name), cert: await iam.addSigningCertificate(name),
            service: await iam.addServiceSpecificCredential(name), mfa: await iam.addMFADevice(name))
    }

    @Test("--revoke all: the profile deleted, every active credential deactivated by id, nothing deleted")
    func revokeAll() async throws {
        let iam = InMemoryIAM()
        let ids = await leaver(iam)
        let outcome = await service(iam).disable(user: "leaver", revoke: .all)
        #expect(outcome.status == .changed, "\(outcome.detail)")
        #expect(
            outcome.changes == [
                .profileDeleted, .accessKeysDeactivated, .sshKeysDeactivated, .certificatesDeactivated,
                .serviceCredentialsDeactivated, .mfaDeactivated,
            ])
        #expect(
            outcome.revoked == [
                RevokedCredential(kind: .keys, id: ids.key), RevokedCredential(kind: .ssh, id: ids.ssh),
                RevokedCredential(kind: .certs, id: ids.cert),
                RevokedCredential(kind: .serviceCredentials, id: ids.service),
                RevokedCredential(kind: .mfa, id: ids.mfa),
            ])
        #expect(!outcome.revoked.contains { $0.id == ids.oldKey }, "an inactive key is not counted")
        for id in [ids.key, ids.ssh, ids.cert, ids.service, ids.mfa] {
            #expect(outcome.detail.contains(id), "the detail names \(id)")
        }
        #expect(await iam.loginProfile("leaver") == nil)
        #expect(await iam.accessKeyStatuses("leaver") == [.inactive, .inactive])
        #expect(await iam.sshKeyStatuses("leaver") == [.inactive])
        #expect(await iam.certificateStatuses("leaver") == [.inactive])
        #expect(await iam.serviceCredentialStatuses("leaver") == [.inactive])
        #expect(await iam.mfaSerials("leaver").isEmpty, "the device is unbound")
        #expect(await iam.count("UpdateAccessKey") == 1, "the inactive key is left alone")
    }

    @Test("a second --revoke all changes nothing and says so per kind")
    func revokeAllTwice() async throws {
        let iam = InMemoryIAM()
        _ = await leaver(iam)
        let service = service(iam)
        _ = await service.disable(user: "leaver", revoke: .all)
        let callsBefore = await iam.calls.count
        let again = await service.disable(user: "leaver", revoke: .all)
        #expect(again.status == .unchanged)
        #expect(again.revoked.isEmpty)
        for noun in ["access keys", "SSH public keys", "signing certificates", "service-specific credentials"] {
            #expect(again.detail.contains("no active \(noun)"), "\(again.detail)")
        }
        let writes = await iam.calls.dropFirst(callsBefore).map(\.action).filter {
            $0.hasPrefix("Update") || $0.hasPrefix("Deactivate")
        }
        #expect(writes.isEmpty)
    }

    @Test("a kind that fails does not stop the others: the row is failed and says what was done and what failed")
    func failingKind() async throws {
        let iam = InMemoryIAM()
        let ids = await leaver(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403, message: "no ssh for you"), on: "ListSSHPublicKeys")
        let outcome = await service(iam).disable(user: "leaver", revoke: .all)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "AccessDenied")
        #expect(outcome.credentialFailures.map(\.kind) == [.ssh])
        #expect(outcome.detail.contains("failed: SSH public keys (AccessDenied: no ssh for you)"), "\(outcome.detail)")
        #expect(outcome.detail.hasPrefix("done: login profile deleted, access keys deactivated: \(ids.key)"))
        #expect(await iam.sshKeyStatuses("leaver") == [.active], "the failed kind is untouched")
        #expect(await iam.certificateStatuses("leaver") == [.inactive], "kinds after the failure still ran")
        #expect(await iam.serviceCredentialStatuses("leaver") == [.inactive])
        #expect(await iam.mfaSerials("leaver").isEmpty)
    }

    @Test("a console that cannot be deleted does not stop the other kinds; the row is failed and says so")
    func consoleFails() async throws {
        let iam = InMemoryIAM()
        let ids = await leaver(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403, message: "no delete"), on: "DeleteLoginProfile")
        let outcome = await service(iam).disable(user: "leaver", revoke: .all)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "AccessDenied")
        #expect(outcome.detail.contains("failed: login profile (AccessDenied: no delete)"), "\(outcome.detail)")
        #expect(outcome.detail.hasPrefix("done: access keys deactivated: \(ids.key)"), "\(outcome.detail)")
        #expect(await iam.loginProfile("leaver") != nil)
        #expect(await iam.accessKeyStatuses("leaver") == [.inactive, .inactive])
        #expect(await iam.sshKeyStatuses("leaver") == [.inactive])
        #expect(await iam.mfaSerials("leaver").isEmpty)
        let undo = try #require(RestoreList(undoing: outcome))
        #expect(!undo.console, "the profile was never deleted")
        #expect(undo.credentials.map(\.id) == [ids.key, ids.ssh, ids.cert, ids.service, ids.mfa])
    }

    @Test("the way back lists what may have been applied: a lost delete answer, a lost update whose retries failed")
    func undoAfterLostAnswers() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("lost")
        await iam.addLoginProfile("lost")
        let key = await iam.addAccessKey("lost")
        await iam.inject(.answerLost, on: "DeleteLoginProfile")
        await iam.inject(.answerLost, on: "UpdateAccessKey", times: 3)
        let outcome = await service(iam).disable(user: "lost", revoke: .consoleAndKeys)
        #expect(outcome.status == .failed, "the key's update never got an answer: \(outcome.detail)")
        #expect(outcome.revoked.isEmpty)
        #expect(await iam.accessKeyStatuses("lost") == [.inactive], "IAM applied it all the same")
        let undo = try #require(RestoreList(undoing: outcome))
        #expect(undo.console, "the profile is gone, most likely by this run")
        #expect(undo.credentials == [RevokedCredential(kind: .keys, id: key)])
    }

    @Test("revoking only credentials leaves the login profile; a missing user is not-found")
    func withoutConsole() async throws {
        let iam = InMemoryIAM()
        _ = await leaver(iam)
        let service = service(iam)
        let outcome = await service.disable(user: "leaver", revoke: RevokeKinds([.keys, .ssh]))
        #expect(outcome.status == .changed)
        #expect(outcome.changes == [.accessKeysDeactivated, .sshKeysDeactivated])
        #expect(await iam.loginProfile("leaver") != nil)
        #expect(await iam.certificateStatuses("leaver") == [.active])
        let missing = await service.disable(user: "nobody", revoke: RevokeKinds([.keys]))
        #expect(missing.status == .notFound)
    }

    @Test("a lost DeactivateMFADevice answer: the retry finds the device unbound, and the row counts it")
    func lostMFAAnswer() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("mfa-user")
        let serial = await iam.addMFADevice("mfa-user")
        await iam.inject(.answerLost, on: "DeactivateMFADevice")
        let outcome = await service(iam).disable(user: "mfa-user", revoke: RevokeKinds([.mfa]))
        #expect(outcome.status == .changed, "\(outcome.detail)")
        #expect(outcome.revoked == [RevokedCredential(kind: .mfa, id: serial)])
        #expect(await iam.count("DeactivateMFADevice") == 2)
        #expect(await iam.mfaSerials("mfa-user").isEmpty)
    }

    @Test("dry run: lists every credential that would be revoked, by id, and changes nothing")
    func plan() async throws {
        let iam = InMemoryIAM()
        let ids = await leaver(iam)
        let outcome = await service(iam).plan(user: "leaver", action: .disable, password: nil, revoke: .all)
        #expect(outcome.status == .planned)
        #expect(outcome.revoked.map(\.id) == [ids.key, ids.ssh, ids.cert, ids.service, ids.mfa])
        #expect(outcome.detail.hasPrefix("would: login profile deleted, access keys deactivated: \(ids.key)"))
        let writes = await iam.calls.map(\.action).filter {
            $0.hasPrefix("Update") || $0.hasPrefix("Deactivate") || $0.hasPrefix("Delete")
        }
        #expect(writes.isEmpty)
        #expect(await iam.sshKeyStatuses("leaver") == [.active])
    }

    @Test(
        "--revoke values: all, a list in any order and spacing; empty, unknown and `all` with others refused",
        arguments: [
            ("all", "all"), ("console", "console"), ("keys,console", "console,keys"),
            (" ssh , certs ", "ssh,certs"), ("mfa,service-credentials,keys", "keys,service-credentials,mfa"),
            ("console,console", "console"),
        ])
    func parsing(text: String, spelled: String) throws {
        #expect(try RevokeKinds(parsing: text).description == spelled)
    }

    @Test("bad --revoke values name the problem and the kinds", arguments: ["", "bogus", "all,keys", "console,,keys"])
    func badValues(text: String) {
        do {
            let kinds = try RevokeKinds(parsing: text)
            Issue.record("accepted `\(text)` as \(kinds)")
        } catch {
            #expect(error.description.contains("console, keys, ssh, certs, service-credentials, mfa"), "\(error)")
            #expect(error.description.hasPrefix("--revoke \(text): "))
        }
    }
}
