import AWSQuery
import ArgumentParser
import BatchEngine
import ConsoleAccess
import Foundation

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "List every IAM user's console access, MFA and access keys as CSV; mark inactive users.",
        discussion: """
            Changes nothing. sts:GetCallerIdentity confirms who is asking, then every IAM user is \
            listed (iam:ListUsers, paged; --path-prefix and --user-regex narrow them) and read with \
            bounded concurrency: login profile, MFA devices, access keys and their last use, and \
            whether IAMUserChangePassword is attached. One CSV row per user, sorted by name; dates \
            are ISO 8601 UTC. No secret is ever written.

            --inactive-days N marks users with console access whose password was last used more \
            than N days ago, or never used and whose login profile was created more than N days ago \
            (a profile re-created after the last use counts from its creation). --emit-batch FILE \
            writes a ready-to-run `batch` input (user,action with disable) for exactly those users; \
            it never overwrites a file.

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

    @OptionGroup var pacing: PacingOptions

    @OptionGroup var connection: ConnectionOptions

    func makeConfiguration(retry: RetryPolicy = RetryPolicy(maxAttempts: 5)) -> ReviewConfiguration {
        ReviewConfiguration(
            output: output, pathPrefix: pathPrefix, userRegex: userRegex, inactiveDays: inactiveDays,
            emitBatch: emitBatch, concurrency: pacing.concurrency, retry: retry, maxRate: pacing.maxRate)
    }

    func validate() throws {
        if let problem = makeConfiguration().usageProblems().first { throw ValidationError(problem) }
    }

    func run() async throws {
        let logger = connection.makeLogger()
        var configuration = makeConfiguration(retry: try pacing.retryPolicy())
        configuration.aws = try connection.awsConfiguration(logger: logger)
        let progress: (any BatchProgress)? = TerminalProgress.isTerminal ? TerminalProgress() : nil
        let result = await ReviewRun.execute(configuration, progress: progress)

        for note in result.notes { printError("note: \(note)") }
        for error in result.errors { printError("error: \(error)") }
        if let summary = result.summary { printError(ReviewSummaryText.render(summary)) }
        if result.exitStatus != .success { throw ExitCode(result.exitStatus.rawValue) }
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
        if let emitted = summary.emittedBatch {
            lines.append(
                "  batch input: \(emitted) (check it, then: console-access batch \(emitted) --report REPORT.csv)")
        }
        return lines.joined(separator: "\n")
    }
}
