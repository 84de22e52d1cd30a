import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP request, fully buffered (AWS Query requests and responses are small).
public struct HTTPRequestData: Sendable {
    public var url: String
    public var method: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(url: String, method: String = "GET", headers: [(name: String, value: String)] = [], body: [UInt8] = [])
    {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// One HTTP response, fully buffered.
public struct HTTPResponseData: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Sends HTTP requests. The production implementation is `AWSHTTPClient`.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData
}

/// Settings for the shared HTTP client.
public struct HTTPSettings: Sendable {
    /// Time allowed to open a connection.
    public var connectTimeout: Duration = .seconds(10)
    /// Time allowed for one whole request and response.
    public var requestTimeout: Duration = .seconds(30)
    /// At most this many connections to one host (the pool is bounded).
    public var maxConnectionsPerHost: Int = 64
    /// PEM bundle of trusted roots for HTTPS (`AWS_CA_BUNDLE`).
    public var caBundlePath: String?
    /// Largest response body accepted.
    public var maxResponseBytes: Int = 8 * 1024 * 1024

    public init() {}

    public init(environment: [String: String]) {
        if let bundle = environment["AWS_CA_BUNDLE"], !bundle.isEmpty { caBundlePath = bundle }
    }
}

/// The one HTTP client of a run: connection reuse, a bounded pool, timeouts, clean shutdown.
///
/// Call `shutdown()` when done, or use `withClient(_:_:)` for a scoped lifetime.
public final class AWSHTTPClient: HTTPTransport {
    private let client: HTTPClient
    public let settings: HTTPSettings

    public init(settings: HTTPSettings = HTTPSettings()) throws {
        self.settings = settings
        var tls = TLSConfiguration.makeClientConfiguration()
        if let bundle = settings.caBundlePath {
            guard FileManager.default.isReadableFile(atPath: bundle) else {
                throw AWSClientError(
                    .invalidRequest, action: "setup", detail: "AWS_CA_BUNDLE \(bundle) is not readable")
            }
            tls.trustRoots = .file(bundle)
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .init(settings.connectTimeout), read: .init(settings.requestTimeout)),
            connectionPool: .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.maxConnectionsPerHost),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a new client and always shuts it down afterwards.
    public static func withClient<T: Sendable>(
        settings: HTTPSettings = HTTPSettings(), _ body: (AWSHTTPClient) async throws -> T
    ) async throws -> T {
        let client = try AWSHTTPClient(settings: settings)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        let response = try await client.execute(outgoing, timeout: .init(timeout))
        let buffer = try await response.body.collect(upTo: settings.maxResponseBytes)
        return HTTPResponseData(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: Array(buffer.readableBytesView))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
