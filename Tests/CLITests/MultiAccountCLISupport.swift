import AWSQuery
import Foundation
import TestSupport
import Testing

/// The accounts, seeding, runs and report readers the multi-account CLI suites share.
extension MultiAccountCLITests {
    /// moto's default account: where moto's test credentials act.
    static let baseAccount = "123456789012"
    static let role = "OrganizationAccountAccessRole"
    static let password = "Multi-Account-Passw0rd!"

    static func roleArn(_ account: String, _ name: String = role) -> String { "arn:aws:iam::\(account):role/\(name)" }

    /// A fresh account id (moto makes the account when a role in it is first assumed).
    static func newAccount() -> String { String(Int.random(in: 200_000_000_000...999_999_999_999)) }

    /// Credentials acting in `account`: moto's test credentials there, the member role elsewhere.
    static func credentials(in account: String) async throws -> AWSCredentials {
        guard account != baseAccount else { return Moto.testCredentials }
        return try await Moto.withSession { session, _, _ in
            try await session.sts.assumeRole(roleArn: roleArn(account), sessionName: "test-setup").value
        }
    }

    /// Creates each user with console access in `account`.
    static func seed(_ users: [String], in account: String) async throws {
        let credentials = try await credentials(in: account)
        try await Moto.withSession(credentials: credentials) { _, admin, _ in
            for user in users {
                try await admin.createUser(user)
                try await admin.createLoginProfile(user, password: password)
            }
        }
    }

    /// Whether `user` has a login profile in `account`.
    static func hasConsole(_ user: String, in account: String) async throws -> Bool {
        try await Moto.withSession(credentials: try await credentials(in: account)) { session, _, _ in
            (try? await session.iam.getLoginProfile(userName: user)) != nil
        }
    }

    /// The CLI's environment with `credentials` as the base credentials, and nothing else from
    /// the machine.
    static func environment(_ credentials: AWSCredentials = Moto.testCredentials, _ extra: [String: String] = [:])
        -> [String: String]
    {
        var variables = [
            "AWS_ACCESS_KEY_ID": credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            "AWS_MAX_ATTEMPTS": "2",
        ]
        if let token = credentials.sessionToken { variables["AWS_SESSION_TOKEN"] = token }
        return CLI.isolatedEnvironment(variables.merging(extra) { $1 })
    }

    static func batch(
        _ input: String, report: String, endpoint: String, _ options: [String], environment: [String: String]
    ) async throws -> CLI.Result {
        try await CLI.run(
            ["batch", input, "--report", report, "--endpoint-url", endpoint] + options, environment: environment,
            timeout: .seconds(60))
    }

    // MARK: - Reading what the run wrote

    /// A report row by column name.
    typealias Row = [String: String]

    static let header = [
        "line", "user", "action", "status", "detail", "error_code", "message", "attempts", "request_id", "started_at",
        "duration_ms", "account",
    ]

    /// The report's rows (RFC 4180: quoted cells may hold commas, quotes and line breaks).
    static func report(_ path: String) throws -> [Row] {
        let records = parseCSV(try String(contentsOfFile: path, encoding: .utf8))
        try #require(records.first == header, "the report's header: \(records.first ?? [])")
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\n" || character == "\r\n" {
                record.append(field)
                records.append(record)
                (record, field) = ([], "")
            } else {
                field.append(character)
            }
        }
        if !field.isEmpty || !record.isEmpty { records.append(record + [field]) }
        return records
    }

    /// `user@account` → status, for every row of the report.
    static func statuses(_ rows: [Row]) -> [String: String] {
        Dictionary(rows.map { ("\($0["user"]!)@\($0["account"]!)", $0["status"]!) }) { first, _ in first }
    }

    /// The run record's summary.
    static func summary(_ report: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: report + ".run.json"))
        let record = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(record["multi_account"] as? Bool == true)
        #expect(record["complete"] as? Bool == true)
        return try #require(record["summary"] as? [String: Any])
    }

    /// The run record's counts for one account.
    static func accountCounts(_ summary: [String: Any], _ account: String) -> [String: Int] {
        ((summary["accounts"] as? [String: Any])?[account] as? [String: Int]) ?? [:]
    }
}
