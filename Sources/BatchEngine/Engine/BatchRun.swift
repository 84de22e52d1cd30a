import AWSQuery
import CSVStream
import ConsoleAccess
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Everything `console-access batch` needs.
public struct BatchConfiguration: Sendable {
    public var input: CSVInput
    public var inputOptions: BatchInputOptions
    /// The report path (a file; `REPORT.run.json` is written beside it).
    public var reportPath: String
    public var options: RunOptions
    /// Any invalid row stops the run before any change.
    public var strict: Bool
    /// Continue an earlier report: skip rows it has as done, run the rest.
    public var resume: Bool
    public var retry: RetryPolicy
    /// Requests per second never to exceed.
    public var maxRate: Double?
    /// Refuse (before any change) to disable more users than this.
    public var maxDisable: Int
    /// `--generate-passwords FILE`: enable rows without a password get a generated one, written here.
    public var generatePasswordsPath: String?
    public var aws: AWSConfiguration

    public init(
        input: CSVInput, reportPath: String, inputOptions: BatchInputOptions = BatchInputOptions(),
        options: RunOptions = RunOptions(), strict: Bool = false, resume: Bool = false,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 5), maxRate: Double? = nil, maxDisable: Int = 100,
        generatePasswordsPath: String? = nil, aws: AWSConfiguration = AWSConfiguration()
    ) {
        self.generatePasswordsPath = generatePasswordsPath
        self.input = input
        self.reportPath = reportPath
        self.inputOptions = inputOptions
        self.options = options
        self.strict = strict
        self.resume = resume
        self.retry = retry
        self.maxRate = maxRate
        self.maxDisable = maxDisable
        self.aws = aws
    }
}

/// Live progress, for a terminal.
public protocol BatchProgress: Sendable {
    func update(done: Int, total: Int, failed: Int, throttled: Int)
    func finish()
}

/// What a batch run ended with.
public struct BatchResult: Sendable {
    /// Nil when the run stopped before a report was started (bad file, bad options).
    public var summary: BatchSummary?
    public var exitStatus: ExitStatus
    /// Errors for stderr: each says what is wrong and what to do.
    public var errors: [String]
    /// Notes for stderr (e.g. the password policy could not be read).
    public var notes: [String]
}

/// The whole batch: read and validate the file, check who we are, run the rows, write the
/// report and its run record, and say how it went.
public enum BatchRun {
    public static func execute(
        _ configuration: BatchConfiguration, stop: StopController = StopController(),
        progress: (any BatchProgress)? = nil
    ) async -> BatchResult {
        let began = ContinuousClock.now
        var notes: [String] = []
        let report = configuration.reportPath

        // 1. Read and validate the whole file before anything else.
        var input: BatchInput
        do {
            input = try BatchInput.load(configuration.input, options: configuration.inputOptions)
        } catch {
            return BatchResult(summary: nil, exitStatus: .usage, errors: ["\(error)"], notes: [])
        }
        if configuration.generatePasswordsPath != nil {
            input = input.acceptingMissingPasswords()
        }

        // 2. The report: new, or resumed (only for the same input, verified by checksum).
        var done: [Int: ReportRow] = [:]
        let writer: ReportWriter
        do {
            if configuration.resume {
                done = try resumeState(
                    report: report, input: input, dryRun: configuration.options.dryRun, notes: &notes)
                try rewriteKeeping(Array(done.values).sorted { $0.line < $1.line }, report: report)
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
                    return BatchResult(
                        summary: nil, exitStatus: .usage,
                        errors: [
                            "the report \(report) already exists: use --resume to continue that run, or give a new report path"
                        ], notes: [])
                }
                writer = try ReportWriter(creating: report)
            }
            try RunRecord(
                input: input.source, inputSHA256: input.sha256, startedAt: Date(), complete: false,
                dryRun: configuration.options.dryRun, summary: nil
            ).write(forReport: report)
        } catch let error as ResumeRefusal {
            return BatchResult(summary: nil, exitStatus: .usage, errors: [error.message], notes: notes)
        } catch {
            return BatchResult(
                summary: nil, exitStatus: .usage, errors: ["cannot write the report: \(error)"], notes: notes)
        }
        let sink = ReportSink(writer: writer)
        let startedAt = Date()
        var passwordFile: PasswordFile?
        if let path = configuration.generatePasswordsPath, !configuration.options.dryRun {
            do {
                passwordFile = try PasswordFile(path: path, appending: configuration.resume)
            } catch {
                try? sink.close()
                return BatchResult(summary: nil, exitStatus: .usage, errors: ["\(error)"], notes: notes)
            }
        }
        defer { passwordFile?.close() }

        // Every invalid row is reported at once.
        for error in input.rowErrors where done[error.line] == nil {
            sink.write(ReportRow(invalid: error))
        }
        var jobs = input.jobs.filter { done[$0.line] == nil }
        var errors: [String] = []
        var exitOverride: ExitStatus?
        // Set when the run is refused before any row starts (nothing was changed).
        var refused = false

        func notRunAll(_ reason: String) {
            for job in jobs where !sink.writtenLines.contains(job.line) {
                sink.write(ReportRow(notRun: job, reason: reason))
            }
            jobs = []
        }

        if configuration.strict && !input.rowErrors.isEmpty {
            let count = input.rowErrors.count
            errors.append(
                "--strict: \(count) invalid row\(count == 1 ? "" : "s") (see the report); nothing was changed")
            notRunAll("not run: --strict and the file has invalid rows")
            exitOverride = .usage
            refused = true
        }

        // 3. Connect, check, run.
        let calls = CallCounter()
        let aws = calls.observing(configuration.aws)
        if !jobs.isEmpty {
            do {
                try await AWSHTTPClient.withClient(settings: aws.http) { transport in
                    let session = try AWSSession.make(configuration: aws, transport: transport)
                    let limiter = AdaptiveRateLimiter(ceiling: configuration.maxRate)
                    let executor = CallExecutor(policy: configuration.retry, limiter: limiter)
                    let connected: (service: ConsoleAccessService, notes: [String])
                    do {
                        connected = try await ConsoleAccessService.connect(
                            session: session, executor: executor, logger: aws.logger)
                    } catch let error as SetupError {
                        errors.append("nothing was changed: \(error.message)")
                        notRunAll("not run: \(error.message)")
                        exitOverride = error.isCredentialsProblem ? .credentials : .failure
                        refused = true
                        return
                    }
                    notes += connected.notes
                    let service = connected.service

                    // Rows the account's password policy or the self-disable guard refuses.
                    var runnable: [BatchJob] = []
                    for job in jobs {
                        let generate = configuration.generatePasswordsPath != nil && job.password == nil
                        if let problem = service.localProblem(
                            user: job.user, action: job.action, password: job.password,
                            passwordWillBeGenerated: generate)
                        {
                            sink.write(
                                ReportRow(
                                    line: job.line, user: job.user, action: job.action, status: .invalid,
                                    errorCode: problem.code, message: problem.description))
                        } else {
                            runnable.append(job)
                        }
                    }
                    jobs = runnable

                    // Blast radius.
                    let disables = Set(jobs.filter { $0.action == .disable }.map { $0.user.lowercased() }).count
                    if disables > configuration.maxDisable {
                        if configuration.options.dryRun {
                            notes.append(
                                "this file would disable \(disables) users, more than --max-disable \(configuration.maxDisable); a real run would stop before any change"
                            )
                        } else {
                            errors.append(
                                Refusal.blastRadius(disables: disables, limit: configuration.maxDisable).description)
                            notRunAll(
                                "not run: the file would disable \(disables) users (> --max-disable \(configuration.maxDisable))"
                            )
                            exitOverride = .usage
                            refused = true
                            return
                        }
                    }

                    let conflicts = BatchRunner.conflictNotes(jobs)
                    let total = jobs.count
                    let finished = NIOLockedValueBox((done: 0, failed: 0))
                    let runner = BatchRunner(
                        service: service, options: configuration.options, stop: stop, passwordFile: passwordFile)
                    let started = await runner.run(jobs) { job, outcome, at, duration in
                        let notes = conflicts[job.line].map { [$0] } ?? []
                        sink.write(
                            ReportRow(job: job, outcome: outcome, startedAt: at, duration: duration, notes: notes))
                        let counts = finished.withLockedValue { state -> (Int, Int) in
                            state.done += 1
                            if !outcome.succeeded { state.failed += 1 }
                            return (state.done, state.failed)
                        }
                        progress?.update(done: counts.0, total: total, failed: counts.1, throttled: calls.throttled)
                    }
                    for job in jobs where !started.contains(job.line) {
                        sink.write(ReportRow(notRun: job, reason: "not run: the batch was stopped before this row"))
                    }
                    jobs = []
                }
            } catch {
                errors.append("nothing was changed: \(SetupError(error, during: "setting up the AWS client").message)")
                notRunAll("not run: the AWS client could not be set up")
                exitOverride = .credentials
                refused = true
            }
        }
        progress?.finish()

        // 4. Close the report; write the summary into the run record.
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
        let interrupted = stop.isStopping
        var status: ExitStatus
        if let exitOverride {
            status = exitOverride
        } else if interrupted {
            status = .interrupted
        } else if reportFailed || unsuccessful(counts) > 0 {
            let failed: Int = counts[.failed] ?? 0
            status = calls.authorizationFailures > 0 && failed > 0 ? .credentials : .failure
        } else {
            status = .success
        }
        var countsByName: [String: Int] = [:]
        for (key, value) in counts { countsByName[key.rawValue] = value }
        let elapsed = ContinuousClock.now - began
        let summary = BatchSummary(
            input: input.source, report: report, rows: input.rows.count, counts: countsByName,
            resumedDone: done.count, elapsedSeconds: seconds(elapsed),
            apiCalls: calls.total, throttledCalls: calls.throttled, dryRun: configuration.options.dryRun,
            interrupted: interrupted, exitCode: status.rawValue)
        do {
            try RunRecord(
                input: input.source, inputSHA256: input.sha256, startedAt: startedAt, complete: !reportFailed,
                dryRun: configuration.options.dryRun, summary: summary, refused: refused ? true : nil
            ).write(forReport: report)
        } catch {
            errors.append("the run record \(RunRecord.path(forReport: report)) could not be written: \(error)")
        }
        return BatchResult(summary: summary, exitStatus: status, errors: errors, notes: notes)
    }

    /// Rows that did not end `changed`, `unchanged` or `planned`.
    static func unsuccessful(_ counts: [ReportStatus: Int]) -> Int {
        var total = 0
        for (status, count) in counts where status != .changed && status != .unchanged && status != .planned {
            total += count
        }
        return total
    }

    struct ResumeRefusal: Error {
        let message: String
    }

    /// The rows an earlier run finished (`changed`/`unchanged`), by line, after checking that the
    /// report belongs to this input.
    static func resumeState(report: String, input: BatchInput, dryRun: Bool, notes: inout [String]) throws
        -> [Int: ReportRow]
    {
        guard FileManager.default.fileExists(atPath: report) else {
            notes.append("--resume: \(report) does not exist yet; starting a new report")
            return [:]
        }
        guard let record = try RunRecord.read(forReport: report) else {
            throw ResumeRefusal(
                message:
                    "--resume: \(RunRecord.path(forReport: report)) is missing, so \(report) cannot be matched to its input; give a new report path"
            )
        }
        if record.wasRefused {
            // Nothing ran: there is nothing to continue, whatever the input is now.
            notes.append("--resume: the run that wrote \(report) was refused before any change; starting a new report")
            return [:]
        }
        guard record.inputSHA256 == input.sha256 else {
            throw ResumeRefusal(
                message:
                    "--resume: the input has changed since \(report) was started (SHA-256 then \(record.inputSHA256.prefix(12))…, now \(input.sha256.prefix(12))…); resuming would skip or repeat the wrong rows. Give a new report path to run this file"
            )
        }
        guard record.dryRun == dryRun else {
            throw ResumeRefusal(
                message:
                    "--resume: \(report) is from a \(record.dryRun ? "dry run" : "real run"); resume it the same way")
        }
        let contents = try ReportReader.readAll(.path(report))
        let lines = Set(
            input.rows.map { row -> Int in
                switch row {
                case .success(let job): return job.line
                case .failure(let error): return error.line
                }
            })
        var done: [Int: ReportRow] = [:]
        for row in contents.rows where (row.status == .changed || row.status == .unchanged) && lines.contains(row.line)
        {
            done[row.line] = row
        }
        return done
    }

    /// Replaces the report with just `rows` (header first), atomically, so a resumed report ends
    /// with exactly one row per input row.
    static func rewriteKeeping(_ rows: [ReportRow], report: String) throws {
        guard FileManager.default.fileExists(atPath: report) else { return }
        let temporary = report + ".tmp-\(getpid())"
        let writer = try ReportWriter(creating: temporary)
        for row in rows { try writer.write(row) }
        try writer.close()
        guard rename(temporary, report) == 0 else {
            throw ResumeRefusal(message: "--resume: cannot replace \(report): \(String(cString: strerror(errno)))")
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

/// Counts API calls and throttled answers across the run.
final class CallCounter: Sendable {
    private let state = NIOLockedValueBox((total: 0, throttled: 0, authorization: 0))

    func record(_ record: CallRecord) {
        state.withLockedValue { state in
            state.total += 1
            if let code = record.errorCode {
                let code = AWSErrorCode(code)
                if code.isThrottling { state.throttled += 1 }
                if code.isAuthorization { state.authorization += 1 }
            }
        }
    }

    /// `configuration`, with this counter seeing every call before any observer it already had.
    func observing(_ configuration: AWSConfiguration) -> AWSConfiguration {
        var configuration = configuration
        let previous = configuration.observer
        configuration.observer = { record in
            self.record(record)
            previous?(record)
        }
        return configuration
    }

    var total: Int { state.withLockedValue { $0.total } }
    var throttled: Int { state.withLockedValue { $0.throttled } }
    var authorizationFailures: Int { state.withLockedValue { $0.authorization } }
}
