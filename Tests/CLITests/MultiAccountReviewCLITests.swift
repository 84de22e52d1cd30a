import AWSQuery
import Foundation
import TestSupport
import Testing

/// Issue 21 end to end, the parts `MultiAccountCLITests` leaves out: `review` across accounts
/// (one review, one batch file `batch` runs as is, one evidence pack), a refused role in a
/// review, `--max-disable` across accounts and the self-disable guard per account, all with the
/// built binary on moto.
///
/// Every test works in accounts of its own: the base account is a fresh id too, reached with
/// credentials from moto's cross-account `AssumeRole` (or an IAM user's key made there), so its
/// credential report holds only this test's users.
///
/// Aging: moto dates a user's password "now" (`password_last_changed` is the user's creation
/// time) and never records a sign-in, and the CLI has no clock seam. So the credential report
/// is aged in the answer: `ReportAging`, in a recording proxy in front of moto, edits the
/// report's cells by account and user, as `ReportReviewTests` does in process, and puts a root
/// row in each account's report, as IAM does.
@Suite(
    "review and guards across accounts, end to end (moto: cross-account AssumeRole, credential report)",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct MultiAccountReviewCLITests {
    // MARK: - Review across accounts

    @Test(
        "review --accounts BASE,M1,M2: one review with an account column, no root row; the emitted batch disables exactly the flagged users in their own accounts; an evidence pack with per-account reports and manifests; JSON users carry the account"
    )
    func reviewAcrossAccounts() async throws {
        let (base, credentials) = try await Self.baseAccount()
        let (m1, m2) = (Accounts.newAccount(), Accounts.newAccount())
        let tag = String(UUID().uuidString.prefix(6).lowercased())
        // The same name in BASE (stale) and M1 (fresh): only BASE's is disabled.
        let (shared, used, idle, never, keyless) = (
            "shared-\(tag)", "used-\(tag)", "idle-\(tag)", "never-\(tag)", "keyless-\(tag)"
        )
        try await Accounts.seed([shared, used], in: base)
        try await Accounts.seed([shared, idle], in: m1)
        try await Accounts.seed([never], in: m2)
        try await Self.seedWithoutConsole([keyless], in: m2)
        let aging = ReportAging(cells: [
            "\(base)/\(shared)": ["password_last_changed": ReportAging.ago(200.5)],
            "\(base)/\(used)": ["password_last_used": ReportAging.ago(2)],
            "\(m1)/\(idle)": ["password_last_used": ReportAging.ago(131.2)],
            "\(m2)/\(never)": ["password_last_changed": ReportAging.ago(300.5)],
        ])
        let proxy = try await RecordingProxy.start(upstream: try #require(Moto.endpoint), rewrite: aging.callAsFunction)
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let (output, emit, pack) = (dir.path + "/review.csv", dir.path + "/stale.csv", dir.path + "/pack")
        let accounts = "\(base),\(m1),\(m2)"
        let environment = Accounts.environment(credentials)

        let result = try await Self.review(
            [
                "--accounts", accounts, "--inactive-days", "90", "--output", output, "--emit-batch", emit,
                "--evidence", pack,
            ], endpoint: proxy.url, environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.isEmpty, "the review went to --output")
        #expect(result.stderr.contains("review done: 6 users, 5 with console access, 3 inactive (> 90 days)"))
        for account in [base, m1, m2] {
            #expect(result.stderr.contains("account \(account): 2 users, 1 inactive"), "\(result.stderr)")
        }
        let review = try Self.table(output)
        let header = try #require(Accounts.parseCSV(try String(contentsOfFile: output, encoding: .utf8)).first)
        #expect(header.last == "account", "\(header)")
        #expect(
            Self.states(review) == [
                "\(shared)@\(base)=inactive", "\(used)@\(base)=active", "\(shared)@\(m1)=active",
                "\(idle)@\(m1)=inactive", "\(never)@\(m2)=inactive", "\(keyless)@\(m2)=no_access",
            ])
        #expect(review.count == 6)
        #expect(!review.contains { $0["user"] == ReportAging.rootUser }, "the root row is left out")
        #expect(review.allSatisfy { $0["arn"]?.hasPrefix("arn:aws:iam::\($0["account"] ?? ""):user/") == true })
        let byKey = Dictionary(review.map { ("\($0["user"]!)@\($0["account"]!)", $0) }) { first, _ in first }
        #expect(byKey["\(shared)@\(base)"]?["reason"] == "never signed in; password set 200 days ago")
        #expect(byKey["\(idle)@\(m1)"]?["reason"] == "console unused 131 days")
        #expect(byKey["\(never)@\(m2)"]?["reason"] == "never signed in; password set 300 days ago")

        let batchText = try String(contentsOfFile: emit, encoding: .utf8)
        #expect(Accounts.parseCSV(batchText).first == ["user", "action", "revoke", "reason", "account"])
        let batch = Self.table(text: batchText)
        #expect(
            Set(batch.map { "\($0["user"]!)@\($0["account"]!)" }) == [
                "\(shared)@\(base)", "\(idle)@\(m1)", "\(never)@\(m2)",
            ])
        #expect(batch.allSatisfy { $0["action"] == "disable" && $0["revoke"] == "console" })

        try expectPack(pack, accounts: [base, m1, m2], review: output, batch: emit)

        // The same review as JSON: every user carries its account.
        let json = try await Self.review(
            ["--accounts", accounts, "--inactive-days", "90", "--format", "json"], endpoint: proxy.url,
            environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        let users = try #require(document["users"] as? [[String: String]])
        #expect(users.allSatisfy { $0["account"]?.count == 12 })
        #expect(Self.states(users) == Self.states(review))
        // The seeded users' password and the base secret are in nothing the review wrote or printed.
        let written = try [output, emit].map { try String(contentsOfFile: $0, encoding: .utf8) }
        for text in [result.stdout, result.stderr, json.stdout, json.stderr] + written {
            #expect(!text.contains(Accounts.password))
            #expect(!text.contains(credentials.secretAccessKey))
        }

        // The emitted file runs as it is, each row in its own account.
        proxy.clearRecording()
        let ran = try await Accounts.batch(
            emit, report: dir.path + "/r.csv", endpoint: proxy.url, [], environment: environment)
        #expect(ran.status == 0, "\(ran.output)")
        let rows = try Accounts.report(dir.path + "/r.csv")
        #expect(
            Accounts.statuses(rows) == [
                "\(shared)@\(base)": "changed", "\(idle)@\(m1)": "changed", "\(never)@\(m2)": "changed",
            ])
        #expect(proxy.successfulWrites.map(\.action) == Array(repeating: "DeleteLoginProfile", count: 3))
        for (user, account) in [(shared, base), (idle, m1), (never, m2)] {
            #expect(try await !Accounts.hasConsole(user, in: account), "\(user) in \(account): disabled")
        }
        for (user, account) in [(used, base), (shared, m1)] {
            #expect(try await Accounts.hasConsole(user, in: account), "\(user) in \(account): left alone")
        }
    }

    /// The evidence pack of a review across `accounts`: the merged review and batch as written
    /// beside it, a manifest listing the accounts with every file's SHA-256, and per account the
    /// raw report (root row included, as IAM sent it) and that account's own manifest.
    func expectPack(_ pack: String, accounts: [String], review: String, batch: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: pack)
        #expect(Set(names) == Set(["review.csv", "batch.csv", "manifest.json"] + accounts), "\(names)")
        #expect(
            FileManager.default.contents(atPath: pack + "/review.csv") == FileManager.default.contents(atPath: review))
        #expect(
            FileManager.default.contents(atPath: pack + "/batch.csv") == FileManager.default.contents(atPath: batch))
        let manifest = try Self.json(pack + "/manifest.json")
        #expect((manifest["accounts"] as? [String]).map(Set.init) == Set(accounts), "\(manifest)")
        #expect(manifest["account_id"] as? String == accounts[0], "the base identity's")
        #expect((manifest["counts"] as? [String: Int])?["users"] == 6)
        #expect((manifest["counts"] as? [String: Int])?["flagged"] == 3)
        let files = try #require(manifest["files"] as? [String: String])
        var expected: Set<String> = ["review.csv", "batch.csv"]
        for account in accounts {
            expected.formUnion(["\(account)/credential-report.csv", "\(account)/manifest.json"])
            #expect(
                Set(try FileManager.default.contentsOfDirectory(atPath: pack + "/" + account)) == [
                    "credential-report.csv", "manifest.json",
                ])
            let own = try Self.json(pack + "/\(account)/manifest.json")
            #expect(own["account_id"] as? String == account)
            #expect((own["counts"] as? [String: Int])?["users"] == 2, "\(account)")
            let report = pack + "/\(account)/credential-report.csv"
            #expect((own["files"] as? [String: String]) == ["credential-report.csv": try Self.sha256(report)])
            let raw = try String(contentsOfFile: report, encoding: .utf8)
            #expect(raw.contains("\n\(ReportAging.rootUser),arn:aws:iam::\(account):root,"), "the report as sent")
        }
        #expect(Set(files.keys) == expected)
        for (name, digest) in files {
            #expect(try Self.sha256(pack + "/" + name) == digest, "\(name)")
        }
        for account in accounts[1...] {
            let own = try Self.json(pack + "/\(account)/manifest.json")
            #expect(
                (own["caller_arn"] as? String)?.hasPrefix(
                    "arn:aws:sts::\(account):assumed-role/\(Accounts.role)/") == true, "\(account): \(own)")
        }
    }

    @Test("review --accounts with one role refused: that account named once on stderr, the others reviewed, exit 3")
    func reviewRefusedRole() async throws {
        let (base, credentials) = try await Self.baseAccount()
        // The refused account is never seeded: each new moto account costs most of a second.
        let (m1, refused) = (Accounts.newAccount(), Accounts.newAccount())
        let (alice, bob) = (Moto.uniqueName("alice"), Moto.uniqueName("bob"))
        try await Accounts.seed([alice], in: base)
        try await Accounts.seed([bob], in: m1)
        let proxy = try await Accounts.refusingProxy([Accounts.roleArn(refused)])
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let output = dir.path + "/review.csv"
        let result = try await Self.review(
            ["--accounts", "\(base),\(refused),\(m1)", "--inactive-days", "90", "--output", output],
            endpoint: proxy.url, environment: Accounts.environment(credentials))
        #expect(result.status == 3, "AccessDenied on one role: exit 3: \(result.output)")
        let naming = result.stderr.split(separator: "\n").filter { $0.contains(refused) }
        #expect(naming.count == 1, "\(result.stderr)")
        #expect(naming.first?.hasPrefix("error: ") == true)
        #expect(naming.first?.contains(Accounts.roleArn(refused)) == true)
        #expect(naming.first?.contains("AccessDenied") == true, "\(naming)")
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1)
        #expect(Self.states(try Self.table(output)) == ["\(alice)@\(base)=active", "\(bob)@\(m1)=active"])
        #expect(result.stderr.contains("review done: 2 users"), "\(result.stderr)")
        let refusals = proxy.requests.filter { $0.formParameters["RoleArn"] == Accounts.roleArn(refused) }
        #expect(refusals.count == 1, "AccessDenied is not retried")
        #expect(!proxy.actions.contains("ListUsers"), "no per-user fallback")
    }

    @Test(
        "review --accounts naming members only: the pack's manifest gives the base identity (account and caller), each account's manifest its own"
    )
    func evidenceFromAnotherAccount() async throws {
        let (base, credentials) = try await Self.baseAccount()
        let member = Accounts.newAccount()
        try await Accounts.seed([Moto.uniqueName("member")], in: member)
        let dir = try TemporaryDirectory()
        let pack = dir.path + "/pack"
        let result = try await Self.review(
            ["--accounts", member, "--output", dir.path + "/review.csv", "--evidence", pack],
            endpoint: try #require(Moto.endpoint), environment: Accounts.environment(credentials))
        #expect(result.status == 0, "\(result.output)")
        let manifest = try Self.json(pack + "/manifest.json")
        #expect(manifest["accounts"] as? [String] == [member])
        #expect(manifest["account_id"] as? String == base)
        #expect(
            manifest["caller_arn"] as? String == "arn:aws:sts::\(base):assumed-role/\(Accounts.role)/test-setup",
            "the identity that ran the review, not a member role's: \(manifest)")
        let own = try Self.json(pack + "/\(member)/manifest.json")
        #expect(own["account_id"] as? String == member)
        #expect(
            (own["caller_arn"] as? String)?.hasPrefix("arn:aws:sts::\(member):assumed-role/\(Accounts.role)/") == true)
    }

    // MARK: - Guards across accounts

    @Test(
        "batch --accounts --max-disable: rows x accounts over the limit, users there under it: looked up (GetUser), run; users there over it: exit 2, nothing changed anywhere, every row not-run"
    )
    func maxDisableAcrossAccounts() async throws {
        let (base, credentials) = try await Self.baseAccount()
        let (m1, m2) = (Accounts.newAccount(), Accounts.newAccount())
        let accounts = [base, m1, m2]
        let users = ["u1", "u2", "u3"].map(Moto.uniqueName)
        for (user, account) in zip(users, accounts) { try await Accounts.seed([user], in: account) }
        let proxy = try await RecordingProxy.start(upstream: try #require(Moto.endpoint))
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let environment = Accounts.environment(credentials)
        let options = ["--accounts", accounts.joined(separator: ","), "--max-disable", "3"]

        // 3 rows x 3 accounts = 9 > 3, but each user is in one account only: 3 to disable.
        let input = try dir.write("leavers.csv", "user,action\n" + users.map { "\($0),disable\n" }.joined())
        let first = try await Accounts.batch(
            input, report: dir.path + "/first.csv", endpoint: proxy.url, options, environment: environment)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stdout.contains("3 changed, 0 failed, 6 absent"), "\(first.stdout)")
        #expect(
            Accounts.statuses(try Accounts.report(dir.path + "/first.csv")) == [
                "\(users[0])@\(base)": "changed", "\(users[1])@\(m1)": "changed", "\(users[2])@\(m2)": "changed",
            ])
        let actions = proxy.actions
        let firstWrite = try #require(actions.firstIndex(of: "DeleteLoginProfile"))
        let lookups = proxy.requests[..<firstWrite].filter { $0.formParameters["Action"] == "GetUser" }
        #expect(lookups.count == 9, "one GetUser per user and account, before any change: \(actions)")
        for user in users {
            #expect(lookups.filter { $0.formParameters["UserName"] == user }.count == 3, "\(user)")
        }
        #expect(actions.filter { $0 == "GetUser" }.count == 9, "absent rows are not run again")
        #expect(proxy.successfulWrites.count == 3)

        // 4 users there (> 3): refused before any change.
        let (v1, v2, v3) = (Moto.uniqueName("v1"), Moto.uniqueName("v2"), Moto.uniqueName("v3"))
        try await Accounts.seed([v1], in: base)
        try await Accounts.seed([v1, v2], in: m1)
        try await Accounts.seed([v2], in: m2)
        proxy.clearRecording()
        let many = try dir.write("many.csv", "user,action\n\(v1),disable\n\(v2),disable\n\(v3),disable\n")
        let refused = try await Accounts.batch(
            many, report: dir.path + "/refused.csv", endpoint: proxy.url, options, environment: environment)
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.stderr.contains("would disable 4 users"), "\(refused.stderr)")
        #expect(refused.stderr.contains("counted across 3 account(s)"), "\(refused.stderr)")
        #expect(proxy.successfulWrites.isEmpty, "\(proxy.actions)")
        #expect(proxy.actions.filter { $0 == "GetUser" }.count == 9)
        let rows = try Accounts.report(dir.path + "/refused.csv")
        #expect(rows.count == 4, "the absent rows are not written")
        #expect(rows.allSatisfy { $0["status"] == "not-run" }, "\(rows)")
        #expect(
            Set(rows.map { "\($0["user"]!)@\($0["account"]!)" }) == [
                "\(v1)@\(base)", "\(v1)@\(m1)", "\(v2)@\(m1)", "\(v2)@\(m2)",
            ])
        for (user, account) in [(v1, base), (v1, m1), (v2, m1), (v2, m2)] {
            #expect(try await Accounts.hasConsole(user, in: account), "\(user) in \(account): unchanged")
        }
    }

    @Test(
        "the self-disable guard per account: the IAM user running batch is refused in its own account (invalid), the same name in a member account is disabled"
    )
    func selfDisablePerAccount() async throws {
        let (base, member) = (Accounts.newAccount(), Accounts.newAccount())
        let operatorName = Moto.uniqueName("operator")
        try await Accounts.seed([operatorName], in: base)
        try await Accounts.seed([operatorName], in: member)
        // The operator's own key: the run's caller is arn:aws:iam::BASE:user/OPERATOR.
        let key = try await Moto.withSession(credentials: try await Accounts.credentials(in: base)) { _, admin, _ in
            try await admin.createAccessKey(operatorName)
        }
        let identity = try await Moto.withSession(credentials: key) { session, _, _ in
            try await session.sts.getCallerIdentity().value
        }
        try #require(identity.arn == "arn:aws:iam::\(base):user/\(operatorName)", "\(identity)")
        let proxy = try await RecordingProxy.start(upstream: try #require(Moto.endpoint))
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write("leavers.csv", "user,action\n\(operatorName),disable\n")
        let result = try await Accounts.batch(
            input, report: dir.path + "/report.csv", endpoint: proxy.url, ["--accounts", "\(base),\(member)"],
            environment: Accounts.environment(key))
        #expect(result.status == 1, "an invalid row: exit 1: \(result.output)")
        let rows = try Accounts.report(dir.path + "/report.csv")
        #expect(
            Accounts.statuses(rows) == ["\(operatorName)@\(base)": "invalid", "\(operatorName)@\(member)": "changed"])
        let own = try #require(rows.first { $0["account"] == base })
        #expect(own["error_code"] == "self-disable")
        #expect(own["message"]?.contains("arn:aws:iam::\(base):user/\(operatorName)") == true, "\(own)")
        #expect(try await Accounts.hasConsole(operatorName, in: base), "the caller keeps its console")
        #expect(try await !Accounts.hasConsole(operatorName, in: member))
        #expect(proxy.successfulWrites.count == 1)
    }
}
