import AWSQuery
import Foundation
import TestSupport
import Testing

/// Re-running as a user (or a cron job) does: the sample files twice, and a refused run's
/// suggested rerun typed exactly as printed.
@Suite(
    "re-runs through the CLI",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct RerunCommandTests {
    static var environment: [String: String] { ModifyCommandTests.environment }

    static var samples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples")
    }

    /// The status column of a report.
    func statuses(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var result: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            result[cells[1]] = cells[3]
        }
        return result
    }

    @Test("every sample file run a second time makes no successful write; the action files end all unchanged, exit 0")
    func samplesTwice() async throws {
        let moto = try #require(try await PrivateMoto.start(), "CONSOLE_ACCESS_MOTO_SERVER is not set")
        defer { moto.stop() }
        // The demo's users (scripts/demo-seed.py): console access and access keys as listed.
        try await Moto.withSession(endpoint: moto.endpoint) { _, admin, _ in
            let seed = try String(contentsOf: Self.samples.appendingPathComponent("demo-users.csv"), encoding: .utf8)
            for line in seed.split(separator: "\n").dropFirst() {
                let cells = line.split(separator: ",").map(String.init)
                try await admin.createUser(cells[0], path: "/staff/")
                if cells[1] == "yes" { try await admin.createLoginProfile(cells[0], password: "Seeded-Passw0rd!") }
                for _ in 0..<(Int(cells[2]) ?? 0) { _ = try await admin.createAccessKey(cells[0]) }
            }
        }
        let proxy = try await RecordingProxy.start(upstream: moto.endpoint)
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        // Each file once, in the demo's order, then each again.
        let files = ["mixed.csv", "onboarding.csv", "offboarding.csv", "password-reset.csv"]
        for file in files {
            let result = try await CLI.run(
                [
                    "batch", Self.samples.appendingPathComponent(file).path, "--report", dir.path + "/first-\(file)",
                    "--endpoint-url", proxy.url, "--deactivate-access-keys",
                ], environment: Self.environment)
            #expect([0, 1].contains(result.status), "\(file): \(result.stderr)")
        }
        for file in files {
            proxy.clearRecording()
            let report = dir.path + "/again-\(file)"
            let result = try await CLI.run(
                [
                    "batch", Self.samples.appendingPathComponent(file).path, "--report", report, "--endpoint-url",
                    proxy.url, "--deactivate-access-keys",
                ], environment: Self.environment)
            let rows = try statuses(report)
            switch file {
            case "mixed.csv":
                // Its invalid row and its user who does not exist stay so (exit 1); the rest is unchanged.
                #expect(result.status == 1)
                #expect(proxy.successfulWrites.isEmpty, "\(file): \(proxy.successfulWrites)")
                #expect(rows["frank.moss"] == "not-found")
                #expect(rows["gina lopez"] == "invalid")
                #expect(
                    rows.filter { !["frank.moss", "gina lopez"].contains($0.key) }.values.allSatisfy {
                        $0 == "unchanged"
                    })
            case "password-reset.csv":
                // A reset sets a new password each time it runs: that is what it is for.
                #expect(result.status == 1)
                #expect(rows["ben.okafor"] == "changed")
                #expect(rows["eli.novak"] == "failed", "no login profile to reset: NoLoginProfile")
                #expect(proxy.successfulWrites.map(\.action) == ["UpdateLoginProfile"])
            default:
                #expect(result.status == 0, "\(file): \(result.stderr)")
                #expect(proxy.successfulWrites.isEmpty, "\(file): \(proxy.successfulWrites)")
                #expect(!rows.isEmpty && rows.values.allSatisfy { $0 == "unchanged" }, "\(file): \(rows)")
            }
        }
    }

    @Test("a run refused by --max-disable: the rerun its message prints works as printed")
    func refusedRunRerun() async throws {
        let dir = try TemporaryDirectory()
        let users = (0..<3).map { _ in Moto.uniqueName("cli-refuse") }
        try await Moto.withSession { _, admin, _ in
            for user in users {
                try await admin.createUser(user)
                try await admin.createLoginProfile(user, password: "Initial-Passw0rd!")
            }
        }
        let input = try dir.write(
            "leavers.csv", (["user,action"] + users.map { "\($0),disable" }).joined(separator: "\n"))
        let report = dir.path + "/leavers-report.csv"
        let arguments = ["batch", input, "--report", report, "--endpoint-url", Moto.endpoint!]
        let refused = try await CLI.run(arguments + ["--max-disable", "2"], environment: Self.environment)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("rerun with --max-disable 3 if it is right"), "\(refused.stderr)")
        // Exactly what the message says: the same command with --max-disable 3.
        let rerun = try await CLI.run(arguments + ["--max-disable", "3"], environment: Self.environment)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try statuses(report).values.allSatisfy { $0 == "changed" })

        // --strict refuses a file with an invalid row; fixed, the same command runs.
        let strictInput = try dir.write("strict.csv", "user,action\nbad name,disable\n\(users[0]),disable\n")
        let strictReport = dir.path + "/strict-report.csv"
        let strict = ["batch", strictInput, "--report", strictReport, "--strict", "--endpoint-url", Moto.endpoint!]
        let first = try await CLI.run(strict, environment: Self.environment)
        #expect(first.status == 2)
        _ = try dir.write("strict.csv", "user,action\n\(users[0]),disable\n")
        let fixed = try await CLI.run(strict, environment: Self.environment)
        #expect(fixed.status == 0, "\(fixed.stderr)")

        // No credentials: refused before any change; with credentials the same command runs.
        let noCredentialsReport = dir.path + "/nocreds.csv"
        let plain = ["batch", input, "--report", noCredentialsReport, "--endpoint-url", Moto.endpoint!]
        let noCredentials = try await CLI.run(plain, environment: CLI.isolatedEnvironment())
        #expect(noCredentials.status == 3)
        let withCredentials = try await CLI.run(plain, environment: Self.environment)
        #expect(withCredentials.status == 0, "\(withCredentials.stderr)")
        #expect(try statuses(noCredentialsReport).values.allSatisfy { $0 == "unchanged" })
    }

    @Test("validate counts reset rows")
    func validateCountsReset() async throws {
        let dir = try TemporaryDirectory()
        let input = try dir.write(
            "in.csv", "user,action,password\na,reset,Some-Passw0rd!\nb,reset-password,Other-Passw0rd!\nc,disable,\n")
        let result = try await CLI.run(["validate", input], environment: Self.environment)
        #expect(result.status == 0)
        #expect(result.stdout.contains("(valid: 0 enable, 1 disable, 2 reset)"), "\(result.stdout)")
        let json = try await CLI.run(["validate", input, "--output", "json"], environment: Self.environment)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let byAction = object?["byAction"] as? [String: Any] ?? object?["by_action"] as? [String: Any]
        #expect(byAction?["reset"] as? Int == 2, "\(json.stdout)")
        let missing = try dir.write("missing.csv", "user,action,password\na,reset,\n")
        let invalid = try await CLI.run(["validate", missing], environment: Self.environment)
        #expect(invalid.status == 1)
        #expect(invalid.stdout.contains("reset needs a password; the password cell is empty"))
    }
}
