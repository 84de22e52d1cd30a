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
    private var written: Set<Int> = []
    private var firstError: ReportError?

    init(writer: ReportWriter) {
        self.writer = writer
    }

    func write(_ row: ReportRow) {
        lock.lock()
        defer { lock.unlock() }
        do {
            try writer.write(row)
        } catch {
            if firstError == nil { firstError = error }
        }
        counts[row.status, default: 0] += 1
        written.insert(row.line)
    }

    var countsByStatus: [OutcomeStatus: Int] { lock.withLock { counts } }
    var writtenLines: Set<Int> { lock.withLock { written } }
    /// The first write failure (a full disk, say): the run must not claim a complete report.
    var error: ReportError? { lock.withLock { firstError } }

    func close() throws(ReportError) {
        lock.lock()
        defer { lock.unlock() }
        try writer.close()
    }
}

extension ReportRow {
    /// The report row for a finished job. Never holds a password: outcomes never do.
    init(job: BatchJob, outcome: Outcome, startedAt: Date, duration: Duration, notes: [String]) {
        let (seconds, attoseconds) = duration.components
        let details = [outcome.detail] + notes + job.warnings.map(\.description)
        self.init(
            line: job.line, user: job.user, action: job.action, status: outcome.status,
            detail: details.filter { !$0.isEmpty }.joined(separator: "; "), errorCode: outcome.errorCode ?? "",
            message: outcome.status == .invalid ? outcome.detail : (outcome.message ?? ""),
            attempts: outcome.attempts, requestID: outcome.requestId ?? "", startedAt: startedAt,
            durationMS: Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }

    /// The report row for a valid job that did not run.
    init(notRun job: BatchJob, reason: String) {
        self.init(line: job.line, user: job.user, action: job.action, status: .notRun, detail: reason)
    }
}
