import AWSQuery
import AccessReview
import ArgumentParser
import BatchEngine
import ConsoleAccess
import Foundation

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "List every IAM user's console access, MFA and access keys as CSV; mark inactive users.",
        discussion: """
            Changes nothing. sts:GetCallerIdentity confirms who is asking. By default the IAM \
            credential report is the source: an existing report less than 4 hours old is reused \
            (--fresh-report asks for a new one), otherwise GenerateCredentialReport is polled until \
            COMPLETE (--report-timeout). A handful of calls for any number of users; the review \
            says when the report was generated. --user-regex and --path-prefix filter its rows. \
            --detail (--detail=flagged) adds per-user calls for what the report lacks. If the \
            report is denied (AccessDenied), or with --source per-user, every user is listed \
            (iam:ListUsers) and read with several calls each. No secret is ever written.

            --inactive-days N marks users whose console password was last used more than N days \
            ago or, never used, was set more than N days ago (never the user's creation alone); \
            --include-keys also marks users whose active keys were last used (else created) more \
            than N days ago. Each row says why. --emit-batch FILE writes a `batch` input \
            (user,action,reason with disable) for exactly the marked users; --evidence DIR writes \
            an evidence pack. Neither overwrites anything.

            Exit codes: 0 every user read; 1 some user could not be read (listed on stderr; the \
            others are written) or an output could not be written; 2 usage error; 3 credentials or \
            authorization failure.
            """)

    @Option(help: ArgumentHelp("Where to write the review CSV, or - for standard output.", valueName: "file"))
    var output = "-"

    @Option(
        name: .customLong("inactive-days"),
        help: "Mark users whose console password has not been used for more than this many days.")
    var inactiveDays: Int?

    @Option(
        name: .customLong("emit-batch"),
        help: ArgumentHelp(
            "Write a batch input that disables exactly the inactive users to this new file (needs --inactive-days).",
            valueName: "file"))
    var emitBatch: String?

    @Option(
        name: .customLong("path-prefix"),
        help: ArgumentHelp("Only users whose IAM path starts with this (e.g. /engineering/).", valueName: "path"))
    var pathPrefix: String?

    @Option(
        name: .customLong("user-regex"),
        help: ArgumentHelp(
            "Only users whose name matches this regular expression (anywhere; anchor with ^...$).",
            valueName: "regex"))
    var userRegex: String?

    @Option(
        help: ArgumentHelp(
            "Where user state comes from: report (the IAM credential report; per-user calls if it is denied) or per-user.",
            valueName: "report|per-user"))
    var source: ReviewSource = .report

    @Flag(
        name: .customLong("fresh-report"),
        help: "Ask IAM for a new credential report instead of reusing one less than 4 hours old.")
    var freshReport = false

    @Flag(
        name: .customLong("include-keys"),
        help: "Also mark users whose active access keys are unused for more than --inactive-days.")
    var includeKeys = false

    @Flag(
        name: .customLong("detail"),
        help:
            "Per-user calls for what the report lacks (PasswordResetRequired, IAMUserChangePassword, MFA serials, key ids), for every user."
    )
    var detailAll = false

    @Flag(
        name: .customLong("detail-flagged"),
        help: "Like --detail, for the users marked inactive only (also spelled --detail=flagged).")
    var detailFlagged = false

    @Option(help: ArgumentHelp("The review's format.", valueName: "csv|json"))
    var format: ReviewFormat = .csv

    @Option(
        help: ArgumentHelp(
            "Write an evidence pack (review, raw credential report, batch file, manifest.json with SHA-256s) into this new directory.",
            valueName: "dir"))
    var evidence: String?

    @Option(
        name: .customLong("report-timeout"),
        help: ArgumentHelp("Give up waiting for the credential report after this many seconds.", valueName: "seconds"))
    var reportTimeout: Int = 300

    @OptionGroup var pacing: PacingOptions

    @OptionGroup(title: "Many accounts") var accounts: AccountsOptions

    @OptionGroup var connection: ConnectionOptions

    func makeConfiguration(retry: RetryPolicy = RetryPolicy(maxAttempts: 5)) -> ReviewConfiguration {
        var configuration = ReviewConfiguration(
            output: output, pathPrefix: pathPrefix, userRegex: userRegex, inactiveDays: inactiveDays,
            emitBatch: emitBatch, concurrency: pacing.concurrency, retry: retry, maxRate: pacing.maxRate)
        configuration.source = source
        configuration.freshReport = freshReport
        configuration.includeKeys = includeKeys
        configuration.detail = detailFlagged ? .flagged : detailAll ? .all : .none
        configuration.format = format
        configuration.evidence = evidence
        configuration.reportWait.timeLimit = .seconds(reportTimeout)
        return configuration
    }

    func validate() throws {
        if detailAll && detailFlagged { throw ValidationError("give --detail or --detail-flagged, not both") }
        if !(1...3600).contains(reportTimeout) {
            throw ValidationError("--report-timeout must be from 1 to 3600 seconds")
        }
        if let problem = makeConfiguration().usageProblems().first { throw ValidationError(problem) }
    }

    func run() async throws {
        let logger = connection.makeLogger()
        var configuration = makeConfiguration(retry: try pacing.retryPolicy())
        configuration.aws = try connection.awsConfiguration(logger: logger)
        configuration.accounts = try accounts.options(
            reportAbsent: false, environment: ProcessInfo.processInfo.environment)
        let progress: (any BatchProgress)? = TerminalProgress.isTerminal ? TerminalProgress() : nil
        let stop = StopController()
        let trap = SignalTrap(
            controller: stop,
            onFirst: { _ in
                printError("\nstopping: the review is cancelled and writes nothing (Ctrl-C again to stop at once)")
            },
            onSecond: { printError("\nstopped at once") })
        defer { trap.cancel() }
        let result = await Self.execute(configuration, progress: progress, stop: stop)

        for note in result.notes { printError("note: \(note)") }
        for error in result.errors { printError("error: \(error)") }
        if let summary = result.summary { printError(ReviewSummaryText.render(summary)) }
        if result.exitStatus != .success { throw ExitCode(result.exitStatus.rawValue) }
    }
}

extension ReviewCommand {
    /// The review, cancelled when a stop is asked for (SIGINT, SIGTERM): it then writes no output
    /// and leaves no temporary file, and ends `interrupted` (exit 130).
    static func execute(_ configuration: ReviewConfiguration, progress: (any BatchProgress)?, stop: StopController)
        async -> ReviewResult
    {
        await withTaskGroup(of: ReviewResult?.self) { group in
            group.addTask { await ReviewRun.execute(configuration, progress: progress) }
            group.addTask {
                await stop.waitForStop()
                return nil
            }
            var review: ReviewResult?
            while let next = await group.next() {
                if let next {
                    review = next
                    break
                }
                // The stop came first: cancel the review and wait for it to end.
                if stop.isStopping { group.cancelAll() }
            }
            group.cancelAll()
            return review ?? ReviewRun.interrupted
        }
    }
}

enum ReviewSummaryText {
    /// `review done: 42 users, 30 with console access, 5 inactive (> 90 days), 0 unreadable, 1.2 s`
    static func render(_ summary: ReviewSummary) -> String {
        var counts = [
            "\(summary.users) user\(summary.users == 1 ? "" : "s")", "\(summary.consoleAccess) with console access",
        ]
        if let inactive = summary.inactive, let days = summary.inactiveDays {
            counts.append("\(inactive) inactive (> \(days) days)")
        }
        counts.append("\(summary.unreadable) unreadable")
        var lines = [
            "review done: " + counts.joined(separator: ", "),
            String(
                format: "  %.1f s, %d AWS calls, %d throttled", summary.elapsedSeconds, summary.apiCalls,
                summary.throttledCalls),
            "  review: \(summary.output)",
        ]
        if let generated = summary.reportGenerated {
            lines.append(
                "  source: credential report generated \(ISO8601.format(generated))\(summary.reportReused == true ? " (reused)" : "")"
            )
        } else {
            lines.append("  source: \(summary.source)")
        }
        if let states = summary.states {
            let order = ReviewState.allCases.map(\.rawValue)
            lines.append(
                "  states: "
                    + order.filter { (states[$0] ?? 0) > 0 || $0 == ReviewState.inactive.rawValue }
                    .map { "\($0) \(states[$0] ?? 0)" }.joined(separator: ", "))
        }
        for (account, counts) in (summary.accounts ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append(
                "  account \(account): \(counts["users"] ?? 0) users, \(counts[ReviewState.inactive.rawValue] ?? 0) inactive"
            )
        }
        if let evidence = summary.evidence { lines.append("  evidence pack: \(evidence)") }
        if let emitted = summary.emittedBatch {
            lines.append(
                "  batch input: \(emitted) (check it, then: console-access batch \(emitted) --report REPORT.csv)")
        }
        return lines.joined(separator: "\n")
    }

}

extension ReviewCommand {
    /// `--detail=flagged` and `--detail=all`, as the docs spell them, for the flags
    /// `--detail-flagged` and `--detail` (argument-parser has no option with an optional value).
    /// Arguments after `--` are left alone; any other `--detail=...` is refused by the parser.
    static func spellingDetail(_ arguments: [String]) -> [String] {
        var seenTerminator = false
        return arguments.map { argument in
            if argument == "--" { seenTerminator = true }
            guard !seenTerminator else { return argument }
            switch argument {
            case "--detail=flagged": return "--detail-flagged"
            case "--detail=all": return "--detail"
            default: return argument
            }
        }
    }
}

extension ReviewSource: ExpressibleByArgument {}
extension ReviewFormat: ExpressibleByArgument {}
