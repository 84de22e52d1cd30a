import AWSQuery
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A request as a test server received it.
public struct ReceivedRequest: Sendable {
    public let method: String
    /// Path and query, as sent.
    public let uri: String
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var bodyString: String { String(decoding: body, as: UTF8.self) }

    /// Decoded `application/x-www-form-urlencoded` body parameters.
    public var formParameters: [String: String] {
        var result: [String: String] = [:]
        for pair in bodyString.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value =
                kv.count > 1
                ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            result[key] = value
        }
        return result
    }
}

/// What a test server does with a request: answer it, or drop the connection without answering.
public enum ServerReply: Sendable {
    case respond(HTTPResponseData)
    case dropConnection
}

/// A small HTTP/1.1 server on 127.0.0.1 and a free port, for tests: IMDS and ECS responders,
/// and the recording/fault-injecting proxy in front of moto. Stop it with `stop()`.
public final class LocalHTTPServer: Sendable {
    public typealias Handler = @Sendable (ReceivedRequest) async -> ServerReply

    private let channel: any Channel
    public let port: Int
    private let isTLS: Bool
    /// `http://127.0.0.1:PORT`, or `https://` when serving TLS.
    public var url: String { "\(isTLS ? "https" : "http")://127.0.0.1:\(port)" }

    /// - Parameter tls: serve HTTPS with this PEM certificate chain and key (for CA-bundle tests).
    public init(tls: (certificatePath: String, keyPath: String)? = nil, handler: @escaping Handler) async throws {
        let sslContext = try tls.map { tls in
            try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyPath, format: .pem))))
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                }.flatMap {
                    channel.pipeline.configureHTTPServerPipeline()
                }.flatMap {
                    channel.pipeline.addHandler(RequestHandler(handler: handler))
                }
            }
        isTLS = tls != nil
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    public func stop() async {
        try? await channel.close()
    }
}

/// `@unchecked Sendable`: the channel initializer that adds it is `@Sendable`. Safe because NIO
/// calls `channelRead` only on the channel's event loop, so `head` and `body` are only ever used
/// there; the reply callback runs on that loop too and touches only the loop-bound context.
private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: LocalHTTPServer.Handler
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(handler: @escaping LocalHTTPServer.Handler) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            let request = ReceivedRequest(
                method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: body)
            let keepAlive = head.isKeepAlive
            let handler = self.handler
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let future = context.eventLoop.makeFutureWithTask { await handler(request) }
            future.whenSuccess { reply in
                let context = loopBound.value
                switch reply {
                case .dropConnection:
                    context.close(promise: nil)
                case .respond(let response):
                    var headers = HTTPHeaders()
                    for header in response.headers
                    where header.name.lowercased() != "content-length"
                        && header.name.lowercased() != "transfer-encoding" && header.name.lowercased() != "connection"
                    {
                        headers.add(name: header.name, value: header.value)
                    }
                    headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                    if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                    let responseHead = HTTPResponseHead(
                        version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
                    context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
                    context.write(
                        NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil
                    )
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
                        if !keepAlive { loopBound.value.close(promise: nil) }
                    }
                }
            }
            self.head = nil
        }
    }
}
