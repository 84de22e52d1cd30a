import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

/// Offboarding that really revokes, onboarding that delivers a password, and the guards.
@Suite(
    "Offboarding, generated passwords and guards against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct OffboardingTests {
    func run(
        _ csv: String, in dir: TemporaryDirectory, endpoint: String = Moto.endpoint!, deactivateKeys: Bool = false,
        generate: String? = nil, dryRun: Bool = false, report: String = "report.csv"
    ) async throws -> (BatchResult, [ReportRow]) {
        let input = try dir.write("input-\(report).csv", csv)
        let config = BatchConfiguration(
            input: .path(input), reportPath: dir.path + "/" + report,
            options: RunOptions(concurrency: 4, dryRun: dryRun, revoke: deactivateKeys ? .consoleAndKeys : .console),
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(2)), generatePasswordsPath: generate,
            aws: Moto.configuration(endpoint: endpoint))
        let result = await BatchRun.execute(config)
        let rows = (try? ReportReader.readAll(.path(config.reportPath)).rows) ?? []
        return (result, rows)
    }

    @Test("--deactivate-access-keys: active keys set Inactive and named; a rerun is unchanged")
    func deactivateKeys() async throws {
        let dir = try TemporaryDirectory()
        try await Moto.withSession { session, admin, _ in
            let user = Moto.uniqueName("leaver")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Initial-Passw0rd!")
            let first = try await admin.createAccessKey(user)
            let second = try await admin.createAccessKey(user)
            _ = try await session.iam.updateAccessKey(
                userName: user, accessKeyId: second.accessKeyId, status: .inactive)

            let (result, rows) = try await run("user,action\n\(user),disable\n", in: dir, deactivateKeys: true)
            #expect(result.exitStatus == .success, "\(result.errors)")
            let row = try #require(rows.first)
            #expect(row.status == .changed)
            #expect(row.detail == "login profile deleted, access keys deactivated: \(first.accessKeyId)")
            let keys = try await session.iam.listAccessKeys(userName: user).value
            #expect(keys.allSatisfy { $0.status == .inactive })
            #expect(keys.count == 2, "keys are deactivated, never deleted")

            let (again, rerun) = try await run(
                "user,action\n\(user),disable\n", in: dir, deactivateKeys: true, report: "again.csv")
            #expect(again.exitStatus == .success)
            #expect(rerun.first?.status == .unchanged)
            #expect(rerun.first?.detail == "no login profile (console access already disabled); no active access keys")
        }
    }

    @Test("a key that fails to deactivate: failed, saying what was done")
    func partialOffboarding() async throws {
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!) { request, _ in
            request.formParameters["Action"] == "UpdateAccessKey"
                ? .error(code: "AccessDenied", status: 403, message: "not allowed") : nil
        }
        defer { Task { await proxy.stop() } }
        try await Moto.withSession { _, admin, _ in
            let user = Moto.uniqueName("half")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Initial-Passw0rd!")
            _ = try await admin.createAccessKey(user)
            let (result, rows) = try await run(
                "user,action\n\(user),disable\n", in: dir, endpoint: proxy.url, deactivateKeys: true)
            #expect(result.exitStatus == .credentials)
            #expect(rows.first?.status == .failed)
            #expect(
                rows.first?.detail
                    == "done: login profile deleted; failed: access keys (AccessDenied: not allowed)")
            #expect(rows.first?.errorCode == "AccessDenied")
        }
    }

    @Test(
        "--generate-passwords: policy-compliant passwords, file 0600 with exactly the generated rows, none in the report"
    )
    func generatedPasswords() async throws {
        let moto = try #require(try await PrivateMoto.start(), "CONSOLE_ACCESS_MOTO_SERVER is not set")
        defer { moto.stop() }
        let dir = try TemporaryDirectory()
        try await Moto.withSession(endpoint: moto.endpoint) { session, admin, _ in
            try await admin.updateAccountPasswordPolicy([
                "MinimumPasswordLength": "24", "RequireSymbols": "true", "RequireNumbers": "true",
                "RequireUppercaseCharacters": "true", "RequireLowercaseCharacters": "true",
            ])
            let users = (0..<4).map { "gen-\($0)" }
            for user in users { try await admin.createUser(user) }
            let csv =
                "user,action,password\n\(users[0]),enable,\n\(users[1]),enable,Given-Passw0rd-Long-Enough!\n\(users[2]),enable,\n\(users[3]),disable,\n"
            let file = dir.path + "/passwords.csv"

            // A dry run generates and writes nothing.
            let (planned, _) = try await run(
                csv, in: dir, endpoint: moto.endpoint, generate: file, dryRun: true, report: "dry.csv")
            #expect(planned.summary?.count(.planned) == 4, "\(planned.errors)")
            #expect(!FileManager.default.fileExists(atPath: file))

            let (result, rows) = try await run(csv, in: dir, endpoint: moto.endpoint, generate: file)
            #expect(result.exitStatus == .success, "\(result.errors)")
            var info = stat()
            #expect(stat(file, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            let written = try CSVReader(.path(file)).readAll().map(\.fields)
            #expect(written.first == ["user", "password", "line"])
            // Rows are written as IAM accepts them (concurrently), so in completion order.
            let generated = written.dropFirst().sorted { Int($0[2]) ?? 0 < Int($1[2]) ?? 0 }
            #expect(generated.map { $0[0] } == [users[0], users[2]])
            #expect(generated.map { $0[2] } == ["2", "4"])
            let policy = try #require(try await session.iam.getAccountPasswordPolicy().value)
            for row in generated {
                #expect(policy.violations(of: Password(row[1])).isEmpty)
                #expect(row[1].count >= 24)
            }
            let report = try String(contentsOfFile: dir.path + "/report.csv", encoding: .utf8)
            for row in generated { #expect(!report.contains(row[1])) }
            #expect(rows.filter { $0.detail.contains("password generated") }.count == 2)

            // Without the option, an enable row with no password is invalid; an existing file is refused.
            let (refused, _) = try await run(csv, in: dir, endpoint: moto.endpoint, generate: file, report: "again.csv")
            #expect(refused.exitStatus == .usage)
            #expect(refused.errors.first?.contains("already exists") == true)
            let (plain, plainRows) = try await run(csv, in: dir, endpoint: moto.endpoint, report: "plain.csv")
            #expect(plain.exitStatus == .failure)
            #expect(plainRows.filter { $0.status == .invalid }.count == 2)
        }
    }

    @Test("the identity running the tool is never disabled")
    func selfDisable() async throws {
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        // moto's default caller is arn:aws:sts::123456789012:user/moto.
        let (result, rows) = try await run("user,action\nmoto,disable\n", in: dir, endpoint: proxy.url)
        #expect(result.exitStatus == .failure)
        #expect(rows.first?.status == .invalid)
        #expect(rows.first?.errorCode == "self-disable")
        #expect(rows.first?.message.contains("refusing to disable") == true)
        #expect(!proxy.actions.contains("DeleteLoginProfile"))
    }
}

@Suite("Password generator")
struct PasswordGeneratorTests {
    @Test("every sample meets a strict policy and IAM's character rules")
    func samples() {
        let policy = PasswordPolicy(
            minimumPasswordLength: 32, requireSymbols: true, requireNumbers: true, requireUppercaseCharacters: true,
            requireLowercaseCharacters: true)
        let generator = PasswordGenerator(policy: policy)
        var seen = Set<String>()
        for _ in 0..<2000 {
            let password = generator.generate()
            #expect(policy.violations(of: password).isEmpty)
            #expect(password.problem == nil)
            #expect(password.revealed.count == 32)
            seen.insert(password.revealed)
        }
        #expect(seen.count == 2000, "no repeats")
        #expect(PasswordGenerator(policy: nil).length == 20)
        #expect(PasswordGenerator(policy: PasswordPolicy(minimumPasswordLength: 200)).length == 128)
    }
}
