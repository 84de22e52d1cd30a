import AWSQuery
import Foundation
import TestSupport
import Testing

/// Issue 21 end to end: the built binary runs one batch across several AWS accounts on moto.
///
/// What moto does (5.2): `sts:AssumeRole` on `arn:aws:iam::ACCOUNT:role/NAME` succeeds whether
/// or not the role exists there, whatever the external id (with signature checking on as well;
/// then IAM calls with those credentials fail with a 500 when the role is missing). The account
/// is the ARN's, and the temporary key it returns acts in that account (moto finds the account by
/// looking the access key up), with that account's own IAM users.
/// Organizations is per account: `CreateOrganization` makes the caller's account the management
/// account, `CreateAccount` answers `SUCCEEDED` at once with a new 12-digit id, `ListAccounts`
/// lists the management account and the created ones, all `ACTIVE`. moto never refuses a role,
/// so a refused `AssumeRole` comes from the recording proxy in front of it.
///
/// Member accounts are fresh ids per test (moto makes an account on first use); users are seeded
/// there by assuming the role from the test, as the CLI does.
@Suite(
    "batch across accounts, end to end (moto: Organizations, cross-account AssumeRole)",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct MultiAccountCLITests {
    // MARK: - The tests

    @Test(
        "--accounts BASE,A,B: a leaver is disabled where present, absent elsewhere (counted, not written unless --report-absent); roles assumed only in the members"
    )
    func fanOut() async throws {
        let (a, b) = (Self.newAccount(), Self.newAccount())
        let leaver = Moto.uniqueName("leaver")
        let mover = Moto.uniqueName("mover")
        try await Self.seed([leaver], in: Self.baseAccount)
        try await Self.seed([leaver], in: a)
        try await Self.seed([mover], in: b)
        let proxy = try await RecordingProxy.start(upstream: try #require(Moto.endpoint))
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write("leavers.csv", "user,action\n\(leaver),disable\n\(mover),disable\n")
        let accounts = "\(Self.baseAccount),\(a),\(b)"

        let first = try await Self.batch(
            input, report: dir.path + "/report.csv", endpoint: proxy.url, ["--accounts", accounts],
            environment: Self.environment())
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stdout.contains("3 changed, 0 failed, 3 absent"), "\(first.stdout)")
        for account in [Self.baseAccount, a, b] {
            #expect(first.stdout.contains("account \(account): 1 changed, 1 absent"), "\(first.stdout)")
        }
        let rows = try Self.report(dir.path + "/report.csv")
        #expect(
            Self.statuses(rows) == [
                "\(leaver)@\(Self.baseAccount)": "changed", "\(leaver)@\(a)": "changed", "\(mover)@\(b)": "changed",
            ], "only the accounts where each user is")
        #expect(rows.allSatisfy { $0["action"] == "disable" && $0["error_code"] == "" })
        let summary = try Self.summary(dir.path + "/report.csv")
        #expect(summary["exit_code"] as? Int == 0)
        #expect((summary["counts"] as? [String: Int]) == ["changed": 3, "absent": 3])
        for account in [Self.baseAccount, a, b] {
            #expect(Self.accountCounts(summary, account) == ["changed": 1, "absent": 1], "\(account)")
        }
        for (user, account) in [(leaver, Self.baseAccount), (leaver, a), (mover, b)] {
            #expect(try await !Self.hasConsole(user, in: account), "\(user) in \(account)")
        }
        let assumed = proxy.requests.filter { $0.formParameters["Action"] == "AssumeRole" }
        #expect(
            Set(assumed.compactMap { $0.formParameters["RoleArn"] }) == [Self.roleArn(a), Self.roleArn(b)],
            "the base account uses its own credentials")

        // Again with --report-absent: one row per input row per account; nothing left to change.
        let again = try await Self.batch(
            input, report: dir.path + "/again.csv", endpoint: proxy.url, ["--accounts", accounts, "--report-absent"],
            environment: Self.environment())
        #expect(again.status == 0, "\(again.output)")
        let all = try Self.report(dir.path + "/again.csv")
        #expect(all.count == 6)
        #expect(
            Self.statuses(all) == [
                "\(leaver)@\(Self.baseAccount)": "unchanged", "\(leaver)@\(a)": "unchanged",
                "\(leaver)@\(b)": "absent", "\(mover)@\(Self.baseAccount)": "absent", "\(mover)@\(a)": "absent",
                "\(mover)@\(b)": "unchanged",
            ])
        #expect(all.filter { $0["status"] == "absent" }.allSatisfy { $0["error_code"] == "NoSuchEntity" })
        #expect(
            (try Self.summary(dir.path + "/again.csv")["counts"] as? [String: Int]) == ["unchanged": 3, "absent": 3])
    }

    @Test(
        "an account column: each row runs only in its account (an empty cell: the caller's); a missing user there is not-found"
    )
    func accountColumn() async throws {
        let (a, b) = (Self.newAccount(), Self.newAccount())
        let carol = Moto.uniqueName("carol")
        let dave = Moto.uniqueName("dave")
        let ghost = Moto.uniqueName("ghost")
        try await Self.seed([carol], in: a)
        try await Self.seed([carol, dave], in: b)
        try await Self.seed([dave], in: Self.baseAccount)
        let dir = try TemporaryDirectory()
        let input = try dir.write(
            "by-account.csv",
            "user,action,account\n\(carol),disable,\(a)\n\(dave),disable,\(b)\n\(dave),disable,\n\(ghost),disable,\(a)\n"
        )
        let result = try await Self.batch(
            input, report: dir.path + "/report.csv", endpoint: try #require(Moto.endpoint), [],
            environment: Self.environment())
        #expect(result.status == 1, "the ghost is not found: \(result.output)")
        let rows = try Self.report(dir.path + "/report.csv").sorted { Int($0["line"]!)! < Int($1["line"]!)! }
        #expect(rows.map { $0["account"]! } == [a, b, Self.baseAccount, a])
        #expect(rows.map { $0["status"]! } == ["changed", "changed", "changed", "not-found"])
        #expect(rows[3]["error_code"] == "NoSuchEntity")
        #expect(try await !Self.hasConsole(carol, in: a))
        #expect(try await Self.hasConsole(carol, in: b), "carol's row names account A only")
        #expect(try await !Self.hasConsole(dave, in: b))
        #expect(try await !Self.hasConsole(dave, in: Self.baseAccount))
        let summary = try Self.summary(dir.path + "/report.csv")
        #expect(Self.accountCounts(summary, a) == ["changed": 1, "not-found": 1])
        #expect(summary["exit_code"] as? Int == 1)
    }

    @Test(
        "--organization: every account of the organization (the management account with its own credentials); --exclude-accounts skips one"
    )
    func organization() async throws {
        // A management account of its own: the shared server's default account may have an
        // organization from another test already.
        let management = Self.newAccount()
        let credentials = try await Self.credentials(in: management)
        let created = try await Moto.withSession(credentials: credentials) { session, _, _ -> [String] in
            _ = try await session.organizations.call("CreateOrganization", body: #"{"FeatureSet":"ALL"}"#)
            var ids: [String] = []
            for _ in 0..<2 {
                let name = Moto.uniqueName("member")
                let answer = try await session.organizations.call(
                    "CreateAccount", body: #"{"AccountName":"\#(name)","Email":"\#(name)@example.com"}"#)
                let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                let status = try #require(object?["CreateAccountStatus"] as? [String: Any])
                ids.append(try #require(status["AccountId"] as? String))
            }
            return ids
        }
        let leaver = Moto.uniqueName("leaver")
        for account in [management] + created { try await Self.seed([leaver], in: account) }
        let excluded = created[1]
        let dir = try TemporaryDirectory()
        let input = try dir.write("leavers.csv", "user,action\n\(leaver),disable\n")
        let result = try await Self.batch(
            input, report: dir.path + "/report.csv", endpoint: try #require(Moto.endpoint),
            ["--organization", "--exclude-accounts", excluded], environment: Self.environment(credentials))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("--exclude-accounts: not worked on: \(excluded)"), "\(result.stderr)")
        let rows = try Self.report(dir.path + "/report.csv")
        #expect(Set(rows.map { $0["account"]! }) == [management, created[0]])
        #expect(rows.allSatisfy { $0["status"] == "changed" })
        for account in [management, created[0]] {
            #expect(try await !Self.hasConsole(leaver, in: account), "\(account)")
        }
        #expect(try await Self.hasConsole(leaver, in: excluded), "excluded")
        let summary = try Self.summary(dir.path + "/report.csv")
        let counted = (summary["accounts"] as? [String: Any]).map { Set($0.keys) }
        #expect(counted == [management, created[0]])
    }

    /// A proxy in front of moto that refuses `AssumeRole` for the roles in `denied`, as STS does
    /// when the role is missing or its trust policy does not name the caller.
    static func refusingProxy(_ denied: Set<String>) async throws -> RecordingProxy {
        try await RecordingProxy.start(upstream: try #require(Moto.endpoint)) { request, _ in
            let form = request.formParameters
            guard form["Action"] == "AssumeRole", let arn = form["RoleArn"], denied.contains(arn) else { return nil }
            return .error(
                code: "AccessDenied", status: 403,
                message:
                    "User: arn:aws:iam::\(baseAccount):user/moto is not authorized to perform: sts:AssumeRole on resource: \(arn)"
            )
        }
    }

    @Test(
        "a role refused in one account: its rows fail with the role ARN (one error), the other account goes on, exit 3; --resume then runs only those rows"
    )
    func refusedRoleThenResume() async throws {
        let (a, b) = (Self.newAccount(), Self.newAccount())
        let users = [Moto.uniqueName("u1"), Moto.uniqueName("u2")]
        let onlyB = Moto.uniqueName("u3")
        try await Self.seed(users, in: a)
        try await Self.seed(users + [onlyB], in: b)
        let proxy = try await Self.refusingProxy([Self.roleArn(b)])
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write(
            "leavers.csv", "user,action\n" + (users + [onlyB]).map { "\($0),disable\n" }.joined())
        let report = dir.path + "/report.csv"
        let options = ["--accounts", "\(a),\(b)", "--report-absent"]

        let first = try await Self.batch(
            input, report: report, endpoint: proxy.url, options, environment: Self.environment())
        #expect(first.status == 3, "AccessDenied on a row's account: exit 3: \(first.output)")
        let rows = try Self.report(report)
        let failed = rows.filter { $0["account"] == b }
        #expect(failed.count == 3)
        #expect(failed.allSatisfy { $0["status"] == "failed" && $0["error_code"] == "AccessDenied" }, "\(failed)")
        #expect(failed.allSatisfy { $0["message"]!.contains(Self.roleArn(b)) }, "\(failed)")
        #expect(
            Self.statuses(rows.filter { $0["account"] == a }) == [
                "\(users[0])@\(a)": "changed", "\(users[1])@\(a)": "changed", "\(onlyB)@\(a)": "absent",
            ])
        let errors = first.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains(b) && errors[0].contains(Self.roleArn(b)), "\(first.stderr)")
        #expect(first.stdout.contains("2 changed, 3 failed, 1 absent"), "\(first.stdout)")
        #expect(Self.accountCounts(try Self.summary(report), b) == ["failed": 3])
        for user in users {
            #expect(try await !Self.hasConsole(user, in: a))
            #expect(try await Self.hasConsole(user, in: b), "nothing was done in B")
        }
        let refusals = proxy.requests.filter { $0.formParameters["RoleArn"] == Self.roleArn(b) }
        #expect(refusals.count == 1, "AccessDenied is not retried: \(refusals.count) AssumeRole calls")

        // The role is fixed; --resume runs B's rows only (A's absent row is finished too).
        proxy.setRule(nil)
        proxy.clearRecording()
        let resumed = try await Self.batch(
            input, report: report, endpoint: proxy.url, options + ["--resume"], environment: Self.environment())
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.stdout.contains("3 already done in an earlier run"), "\(resumed.stdout)")
        let assumed = proxy.requests.filter { $0.formParameters["Action"] == "AssumeRole" }
        #expect(assumed.map { $0.formParameters["RoleArn"] } == [Self.roleArn(b)], "account A is not entered again")
        #expect(proxy.successfulWrites.map(\.action) == Array(repeating: "DeleteLoginProfile", count: 3))
        let after = try Self.report(report)
        #expect(after.count == 6, "one row per input row per account")
        #expect(Set(after.map { "\($0["line"]!)@\($0["account"]!)" }).count == 6)
        #expect(after.filter { $0["account"] == b }.allSatisfy { $0["status"] == "changed" })
        #expect(Self.accountCounts(try Self.summary(report), b) == ["changed": 3])
        for user in users + [onlyB] { #expect(try await !Self.hasConsole(user, in: b)) }
    }

    @Test(
        "bad account options: exit 2 with a clear message, and no AWS call",
        arguments: [
            (["--accounts", "12345"], "--accounts: '12345' has 5 digits"),
            (["--accounts", "111111111111,abc"], "--accounts: 'abc' is not an AWS account id"),
            (["--accounts", "@/nonexistent/accounts.txt"], "--accounts: cannot read /nonexistent/accounts.txt"),
            (
                ["--accounts", "111111111111", "--organization"],
                "--accounts and --organization both say where rows run"
            ),
            (["--exclude-accounts", "111111111111"], "--exclude-accounts needs --accounts or --organization"),
            (["--organization", "--exclude-accounts", "1111"], "--exclude-accounts: '1111' has 4 digits"),
            (["--accounts", "111111111111", "--role-name", "bad role!"], "--role-name: not a role name"),
            (["--accounts", "111111111111", "--role-name", ""], "--role-name: not a role name"),
            (["--accounts", "111111111111", "--role-session-name", "x"], "--role-session-name: 2-64 characters"),
            (["--accounts", "111111111111", "--accounts-concurrency", "0"], "--accounts-concurrency must be 1-64"),
        ])
    func badOptions(options: [String], message: String) async throws {
        let proxy = try await RecordingProxy.start(upstream: try #require(Moto.endpoint))
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write("leavers.csv", "user,action\nsomeone,disable\n")
        let result = try await Self.batch(
            input, report: dir.path + "/report.csv", endpoint: proxy.url, options, environment: Self.environment())
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(proxy.requests.isEmpty, "no AWS call: \(proxy.actions)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/report.csv"))
    }

    @Test(
        "CONSOLE_ACCESS_EXTERNAL_ID reaches AssumeRole and nothing else: not stdout, stderr (--debug), the report, the run record or the audit log; nor the base secret"
    )
    func noSecretInOutput() async throws {
        // Base credentials of a fresh account: a secret key and session token of their own.
        let base = Self.newAccount()
        let credentials = try await Self.credentials(in: base)
        let (member, refused) = (Self.newAccount(), Self.newAccount())
        let leaver = Moto.uniqueName("leaver")
        try await Self.seed([leaver], in: base)
        try await Self.seed([leaver], in: member)
        let externalId = "ext-canary-\(UUID().uuidString)"
        let proxy = try await Self.refusingProxy([Self.roleArn(refused)])
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write("leavers.csv", "user,action\n\(leaver),disable\n")
        let report = dir.path + "/report.csv"
        let audit = dir.path + "/audit.jsonl"
        let result = try await Self.batch(
            input, report: report, endpoint: proxy.url,
            [
                "--accounts", "\(base),\(member),\(refused)", "--report-absent", "--debug", "--audit-log", audit,
                "--output", "json",
            ], environment: Self.environment(credentials, ["CONSOLE_ACCESS_EXTERNAL_ID": externalId]))
        #expect(result.status == 3, "the refused account (AccessDenied): \(result.output)")
        #expect(result.stderr.contains("AssumeRole"), "--debug logs the calls: \(result.stderr)")
        let assumed = proxy.requests.filter { $0.formParameters["Action"] == "AssumeRole" }
        #expect(!assumed.isEmpty && assumed.allSatisfy { $0.formParameters["ExternalId"] == externalId })
        #expect(try await !Self.hasConsole(leaver, in: base))
        #expect(try await !Self.hasConsole(leaver, in: member))

        let files = [report, report + ".run.json", audit].map {
            (try? String(contentsOfFile: $0, encoding: .utf8)) ?? ""
        }
        #expect(files.allSatisfy { !$0.isEmpty })
        let secrets = [externalId, credentials.secretAccessKey, try #require(credentials.sessionToken), Self.password]
        let outputs =
            [("stdout", result.stdout), ("stderr", result.stderr)] + Array(zip(["report", "record", "audit"], files))
        for (name, text) in outputs {
            for secret in secrets { #expect(!text.contains(secret), "\(name) holds a secret") }
        }
    }
}
