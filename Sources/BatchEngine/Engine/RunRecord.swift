import ConsoleAccess
import Foundation

/// The report's companion file, `REPORT.run.json`: which input (by SHA-256) the report belongs
/// to, whether the run finished, and its summary. Written when the run starts (`complete:
/// false`) and replaced atomically when it ends. A report is complete only when its run record
/// says `complete: true`.
public struct RunRecord: Codable, Sendable, Equatable {
    public var tool: String = "console-access"
    public var input: String
    public var inputSHA256: String
    public var startedAt: Date
    public var complete: Bool
    public var dryRun: Bool
    public var summary: BatchSummary?
    /// The run was refused before any change (a guard such as `--max-disable` or `--strict`, or
    /// no credentials): a later run may reuse the report path, so the rerun its message suggests
    /// works as printed. Absent in records written before this field existed.
    public var refused: Bool?
    /// A multi-account run (report rows keyed by line and account); nil for a single account.
    public var multiAccount: Bool?
    /// Where rows without an account cell ran (`AccountOptions.recorded`): `--resume` must run
    /// them in the same accounts. Nil when they ran in the caller's account.
    public var accountTargets: String?

    enum CodingKeys: String, CodingKey {
        case tool, input, complete, summary, refused
        case inputSHA256 = "input_sha256"
        case startedAt = "started_at"
        case dryRun = "dry_run"
        case multiAccount = "multi_account"
        case accountTargets = "account_targets"
    }

    public init(
        input: String, inputSHA256: String, startedAt: Date, complete: Bool, dryRun: Bool, summary: BatchSummary?,
        refused: Bool? = nil, multiAccount: Bool? = nil, accountTargets: String? = nil
    ) {
        self.multiAccount = multiAccount
        self.accountTargets = accountTargets
        self.input = input
        self.inputSHA256 = inputSHA256
        self.startedAt = startedAt
        self.complete = complete
        self.dryRun = dryRun
        self.summary = summary
        self.refused = refused
    }

    /// True when the record says its run was refused before any change.
    public var wasRefused: Bool { refused == true && complete }

    public static func path(forReport report: String) -> String { report + ".run.json" }

    public static func read(forReport report: String) throws -> RunRecord? {
        let path = path(forReport: report)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RunRecord.self, from: data)
    }

    /// Writes to a temporary file and renames it over the record, so a crash never leaves half a record.
    public func write(forReport report: String) throws {
        let path = Self.path(forReport: report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(self)
        let temporary = path + ".tmp-\(getpid())"
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(
                .fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot write \(path): \(reason)"])
        }
    }
}

/// What a batch did, for the final summary (text or JSON) and the run record.
public struct BatchSummary: Codable, Sendable, Equatable {
    public var input: String
    public var report: String
    /// Rows in the input (valid and invalid).
    public var rows: Int
    /// Rows by status, for this run's report.
    public var counts: [String: Int]
    /// Rows skipped because an earlier run (see `--resume`) had finished them.
    public var resumedDone: Int
    public var elapsedSeconds: Double
    /// API requests sent (retries included).
    public var apiCalls: Int
    /// Requests answered with throttling.
    public var throttledCalls: Int
    public var dryRun: Bool
    public var interrupted: Bool
    public var exitCode: Int32
    /// A multi-account run: rows by account, then by status (`absent` included); nil otherwise.
    public var accounts: [String: [String: Int]]?

    enum CodingKeys: String, CodingKey {
        case input, report, rows, counts, interrupted, accounts
        case resumedDone = "resumed_done"
        case elapsedSeconds = "elapsed_seconds"
        case apiCalls = "api_calls"
        case throttledCalls = "throttled_calls"
        case dryRun = "dry_run"
        case exitCode = "exit_code"
    }

    public func count(_ status: OutcomeStatus) -> Int { counts[status.rawValue] ?? 0 }
}
