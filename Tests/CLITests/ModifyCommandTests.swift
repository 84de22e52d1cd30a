import Foundation
import TestSupport
import Testing

/// `console-access modify` end to end: the built binary against moto.
@Suite(
    "modify command",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ModifyCommandTests {
    static let password = "Modify-Canary-Passw0rd!7"

    static var environment: [String: String] {
        CLI.isolatedEnvironment([
            "AWS_ACCESS_KEY_ID": Moto.testCredentials.accessKeyId,
            "AWS_SECRET_ACCESS_KEY": Moto.testCredentials.secretAccessKey,
        ])
    }

    func createUser(_ name: String) async throws {
        try await Moto.withSession { _, admin, _ in try await admin.createUser(name) }
    }

    @Test("enable from stdin, disable, disable again: exit codes, output, and no password anywhere with --debug")
    func lifecycle() async throws {
        let user = Moto.uniqueName("cli")
        try await createUser(user)
        let endpoint = Moto.endpoint!
        let enable = try await CLI.run(
            ["modify", "--user", user, "--enable", "--password-stdin", "--endpoint-url", endpoint, "--debug"],
            stdin: Self.password + "\n", environment: Self.environment)
        #expect(enable.status == 0, "\(enable.stderr)")
        #expect(
            enable.stdout.hasPrefix("enable \(user): changed (login profile created, IAMUserChangePassword attached)"))
        #expect(enable.stderr.contains("action=CreateLoginProfile"))
        #expect(enable.stderr.contains("user=\(user)"))
        #expect(enable.stderr.contains("request_id="))
        #expect(enable.stderr.contains("arn=arn:aws:"), "caller identity is logged with --debug")

        let fromEnv = try await CLI.run(
            [
                "modify", "--user", user, "--enable", "--password-env", "NEW_PW", "--endpoint-url", endpoint, "--debug",
                "--output", "json",
            ],
            environment: Self.environment.merging(["NEW_PW": Self.password]) { $1 })
        #expect(fromEnv.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(fromEnv.stdout.utf8)) as? [String: Any]
        // Enabling an enabled user keeps the password: unchanged, nothing written.
        #expect(json?["status"] as? String == "unchanged")
        #expect(json?["changes"] as? [String] == [])
        #expect(json?["detail"] as? String == "console access already enabled (password not changed)")
        #expect(json?["exit_code"] as? Int == 0)

        let reset = try await CLI.run(
            ["modify", "--user", user, "--reset", "--password-env", "NEW_PW", "--endpoint-url", endpoint],
            environment: Self.environment.merging(["NEW_PW": Self.password]) { $1 })
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout.hasPrefix("reset \(user): changed (password reset)"))
        let resetExisting = try await CLI.run(
            [
                "modify", "--user", user, "--enable", "--reset-existing", "--password-env", "NEW_PW", "--endpoint-url",
                endpoint,
            ],
            environment: Self.environment.merging(["NEW_PW": Self.password]) { $1 })
        #expect(resetExisting.status == 0, "\(resetExisting.stderr)")
        #expect(resetExisting.stdout.hasPrefix("enable \(user): changed (password reset)"))

        let disable = try await CLI.run(
            ["modify", "--user", user, "--disable", "--endpoint-url", endpoint, "--debug"],
            environment: Self.environment)
        #expect(disable.status == 0)
        #expect(disable.stdout.contains("disable \(user): changed (login profile deleted)"))
        let again = try await CLI.run(
            ["modify", "--user", user, "--disable", "--endpoint-url", endpoint], environment: Self.environment)
        #expect(again.status == 0)
        #expect(again.stdout.contains(": unchanged"))

        let resetGone = try await CLI.run(
            ["modify", "--user", user, "--reset", "--password-env", "NEW_PW", "--endpoint-url", endpoint],
            environment: Self.environment.merging(["NEW_PW": Self.password]) { $1 })
        #expect(resetGone.status == 1)
        #expect(
            resetGone.stdout.contains(
                "reset \(user): failed (nothing was changed: no login profile to reset (use enable))"))

        for result in [enable, fromEnv, reset, resetExisting, disable, again, resetGone] {
            #expect(!result.output.contains(Self.password), "password leaked into output")
        }
    }

    @Test("a missing user exits 1; an invalid name exits 2 without calling AWS")
    func failures() async throws {
        let missing = try await CLI.run(
            ["modify", "--user", Moto.uniqueName("ghost"), "--disable", "--endpoint-url", Moto.endpoint!],
            environment: Self.environment)
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("not-found"))

        // Port 9 has nothing listening: an invalid name must be refused before any connection.
        let invalid = try await CLI.run(
            ["modify", "--user", "bad/name", "--disable", "--endpoint-url", "http://127.0.0.1:9"],
            environment: Self.environment)
        #expect(invalid.status == 2)
        #expect(invalid.stdout.contains("invalid character '/' at position 4"))
    }

    @Test("usage errors exit 2 with a clear message")
    func usage() async throws {
        let cases: [([String], String)] = [
            (["modify", "--user", "a"], "exactly one of --enable, --reset or --disable"),
            (["modify", "--user", "a", "--enable", "--disable"], "exactly one of --enable, --reset or --disable"),
            (["modify", "--user", "a", "--enable", "--reset"], "exactly one of --enable, --reset or --disable"),
            (["modify", "--user", "a", "--enable"], "--enable needs a password"),
            (["modify", "--user", "a", "--reset"], "--reset needs a password"),
            (["modify", "--user", "a", "--reset", "--reset-existing", "--password-env", "X"], "goes with --enable"),
            (["modify", "--user", "a", "--disable", "--wait-for-user", "90s"], "disable never waits"),
            (["modify", "--user", "a", "--enable", "--password-env", "X", "--wait-for-user", "2d"], "--wait-for-user"),
            (["modify", "--user", "a", "--enable", "--password-env", "X", "--wait-for-user", "3h"], "--wait-for-user"),
            (["modify", "--user", "a", "--disable", "--password-env", "X"], "--disable takes no password"),
            (["modify", "--user", "a", "--enable", "--password-stdin", "--password-env", "X"], "one way only"),
            (["modify", "--enable"], "--user"),
        ]
        for (arguments, message) in cases {
            let result = try await CLI.run(arguments, environment: Self.environment)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let emptyEnv = try await CLI.run(
            [
                "modify", "--user", "a", "--enable", "--password-env", "UNSET_VAR", "--endpoint-url",
                "http://127.0.0.1:9",
            ],
            environment: Self.environment)
        #expect(emptyEnv.status == 2)
        #expect(emptyEnv.stderr.contains("UNSET_VAR is not set"))
    }

    @Test("no credentials exits 3 and says what was tried")
    func noCredentials() async throws {
        let result = try await CLI.run(
            ["modify", "--user", "someone", "--disable", "--endpoint-url", Moto.endpoint!],
            environment: CLI.isolatedEnvironment())
        #expect(result.status == 3)
        #expect(result.stderr.contains("Unable to locate credentials"))
        #expect(result.stderr.contains("environment variables"))
    }

    @Test("the account password policy is read once and checked locally: exit 2 naming the rule, nothing sent")
    func passwordPolicy() async throws {
        let moto = try #require(try await PrivateMoto.start(), "CONSOLE_ACCESS_MOTO_SERVER is not set")
        defer { moto.stop() }
        try await Moto.withSession(endpoint: moto.endpoint) { _, admin, _ in
            try await admin.createUser("policy-target")
            try await admin.updateAccountPasswordPolicy(["MinimumPasswordLength": "30", "RequireSymbols": "true"])
        }
        let result = try await CLI.run(
            ["modify", "--user", "policy-target", "--enable", "--password-env", "PW", "--endpoint-url", moto.endpoint],
            environment: Self.environment.merging(["PW": "Short-But-Valid-1"]) { $1 })
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stdout.contains("requires at least 30 characters (this one has 17)"))
        #expect(!result.output.contains("Short-But-Valid-1"))
        let profile = try await Moto.withSession(endpoint: moto.endpoint) { session, _, _ in
            try? await session.iam.getLoginProfile(userName: "policy-target")
        }
        #expect(profile == nil, "nothing was created")
    }

    @Test("--role-arn acts as the assumed role (moto STS)")
    func roleArn() async throws {
        let user = Moto.uniqueName("rolecli")
        let role = try await Moto.withSession { _, admin, _ in
            try await admin.createUser(user)
            return try await admin.createRole(Moto.uniqueName("clirole"))
        }
        let result = try await CLI.run(
            [
                "modify", "--user", user, "--enable", "--password-env", "PW", "--role-arn", role, "--endpoint-url",
                Moto.endpoint!, "--output", "json",
            ],
            environment: Self.environment.merging(["PW": Self.password]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((json?["caller_arn"] as? String)?.contains(":assumed-role/") == true)
        #expect(!result.output.contains(Self.password))
    }
}
