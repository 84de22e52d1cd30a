import AWSQuery
import ArgumentParser
import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Apply a CSV of enable/reset/disable rows and write a report with one row per input row.",
        discussion: """
            The whole file is read and validated before the first AWS call; a broken file changes \
            nothing (exit 2). Invalid rows are reported and the valid rows proceed (--strict: any \
            invalid row stops the run before any change). sts:GetCallerIdentity confirms who is acting \
            before the first change.

            Rows for the same user run in file order; different users run in parallel (--concurrency). \
            Each AWS call is retried on its own (throttling, 5xx, connection errors) with full-jitter \
            backoff, and one adaptive rate limiter paces all calls.

            enable creates a login profile (2 calls: CreateLoginProfile, AttachUserPolicy); a user who \
            already has one keeps their password and the row is unchanged (--reset-existing sets it \
            anyway). reset replaces an existing password and never creates one. Running the same file \
            twice changes nothing the second time (reset rows excepted: each run sets a new password).

            The report (--report) is written and flushed row by row; REPORT.run.json beside it records \
            the input's SHA-256 and, when the run ends, its summary (complete: true). --resume skips the \
            rows the report has as changed/unchanged and runs the rest. A run refused before any change \
            (--strict, --max-disable, no credentials) marks its run record refused: rerunning with the \
            same --report replaces it.

            Many accounts: a row with an account cell runs in that account; with --accounts or \
            --organization every other row runs in each of those accounts, a user missing there being \
            absent (counted, not a failure; --report-absent writes those rows). Each account has its own \
            session (the role --role-name, assumed from the run's credentials), identity check and rate \
            limiter; an account that cannot be reached fails its own rows and the others go on. \
            --max-disable counts users across all accounts.

            SIGINT/SIGTERM: no new rows start, rows in flight finish (up to 15 s), the rest are \
            reported not-run, exit 130. A second SIGINT stops at once.

            Exit codes: 0 every row changed/unchanged/absent (or planned, with --dry-run); 1 a row failed, was \
            not found, invalid or not run; 2 usage or file error; 3 credentials or authorization failure; \
            130 interrupted.
            """)

    @Argument(help: "The input CSV (user,action,password), or - for standard input.")
    var input: String

    @Option(help: "Where to write the report CSV (REPORT.run.json is written beside it).")
    var report: String

    @Flag(
        name: .customLong("dry-run"), help: "Read current state and report what each row would change; change nothing.")
    var dryRun = false

    @Flag(help: "Continue the run recorded in --report: skip rows it has as changed/unchanged, run the rest.")
    var resume = false

    @Flag(help: "Stop before any change if any row is invalid.")
    var strict = false

    @Option(
        help: ArgumentHelp("The field delimiter: one character, or tab, comma, semicolon, pipe.", valueName: "char"))
    var delimiter: DelimiterArgument = .comma

    @OptionGroup var revoke: RevokeOptions

    @Option(
        name: .customLong("generate-passwords"),
        help: ArgumentHelp(
            "Enable and reset rows with no password get a generated one (meets the account password policy, 20+ characters), written with the user and line to this new file (mode 0600) once IAM has set it (not for a user who already had console access). Never in the report or logs.",
            valueName: "file"))
    var generatePasswords: String?

    @Option(
        name: .customLong("emit-restore"),
        help: ArgumentHelp(
            "Write, as the run goes, a batch file that undoes exactly what its disable rows change: restore rows listing the credentials deactivated (and console when a login profile was deleted). A new file, mode 0600, flushed per row; run it later with batch (and --generate-passwords for console access).",
            valueName: "file"))
    var emitRestore: String?

    @Option(
        name: .customLong("max-disable"),
        help: "Stop before any change if the file would disable more users than this.")
    var maxDisable = 100

    @OptionGroup var change: ChangeOptions

    @OptionGroup(title: "Many accounts") var accounts: AccountsOptions

    @Flag(
        name: .customLong("report-absent"),
        help:
            "With --accounts or --organization: also write absent rows (a user not in that account) to the report; they are always counted."
    )
    var reportAbsent = false

    @OptionGroup var pacing: PacingOptions

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Summary format on stdout: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if reportAbsent && accounts.accounts == nil && !accounts.organization {
            throw ValidationError(
                "--report-absent needs --accounts or --organization (only rows run in each account can be absent)")
        }
        guard maxDisable >= 0 else { throw ValidationError("--max-disable must be 0 or more") }
        guard report != "-" else {
            throw ValidationError("--report needs a file path (the run record is written beside it)")
        }
        if resume && input == "-" { throw ValidationError("--resume needs an input file, not standard input") }
        if let generatePasswords, generatePasswords == report || generatePasswords == "-" {
            throw ValidationError("--generate-passwords needs its own file (not the report, not standard output)")
        }
        if let emitRestore {
            if emitRestore == "-" || [report, input, generatePasswords].contains(emitRestore) {
                throw ValidationError(
                    "--emit-restore needs its own file (not the report, the input, the password file or standard output)"
                )
            }
            if dryRun { throw ValidationError("--emit-restore records what a run changes; a dry run changes nothing") }
        }
    }

    func run() async throws {
        let logger = connection.makeLogger()
        var configuration = BatchConfiguration(
            input: .argument(input), reportPath: report, inputOptions: BatchInputOptions(delimiter: delimiter.byte),
            options: RunOptions(
                concurrency: pacing.concurrency, dryRun: dryRun, revoke: revoke.kinds, revokeGiven: revoke.given,
                resetExisting: change.resetExisting, waitForUser: change.userWait),
            strict: strict, resume: resume, retry: try pacing.retryPolicy(), maxRate: pacing.maxRate,
            maxDisable: maxDisable, generatePasswordsPath: generatePasswords, emitRestorePath: emitRestore,
            aws: try connection.awsConfiguration(logger: logger))
        configuration.accounts = try accounts.options(
            reportAbsent: reportAbsent, environment: ProcessInfo.processInfo.environment)

        let stop = StopController()
        let trap = SignalTrap(
            controller: stop,
            onFirst: { _ in
                printError("\nstopping: no new rows start; rows in flight finish (Ctrl-C again to stop at once)")
            },
            onSecond: { printError("\nstopped at once; rows in flight are not in the report") })
        defer { trap.cancel() }
        let progress: (any BatchProgress)? = TerminalProgress.isTerminal ? TerminalProgress() : nil
        let result = await BatchRun.execute(configuration, stop: stop, progress: progress)

        for note in result.notes { printError("note: \(note)") }
        for error in result.errors { printError("error: \(error)") }
        if let summary = result.summary {
            switch output {
            case .text: print(SummaryText.render(summary))
            case .json: print(jsonLine(summary))
            }
        }
        if result.exitStatus != .success { throw ExitCode(result.exitStatus.rawValue) }
    }
}

enum SummaryText {
    static func render(_ summary: BatchSummary) -> String {
        let order: [OutcomeStatus] = [.changed, .unchanged, .planned, .failed, .notFound, .invalid, .notRun, .absent]
        let counts = order.compactMap { status -> String? in
            let count = summary.count(status)
            return count > 0 || status == .changed || status == .failed ? "\(count) \(status.rawValue)" : nil
        }
        var lines = [
            "\(summary.dryRun ? "dry run" : "batch") \(summary.interrupted ? "interrupted" : "done"): \(summary.rows) row\(summary.rows == 1 ? "" : "s") in \(summary.input)",
            "  " + counts.joined(separator: ", "),
        ]
        if summary.resumedDone > 0 { lines.append("  \(summary.resumedDone) already done in an earlier run (skipped)") }
        for (account, counts) in (summary.accounts ?? [:]).sorted(by: { $0.key < $1.key }) {
            let parts = order.compactMap { status in counts[status.rawValue].map { "\($0) \(status.rawValue)" } }
            lines.append("  account \(account): " + parts.joined(separator: ", "))
        }
        lines.append(
            String(
                format: "  %.1f s, %d AWS calls, %d throttled", summary.elapsedSeconds, summary.apiCalls,
                summary.throttledCalls))
        lines.append("  report: \(summary.report) (run record: \(RunRecord.path(forReport: summary.report)))")
        return lines.joined(separator: "\n")
    }
}
