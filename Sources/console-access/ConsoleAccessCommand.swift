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
        subcommands: [BatchCommand.self, ModifyCommand.self, ValidateCommand.self, ReviewCommand.self]
    )

    /// Runs the command, mapping usage errors to exit code 2 (argument-parser's default is 64).
    static func main() async {
        // Swift Concurrency's jobs run on the event loops that do the HTTP I/O, so a call's
        // continuation does not hop between thread pools (it halves the CPU of a batch).
        // One event loop thread: the tool's work is small requests waiting on the network, and
        // with every task, connection and timer on one thread, answers that arrive together are
        // handled in one wake-up and no task hops threads (about 8% less CPU in a batch than
        // one loop per core; see BENCHMARKS.md).
        NIOSingletons.groupLoopCountSuggestion = 1
        // A statically linked binary cannot install the loop as the global executor: its tasks
        // then prefer the loop as their executor, to the same effect.
        let loopRunsJobs = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        // A parent may have started us with signals blocked (children of threads that block
        // them inherit the mask); SIGINT and SIGTERM must reach the graceful stop.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        do {
            if !loopRunsJobs, #available(macOS 15.0, *) {
                let loop = EventLoopTaskExecutor(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
                try await withTaskExecutorPreference(loop) { try await parseAndRun() }
            } else {
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
        var command = try parseAsRoot()
        if var asyncCommand = command as? AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }
}
