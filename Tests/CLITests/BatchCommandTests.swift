import Foundation
import TestSupport
import Testing

/// `console-access batch` as a user runs it: signals, a kill and a resume, and secrets.
@Suite(
    "batch command",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct BatchCommandTests {
    static var environment: [String: String] { ModifyCommandTests.environment }

    /// Creates `count` users (half with a console password) and a file that enables the first
    /// half and disables the rest.
    func makeBatch(_ count: Int, in dir: TemporaryDirectory) async throws -> (
        input: String, users: [String], passwords: [String]
    ) {
        let users = (0..<count).map { _ in Moto.uniqueName("cli-b") }
        try await Moto.withSession { _, admin, _ in
            for (index, user) in users.enumerated() {
                try await admin.createUser(user)
                if index % 2 == 1 { try await admin.createLoginProfile(user, password: "Initial-Passw0rd!") }
            }
        }
        var passwords: [String] = []
        var lines = ["user,action,password"]
        for (index, user) in users.enumerated() {
            if index < count / 2 {
                let password = "Batch-Canary-\(index)-\(UUID().uuidString.prefix(8))!"
                passwords.append(password)
                lines.append("\(user),enable,\(password)")
            } else {
                lines.append("\(user),disable,")
            }
        }
        let input = try dir.write("input.csv", lines.joined(separator: "\n") + "\n")
        return (input, users, passwords)
    }

    func reportLines(_ path: String) -> [String] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").dropFirst().map(String.init)
    }

    func waitForRows(_ path: String, atLeast count: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while reportLines(path).count < count {
            guard ContinuousClock.now < deadline else { throw CLI.CLITimeout(seconds: timeout) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("a run with --debug: report, summary, run record; no password in any output, report or record")
    func secretsStayOut() async throws {
        let dir = try TemporaryDirectory()
        let batch = try await makeBatch(12, in: dir)
        let report = dir.path + "/report.csv"
        let result = try await CLI.run(
            ["batch", batch.input, "--report", report, "--endpoint-url", Moto.endpoint!, "--debug"],
            environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("batch done: 12 rows"))
        #expect(result.stdout.contains("9 changed, 3 unchanged, 0 failed"))
        #expect(result.stderr.contains("action=CreateLoginProfile"))
        let reportText = try String(contentsOfFile: report, encoding: .utf8)
        let record = try String(contentsOfFile: report + ".run.json", encoding: .utf8)
        #expect(record.contains("\"complete\" : true"))
        for password in batch.passwords {
            #expect(!result.output.contains(password))
            #expect(!reportText.contains(password))
            #expect(!record.contains(password))
        }
    }

    @Test("--audit-log: one JSON line per call made, matching what reached the wire; no password")
    func auditLog() async throws {
        let dir = try TemporaryDirectory()
        let batch = try await makeBatch(8, in: dir)
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        let report = dir.path + "/report.csv"
        let audit = dir.path + "/audit.jsonl"
        let result = try await CLI.run(
            ["batch", batch.input, "--report", report, "--endpoint-url", proxy.url, "--audit-log", audit],
            environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: audit, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == proxy.requests.count)
        let entries = try lines.map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(entries.map { $0["action"] as? String ?? "" }.sorted() == proxy.actions.sorted())
        #expect(entries.first?["action"] as? String == "GetCallerIdentity")
        for entry in entries {
            #expect(entry["time"] is String)
            #expect(entry["request_id"] is String)
            #expect(entry["attempt"] as? Int == 1)
            #expect(entry["duration_ms"] is Int)
            #expect(entry["http_status"] is Int)
        }
        let enables = entries.filter { $0["action"] as? String == "CreateLoginProfile" }
        #expect(Set(enables.compactMap { $0["user"] as? String }) == Set(batch.users.prefix(4)))
        #expect(
            entries.contains { $0["result"] as? String == "EntityAlreadyExists" }
                || entries.contains { $0["result"] as? String == "NoSuchEntity" })
        for password in batch.passwords { #expect(!text.contains(password)) }
    }

    @Test("SIGINT mid-batch: rows in flight finish, the rest are not-run, exit 130")
    func interrupt() async throws {
        let dir = try TemporaryDirectory()
        let batch = try await makeBatch(30, in: dir)
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!, latency: .milliseconds(60))
        defer { Task { await proxy.stop() } }
        let report = dir.path + "/report.csv"
        let running = try CLI.start(
            ["batch", batch.input, "--report", report, "--endpoint-url", proxy.url, "--concurrency", "2"],
            environment: Self.environment)
        try await waitForRows(report, atLeast: 3)
        running.signal(SIGINT)
        let result = try await running.wait(timeout: .seconds(60))
        #expect(result.status == 130, "\(result.stderr)")
        #expect(result.stderr.contains("stopping"))
        #expect(result.stdout.contains("batch interrupted"))
        let rows = reportLines(report)
        #expect(rows.count == 30, "every row is reported, started or not")
        #expect(rows.contains { $0.contains(",not-run,") })
        let lines = rows.compactMap { Int($0.split(separator: ",").first ?? "") }
        #expect(Set(lines) == Set(2...31))
    }

    @Test("SIGKILL mid-batch, then --resume: final IAM state right, every row in the report exactly once")
    func killAndResume() async throws {
        let dir = try TemporaryDirectory()
        let batch = try await makeBatch(30, in: dir)
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!, latency: .milliseconds(60))
        defer { Task { await proxy.stop() } }
        let report = dir.path + "/report.csv"
        let running = try CLI.start(
            ["batch", batch.input, "--report", report, "--endpoint-url", proxy.url, "--concurrency", "3"],
            environment: Self.environment)
        try await waitForRows(report, atLeast: 5)
        running.signal(SIGKILL)
        let killed = try await running.wait(timeout: .seconds(30))
        #expect(killed.status != 0)
        let before = reportLines(report).count
        #expect(before >= 5 && before < 30, "killed mid-batch (\(before) rows written)")

        let resumed = try await CLI.run(
            ["batch", batch.input, "--report", report, "--endpoint-url", Moto.endpoint!, "--resume"],
            environment: Self.environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("already done in an earlier run"))
        let rows = reportLines(report)
        let lines = rows.compactMap { Int($0.split(separator: ",").first ?? "") }
        #expect(lines.count == 30)
        #expect(Set(lines) == Set(2...31), "each input row exactly once")
        #expect(rows.allSatisfy { $0.contains(",changed,") || $0.contains(",unchanged,") })

        try await Moto.withSession { _, admin, _ in
            for (index, user) in batch.users.enumerated() {
                let profile = try? await admin.iam.call("GetLoginProfile", [.init("UserName", user)])
                #expect((profile != nil) == (index < 15), "\(user)")
            }
        }
    }

    @Test("usage: bad options exit 2; a broken file exits 2 naming the line; an existing report is not overwritten")
    func usage() async throws {
        let dir = try TemporaryDirectory()
        let input = try dir.write("in.csv", "user,action\nalice,disable\n")
        for (arguments, message) in [
            (["batch", input, "--report", dir.path + "/r.csv", "--concurrency", "65"], "--concurrency"),
            (["batch", input], "--report"),
            (["batch", input, "--report", "-"], "file path"),
            (["batch", "-", "--report", dir.path + "/r.csv", "--resume"], "--resume"),
            (["batch", input, "--report", dir.path + "/r.csv", "--revoke", "keys,bogus"], "--revoke"),
            (["batch", input, "--report", dir.path + "/r.csv", "--revoke", ""], "--revoke"),
            (
                ["batch", input, "--report", dir.path + "/r.csv", "--revoke", "all", "--deactivate-access-keys"],
                "not both"
            ),
            (
                ["batch", input, "--report", dir.path + "/r.csv", "--emit-restore", dir.path + "/u.csv", "--dry-run"],
                "a dry run changes nothing"
            ),
            (["batch", input, "--report", dir.path + "/r.csv", "--emit-restore", input], "its own file"),
            (
                ["modify", "--user", "alice", "--enable", "--password-env", "X", "--revoke", "all"],
                "goes with --disable"
            ),
        ] {
            let result = try await CLI.run(arguments, environment: Self.environment)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let broken = try dir.write("broken.csv", "user,action\nalice,disable\n\"bob,disable\n")
        let result = try await CLI.run(
            ["batch", broken, "--report", dir.path + "/b.csv", "--endpoint-url", "http://127.0.0.1:9"],
            environment: Self.environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 3"))

        let existing = try dir.write("existing.csv", "whatever\n")
        let refused = try await CLI.run(
            ["batch", input, "--report", existing, "--endpoint-url", "http://127.0.0.1:9"],
            environment: Self.environment)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("already exists"))
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "whatever\n")
    }
}
