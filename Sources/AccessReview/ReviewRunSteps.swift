import AWSQuery
import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation

/// A review's state, passed from step to step: the reviews read, what to tell the user, and
/// what was written. The review rows themselves go to the `ReviewSink` as they complete.
struct ReviewRunState {
    var configuration: ReviewConfiguration
    let began: ContinuousClock.Instant
    /// The time users are judged against (`configuration.now`, or when the run began).
    let now: Date
    /// `--inactive-days` (per user).
    let rule: InactivityRule?
    /// Every user reviewed, in output order.
    var reviews: [UserReview] = []
    /// Errors writing the review (`--output`).
    var writeErrors: [String] = []
    /// The inactive users, by name.
    var inactive: [String] = []
    /// The users that could not be read completely.
    var unreadable: [UserReview] = []
    /// The `--emit-batch` path, once written.
    var emitted: String?
    /// Who ran the review and where (for the evidence pack's manifest), once connected.
    var caller: CallerIdentity?
    var region: String?
    /// The `--evidence` directory, once written.
    var evidence: String?
    var errors: [String] = []
    var notes: [String] = []

    init(configuration: ReviewConfiguration, began: ContinuousClock.Instant) {
        self.configuration = configuration
        self.began = began
        let now = configuration.now ?? Date()
        self.now = now
        self.rule = configuration.inactiveDays.map { InactivityRule(days: $0, now: now) }
    }
}

/// A review that stopped before its users were read (usage, credentials, the report or
/// `ListUsers` failed): no summary, no notes.
struct ReviewStoppedEarly: Error {
    var status: ExitStatus
    var errors: [String]

    init(_ status: ExitStatus, _ errors: [String]) {
        self.status = status
        self.errors = errors
    }

    init(setup: SetupError) {
        self.init(setup.isCredentialsProblem ? .credentials : .failure, [setup.message])
    }

    var result: ReviewResult {
        ReviewResult(summary: nil, exitStatus: status, reviews: [], inactiveUsers: [], errors: errors, notes: [])
    }
}

// MARK: - Before reading users

extension ReviewRunState {
    /// The options, checked before anything else.
    func checkUsage() throws(ReviewStoppedEarly) {
        let problems = configuration.usageProblems()
        if !problems.isEmpty { throw ReviewStoppedEarly(.usage, problems) }
    }

    /// `--source report`: the review from the credential report, finished. Nil when the caller
    /// may not read the report: the review goes per user, with a warning.
    mutating func reviewFromReport() async throws(ReviewStoppedEarly) -> ReviewResult? {
        let run = RunContext(
            aws: configuration.aws, retry: configuration.retry, maxRate: configuration.maxRate,
            connector: configuration.connector)
        let fetched: ReportReviewRun.Fetched
        do {
            fetched = try await ReportReviewRun.fetchAndJudge(configuration, run: run, now: now)
        } catch {
            throw ReviewStoppedEarly(setup: ReviewRun.setupError(error))
        }
        switch fetched {
        case .failed(let setup):
            if Task.isCancelled { return ReviewRun.interrupted }
            throw ReviewStoppedEarly(setup: setup)
        case .outcome(let outcome):
            if Task.isCancelled { return ReviewRun.interrupted }
            return ReportReviewRun.finish(
                outcome, configuration: configuration, calls: run.calls, began: began, now: now)
        case .fallback(let warning):
            notes.append(fallbackWarning(warning))
            return nil
        }
    }

    /// The fallback's warning, naming the options the per-user review does not apply.
    func fallbackWarning(_ warning: String) -> String {
        var unused: [String] = []
        if configuration.detail != .none { unused.append("--detail") }
        if configuration.includeKeys { unused.append("--include-keys") }
        return "warning: " + warning
            + (unused.isEmpty ? "" : "; not applied per user: " + unused.joined(separator: ", "))
    }
}

// MARK: - Per user

extension ReviewRunState {
    /// Reads every user (per-user calls) and writes the review as the rows complete.
    mutating func reviewPerUser(_ run: RunContext) async throws(ReviewStoppedEarly) {
        configuration.source = .perUser
        defer { run.progress.finish() }
        do {
            let state = self
            (reviews, writeErrors, caller, region) = try await run.withSession { session in
                let (reviews, errors) = try await state.reviewUsers(session, progress: run.progress)
                return (reviews, errors, session.identity, session.region)
            }
        } catch let error as CSVError {
            throw ReviewStoppedEarly(.usage, ["cannot write the review: \(error)"])
        } catch {
            throw ReviewStoppedEarly(setup: ReviewRun.setupError(error))
        }
        errors += writeErrors
    }

    /// The users (listed, filtered, sorted), each reviewed and written to `--output`; returns the
    /// reviews and the write errors.
    func reviewUsers(_ session: RunSession, progress: RunProgress) async throws -> ([UserReview], [String]) {
        let filter = configuration.userRegex.flatMap { try? UserNameFilter(pattern: $0) }
        var users = try await ReviewRun.listUsers(session, configuration: configuration)
        if let filter { users = users.filter { filter.matches($0.userName) } }
        users.sort(by: ReviewRun.order)
        let reviewer = UserReviewer(iam: session.iam, executor: session.executor, partition: session.partition)
        // CSV is written as rows complete; JSON is one document, written at the end.
        let sink =
            configuration.format == .csv ? try ReviewSink(output: configuration.output, rule: rule, now: now) : nil
        let total = users.count
        let reviews = await ReviewRun.reviewAll(users, concurrency: configuration.concurrency, reviewer: reviewer) {
            index, review in
            sink?.add(review, at: index)
            progress.finished(failed: review.failed, total: total)
        }
        guard let sink else { return (reviews, writeJSON(reviews)) }
        return (reviews, sink.finish())
    }

    /// `--format json`: the review to standard output or `--output`; the write errors.
    func writeJSON(_ reviews: [UserReview]) -> [String] {
        do {
            try NewFile.output(.bytes(ReviewCSV.json(reviews, rule: rule, now: now)), to: configuration.output)
            return []
        } catch {
            return ["the review could not be written: \(error)"]
        }
    }
}

// MARK: - The end

extension ReviewRunState {
    /// The inactive users (`--inactive-days`), and an error for each user that could not be read.
    mutating func judgeUsers() {
        inactive = rule.map { rule in reviews.filter { rule.isInactive($0) }.map(\.userName) } ?? []
        unreadable = reviews.filter(\.failed)
        for review in unreadable {
            errors.append("could not read user \(review.userName): \(review.error ?? "unknown error")")
        }
        let denied = Set(reviews.flatMap(\.deniedReads)).sorted()
        if !denied.isEmpty {
            notes.append(
                "not allowed: \(denied.joined(separator: ", ")) (AccessDenied): those counts are empty; grant them (README, IAM policy) to see every credential --revoke would deactivate"
            )
        }
    }

    /// `--emit-batch`: the inactive users as a batch file.
    mutating func emitBatch() {
        guard let path = configuration.emitBatch else { return }
        do {
            try EmittedBatch.write(users: inactive, to: path)
            emitted = path
            if !unreadable.isEmpty {
                notes.append(
                    "\(path) lists only the users that could be read; the \(unreadable.count) unreadable user\(unreadable.count == 1 ? " was" : "s were") not judged"
                )
            }
        } catch {
            errors.append("--emit-batch: \(error)")
        }
    }

    /// `--evidence`: the review (CSV, and JSON with `--format json`), the batch file (with
    /// `--inactive-days`) and a manifest, in a new directory. No credential report: the source
    /// is per user.
    mutating func writeEvidence() {
        guard let directory = configuration.evidence, let caller, let region else { return }
        do {
            var files = [
                EvidencePack.File(name: "review.csv", bytes: try ReviewCSV.bytes(reviews, rule: rule, now: now))
            ]
            if configuration.format == .json {
                files.append(
                    EvidencePack.File(name: "review.json", bytes: try ReviewCSV.json(reviews, rule: rule, now: now)))
            }
            if rule != nil {
                files.append(EvidencePack.File(name: "batch.csv", bytes: try EmittedBatch.bytes(users: inactive)))
            }
            var counts = ["users": reviews.count, "unreadable": unreadable.count]
            if rule != nil { counts["inactive"] = inactive.count }
            let manifest = EvidencePack.Manifest(
                toolVersion: EvidencePack.toolVersion, created: ISO8601.format(now), accountId: caller.account,
                callerArn: caller.arn, region: region,
                partition: (caller.partition ?? Partition.of(region: region)).rawValue,
                source: ReviewSource.perUser.rawValue, reportGenerated: nil, reportReused: false,
                options: ReportReviewRun.options(configuration), counts: counts, files: [:])
            try EvidencePack.write(files, manifest: manifest, to: directory)
            evidence = directory
        } catch {
            errors.append("\(error)")
        }
    }

    /// Unreadable users fail the run (credentials when IAM refused a read); so does an output
    /// that could not be written.
    func exitStatus() -> ExitStatus {
        if !unreadable.isEmpty {
            return unreadable.contains { $0.errorCode.map { AWSErrorCode($0).isAuthorization } ?? false }
                ? .credentials : .failure
        }
        if !writeErrors.isEmpty || (configuration.emitBatch != nil && emitted == nil)
            || (configuration.evidence != nil && evidence == nil)
        {
            return .failure
        }
        return .success
    }

    /// The exit status, the summary and the result.
    func finish(calls: CallCounter) -> ReviewResult {
        let status = exitStatus()
        var summary = ReviewSummary(
            users: reviews.count, consoleAccess: reviews.filter(\.hasConsoleAccess).count,
            inactive: rule == nil ? nil : inactive.count, inactiveDays: configuration.inactiveDays,
            unreadable: unreadable.count,
            output: configuration.output == "-" ? "standard output" : configuration.output,
            emittedBatch: emitted, elapsedSeconds: (ContinuousClock.now - began).inSeconds, apiCalls: calls.total,
            throttledCalls: calls.throttled, exitCode: status.rawValue)
        summary.evidence = evidence
        return ReviewResult(
            summary: summary, exitStatus: status, reviews: reviews, inactiveUsers: inactive, errors: errors,
            notes: notes)
    }
}
