import AWSQuery
import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers

/// How a review went, for stderr and `--output json`-style consumers.
public struct ReviewSummary: Sendable, Equatable, Codable {
    /// Users listed after the filters.
    public var users: Int
    public var consoleAccess: Int
    /// Users marked inactive; nil without `--inactive-days`.
    public var inactive: Int?
    public var inactiveDays: Int?
    /// Users that could not be read completely (their rows say why).
    public var unreadable: Int
    public var output: String
    public var emittedBatch: String?
    public var elapsedSeconds: Double
    public var apiCalls: Int
    public var throttledCalls: Int
    public var exitCode: Int32
    /// `report` or `per-user` (after a fallback: `per-user`).
    public var source: String = ReviewSource.perUser.rawValue
    /// The credential report's generation time (report source).
    public var reportGenerated: Date?
    /// True when a report less than 4 hours old was reused.
    public var reportReused: Bool?
    /// Users per state (report source): inactive, active, no_access, undetermined, not_judged.
    public var states: [String: Int]?
    public var evidence: String?
    /// A review across accounts: per account, users per state (and `users`, `flagged`).
    public var accounts: [String: [String: Int]]?

    enum CodingKeys: String, CodingKey {
        case users
        case consoleAccess = "console_access"
        case inactive
        case inactiveDays = "inactive_days"
        case unreadable
        case output
        case emittedBatch = "emitted_batch"
        case elapsedSeconds = "elapsed_seconds"
        case apiCalls = "api_calls"
        case throttledCalls = "throttled_calls"
        case exitCode = "exit_code"
        case source
        case reportGenerated = "report_generated"
        case reportReused = "report_reused"
        case states
        case evidence
        case accounts
    }
}

/// What a review ended with.
public struct ReviewResult: Sendable {
    /// Nil when the run stopped before listing users (usage, credentials, ListUsers failed).
    public var summary: ReviewSummary?
    public var exitStatus: ExitStatus
    /// Every user in the output, in output order (by name).
    public var reviews: [UserReview]
    /// The inactive users written to `--emit-batch` (or that would be), by name; per-user
    /// source only (the credential-report review streams its rows: `report.tally` counts them).
    public var inactiveUsers: [String]
    /// Errors for stderr: each says what is wrong and what to do.
    public var errors: [String]
    /// Notes for stderr.
    public var notes: [String]
    /// The credential-report review (report source); nil per-user.
    public var report: ReportReviewOutcome? = nil
}

/// The quarterly access review: list every IAM user (paged, filtered), read each one's console
/// and key state with bounded concurrency through the same retry and adaptive-rate machinery
/// as `batch`, and write one CSV row per user, sorted by name. Changes nothing in AWS. Each step
/// is a method of `ReviewRunState` (`ReviewRunSteps.swift`), the run's state as a value.
public enum ReviewRun {
    public static func execute(_ configuration: ReviewConfiguration, progress: (any BatchProgress)? = nil) async
        -> ReviewResult
    {
        var state = ReviewRunState(configuration: configuration, began: ContinuousClock.now)
        let run: RunContext
        do {
            // 1. The options.
            try state.checkUsage()
            if configuration.accounts.fansOut {
                return await AccountsReview.execute(configuration, progress: progress)
            }
            // 2. The credential report (`--source report`), unless the caller may not read it.
            if configuration.source == .report, let result = try await state.reviewFromReport() {
                return result
            }
            // 3. Per user: who are we; the users (listed, filtered, sorted); each user's state.
            run = RunContext(
                aws: configuration.aws, retry: configuration.retry, maxRate: configuration.maxRate,
                progress: progress, connector: configuration.connector)
            try await state.reviewPerUser(run)
            if Task.isCancelled { return ReviewRun.interrupted }
        } catch {
            return error.result
        }
        // 4. Inactive users, the emitted batch; 5. the exit status and the summary.
        state.judgeUsers()
        state.emitBatch()
        state.writeEvidence()
        return state.finish(calls: run.calls)
    }

    /// A review cancelled (SIGINT, SIGTERM) before its outputs were put in place: none is
    /// written, and its temporary files are gone when it returns.
    public static let interrupted = ReviewResult(
        summary: nil, exitStatus: .interrupted, reviews: [], inactiveUsers: [],
        errors: ["the review was interrupted: nothing was written; run it again"], notes: [])

    /// The users under `--path-prefix` (`iam:ListUsers`, paged).
    static func listUsers(_ session: RunSession, configuration: ReviewConfiguration) async throws(ListUsersFailed)
        -> [IAMUser]
    {
        do {
            var attempts = 0
            return try await session.executor.run(attempts: &attempts) {
                try await session.iam.listUsers(
                    pathPrefix: configuration.pathPrefix, pageSize: configuration.pageSize)
            }.value
        } catch {
            throw ListUsersFailed(setup: SetupError(error, during: "listing the IAM users (iam:ListUsers)"))
        }
    }

    struct ListUsersFailed: Error {
        let setup: SetupError
    }

    /// What stopped a review before its users were read, as a `SetupError`.
    static func setupError(_ error: any Error) -> SetupError {
        switch error {
        case let error as RunSetupError: return error.setup
        case let error as ListUsersFailed: return error.setup
        default: return SetupError(error, during: "setting up the AWS client")
        }
    }

    /// Output order: by user name, case-insensitively (IAM names are unique ignoring case),
    /// then exactly.
    static func order(_ a: IAMUser, _ b: IAMUser) -> Bool {
        let (x, y) = (a.userName.lowercased(), b.userName.lowercased())
        return x != y ? x < y : a.userName < b.userName
    }

    /// Reviews `users` with at most `concurrency` in flight (`BoundedConcurrency`), calling
    /// `onResult` with each user's index as it completes. Returns the reviews in the order of
    /// `users`.
    public static func reviewAll(
        _ users: [IAMUser], concurrency: Int, reviewer: UserReviewer,
        onResult: @escaping @Sendable (Int, UserReview) -> Void = { _, _ in }
    ) async -> [UserReview] {
        let results = await BoundedConcurrency.map(users, limit: concurrency) { index, user in
            let review = await reviewer.review(user)
            onResult(index, review)
            return review
        }
        return results.enumerated().map { index, review in
            review ?? UserReview(user: users[index], error: "not reviewed", errorCode: RowFailure.cancelledCode)
        }
    }
}

/// Writes review rows in user order as they complete out of order: a row is written once
/// every row before it is. To a file, the CSV goes to a temporary name beside it and is renamed
/// into place at the end, so a file at `output` is always a complete review.
///
/// `@unchecked Sendable`: `CSVWriter` is not `Sendable`, so no lock box can hold it checked.
/// Safe because every use of the mutable state (`writer`, `pending`, `nextIndex`, `errors`) is
/// under `lock`; the other properties are constants, and the writer never leaves this class.
final class ReviewSink: @unchecked Sendable {
    private let lock = NIOLock()
    private var writer: CSVWriter?
    private var pending: [Int: UserReview] = [:]
    private var nextIndex = 0
    private var errors: [String] = []
    private let rule: InactivityRule?
    private let now: Date
    private let finalPath: String?
    private let temporaryPath: String?

    init(output: String, rule: InactivityRule?, now: Date) throws(CSVError) {
        self.rule = rule
        self.now = now
        let writer: CSVWriter
        if output == "-" {
            finalPath = nil
            temporaryPath = nil
            writer = try CSVWriter(.standardOutput)
        } else {
            let directory = (output as NSString).deletingLastPathComponent
            let temporary =
                (directory.isEmpty ? "" : directory + "/")
                + ".\((output as NSString).lastPathComponent).tmp-\(getpid())"
            finalPath = output
            temporaryPath = temporary
            writer = try CSVWriter(.path(temporary, .truncate))
        }
        try writer.write(ReviewCSV.header)
        self.writer = writer
    }

    func add(_ review: UserReview, at index: Int) {
        lock.withLock {
            pending[index] = review
            while let ready = pending.removeValue(forKey: nextIndex) {
                nextIndex += 1
                guard let writer else { continue }
                do {
                    try writer.write(ReviewCSV.fields(ready, rule: rule, now: now))
                } catch {
                    errors.append("the review could not be written: \(error)")
                    self.writer = nil
                }
            }
        }
    }

    /// Flushes and closes the output (renaming a file into place); returns the write errors.
    func finish() -> [String] {
        lock.withLock {
            if let writer {
                do {
                    if temporaryPath != nil { try writer.synchronize() }
                    try writer.close()
                } catch {
                    errors.append("the review could not be written: \(error)")
                }
                self.writer = nil
            }
            if let temporaryPath, let finalPath {
                // A cancelled review (interrupted) has not read every user: it is not put in place.
                if errors.isEmpty && !Task.isCancelled && rename(temporaryPath, finalPath) != 0 {
                    errors.append("cannot write \(finalPath): \(String(cString: strerror(errno)))")
                }
                unlink(temporaryPath)
            }
            return errors
        }
    }
}
