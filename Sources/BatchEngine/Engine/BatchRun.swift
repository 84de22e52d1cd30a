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
    /// `--emit-restore FILE`: a batch file undoing what this run's disable rows change.
    public var emitRestorePath: String?
    public var aws: AWSConfiguration
    /// Many accounts: `--accounts`/`--organization`, the member role, `--report-absent`.
    public var accounts = AccountOptions()
    /// How the run reaches AWS (tests put an in-memory IAM behind it).
    public var connector: any AWSConnector = LiveAWSConnector()

    public init(
        input: CSVInput, reportPath: String, inputOptions: BatchInputOptions = BatchInputOptions(),
        options: RunOptions = RunOptions(), strict: Bool = false, resume: Bool = false,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 5), maxRate: Double? = nil, maxDisable: Int = 100,
        generatePasswordsPath: String? = nil, emitRestorePath: String? = nil,
        aws: AWSConfiguration = AWSConfiguration()
    ) {
        self.generatePasswordsPath = generatePasswordsPath
        self.emitRestorePath = emitRestorePath
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
/// report and its run record, and say how it went. Each step is a method of `BatchRunState`
/// (`BatchRunSteps.swift`), the run's state as a value.
public enum BatchRun {
    public static func execute(
        _ configuration: BatchConfiguration, stop: StopController = StopController(),
        progress: (any BatchProgress)? = nil
    ) async -> BatchResult {
        let began = ContinuousClock.now
        var state: BatchRunState
        let sink: ReportSink
        let passwordFile: PasswordFile?
        let restoreFile: RestoreFile?
        do {
            // 1. Read and validate the whole file before anything else.
            state = BatchRunState(configuration: configuration, input: try loadInput(configuration))
            // 2. The report: new, or resumed (only for the same input, verified by checksum).
            sink = try state.openReport()
            passwordFile = try state.openPasswordFile(closingOnFailure: sink)
        } catch {
            return error.result
        }
        do {
            restoreFile = try state.openRestoreFile(closingOnFailure: sink)
        } catch {
            passwordFile?.close()
            return error.result
        }
        defer { passwordFile?.close() }
        state.reportInvalidRows(to: sink)
        state.refuseIfStrict(sink: sink)

        // 3. Connect, check, run.
        let run = RunContext(
            aws: configuration.aws, retry: configuration.retry, maxRate: configuration.maxRate, progress: progress,
            connector: configuration.connector)
        if !state.jobs.isEmpty && state.isMultiAccount {
            await state.connectAndRunAccounts(
                run, sink: sink, stop: stop, passwordFile: passwordFile, restoreFile: restoreFile)
        } else if !state.jobs.isEmpty {
            await state.connectAndRun(
                run, sink: sink, stop: stop, passwordFile: passwordFile, restoreFile: restoreFile)
        }
        run.progress.finish()
        if let restoreFile, restoreFile.close() {
            state.notes.append(
                "--emit-restore: nothing was changed, so there is nothing to undo; \(restoreFile.path) was not kept")
        }

        // 4. Close the report; write the summary into the run record.
        return state.finish(sink: sink, calls: run.calls, interrupted: stop.isStopping, began: began)
    }

    static func loadInput(_ configuration: BatchConfiguration) throws(BatchStoppedEarly) -> BatchInput {
        do {
            let input = try BatchInput.load(configuration.input, options: configuration.inputOptions)
            return configuration.generatePasswordsPath != nil ? input.acceptingMissingPasswords() : input
        } catch {
            throw BatchStoppedEarly(errors: ["\(error)"])
        }
    }

    /// Rows that did not end `changed`, `unchanged`, `planned` or `absent` (a fanned-out row's
    /// user not in that account: the common case, not a failure).
    static func unsuccessful(_ counts: [OutcomeStatus: Int]) -> Int {
        let fine: Set<OutcomeStatus> = [.changed, .unchanged, .planned, .absent]
        var total = 0
        for (status, count) in counts where !fine.contains(status) {
            total += count
        }
        return total
    }
}

/// A batch that stopped before its report was started: a usage problem (bad file, bad options,
/// a report that cannot be written).
struct BatchStoppedEarly: Error {
    var errors: [String]
    var notes: [String] = []

    var result: BatchResult { BatchResult(summary: nil, exitStatus: .usage, errors: errors, notes: notes) }
}
