import AWSQuery
import Foundation
import TestSupport
import Testing

/// `console-access review` end to end: the built binary against moto.
@Suite(
    "review command",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ReviewCommandTests {
    static var environment: [String: String] { ModifyCommandTests.environment }
    static let password = "Review-Canary-Passw0rd!9"

    /// Three users under a path of their own: one with console access, MFA and the policy; one
    /// with an access key; one with nothing.
    func makeUsers() async throws -> (path: String, users: [String]) {
        let path = "/" + Moto.uniqueName("cli-review") + "/"
        let tag = String(UUID().uuidString.prefix(6).lowercased())
        let users = ["anna-\(tag)", "ben-\(tag)", "cleo-\(tag)"]
        try await Moto.withSession { _, admin, _ in
            for user in users { try await admin.createUser(user, path: path) }
            try await admin.createLoginProfile(users[0], password: Self.password)
            _ = try await admin.enableVirtualMFA(users[0])
            try await admin.attachUserPolicy(users[0], policyArn: "arn:aws:iam::aws:policy/IAMUserChangePassword")
            _ = try await admin.createAccessKey(users[1])
        }
        return (path, users)
    }

    /// A proxy in front of moto for the runs that read users: moto (5.2) does not implement
    /// `ListServiceSpecificCredentials`, which review calls per user; `ServiceCredentialFront`
    /// answers it (no such credentials). Any other answer passes unchanged.
    func motoFront() async throws -> RecordingProxy {
        try await RecordingProxy.start(upstream: Moto.endpoint!, rewrite: ServiceCredentialFront().rewrite())
    }

    /// Rows of a CSV without quoted fields, as dictionaries by header name.
    func rows(_ csv: String) -> [[String: String]] {
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test("CSV on stdout sorted by name, summary on stderr, no secret anywhere even with --debug")
    func toStandardOutput() async throws {
        let (path, users) = try await makeUsers()
        let moto = try await motoFront()
        defer { Task { await moto.stop() } }
        let result = try await CLI.run(
            [
                "review", "--source", "per-user", "--path-prefix", path, "--endpoint-url", moto.url, "--debug",
                "--concurrency", "2",
            ],
            environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("user,arn,path,user_created,console_access,") == true)
        #expect(
            lines.first?.hasSuffix(
                ",change_password_policy_attached,inactive,error,ssh_keys_active,certificates_active,"
                    + "service_credentials_active") == true)
        let table = rows(result.stdout)
        #expect(table.map { $0["user"] ?? "" } == users)
        #expect(table[0]["console_access"] == "true")
        #expect(table[0]["mfa_devices"] == "1")
        #expect(table[0]["change_password_policy_attached"] == "true")
        #expect(table[1]["console_access"] == "false")
        #expect(table[1]["active_access_keys"] == "1")
        #expect(table[1]["access_key_1_status"] == "Active")
        #expect(table[2]["access_keys"] == "0")
        #expect(table.allSatisfy { $0["inactive"] == "" && $0["error"] == "" })
        #expect(result.stderr.contains("review done: 3 users, 1 with console access, 0 unreadable"))
        #expect(result.stderr.contains("action=ListUsers"), "--debug logs the calls")
        #expect(!result.output.contains(Self.password))
        #expect(!result.output.contains("SecretAccessKey"))
    }

    @Test("--output, --inactive-days, --emit-batch, --user-regex; an existing emit file is refused")
    func files() async throws {
        let (path, users) = try await makeUsers()
        let moto = try await motoFront()
        defer { Task { await moto.stop() } }
        let dir = try TemporaryDirectory()
        let output = dir.path + "/review.csv"
        let emit = dir.path + "/offboard.csv"
        let arguments = [
            "review", "--source", "per-user", "--path-prefix", path, "--user-regex", "^(anna|cleo)-",
            "--inactive-days", "30",
            "--emit-batch", emit, "--output", output, "--endpoint-url", moto.url,
        ]
        let result = try await CLI.run(arguments, environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty, "the CSV went to --output")
        #expect(result.stderr.contains("review done: 2 users, 1 with console access, 0 inactive (> 30 days)"))
        #expect(result.stderr.contains("batch input: \(emit)"))
        let table = rows(try String(contentsOfFile: output, encoding: .utf8))
        #expect(table.map { $0["user"] ?? "" } == [users[0], users[2]])
        #expect(table.map { $0["inactive"] ?? "" } == ["false", "false"], "created just now: active")
        #expect(try String(contentsOfFile: emit, encoding: .utf8) == "user,action\n")

        let again = try await CLI.run(arguments, environment: Self.environment)
        #expect(again.status == 2)
        #expect(again.stderr.contains("already exists"))
        #expect(try String(contentsOfFile: emit, encoding: .utf8) == "user,action\n")
    }

    @Test("from the credential report: JSON on stdout, states and report time on stderr, an evidence pack, no secret")
    func fromReport() async throws {
        let (path, users) = try await makeUsers()
        let moto = try await motoFront()
        defer { Task { await moto.stop() } }
        let dir = try TemporaryDirectory()
        let pack = dir.path + "/pack"
        let result = try await CLI.run(
            [
                "review", "--path-prefix", path, "--inactive-days", "30", "--include-keys", "--detail", "--format",
                "json", "--evidence", pack, "--endpoint-url", moto.url, "--debug",
            ], environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["report_generated"] is String)
        let rows = try #require(object["users"] as? [[String: String]])
        #expect(rows.map { $0["user"] ?? "" } == users, "report order is creation order here")
        #expect(rows[0]["console_access"] == "true")
        #expect(rows[0]["mfa_active"] == "true")
        #expect(rows[0]["change_password_policy_attached"] == "true", "--detail reads the attachment")
        #expect(rows[0]["mfa_devices"]?.hasPrefix("arn:aws:iam::") == true, "--detail reads the MFA serial")
        #expect(rows[1]["access_key_1_active"] == "true")
        #expect(rows[1]["access_key_1_id"]?.hasPrefix("AKIA") == true, "--detail reads the key id")
        #expect(rows[2]["state"] == "no_access")
        #expect(rows.allSatisfy { $0["state"] != "inactive" }, "created just now")
        #expect(result.stderr.contains("note: credential report generated "))
        #expect(result.stderr.contains("states: inactive 0, active 2, no_access 1"), "\(result.stderr)")
        #expect(result.stderr.contains("evidence pack: \(pack)"))
        #expect(!result.stderr.contains("action=ListUsers"), "the report needs no listing")
        let names = try FileManager.default.contentsOfDirectory(atPath: pack).sorted()
        #expect(names == ["batch.csv", "credential-report.csv", "manifest.json", "review.csv", "review.json"])
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: pack + "/manifest.json")))
                as? [String: Any])
        let version = try await CLI.run(["--version"])
        #expect(version.status == 0)
        #expect(
            manifest["tool_version"] as? String == "console-access "
                + version.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(!result.output.contains(Self.password))
        for name in names {
            #expect(try String(contentsOfFile: pack + "/" + name, encoding: .utf8).contains(Self.password) == false)
        }
    }

    @Test("--detail=flagged reads detail for flagged users only (none here), --detail=all for every user")
    func detailSpellings() async throws {
        let (path, _) = try await makeUsers()
        let moto = try await motoFront()
        defer { Task { await moto.stop() } }
        func run(_ detail: String) async throws -> CLI.Result {
            try await CLI.run(
                [
                    "review", "--path-prefix", path, "--inactive-days", "30", detail, "--endpoint-url", moto.url,
                    "--debug",
                ], environment: Self.environment)
        }
        let flagged = try await run("--detail=flagged")
        #expect(flagged.status == 0, "\(flagged.stderr)")
        #expect(!flagged.stderr.contains("action=ListAttachedUserPolicies"), "nobody is inactive: no detail calls")
        let all = try await run("--detail=all")
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stderr.contains("action=ListAttachedUserPolicies"))
    }

    @Test("usage errors exit 2 before any AWS call")
    func usage() async throws {
        let dir = try TemporaryDirectory()
        let nowhere = ["--endpoint-url", "http://127.0.0.1:9"]
        let cases: [([String], String)] = [
            (["review", "--user-regex", "([a-z"], "not a valid regular expression"),
            (["review", "--emit-batch", dir.path + "/x.csv"], "--emit-batch needs --inactive-days"),
            (["review", "--concurrency", "0"], "--concurrency must be from 1 to 64"),
            (["review", "--inactive-days", "0"], "--inactive-days must be from 1 to 36500"),
            (["review", "--max-attempts", "0"], "--max-attempts must be at least 1"),
            (["review", "--bogus"], "Unknown option"),
            (["review", "--detail", "--detail-flagged"], "not both"),
            (["review", "--detail=all", "--detail=flagged"], "not both"),
            (["review", "--detail=some"], "'some'"),
            (["review", "--include-keys"], "--include-keys needs --inactive-days"),
            (
                ["review", "--source", "per-user", "--include-keys", "--inactive-days", "9"],
                "--include-keys needs the credential report"
            ),
            (["review", "--evidence", dir.path], "already exists; an evidence pack is never overwritten"),
            (["review", "--source", "nope"], "nope"),
            (["review", "--format", "xml"], "xml"),
            (["review", "--report-timeout", "0"], "--report-timeout must be from 1 to 3600"),
        ]
        for (arguments, message) in cases {
            let result = try await CLI.run(arguments + nowhere, environment: Self.environment)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("no credentials exits 3 with a clear message; an unreachable endpoint exits 1")
    func credentials() async throws {
        let none = try await CLI.run(
            ["review", "--endpoint-url", Moto.endpoint!], environment: CLI.isolatedEnvironment())
        #expect(none.status == 3, "\(none.stderr)")
        #expect(none.stderr.contains("error: checking the caller's identity (sts:GetCallerIdentity)"))
        #expect(none.stdout.isEmpty)

        let down = try await CLI.run(
            ["review", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1"], environment: Self.environment)
        #expect(down.status == 1, "\(down.stderr)")
        #expect(down.stderr.contains("GetCallerIdentity"))
    }

    @Test("review is listed in the top-level help")
    func help() async throws {
        let result = try await CLI.run(["--help"])
        #expect(result.stdout.contains("review"))
        let own = try await CLI.run(["review", "--help"])
        #expect(own.status == 0)
        #expect(own.stdout.contains("--inactive-days"))
        #expect(own.stdout.contains("--emit-batch"))
    }

    @Test("SIGINT mid-review: exit 130, no output written, no temporary file left (report and per-user paths)")
    func interrupt() async throws {
        let path = "/" + Moto.uniqueName("cli-review-stop") + "/"
        try await Moto.withSession { _, admin, _ in
            for n in 0..<12 { try await admin.createUser("stop-\(n)-\(UUID().uuidString.prefix(4))", path: path) }
        }
        let proxy = try await RecordingProxy.start(
            upstream: Moto.endpoint!, latency: .milliseconds(150), rewrite: ServiceCredentialFront().rewrite())
        defer { Task { await proxy.stop() } }
        for source in ["report", "per-user"] {
            let dir = try TemporaryDirectory()
            let spool = dir.path + "/tmp"
            try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
            var environment = Self.environment
            environment["TMPDIR"] = spool
            let output = dir.path + "/review.csv"
            let detail = source == "report" ? ["--detail"] : []
            let perUser = ["GetLoginProfile", "ListSSHPublicKeys", "ListAttachedUserPolicies"]
            let before = proxy.actions.filter { perUser.contains($0) }.count
            let running = try CLI.start(
                [
                    "review", "--source", source, "--path-prefix", path, "--endpoint-url", proxy.url, "--concurrency",
                    "1", "--inactive-days", "90", "--output", output, "--emit-batch", dir.path + "/stale.csv",
                ] + detail, environment: environment)
            // Interrupt once users are being read one by one.
            let deadline = ContinuousClock.now + .seconds(30)
            while proxy.actions.filter({ perUser.contains($0) }).count < before + 3 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            running.signal(SIGINT)
            let result = try await running.wait(timeout: .seconds(60))
            #expect(result.status == 130, "\(source): \(result.stderr) / \(result.stdout) / \(proxy.actions.suffix(8))")
            #expect(result.stderr.contains("interrupted"), "\(source): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "\(source): no partial review")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/stale.csv"))
            let left = try FileManager.default.contentsOfDirectory(atPath: spool)
            #expect(left.isEmpty, "\(source): temporary files left: \(left)")
            let beside = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
            #expect(beside.isEmpty, "\(source): \(beside)")
        }
    }
}
