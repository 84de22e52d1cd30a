import AWSQuery
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers

/// A batch run's state, passed from step to step: what is left to run, what to tell the user,
/// and how it ends. The report rows themselves go to the `ReportSink` as they are decided.
struct BatchRunState {
    let configuration: BatchConfiguration
    let input: BatchInput
    /// Rows an earlier run finished (`--resume`), by line (and account): not run again.
    var done: [RowKey: ReportRow] = [:]
    /// The valid rows still to run.
    var jobs: [BatchJob]
    var notes: [String] = []
    var errors: [String] = []
    /// Set when the run ends with a status of its own (a refusal), whatever the rows say.
    var exitOverride: ExitStatus?
    /// Set when the run is refused before any row starts (nothing was changed).
    var refused = false
    /// When the report was started (the run record's `started_at`).
    var startedAt = Date()
    /// A row's undo could not be written to `--emit-restore`'s file (the run then exits 1).
    var restoreFileFailed = false

    init(configuration: BatchConfiguration, input: BatchInput) {
        self.configuration = configuration
        self.input = input
        self.jobs = input.jobs
    }

    var reportPath: String { configuration.reportPath }

    /// A run over several accounts: `--accounts`/`--organization`, or rows naming their account.
    var isMultiAccount: Bool {
        configuration.accounts.fansOut || input.jobs.contains { $0.account != nil }
    }

    /// Stops the run before any (further) row starts: every job left gets a `not-run` row.
    mutating func refuse(error: String, notRun reason: String, status: ExitStatus, sink: ReportSink) {
        errors.append(error)
        notRunAll(reason, sink: sink)
        exitOverride = status
        refused = true
    }

    /// A `not-run` row for every job left that has no row yet.
    mutating func notRunAll(_ reason: String, sink: ReportSink) {
        let written = sink.decided
        for job in jobs where !written.contains(job.key) {
            sink.write(ReportRow(notRun: job, reason: reason))
        }
        jobs = []
    }
}

// MARK: - Before connecting

extension BatchRunState {
    /// Starts the report (new, or resumed for the same input) and its run record.
    mutating func openReport() throws(BatchStoppedEarly) -> ReportSink {
        let report = reportPath
        let writer: ReportWriter
        do {
            if configuration.resume {
                done = try BatchRun.resumeState(
                    report: report, input: input, dryRun: configuration.options.dryRun, byAccount: isMultiAccount,
                    accountTargets: configuration.accounts.recorded, notes: &notes)
                try BatchRun.rewriteKeeping(
                    Array(done.values).sorted { ($0.line, $0.account) < ($1.line, $1.account) }, report: report)
                writer = try ReportWriter(appendingTo: report)
            } else {
                if FileManager.default.fileExists(atPath: report),
                    (try? RunRecord.read(forReport: report))?.wasRefused == true
                {
                    // Nothing ran under that report: the rerun its refusal suggested may reuse the path.
                    notes.append("replacing \(report): the run that wrote it was refused before any change")
                    try FileManager.default.removeItem(atPath: report)
                }
                if FileManager.default.fileExists(atPath: report) {
                    throw BatchStoppedEarly(errors: [
                        "the report \(report) already exists: use --resume to continue that run, or give a new report path"
                    ])
                }
                writer = try ReportWriter(creating: report)
            }
            try RunRecord(
                input: input.source, inputSHA256: input.sha256, startedAt: Date(), complete: false,
                dryRun: configuration.options.dryRun, summary: nil, multiAccount: isMultiAccount ? true : nil,
                accountTargets: configuration.accounts.recorded
            ).write(forReport: report)
        } catch let error as BatchStoppedEarly {
            throw error
        } catch let error as BatchRun.ResumeRefusal {
            throw BatchStoppedEarly(errors: [error.message], notes: notes)
        } catch {
            throw BatchStoppedEarly(errors: ["cannot write the report: \(error)"], notes: notes)
        }
        // A multi-account run drops its done rows once the rows are expanded over the accounts.
        jobs = input.jobs.filter { done[$0.key] == nil }
        startedAt = Date()
        return ReportSink(writer: writer, byAccount: isMultiAccount)
    }

    /// `--generate-passwords FILE` (not in a dry run): the file the generated passwords go to.
    func openPasswordFile(closingOnFailure sink: ReportSink) throws(BatchStoppedEarly) -> PasswordFile? {
        try openSideFile(configuration.generatePasswordsPath, closingOnFailure: sink) {
            try PasswordFile(path: $0, appending: configuration.resume, byAccount: isMultiAccount)
        }
    }

    /// `--emit-restore`: created new (appended to on `--resume`), mode 0600; none in a dry run.
    func openRestoreFile(closingOnFailure sink: ReportSink) throws(BatchStoppedEarly) -> RestoreFile? {
        try openSideFile(configuration.emitRestorePath, closingOnFailure: sink) {
            try RestoreFile(path: $0, appending: configuration.resume, byAccount: isMultiAccount)
        }
    }

    /// A file written beside the report as the run goes, when its option names one and the run
    /// is not a dry run; one that cannot be opened stops the run (the report is closed).
    private func openSideFile<File>(
        _ path: String?, closingOnFailure sink: ReportSink, _ open: (String) throws -> File
    ) throws(BatchStoppedEarly) -> File? {
        guard let path, !configuration.options.dryRun else { return nil }
        do {
            return try open(path)
        } catch {
            try? sink.close()
            throw BatchStoppedEarly(errors: ["\(error)"], notes: notes)
        }
    }

    /// Every invalid row is reported at once.
    func reportInvalidRows(to sink: ReportSink) {
        for error in input.rowErrors where done[RowKey(line: error.line, account: "")] == nil {
            sink.write(ReportRow(invalid: error))
        }
    }

    /// `--strict`: any invalid row refuses the whole run.
    mutating func refuseIfStrict(sink: ReportSink) {
        guard configuration.strict && !input.rowErrors.isEmpty else { return }
        let count = input.rowErrors.count
        refuse(
            error: "--strict: \(count) invalid row\(count == 1 ? "" : "s") (see the report); nothing was changed",
            notRun: "not run: --strict and the file has invalid rows", status: .usage, sink: sink)
    }
}

// MARK: - Connected

extension BatchRunState {
    /// Connects (identity, then the password policy), drops the rows refused locally, checks the
    /// blast radius, and runs the rest.
    mutating func connectAndRun(
        _ run: RunContext, sink: ReportSink, stop: StopController, passwordFile: PasswordFile?,
        restoreFile: RestoreFile?
    ) async {
        do {
            try await run.withSession { session in
                let connected: (service: ConsoleAccessService, notes: [String])
                do {
                    connected = try await ConsoleAccessService.connect(
                        iam: session.iam, executor: session.executor, caller: session.identity,
                        logger: session.logger)
                } catch let error as SetupError {
                    refuseForSetup(error, sink: sink)
                    return
                }
                notes += connected.notes
                jobs = dropLocallyRefused(jobs, service: connected.service, sink: sink)
                guard checkBlastRadius(sink: sink) else { return }
                let work = AccountWork(
                    service: connected.service, jobs: jobs, account: session.identity.account,
                    concurrency: configuration.options.concurrency, total: jobs.count)
                let failedWrites = await runJobs(
                    work, sink: sink, stop: stop, passwordFile: passwordFile, restoreFile: restoreFile,
                    progress: run.progress)
                errors += failedWrites
                restoreFileFailed = restoreFileFailed || !failedWrites.isEmpty
                jobs = []
            }
        } catch RunSetupError.identity(let error) {
            refuseForSetup(error, sink: sink)
        } catch {
            let setup = (error as? RunSetupError)?.setup ?? SetupError(error, during: "setting up the AWS client")
            refuse(
                error: "nothing was changed: \(setup.message)", notRun: "not run: the AWS client could not be set up",
                status: .credentials, sink: sink)
        }
    }

    /// The identity check or the password policy read failed: nothing runs.
    mutating func refuseForSetup(_ error: SetupError, sink: ReportSink) {
        refuse(
            error: "nothing was changed: \(error.message)", notRun: "not run: \(error.message)",
            status: error.isCredentialsProblem ? .credentials : .failure, sink: sink)
    }

    /// Rows the account's password policy or the self-disable guard refuses get an `invalid` row;
    /// returns the others.
    func dropLocallyRefused(_ jobs: [BatchJob], service: ConsoleAccessService, sink: ReportSink) -> [BatchJob] {
        let generating = configuration.generatePasswordsPath != nil
        let account = service.caller?.account ?? ""
        return jobs.filter { job in
            guard
                let problem = service.localProblem(
                    user: job.user, action: job.action, password: job.password,
                    passwordWillBeGenerated: generating && job.password == nil)
            else { return true }
            sink.write(
                ReportRow(
                    line: job.line, user: job.user, action: job.action, status: .invalid,
                    errorCode: problem.code, message: problem.description, account: job.account ?? account))
            return false
        }
    }

    /// `--max-disable`: false when the run is refused (a dry run only notes it).
    mutating func checkBlastRadius(sink: ReportSink) -> Bool {
        let disables = Set(jobs.filter { $0.action == .disable }.map { $0.user.lowercased() }).count
        let limit = configuration.maxDisable
        guard disables > limit else { return true }
        if configuration.options.dryRun {
            notes.append(
                "this file would disable \(disables) users, more than --max-disable \(limit); a real run would stop before any change"
            )
            return true
        }
        refuse(
            error: Refusal.blastRadius(disables: disables, limit: limit).description,
            notRun: "not run: the file would disable \(disables) users (> --max-disable \(limit))", status: .usage,
            sink: sink)
        return false
    }

    /// Runs one account's jobs, a report row per finished row (and its undo in
    /// `--emit-restore`'s file, written first); rows a stop kept from starting are `not-run`. A
    /// fanned-out row whose user is not in the account is `absent`: counted, and written only
    /// with `--report-absent`. Returns the undo lines that could not be written.
    func runJobs(
        _ work: AccountWork, sink: ReportSink, stop: StopController, passwordFile: PasswordFile?,
        restoreFile: RestoreFile?, progress: RunProgress
    ) async -> [String] {
        let jobs = work.jobs
        let conflicts = BatchRunner.conflictNotes(jobs)
        var options = configuration.options
        options.concurrency = work.concurrency
        let runner = BatchRunner(service: work.service, options: options, stop: stop, passwordFile: passwordFile)
        let restoreErrors = NIOLockedValueBox<[String]>([])
        let (account, total, reportAbsent) = (work.account, work.total, configuration.accounts.reportAbsent)
        let started = await runner.run(jobs) { job, outcome, at, duration in
            var notes = conflicts[job.line].map { [$0] } ?? []
            var outcome = outcome
            if job.fannedOut && outcome.status == .notFound { outcome.status = .absent }
            if let restoreFile {
                do {
                    try restoreFile.record(outcome, account: job.account)
                } catch {
                    let message = "could not write its undo to \(restoreFile.path): \(error)"
                    notes.append(message)
                    restoreErrors.withLockedValue { $0.append("--emit-restore: line \(job.line): \(message)") }
                }
            }
            let row = ReportRow(
                job: job, outcome: outcome, startedAt: at, duration: duration, notes: notes, account: account)
            sink.record(row, writing: outcome.status != .absent || reportAbsent)
            progress.finished(failed: !outcome.succeeded && outcome.status != .absent, total: total)
        }
        for job in jobs where !started.contains(job.key) {
            sink.write(ReportRow(notRun: job, reason: "not run: the batch was stopped before this row"))
        }
        return restoreErrors.withLockedValue { $0 }
    }
}

/// One account's share of a run: its connected service, its jobs, how many may be in flight
/// at once, and the run's total (for progress).
struct AccountWork: Sendable {
    var service: ConsoleAccessService
    var jobs: [BatchJob]
    /// The account (the caller's in a single-account run).
    var account: String
    var concurrency: Int
    var total: Int
}

// MARK: - The end

extension BatchRunState {
    /// Closes the report, decides the exit status, writes the summary into the run record.
    mutating func finish(sink: ReportSink, calls: CallCounter, interrupted: Bool, began: ContinuousClock.Instant)
        -> BatchResult
    {
        var reportFailed = false
        do {
            try sink.close()
        } catch {
            reportFailed = true
            errors.append("the report could not be written completely: \(error)")
        }
        if let error = sink.error {
            reportFailed = true
            errors.append("the report could not be written completely: \(error)")
        }
        let counts = sink.countsByStatus
        let status = exitStatus(counts: counts, reportFailed: reportFailed, interrupted: interrupted, calls: calls)
        var countsByName: [String: Int] = [:]
        for (key, value) in counts { countsByName[key.rawValue] = value }
        let summary = BatchSummary(
            input: input.source, report: reportPath, rows: input.rows.count, counts: countsByName,
            resumedDone: done.count, elapsedSeconds: (ContinuousClock.now - began).inSeconds,
            apiCalls: calls.total, throttledCalls: calls.throttled, dryRun: configuration.options.dryRun,
            interrupted: interrupted, exitCode: status.rawValue,
            accounts: isMultiAccount
                ? sink.countsByAccount.mapValues { counts in
                    Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
                } : nil)
        do {
            try RunRecord(
                input: input.source, inputSHA256: input.sha256, startedAt: startedAt, complete: !reportFailed,
                dryRun: configuration.options.dryRun, summary: summary, refused: refused ? true : nil,
                multiAccount: isMultiAccount ? true : nil, accountTargets: configuration.accounts.recorded
            ).write(forReport: reportPath)
        } catch {
            errors.append("the run record \(RunRecord.path(forReport: reportPath)) could not be written: \(error)")
        }
        return BatchResult(summary: summary, exitStatus: status, errors: errors, notes: notes)
    }

    func exitStatus(counts: [OutcomeStatus: Int], reportFailed: Bool, interrupted: Bool, calls: CallCounter)
        -> ExitStatus
    {
        if let exitOverride { return exitOverride }
        if interrupted { return .interrupted }
        if reportFailed || restoreFileFailed || BatchRun.unsuccessful(counts) > 0 {
            let failed: Int = counts[.failed] ?? 0
            return calls.authorizationFailures > 0 && failed > 0 ? .credentials : .failure
        }
        return .success
    }
}
