import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

/// The whole batch through the library API, against moto (and a fault-injecting proxy): the wire
/// and end-to-end cases. The engine's logic runs on the in-memory IAM (`BatchEngineInMemoryTests`).
@Suite(
    "Batch runs against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct BatchRunTests {
    static let fastRetry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(2), maxBackoff: .milliseconds(50))

    func configuration(
        _ csv: String, in dir: TemporaryDirectory, endpoint: String, concurrency: Int = 4, dryRun: Bool = false,
        strict: Bool = false, resume: Bool = false, retry: RetryPolicy = fastRetry, maxDisable: Int = 10_000,
        report: String = "report.csv"
    ) throws -> BatchConfiguration {
        let input = try dir.write("input.csv", csv)
        return BatchConfiguration(
            input: .path(input), reportPath: dir.path + "/" + report,
            options: RunOptions(concurrency: concurrency, dryRun: dryRun), strict: strict, resume: resume,
            retry: retry, maxDisable: maxDisable, aws: Moto.configuration(endpoint: endpoint))
    }

    func readReport(_ path: String) throws -> [ReportRow] {
        try ReportReader.readAll(.path(path)).rows
    }

    /// Checks the report: every input line exactly once, invalid and missing rows as such.
    func checkReport(_ rows: [ReportRow], _ fixture: BatchFixture) {
        let lines = rows.map(\.line)
        #expect(lines.count == fixture.totalRows, "one report row per input row")
        #expect(Set(lines) == Set(2...(fixture.totalRows + 1)))
        for row in rows {
            if fixture.invalidLines.contains(row.line) {
                #expect(row.status == .invalid, "line \(row.line)")
                #expect(row.attempts == nil, "invalid rows are never sent")
            } else if fixture.missingUserLines.contains(row.line) {
                #expect(row.status == .notFound, "line \(row.line)")
            } else {
                #expect(
                    row.status == .changed || row.status == .unchanged, "line \(row.line): \(row.status) \(row.message)"
                )
            }
        }
    }

    @Test("several hundred mixed rows at several concurrency levels end in the right IAM state", arguments: [1, 4, 16])
    func mixedFile(concurrency: Int) async throws {
        let fixture = BatchFixture.make(users: 90, rows: 240, seed: UInt64(concurrency))
        let dir = try TemporaryDirectory()
        try await Moto.withSession { _, admin, _ in
            try await fixture.setUp(admin)
            let config = try configuration(fixture.csv, in: dir, endpoint: Moto.endpoint!, concurrency: concurrency)
            let result = await BatchRun.execute(config)
            #expect(result.exitStatus == .failure, "invalid and missing rows make the exit status 1")
            #expect(result.errors.isEmpty, "\(result.errors)")
            let summary = try #require(result.summary)
            #expect(summary.rows == fixture.totalRows)
            #expect(summary.count(.invalid) == fixture.invalidLines.count)
            #expect(summary.count(.notFound) == fixture.missingUserLines.count)
            checkReport(try readReport(config.reportPath), fixture)
            #expect(try await fixture.mismatches(admin) == [])

            let record = try #require(try RunRecord.read(forReport: config.reportPath))
            #expect(record.complete)
            #expect(record.summary == summary)

            let report = try String(contentsOfFile: config.reportPath, encoding: .utf8)
            for password in fixture.passwords { #expect(!report.contains(password)) }
        }
    }

    @Test("faults: throttling, 500s, HTML 503s and dropped connections are retried; every row right and reported once")
    func faults() async throws {
        let fixture = BatchFixture.make(users: 40, rows: 120, seed: 7)
        let dir = try TemporaryDirectory()
        let counter = NIOLockedValueBoxInt()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!) { request, _ in
            let n = counter.increment()
            // Throttling is rarer: the adaptive limiter (rightly) slows the whole batch for each one.
            if n % 40 == 1 { return .throttling }
            switch n % 10 {
            case 4: return .serviceFailure
            case 6: return .unavailableHTML
            case 8: return .dropConnection
            default: return nil
            }
        }
        do {
            try await Moto.withSession { _, admin, _ in
                try await fixture.setUp(admin)
                let config = try configuration(
                    fixture.csv, in: dir, endpoint: proxy.url, concurrency: 6,
                    retry: RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(2), maxBackoff: .milliseconds(20)))
                let result = await BatchRun.execute(config)
                let summary = try #require(result.summary)
                #expect(summary.count(.failed) == 0, "no row fails when faults are retryable")
                #expect(summary.throttledCalls > 0)
                checkReport(try readReport(config.reportPath), fixture)
                #expect(try await fixture.mismatches(admin) == [])
            }
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
        #expect(proxy.injected.contains(.dropConnection))
    }

    @Test("non-retryable errors are not retried: one request per failing call")
    func nonRetryable() async throws {
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!) { request, _ in
            request.formParameters["Action"] == "DeleteLoginProfile"
                ? .error(code: "LimitExceeded", status: 409, message: "Cannot exceed quota") : nil
        }
        defer { Task { await proxy.stop() } }
        try await Moto.withSession { _, admin, _ in
            let users = (0..<3).map { _ in Moto.uniqueName("nr") }
            for user in users { try await admin.createUser(user) }
            let csv = (["user,action"] + users.map { "\($0),disable" }).joined(separator: "\n")
            let config = try configuration(csv, in: dir, endpoint: proxy.url)
            let result = await BatchRun.execute(config)
            #expect(result.exitStatus == .failure)
            let report = try readReport(config.reportPath)
            #expect(report.allSatisfy { $0.status == .failed && $0.errorCode == "LimitExceeded" && $0.attempts == 1 })
            #expect(proxy.actions.filter { $0 == "DeleteLoginProfile" }.count == 3)
        }
    }

    @Test("dry run reads, plans and changes nothing")
    func dryRun() async throws {
        let fixture = BatchFixture.make(users: 10, rows: 30, seed: 3)
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        try await Moto.withSession { _, admin, _ in
            try await fixture.setUp(admin)
            let config = try configuration(fixture.csv, in: dir, endpoint: proxy.url, dryRun: true)
            let result = await BatchRun.execute(config)
            let summary = try #require(result.summary)
            #expect(summary.dryRun)
            #expect(summary.count(.changed) == 0)
            #expect(summary.count(.planned) > 0)
            let writes: Set<String> = [
                "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "AttachUserPolicy", "UpdateAccessKey",
            ]
            #expect(proxy.actions.allSatisfy { !writes.contains($0) })
            for (user, enabled) in fixture.initialEnabled {
                let profile = try? await admin.iam.call("GetLoginProfile", [QueryParameter("UserName", user)])
                #expect((profile != nil) == enabled, "\(user) unchanged by a dry run")
            }
        }
    }

    @Test("a broken file stops with exit 2 before any request")
    func brokenFile() async throws {
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        let config = try configuration("user,action\nalice,disable\n\"bob,disable\n", in: dir, endpoint: proxy.url)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("line 3") == true, "\(result.errors)")
        #expect(proxy.requests.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: config.reportPath))

        let noColumn = try configuration("name,action\nalice,disable\n", in: dir, endpoint: proxy.url)
        let missing = await BatchRun.execute(noColumn)
        #expect(missing.exitStatus == .usage)
        #expect(missing.errors.first?.contains("user") == true)
    }

    @Test("no credentials: exit 3, nothing changed, every row reported not-run")
    func noCredentials() async throws {
        let dir = try TemporaryDirectory()
        var config = try configuration("user,action\nsomeone,disable\n", in: dir, endpoint: Moto.endpoint!)
        config.aws = Moto.configuration(endpoint: Moto.endpoint!, credentials: nil)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .credentials)
        #expect(result.errors.first?.contains("Unable to locate credentials") == true)
        #expect(try readReport(config.reportPath).map(\.status) == [.notRun])
    }

    @Test("adaptive rate: against a server allowing 25 requests/s, no row fails and few calls are throttled")
    func adaptiveRate() async throws {
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(
            upstream: Moto.endpoint!, rule: RecordingProxy.rateLimit(25, burst: 5))
        defer { Task { await proxy.stop() } }
        try await Moto.withSession { _, admin, _ in
            let users = (0..<60).map { _ in Moto.uniqueName("rate") }
            for user in users { try await admin.createUser(user) }
            let csv = (["user,action"] + users.map { "\($0),disable" }).joined(separator: "\n")
            let config = try configuration(
                csv, in: dir, endpoint: proxy.url, concurrency: 16,
                retry: RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(50), maxBackoff: .seconds(1)))
            let result = await BatchRun.execute(config)
            let summary = try #require(result.summary)
            #expect(summary.count(.failed) == 0)
            #expect(summary.count(.unchanged) == 60)
            // 60 users × 2 calls + 2 setup calls; throttled calls stay a fraction of the total.
            #expect(summary.throttledCalls < summary.apiCalls / 2, "\(summary.throttledCalls) of \(summary.apiCalls)")
        }
    }
}
