import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

/// Rewrites moto's `GetCredentialReport` answer: moto dates everything "now" and never records
/// a sign-in, so aged dates are set here, in the report itself (decoded, edited by column name,
/// encoded again), and `GeneratedTime` can be set to test reuse.
struct CredentialReportRewrite: Sendable {
    /// user → column → new value.
    var cells: [String: [String: String]] = [:]
    var generatedTime: Date?
    /// Answer every `GetCredentialReport` with a report (an empty one when moto had none):
    /// the shared moto server may be reset by another test at any time.
    var alwaysPresent = false

    func callAsFunction(_ request: ReceivedRequest, _ response: HTTPResponseData) -> HTTPResponseData {
        guard request.formParameters["Action"] == "GetCredentialReport" else { return response }
        var response = response
        if alwaysPresent && response.status != 200 {
            let header = CredentialReportParser.requiredColumns.joined(separator: ",") + "\n"
            response.status = 200
            response.body = Array(
                """
                <GetCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\
                <GetCredentialReportResult><Content>\(Data(header.utf8).base64EncodedString())</Content>\
                <ReportFormat>text/csv</ReportFormat><GeneratedTime>2015-02-02T20:02:02Z</GeneratedTime>\
                </GetCredentialReportResult><ResponseMetadata><RequestId>synthesized</RequestId>\
                </ResponseMetadata></GetCredentialReportResponse>
                """.utf8)
        }
        var body = String(decoding: response.body, as: UTF8.self)
        if let range = body.range(of: "(?<=<Content>)[^<]*(?=</Content>)", options: .regularExpression),
            let data = Data(base64Encoded: String(body[range]), options: .ignoreUnknownCharacters)
        {
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            let header = lines.first ?? []
            for index in lines.indices.dropFirst() {
                guard let changes = cells[lines[index][0]] else { continue }
                for (column, value) in changes {
                    if let at = header.firstIndex(of: column) { lines[index][at] = value }
                }
            }
            let text = lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
            body.replaceSubrange(range, with: Data(text.utf8).base64EncodedString())
        }
        if let generatedTime {
            body = body.replacingOccurrences(
                of: "<GeneratedTime>[^<]*</GeneratedTime>",
                with: "<GeneratedTime>\(ISO8601.format(generatedTime))</GeneratedTime>", options: .regularExpression)
        }
        var rewritten = response
        rewritten.body = Array(body.utf8)
        return rewritten
    }
}

@Suite(
    "Review from the credential report, against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ReportReviewTests {
    static let fastRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(2), maxBackoff: .milliseconds(20))
    static let fastWait = ReportWaitPolicy(
        timeLimit: .seconds(20), initialDelay: .milliseconds(5), maxDelay: .milliseconds(20))

    /// Users in every state, under a path of their own.
    struct Fixture {
        let path = "/" + Moto.uniqueName("report") + "/"
        let tag = String(UUID().uuidString.prefix(6).lowercased())
        var used: String { "used-\(tag)" }  // console used 2 days ago
        var stale: String { "stale-\(tag)" }  // console used 131 days ago; an SSH key, a certificate
        var never: String { "never-\(tag)" }  // never signed in, password set 200 days ago
        var fresh: String { "fresh-\(tag)" }  // never signed in, password set now; MFA
        var nothing: String { "nothing-\(tag)" }  // no password, no key
        var oneKey: String { "onekey-\(tag)" }  // one active key, last used 95 days ago
        var twoKeys: String { "twokeys-\(tag)" }  // one active (never used, new), one inactive
        var all: [String] { [used, stale, never, fresh, nothing, oneKey, twoKeys] }

        func setUp(_ admin: MotoAdmin) async throws -> String {
            for user in all { try await admin.createUser(user, path: path) }
            for user in [used, stale, never, fresh] {
                try await admin.createLoginProfile(user, password: "Report-Secret-Passw0rd!")
            }
            _ = try await admin.enableVirtualMFA(fresh)
            _ = try await admin.uploadSSHPublicKey(stale)
            _ = try await admin.uploadSigningCertificate(stale)
            let key = try await admin.createAccessKey(oneKey).accessKeyId
            _ = try await admin.createAccessKey(twoKeys)
            let second = try await admin.createAccessKey(twoKeys).accessKeyId
            _ = try await admin.iam.call(
                "UpdateAccessKey",
                [
                    QueryParameter("UserName", twoKeys), QueryParameter("AccessKeyId", second),
                    QueryParameter("Status", "Inactive"),
                ])
            return key
        }

        func rewrite(now: Date) -> CredentialReportRewrite {
            func ago(_ days: Double) -> String {
                ISO8601.format(now.addingTimeInterval(-days * 86_400)).replacingOccurrences(of: "Z", with: "+00:00")
            }
            return CredentialReportRewrite(cells: [
                used: ["password_last_used": ago(2)],
                stale: ["password_last_used": ago(131.2)],
                never: ["password_last_changed": ago(200.5)],
                oneKey: ["access_key_1_last_used_date": ago(95.1)],
            ])
        }
    }

    func configuration(_ endpoint: String, path: String, now: Date) -> ReviewConfiguration {
        var configuration = ReviewConfiguration(
            output: "-", pathPrefix: path, inactiveDays: 90, retry: Self.fastRetry,
            aws: Moto.configuration(endpoint: endpoint), now: now)
        configuration.reportWait = Self.fastWait
        return configuration
    }

    /// The review CSV at `path`, each row as column → value, by user.
    static func rows(_ path: String) throws -> [String: [String: String]] {
        Dictionary(try ReviewTesting.rows(path).map { ($0["user"] ?? "", $0) }, uniquingKeysWith: { $1 })
    }

    @Test("every state from moto's report; reasons; a handful of calls; batch and evidence pack")
    func eachState() async throws {
        let fixture = Fixture()
        let dir = try TemporaryDirectory()
        let now = Date()
        try await Moto.withSession { _, admin, _ in
            let key = try await fixture.setUp(admin)
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!, rewrite: MotoGaps.filling { fixture.rewrite(now: now)($0, $1) })
            defer { Task { await proxy.stop() } }
            var config = configuration(proxy.url, path: fixture.path, now: now)
            config.output = dir.path + "/review.csv"
            config.includeKeys = true
            config.detail = .flagged
            config.emitBatch = dir.path + "/batch.csv"
            config.evidence = dir.path + "/evidence"
            let result = await ReviewRun.execute(config)
            #expect(result.exitStatus == .success, "\(result.errors)")
            let byUser = try Self.rows(dir.path + "/review.csv")
            #expect(Set(byUser.keys) == Set(fixture.all), "only the path's users; no root row")
            #expect(byUser[fixture.used]?["state"] == "active")
            #expect(byUser[fixture.used]?["reason"] == "console used 2 days ago")
            #expect(byUser[fixture.stale]?["state"] == "inactive")
            #expect(byUser[fixture.stale]?["reason"] == "console unused 131 days")
            #expect(byUser[fixture.never]?["reason"] == "never signed in; password set 200 days ago")
            #expect(byUser[fixture.never]?["state"] == "inactive")
            #expect(byUser[fixture.fresh]?["state"] == "active")
            #expect(byUser[fixture.fresh]?["mfa_active"] == "true")
            #expect(byUser[fixture.nothing]?["state"] == "no_access")
            #expect(byUser[fixture.oneKey]?["state"] == "inactive")
            let short = ReportInactivityRule.shortKey(key)
            #expect(
                byUser[fixture.oneKey]?["reason"] == "key \(short) unused 95 days", "--detail-flagged names the key")
            #expect(byUser[fixture.oneKey]?["access_key_1_id"] == key)
            #expect(byUser[fixture.twoKeys]?["state"] == "active")
            #expect(byUser[fixture.twoKeys]?["access_key_1_active"] == "true")
            #expect(byUser[fixture.twoKeys]?["access_key_2_active"] == "false")
            #expect(
                byUser[fixture.used]?["change_password_policy_attached"] == "",
                "--detail-flagged reads only the marked users")
            #expect(byUser[fixture.oneKey]?["change_password_policy_attached"] != "")
            #expect(result.report?.tally.users == fixture.all.count)

            let summary = try #require(result.summary)
            #expect(summary.states?["inactive"] == 3)
            #expect(summary.states?["active"] == 3)
            #expect(summary.states?["no_access"] == 1)
            #expect(summary.reportGenerated != nil)
            #expect(result.notes.contains { $0.hasPrefix("credential report generated ") })
            let detailCalls = [
                "ListAccessKeys", "ListMFADevices", "GetLoginProfile", "ListAttachedUserPolicies", "ListSSHPublicKeys",
                "ListServiceSpecificCredentials",
            ]
            let reportCalls = proxy.actions.filter { !detailCalls.contains($0) }
            #expect(reportCalls.count <= 5, "\(reportCalls)")
            #expect(!proxy.actions.contains("ListUsers"))

            let batch = try CSVReader(.path(dir.path + "/batch.csv")).readAll().map(\.fields)
            #expect(batch.first == ["user", "action", "revoke", "reason"])
            #expect(Set(batch.dropFirst().map { $0[0] }) == [fixture.stale, fixture.never, fixture.oneKey])
            #expect(batch.dropFirst().allSatisfy { $0[1] == "disable" && !$0[2].isEmpty && !$0[3].isEmpty })

            let review = try CSVReader(.path(dir.path + "/review.csv")).readAll()
            #expect(review.first?.fields == ReportReviewCSV.header)
            #expect(review.count == fixture.all.count + 1)
            try expectCredentialCounts(dir.path + "/review.csv", fixture, actions: proxy.actions)

            let manifestData = try #require(FileManager.default.contents(atPath: dir.path + "/evidence/manifest.json"))
            let manifest = try JSONDecoder().decode(EvidencePack.Manifest.self, from: manifestData)
            #expect(manifest.accountId == "123456789012")
            #expect(manifest.callerArn.hasPrefix("arn:aws:"))
            #expect(manifest.partition == "aws")
            #expect(manifest.reportGenerated == summary.reportGenerated.map(ISO8601.format))
            #expect(manifest.options["inactive_days"] == "90")
            #expect(manifest.counts["inactive"] == 3)
            #expect(Set(manifest.files.keys) == ["review.csv", "credential-report.csv", "batch.csv"])
            for (name, digest) in manifest.files {
                let bytes = try #require(FileManager.default.contents(atPath: dir.path + "/evidence/" + name))
                #expect(EvidencePack.sha256Hex([UInt8](bytes)) == digest, "\(name)")
            }
            let raw = try String(contentsOfFile: dir.path + "/evidence/credential-report.csv", encoding: .utf8)
            #expect(raw.hasPrefix("user,arn,user_creation_time,"))
            #expect(!raw.contains("Report-Secret-Passw0rd!"))
        }
    }

    /// Certificates from moto's report; SSH keys and service-specific credentials only for the
    /// users `--detail-flagged` read (empty, unknown, for the others).
    func expectCredentialCounts(_ path: String, _ fixture: Fixture, actions: [String]) throws {
        let table = try ReviewTable(path: path)
        let stale = try #require(table.row(fixture.stale))
        #expect(stale["certificates_active"] == "1")
        #expect(stale["ssh_keys_active"] == "1")
        #expect(stale["service_credentials_active"] == "0")
        #expect(stale["mfa_device_count"] == "0")
        let fresh = try #require(table.row(fixture.fresh))
        #expect(
            [fresh["certificates_active"], fresh["ssh_keys_active"], fresh["service_credentials_active"]] == [
                "0", "", "",
            ])
        #expect(fresh["mfa_device_count"] == "", "MFA on, not read by --detail-flagged")
        #expect(actions.filter { $0 == "ListSSHPublicKeys" }.count == 3, "the 3 flagged users")
    }

    /// The fetcher alone, through the proxy, with faults injected per call.
    func fetch(
        fresh: Bool = false, policy: ReportWaitPolicy = fastWait, now: Date = Date(),
        rewrite: CredentialReportRewrite = CredentialReportRewrite(), rule: @escaping RecordingProxy.FaultRule
    ) async throws -> (Result<FetchedCredentialReport, CredentialReportUnavailable>, [String]) {
        try await Moto.withSession { _, admin, transport in
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!, rule: rule, rewrite: { rewrite($0, $1) })
            defer { Task { await proxy.stop() } }
            let session = try AWSSession.make(
                configuration: Moto.configuration(endpoint: proxy.url), transport: transport)
            let fetcher = CredentialReportFetcher(
                iam: session.iam, executor: CallExecutor(policy: Self.fastRetry), policy: policy, now: { now })
            let result: Result<FetchedCredentialReport, CredentialReportUnavailable>
            do {
                result = .success(try await fetcher.fetch(fresh: fresh))
            } catch let error as CredentialReportUnavailable {
                result = .failure(error)
            }
            return (result, proxy.actions)
        }
    }

    @Test("ReportInProgress, then the report: polled with pauses")
    func inProgress() async throws {
        let count = NIOLockedValueBox(0)
        let (result, actions) = try await fetch { request, _ in
            guard request.formParameters["Action"] == "GetCredentialReport" else { return nil }
            let n = count.withLockedValue {
                $0 += 1; return $0
            }
            return n <= 2 ? .error(code: "ReportInProgress", status: 404, message: "being generated") : nil
        }
        let fetched = try result.get()
        #expect(try fetched.content.csv.readAll().starts(with: Array("user,arn,".utf8)))
        #expect(actions.filter { $0 == "GetCredentialReport" }.count >= 3)
    }

    @Test("ReportNotPresent and ReportExpired: generated, then read")
    func notPresentAndExpired() async throws {
        for code in ["ReportNotPresent", "ReportExpired"] {
            let count = NIOLockedValueBox(0)
            let (result, actions) = try await fetch { request, _ in
                guard request.formParameters["Action"] == "GetCredentialReport" else { return nil }
                let n = count.withLockedValue {
                    $0 += 1; return $0
                }
                return n == 1 ? .error(code: code, status: 410, message: "no report") : nil
            }
            #expect(throws: Never.self) { try result.get() }
            #expect(actions.first == "GetCredentialReport", "\(code)")
            #expect(actions.contains("GenerateCredentialReport"), "\(code)")
            #expect(actions.last == "GetCredentialReport", "\(code)")
        }
    }

    @Test("LimitExceeded on GenerateCredentialReport: waited out, then generated")
    func limitExceeded() async throws {
        let count = NIOLockedValueBox(0)
        let (result, actions) = try await fetch(fresh: true) { request, _ in
            guard request.formParameters["Action"] == "GenerateCredentialReport" else { return nil }
            let n = count.withLockedValue {
                $0 += 1; return $0
            }
            return n == 1 ? .error(code: "LimitExceeded", status: 409, message: "too many") : nil
        }
        #expect(throws: Never.self) { try result.get() }
        #expect(actions.filter { $0 == "GenerateCredentialReport" }.count >= 2)
    }

    @Test("a report that never completes: a clear error at the time limit")
    func timeLimit() async throws {
        let policy = ReportWaitPolicy(
            timeLimit: .milliseconds(60), initialDelay: .milliseconds(10), maxDelay: .milliseconds(10))
        let (result, _) = try await fetch(policy: policy) { request, _ in
            request.formParameters["Action"] == "GetCredentialReport"
                ? .error(code: "ReportInProgress", status: 404, message: "being generated") : nil
        }
        #expect {
            try result.get()
        } throws: { error in
            "\(error)".contains("was not ready within") && "\(error)".contains("ReportInProgress")
        }
    }

    @Test("reuse: a report under 4 hours old is read with one call; --fresh-report generates")
    func reuse() async throws {
        let now = Date()
        let recent = CredentialReportRewrite(
            generatedTime: now.addingTimeInterval(-3600), alwaysPresent: true)
        let (reused, actions) = try await fetch(now: now, rewrite: recent) { _, _ in nil }
        #expect(try reused.get().reused)
        #expect(actions == ["GetCredentialReport"])

        let (fresh, freshActions) = try await fetch(fresh: true, now: now, rewrite: recent) { _, _ in nil }
        #expect(try fresh.get().reused == false)
        #expect(freshActions.first == "GenerateCredentialReport")

        let old = CredentialReportRewrite(
            generatedTime: now.addingTimeInterval(-5 * 3600), alwaysPresent: true)
        let (stale, staleActions) = try await fetch(now: now, rewrite: old) { _, _ in nil }
        #expect(try stale.get().reused == false)
        #expect(staleActions.contains("GenerateCredentialReport"), "older than 4 hours: regenerated")
    }

    @Test("AccessDenied on the report: per-user review with a warning; --source per-user never asks")
    func fallback() async throws {
        let fixture = Fixture()
        try await Moto.withSession { _, admin, _ in
            try await admin.createUser(fixture.used, path: fixture.path)
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!,
                rule: { request, _ in
                    let action = request.formParameters["Action"] ?? ""
                    return action.hasSuffix("CredentialReport")
                        ? .error(code: "AccessDenied", status: 403, message: "not authorized") : nil
                }, rewrite: MotoGaps.filling())
            defer { Task { await proxy.stop() } }
            let dir = try TemporaryDirectory()
            var config = configuration(proxy.url, path: fixture.path, now: Date())
            config.output = dir.path + "/review.csv"
            let result = await ReviewRun.execute(config)
            #expect(result.exitStatus == .success, "\(result.errors)")
            #expect(result.notes.contains { $0.contains("warning: the credential report is not allowed") })
            #expect(result.summary?.source == "per-user")
            #expect(result.reviews.map(\.userName) == [fixture.used])
            #expect(proxy.actions.contains("ListUsers"))
            #expect(try CSVReader(.path(config.output)).readAll().first?.fields == ReviewCSV.header)

            proxy.clearRecording()
            config.source = .perUser
            config.output = dir.path + "/again.csv"
            let direct = await ReviewRun.execute(config)
            #expect(direct.exitStatus == .success)
            #expect(!proxy.actions.contains { $0.hasSuffix("CredentialReport") })
        }
    }

    @Test("a report missing a required column: exit 1 with the column named, nothing written")
    func badReport() async throws {
        try await Moto.withSession { _, _, _ in
            let proxy = try await RecordingProxy.start(
                upstream: Moto.endpoint!,
                rewrite: { request, response in
                    guard request.formParameters["Action"] == "GetCredentialReport" else { return response }
                    let csv = Data("user,arn\nx,arn:aws:iam::1:user/x\n".utf8).base64EncodedString()
                    var body = String(decoding: response.body, as: UTF8.self)
                    body = body.replacingOccurrences(
                        of: "<Content>[^<]*</Content>", with: "<Content>\(csv)</Content>", options: .regularExpression)
                    var rewritten = response
                    rewritten.body = Array(body.utf8)
                    return rewritten
                })
            defer { Task { await proxy.stop() } }
            let dir = try TemporaryDirectory()
            var config = configuration(proxy.url, path: "/", now: Date())
            config.output = dir.path + "/review.csv"
            let result = await ReviewRun.execute(config)
            #expect(result.exitStatus == .failure)
            #expect(result.errors.first?.contains("required columns missing: user_creation_time") == true)
            #expect(!FileManager.default.fileExists(atPath: config.output))
        }
    }
}
