import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

/// The whole batch engine (setup, identity, guards, lanes, retries, report, run record, resume,
/// stop) with the in-memory IAM behind the connector seam: no server, faults at a chosen call.
/// The wire and end-to-end cases stay in `BatchRunTests` against moto.
@Suite("Batch engine on the in-memory IAM")
struct BatchEngineInMemoryTests {
    static let fastRetry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(1), maxBackoff: .milliseconds(5))
    static let writes: Set<String> = [
        "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "AttachUserPolicy", "UpdateAccessKey",
    ]

    func configuration(
        _ csv: String, in dir: TemporaryDirectory, iam: InMemoryIAM, concurrency: Int = 4, strict: Bool = false,
        resume: Bool = false, maxDisable: Int = 10_000
    ) throws -> BatchConfiguration {
        let input = try dir.write("input.csv", csv)
        var configuration = BatchConfiguration(
            input: .path(input), reportPath: dir.path + "/report.csv",
            options: RunOptions(concurrency: concurrency), strict: strict, resume: resume, retry: Self.fastRetry,
            maxDisable: maxDisable,
            aws: AWSConfiguration(
                region: "us-east-1", credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")))
        configuration.connector = InMemoryConnector(iam: iam)
        return configuration
    }

    func readReport(_ path: String) throws -> [ReportRow] {
        try ReportReader.readAll(.path(path)).rows
    }

    @Test("rows of one user run in file order: disable then enable ends enabled, and the reverse")
    func perUserOrder() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        _ = await iam.addUser("order-a")
        _ = await iam.addUser("order-b")
        await iam.addLoginProfile("order-b")
        var rows = ["user,action,password"]
        for round in 0..<5 {
            rows.append("order-a,disable,")
            rows.append("order-a,enable,Order-Passw0rd-\(round)!")
            rows.append("order-b,enable,Order-Passw0rd-\(round)!")
            rows.append("order-b,disable,")
        }
        let config = try configuration(rows.joined(separator: "\n"), in: dir, iam: iam, concurrency: 8)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let report = try readReport(config.reportPath)
        for user in ["order-a", "order-b"] {
            let lines = report.filter { $0.user == user }.map(\.line)
            #expect(lines == lines.sorted())
            #expect(lines.count == 10)
        }
        #expect(report.allSatisfy { $0.detail.contains("conflict") })
        #expect(await iam.loginProfile("order-a") != nil, "a ends enabled")
        #expect(await iam.loginProfile("order-b") == nil, "b ends disabled")
    }

    @Test("--strict with an invalid row changes nothing and reports every row")
    func strict() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        let config = try configuration(
            "user,action,password\nok-user,disable,\nbad user,disable,\n", in: dir, iam: iam, strict: true)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .usage)
        #expect(await iam.calls.isEmpty)
        let report = try readReport(config.reportPath)
        #expect(Set(report.map(\.status)) == [.invalid, .notRun])
        #expect(report.count == 2)
    }

    @Test("blast radius: more disables than --max-disable stops before any change")
    func maxDisable() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        for index in 0..<5 {
            _ = await iam.addUser("blast-\(index)")
            await iam.addLoginProfile("blast-\(index)")
        }
        let csv = (["user,action"] + (0..<5).map { "blast-\($0),disable" }).joined(separator: "\n")
        let config = try configuration(csv, in: dir, iam: iam, maxDisable: 3)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("would disable 5 users") == true)
        #expect(result.errors.first?.contains("--max-disable 5") == true)
        #expect(await iam.calls.allSatisfy { !Self.writes.contains($0.action) })
        #expect(try readReport(config.reportPath).allSatisfy { $0.status == .notRun })
        for index in 0..<5 { #expect(await iam.loginProfile("blast-\(index)") != nil) }
    }

    @Test("a password policy that cannot be read for lack of permission is noted, and the run goes on")
    func unreadablePolicy() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        _ = await iam.addUser("nopolicy")
        await iam.inject(
            .error(.accessDenied, httpStatus: 403, message: "not authorized to perform iam:GetAccountPasswordPolicy"),
            on: "GetAccountPasswordPolicy")
        let config = try configuration("user,action,password\nnopolicy,enable,Some-Passw0rd!x\n", in: dir, iam: iam)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.notes.contains { $0.contains("could not read the account password policy (AccessDenied)") })
        #expect(result.summary?.count(.changed) == 1)
        #expect(await iam.loginProfile("nopolicy") != nil)
    }

    @Test("resume: refuses a changed input, skips done rows, and ends with one row per input row")
    func resume() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        let users = (0..<4).map { "res-\($0)" }
        for user in users.dropLast() { _ = await iam.addUser(user) }
        let csv = (["user,action"] + users.map { "\($0),disable" }).joined(separator: "\n") + "\n"
        let first = try configuration(csv, in: dir, iam: iam)
        let firstResult = await BatchRun.execute(first)
        #expect(firstResult.summary?.count(.notFound) == 1)

        // The report exists: a plain rerun refuses to overwrite it.
        let again = await BatchRun.execute(first)
        #expect(again.exitStatus == .usage)
        #expect(again.errors.first?.contains("--resume") == true)

        // The missing user now exists; resume runs only that row.
        _ = await iam.addUser(users[3])
        let callsBefore = await iam.calls.count
        var resumed = first
        resumed.resume = true
        let result = await BatchRun.execute(resumed)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.summary?.resumedDone == 3)
        let rows = try readReport(first.reportPath)
        #expect(rows.map(\.line).sorted() == [2, 3, 4, 5])
        #expect(rows.first { $0.line == 5 }?.status == .unchanged)
        let resumedUsers = await Set(iam.calls.dropFirst(callsBefore).compactMap(\.userName))
        #expect(resumedUsers == [users[3]], "only the row not done is run again")

        // A changed input is refused.
        _ = try dir.write("input.csv", csv + "another,disable\n")
        let changed = await BatchRun.execute(resumed)
        #expect(changed.exitStatus == .usage)
        #expect(changed.errors.first?.contains("input has changed") == true)
    }

    @Test("SIGINT-style stop: no new rows start, the rest are not-run, status interrupted")
    func stop() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        await iam.setLatency(.milliseconds(40))
        let users = (0..<40).map { "stop-\($0)" }
        for user in users { _ = await iam.addUser(user) }
        let csv = (["user,action"] + users.map { "\($0),disable" }).joined(separator: "\n")
        let config = try configuration(csv, in: dir, iam: iam, concurrency: 2)
        let controller = StopController()
        Task {
            try await Task.sleep(for: .milliseconds(600))
            controller.requestStop()
        }
        let result = await BatchRun.execute(config, stop: controller)
        #expect(result.exitStatus == .interrupted)
        let summary = try #require(result.summary)
        #expect(summary.interrupted)
        #expect(summary.count(.notRun) > 0)
        let rows = try readReport(config.reportPath)
        #expect(rows.count == 40)
        #expect(Set(rows.map(\.line)).count == 40)
    }

    @Test("a lost CreateLoginProfile answer at one row: settled by reading IAM, the row changed, no second profile")
    func lostAnswerAtOneRow() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        for user in ["lost-a", "lost-b", "lost-c"] { _ = await iam.addUser(user) }
        await iam.inject(.answerLost, on: "CreateLoginProfile", user: "lost-b")
        let csv =
            "user,action,password\n"
            + ["lost-a", "lost-b", "lost-c"].map { "\($0),enable,Lost-Passw0rd!x" }
            .joined(separator: "\n")
        let config = try configuration(csv, in: dir, iam: iam)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let rows = try readReport(config.reportPath)
        #expect(rows.map(\.status) == [.changed, .changed, .changed])
        let lost = try #require(rows.first { $0.user == "lost-b" })
        #expect((lost.attempts ?? 0) >= 2, "the lost call counts as an attempt: \(lost)")
        for user in ["lost-a", "lost-b", "lost-c"] {
            #expect(await iam.loginProfile(user)?.passwordResetRequired == true)
            #expect(await iam.attachedPolicies(user).count == 1)
        }
        let report = try String(contentsOfFile: config.reportPath, encoding: .utf8)
        #expect(!report.contains("Lost-Passw0rd!x"))
    }

    @Test("throttling at one user's DeleteLoginProfile is retried and counted in the summary")
    func throttledRow() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        for user in ["thr-a", "thr-b"] {
            _ = await iam.addUser(user)
            await iam.addLoginProfile(user)
        }
        await iam.inject(.throttle, on: "DeleteLoginProfile", user: "thr-b", times: 3)
        let config = try configuration("user,action\nthr-a,disable\nthr-b,disable\n", in: dir, iam: iam)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let summary = try #require(result.summary)
        #expect(summary.throttledCalls == 3)
        #expect(summary.apiCalls == (await iam.calls.count) + 1, "every IAM call and the identity check")
        let rows = try readReport(config.reportPath)
        #expect(rows.first { $0.user == "thr-b" }?.attempts == 4)
        #expect(await iam.loginProfile("thr-b") == nil)
    }

    @Test("a non-retryable error at one row fails that row only, with its code and request id")
    func failingRow() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM()
        for user in ["deny-a", "deny-b"] {
            _ = await iam.addUser(user)
            await iam.addLoginProfile(user)
        }
        await iam.inject(.error(.accessDenied, httpStatus: 403), on: "DeleteLoginProfile", user: "deny-a")
        let config = try configuration("user,action\ndeny-a,disable\ndeny-b,disable\n", in: dir, iam: iam)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .credentials, "an authorization failure exits 3")
        let rows = try readReport(config.reportPath)
        let denied = try #require(rows.first { $0.user == "deny-a" })
        #expect(denied.status == .failed)
        #expect(denied.errorCode == "AccessDenied")
        #expect(!denied.requestID.isEmpty)
        #expect(denied.attempts == 1, "not retried")
        #expect(rows.first { $0.user == "deny-b" }?.status == .changed)
        #expect(await iam.loginProfile("deny-a") != nil)
    }
}
