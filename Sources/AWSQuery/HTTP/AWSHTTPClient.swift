import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The one HTTP client of a run: HTTP/1.1 over SwiftNIO (framing by NIOHTTP1, TLS 1.2+ by
/// NIOSSL), keep-alive connections reused per host, proxies (`CONNECT` for https, absolute form
/// for http), timeouts, cancellation, clean shutdown.
///
/// One request runs per connection at a time. At most `maxConnectionsPerHost` idle connections
/// are kept per host and route; how many are open at once is bounded by the caller's concurrency
/// (each in-flight request holds one). A connection whose answer broke the framing or a limit
/// is closed, never reused.
///
/// Call `shutdown()` when done, or use `withClient(_:_:)` for a scoped lifetime.
public final class AWSHTTPClient: HTTPTransport {
    public let settings: HTTPSettings
    private let group: any EventLoopGroup
    private let pool = NIOLockedValueBox(IdlePool())
    private let tlsContext: NIOSSLContext

    /// Idle connections per route. A run talks to one or two hosts, so a short list searched by
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

    /// Fails when the CA bundle cannot be used or a proxy variable is malformed: a run must not
    /// start with a setting it would ignore.
    public init(settings: HTTPSettings = HTTPSettings()) throws {
        self.settings = settings
        self.group = MultiThreadedEventLoopGroup.singleton
        if let problem = settings.proxies.problem {
            throw AWSClientError(.invalidRequest, action: "setup", detail: problem.description)
        }
        let roots = try settings.caBundlePath.map { try CABundle.load(path: $0, source: settings.caBundleSource) }
        do {
            tlsContext = try NIOSSLContext(configuration: CABundle.clientConfiguration(roots: roots))
        } catch {
            throw AWSClientError(.invalidRequest, action: "setup", detail: "TLS setup failed: \(error)")
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
        try await send(request, timeout: timeout, bodyFilter: nil)
    }

    public func send(_ request: HTTPRequestData, timeout: Duration, bodyFilter: (any HTTPResponseBodyFilter)?)
        async throws -> HTTPResponseData
    {
        let route = try route(request.url, useProxy: request.useProxy)
        let head = try Self.head(for: request, route: route)
        let body = request.body.isEmpty ? nil : ByteBuffer(bytes: request.body)
        // A reused connection the server closed while it sat idle fails before any answer
        // arrives: that request is sent again once, on a new connection.
        var mayRetryStale = true
        while true {
            let (connection, reused) = try await connection(for: route, timeout: timeout)
            let channel = connection.channel
            do {
                let answer = try await exchange(
                    head, body, on: connection, timeout: timeout, bodyFilter: bodyFilter)
                if answer.reusable {
                    release(connection, key: route.poolKey)
                } else {
                    channel.close(promise: nil)
                }
                return answer.response
            } catch let error as HTTP1TransportError where error.kind == .notAnswered && reused && mayRetryStale {
                mayRetryStale = false
                channel.close(promise: nil)
                try Task.checkCancellation()
                // The silence may also be a lost answer: non-idempotent callers must know.
                TransportNotices.resend?.record()
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
    }

    /// Where a request goes: the URL, and the proxy when one applies.
    struct Route: Sendable {
        var url: RequestURL
        var proxy: ProxyEndpoint?
        /// Which idle connections a request may use: scheme, host, port and proxy.
        var poolKey: String
    }

    /// Parsed routes: a run sends to one or two endpoints, so each is parsed once.
    private let routes = NIOLockedValueBox<[String: Route]>([:])

    func route(_ text: String, useProxy: Bool) throws -> Route {
        let key = useProxy ? text : "direct " + text
        if let route = routes.withLockedValue({ $0[key] }) { return route }
        guard let url = RequestURL(text) else {
            throw HTTP1TransportError(kind: .invalidRequest, detail: "cannot send to '\(text)'")
        }
        let proxy = useProxy ? settings.proxies.proxy(for: url) : nil
        let route = Route(url: url, proxy: proxy, poolKey: url.poolKey + (proxy.map { " via \($0)" } ?? ""))
        routes.withLockedValue { routes in
            if routes.count >= 64 { routes.removeAll() }
            routes[key] = route
        }
        return route
    }

    // MARK: - Connections

    private func connection(for route: Route, timeout: Duration) async throws -> (HTTP1Connection, reused: Bool) {
        let now = NIODeadline.now()
        let (idle, stale): (HTTP1Connection?, [any Channel]) = try pool.withLockedValue { pool in
            guard !pool.isShutDown else {
                throw HTTP1TransportError(kind: .connection, detail: "the HTTP client was shut down")
            }
            var stale: [any Channel] = []
            let host = pool.index(of: route.poolKey)
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
        return (try await connect(route, timeout: timeout), false)
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

    private func connect(_ route: Route, timeout: Duration) async throws -> HTTP1Connection {
        let url = route.url
        let tlsContext = url.isTLS ? self.tlsContext : nil
        let serverName = url.isIPAddress ? nil : url.host
        let tunnel = url.isTLS ? route.proxy : nil
        let tunnelTarget = url.hostHeaderWithPort
        let connectTimeout = TimeAmount(min(settings.connectTimeout, timeout))
        // The client handler, kept here: a TLS handshake can fail (and the pipeline go) before
        // the connection is handed out, and its error is the one to report.
        let installed = NIOLockedValueBox<NIOLoopBound<HTTP1ClientHandler>?>(nil)
        let established = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)
        // A new connection lives on the event loop this task runs on, when it runs on one.
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.currentEventLoop ?? group.next())
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tunnel {
                        let handler = try ProxyTunnelHandler.add(
                            to: pipeline, target: tunnelTarget, proxy: tunnel, timeout: connectTimeout,
                            eventLoop: channel.eventLoop)
                        established.withLockedValue { $0 = handler.established.futureResult }
                        return
                    }
                    if let tlsContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    let client = try HTTP1Connection.addHTTPHandlers(to: pipeline)
                    installed.withLockedValue { $0 = NIOLoopBound(client, eventLoop: channel.eventLoop) }
                }
            }
        let connectHost = route.proxy?.host ?? url.host
        let connectPort = route.proxy?.port ?? url.port
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: connectHost, port: connectPort).get()
        } catch {
            if let proxy = route.proxy {
                throw HTTP1TransportError(
                    kind: .connection, detail: "cannot connect to the proxy \(proxy) (\(proxy.source)): \(error)")
            }
            throw error
        }
        if tunnel != nil {
            do {
                guard let tunnelOpen = established.withLockedValue({ $0 }) else {
                    throw HTTP1TransportError(kind: .connection, detail: "the proxy tunnel could not be set up")
                }
                try await tunnelOpen.get()
                // The tunnel is open: CONNECT's handlers go, TLS to the endpoint and HTTP come.
                try await channel.eventLoop.flatSubmit {
                    let pipeline = channel.pipeline.syncOperations
                    let removals = [
                        ProxyTunnelHandler.handlerName, ProxyTunnelHandler.decoderName, ProxyTunnelHandler.encoderName,
                    ].map { pipeline.removeHandler(name: $0) }
                    return EventLoopFuture.andAllSucceed(removals, on: channel.eventLoop)
                }.get()
                try await channel.eventLoop.submit {
                    let pipeline = channel.pipeline.syncOperations
                    if let tlsContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    let client = try HTTP1Connection.addHTTPHandlers(to: pipeline)
                    installed.withLockedValue { $0 = NIOLoopBound(client, eventLoop: channel.eventLoop) }
                }.get()
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
        guard let handler = installed.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw HTTP1TransportError(kind: .connection, detail: "the connection could not be set up")
        }
        return HTTP1Connection(channel: channel, handler: handler)
    }

    private func exchange(
        _ head: HTTPRequestHead, _ body: ByteBuffer?, on connection: HTTP1Connection, timeout: Duration,
        bodyFilter: (any HTTPResponseBodyFilter)?
    ) async throws -> HTTP1Answer {
        let channel = connection.channel
        let handler = connection.handler
        let timeout = TimeAmount(timeout)
        let maxBytes = settings.maxResponseBytes
        return try await withTaskCancellationHandler {
            // The handler takes the exchange directly (not through the pipeline's type-erased
            // write) on the channel's event loop, and answers it exactly once whatever happens:
            // a closed connection, a failed socket write (which closes the channel), a timeout.
            try await withCheckedThrowingContinuation { continuation in
                let exchange = HTTP1Exchange(
                    head: head, body: body, timeout: timeout, maxResponseBytes: maxBytes,
                    complete: { continuation.resume(with: $0) }, bodyFilter: bodyFilter)
                if channel.eventLoop.inEventLoop {
                    handler.value.send(exchange)
                } else {
                    channel.eventLoop.execute { handler.value.send(exchange) }
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    // MARK: - Encoding

    /// The request head: origin-form target (absolute form through an http proxy, with
    /// `Proxy-Authorization`), `Host` unless given, `Content-Length` for a body or a POST/PUT.
    /// Header names must be tokens and values free of control characters (CR, LF, NUL, ...):
    /// anything else is refused, naming the header but not its value.
    static func head(for request: HTTPRequestData, route: Route) throws -> HTTPRequestHead {
        let url = route.url
        let absolute = route.proxy != nil && !url.isTLS
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 3)
        var hasHost = false
        for header in request.headers {
            if Self.isFramingHeader(header.name) { continue }
            guard HeaderValidation.isValidName(header.name) else {
                throw HTTP1TransportError(kind: .invalidRequest, detail: "refused header name '\(header.name)'")
            }
            guard HeaderValidation.isValidValue(header.value) else {
                throw HTTP1TransportError(
                    kind: .invalidRequest,
                    detail: "the value of header \(header.name) contains a control character (CR, LF, ...); refused")
            }
            if !hasHost && ASCII.equalsIgnoringCase(header.name.utf8, "host".utf8) { hasHost = true }
            headers.add(name: header.name, value: header.value)
        }
        if !hasHost { headers.add(name: "Host", value: url.hostHeader) }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            headers.add(name: "Content-Length", value: String(request.body.count))
        }
        if absolute, let authorization = route.proxy?.authorization {
            headers.add(name: "Proxy-Authorization", value: authorization)
        }
        let target = absolute ? "http://\(url.hostHeader)\(url.target)" : url.target
        return HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target, headers: headers)
    }
}

extension AWSHTTPClient {
    /// `Content-Length`, `Connection` and `Transfer-Encoding` are the client's to write.
    static func isFramingHeader(_ name: String) -> Bool {
        ASCII.equalsIgnoringCase(name.utf8, "connection".utf8)
            || ASCII.equalsIgnoringCase(name.utf8, "content-length".utf8)
            || ASCII.equalsIgnoringCase(name.utf8, "transfer-encoding".utf8)
    }
}

extension Array {
    /// Swaps the last element matching `predicate` to the end (in place).
    fileprivate mutating func moveLast(where predicate: (Element) -> Bool) {
        guard let index = lastIndex(where: predicate), index != count - 1 else { return }
        swapAt(index, count - 1)
    }
}
