import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

/// Rows with nowhere to run, bad account cells, resume and stop across accounts, and rows that
/// must not fan out: the edges of a multi-account batch (in memory).
extension MultiAccountTests {
    @Test("a bad account cell is an invalid row naming the problem; the other rows run")
    func badAccountCell() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        let config = try configuration(
            "user,action,account\nalice,disable,\(Self.memberA)\nbob,disable,12345\ncarol,disable,12345678901x\n",
            in: dir, world: world)
        let result = await BatchRun.execute(config)
        let rows = try report(config).sorted { $0.line < $1.line }
        #expect(rows.map(\.status) == [.changed, .invalid, .invalid])
        #expect(rows[1].errorCode == "invalid-account")
        #expect(rows[1].message.contains("'12345' has 5 digits"))
        #expect(rows[2].message.contains("is not an AWS account id"))
        #expect(result.exitStatus == .failure)
    }

    @Test("a row naming an excluded account, and rows with no account left to run in: not-run, with why; exit 1")
    func excludedAccounts() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        let config = try configuration(
            "user,action,account\nalice,disable,\(Self.memberA)\nbob,disable,\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberB]), exclude: [Self.memberA, Self.memberB]))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure)
        let rows = try report(config).sorted { $0.line < $1.line }
        #expect(rows.map(\.status) == [.notRun, .notRun])
        #expect(rows[0].detail.contains("account \(Self.memberA) is excluded"))
        #expect(rows[1].detail.contains("no account left"))
        #expect(await world.a.loginProfile("alice") != nil)
    }

    @Test(
        "a restore row without an account cell, in a run over many accounts, is invalid (it could enable console access anywhere)"
    )
    func restoreNeedsAccount() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        _ = await world.a.addUser("alice")
        let config = try configuration(
            "user,action,credentials\nalice,restore,console\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberA])))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure)
        let rows = try report(config)
        #expect(rows.map(\.status) == [.invalid])
        #expect(rows.first?.errorCode == "restore-needs-account")
        #expect(await world.a.loginProfile("alice") == nil)
    }

    @Test("--resume with other accounts than the report's run is refused, naming both")
    func resumeOtherAccounts() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("alice", in: world.a)
        let csv = "user,action\nalice,disable\n"
        let first = await BatchRun.execute(
            try configuration(
                csv, in: dir, world: world, accounts: AccountOptions(targets: .list([Self.memberA, Self.memberB]))))
        #expect(first.exitStatus == .success, "\(first.errors)")
        let other = await BatchRun.execute(
            try configuration(
                csv, in: dir, world: world, accounts: AccountOptions(targets: .list([Self.memberA])), resume: true))
        #expect(other.exitStatus == .usage)
        #expect(
            other.errors.contains {
                $0.contains("accounts:\(Self.memberA),\(Self.memberB)") && $0.contains("accounts:\(Self.memberA);")
                    || $0.contains("accounts:\(Self.memberA),\(Self.memberB)")
                        && $0.hasSuffix("or give a new report path")
            }, "\(other.errors)")
        let same = await BatchRun.execute(
            try configuration(
                csv, in: dir, world: world, accounts: AccountOptions(targets: .list([Self.memberB, Self.memberA])),
                resume: true))
        #expect(same.exitStatus == .success, "the same accounts in another order: \(same.errors)")
    }

    @Test("a stop before the --max-disable look-ups: none is made, every row is not-run")
    func stopBeforeLookups() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        await world.console("u1", in: world.a)
        let config = try configuration(
            "user,action\nu1,disable\nu2,disable\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberA, Self.memberB])), maxDisable: 1)
        let stop = StopController()
        stop.requestStop()
        let result = await BatchRun.execute(config, stop: stop)
        #expect(await world.a.count("GetUser") == 0)
        #expect(try report(config).allSatisfy { $0.status == .notRun })
        #expect(result.exitStatus == .interrupted)
        #expect(await world.a.loginProfile("u1") != nil)
    }

    @Test("--wait-for-user never waits for a row run in each account: a missing user there is absent at once")
    func noWaitWhenFannedOut() async throws {
        let dir = try TemporaryDirectory()
        let world = World()
        _ = await world.a.addUser("newbie")
        var config = try configuration(
            "user,action,password\nnewbie,enable,Temp-Passw0rd-123!\n", in: dir, world: world,
            accounts: AccountOptions(targets: .list([Self.memberA, Self.memberB])))
        config.options.waitForUser = UserWait(window: .seconds(30), initialDelay: .milliseconds(50))
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.summary?.count(.absent) == 1)
        #expect(await world.b.count("CreateLoginProfile") <= 1, "no retries while waiting for the user")
        #expect(await world.a.loginProfile("newbie") != nil)
        let report = try String(contentsOfFile: config.reportPath, encoding: .utf8)
        for text in [report] + result.errors + result.notes {
            #expect(!text.contains("Temp-Passw0rd-123!"), "the row's password is never written")
        }
    }
}
