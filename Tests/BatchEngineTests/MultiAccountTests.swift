import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

/// Many accounts in one batch, on in-memory IAMs behind the connector seam: the base account
/// (the run's own credentials) and member accounts reached through their role, as `AssumeRole`
/// would. The wire (moto's cross-account `AssumeRole` and Organizations) is in the CLI tests.
@Suite("Batch across many accounts (in memory)")
struct MultiAccountTests {
    static let base = "123456789012"
    static let memberA = "210987654321"
    static let memberB = "333333333333"
    static let denied = "444444444444"
    static let fastRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxBackoff: .milliseconds(2))
    static let writes: Set<String> = [
        "CreateLoginProfile", "DeleteLoginProfile", "AttachUserPolicy", "UpdateAccessKey",
    ]

    /// The base account and two members, each with its own IAM.
    struct World {
        let base = InMemoryIAM(accountId: MultiAccountTests.base)
        let a = InMemoryIAM(accountId: MultiAccountTests.memberA)
        let b = InMemoryIAM(accountId: MultiAccountTests.memberB)

        var connector: InMemoryConnector {
            var connector = InMemoryConnector(iam: base)
            connector.members = [MultiAccountTests.memberA: a, MultiAccountTests.memberB: b]
            connector.deniedAccounts = [MultiAccountTests.denied]
            return connector
        }

        /// A user with console access in `iam`.
        func console(_ user: String, in iam: InMemoryIAM) async {
            _ = await iam.addUser(user)
            await iam.addLoginProfile(user)
        }

        var all: [InMemoryIAM] { [base, a, b] }
    }

    func configuration(
        _ csv: String, in dir: TemporaryDirectory, world: World, connector: InMemoryConnector? = nil,
        accounts: AccountOptions = AccountOptions(), maxDisable: Int = 100, resume: Bool = false
    ) throws -> BatchConfiguration {
        var configuration = BatchConfiguration(
            input: .path(try dir.write("input.csv", csv)), reportPath: dir.path + "/report.csv",
            options: RunOptions(concurrency: 8), resume: resume, retry: Self.fastRetry, maxDisable: maxDisable,
            aws: AWSConfiguration(
                region: "us-east-1", credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")))
        configuration.connector = connector ?? world.connector
        configuration.accounts = accounts
        return configuration
    }

    func report(_ config: BatchConfiguration) throws -> [ReportRow] {
        try ReportReader.readAll(.path(config.reportPath)).rows
    }

    func writes(_ iam: InMemoryIAM) async -> Int {
        await iam.calls.filter { Self.writes.contains($0.action) }.count
    }

    @Test(
        "--accounts: each row in each account; users missing there are absent (counted, not written); roles assumed only in members"
    )
    func fanOut() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.base)
        await world.console("alice", in: world.a)
        await world.console("bob", in: world.b)
        let connector = world.connector
        let config = try configuration(
            "user,action\nalice,disable\nbob,disable\n", in: dir, world: world, connector: connector,
            accounts: AccountOptions(targets: .list([Self.base, Self.memberA, Self.memberB])))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let rows = try report(config)
        #expect(
            Set(rows.map { "\($0.user)@\($0.account)" }) == [
                "alice@\(Self.base)", "alice@\(Self.memberA)", "bob@\(Self.memberB)",
            ])
        #expect(rows.allSatisfy { $0.status == .changed })
        let summary = try #require(result.summary)
        #expect(summary.count(.absent) == 3)
        #expect(summary.count(.changed) == 3)
        #expect(summary.accounts?[Self.memberB]?["absent"] == 1)
        #expect(summary.accounts?[Self.memberB]?["changed"] == 1)
        #expect(summary.accounts?[Self.base]?["changed"] == 1)
        for iam in world.all {
            #expect(await iam.loginProfile("alice") == nil)
            #expect(await iam.loginProfile("bob") == nil)
        }
        let roles = connector.assumedRoles.withLockedValue { $0 }
        #expect(
            Set(roles.map(\.roleArn)) == [
                "arn:aws:iam::\(Self.memberA):role/OrganizationAccountAccessRole",
                "arn:aws:iam::\(Self.memberB):role/OrganizationAccountAccessRole",
            ], "the caller's own account uses its own credentials")
        let record = try #require(try RunRecord.read(forReport: config.reportPath))
        #expect(record.multiAccount == true)
        #expect(record.summary?.accounts?[Self.memberA]?["changed"] == 1)
    }

    @Test("--report-absent: one report row per input row per account, absent ones included")
    func reportAbsent() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        let config = try configuration(
            "user,action\nalice,disable\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberA, Self.memberB]), reportAbsent: true))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let rows = try report(config).sorted { $0.account < $1.account }
        #expect(rows.map(\.account) == [Self.memberA, Self.memberB])
        #expect(rows.map(\.status) == [.changed, .absent])
    }

    @Test("an account column: the row runs only there; a missing user there is not-found (exit 1), never absent")
    func accountColumn() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("carol", in: world.a)
        await world.console("carol", in: world.b)
        await world.console("dave", in: world.base)
        let config = try configuration(
            "user,action,account\ncarol,disable,\(Self.memberA)\nerin,disable,\(Self.memberB)\ndave,disable,\n",
            in: dir, world: world)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure)
        let rows = try report(config).sorted { $0.line < $1.line }
        #expect(rows.map(\.status) == [.changed, .notFound, .changed])
        #expect(rows.map(\.account) == [Self.memberA, Self.memberB, Self.base], "an empty cell: the caller's account")
        #expect(await world.b.loginProfile("carol") != nil, "carol only in the account her row names")
        #expect(await world.base.loginProfile("dave") == nil)
    }

    @Test(
        "a role that cannot be assumed: that account's rows fail with the role ARN, once; the other accounts go on; exit 3"
    )
    func deniedRole() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        let config = try configuration(
            "user,action\nalice,disable\nbob,disable\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.denied, Self.memberA])))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .credentials, "rows failed on an authorization error: exit 3, as for any row")
        let rows = try report(config)
        let denied = rows.filter { $0.account == Self.denied }
        #expect(denied.count == 2)
        #expect(denied.allSatisfy { $0.status == .failed && $0.errorCode == "AccessDenied" })
        #expect(
            denied.allSatisfy { $0.message.contains("arn:aws:iam::\(Self.denied):role/OrganizationAccountAccessRole") })
        #expect(result.errors.filter { $0.contains(Self.denied) }.count == 1, "\(result.errors)")
        #expect(rows.first { $0.account == Self.memberA }?.status == .changed)
        #expect(await world.a.loginProfile("alice") == nil)
    }

    @Test("--max-disable counts users across accounts: absent users are looked up first and do not count")
    func blastRadiusAcrossAccounts() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("u1", in: world.a)
        await world.console("u2", in: world.b)
        let targets = AccountOptions(targets: .list([Self.base, Self.memberA, Self.memberB]))
        let csv = "user,action\nu1,disable\nu2,disable\nu3,disable\n"
        let config = try configuration(csv, in: dir, world: world, accounts: targets, maxDisable: 2)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure, "u3 is in no account: \(result.errors)")
        #expect(result.summary?.count(.changed) == 2, "9 pairs at most, 2 users there: the run went ahead")
        #expect(result.summary?.count(.absent) == 7)
        let missing = try report(config).filter { $0.status == .notFound }
        #expect(missing.map(\.user) == ["u3"], "a user absent from every account is not-found, once")
        #expect(missing.first?.account == "")
        #expect(missing.first?.detail.contains("in any of the 3 account(s)") == true)
        #expect(await world.a.count("GetUser") >= 3, "looked up before the run")

        let again = try TemporaryDirectory()
        await world.console("u3", in: world.base)
        await world.console("u1", in: world.b)
        for iam in world.all { await iam.addLoginProfile("u1") }
        let refused = try configuration(csv, in: again, world: world, accounts: targets, maxDisable: 2)
        let before = await writes(world.base) + (await writes(world.a)) + (await writes(world.b))
        let outcome = await BatchRun.execute(refused)
        #expect(outcome.exitStatus == .usage)
        #expect(outcome.errors.contains { $0.contains("across") }, "\(outcome.errors)")
        let after = await writes(world.base) + (await writes(world.a)) + (await writes(world.b))
        #expect(after == before, "nothing changed")
        #expect(try report(refused).allSatisfy { $0.status == .notRun })
    }

    @Test("the self-disable guard uses each account's own identity")
    func selfDisablePerAccount() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("operator", in: world.base)
        await world.console("operator", in: world.a)
        let config = try configuration(
            "user,action\noperator,disable\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.base, Self.memberA])))
        let result = await BatchRun.execute(config)
        let rows = try report(config)
        #expect(rows.first { $0.account == Self.base }?.status == .invalid, "the caller itself, in its own account")
        #expect(rows.first { $0.account == Self.memberA }?.status == .changed, "another user of that name elsewhere")
        #expect(result.exitStatus == .failure)
        #expect(await world.base.loginProfile("operator") != nil)
    }

    @Test("--resume runs again only the (row, account) pairs that did not finish")
    func resume() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        for iam in [world.a, world.b] {
            await world.console("alice", in: iam)
            await world.console("bob", in: iam)
        }
        await world.b.inject(.error(.serviceFailure, httpStatus: 500), on: "DeleteLoginProfile", user: "bob", times: 3)
        let targets = AccountOptions(targets: .list([Self.memberA, Self.memberB]))
        let csv = "user,action\nalice,disable\nbob,disable\n"
        let first = await BatchRun.execute(try configuration(csv, in: dir, world: world, accounts: targets))
        #expect(first.exitStatus == .failure)
        let deletesBefore = await world.a.count("DeleteLoginProfile") + (await world.b.count("DeleteLoginProfile"))

        let config = try configuration(csv, in: dir, world: world, accounts: targets, resume: true)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.summary?.resumedDone == 3)
        let deletesAfter = await world.a.count("DeleteLoginProfile") + (await world.b.count("DeleteLoginProfile"))
        #expect(deletesAfter == deletesBefore + 1, "only bob in B again")
        let rows = try report(config)
        #expect(rows.count == 4)
        #expect(Set(rows.map { "\($0.line)@\($0.account)" }).count == 4, "one row per input row per account")
        #expect(rows.allSatisfy { $0.status == .changed })

        let single = try configuration(csv, in: dir, world: world, resume: true)
        let refused = await BatchRun.execute(single)
        #expect(refused.exitStatus == .usage, "a multi-account report is resumed as one")
        #expect(refused.errors.contains { $0.contains("multi-account run") })
    }

    @Test("--resume with --report-absent: absent rows are finished; an account with nothing left is not entered again")
    func resumeKeepsAbsentRows() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        await world.console("bob", in: world.a)
        await world.console("alice", in: world.b)
        await world.a.inject(
            .error(.serviceFailure, httpStatus: 500), on: "DeleteLoginProfile", user: "alice", times: 3)
        let targets = AccountOptions(targets: .list([Self.memberA, Self.memberB]), reportAbsent: true)
        let csv = "user,action\nalice,disable\nbob,disable\n"
        let first = await BatchRun.execute(try configuration(csv, in: dir, world: world, accounts: targets))
        #expect(first.exitStatus == .failure)
        #expect(first.summary?.count(.absent) == 1, "bob is not in B")

        let connector = world.connector
        let config = try configuration(
            csv, in: dir, world: world, connector: connector, accounts: targets, resume: true)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.summary?.resumedDone == 3, "bob in A, alice in B, and bob absent in B")
        #expect(
            connector.assumedRoles.withLockedValue { $0 }.map(\.roleArn) == [
                "arn:aws:iam::\(Self.memberA):role/OrganizationAccountAccessRole"
            ], "B has nothing left to run")
        let rows = try report(config)
        #expect(rows.count == 4, "one row per input row per account, the absent one kept")
        #expect(
            Set(rows.map { "\($0.user)@\($0.account)=\($0.status.rawValue)" }) == [
                "alice@\(Self.memberA)=changed", "bob@\(Self.memberA)=changed", "alice@\(Self.memberB)=changed",
                "bob@\(Self.memberB)=absent",
            ])
    }

    @Test("an account cell naming an excluded account: the row is reported not-run (never dropped); the others run")
    func excludedAccountCell() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        await world.console("bob", in: world.b)
        await world.console("carol", in: world.a)
        let config = try configuration(
            "user,action,account\nalice,disable,\(Self.memberA)\nbob,disable,\(Self.memberB)\ncarol,disable,\n",
            in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberA, Self.memberB]), exclude: [Self.memberB]))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure, "a row of the file was not run")
        let rows = try report(config).sorted { $0.line < $1.line }
        #expect(rows.map(\.line) == [2, 3, 4], "every input row has a report row")
        #expect(rows.map(\.status) == [.changed, .notRun, .changed])
        #expect(rows[1].account == Self.memberB)
        #expect(rows[1].detail.contains("excluded (--exclude-accounts)"), "\(rows[1].detail)")
        #expect(result.summary?.count(.notRun) == 1)
        #expect(await world.b.loginProfile("bob") != nil, "nothing is done in an excluded account")
        #expect(await world.a.loginProfile("carol") == nil)
    }

    @Test("--organization: every ACTIVE account, paged; --exclude-accounts skips some; a SUSPENDED one is noted")
    func organization() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        for iam in world.all { await world.console("leaver", in: iam) }
        var connector = world.connector
        let organization = InMemoryOrganization(
            accounts: [
                OrganizationAccount(id: Self.base, name: "management", status: "ACTIVE"),
                OrganizationAccount(id: Self.memberA, name: "a", status: "ACTIVE"),
                OrganizationAccount(id: Self.memberB, name: "b", status: "ACTIVE"),
                OrganizationAccount(id: Self.denied, name: "closing", status: "SUSPENDED"),
            ], pageSize: 1)
        connector.organization = organization
        let config = try configuration(
            "user,action\nleaver,disable\n", in: dir, world: world, connector: connector,
            accounts: AccountOptions(targets: .organization, exclude: [Self.memberB]))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(Set(try report(config).map(\.account)) == [Self.base, Self.memberA])
        #expect(await world.b.loginProfile("leaver") != nil, "excluded")
        #expect(organization.calls.withLockedValue { $0 } == 4, "one page at a time")
        #expect(result.notes.contains { $0.contains("\(Self.denied) (SUSPENDED)") })
        #expect(result.notes.contains { $0.contains("--exclude-accounts") })
    }

    @Test("--organization refused (not the management account): nothing runs, exit 3")
    func organizationDenied() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("leaver", in: world.base)
        var connector = world.connector
        connector.organization = InMemoryOrganization(
            accounts: [],
            fault: AWSServiceError(
                code: "AccessDeniedException", message: "not the management account", httpStatus: 400,
                action: "ListAccounts"))
        let config = try configuration(
            "user,action\nleaver,disable\n", in: dir, world: world, connector: connector,
            accounts: AccountOptions(targets: .organization))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .credentials, "\(result.errors)")
        #expect(result.errors.contains { $0.contains("ListAccounts") })
        #expect(await world.base.loginProfile("leaver") != nil)
        #expect(try report(config).allSatisfy { $0.status == .notRun })
    }

    @Test("--emit-restore in a multi-account run names each row's account; batch restores each user where it was")
    func restoreRoundTrip() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        await world.console("alice", in: world.b)
        var config = try configuration(
            "user,action\nalice,disable\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberA, Self.memberB])))
        config.emitRestorePath = dir.path + "/restore.csv"
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let restore = try CSVReader(.path(dir.path + "/restore.csv")).readAll().map(\.fields)
        #expect(restore.first == ["user", "action", "password", "credentials", "account"])
        #expect(Set(restore.dropFirst().map { $0[4] }) == [Self.memberA, Self.memberB])

        var back = BatchConfiguration(
            input: .path(dir.path + "/restore.csv"), reportPath: dir.path + "/back.csv",
            options: RunOptions(concurrency: 4), retry: Self.fastRetry, generatePasswordsPath: dir.path + "/pw.csv",
            aws: config.aws)
        back.connector = world.connector
        let restored = await BatchRun.execute(back)
        #expect(restored.exitStatus == .success, "\(restored.errors)")
        #expect(await world.a.loginProfile("alice") != nil)
        #expect(await world.b.loginProfile("alice") != nil)
        let passwords = try CSVReader(.path(dir.path + "/pw.csv")).readAll().map(\.fields)
        #expect(passwords.first == ["user", "password", "line", "account"])
    }
}
