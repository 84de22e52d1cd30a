import AWSQuery
import ArgumentParser
import ConsoleAccess
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

@main
struct ConsoleAccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-access",
        abstract: "Turn HR and access-review CSV files into AWS IAM console-access changes.",
        discussion: """
            Exit codes: 0 success (every change made or already as asked); 1 a change failed or a user \
            was not found; 2 usage or input error; 3 credentials or authorization failure; \
            130 interrupted.
            """,
        version: ToolVersion.number,
        subcommands: [BatchCommand.self, ModifyCommand.self, ValidateCommand.self, ReviewCommand.self]
    )

    /// Runs the command, mapping usage errors to exit code 2 (argument-parser's default is 64).
    static func main() async {
        // One event loop thread does everything: the tool's work is small requests waiting on
        // the network, and with every task, connection and timer on one thread, answers that
        // arrive together are handled in one wake-up and no task hops threads (less CPU in a
        // batch than one loop per core: BENCHMARKS.md, "CPU, step by step").
        NIOSingletons.groupLoopCountSuggestion = 1
        // A parent may have started us with signals blocked (children of threads that block
        // them inherit the mask); SIGINT and SIGTERM must reach the graceful stop.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        do {
            if #available(macOS 15.0, *) {
                // The command's tasks prefer the loop as their task executor, so they run on
                // the thread that does the HTTP I/O and an answer resumes its caller without a
                // thread hop. (Not NIO's global-executor takeover: it runs jobs as the loop's
                // *serial* executor, so wherever the code asks for the generic executor (the
                // entry of a nonisolated async function, the return from a wait) the runtime
                // found the task on another executor and enqueued it once more: about one
                // extra job per API call (measured: BENCHMARKS.md, below "CPU, step by step").
                // It also needs a runtime hook that a statically linked binary does not export.)
                let loop = EventLoopTaskExecutor(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
                try await withTaskExecutorPreference(loop) { try await parseAndRun() }
            } else {
                // Safe because it runs early in `main`, before any other task starts, as NIO
                // asks (macOS 14 only: it has no task executor preference).
                _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
                try await parseAndRun()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Glibc.exit(ExitStatus.usage.rawValue)
            }
            exit(withError: error)
        }
    }

    private static func parseAndRun() async throws {
        var command = try parseAsRoot(ReviewCommand.spellingDetail(Array(CommandLine.arguments.dropFirst())))
        if var asyncCommand = command as? AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }
}
