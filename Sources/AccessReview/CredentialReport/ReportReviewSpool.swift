import AWSQuery
import CSVStream
import Foundation

/// The credential-report review's outputs, written one judged user at a time into spooled
/// files (the review in the asked format, the review as CSV for the evidence pack when the
/// format is JSON, the emitted batch when users are judged), and what is counted on the way.
/// Nothing here grows with the number of users: memory stays flat at any account size.
struct ReportReviewSpool {
    private let review: SpooledFileWriter
    private let format: ReviewFormat
    /// The CSV form beside a JSON review, for the evidence pack.
    private let evidenceCSV: SpooledFileWriter?
    private let batch: SpooledFileWriter?
    /// The account every row is in, as a last `account` column (a review across accounts).
    private let account: String?
    private(set) var tally = ReportReviewTally()

    init(configuration: ReviewConfiguration, generatedTime: Date?, account: String? = nil) throws {
        self.account = account
        format = configuration.format
        review = try SpooledFileWriter(prefix: "review")
        evidenceCSV =
            configuration.format == .json && configuration.evidence != nil
            ? try SpooledFileWriter(prefix: "review-csv") : nil
        batch = configuration.inactiveDays != nil ? try SpooledFileWriter(prefix: "batch") : nil
        switch format {
        case .csv: try review.write(CSVWriter.encode(header)[...])
        case .json: try review.write(ReviewJSON.opening(reportGenerated: generatedTime)[...])
        }
        try evidenceCSV?.write(CSVWriter.encode(header)[...])
        try batch?.write(CSVWriter.encode(ReportEmittedBatch.header + accountColumn)[...])
    }

    /// The last column, `account`, in a review across accounts.
    private var accountColumn: [String] { account == nil ? [] : ["account"] }
    private var header: [String] { ReportReviewCSV.header + accountColumn }

    /// Writes one user's row to each output and counts it.
    mutating func add(_ user: ReportUserReview) throws {
        let accountCell = account.map { [$0] } ?? []
        let fields = ReportReviewCSV.fields(user) + accountCell
        switch format {
        case .csv:
            try review.write(CSVWriter.encode(fields)[...])
        case .json:
            try review.write(ReviewJSON.user(header: header, fields: fields, first: tally.users == 0)[...])
        }
        try evidenceCSV?.write(CSVWriter.encode(fields)[...])
        if let batch, let row = ReportEmittedBatch.row(user) {
            try batch.write(CSVWriter.encode(row + accountCell)[...])
        }
        tally.count(user)
    }

    /// Closes the files and hands them over.
    func finish() throws -> ReportReviewFiles {
        if format == .json { try review.write(ReviewJSON.closing()[...]) }
        let reviewFile = try review.finish()
        return ReportReviewFiles(
            review: reviewFile, reviewCSV: try evidenceCSV?.finish() ?? (format == .csv ? reviewFile : nil),
            batch: try batch?.finish())
    }
}

/// The spooled outputs of a credential-report review.
public struct ReportReviewFiles: Sendable {
    /// The review in the asked format.
    public var review: SpooledFile
    /// The review as CSV (the same file when the format is CSV); nil when not needed.
    public var reviewCSV: SpooledFile?
    /// The emitted batch; nil when users were not judged (no `--inactive-days`).
    public var batch: SpooledFile?
}

/// What the review counted while writing its rows: users per state, console access, flagged
/// users, `--detail` failures (the first `maxErrors` named) and the reads it was denied.
public struct ReportReviewTally: Sendable, Equatable {
    /// The most `--detail` failures named one by one; the rest are counted (each is in the
    /// review's `error` column).
    public static let maxErrors = 50

    public var users = 0
    public var consoleAccess = 0
    public var flagged = 0
    /// Users per state, every state present (zero included).
    public var states = Dictionary(uniqueKeysWithValues: ReviewState.allCases.map { ($0.rawValue, 0) })
    public var detailFailures = 0
    /// `--detail could not read user …` for the first `maxErrors` failures.
    public var detailErrors: [String] = []
    /// The list actions `--detail` was denied (AccessDenied).
    public var deniedReads: Set<String> = []
    /// A flagged user has stale keys (the emitted batch's revoke column asks for keys).
    public var flaggedWithStaleKeys = false

    /// The counts as a manifest records them: users per state, and `users`, `flagged`,
    /// `detail_errors`.
    var manifestCounts: [String: Int] {
        states.merging(["users": users, "flagged": flagged, "detail_errors": detailFailures]) { state, _ in state }
    }

    /// Adds another account's counts (its `--detail` errors named with the account).
    mutating func add(_ other: ReportReviewTally, account: String) {
        users += other.users
        consoleAccess += other.consoleAccess
        flagged += other.flagged
        detailFailures += other.detailFailures
        detailErrors += other.detailErrors.map { "account \(account): \($0)" }
        deniedReads.formUnion(other.deniedReads)
        flaggedWithStaleKeys = flaggedWithStaleKeys || other.flaggedWithStaleKeys
        for (state, count) in other.states { states[state, default: 0] += count }
    }

    mutating func count(_ user: ReportUserReview) {
        users += 1
        if user.entry.passwordEnabled { consoleAccess += 1 }
        states[user.state.rawValue, default: 0] += 1
        if user.isFlagged {
            flagged += 1
            if !user.staleKeySlots.isEmpty { flaggedWithStaleKeys = true }
        }
        guard let detail = user.detail else { return }
        deniedReads.formUnion(detail.deniedReads)
        if let error = detail.error {
            detailFailures += 1
            if detailErrors.count < Self.maxErrors {
                detailErrors.append("--detail could not read user \(user.userName): \(error)")
            }
        }
    }
}
