import Foundation

/// Debian's `tinyproxy` (installed by `make setup`), started for one test on a free port of
/// 127.0.0.1 with a generated config: it listens on 127.0.0.1 only, allows `CONNECT` to the
/// given ports, and may require Basic credentials. Its log (connections and request lines) is
/// readable with `log`. Stop it with `stop()`.
///
/// `@unchecked Sendable`: Foundation's `Process` is not declared `Sendable` on every platform.
/// Safe because every property is a constant, and only the test that started the proxy uses it.
public final class TinyProxy: @unchecked Sendable {
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }
    private let process: Process
    private let directory: URL
    private let logFile: URL

    /// Where `tinyproxy` is, or nil.
    public static var executable: String? {
        ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy", "/usr/local/bin/tinyproxy"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    public struct NotInstalled: Error, CustomStringConvertible {
        public var description: String {
            "tinyproxy is not installed: run `make setup` (it installs Debian's tinyproxy) before the proxy tests"
        }
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public let log: String
        public var description: String { "tinyproxy did not start: \(log)" }
    }

    /// - Parameters:
    ///   - connectPorts: ports `CONNECT` may reach (tinyproxy refuses others).
    ///   - basicAuth: user and password the proxy requires.
    public init(connectPorts: [Int], basicAuth: (user: String, password: String)? = nil) async throws {
        guard let executable = Self.executable else { throw NotInstalled() }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyproxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logFile = directory.appendingPathComponent("tinyproxy.log")
        var lastError: (any Error)?
        // A free port can be taken between finding it and tinyproxy binding it: try a few.
        for _ in 0..<5 {
            let port = try FreePort.find()
            var config = """
                Port \(port)
                Listen 127.0.0.1
                Timeout 30
                Allow 127.0.0.1
                MaxClients 100
                DisableViaHeader Yes
                LogLevel Connect
                LogFile "\(logFile.path)"

                """
            for connectPort in connectPorts { config += "ConnectPort \(connectPort)\n" }
            if let basicAuth { config += "BasicAuth \(basicAuth.user) \(basicAuth.password)\n" }
            let configFile = directory.appendingPathComponent("tinyproxy.conf")
            try config.write(to: configFile, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-d", "-c", configFile.path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline && process.isRunning && !FreePort.accepts(port: port) {
                try await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning && FreePort.accepts(port: port) {
                self.port = port
                self.process = process
                return
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            lastError = StartFailed(log: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
        }
        throw lastError ?? StartFailed(log: "")
    }

    /// The log so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    public func stop() {
        if process.isRunning {
            // SIGKILL: tinyproxy in the foreground waits for open connections on SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A test certificate authority and a server certificate for `localhost` and 127.0.0.1 signed
/// by it, made with the `openssl` command in a temporary directory.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caPath: String { directory.appendingPathComponent("ca.pem").path }
    public var certificatePath: String { directory.appendingPathComponent("server.pem").path }
    public var keyPath: String { directory.appendingPathComponent("server.key").path }
    public var tls: (certificatePath: String, keyPath: String) { (certificatePath, keyPath) }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(to: directory.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            ["req", "-x509"] + curve + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=console-access test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], in: directory)
        try run(
            ["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: directory)
        try run(
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                "server.pem", "-days", "2", "-extfile", "server.ext",
            ], in: directory)
        return TestCertificates(directory: directory)
    }

    private static func run(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // stderr to a file, not a pipe: a pipe's write end can be inherited by another child
        // started meanwhile (tinyproxy), and reading it to its end would then never finish.
        let errorFile = directory.appendingPathComponent("openssl-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorFile)
        defer { try? errors.close() }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let output = (try? Data(contentsOf: errorFile)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw Failed(
                description: "openssl \(arguments.first ?? "") failed: \(String(decoding: output, as: UTF8.self))")
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
