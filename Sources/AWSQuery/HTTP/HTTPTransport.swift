import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
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
    public var body: [UInt8]
    private var givenHeaders: [(name: String, value: String)]
    /// The header lines as received (`Name: value`, each ended by LF or CR LF, already checked
    /// by the parser): decoded only when asked for, since a Query answer's headers are seldom read.
    private var headerBlock: [UInt8]?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.givenHeaders = headers
        self.body = body
    }

    init(status: Int, headerBlock: [UInt8], body: [UInt8]) {
        self.status = status
        self.givenHeaders = []
        self.headerBlock = headerBlock
        self.body = body
    }

    /// Every header in order, names as sent, values without surrounding blanks.
    public var headers: [(name: String, value: String)] {
        get {
            guard let headerBlock else { return givenHeaders }
            var headers: [(name: String, value: String)] = []
            Self.forEachHeader(in: headerBlock) { name, value in
                headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
                return true
            }
            return headers
        }
        set {
            givenHeaders = newValue
            headerBlock = nil
        }
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        guard let headerBlock else {
            return givenHeaders.first { ASCII.equalsIgnoringCase($0.name.utf8, name.utf8) }?.value
        }
        var found: String?
        Self.forEachHeader(in: headerBlock) { headerName, value in
            guard ASCII.equalsIgnoringCase(headerName, name.utf8) else { return true }
            found = String(decoding: value, as: UTF8.self)
            return false
        }
        return found
    }

    /// Calls `body` with each header's name and value (without blanks around it), line by line
    /// (each ended by LF or CR LF; empty lines are skipped), until `body` returns false. Returns
    /// false, stopping there, at a line without a `:`.
    @discardableResult
    static func forEachHeader(
        in block: [UInt8], _ body: (Slice<UnsafeBufferPointer<UInt8>>, Slice<UnsafeBufferPointer<UInt8>>) -> Bool
    ) -> Bool {
        // On the bytes themselves: this runs for every response (the parser reads the framing
        // headers), and array slicing costs more than the search.
        block.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 10 { end += 1 }
                let next = end + 1
                if end > start && bytes[end - 1] == 13 { end -= 1 }
                if end > start {
                    var colon = start
                    while colon < end && bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                    guard colon < end else { return false }
                    var valueStart = colon + 1
                    var valueEnd = end
                    while valueStart < valueEnd && ASCII.isBlank(bytes[valueStart]) { valueStart += 1 }
                    while valueEnd > valueStart && ASCII.isBlank(bytes[valueEnd - 1]) { valueEnd -= 1 }
                    if !body(bytes[start..<colon], bytes[valueStart..<valueEnd]) { return true }
                }
                start = next
            }
            return true
        }
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

/// The one HTTP client of a run: HTTP/1.1 over SwiftNIO (TLS with NIOSSL), keep-alive
/// connections reused per host, timeouts, cancellation, clean shutdown.
///
/// Requests and responses are small and one request runs per connection at a time, so this is
/// a thin layer over a socket: it formats the request itself and parses the answer with
/// `HTTP1ResponseParser`, which keeps a batch's client CPU low. At most `maxConnectionsPerHost`
/// idle connections are kept per host; how many are open at once is bounded by the caller's
/// concurrency (each in-flight request holds one).
///
/// Call `shutdown()` when done, or use `withClient(_:_:)` for a scoped lifetime.
public final class AWSHTTPClient: HTTPTransport {
    public let settings: HTTPSettings
    private let group: any EventLoopGroup
    private let pool = NIOLockedValueBox(IdlePool())
    private let tls = NIOLockedValueBox<NIOSSLContext?>(nil)

    /// Idle connections per host. A run talks to one or two hosts, so a short list searched by
    /// key and changed in place by index (a dictionary's in-place accessors allocate per call).
    struct IdlePool {
        struct Host {
            var key: String
            var idle: [(connection: HTTP1Connection, since: NIODeadline)]
        }
        var hosts: [Host] = []
        var isShutDown = false

        /// The index of `key`'s entry, added empty when missing.
        mutating func index(of key: String) -> Int {
            if let index = hosts.firstIndex(where: { $0.key == key }) { return index }
            hosts.append(Host(key: key, idle: []))
            return hosts.count - 1
        }
    }

    /// An idle connection older than this is closed rather than reused (servers drop idle
    /// keep-alive connections after a while; AWS after about 60 s).
    static let maxIdleTime = TimeAmount.seconds(50)

    public init(settings: HTTPSettings = HTTPSettings()) throws {
        self.settings = settings
        self.group = MultiThreadedEventLoopGroup.singleton
        if let bundle = settings.caBundlePath {
            guard FileManager.default.isReadableFile(atPath: bundle) else {
                throw AWSClientError(
                    .invalidRequest, action: "setup", detail: "AWS_CA_BUNDLE \(bundle) is not readable")
            }
        }
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

    /// Closes every idle connection; later requests fail.
    public func shutdown() async throws {
        let channels = pool.withLockedValue { pool in
            pool.isShutDown = true
            defer { pool.hosts = [] }
            return pool.hosts.flatMap { $0.idle.map(\.connection.channel) }
        }
        for channel in channels {
            try? await channel.close()
        }
    }

    public func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData {
        let url = try parsedURL(request.url)
        let bytes = Self.encode(request, url: url)
        // A reused connection the server closed while it sat idle fails before any answer
        // arrives: that request is sent again once, on a new connection.
        var mayRetryStale = true
        while true {
            let (connection, reused) = try await connection(for: url)
            let channel = connection.channel
            do {
                let answer = try await exchange(bytes, on: connection, timeout: timeout)
                if answer.reusable {
                    release(connection, key: url.poolKey)
                } else {
                    channel.close(promise: nil)
                }
                return answer.response
            } catch let error as HTTP1TransportError where error.kind == .notAnswered && reused && mayRetryStale {
                mayRetryStale = false
                channel.close(promise: nil)
                try Task.checkCancellation()
                TransportNotices.resend?.record()
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
    }

    /// Parsed request URLs: a run sends to one or two endpoints, so each is parsed once.
    private let urls = NIOLockedValueBox<[String: RequestURL]>([:])

    private func parsedURL(_ text: String) throws -> RequestURL {
        if let url = urls.withLockedValue({ $0[text] }) { return url }
        guard let url = RequestURL(text) else {
            throw HTTP1TransportError(kind: .invalidURL, detail: "cannot send to '\(text)'")
        }
        urls.withLockedValue { urls in
            if urls.count >= 64 { urls.removeAll() }
            urls[text] = url
        }
        return url
    }

    // MARK: - Connections

    private func connection(for url: RequestURL) async throws -> (HTTP1Connection, reused: Bool) {
        let now = NIODeadline.now()
        let (idle, stale): (HTTP1Connection?, [any Channel]) = try pool.withLockedValue { pool in
            guard !pool.isShutDown else {
                throw HTTP1TransportError(kind: .connection, detail: "the HTTP client was shut down")
            }
            var stale: [any Channel] = []
            let host = pool.index(of: url.poolKey)
            // An idle connection on the event loop this task runs on sends without a thread hop.
            pool.hosts[host].idle.moveLast { $0.connection.channel.eventLoop.inEventLoop }
            while let candidate = pool.hosts[host].idle.popLast() {
                if candidate.connection.channel.isActive && now - candidate.since < Self.maxIdleTime {
                    return (candidate.connection, stale)
                }
                stale.append(candidate.connection.channel)
            }
            return (nil, stale)
        }
        for channel in stale { channel.close(promise: nil) }
        if let idle { return (idle, true) }
        return (try await connect(url), false)
    }

    private func release(_ connection: HTTP1Connection, key: String) {
        let keep = pool.withLockedValue { pool in
            guard !pool.isShutDown else { return false }
            let host = pool.index(of: key)
            guard pool.hosts[host].idle.count < settings.maxConnectionsPerHost else { return false }
            pool.hosts[host].idle.append((connection, NIODeadline.now()))
            return true
        }
        if !keep { connection.channel.close(promise: nil) }
    }

    private func connect(_ url: RequestURL) async throws -> HTTP1Connection {
        let tlsContext = url.isTLS ? try tlsContext() : nil
        let serverName = url.isIPAddress ? nil : url.host
        // A new connection lives on the event loop this task runs on, when it runs on one.
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.currentEventLoop ?? group.next())
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(HTTP1ClientHandler())
                }
            }
        return try await bootstrap.connect(host: url.host, port: url.port).flatMapThrowing { channel in
            // On the channel's event loop: its pipeline can be read synchronously.
            let handler = try channel.pipeline.syncOperations.handler(type: HTTP1ClientHandler.self)
            return HTTP1Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
        }.get()
    }

    private func tlsContext() throws -> NIOSSLContext {
        try tls.withLockedValue { cached in
            if let cached { return cached }
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let bundle = settings.caBundlePath {
                configuration.trustRoots = .file(bundle)
            }
            do {
                let context = try NIOSSLContext(configuration: configuration)
                cached = context
                return context
            } catch {
                throw HTTP1TransportError(kind: .invalidURL, detail: "TLS setup failed: \(error)")
            }
        }
    }

    private func exchange(_ bytes: ByteBuffer, on connection: HTTP1Connection, timeout: Duration) async throws
        -> HTTP1Answer
    {
        let channel = connection.channel
        let timeout = TimeAmount(timeout)
        let maxBytes = settings.maxResponseBytes
        func exchange(answering responder: HTTP1Responder) -> HTTP1Exchange {
            HTTP1Exchange(request: bytes, timeout: timeout, maxResponseBytes: maxBytes, responder: responder)
        }
        return try await withTaskCancellationHandler {
            if channel.eventLoop.inEventLoop && channel.isActive {
                // On the channel's own event loop with the channel open, the handler takes the
                // exchange now (directly: the pipeline's type-erased write and its dynamic casts
                // cost more than the rest of sending), and from then on answers it exactly once
                // whatever happens (a failed socket write closes the channel, which fails the
                // exchange): the task waits on its own continuation.
                return try await withUnsafeThrowingContinuation { continuation in
                    connection.handler.value.send(exchange(answering: .continuation(continuation)))
                }
            }
            let promise = channel.eventLoop.makePromise(of: HTTP1Answer.self)
            channel.writeAndFlush(exchange(answering: .promise(promise))).whenFailure { error in
                // A write that fails never reaches the handler when the channel is already
                // closed; fail the exchange here (a second failure is ignored by the promise).
                promise.fail(HTTP1TransportError(kind: .notAnswered, detail: "could not send the request: \(error)"))
            }
            return try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    // MARK: - Encoding

    static func encode(_ request: HTTPRequestData, url: RequestURL) -> ByteBuffer {
        var capacity = 64 + url.target.utf8.count + request.body.count
        for header in request.headers { capacity += header.name.utf8.count + header.value.utf8.count + 4 }
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        buffer.writeString(request.method)
        buffer.writeString(" ")
        buffer.writeString(url.target)
        buffer.writeString(" HTTP/1.1\r\n")
        var hasHost = false
        for header in request.headers {
            if Self.isFramingHeader(header.name) { continue }
            if ASCII.equalsIgnoringCase(header.name.utf8, ASCII.bytes("host")) {
                hasHost = true
            }
            buffer.writeString(header.name)
            buffer.writeString(": ")
            buffer.writeString(header.value)
            buffer.writeString("\r\n")
        }
        if !hasHost {
            buffer.writeString("Host: ")
            buffer.writeString(url.hostHeader)
            buffer.writeString("\r\n")
        }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            buffer.writeString("Content-Length: ")
            buffer.writeString(String(request.body.count))
            buffer.writeString("\r\n")
        }
        buffer.writeString("\r\n")
        buffer.writeBytes(request.body)
        return buffer
    }
}

extension AWSHTTPClient {
    /// `Content-Length`, `Connection` and `Transfer-Encoding` are the client's to write.
    static func isFramingHeader(_ name: String) -> Bool {
        ASCII.equalsIgnoringCase(name.utf8, ASCII.bytes("connection"))
            || ASCII.equalsIgnoringCase(name.utf8, ASCII.bytes("content-length"))
            || ASCII.equalsIgnoringCase(name.utf8, ASCII.bytes("transfer-encoding"))
    }
}

extension Array {
    /// Swaps the last element matching `predicate` to the end (in place).
    fileprivate mutating func moveLast(where predicate: (Element) -> Bool) {
        guard let index = lastIndex(where: predicate), index != count - 1 else { return }
        swapAt(index, count - 1)
    }
}

/// The parts of a request URL the client needs, parsed without Foundation.
struct RequestURL: Sendable {
    var isTLS: Bool
    /// Without brackets, as the socket layer wants an IPv6 literal.
    var host: String
    var port: Int
    /// Path and query: what goes on the request line.
    var target: String
    var isIPAddress: Bool

    var hostHeader: String {
        let bracketed = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }

    /// Which idle connections a request may use: scheme, host and port.
    private(set) var poolKey = ""

    init?(_ url: String) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            isTLS = true
            rest = url.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            isTLS = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[rest.startIndex..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        self.target = target
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
            isIPAddress = true
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            isIPAddress = !host.isEmpty && host.allSatisfy { $0.isNumber || $0 == "." }
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = isTLS ? 443 : 80
        }
        poolKey = "\(isTLS ? "https" : "http")://\(hostHeader)"
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
