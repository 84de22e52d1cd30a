import AWSQuery
import BatchEngine
import CSVStream
import Foundation
import TestSupport
import Testing

@testable import AccessReview

/// `review --accounts`: each account from its own credential report, through its role, merged
/// into one review, one batch file `batch` runs as is, and one evidence pack.
@Suite("Review across accounts (in memory)")
struct AccountsReviewTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let base = "123456789012"
    static let memberA = "210987654321"
    static let denied = "444444444444"

    struct World {
        let base = InMemoryIAM(accountId: AccountsReviewTests.base, now: { AccountsReviewTests.now })
        let a = InMemoryIAM(accountId: AccountsReviewTests.memberA, now: { AccountsReviewTests.now })

        var connector: InMemoryConnector {
            var connector = InMemoryConnector(iam: base)
            connector.members = [AccountsReviewTests.memberA: a]
            connector.deniedAccounts = [AccountsReviewTests.denied]
            return connector
        }

        /// In each account: `stale` (console unused 400 days) and `active` (used 2 days ago).
        func seed() async {
            let old = AccountsReviewTests.now.addingTimeInterval(-400 * 86_400)
            for iam in [base, a] {
                for user in ["active", "stale"] {
                    _ = await iam.addUser(user, created: old)
                    await iam.addLoginProfile(user, created: old)
                }
                await iam.setPasswordLastUsed("active", AccountsReviewTests.now.addingTimeInterval(-2 * 86_400))
                await iam.setPasswordLastUsed("stale", old)
            }
        }
    }

    func configuration(_ world: World, in dir: TemporaryDirectory, accounts: [String]) -> ReviewConfiguration {
        var configuration = ReviewTesting.configuration(
            connector: world.connector, output: dir.path + "/review.csv", now: Self.now, inactiveDays: 90,
            emitBatch: dir.path + "/offboard.csv", maxAttempts: 2)
        configuration.accounts = AccountOptions(targets: .list(accounts))
        return configuration
    }

    @Test("one review with an account column; a batch file batch runs as is, each user in its own account")
    func mergedReviewAndBatch() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.seed()
        let config = configuration(world, in: dir, accounts: [Self.base, Self.memberA])
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let review = try ReviewTesting.rows(config.output)
        let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: config.output)), as: UTF8.self)
        #expect(review.count == 4, "\(raw)")
        #expect(
            Set(review.map { "\($0["user"] ?? "")@\($0["account"] ?? "")=\($0["state"] ?? "")" }) == [
                "active@\(Self.base)=active", "stale@\(Self.base)=inactive", "active@\(Self.memberA)=active",
                "stale@\(Self.memberA)=inactive",
            ])
        #expect(result.summary?.users == 4)
        #expect(result.summary?.inactive == 2)
        #expect(result.summary?.accounts?[Self.memberA]?["inactive"] == 1)

        let batchRows = try ReviewTesting.rows(dir.path + "/offboard.csv")
        #expect(Set(batchRows.map { $0["account"] }) == [Self.base, Self.memberA])
        var batch = BatchConfiguration(
            input: .path(dir.path + "/offboard.csv"), reportPath: dir.path + "/report.csv",
            retry: config.retry, aws: config.aws)
        batch.connector = world.connector
        let ran = await BatchRun.execute(batch)
        #expect(ran.exitStatus == .success, "\(ran.errors)")
        for iam in [world.base, world.a] {
            #expect(await iam.loginProfile("stale") == nil)
            #expect(await iam.loginProfile("active") != nil)
        }
    }

    @Test("evidence pack: merged files, a manifest listing the accounts, and each account's report and manifest")
    func evidence() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.seed()
        var config = configuration(world, in: dir, accounts: [Self.base, Self.memberA])
        config.format = .json
        config.output = dir.path + "/review.json"
        config.evidence = dir.path + "/pack"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let pack = dir.path + "/pack"
        let manifest = try JSONDecoder().decode(
            EvidencePack.Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: pack + "/manifest.json")))
        #expect(manifest.accounts == [Self.base, Self.memberA])
        #expect(manifest.counts["users"] == 4)
        #expect(
            Set(manifest.files.keys) == [
                "review.csv", "review.json", "batch.csv", "\(Self.base)/credential-report.csv",
                "\(Self.base)/manifest.json", "\(Self.memberA)/credential-report.csv", "\(Self.memberA)/manifest.json",
            ])
        for (name, digest) in manifest.files {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pack + "/" + name)))
            #expect(EvidencePack.sha256Hex(bytes) == digest, "\(name)")
        }
        let member = try JSONDecoder().decode(
            EvidencePack.Manifest.self,
            from: Data(contentsOf: URL(fileURLWithPath: pack + "/\(Self.memberA)/manifest.json")))
        #expect(member.accountId == Self.memberA)
        #expect(member.callerArn.contains("assumed-role/OrganizationAccountAccessRole"))
        #expect(member.counts["users"] == 2)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config.output)))
                as? [String: Any])
        let users = try #require(document["users"] as? [[String: String]])
        #expect(users == (try ReviewTesting.rows(pack + "/review.csv")))
        #expect(Set(users.compactMap { $0["account"] }) == [Self.base, Self.memberA])
    }

    @Test("an account whose role cannot be assumed is named once; the others are reviewed; exit 1")
    func deniedAccount() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.seed()
        var config = configuration(world, in: dir, accounts: [Self.denied, Self.memberA])
        config.evidence = dir.path + "/pack"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .credentials, "AccessDenied on the role: exit 3")
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.contains("arn:aws:iam::\(Self.denied):role/OrganizationAccountAccessRole") == true)
        #expect(Set(try ReviewTesting.rows(config.output).map { $0["account"] }) == [Self.memberA])
        let manifest = try JSONDecoder().decode(
            EvidencePack.Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir.path + "/pack/manifest.json")))
        #expect(manifest.accounts == [Self.memberA])
        #expect(manifest.accountsFailed?.keys.sorted() == [Self.denied], "the pack says it is not complete")
        #expect(manifest.accountsFailed?[Self.denied]?.contains("AccessDenied") == true)
        #expect(manifest.options["accounts"] == "accounts:\(Self.memberA),\(Self.denied)", "sorted ids")
    }

    @Test("no account left to review (every one excluded): exit 1, nothing written")
    func noAccountLeft() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.seed()
        var config = configuration(world, in: dir, accounts: [Self.memberA])
        config.accounts.exclude = [Self.memberA]
        config.evidence = dir.path + "/pack"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .failure)
        #expect(result.errors.first?.contains("no account to review") == true)
        #expect(!FileManager.default.fileExists(atPath: config.output))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/pack"))
    }

    @Test("--accounts with --source per-user is a usage error, before any call")
    func perUserRefused() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        var config = configuration(world, in: dir, accounts: [Self.memberA])
        config.source = .perUser
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .usage)
        #expect(await world.base.calls.isEmpty)
    }
}
