import NIOCore
import NIOHTTP1

/// Opens a tunnel through an HTTP proxy: sends `CONNECT host:port` (with `Proxy-Authorization`
/// when the proxy URL has credentials) through NIOHTTP1 and waits for the proxy's head. A 2xx
/// answer opens the tunnel (the caller then removes these handlers and starts TLS); any other
/// answer, the proxy closing, or no answer in time fails `established` and closes the channel.
final class ProxyTunnelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let encoderName = "proxy-encoder"
    static let decoderName = "proxy-decoder"
    static let handlerName = "proxy-tunnel"

    let established: EventLoopPromise<Void>
    private let target: String
    private let proxy: ProxyEndpoint
    private let timeout: TimeAmount
    private var status: Int?
    private var sent = false
    private var timer: Scheduled<Void>?

    init(target: String, proxy: ProxyEndpoint, timeout: TimeAmount, eventLoop: any EventLoop) {
        self.target = target
        self.proxy = proxy
        self.timeout = timeout
        self.established = eventLoop.makePromise()
    }

    /// Adds the encoder, a decoder bounded to a small head, and this handler. On the event loop.
    static func add(
        to pipeline: ChannelPipeline.SynchronousOperations, target: String, proxy: ProxyEndpoint, timeout: TimeAmount,
        eventLoop: any EventLoop
    ) throws -> ProxyTunnelHandler {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = HTTPLimits.maxProxyAnswerBytes
        limits.maxHeaderFieldSize = HTTPLimits.maxProxyAnswerBytes
        limits.maxHeaderFieldCount = HTTPLimits.maxHeaderCount
        let handler = ProxyTunnelHandler(target: target, proxy: proxy, timeout: timeout, eventLoop: eventLoop)
        var encoder = HTTPRequestEncoder.Configuration()
        encoder.automaticallySetFramingHeaders = false
        try pipeline.addHandler(HTTPRequestEncoder(configuration: encoder), name: encoderName)
        try pipeline.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .fireError, limitConfiguration: limits)),
            name: decoderName)
        try pipeline.addHandler(handler, name: handlerName)
        return handler
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Never leave the promise open (a connection that failed before it was active; a second
        // completion is ignored).
        timer?.cancel()
        established.fail(
            HTTP1TransportError(kind: .connection, detail: "the connection to the proxy \(proxy) was closed"))
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target)
        if let authorization = proxy.authorization {
            headers.add(name: "Proxy-Authorization", value: authorization)
        }
        let head = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: target, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(
                context,
                HTTP1TransportError(kind: .timeout, detail: "the proxy \(handler.proxy) did not answer CONNECT in time")
            )
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let code = Int(head.status.code)
            status = code
            // A 2xx head opens the tunnel: it has no body, and the decoder may stop there.
            if (200..<300).contains(code) {
                timer?.cancel()
                established.succeed()
            }
        case .body:
            break
        case .end:
            guard let status else { return }
            if !(200..<300).contains(status) {
                let hint =
                    status == 407 || status == 401
                    ? (proxy.hasCredentials
                        ? " (authentication: the credentials in \(proxy.source) were refused)"
                        : " (authentication required: put user:password@ in \(proxy.source))")
                    : ""
                fail(
                    context,
                    HTTP1TransportError(
                        kind: .proxyRefused(status: status),
                        detail: "the proxy \(proxy) answered CONNECT \(target) with HTTP \(status)\(hint)"))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(
            context,
            HTTP1TransportError(kind: .connection, detail: "the proxy \(proxy) closed the connection during CONNECT"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let mapped = TransportErrors.fromPipeline(error)
        fail(
            context,
            HTTP1TransportError(
                kind: mapped.kind, detail: "the proxy \(proxy) answered CONNECT badly: \(mapped.detail)"))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: HTTP1TransportError) {
        timer?.cancel()
        established.fail(error)
        context.close(promise: nil)
    }
}
