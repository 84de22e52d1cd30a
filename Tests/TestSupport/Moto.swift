import AWSQuery
import Foundation
import Logging

/// Access to the moto server the test run started (`scripts/with-moto.sh` sets
/// `CONSOLE_ACCESS_MOTO_ENDPOINT`), and private moto instances for tests that change global
/// server state (signature checking).
public enum Moto {
    public static let endpointVariable = "CONSOLE_ACCESS_MOTO_ENDPOINT"

    /// The shared server's URL, or nil when tests run without one.
    public static var endpoint: String? {
        ProcessInfo.processInfo.environment[endpointVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var isAvailable: Bool { endpoint != nil }

    public static let skipReason =
        "no moto server: set \(endpointVariable) (make test does) to run the integration tests"

    /// moto's default test credentials work when signature checking is off.
    public static let testCredentials = AWSCredentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    /// A unique name for this test's IAM users, so tests can share one server.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A configuration that talks to `endpoint` with explicit test credentials and an empty
    /// environment (so nothing from the developer's machine leaks in).
    public static func configuration(
        endpoint: String, credentials: AWSCredentials? = testCredentials, environment: [String: String] = [:]
    ) -> AWSConfiguration {
        var env = environment
        env["HOME"] = env["HOME"] ?? "/nonexistent-home"
        env["AWS_EC2_METADATA_DISABLED"] = env["AWS_EC2_METADATA_DISABLED"] ?? "true"
        return AWSConfiguration(region: "us-east-1", endpointURL: endpoint, credentials: credentials, environment: env)
    }

    /// POSTs to a moto control path (`/moto-api/reset-auth` and friends).
    public static func control(
        _ endpoint: String, path: String, body: String, contentType: String = "text/plain"
    ) async throws -> HTTPResponseData {
        try await AWSHTTPClient.withClient { client in
            try await client.send(
                HTTPRequestData(
                    url: endpoint + path, method: "POST", headers: [(name: "Content-Type", value: contentType)],
                    body: Array(body.utf8)), timeout: .seconds(10))
        }
    }
}

/// A moto server of a test's own, on a free loopback port, stopped by `stop()`.
public final class PrivateMoto: Sendable {
    public let endpoint: String
    private let process: Process

    private init(endpoint: String, process: Process) {
        self.endpoint = endpoint
        self.process = process
    }

    /// Starts one, or returns nil when no moto binary is known (`CONSOLE_ACCESS_MOTO_SERVER`).
    public static func start() async throws -> PrivateMoto? {
        guard let binary = ProcessInfo.processInfo.environment["CONSOLE_ACCESS_MOTO_SERVER"], !binary.isEmpty else {
            return nil
        }
        for _ in 0..<3 {
            let port = try FreePort.find()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            var environment = ProcessInfo.processInfo.environment
            environment["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let endpoint = "http://127.0.0.1:\(port)"
            for _ in 0..<150 {
                if !process.isRunning { break }
                if await isReady(endpoint) { return PrivateMoto(endpoint: endpoint, process: process) }
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        throw MotoStartError()
    }

    static func isReady(_ endpoint: String) async -> Bool {
        guard let port = URLComponents(string: endpoint)?.port, FreePort.accepts(port: port) else { return false }
        return
            (try? await AWSHTTPClient.withClient { client in
                try await client.send(HTTPRequestData(url: endpoint + "/moto-api/"), timeout: .seconds(2)).status == 200
            }) ?? false
    }

    /// Kills the server. SIGKILL, because a child spawned from a Swift concurrency thread
    /// inherits that thread's blocked signals, so SIGTERM may never arrive.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

public struct MotoStartError: Error, CustomStringConvertible {
    public var description: String { "a private moto server did not start" }
}

public enum FreePort {
    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    public static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoStartError() }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw MotoStartError() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw MotoStartError() }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Moto {
    /// Runs `body` with a session (IAM and STS at `endpoint`, moto's test credentials unless
    /// given), an admin for setup, and the transport; shuts the transport down afterwards.
    @discardableResult
    public static func withSession<T: Sendable>(
        endpoint: String? = Moto.endpoint, credentials: AWSCredentials? = testCredentials,
        environment: [String: String] = [:], roleArn: String? = nil,
        _ body: (AWSSession, MotoAdmin, AWSHTTPClient) async throws -> T
    ) async throws -> T {
        guard let endpoint else { throw NoMotoEndpoint() }
        return try await AWSHTTPClient.withClient { transport in
            var configuration = Moto.configuration(
                endpoint: endpoint, credentials: credentials, environment: environment)
            configuration.roleArn = roleArn
            let session = try AWSSession.make(configuration: configuration, transport: transport)
            let admin = MotoAdmin(endpoint: endpoint, transport: transport, credentials: credentials ?? testCredentials)
            return try await body(session, admin, transport)
        }
    }
}

public struct NoMotoEndpoint: Error, CustomStringConvertible {
    public var description: String { Moto.skipReason }
}
