import Foundation

/// Runs the built `console-access` executable, as a user would.
public enum CLI {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// Everything the process printed.
        public var output: String { stdout + stderr }
    }

    /// The executable next to the test bundle (`swift build --build-tests` builds both).
    public static var executable: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [bundle.appendingPathComponent("console-access")]
        // Under `swift test` arguments[0] may be the bundle itself or a helper in the same folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/console-access"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// An environment with nothing from the developer's machine: no home files, no IMDS.
    public static func isolatedEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": "/nonexistent-home",
            "AWS_EC2_METADATA_DISABLED": "true", "LANG": "C.UTF-8",
        ].merging(extra) { $1 }
    }

    /// Runs the CLI with `arguments`, feeding `stdin`, and waits for it (at most `timeout`).
    public static func run(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = isolatedEnvironment(),
        timeout: Duration = .seconds(120), currentDirectory: String? = nil
    ) async throws -> Result {
        let process = try start(arguments, stdin: stdin, environment: environment, currentDirectory: currentDirectory)
        return try await process.wait(timeout: timeout)
    }

    /// Starts the CLI and returns a handle (for tests that signal it).
    public static func start(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = isolatedEnvironment(),
        currentDirectory: String? = nil
    ) throws -> Running {
        let dir = NSTemporaryDirectory() + "cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let outPath = dir + "/stdout"
        let errPath = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        if let stdin {
            let inPath = dir + "/stdin"
            try Data(stdin.utf8).write(to: URL(fileURLWithPath: inPath))
            process.standardInput = FileHandle(forReadingAtPath: inPath)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return Running(process: process, directory: dir)
    }

    /// `@unchecked Sendable`: Foundation's `Process` is not declared `Sendable` on every platform.
    /// Safe because both properties are constants, and only the test that started the process
    /// uses it (signals it, reads its output, waits for it).
    public final class Running: @unchecked Sendable {
        public let process: Process
        let directory: String

        init(process: Process, directory: String) {
            self.process = process
            self.directory = directory
        }

        public var pid: Int32 { process.processIdentifier }

        public func signal(_ signal: Int32) {
            kill(process.processIdentifier, signal)
        }

        /// What the process printed so far.
        public var stdoutSoFar: String {
            String(decoding: FileManager.default.contents(atPath: directory + "/stdout") ?? Data(), as: UTF8.self)
        }

        public func wait(timeout: Duration) async throws -> Result {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning {
                if ContinuousClock.now > deadline {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    throw CLITimeout(seconds: timeout)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            process.waitUntilExit()
            let out = FileManager.default.contents(atPath: directory + "/stdout") ?? Data()
            let err = FileManager.default.contents(atPath: directory + "/stderr") ?? Data()
            try? FileManager.default.removeItem(atPath: directory)
            return Result(
                status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                stderr: String(decoding: err, as: UTF8.self))
        }
    }

    public struct CLITimeout: Error, CustomStringConvertible {
        public let seconds: Duration

        public init(seconds: Duration) {
            self.seconds = seconds
        }

        public var description: String { "console-access did not finish within \(seconds)" }
    }
}
