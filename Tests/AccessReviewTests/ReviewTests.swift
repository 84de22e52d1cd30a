import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

@Suite(
    "Review runs against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ReviewTests {
    static let fastRetry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(2), maxBackoff: .milliseconds(50))

    func configuration(
        endpoint: String, output: String, path: String?, inactiveDays: Int? = nil, emitBatch: String? = nil,
        userRegex: String? = nil, concurrency: Int = 4, now: Date? = nil, pageSize: Int? = nil
    ) -> ReviewConfiguration {
        var configuration = ReviewConfiguration(
            output: output, pathPrefix: path, userRegex: userRegex, inactiveDays: inactiveDays, emitBatch: emitBatch,
            concurrency: concurrency, retry: Self.fastRetry, pageSize: pageSize,
            aws: Moto.configuration(endpoint: endpoint), now: now)
        configuration.source = .perUser
        return configuration
    }

    @Test("users in each state: console access, last use, MFA, keys, policy, inactivity and the emitted batch")
    func eachState() async throws {
        let fixture = ReviewFixture()
        let dir = try TemporaryDirectory()
        let now = Date()
        try await Moto.withSession { _, admin, _ in
            let created = try await fixture.setUp(admin)
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!,
                rewrite: MotoGaps.filling(fixture.rewrite(now: now, activeKey: created.activeKey)))
            defer { Task { await proxy.stop() } }
            let output = dir.path + "/review.csv"
            let emit = dir.path + "/offboard.csv"
            let result = await ReviewRun.execute(
                configuration(
                    endpoint: proxy.url, output: output, path: fixture.path, inactiveDays: 90, emitBatch: emit,
                    concurrency: 3, now: now, pageSize: 2))
            #expect(result.exitStatus == .success, "\(result.errors)")
            #expect(result.errors.isEmpty)
            let summary = try #require(result.summary)
            #expect(summary.users == 5)
            #expect(summary.consoleAccess == 4)
            #expect(summary.inactive == 1)
            #expect(summary.unreadable == 0)
            #expect(summary.emittedBatch == emit)
            #expect(result.inactiveUsers == [fixture.stale])

            let table = try ReviewTable(path: output)
            #expect(table.header == ReviewCSV.header)
            #expect(table.users == fixture.all, "one row per user, sorted by name")

            let keys = try #require(table.row(fixture.keys))
            #expect(keys["console_access"] == "false")
            #expect(keys["login_profile_created"] == "")
            #expect(keys["password_reset_required"] == "")
            #expect(keys["console_idle_days"] == "")
            #expect(keys["access_keys"] == "2")
            #expect(keys["active_access_keys"] == "1")
            #expect(keys["mfa_devices"] == "0")
            #expect(keys["inactive"] == "false")
            #expect(keys["error"] == "")
            let keyColumns = [
                [keys["access_key_1_id"], keys["access_key_1_status"], keys["access_key_1_last_used"]],
                [keys["access_key_2_id"], keys["access_key_2_status"], keys["access_key_2_last_used"]],
            ]
            #expect(keyColumns.contains([created.activeKey, "Active", "2024-03-04T05:06:07Z"]))
            #expect(keyColumns.contains([created.inactiveKey, "Inactive", ""]))
            #expect(keys["access_key_1_created"]?.hasSuffix("Z") == true)
            #expect(keys["path"] == fixture.path)
            #expect(keys["arn"]?.hasSuffix(":user\(fixture.path)\(fixture.keys)") == true)

            let fresh = try #require(table.row(fixture.fresh))
            #expect(fresh["console_access"] == "true")
            #expect(fresh["mfa_devices"] == "1")
            #expect(fresh["change_password_policy_attached"] == "true")
            #expect(fresh["password_last_used"] == "")
            #expect(fresh["console_idle_days"] == "0")
            #expect(fresh["inactive"] == "false", "never used, but created just now")
            let profileCreated = try #require(fresh["login_profile_created"].flatMap(ISO8601.parse))
            #expect(abs(profileCreated.timeIntervalSince(now)) < 3600)
            #expect(["true", "false"].contains(fresh["password_reset_required"] ?? ""))

            let recent = try #require(table.row(fixture.recent))
            #expect(recent["password_last_used"] == ISO8601.format(now.addingTimeInterval(-2 * 86_400)))
            #expect(recent["inactive"] == "false")
            #expect(recent["console_idle_days"] == "2")
            #expect(recent["change_password_policy_attached"] == "true")

            let stale = try #require(table.row(fixture.stale))
            #expect(stale["password_last_used"] == ISO8601.format(now.addingTimeInterval(-400 * 86_400)))
            #expect(stale["inactive"] == "true")
            #expect(stale["console_idle_days"] == "400")
            #expect(stale["change_password_policy_attached"] == "false")

            let plain = try #require(table.row(fixture.plain))
            #expect(plain["inactive"] == "false")
            #expect(plain["access_keys"] == "0")
            #expect(plain["access_key_1_id"] == "")

            #expect(try String(contentsOfFile: emit, encoding: .utf8) == "user,action\n\(fixture.stale),disable\n")
            let text = try String(contentsOfFile: output, encoding: .utf8)
            #expect(!text.contains("Review-Secret-Passw0rd!"))
            #expect(!text.lowercased().contains("secret"))

            // One GetAccessKeyLastUsed per key; ListUsers asks for the page size (moto answers in
            // one page; following Marker is tested in QueryClientTests).
            #expect(proxy.actions.filter { $0 == "GetAccessKeyLastUsed" }.count == 2)
            expectCredentialCounts(table, fixture, actions: proxy.actions)
            #expect(proxy.actions.first == "GetCallerIdentity")
            let listUsers = try #require(proxy.requests.first { $0.formParameters["Action"] == "ListUsers" })
            #expect(listUsers.formParameters["PathPrefix"] == fixture.path)
            #expect(listUsers.formParameters["MaxItems"] == "2")
            #expect(!proxy.requests.contains { $0.bodyString.contains("Password=") })
        }
    }

    /// `fresh` has an SSH key and a certificate (moto has no service-specific credentials: the
    /// proxy answers an empty list); every user's three lists are read.
    func expectCredentialCounts(_ table: ReviewTable, _ fixture: ReviewFixture, actions: [String]) {
        let columns = ["ssh_keys_active", "certificates_active", "service_credentials_active"]
        #expect(columns.map { table.row(fixture.fresh)?[$0] } == ["1", "1", "0"])
        #expect(columns.map { table.row(fixture.keys)?[$0] } == ["0", "0", "0"])
        for action in ["ListSSHPublicKeys", "ListSigningCertificates", "ListServiceSpecificCredentials"] {
            #expect(actions.filter { $0 == action }.count == fixture.all.count, "\(action) per user")
        }
    }

    @Test(
        "an injected clock years ahead makes every never-used and used profile inactive; the batch lists exactly them")
    func injectedClock() async throws {
        let fixture = ReviewFixture()
        let dir = try TemporaryDirectory()
        let now = Date()
        try await Moto.withSession { _, admin, _ in
            let created = try await fixture.setUp(admin)
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!,
                rewrite: MotoGaps.filling(fixture.rewrite(now: now, activeKey: created.activeKey)))
            defer { Task { await proxy.stop() } }
            let future = now.addingTimeInterval(3 * 365 * 86_400)
            let emit = dir.path + "/offboard.csv"
            let result = await ReviewRun.execute(
                configuration(
                    endpoint: proxy.url, output: dir.path + "/review.csv", path: fixture.path, inactiveDays: 365,
                    emitBatch: emit, now: future))
            #expect(result.exitStatus == .success, "\(result.errors)")
            let expected = [fixture.fresh, fixture.plain, fixture.recent, fixture.stale]
            #expect(result.inactiveUsers == expected)
            #expect(result.summary?.inactive == 4)
            let batch = try String(contentsOfFile: emit, encoding: .utf8)
            #expect(batch == "user,action\n" + expected.map { "\($0),disable\n" }.joined())
            let table = try ReviewTable(path: dir.path + "/review.csv")
            #expect(table.row(fixture.keys)?["inactive"] == "false", "no console access is never inactive")

            // The emitted file is a valid batch input, every row a disable.
            let input = try BatchInput.load(.path(emit), options: BatchInputOptions())
            #expect(input.rowErrors.isEmpty)
            #expect(input.jobs.map(\.user) == expected)
            #expect(input.jobs.allSatisfy { $0.action == .disable })
        }
    }

    @Test("--path-prefix and --user-regex narrow the users; without --inactive-days the column is empty")
    func filters() async throws {
        let fixture = ReviewFixture()
        let dir = try TemporaryDirectory()
        try await Moto.withSession { _, admin, _ in
            _ = try await fixture.setUp(admin)
            let other = "/" + Moto.uniqueName("elsewhere") + "/"
            try await admin.createUser("fresh-other-\(fixture.tag)", path: other)
            let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!, rewrite: MotoGaps.filling())
            defer { Task { await proxy.stop() } }
            let output = dir.path + "/review.csv"
            let result = await ReviewRun.execute(
                configuration(
                    endpoint: proxy.url, output: output, path: fixture.path, userRegex: "^(fresh|stale)-"))
            #expect(result.exitStatus == .success, "\(result.errors)")
            let table = try ReviewTable(path: output)
            #expect(table.users == [fixture.fresh, fixture.stale])
            #expect(table.rows.allSatisfy { $0["inactive"] == "" })
            #expect(result.summary?.inactive == nil)

            let byRegex = await ReviewRun.execute(
                configuration(
                    endpoint: proxy.url, output: dir.path + "/all.csv", path: nil,
                    userRegex: "^fresh-(other-)?\(fixture.tag)$"))
            #expect(byRegex.exitStatus == .success)
            #expect(byRegex.reviews.map(\.userName) == [fixture.fresh, "fresh-other-\(fixture.tag)"])
        }
    }

    @Test("a user that cannot be read: exit 1, its row says why, every other row written; throttles are retried")
    func unreadableUser() async throws {
        let fixture = ReviewFixture()
        let dir = try TemporaryDirectory()
        let throttled = NIOLockedValueBox(0)
        try await Moto.withSession { _, admin, _ in
            _ = try await fixture.setUp(admin)
            let broken = fixture.plain
            let rule: RecordingProxy.FaultRule = { request, _ in
                let parameters = request.formParameters
                if parameters["Action"] == "ListMFADevices" && parameters["UserName"] == broken {
                    return .serviceFailure  // retryable, but every attempt fails
                }
                if parameters["Action"] == "ListAccessKeys" && parameters["UserName"] == fixture.fresh {
                    let first = throttled.withLockedValue { count -> Bool in
                        count += 1
                        return count == 1
                    }
                    if first { return .throttling }
                }
                return nil
            }
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!, rule: rule, rewrite: MotoGaps.filling())
            defer { Task { await proxy.stop() } }
            let output = dir.path + "/review.csv"
            let emit = dir.path + "/offboard.csv"
            let result = await ReviewRun.execute(
                configuration(
                    endpoint: proxy.url, output: output, path: fixture.path, inactiveDays: 1, emitBatch: emit,
                    now: Date().addingTimeInterval(10 * 86_400)))
            #expect(result.exitStatus == .failure)
            #expect(result.errors.count == 1)
            #expect(result.errors.first?.contains("could not read user \(broken)") == true)
            #expect(result.errors.first?.contains("iam:ListMFADevices") == true)
            #expect(result.summary?.unreadable == 1)
            #expect(result.summary?.throttledCalls == 1)
            let table = try ReviewTable(path: output)
            #expect(table.users == fixture.all)
            let row = try #require(table.row(broken))
            #expect(row["error"]?.contains("ServiceFailure") == true)
            #expect(row["inactive"] == "", "an unreadable user is not judged")
            #expect(row["mfa_devices"] == "")
            #expect(table.row(fixture.fresh)?["error"] == "")
            #expect(table.row(fixture.fresh)?["access_keys"] == "0")
            // The unreadable user is never in the batch; the others are.
            #expect(!result.inactiveUsers.contains(broken))
            #expect(result.inactiveUsers == [fixture.fresh, fixture.recent, fixture.stale])
            #expect(try String(contentsOfFile: emit, encoding: .utf8).contains(broken) == false)
            #expect(result.notes.contains { $0.contains("1 unreadable user was not judged") })
            #expect(proxy.actions.filter { $0 == "ListMFADevices" }.count >= 5 + 4, "retried up to 5 attempts")
        }
    }

    @Test("at most --concurrency users in flight", arguments: [1, 3])
    func boundedConcurrency(concurrency: Int) async throws {
        let fixture = ReviewFixture()
        let inFlight = NIOLockedValueBox((now: 0, peak: 0))
        try await Moto.withSession { _, admin, _ in
            _ = try await fixture.setUp(admin)
            for index in 0..<5 { try await admin.createUser("extra\(index)-\(fixture.tag)", path: fixture.path) }
            let client = try AWSHTTPClient()
            let upstream = Moto.endpoint!
            let server = try await LocalHTTPServer { request in
                inFlight.withLockedValue {
                    $0.now += 1
                    $0.peak = max($0.peak, $0.now)
                }
                try? await Task.sleep(for: .milliseconds(5))
                defer { inFlight.withLockedValue { $0.now -= 1 } }
                let headers = request.headers.filter {
                    !["connection", "content-length"].contains($0.name.lowercased())
                }
                do {
                    let response = try await client.send(
                        HTTPRequestData(
                            url: upstream + request.uri, method: request.method, headers: headers,
                            body: request.body), timeout: .seconds(30))
                    return .respond(MotoGaps.filling()(request, response))
                } catch {
                    return .respond(HTTPResponseData(status: 502))
                }
            }
            let dir = try TemporaryDirectory()
            let result = await ReviewRun.execute(
                configuration(
                    endpoint: server.url, output: dir.path + "/review.csv", path: fixture.path,
                    concurrency: concurrency))
            await server.stop()
            try await client.shutdown()
            #expect(result.exitStatus == .success, "\(result.errors)")
            #expect(result.reviews.count == 10)
            #expect(result.reviews.map(\.userName) == result.reviews.map(\.userName).sorted())
            let peak = inFlight.withLockedValue { $0.peak }
            #expect(peak <= concurrency)
            if concurrency > 1 { #expect(peak > 1, "users were read in parallel") }
        }
    }

    @Test("credentials: a key moto does not know exits 3 before any user is listed; no server exits 1")
    func credentialFailures() async throws {
        let dir = try TemporaryDirectory()
        // Signature checking in a private server, so the shared one keeps auth off.
        guard let moto = try await PrivateMoto.start() else { return }
        defer { moto.stop() }
        try await Moto.withSession(endpoint: moto.endpoint) { _, admin, _ in
            try await admin.createUser(Moto.uniqueName("someone"))
        }
        _ = try await Moto.control(moto.endpoint, path: "/moto-api/reset-auth", body: "0")
        var config = configuration(endpoint: moto.endpoint, output: dir.path + "/review.csv", path: nil)
        config.aws.credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wrong")
        let denied = await ReviewRun.execute(config)
        #expect(denied.exitStatus == .credentials)
        #expect(denied.summary == nil)
        #expect(denied.errors.first?.contains("sts:GetCallerIdentity") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/review.csv"))

        var unreachable = configuration(
            endpoint: "http://127.0.0.1:9", output: dir.path + "/review.csv", path: nil)
        unreachable.retry = RetryPolicy(maxAttempts: 1)
        let down = await ReviewRun.execute(unreachable)
        #expect(down.exitStatus == .failure)
        #expect(down.errors.first?.contains("GetCallerIdentity") == true)
    }
}
