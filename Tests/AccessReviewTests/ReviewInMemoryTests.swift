import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import AccessReview

/// The review engine (setup, listing, per-user reads, judging, the emitted batch, the report
/// source's fallback) with the in-memory IAM behind the connector seam. The wire and the real
/// credential report stay in the moto suites.
@Suite("Review engine on the in-memory IAM")
struct ReviewInMemoryTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    func configuration(_ iam: InMemoryIAM, in dir: TemporaryDirectory, source: ReviewSource) -> ReviewConfiguration {
        ReviewTesting.configuration(
            connector: InMemoryConnector(iam: iam), output: dir.path + "/review.csv", now: Self.now, source: source,
            inactiveDays: 90, emitBatch: dir.path + "/offboard.csv")
    }

    func seed(_ iam: InMemoryIAM) async {
        let old = Self.now.addingTimeInterval(-400 * 86_400)
        for user in ["active", "stale", "nologin"] { _ = await iam.addUser(user, created: old) }
        await iam.addLoginProfile("active", created: old)
        await iam.setPasswordLastUsed("active", Self.now.addingTimeInterval(-2 * 86_400))
        await iam.addLoginProfile("stale", created: old)
        await iam.setPasswordLastUsed("stale", old)
    }

    @Test("per user: every user read, the stale one emitted, the calls counted")
    func perUser() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .perUser))
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.reviews.map(\.userName) == ["active", "nologin", "stale"])
        #expect(result.inactiveUsers == ["stale"])
        let emitted = try String(contentsOfFile: dir.path + "/offboard.csv", encoding: .utf8)
        #expect(emitted.contains("stale,disable"))
        #expect(!emitted.contains("active,"))
        #expect(result.summary?.apiCalls == (await iam.calls.count) + 1, "every IAM call and the identity check")
    }

    @Test("per user: a user that cannot be read is reported, not judged, and the exit status says why")
    func unreadableUser() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403), on: "ListAccessKeys", user: "stale")
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .perUser))
        #expect(result.exitStatus == .credentials)
        #expect(result.summary?.unreadable == 1)
        #expect(result.errors.contains { $0.contains("could not read user stale") })
        #expect(result.inactiveUsers.isEmpty, "an unreadable user is not judged")
    }

    @Test("report source: AccessDenied on the report falls back to per-user reads, with a warning")
    func reportFallback() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403), on: "GenerateCredentialReport")
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .report))
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.notes.contains { $0.contains("reviewing with per-user calls instead") })
        #expect(result.inactiveUsers == ["stale"])
        #expect(await iam.count("ListUsers") >= 1)
    }

    @Test("after the report's AccessDenied fallback, --format json and --evidence still apply (per-user pack)")
    func fallbackKeepsJSONAndEvidence() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403), on: "GenerateCredentialReport")
        var config = configuration(iam, in: dir, source: .report)
        config.format = .json
        config.output = dir.path + "/review.json"
        config.evidence = dir.path + "/pack"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(!result.notes.contains { $0.contains("not applied per user") }, "\(result.notes)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config.output)))
                as? [String: Any])
        let users = try #require(document["users"] as? [[String: String]])
        #expect(users.map { $0["user"] } == ["active", "nologin", "stale"])
        #expect(users.first { $0["user"] == "stale" }?["inactive"] == "true")
        #expect(result.summary?.evidence == config.evidence)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/pack").sorted()
        #expect(names == ["batch.csv", "manifest.json", "review.csv", "review.json"])
        let manifestData = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/pack/manifest.json"))
        let manifest = try JSONDecoder().decode(EvidencePack.Manifest.self, from: manifestData)
        #expect(manifest.source == "per-user")
        #expect(manifest.reportGenerated == nil)
        #expect(manifest.accountId == "123456789012")
        #expect(manifest.counts["inactive"] == 1)
        for name in names where name != "manifest.json" {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: dir.path + "/pack/" + name)))
            #expect(manifest.files[name] == EvidencePack.sha256Hex(bytes), "\(name)")
        }
        let batch = try String(contentsOfFile: dir.path + "/pack/batch.csv", encoding: .utf8)
        #expect(batch == "user,action\nstale,disable\n")
    }
}
