import AWSQuery
import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation

/// What the credential-report review adds to `ReviewResult`.
public struct ReportReviewOutcome: Sendable {
    public var reviews: [ReportUserReview]
    public var generatedTime: Date?
    /// True when an existing report (less than 4 hours old) was used.
    public var reused: Bool
    public var report: SpooledFile
    public var caller: CallerIdentity
    public var region: String
}

/// The review from the credential report: caller identity, the report (reused or generated,
/// polled), its rows parsed through `CSVReader` and judged, `--detail` calls when asked, then
/// the review (CSV or JSON), the emitted batch and the evidence pack.
enum ReportReviewRun {
    enum Fetched: Sendable {
        case outcome(ReportReviewOutcome)
        /// `AccessDenied` on the report: the caller goes per-user, with this warning.
        case fallback(String)
        case failed(SetupError)
    }

    /// - Throws: `RunSetupError` when the client or the identity check fails.
    static func fetchAndJudge(
        _ configuration: ReviewConfiguration, run: RunContext, now: Date
    ) async throws -> Fetched {
        try await run.withSession { run -> Fetched in
            let (iam, executor, identity) = (run.iam, run.executor, run.identity)
            let fetcher = CredentialReportFetcher(
                iam: iam, executor: executor, policy: configuration.reportWait, now: { now })
            let fetched: FetchedCredentialReport
            do {
                fetched = try await fetcher.fetch(fresh: configuration.freshReport)
            } catch let error as CredentialReportUnavailable {
                if error.isAccessDenied {
                    return .fallback(
                        "the credential report is not allowed for this caller (\(error.underlying?.code ?? AWSErrorCode.accessDenied.rawValue)); reviewing with per-user calls instead (slower; grant iam:GenerateCredentialReport and iam:GetCredentialReport to use the report)"
                    )
                }
                return .failed(
                    SetupError(message: error.message, isCredentialsProblem: false, errorCode: error.underlying?.code))
            } catch {
                return .failed(SetupError(error, during: "getting the credential report"))
            }
            let rule = ReportInactivityRule(
                days: configuration.inactiveDays, includeKeys: configuration.includeKeys, now: now)
            var reviews: [ReportUserReview] = []
            do {
                let filter = configuration.userRegex.flatMap { try? UserNameFilter(pattern: $0) }
                var parser = try CredentialReportParser(file: fetched.content.csv)
                while let entry = try parser.next() {
                    if entry.isRoot { continue }
                    if let filter, !filter.matches(entry.user) { continue }
                    if let prefix = configuration.pathPrefix, !entry.path.hasPrefix(prefix) { continue }
                    reviews.append(rule.review(entry))
                }
            } catch {
                return .failed(SetupError(message: "\(error)", isCredentialsProblem: false, errorCode: "InvalidReport"))
            }
            if configuration.detail != .none {
                let reader = UserDetailReader(iam: iam, executor: executor, partition: run.partition)
                reviews = await reader.addDetail(
                    to: reviews, flaggedOnly: configuration.detail == .flagged, rule: rule,
                    concurrency: configuration.concurrency)
            }
            return .outcome(
                ReportReviewOutcome(
                    reviews: reviews, generatedTime: fetched.content.generatedTime, reused: fetched.reused,
                    report: fetched.content.csv, caller: identity, region: run.region))
        }
    }

    /// The review in the asked format.
    static func reviewBytes(_ outcome: ReportReviewOutcome, format: ReviewFormat) throws -> [UInt8] {
        switch format {
        case .csv:
            // Row by row: never every row's fields at once (measured with heaptrack at 5,000
            // users: the fields of all rows were a fifth of the review's peak heap).
            var bytes = try CSVWriter.encode(ReportReviewCSV.header)
            for review in outcome.reviews { bytes += try CSVWriter.encode(ReportReviewCSV.fields(review)) }
            return bytes
        case .json: return try ReportReviewCSV.json(outcome.reviews, generatedTime: outcome.generatedTime)
        }
    }

    /// The review as CSV, written row by row to standard output (`-`) or to `path`, which is
    /// replaced atomically (written beside it, synced, renamed over it).
    static func writeCSV(_ outcome: ReportReviewOutcome, to path: String) throws {
        if path == "-" {
            let writer = try CSVWriter(.standardOutput)
            try writeRows(outcome, with: writer)
            try writer.close()
            return
        }
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).tmp-\(getpid())"
        defer { unlink(temporary) }
        let writer = try CSVWriter(.path(temporary, .truncate))
        try writeRows(outcome, with: writer)
        try writer.synchronize()
        try writer.close()
        guard rename(temporary, path) == 0 else {
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func writeRows(_ outcome: ReportReviewOutcome, with writer: CSVWriter) throws {
        try writer.write(ReportReviewCSV.header)
        for review in outcome.reviews { try writer.write(ReportReviewCSV.fields(review)) }
    }

    /// Counts per state, every state present (zero included), for the summary and manifest.
    static func stateCounts(_ reviews: [ReportUserReview]) -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: ReviewState.allCases.map { ($0.rawValue, 0) })
        for review in reviews { counts[review.state.rawValue, default: 0] += 1 }
        return counts
    }
}

/// Writes `bytes` to a new file at `path`: complete or not at all, never replacing a file
/// (written beside it, then hard-linked into place, which fails if the name is taken).
enum NewFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).tmp-\(getpid())"
        unlink(temporary)
        defer { unlink(temporary) }
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        guard link(temporary, path) == 0 else {
            let reason = errno == EEXIST ? "it already exists (never overwritten)" : String(cString: strerror(errno))
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(reason)")
        }
    }

    /// The review's bytes to standard output (`-`) or to `--output`, replaced atomically.
    static func output(_ bytes: [UInt8], to output: String) throws {
        if output == "-" {
            FileHandle.standardOutput.write(Data(bytes))
        } else {
            try replace(bytes, at: output)
        }
    }

    /// Replaces `path` atomically (a rename), for `--output`, which may name an existing file.
    static func replace(_ bytes: [UInt8], at path: String) throws {
        guard (try? Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)) != nil else {
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
