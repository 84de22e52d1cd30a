import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

/// `batch --revoke all --emit-restore FILE`, then `batch FILE --generate-passwords`: the whole
/// offboard-and-restore cycle through the engine, on the in-memory IAM (every credential kind,
/// service-specific credentials included, which moto lacks).
@Suite("Offboard with --revoke and restore with the emitted file (in-memory IAM)")
struct OffboardAndRestoreTests {
    struct Statuses: Equatable {
        var keys: [AccessKeyStatus]
        var ssh: [AccessKeyStatus]
        var certs: [AccessKeyStatus]
        var services: [AccessKeyStatus]
        var console: Bool
    }

    func statuses(_ iam: InMemoryIAM, _ user: String) async -> Statuses {
        Statuses(
            keys: await iam.accessKeyStatuses(user), ssh: await iam.sshKeyStatuses(user),
            certs: await iam.certificateStatuses(user), services: await iam.serviceCredentialStatuses(user),
            console: await iam.loginProfile(user) != nil)
    }

    func configuration(
        _ csv: String, in dir: TemporaryDirectory, iam: InMemoryIAM, name: String, revoke: RevokeKinds = .console,
        emitRestore: String? = nil, generatePasswords: String? = nil
    ) throws -> BatchConfiguration {
        let input = try dir.write(name + ".csv", csv)
        var configuration = BatchConfiguration(
            input: .path(input), reportPath: dir.path + "/" + name + "-report.csv",
            options: RunOptions(concurrency: 4, revoke: revoke),
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1)), generatePasswordsPath: generatePasswords,
            emitRestorePath: emitRestore,
            aws: AWSConfiguration(
                region: "us-east-1", credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")))
        configuration.connector = InMemoryConnector(iam: iam)
        return configuration
    }

    func seed(_ iam: InMemoryIAM, _ user: String) async {
        await iam.addUser(user)
        await iam.addLoginProfile(user)
        await iam.addAccessKey(user)
        await iam.addAccessKey(user, status: .inactive)
        await iam.addSSHPublicKey(user)
        await iam.addSigningCertificate(user, status: .inactive)
        await iam.addSigningCertificate(user)
        await iam.addServiceSpecificCredential(user)
        await iam.addMFADevice(user)
    }

    @Test("every credential's status after the restore equals its status before the offboarding")
    func cycle() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await seed(iam, "leaver-a")
        await seed(iam, "leaver-b")
        await iam.addUser("untouched")
        let before = [await statuses(iam, "leaver-a"), await statuses(iam, "leaver-b")]
        let restorePath = dir.path + "/restore.csv"

        let offboard = try configuration(
            "user,action\nleaver-a,disable\nleaver-b,offboard\nuntouched,disable\n", in: dir, iam: iam,
            name: "offboard", revoke: .all, emitRestore: restorePath)
        let offboarded = await BatchRun.execute(offboard)
        #expect(offboarded.exitStatus == .success, "\(offboarded.errors)")
        #expect(await iam.sshKeyStatuses("leaver-a") == [.inactive])
        #expect(await iam.mfaSerials("leaver-b").isEmpty)

        var info = stat()
        #expect(stat(restorePath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let rows = try CSVReader(.path(restorePath)).readAll().map(\.fields)
        #expect(rows.first == ["user", "action", "password", "credentials"])
        // In completion order (rows run concurrently), as flushed.
        #expect(rows.dropFirst().map { $0[0] }.sorted() == ["leaver-a", "leaver-b"], "nothing to undo for `untouched`")
        #expect(rows.dropFirst().allSatisfy { $0[1] == "restore" && $0[3].hasPrefix("console;keys:") })

        let passwords = dir.path + "/passwords.csv"
        let restore = try configuration(
            String(contentsOfFile: restorePath, encoding: .utf8), in: dir, iam: iam, name: "restore",
            generatePasswords: passwords)
        let restored = await BatchRun.execute(restore)
        #expect(restored.exitStatus == .success, "\(restored.errors)")
        #expect([await statuses(iam, "leaver-a"), await statuses(iam, "leaver-b")] == before)
        let report = try ReportReader.readAll(.path(restore.reportPath)).rows
        #expect(report.map(\.status) == [.changed, .changed])
        #expect(report.allSatisfy { $0.detail.contains("must register them again") })
        let generated = try CSVReader(.path(passwords)).readAll().dropFirst().map { $0.fields[0] }
        #expect(generated.sorted() == ["leaver-a", "leaver-b"])

        // A second run of the same restore file changes nothing.
        let again = try configuration(
            String(contentsOfFile: restorePath, encoding: .utf8), in: dir, iam: iam, name: "again",
            generatePasswords: dir.path + "/passwords-again.csv")
        let second = await BatchRun.execute(again)
        #expect(second.exitStatus == .success, "\(second.errors)")
        #expect(try ReportReader.readAll(.path(again.reportPath)).rows.map(\.status) == [.unchanged, .unchanged])
    }

    @Test("an existing restore file is refused before anything runs")
    func existingRestoreFile() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await seed(iam, "keep")
        let path = try dir.write("restore.csv", "user,action,password,credentials\n")
        let config = try configuration(
            "user,action\nkeep,disable\n", in: dir, iam: iam, name: "offboard", revoke: .all, emitRestore: path)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("--emit-restore: \(path) already exists") == true, "\(result.errors)")
        #expect(await iam.loginProfile("keep") != nil)
        #expect(await iam.calls.isEmpty)
    }

    @Test("restore rows are checked like every row: a missing or bad credentials cell is invalid, line-numbered")
    func badRestoreRows() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await iam.addUser("r")
        let csv = "user,action,credentials\nr,restore,\nr,restore,keys\nr,restore,bogus:1\n"
        let result = await BatchRun.execute(try configuration(csv, in: dir, iam: iam, name: "bad"))
        #expect(result.exitStatus == .failure)
        let rows = try ReportReader.readAll(.path(dir.path + "/bad-report.csv")).rows
        #expect(rows.map(\.line) == [2, 3, 4])
        #expect(rows.allSatisfy { $0.status == .invalid && $0.errorCode == "invalid-credentials" })
        #expect(rows[2].message.contains("unknown kind `bogus`"), "\(rows[2].message)")
    }

    @Test("a revoke column: each disable row's own kinds; an empty cell takes --revoke; a bad one is invalid")
    func perRowRevoke() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        for user in ["keys-only", "default", "bad"] {
            await iam.addUser(user)
            await iam.addLoginProfile(user)
            await iam.addAccessKey(user)
            await iam.addSSHPublicKey(user)
        }
        let csv = "user,action,revoke\nkeys-only,disable,keys\ndefault,disable,\nbad,disable,\"keys,passwords\"\n"
        let config = try configuration(csv, in: dir, iam: iam, name: "rows", revoke: RevokeKinds([.console, .ssh]))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure, "the invalid row")
        #expect(await iam.loginProfile("keys-only") != nil, "only its keys were asked for")
        #expect(await iam.accessKeyStatuses("keys-only") == [.inactive])
        #expect(await iam.sshKeyStatuses("keys-only") == [.active])
        #expect(await iam.loginProfile("default") == nil, "the run's --revoke: console and SSH keys")
        #expect(await iam.sshKeyStatuses("default") == [.inactive])
        #expect(await iam.accessKeyStatuses("default") == [.active])
        let rows = try ReportReader.readAll(.path(config.reportPath)).rows
        let bad = try #require(rows.first { $0.user == "bad" })
        #expect(bad.status == .invalid)
        #expect(bad.errorCode == "invalid-revoke")
        #expect(bad.message.contains("unknown kind `passwords`"), "\(bad.message)")
        #expect(await iam.loginProfile("bad") != nil)
    }

    @Test("--dry-run --revoke all: every credential that would be revoked, by id, in the report; nothing changed")
    func dryRun() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await iam.addUser("planned")
        await iam.addLoginProfile("planned")
        let key = await iam.addAccessKey("planned")
        let ssh = await iam.addSSHPublicKey("planned")
        let mfa = await iam.addMFADevice("planned")
        let input = try dir.write("plan.csv", "user,action\nplanned,disable\n")
        var config = try configuration(
            String(contentsOfFile: input, encoding: .utf8), in: dir, iam: iam, name: "plan", revoke: .all)
        config.options.dryRun = true
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let row = try #require(try ReportReader.readAll(.path(config.reportPath)).rows.first)
        #expect(row.status == .planned)
        for id in [key, ssh, mfa] { #expect(row.detail.contains(id), "\(row.detail)") }
        #expect(await iam.loginProfile("planned") != nil)
        #expect(await iam.accessKeyStatuses("planned") == [.active])
        #expect(await iam.mfaSerials("planned") == [mfa])
    }

    @Test("a run that changes nothing keeps no restore file, so the same command runs again")
    func nothingToUndo() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        for index in 0..<3 { await iam.addUser("many-\(index)") }
        for index in 0..<3 { await iam.addLoginProfile("many-\(index)") }
        let path = dir.path + "/undo.csv"
        let csv = "user,action\nmany-0,disable\nmany-1,disable\nmany-2,disable\n"
        var refused = try configuration(csv, in: dir, iam: iam, name: "refused", emitRestore: path)
        refused.maxDisable = 2
        let first = await BatchRun.execute(refused)
        #expect(first.exitStatus == .usage, "blast radius")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(first.notes.contains { $0.contains("nothing to undo") })

        let again = try configuration(csv, in: dir, iam: iam, name: "again", emitRestore: path)
        let second = await BatchRun.execute(again)
        #expect(second.exitStatus == .success, "\(second.errors)")
        let rows = try CSVReader(.path(path)).readAll().dropFirst().map { $0.fields[0] }
        #expect(rows.sorted() == ["many-0", "many-1", "many-2"])
    }

    @Test("a password typed into the credentials or revoke cell is never quoted back")
    func misplacedPasswords() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await iam.addUser("r")
        let secrets = ["Hunter2!x9-Long", "keys:Hunter3!x9", "P@ss w0rd,Inner!"]
        let csv =
            "user,action,credentials,revoke\nr,restore,\(secrets[0]),\nr,restore,console;\(secrets[1]) x,\n"
            + "r,disable,,\"\(secrets[2])\"\n"
        let result = await BatchRun.execute(try configuration(csv, in: dir, iam: iam, name: "leak"))
        #expect(result.exitStatus == .failure)
        let report = try String(contentsOfFile: dir.path + "/leak-report.csv", encoding: .utf8)
        #expect(report.contains("invalid-credentials") && report.contains("invalid-revoke"), "\(report)")
        for secret in secrets + ["Hunter2", "Hunter3", "P@ss", "Inner!"] {
            #expect(!report.contains(secret), "\(secret) in \(report)")
            #expect(!result.errors.joined().contains(secret))
        }
    }

    @Test("a row's revoke cell adds to an explicit --revoke, never narrows it")
    func explicitRevokeWins() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await iam.addUser("wide")
        await iam.addLoginProfile("wide")
        await iam.addAccessKey("wide")
        await iam.addSSHPublicKey("wide")
        var config = try configuration("user,action,revoke\nwide,disable,keys\n", in: dir, iam: iam, name: "wide")
        config.options.revoke = RevokeKinds([.console, .ssh])
        config.options.revokeGiven = true
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(await iam.loginProfile("wide") == nil)
        #expect(await iam.accessKeyStatuses("wide") == [.inactive])
        #expect(await iam.sshKeyStatuses("wide") == [.inactive])
    }
}
