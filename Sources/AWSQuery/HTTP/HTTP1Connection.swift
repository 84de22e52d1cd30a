import NIOCore
import NIOHTTP1

/// An open connection: its channel, and the handler at the end of its pipeline (to be used on
/// the channel's event loop only).
struct HTTP1Connection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<HTTP1ClientHandler>

    /// Adds the HTTP/1.1 handlers (NIOHTTP1's encoder, strict decoder with limits, outbound
    /// header validation, and the client handler) at the end of `pipeline`. On the event loop.
    @discardableResult
    static func addHTTPHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws -> HTTP1ClientHandler {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = HTTPLimits.maxResponseHeadBytes
        limits.maxHeaderFieldSize = HTTPLimits.maxHeaderFieldBytes
        limits.maxHeaderFieldCount = HTTPLimits.maxHeaderCount
        var encoder = HTTPRequestEncoder.Configuration()
        // The client writes Content-Length itself (every request is fully buffered).
        encoder.automaticallySetFramingHeaders = false
        let client = HTTP1ClientHandler()
        try pipeline.addHandler(WireByteCounter(client: client))
        try pipeline.addHandler(HTTPRequestEncoder(configuration: encoder))
        try pipeline.addHandler(
            ByteToMessageHandler(
                HTTPResponseDecoder(
                    leftOverBytesStrategy: .fireError, informationalResponseStrategy: .forward,
                    limitConfiguration: limits)))
        try pipeline.addHandler(NIOHTTPRequestHeadersValidator())
        try pipeline.addHandler(client)
        return client
    }
}

/// One request on the wire, and where its answer goes (the waiting task's continuation). The
/// handler completes it exactly once: it takes the exchange out of its state before completing it.
struct HTTP1Exchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var timeout: TimeAmount
    /// Bounds the in-memory body (what a body filter keeps, when there is one).
    var maxResponseBytes: Int
    var complete: @Sendable (Result<HTTP1Answer, any Error>) -> Void
    /// Sees a 2xx answer's body as it arrives (see `HTTPResponseBodyFilter`).
    var bodyFilter: (any HTTPResponseBodyFilter)? = nil

    func succeed(_ answer: HTTP1Answer) { complete(.success(answer)) }
    func fail(_ error: any Error) { complete(.failure(error)) }
}

/// A whole response, and whether the connection may carry another request.
struct HTTP1Answer: Sendable {
    var response: HTTPResponseData
    var reusable: Bool
}

/// Counts the bytes arriving for the exchange in flight (after TLS, before the HTTP decoder), so
/// the client handler can bound what is not body (the decoder reads past chunk extensions
/// without keeping them), and closes a connection that sends bytes nobody asked for.
final class WireByteCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let client: HTTP1ClientHandler

    init(client: HTTP1ClientHandler) {
        self.client = client
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        guard client.isAwaitingAnswer else {
            // Bytes while no request is in flight: the connection cannot be trusted any more.
            client.closeUnsolicited()
            return
        }
        client.wireBytes += count
        context.fireChannelRead(data)
        client.checkOverhead()
    }
}

/// The client end of one HTTP/1.1 connection over NIOHTTP1: writes one request at a time (no
/// pipelining) and collects the decoded answer. Strict: a second final head, bytes after the
/// body in the same read, more than `HTTPLimits.maxInterimResponses` interim answers, a body or
/// overhead past its limit, or duplicate/conflicting lengths fail the exchange and close the
/// connection. Every state change happens on the channel's event loop; the exchange
/// is completed exactly once.
final class HTTP1ClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    /// Requests come through `send`, not the pipeline: what is written to the pipeline passes.
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum Response {
        case awaitingHead
        case body(HTTPResponseHead, [UInt8])
        /// Complete; delivered at the end of the read that completed it, so that anything after
        /// it in the same read is seen first.
        case complete(HTTPResponseData, keepAlive: Bool)
    }

    private var exchange: HTTP1Exchange?
    private var response = Response.awaitingHead
    private var interimResponses = 0
    /// Whether the answer in flight goes through the exchange's body filter (a 2xx with one).
    private var filtering = false
    /// Bytes received for the exchange in flight (counted by `WireByteCounter`).
    var wireBytes = 0
    private var bodyBytes = 0
    /// While the handler is in a pipeline (for `send`).
    private var context: ChannelHandlerContext?
    /// When the exchange in flight times out.
    private var deadline: NIODeadline?
    /// One timer per connection, not one per request: it is armed for the first request's
    /// deadline and, when it fires, either times out the exchange in flight (its deadline has
    /// passed), re-arms for that exchange's deadline, or lapses when the connection is idle.
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture
    /// Why the connection failed while no request was in flight (a TLS handshake failing right
    /// after connecting): the next exchange fails with it rather than with "closed".
    private(set) var pendingError: HTTP1TransportError?

    var isAwaitingAnswer: Bool { exchange != nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts an exchange: writes the request and flushes, without the pipeline's type-erased
    /// path to this (last) handler. On the event loop only. A connection that is closed, or
    /// closing (inactive, its handlers not yet removed), fails the exchange at once.
    func send(_ exchange: HTTP1Exchange) {
        guard let context, context.channel.isActive else {
            exchange.fail(pendingError ?? HTTP1TransportError(kind: .notAnswered, detail: "the connection is closed"))
            return
        }
        guard begin(exchange, context) else { return }
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Takes `exchange` as the one in flight and arms its timeout; fails it (returning false)
    /// when another is in flight.
    private func begin(_ exchange: HTTP1Exchange, _ context: ChannelHandlerContext) -> Bool {
        guard self.exchange == nil else {
            exchange.fail(
                HTTP1TransportError(kind: .connection, detail: "connection already has a request in flight"))
            return false
        }
        if let pendingError {
            exchange.fail(pendingError)
            return false
        }
        self.exchange = exchange
        response = .awaitingHead
        interimResponses = 0
        filtering = false
        wireBytes = 0
        bodyBytes = 0
        let deadline = NIODeadline.now() + exchange.timeout
        self.deadline = deadline
        if timer == nil || timerDeadline > deadline {
            // No timer yet, or one set for later than this (shorter) timeout allows.
            timer?.cancel()
            armTimer(context, at: deadline)
        }
        return true
    }

    private func armTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timerDeadline = deadline
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context)
        }
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        guard exchange != nil, let deadline else { return }
        if deadline <= NIODeadline.now() {
            fail(context, HTTP1TransportError(kind: .timeout, detail: "no complete response in time"))
        } else {
            armTimer(context, at: deadline)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard exchange != nil else { return }
        do {
            try receive(unwrapInboundIn(data))
        } catch {
            fail(context, error)
        }
    }

    /// Throws an `HTTP1TransportError`, or what the exchange's body filter threw.
    private func receive(_ part: HTTPClientResponsePart) throws {
        switch (part, response) {
        case (_, .complete):
            throw violation("bytes after the end of the response")
        case (.head(let head), .awaitingHead):
            let code = Int(head.status.code)
            if code >= 100 && code < 200 && code != 101 {
                interimResponses += 1
                guard interimResponses <= HTTPLimits.maxInterimResponses else {
                    throw HTTP1TransportError(
                        kind: .limitExceeded,
                        detail:
                            "invalid HTTP response: more than \(HTTPLimits.maxInterimResponses) interim (1xx) answers")
                }
                return
            }
            guard code != 101 else { throw violation("101 Switching Protocols was not asked for") }
            let lengths = head.headers[canonicalForm: "content-length"]
            if lengths.count > 1 { throw violation("more than one Content-Length") }
            if !lengths.isEmpty && head.headers.contains(name: "transfer-encoding") {
                throw violation("both Content-Length and Transfer-Encoding")
            }
            // A filtered body is bounded as it arrives: what the filter keeps by the limit, the
            // rest by the filter. Its length says nothing about what will be kept.
            filtering = exchange?.bodyFilter != nil && code >= 200 && code < 300
            var body: [UInt8] = []
            if !filtering, let length = lengths.first.flatMap({ Int($0) }) {
                let limit = exchange?.maxResponseBytes ?? 0
                guard length <= limit else { throw tooLarge(limit) }
                body.reserveCapacity(length)
            }
            response = .body(head, body)
        case (.body(let bytes), .body(let head, var body)):
            bodyBytes += bytes.readableBytes
            let limit = exchange?.maxResponseBytes ?? 0
            response = .awaitingHead  // drops the array's other reference before appending
            if filtering, let filter = exchange?.bodyFilter {
                let status = Int(head.status.code)
                try bytes.withUnsafeReadableBytes { try filter.filter($0, status: status, keeping: &body) }
                guard body.count <= limit else { throw tooLarge(limit) }
            } else {
                guard bodyBytes <= limit else { throw tooLarge(limit) }
                body.append(contentsOf: bytes.readableBytesView)
            }
            response = .body(head, body)
        case (.end, .body(let head, let body)):
            let data = HTTPResponseData(status: Int(head.status.code), headers: head.headers, body: body)
            response = .complete(data, keepAlive: head.isKeepAlive)
        case (.body, .awaitingHead), (.end, .awaitingHead), (.head, .body):
            throw violation("response parts out of order")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverComplete(context, connectionOpen: true)
        context.fireChannelReadComplete()
    }

    private func deliverComplete(_ context: ChannelHandlerContext, connectionOpen: Bool) {
        guard case .complete(let data, let keepAlive) = response, let exchange else { return }
        self.exchange = nil
        self.deadline = nil
        response = .awaitingHead
        let reusable = connectionOpen && keepAlive && context.channel.isActive
        exchange.succeed(HTTP1Answer(response: data, reusable: reusable))
        if !reusable && connectionOpen { context.close(promise: nil) }
    }

    /// Called by `WireByteCounter` after each read was decoded.
    func checkOverhead() {
        guard let context, exchange != nil else { return }
        if wireBytes - bodyBytes > HTTPLimits.maxResponseOverheadBytes {
            fail(
                context,
                HTTP1TransportError(
                    kind: .limitExceeded,
                    detail:
                        "invalid HTTP response: more than \(HTTPLimits.maxResponseOverheadBytes) bytes of head, chunk framing or trailers"
                ))
        }
    }

    /// Called by `WireByteCounter` for bytes that arrive while no request is in flight.
    func closeUnsolicited() {
        context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        // A response delimited by the end of the connection completed just now (or one complete
        // response whose read had not finished).
        deliverComplete(context, connectionOpen: false)
        if exchange != nil {
            let started = wireBytes > 0
            fail(
                context,
                HTTP1TransportError(
                    kind: started ? .connection : .notAnswered,
                    detail: started
                        ? "the server closed the connection before the response was complete"
                        : "the server closed the connection without answering"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .complete = response {
            // The decoder failed on bytes that followed a complete response.
            fail(context, violation("bytes after the end of the response"))
        } else if exchange == nil {
            pendingError = TransportErrors.fromPipeline(error)
        } else {
            fail(context, TransportErrors.fromPipeline(error))
        }
        context.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        response = .awaitingHead
        if let exchange {
            self.exchange = nil
            deadline = nil
            exchange.fail(error)
        }
        context.close(promise: nil)
    }

    private func violation(_ detail: String) -> HTTP1TransportError {
        HTTP1TransportError(kind: .protocolViolation, detail: "invalid HTTP response: \(detail)")
    }

    private func tooLarge(_ limit: Int) -> HTTP1TransportError {
        HTTP1TransportError(kind: .limitExceeded, detail: "invalid HTTP response: body larger than \(limit) bytes")
    }
}
