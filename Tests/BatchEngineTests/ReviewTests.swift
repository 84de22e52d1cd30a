import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery
@testable import BatchEngine

/// A review CSV read back: the header and one dictionary per row, by column name.
struct ReviewTable {
    let header: [String]
    let rows: [[String: String]]

    init(path: String) throws {
        let records = try CSVReader(.path(path)).readAll()
        header = records.first?.fields ?? []
        let header = self.header
        rows = records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record.fields))
        }
    }

    init(text: String) throws {
        let records = try CSVReader(.bytes(Array(text.utf8))).readAll()
        header = records.first?.fields ?? []
        let header = self.header
        rows = records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record.fields))
        }
    }

    func row(_ user: String) -> [String: String]? { rows.first { $0["user"] == user } }
    var users: [String] { rows.compactMap { $0["user"] } }
}

/// Users in every state the review distinguishes, under a path of their own so assertions on a
/// shared moto server are exact.
struct ReviewFixture {
    let path = "/" + Moto.uniqueName("review") + "/"
    let tag = String(UUID().uuidString.prefix(6).lowercased())
    /// No console access; one active key (used), one inactive key (never used).
    var keys: String { "keys-\(tag)" }
    /// Console access never used, MFA device, IAMUserChangePassword attached.
    var fresh: String { "fresh-\(tag)" }
    /// Console access, password used two days ago.
    var recent: String { "recent-\(tag)" }
    /// Console access, password last used 400 days ago.
    var stale: String { "stale-\(tag)" }
    /// Console access never used, nothing else.
    var plain: String { "plain-\(tag)" }
    var all: [String] { [fresh, keys, plain, recent, stale] }

    static let changePassword = "arn:aws:iam::aws:policy/IAMUserChangePassword"
    static let keyUsed = ISO8601.parse("2024-03-04T05:06:07Z")!

    struct Created {
        var activeKey: String
        var inactiveKey: String
    }

    func setUp(_ admin: MotoAdmin) async throws -> Created {
        for user in all { try await admin.createUser(user, path: path) }
        let active = try await admin.createAccessKey(keys).accessKeyId
        let inactive = try await admin.createAccessKey(keys).accessKeyId
        _ = try await admin.iam.call(
            "UpdateAccessKey",
            [
                QueryParameter("UserName", keys), QueryParameter("AccessKeyId", inactive),
                QueryParameter("Status", "Inactive"),
            ])
        for user in [fresh, recent, stale, plain] {
            try await admin.createLoginProfile(user, password: "Review-Secret-Passw0rd!")
        }
        _ = try await admin.enableVirtualMFA(fresh)
        try await admin.attachUserPolicy(fresh, policyArn: Self.changePassword)
        try await admin.attachUserPolicy(recent, policyArn: Self.changePassword)
        return Created(activeKey: active, inactiveKey: inactive)
    }

    /// Rewrites moto's answers with the times it cannot set: `PasswordLastUsed` in
    /// `ListUsers`/`GetUser` and a login profile created 500 days ago for `recent` and
    /// `stale`, and `LastUsedDate` for `activeKey`.
    func rewrite(now: Date, activeKey: String) -> RecordingProxy.ResponseRewrite {
        let passwordUsed = [
            recent: now.addingTimeInterval(-2 * 86_400), stale: now.addingTimeInterval(-400 * 86_400),
        ]
        return { request, response in
            let action = request.formParameters["Action"]
            var body = String(decoding: response.body, as: UTF8.self)
            if action == "GetLoginProfile", let user = request.formParameters["UserName"],
                passwordUsed[user] != nil
            {
                // Their profiles predate the last use (moto dates every profile now).
                body = body.replacingOccurrences(
                    of: "<CreateDate>[^<]*</CreateDate>",
                    with: "<CreateDate>\(ISO8601.format(now.addingTimeInterval(-500 * 86_400)))</CreateDate>",
                    options: .regularExpression)
            } else if action == "ListUsers" || action == "GetUser" {
                for (user, date) in passwordUsed {
                    body = body.replacingOccurrences(
                        of: "<UserName>\(user)</UserName>",
                        with: "<UserName>\(user)</UserName><PasswordLastUsed>\(ISO8601.format(date))</PasswordLastUsed>"
                    )
                }
            } else if action == "GetAccessKeyLastUsed", request.formParameters["AccessKeyId"] == activeKey {
                body = """
                    <GetAccessKeyLastUsedResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\
                    <GetAccessKeyLastUsedResult><UserName>\(keys)</UserName><AccessKeyLastUsed>\
                    <LastUsedDate>\(ISO8601.format(Self.keyUsed))</LastUsedDate><ServiceName>s3</ServiceName>\
                    <Region>us-east-1</Region></AccessKeyLastUsed></GetAccessKeyLastUsedResult>\
                    <ResponseMetadata><RequestId>rewritten</RequestId></ResponseMetadata>\
                    </GetAccessKeyLastUsedResponse>
                    """
            } else {
                return response
            }
            var rewritten = response
            rewritten.body = Array(body.utf8)
            return rewritten
        }
    }
}

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
                upstream: Moto.endpoint!, rewrite: fixture.rewrite(now: now, activeKey: created.activeKey))
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
            #expect(proxy.actions.first == "GetCallerIdentity")
            let listUsers = try #require(proxy.requests.first { $0.formParameters["Action"] == "ListUsers" })
            #expect(listUsers.formParameters["PathPrefix"] == fixture.path)
            #expect(listUsers.formParameters["MaxItems"] == "2")
            #expect(!proxy.requests.contains { $0.bodyString.contains("Password=") })
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
                upstream: Moto.endpoint!, rewrite: fixture.rewrite(now: now, activeKey: created.activeKey))
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
            let output = dir.path + "/review.csv"
            let result = await ReviewRun.execute(
                configuration(
                    endpoint: Moto.endpoint!, output: output, path: fixture.path, userRegex: "^(fresh|stale)-"))
            #expect(result.exitStatus == .success, "\(result.errors)")
            let table = try ReviewTable(path: output)
            #expect(table.users == [fixture.fresh, fixture.stale])
            #expect(table.rows.allSatisfy { $0["inactive"] == "" })
            #expect(result.summary?.inactive == nil)

            let byRegex = await ReviewRun.execute(
                configuration(
                    endpoint: Moto.endpoint!, output: dir.path + "/all.csv", path: nil,
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
            let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!) { request, _ in
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
                    return .respond(
                        try await client.send(
                            HTTPRequestData(
                                url: upstream + request.uri, method: request.method, headers: headers,
                                body: request.body), timeout: .seconds(30)))
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

    @Test("credentials: an unknown key exits 3 before any user is listed; no server exits 1")
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
        config.aws.credentials = AWSCredentials(accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "wrong")
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

/// Usage errors: refused before any AWS call (the endpoint has nothing listening).
@Suite("Review usage errors")
struct ReviewUsageTests {
    func run(_ configure: (inout ReviewConfiguration) -> Void) async -> ReviewResult {
        var configuration = ReviewConfiguration(
            output: "-", aws: Moto.configuration(endpoint: "http://127.0.0.1:9"))
        configure(&configuration)
        return await ReviewRun.execute(configuration)
    }

    @Test("an invalid regex exits 2")
    func invalidRegex() async {
        let result = await run { $0.userRegex = "([a-z" }
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("--user-regex: '([a-z' is not a valid regular expression") == true)
    }

    @Test("--emit-batch without --inactive-days exits 2")
    func emitWithoutDays() async throws {
        let dir = try TemporaryDirectory()
        let result = await run { $0.emitBatch = dir.path + "/out.csv" }
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("--emit-batch needs --inactive-days") == true)
    }

    @Test("an existing --emit-batch file exits 2 and is left as it was")
    func existingEmitFile() async throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("out.csv", "keep me\n")
        let result = await run {
            $0.emitBatch = path
            $0.inactiveDays = 90
        }
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("already exists") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me\n")
    }

    @Test("out-of-range numbers and a relative path prefix exit 2")
    func ranges() async {
        #expect(await run { $0.concurrency = 0 }.exitStatus == .usage)
        #expect(await run { $0.concurrency = 65 }.exitStatus == .usage)
        #expect(await run { $0.inactiveDays = 0 }.exitStatus == .usage)
        #expect(await run { $0.pathPrefix = "engineering/" }.exitStatus == .usage)
    }

    @Test("EmittedBatch.write never replaces a file that appeared meanwhile")
    func emitRace() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("out.csv", "someone else's\n")
        #expect(throws: EmittedBatch.EmitError.self) { try EmittedBatch.write(users: ["a"], to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "someone else's\n")
        let fresh = dir.path + "/new.csv"
        try EmittedBatch.write(users: ["a", "b"], to: fresh)
        #expect(try String(contentsOfFile: fresh, encoding: .utf8) == "user,action\na,disable\nb,disable\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["new.csv", "out.csv"])
    }
}

/// The inactivity rule and the CSV row, without a server.
@Suite("Review rule and columns")
struct ReviewRuleTests {
    static let now = ISO8601.parse("2025-06-01T00:00:00Z")!

    func user(created: String = "2020-01-01T00:00:00Z", lastUsed: String? = nil) -> IAMUser {
        var xml = "<member><UserName>u</UserName><Arn>arn:aws:iam::1:user/u</Arn><Path>/</Path>"
        xml += "<CreateDate>\(created)</CreateDate>"
        if let lastUsed { xml += "<PasswordLastUsed>\(lastUsed)</PasswordLastUsed>" }
        xml += "</member>"
        return IAMUser(try! XMLTree.parse(Array(xml.utf8)))
    }

    func profile(created: String) -> LoginProfile {
        LoginProfile(
            try! XMLTree.parse(
                Array(
                    "<LoginProfile><UserName>u</UserName><CreateDate>\(created)</CreateDate><PasswordResetRequired>true</PasswordResetRequired></LoginProfile>"
                        .utf8)))
    }

    @Test("more than N days, by last use or (never used) by profile creation; re-created profiles count from creation")
    func rule() {
        let rule = InactivityRule(days: 90, now: Self.now)
        let old = profile(created: "2024-01-01T00:00:00Z")
        // Used 91 days ago: inactive; 89 days ago: not; exactly 90 days: not (more than N).
        #expect(rule.isInactive(UserReview(user: user(lastUsed: "2025-03-02T00:00:00Z"), loginProfile: old)))
        #expect(!rule.isInactive(UserReview(user: user(lastUsed: "2025-03-04T00:00:00Z"), loginProfile: old)))
        #expect(!rule.isInactive(UserReview(user: user(lastUsed: "2025-03-03T00:00:00Z"), loginProfile: old)))
        // Never used: the profile's age decides.
        #expect(rule.isInactive(UserReview(user: user(), loginProfile: old)))
        #expect(!rule.isInactive(UserReview(user: user(), loginProfile: profile(created: "2025-05-01T00:00:00Z"))))
        // Used long ago, but console access re-created last week: not inactive.
        #expect(
            !rule.isInactive(
                UserReview(
                    user: user(lastUsed: "2023-01-01T00:00:00Z"), loginProfile: profile(created: "2025-05-25T00:00:00Z")
                )))
        // No console access, or unreadable: never inactive.
        #expect(!rule.isInactive(UserReview(user: user(lastUsed: "2020-01-01T00:00:00Z"))))
        #expect(!rule.isInactive(UserReview(user: user(), loginProfile: old, error: "boom")))
    }

    @Test("the row has one cell per header column, dates in ISO 8601 UTC")
    func row() {
        let review = UserReview(
            user: user(lastUsed: "2025-05-01T10:00:00.000+02:00"),
            loginProfile: profile(created: "2024-01-01T00:00:00Z"),
            mfaDevices: 1,
            accessKeys: [
                ReviewedAccessKey(
                    accessKeyId: "AKIAEXAMPLE1", status: .active, created: ISO8601.parse("2024-02-02T00:00:00Z"),
                    lastUsed: nil)
            ], changePasswordPolicyAttached: true)
        let fields = ReviewCSV.fields(review, rule: InactivityRule(days: 30, now: Self.now), now: Self.now)
        #expect(fields.count == ReviewCSV.header.count)
        let row = Dictionary(uniqueKeysWithValues: zip(ReviewCSV.header, fields))
        #expect(row["password_last_used"] == "2025-05-01T08:00:00Z")
        #expect(row["console_idle_days"] == "30")
        #expect(row["inactive"] == "true")
        #expect(row["access_key_1_id"] == "AKIAEXAMPLE1")
        #expect(row["access_key_1_created"] == "2024-02-02T00:00:00Z")
        #expect(row["access_key_1_last_used"] == "")
        #expect(row["access_key_2_id"] == "")
        #expect(row["password_reset_required"] == "true")
        #expect(row["user_created"] == "2020-01-01T00:00:00Z")
    }
}
