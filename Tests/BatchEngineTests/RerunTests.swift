import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import BatchEngine

/// Re-runs never touch a working user; lost answers are resolved by reading IAM; reset rows;
/// generated passwords only for passwords IAM took; refused runs do not block their rerun.
@Suite(
    "Re-runs, lost answers and reset rows against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct RerunTests {
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(2), maxBackoff: .milliseconds(20))

    func configuration(
        _ csv: String, in dir: TemporaryDirectory, endpoint: String, report: String = "report.csv",
        options: RunOptions = RunOptions(concurrency: 8), generate: String? = nil, maxDisable: Int = 10_000,
        strict: Bool = false
    ) throws -> BatchConfiguration {
        let input = try dir.write("input.csv", csv)
        return BatchConfiguration(
            input: .path(input), reportPath: dir.path + "/" + report, options: options, strict: strict,
            retry: Self.fastRetry, maxDisable: maxDisable, generatePasswordsPath: generate,
            aws: Moto.configuration(endpoint: endpoint))
    }

    /// The report's rows, in input order (they are written as they finish).
    func rows(_ config: BatchConfiguration) throws -> [ReportRow] {
        try ReportReader.readAll(.path(config.reportPath)).rows.sorted { $0.line < $1.line }
    }

    @Test("60 rows whose first answer is lost: IAM is read, each row reports what this run did; a rerun writes nothing")
    func lostAnswersOnManyRows() async throws {
        let dir = try TemporaryDirectory()
        let prefix = Moto.uniqueName("lost")
        let fresh = (0..<30).map { "\(prefix)-new\($0)" }  // no profile: the lost create applied
        let enabled = (0..<15).map { "\(prefix)-old\($0)" }  // enabled long ago: the lost request never arrived
        let leavers = (0..<15).map { "\(prefix)-gone\($0)" }  // lost delete, applied
        try await Moto.withSession { _, admin, _ in
            for user in fresh + enabled + leavers { try await admin.createUser(user) }
            for user in enabled + leavers { try await admin.createLoginProfile(user, password: "Initial-Passw0rd!") }
            for user in enabled {
                try await admin.attachUserPolicy(user, policyArn: "arn:aws:iam::aws:policy/IAMUserChangePassword")
            }
        }
        let createFault = RecordingProxy.firstPerUser("CreateLoginProfile", .forwardThenDrop, users: Set(fresh))
        let oldFault = RecordingProxy.firstPerUser("CreateLoginProfile", .dropConnection, users: Set(enabled))
        let deleteFault = RecordingProxy.firstPerUser("DeleteLoginProfile", .forwardThenDrop)
        let proxy = try await RecordingProxy.start(
            upstream: Moto.endpoint!,
            rule: { request, index in
                createFault(request, index) ?? oldFault(request, index) ?? deleteFault(request, index)
            }, rewrite: RecordingProxy.profileCreationDates(createdLongAgo: Set(enabled)))
        defer { Task { await proxy.stop() } }
        let lines =
            ["user,action,password"] + fresh.map { "\($0),enable,Lost-Answer-Passw0rd!" }
            + enabled.map { "\($0),enable,Lost-Answer-Passw0rd!" } + leavers.map { "\($0),disable," }
        let csv = lines.joined(separator: "\n") + "\n"
        let config = try configuration(csv, in: dir, endpoint: proxy.url)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(proxy.injected.count == 60)
        let report = try rows(config)
        #expect(report.count == 60)
        for row in report {
            if fresh.contains(row.user) {
                #expect(row.status == .changed, "\(row.user): \(row.detail)")
                #expect(
                    row.detail.hasPrefix("login profile created, IAMUserChangePassword attached; "), "\(row.detail)")
                #expect(row.detail.contains("after this run sent it"))
            } else if enabled.contains(row.user) {
                #expect(row.status == .unchanged, "\(row.user): \(row.detail)")
                #expect(row.detail.hasPrefix("console access already enabled (password not changed); "))
                #expect(row.detail.contains("before this run sent it"))
            } else {
                #expect(row.status == .changed, "\(row.user): \(row.detail)")
                #expect(row.detail.contains("cannot be known"), "\(row.detail)")
            }
        }
        // Every write that reached moto was one the report accounts for: none for the old users.
        let written = Set(proxy.successfulWrites.compactMap(\.userName))
        #expect(written.isDisjoint(with: enabled))

        // The same file again: no write succeeds, every row unchanged, exit 0.
        proxy.setRule(nil)
        proxy.clearRecording()
        let again = try configuration(csv, in: dir, endpoint: proxy.url, report: "again.csv")
        let second = await BatchRun.execute(again)
        #expect(second.exitStatus == .success, "\(second.errors)")
        #expect(try rows(again).allSatisfy { $0.status == .unchanged })
        #expect(proxy.successfulWrites.isEmpty, "\(proxy.successfulWrites)")
    }

    @Test("reset rows: reset, NoLoginProfile (not not-found), not-found; --max-disable does not count them")
    func resetRows() async throws {
        let dir = try TemporaryDirectory()
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        let prefix = Moto.uniqueName("rr")
        try await Moto.withSession { _, admin, _ in
            try await admin.createUser("\(prefix)-a")
            try await admin.createLoginProfile("\(prefix)-a", password: "Initial-Passw0rd!")
            try await admin.createUser("\(prefix)-b")
        }
        let csv = """
            user,action,password
            \(prefix)-a,reset,Reset-Passw0rd-1!
            \(prefix)-b,reset-password,Reset-Passw0rd-2!
            \(prefix)-ghost,RESET,Reset-Passw0rd-3!

            """
        let config = try configuration(csv, in: dir, endpoint: proxy.url, maxDisable: 0)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .failure)
        let report = try rows(config)
        #expect(report.map(\.action) == [.reset, .reset, .reset])
        #expect(report.map(\.status) == [.changed, .failed, .notFound])
        #expect(report[0].detail == "password reset")
        #expect(report[1].errorCode == "NoLoginProfile")
        #expect(report[1].message.contains("use enable"))
        #expect(proxy.successfulWrites.map(\.action) == ["UpdateLoginProfile"])
        #expect(!proxy.actions.contains("CreateLoginProfile"))
        let text = try String(contentsOfFile: config.reportPath, encoding: .utf8)
        for password in ["Reset-Passw0rd-1!", "Reset-Passw0rd-2!", "Reset-Passw0rd-3!"] {
            #expect(!text.contains(password))
        }
    }

    @Test("--reset-existing in a batch resets enabled users; without it they are unchanged; dry run predicts both")
    func resetExistingOption() async throws {
        let dir = try TemporaryDirectory()
        let user = Moto.uniqueName("rex")
        try await Moto.withSession { _, admin, _ in
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Initial-Passw0rd!")
            try await admin.attachUserPolicy(user, policyArn: "arn:aws:iam::aws:policy/IAMUserChangePassword")
        }
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        let csv = "user,action,password\n\(user),enable,Rex-Passw0rd-Long!\n"
        let plan = try configuration(
            csv, in: dir, endpoint: proxy.url, report: "plan.csv",
            options: RunOptions(dryRun: true))
        _ = await BatchRun.execute(plan)
        #expect(
            try rows(plan).first?.detail
                == "would change nothing (already as asked); console access already enabled (password not changed)")
        let plain = try configuration(csv, in: dir, endpoint: proxy.url, report: "plain.csv")
        _ = await BatchRun.execute(plain)
        #expect(try rows(plain).first?.status == .unchanged)
        #expect(proxy.successfulWrites.isEmpty)

        let resetPlan = try configuration(
            csv, in: dir, endpoint: proxy.url, report: "reset-plan.csv",
            options: RunOptions(dryRun: true, resetExisting: true))
        _ = await BatchRun.execute(resetPlan)
        #expect(try rows(resetPlan).first?.detail == "would: password reset")
        let reset = try configuration(
            csv, in: dir, endpoint: proxy.url, report: "reset.csv",
            options: RunOptions(resetExisting: true))
        _ = await BatchRun.execute(reset)
        #expect(try rows(reset).first?.status == .changed)
        #expect(try rows(reset).first?.detail == "password reset")
        #expect(proxy.successfulWrites.map(\.action) == ["UpdateLoginProfile"])
    }

    @Test("--generate-passwords writes a password only when IAM set it: none for an already-enabled user")
    func generatedOnlyWhenSet() async throws {
        let dir = try TemporaryDirectory()
        let prefix = Moto.uniqueName("gp")
        try await Moto.withSession { _, admin, _ in
            for name in ["new", "old", "rst"] { try await admin.createUser("\(prefix)-\(name)") }
            try await admin.createLoginProfile("\(prefix)-old", password: "Initial-Passw0rd!")
            try await admin.createLoginProfile("\(prefix)-rst", password: "Initial-Passw0rd!")
        }
        let csv = "user,action,password\n\(prefix)-new,enable,\n\(prefix)-old,enable,\n\(prefix)-rst,reset,\n"
        let file = dir.path + "/passwords.csv"
        let config = try configuration(csv, in: dir, endpoint: Moto.endpoint!, generate: file)
        let result = await BatchRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let written = try CSVReader(.path(file)).readAll().map(\.fields).dropFirst()
        #expect(Set(written.map { $0[0] }) == ["\(prefix)-new", "\(prefix)-rst"])
        let report = try rows(config)
        let old = try #require(report.first { $0.user == "\(prefix)-old" })
        #expect(old.status == .changed)  // the policy was missing
        #expect(old.detail == "IAMUserChangePassword attached; console access already enabled (password not changed)")
        #expect(!old.detail.contains("password generated"))
        #expect(report.filter { $0.detail.contains("password generated") }.count == 2)
    }

    @Test("--wait-for-user: a user created moments after the run starts is enabled; disable rows never wait")
    func waitForUserInBatch() async throws {
        let dir = try TemporaryDirectory()
        let late = Moto.uniqueName("late")
        let ghost = Moto.uniqueName("ghost")
        let csv = "user,action,password\n\(late),enable,Late-Passw0rd-Long!\n\(ghost),disable,\n"
        let options = RunOptions(
            waitForUser: UserWait(window: .seconds(30), initialDelay: .milliseconds(100), maxDelay: .milliseconds(200)))
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
        defer { Task { await proxy.stop() } }
        let config = try configuration(csv, in: dir, endpoint: proxy.url, options: options)
        // The user appears only after moto has answered the first try (NoSuchEntity).
        let creator = Task {
            while !proxy.forwardedCalls.contains(where: { $0.action == "CreateLoginProfile" }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Moto.withSession { _, admin, _ in try await admin.createUser(late) }
        }
        let result = await BatchRun.execute(config)
        try await creator.value
        let report = try rows(config)
        #expect(result.exitStatus == .failure)  // the ghost disable row is not-found
        #expect(report[0].status == .changed)
        #expect(report[0].detail.contains("user found after waiting"))
        #expect(report[1].status == .notFound)
        #expect(report[1].detail == "no IAM user named \(ghost)")
        #expect(proxy.actions.filter { $0 == "DeleteLoginProfile" }.count == 1)
    }

    @Test("a run refused by --max-disable leaves a report the suggested rerun replaces; --strict likewise")
    func refusedRunsDoNotBlock() async throws {
        let dir = try TemporaryDirectory()
        let prefix = Moto.uniqueName("refuse")
        try await Moto.withSession { _, admin, _ in
            for index in 0..<3 { try await admin.createUser("\(prefix)-\(index)") }
        }
        let csv = (["user,action"] + (0..<3).map { "\(prefix)-\($0),disable" }).joined(separator: "\n")
        let refused = try configuration(csv, in: dir, endpoint: Moto.endpoint!, maxDisable: 2)
        let first = await BatchRun.execute(refused)
        #expect(first.exitStatus == .usage)
        #expect(try RunRecord.read(forReport: refused.reportPath)?.wasRefused == true)
        let rerun = try configuration(csv, in: dir, endpoint: Moto.endpoint!, maxDisable: 3)
        let second = await BatchRun.execute(rerun)
        #expect(second.exitStatus == .success, "\(second.errors)")
        #expect(second.notes.contains { $0.contains("refused before any change") })
        #expect(try rows(rerun).map(\.status) == [.unchanged, .unchanged, .unchanged])
        #expect(try RunRecord.read(forReport: rerun.reportPath)?.refused == nil)

        // A report of a run that did change something is still never overwritten.
        let third = await BatchRun.execute(rerun)
        #expect(third.exitStatus == .usage)
        #expect(third.errors.first?.contains("already exists") == true)
    }
}
