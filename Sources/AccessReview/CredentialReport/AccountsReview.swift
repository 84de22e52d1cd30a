import AWSQuery
import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation

/// `review --accounts`/`--organization`: every account reviewed from its own credential report,
/// in parallel (at most `--accounts-concurrency` at once), each through its own session (the
/// member role; the caller's credentials in its own account) with its own limiter. The outputs
/// are one review with an `account` column (CSV, or JSON with `account` in each user), one
/// `--emit-batch` file with the `account` column that `batch` runs as it is, and one evidence
/// pack with a manifest per account (`ACCOUNT/manifest.json`, `ACCOUNT/credential-report.csv`)
/// beside the merged files and the top manifest. An account that cannot be reviewed (its role,
/// its report) is named once and the others go on; the review then exits 1.
enum AccountsReview {
    /// One account's part: its outcome, or why there is none.
    enum Part: Sendable {
        case reviewed(ReportReviewOutcome)
        /// Why, and whether it was an authorization failure (exit 3, as for a single account).
        case failed(String, authorization: Bool)
    }

    static func execute(_ configuration: ReviewConfiguration, progress: (any BatchProgress)?) async -> ReviewResult {
        let began = ContinuousClock.now
        let now = configuration.now ?? Date()
        let run = RunContext(
            aws: configuration.aws, retry: configuration.retry, maxRate: configuration.maxRate, progress: progress,
            connector: configuration.connector)
        let plan: AccountPlan
        // The base identity and its region: the pack's top manifest names them, whichever
        // accounts were reviewed (the caller's own may not be one of them).
        let base: (caller: CallerIdentity, region: String)
        do {
            let options = configuration.accounts
            (plan, base) = try await run.withSession { session in
                (
                    try await AccountPlan.make(options, session: session),
                    (caller: session.identity, region: session.region)
                )
            }
        } catch {
            let setup =
                (error as? RunSetupError)?.setup
                ?? SetupError(error, during: "listing the organization's accounts (organizations:ListAccounts)")
            return ReviewStoppedEarly(setup: setup).result
        }
        guard !plan.targets.isEmpty else {
            var errors = ["no account to review: every account was excluded (--exclude-accounts) or none is ACTIVE"]
            errors += plan.notes.map { "(\($0))" }
            return ReviewResult(
                summary: nil, exitStatus: .failure, reviews: [], inactiveUsers: [], errors: errors, notes: [])
        }
        // At most --concurrency calls in flight in all: the accounts at once share it for --detail.
        let atOnce = min(configuration.accounts.concurrency, configuration.concurrency, plan.targets.count)
        // Each account writes CSV into its spool; the asked format is made when they are merged.
        var csvOnly = configuration
        csvOnly.format = .csv
        csvOnly.evidence = nil
        csvOnly.concurrency = max(1, configuration.concurrency / max(atOnce, 1))
        let (perAccount, targets) = (csvOnly, plan.targets)
        let parts = await BoundedConcurrency.map(targets, limit: atOnce) { _, account in
            let role = configuration.accounts.role(
                in: account, callerAccount: plan.callerAccount, partition: plan.partition)
            let reach = role.map { "as \($0.roleArn)" } ?? "with the run's own credentials"
            do {
                switch try await ReportReviewRun.fetchAndJudge(
                    perAccount, run: run, now: now, role: role, account: account)
                {
                case .outcome(let outcome): return Part.reviewed(outcome)
                case .fallback:
                    return Part.failed(
                        "account \(account): the credential report is not allowed there (AccessDenied); a review across accounts uses each account's report: grant iam:GenerateCredentialReport and iam:GetCredentialReport to the member role",
                        authorization: true)
                case .failed(let setup):
                    return Part.failed(
                        "account \(account): \(setup.message)", authorization: setup.isCredentialsProblem)
                }
            } catch {
                let setup = (error as? RunSetupError)?.setup ?? SetupError(error, during: "connecting")
                return Part.failed(
                    "cannot review account \(account) \(reach): \(setup.message)",
                    authorization: setup.isCredentialsProblem)
            }
        }
        if Task.isCancelled { return ReviewRun.interrupted }
        var merge = AccountsReviewMerge(
            configuration: configuration, plan: plan, caller: base.caller, region: base.region, now: now)
        for (account, part) in zip(targets, parts) {
            switch part {
            case .reviewed(let outcome)?: merge.outcomes.append((account, outcome))
            case .failed(let message, let authorization)?:
                merge.errors.append(message)
                merge.failed[account] = message
                merge.authorizationFailed = merge.authorizationFailed || authorization
            case nil: merge.errors.append("account \(account): not reviewed (the review was cancelled)")
            }
        }
        merge.notes += plan.notes
        return merge.finish(calls: run.calls, began: began)
    }
}

/// The accounts' outcomes put together: the merged files written, the counts summed.
struct AccountsReviewMerge {
    let configuration: ReviewConfiguration
    let plan: AccountPlan
    /// The run's own identity (the base credentials) and region.
    let caller: CallerIdentity
    let region: String
    let now: Date
    var outcomes: [(account: String, outcome: ReportReviewOutcome)] = []
    var errors: [String] = []
    var notes: [String] = []
    /// Every reviewed account's counts together (made by `finish`, before the files are written).
    var tally = ReportReviewTally()
    /// The accounts that could not be reviewed, with why (the pack's manifest lists them).
    var failed: [String: String] = [:]
    /// One of them for lack of authorization (`AccessDenied` on its role or its report): exit 3.
    var authorizationFailed = false

    init(configuration: ReviewConfiguration, plan: AccountPlan, caller: CallerIdentity, region: String, now: Date) {
        self.configuration = configuration
        self.plan = plan
        self.caller = caller
        self.region = region
        self.now = now
    }

    mutating func finish(calls: CallCounter, began: ContinuousClock.Instant) -> ReviewResult {
        var accountCounts: [String: [String: Int]] = [:]
        for (account, outcome) in outcomes {
            tally.add(outcome.tally, account: account)
            let part = outcome.tally
            accountCounts[account] = part.states.merging(["users": part.users, "flagged": part.flagged]) { a, _ in a }
            if let generated = outcome.generatedTime {
                notes.append("account \(account): credential report generated \(ISO8601.format(generated))")
            }
        }
        errors += tally.detailErrors
        let files = writeMerged()
        let status: ExitStatus =
            authorizationFailed
            ? .credentials : errors.isEmpty && tally.detailFailures == 0 && files.failed == false ? .success : .failure
        var summary = ReviewSummary(
            users: tally.users, consoleAccess: tally.consoleAccess,
            inactive: configuration.inactiveDays == nil ? nil : tally.flagged, inactiveDays: configuration.inactiveDays,
            unreadable: tally.detailFailures,
            output: configuration.output == "-" ? "standard output" : configuration.output,
            emittedBatch: files.emitted, elapsedSeconds: (ContinuousClock.now - began).inSeconds,
            apiCalls: calls.total, throttledCalls: calls.throttled, exitCode: status.rawValue)
        summary.source = ReviewSource.report.rawValue
        summary.states = tally.states
        summary.evidence = files.evidence
        summary.accounts = accountCounts
        return ReviewResult(
            summary: summary, exitStatus: status, reviews: [], inactiveUsers: [], errors: errors, notes: notes)
    }

    /// What the merge wrote.
    struct Written {
        var emitted: String?
        var evidence: String?
        var failed = false
    }

    /// The review, the emitted batch and the evidence pack, each made from the accounts' spools
    /// a chunk at a time.
    mutating func writeMerged() -> Written {
        var written = Written()
        let header = ReportReviewCSV.header + ["account"]
        var reviewCSV: SpooledFile?
        var review: SpooledFile?
        var batch: SpooledFile?
        do {
            reviewCSV = try concatenate(header: header, outcomes.map(\.outcome.files.review))
            review =
                configuration.format == .json
                ? try json(header: header, from: outcomes.map(\.outcome.files.review))
                : reviewCSV
            if configuration.inactiveDays != nil {
                batch = try concatenate(
                    header: ReportEmittedBatch.header + ["account"], outcomes.compactMap(\.outcome.files.batch))
            }
            if let review { try NewFile.output(.file(review), to: configuration.output) }
        } catch {
            errors.append("the review could not be written: \(error)")
            written.failed = true
        }
        if let path = configuration.emitBatch, let batch {
            do {
                try NewFile.write(.file(batch), to: path)
                written.emitted = path
            } catch {
                errors.append("--emit-batch: \(error)")
                written.failed = true
            }
        }
        if let directory = configuration.evidence, let reviewCSV {
            do {
                try writeEvidence(to: directory, reviewCSV: reviewCSV, review: review, batch: batch)
                written.evidence = directory
            } catch {
                errors.append("\(error)")
                written.failed = true
            }
        }
        return written
    }

    /// The pack: the merged review (and JSON), batch, the top manifest listing the accounts, and
    /// per account its credential report and its own manifest.
    func writeEvidence(to directory: String, reviewCSV: SpooledFile, review: SpooledFile?, batch: SpooledFile?)
        throws
    {
        var files = [EvidencePack.File(name: "review.csv", content: .file(reviewCSV))]
        if configuration.format == .json, let review {
            files.append(EvidencePack.File(name: "review.json", content: .file(review)))
        }
        if let batch { files.append(EvidencePack.File(name: "batch.csv", content: .file(batch))) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for (account, outcome) in outcomes {
            let state = ReportFinishState(outcome: outcome, configuration: configuration, now: now)
            var manifest = state.manifest()
            let report = OutputContent.file(outcome.report)
            manifest.files = ["credential-report.csv": try report.sha256()]
            files.append(EvidencePack.File(name: "\(account)/credential-report.csv", content: report))
            files.append(
                EvidencePack.File(
                    name: "\(account)/manifest.json", bytes: try [UInt8](encoder.encode(manifest)) + [0x0A]))
        }
        var manifest = EvidencePack.Manifest(
            toolVersion: EvidencePack.toolVersion, created: ISO8601.format(now), accountId: plan.callerAccount,
            callerArn: caller.arn, region: region, partition: plan.partition.rawValue,
            source: ReviewSource.report.rawValue, reportGenerated: nil, reportReused: false,
            options: ReportReviewRun.options(configuration), counts: tally.manifestCounts, files: [:])
        manifest.accounts = outcomes.map(\.account)
        // An auditor must see that the pack is not the whole organization when it is not.
        manifest.accountsFailed = failed
        try EvidencePack.write(files, manifest: manifest, to: directory)
    }

    /// One CSV: `header`, then each file's rows (its own header line left out).
    func concatenate(header: [String], _ files: [SpooledFile]) throws -> SpooledFile {
        let writer = try SpooledFileWriter(prefix: "review-accounts")
        try writer.write(CSVWriter.encode(header)[...])
        for file in files {
            var pastHeader = false
            try OutputContent.file(file).forEachChunk { chunk in
                if pastHeader { return try writer.write(chunk) }
                guard let newline = chunk.firstIndex(of: 0x0A) else { return }
                pastHeader = true
                try writer.write(chunk[(newline + 1)...])
            }
        }
        return try writer.finish()
    }

    /// The JSON review made from the accounts' CSV spools, a row at a time.
    func json(header: [String], from files: [SpooledFile]) throws -> SpooledFile {
        let writer = try SpooledFileWriter(prefix: "review-accounts-json")
        try writer.write(ReviewJSON.opening(reportGenerated: nil)[...])
        var first = true
        for file in files {
            let reader = try CSVReader(.path(file.path))
            _ = try reader.next()
            while let record = try reader.next() {
                try writer.write(ReviewJSON.user(header: header, fields: record.fields, first: first)[...])
                first = false
            }
        }
        try writer.write(ReviewJSON.closing()[...])
        return try writer.finish()
    }
}
