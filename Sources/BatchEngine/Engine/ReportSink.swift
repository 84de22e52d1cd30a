import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers

/// The report writer, shared by every job: writes and flushes one row at a time under a lock,
/// and counts what it wrote.
///
/// `@unchecked Sendable`: `ReportWriter` (a buffered file writer) is not `Sendable`, so no
/// lock box can hold it checked. Safe because every use of `writer` and of the mutable counts
/// is under `lock`, and the writer never leaves this class.
final class ReportSink: @unchecked Sendable {
    private let lock = NIOLock()
    private let writer: ReportWriter
    private var counts: [OutcomeStatus: Int] = [:]
    private var accountCounts: [String: [OutcomeStatus: Int]] = [:]
    private var written: Set<RowKey> = []
    /// `absent` rows per input line (a multi-account run).
    private var absentByLine: [Int: Int] = [:]
    private var firstError: ReportError?
    /// Whether rows are keyed by account too (a multi-account run).
    let byAccount: Bool

    init(writer: ReportWriter, byAccount: Bool = false) {
        self.writer = writer
        self.byAccount = byAccount
    }

    /// Writes the row and counts it.
    func write(_ row: ReportRow) {
        record(row, writing: true)
    }

    /// Counts the row; writes it only when `writing` (an `absent` row without `--report-absent`
    /// is counted, not written).
    func record(_ row: ReportRow, writing: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if writing {
            do {
                try writer.write(row)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        counts[row.status, default: 0] += 1
        if row.status == .absent { absentByLine[row.line, default: 0] += 1 }
        if !row.account.isEmpty { accountCounts[row.account, default: [:]][row.status, default: 0] += 1 }
        written.insert(RowKey(line: row.line, account: byAccount ? row.account : ""))
    }

    var countsByStatus: [OutcomeStatus: Int] { lock.withLock { counts } }
    /// How many `absent` rows the input line got.
    func absentCount(line: Int) -> Int { lock.withLock { absentByLine[line] ?? 0 } }
    /// Rows per account and status (rows that reached an account).
    var countsByAccount: [String: [OutcomeStatus: Int]] { lock.withLock { accountCounts } }
    /// The rows decided so far (written or counted).
    var decided: Set<RowKey> { lock.withLock { written } }
    /// The first write failure (a full disk, say): the run must not claim a complete report.
    var error: ReportError? { lock.withLock { firstError } }

    func close() throws(ReportError) {
        lock.lock()
        defer { lock.unlock() }
        try writer.close()
    }
}

/// A report row's identity: its input line and, in a multi-account run, its account (one input
/// row runs in several accounts). Empty account in a single-account run.
struct RowKey: Hashable, Sendable {
    var line: Int
    var account: String
}

extension BatchJob {
    /// The job's report row key.
    var key: RowKey { RowKey(line: line, account: account ?? "") }
}

extension ReportRow {
    /// The report row for a finished job, in `account` when the job names none (the caller's
    /// account in a single-account run). Never holds a password: outcomes never do.
    init(job: BatchJob, outcome: Outcome, startedAt: Date, duration: Duration, notes: [String], account: String = "") {
        let (seconds, attoseconds) = duration.components
        let details = [outcome.detail] + notes + job.warnings.map(\.description)
        self.init(
            line: job.line, user: job.user, action: job.action, status: outcome.status,
            detail: details.filter { !$0.isEmpty }.joined(separator: "; "), errorCode: outcome.errorCode ?? "",
            message: outcome.status == .invalid ? outcome.detail : (outcome.message ?? ""),
            attempts: outcome.attempts, requestID: outcome.requestId ?? "", startedAt: startedAt,
            durationMS: Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000), account: job.account ?? account)
    }

    /// The report row for a valid job that did not run.
    init(notRun job: BatchJob, reason: String) {
        self.init(
            line: job.line, user: job.user, action: job.action, status: .notRun, detail: reason,
            account: job.account ?? "")
    }
}
