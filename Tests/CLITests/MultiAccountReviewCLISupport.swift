import AWSQuery
import Foundation
import TestSupport
import Testing

/// The report aging, runs and readers of the review-across-accounts CLI suite.
extension MultiAccountReviewCLITests {
    typealias Accounts = MultiAccountCLITests
    typealias Row = [String: String]

    /// Rewrites moto's `GetCredentialReport` answer: each `ACCOUNT/user` row gets the cells
    /// given for it, and each account's report gets IAM's `<root_account>` row (first, and stale
    /// since long ago).
    struct ReportAging: Sendable {
        /// `ACCOUNT/user` → column → value.
        var cells: [String: [String: String]] = [:]

        /// A report date `days` ago, as IAM writes it.
        static func ago(_ days: Double) -> String {
            ISO8601.format(Date().addingTimeInterval(-days * 86_400)).replacingOccurrences(of: "Z", with: "+00:00")
        }

        static let rootUser = "<root_account>"

        /// The root row IAM puts in every report, by column.
        static func rootRow(_ header: [String], account: String) -> [String] {
            let cells = [
                "user": rootUser, "arn": "arn:aws:iam::\(account):root", "user_creation_time": ago(3000),
                "password_enabled": "not_supported", "password_last_used": ago(1000),
                "password_last_changed": "not_supported", "password_next_rotation": "not_supported",
                "mfa_active": "false",
            ]
            return header.map { column in cells[column] ?? (column.hasSuffix("_active") ? "false" : "N/A") }
        }

        func callAsFunction(_ request: ReceivedRequest, _ response: HTTPResponseData) -> HTTPResponseData {
            guard request.formParameters["Action"] == "GetCredentialReport", response.status == 200 else {
                return response
            }
            var body = String(decoding: response.body, as: UTF8.self)
            guard let range = body.range(of: "(?<=<Content>)[^<]*(?=</Content>)", options: .regularExpression),
                let data = Data(base64Encoded: String(body[range]), options: .ignoreUnknownCharacters)
            else { return response }
            // moto's report has no quoted cells.
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            guard let header = lines.first, let arn = header.firstIndex(of: "arn") else { return response }
            var account: String?
            for index in lines.indices.dropFirst() {
                let parts = lines[index][arn].split(separator: ":", omittingEmptySubsequences: false)
                let owner = parts.count > 4 ? String(parts[4]) : ""
                account = account ?? owner
                for (column, value) in cells["\(owner)/\(lines[index][0])"] ?? [:] {
                    if let at = header.firstIndex(of: column) { lines[index][at] = value }
                }
            }
            if let account { lines.insert(Self.rootRow(header, account: account), at: 1) }
            let text = lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
            body.replaceSubrange(range, with: Data(text.utf8).base64EncodedString())
            var rewritten = response
            rewritten.body = Array(body.utf8)
            return rewritten
        }
    }

    /// A fresh base account and the credentials acting there (moto's `AssumeRole` into it).
    static func baseAccount() async throws -> (account: String, credentials: AWSCredentials) {
        let account = Accounts.newAccount()
        return (account, try await Accounts.credentials(in: account))
    }

    /// Creates each user without console access in `account`.
    static func seedWithoutConsole(_ users: [String], in account: String) async throws {
        let credentials = try await Accounts.credentials(in: account)
        try await Moto.withSession(credentials: credentials) { _, admin, _ in
            for user in users { _ = try await admin.createUser(user) }
        }
    }

    static func review(_ options: [String], endpoint: String, environment: [String: String]) async throws -> CLI.Result
    {
        try await CLI.run(
            ["review", "--endpoint-url", endpoint, "--max-attempts", "2"] + options, environment: environment,
            timeout: .seconds(60))
    }

    /// A CSV file's rows by column name.
    static func table(_ path: String) throws -> [Row] {
        try table(text: String(contentsOfFile: path, encoding: .utf8))
    }

    static func table(text: String) -> [Row] {
        let records = Accounts.parseCSV(text)
        guard let header = records.first else { return [] }
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    /// `user@account=state` for each row of a review.
    static func states(_ rows: [Row]) -> Set<String> {
        Set(rows.map { "\($0["user"] ?? "")@\($0["account"] ?? "")=\($0["state"] ?? "")" })
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: path), "\(path)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A file's SHA-256 in lowercase hex, by the system's own tool (the test target has no
    /// crypto library of its own).
    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        #if os(macOS)
            process.arguments = ["shasum", "-a", "256", path]
        #else
            process.arguments = ["sha256sum", path]
        #endif
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "sha256 of \(path)")
        return String(String(decoding: output, as: UTF8.self).prefix { !$0.isWhitespace })
    }
}
