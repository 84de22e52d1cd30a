import AWSQuery
import CSVStream
import Foundation
import TestSupport
import Testing

@testable import AccessReview

/// The credential-report review is streamed: rows are judged, given `--detail` and written a
/// chunk at a time into spooled files, then put in place. These tests cross the chunk borders
/// and check that every user arrives once, in order, in every output, with the counts made on
/// the way.
@Suite("Credential-report review, streamed in chunks")
struct ReportStreamingTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    func configuration(_ iam: InMemoryIAM, in dir: TemporaryDirectory) -> ReviewConfiguration {
        ReviewTesting.configuration(
            connector: InMemoryConnector(iam: iam), output: dir.path + "/review.csv", now: Self.now,
            inactiveDays: 90, emitBatch: dir.path + "/offboard.csv", maxAttempts: 2)
    }

    /// `count` users `u0000`…, every third one with a console password unused for 400 days.
    func seed(_ iam: InMemoryIAM, count: Int) async -> [String] {
        let old = Self.now.addingTimeInterval(-400 * 86_400)
        var names: [String] = []
        for n in 0..<count {
            let name = String(format: "u%04d", n)
            names.append(name)
            _ = await iam.addUser(name, created: old)
            if n % 3 == 0 {
                await iam.addLoginProfile(name, created: old)
                await iam.setPasswordLastUsed(name, old)
            }
        }
        return names
    }

    @Test("more users than two chunks with --detail=all: each user once, in order, with detail, in every output")
    func acrossChunks() async throws {
        let count = 2 * ReportReviewRun.chunkSize + 88
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        let names = await seed(iam, count: count)
        var config = configuration(iam, in: dir)
        config.detail = .all
        config.evidence = dir.path + "/pack"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")

        let review = try ReviewTesting.rows(config.output)
        #expect(review.map { $0["user"] } == names)
        #expect(review.allSatisfy { $0["change_password_policy_attached"] == "false" }, "every user read")
        let stale = names.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        #expect(review.filter { $0["state"] == "inactive" }.map { $0["user"] } == stale)
        let batch = try ReviewTesting.rows(dir.path + "/offboard.csv")
        #expect(batch.map { $0["user"] } == stale)

        let tally = try #require(result.report?.tally)
        #expect(tally.users == count)
        #expect(tally.flagged == stale.count)
        #expect(tally.consoleAccess == stale.count)
        #expect(result.summary?.states?["inactive"] == stale.count)
        #expect(result.summary?.users == count)
        #expect(await iam.count("ListSSHPublicKeys") == count, "one detail read per user, none twice")

        let packReview = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/pack/review.csv")))
        #expect(packReview == (try [UInt8](Data(contentsOf: URL(fileURLWithPath: config.output)))))
        let manifest = try JSONDecoder().decode(
            EvidencePack.Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir.path + "/pack/manifest.json")))
        #expect(manifest.counts["users"] == count)
        for (name, digest) in manifest.files {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/pack/" + name)))
            #expect(EvidencePack.sha256Hex(bytes) == digest, "\(name)")
        }
    }

    @Test("--format json across chunks: the same users and values as the pack's review.csv")
    func jsonAcrossChunks() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        let names = await seed(iam, count: ReportReviewRun.chunkSize + 3)
        var config = configuration(iam, in: dir)
        config.format = .json
        config.output = dir.path + "/review.json"
        config.evidence = dir.path + "/pack"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config.output)))
                as? [String: Any])
        #expect(document["report_generated"] is String)
        let users = try #require(document["users"] as? [[String: String]])
        #expect(users.map { $0["user"] } == names)
        #expect(users == (try ReviewTesting.rows(dir.path + "/pack/review.csv")))
        let packed = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/pack").sorted()
        #expect(packed == ["batch.csv", "credential-report.csv", "manifest.json", "review.csv", "review.json"])
    }

    @Test("no user left after the filter: a CSV of the header alone, JSON with an empty users list, no batch rows")
    func nobody() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        _ = await seed(iam, count: 4)
        var config = configuration(iam, in: dir)
        config.userRegex = "^nobody$"
        var result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(try CSVReader(.path(config.output)).readAll().map(\.fields) == [ReportReviewCSV.header])
        #expect(try ReviewTesting.rows(dir.path + "/offboard.csv").isEmpty)

        config.format = .json
        config.output = dir.path + "/review.json"
        config.emitBatch = nil
        result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config.output)))
                as? [String: Any])
        #expect((document["users"] as? [Any])?.isEmpty == true)
    }

    @Test("--detail failing for many users: the first 50 named, the rest counted; every row has its error; exit 1")
    func manyDetailFailures() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        let names = await seed(iam, count: 60)
        await iam.inject(.error(.serviceFailure, httpStatus: 500), on: "ListSSHPublicKeys", times: 1_000)
        var config = configuration(iam, in: dir)
        config.detail = .all
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .failure)
        let named = result.errors.filter { $0.hasPrefix("--detail could not read user ") }
        #expect(named.count == ReportReviewTally.maxErrors)
        #expect(result.errors.contains { $0.hasPrefix("--detail could not read 10 more users") }, "\(result.errors)")
        #expect(result.summary?.unreadable == names.count)
        let review = try ReviewTesting.rows(config.output)
        #expect(review.count == names.count)
        #expect(review.allSatisfy { $0["error"]?.contains("ListSSHPublicKeys") == true })
    }

    @Test("--output replacing a file keeps its permissions (a 0600 review stays 0600)")
    func keepsMode() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        _ = await seed(iam, count: 3)
        let config = configuration(iam, in: dir)
        FileManager.default.createFile(atPath: config.output, contents: Data("old".utf8))
        chmod(config.output, 0o600)
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let mode = try FileManager.default.attributesOfItem(atPath: config.output)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try ReviewTesting.rows(config.output).count == 3)
    }
}
