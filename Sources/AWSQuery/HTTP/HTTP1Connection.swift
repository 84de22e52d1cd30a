import NIOCore

/// An open connection: its channel, and the handler at the end of its pipeline (to be used on
/// the channel's event loop only).
struct HTTP1Connection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<HTTP1ClientHandler>
}

/// One request on the wire: the encoded bytes, and where its answer goes.
struct HTTP1Exchange: Sendable {
    var request: ByteBuffer
    var timeout: TimeAmount
    var maxResponseBytes: Int
    var responder: HTTP1Responder
}

/// Where an exchange's answer goes. The handler completes it exactly once: it takes the
/// exchange out of its state before completing it. A continuation is resumed directly (the
/// caller's task waits on it, with no future in between); a promise is for callers that may
/// complete the exchange themselves too (a second completion of a promise is ignored).
enum HTTP1Responder: Sendable {
    case continuation(UnsafeContinuation<HTTP1Answer, any Error>)
    case promise(EventLoopPromise<HTTP1Answer>)

    func succeed(_ answer: HTTP1Answer) {
        switch self {
        case .continuation(let continuation): continuation.resume(returning: answer)
        case .promise(let promise): promise.succeed(answer)
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .continuation(let continuation): continuation.resume(throwing: error)
        case .promise(let promise): promise.fail(error)
        }
    }
}

/// A whole response, and whether the connection may carry another request.
struct HTTP1Answer: Sendable {
    var response: HTTPResponseData
    var reusable: Bool
}

/// Why an exchange failed below HTTP. `AWSClientError` is made from it by the client, which
/// knows the action.
struct HTTP1TransportError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case timeout
        case connection
        /// The connection ended, or could not be written, before any byte of an answer.
        case notAnswered
        case invalidResponse
        case invalidURL
    }
    var kind: Kind
    var detail: String

    var description: String { detail }
}

/// The client end of one HTTP/1.1 connection: writes one request at a time (no pipelining) and
/// parses the answer with `HTTP1ResponseParser`. Every state change happens on the channel's
/// event loop; the exchange's responder is completed exactly once.
final class HTTP1ClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = HTTP1Exchange
    typealias OutboundOut = ByteBuffer

    private var exchange: HTTP1Exchange?
    /// While the handler is in a pipeline (for `send`).
    private var context: ChannelHandlerContext?
    private var parser = HTTP1ResponseParser(maxBodyBytes: 0)
    /// When the exchange in flight times out.
    private var deadline: NIODeadline?
    /// One timer per connection, not one per request: it is armed for the first request's
    /// deadline and, when it fires, either times out the exchange in flight (its deadline has
    /// passed), re-arms for that exchange's deadline, or lapses when the connection is idle.
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts an exchange: as a `write` of it to the channel and a flush would, without the
    /// pipeline's type-erased path (this is the pipeline's last handler). On the event loop only.
    func send(_ exchange: HTTP1Exchange) {
        guard let context else {
            exchange.responder.fail(HTTP1TransportError(kind: .notAnswered, detail: "the connection is closed"))
            return
        }
        guard begin(exchange, context) else { return }
        context.writeAndFlush(wrapOutboundOut(exchange.request), promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard begin(exchange, context) else {
            promise?.fail(ChannelError.inappropriateOperationForState)
            return
        }
        context.write(wrapOutboundOut(exchange.request), promise: promise)
    }

    /// Takes `exchange` as the one in flight and arms its timeout; fails it (returning false)
    /// when another is in flight.
    private func begin(_ exchange: HTTP1Exchange, _ context: ChannelHandlerContext) -> Bool {
        guard self.exchange == nil else {
            exchange.responder.fail(
                HTTP1TransportError(kind: .connection, detail: "connection already has a request in flight"))
            return false
        }
        self.exchange = exchange
        parser = HTTP1ResponseParser(maxBodyBytes: exchange.maxResponseBytes)
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
            finish(
                context, .failure(HTTP1TransportError(kind: .timeout, detail: "no complete response in time")),
                close: true)
        } else {
            armTimer(context, at: deadline)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard exchange != nil else {
            // Bytes nobody asked for: the connection is not in a state to reuse.
            context.close(promise: nil)
            return
        }
        do {
            if let response = try parser.feed(&bytes) {
                finish(context, .success(response), close: !parser.reusable)
            }
        } catch {
            finish(context, .failure(error), close: true)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if exchange != nil {
            if let response = parser.endOfStream() {
                finish(context, .success(response), close: false)
            } else {
                finish(
                    context,
                    .failure(
                        HTTP1TransportError(
                            kind: parser.started ? .connection : .notAnswered,
                            detail: parser.started
                                ? "the server closed the connection before the response was complete"
                                : "the server closed the connection without answering")),
                    close: false)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context, .failure(error), close: true)
        context.close(promise: nil)
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<HTTPResponseData, any Error>, close: Bool) {
        guard let exchange else { return }
        self.exchange = nil
        deadline = nil
        switch result {
        case .success(let response):
            exchange.responder.succeed(HTTP1Answer(response: response, reusable: !close && context.channel.isActive))
        case .failure(let error):
            exchange.responder.fail(error)
        }
        if close { context.close(promise: nil) }
    }
}

/// Parses one HTTP/1.1 response incrementally: status line, headers, then a body delimited by
/// `Content-Length`, chunked transfer coding, or the end of the connection. Interim (1xx)
/// responses are skipped.
struct HTTP1ResponseParser {
    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    let maxBodyBytes: Int
    private var state = State.head
    private var buffer = ByteBuffer()
    private var status = 0
    private var headerBlock: [UInt8] = []
    private var body: [UInt8] = []
    private var keepAlive = true
    /// Whether any byte of the response arrived.
    private(set) var started = false
    /// After a complete response: whether the connection may be used again.
    var reusable: Bool { keepAlive && buffer.readableBytes == 0 }

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Takes more bytes; returns the response once it is complete.
    mutating func feed(_ bytes: inout ByteBuffer) throws -> HTTPResponseData? {
        if bytes.readableBytes > 0 { started = true }
        if buffer.readableBytes == 0 {
            // Usually a whole response arrives in one read: take that buffer instead of copying it.
            buffer = bytes
            bytes.moveReaderIndex(to: bytes.writerIndex)
        } else {
            buffer.writeBuffer(&bytes)
        }
        while true {
            switch state {
            case .head:
                guard let headLength = headEnd() else {
                    if buffer.readableBytes > 64 * 1024 { throw invalid("response head larger than 64 KiB") }
                    return nil
                }
                try buffer.withUnsafeReadableBytes { raw in
                    try parseHead(UnsafeRawBufferPointer(rebasing: raw[0..<headLength]))
                }
                buffer.moveReaderIndex(forwardBy: headLength + 4)
            case .fixed(let remaining):
                let left = try consumeBody(remaining)
                if left > 0 {
                    state = .fixed(remaining: left)
                    return nil
                }
                state = .done
            case .chunkSize:
                guard let line = readLine(upTo: [13, 10]) else { return nil }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 32 && $0 != 9 }
                guard let size = Int(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0 else {
                    throw invalid("bad chunk size")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let left = try consumeBody(remaining)
                if left > 0 {
                    state = .chunkData(remaining: left)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readBytes(length: 2) == [13, 10] else { throw invalid("chunk not followed by CRLF") }
                state = .chunkSize
            case .trailers:
                guard let line = readLine(upTo: [13, 10]) else { return nil }
                if line.isEmpty { state = .done }
            case .untilClose:
                try appendBody(buffer.readableBytes)
                return nil
            case .done:
                return HTTPResponseData(status: status, headerBlock: headerBlock, body: body)
            }
        }
    }

    /// The connection ended: the response, if the body was delimited by the end.
    mutating func endOfStream() -> HTTPResponseData? {
        guard case .untilClose = state else { return nil }
        keepAlive = false
        state = .done
        return HTTPResponseData(status: status, headerBlock: headerBlock, body: body)
    }

    /// The length of the head (up to the blank line), once all of it has arrived.
    private func headEnd() -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            guard raw.count >= 4 else { return nil }
            var index = 0
            while index <= raw.count - 4 {
                guard let cr = raw[index...(raw.count - 4)].firstIndex(of: 13) else { return nil }
                if raw[cr + 1] == 10 && raw[cr + 2] == 13 && raw[cr + 3] == 10 { return cr }
                index = cr + 1
            }
            return nil
        }
    }

    /// The status line and header lines (CRLF or bare LF separated), without the blank line.
    private mutating func parseHead(_ head: UnsafeRawBufferPointer) throws(HTTP1TransportError) {
        let lineFeed = head.firstIndex(of: 10) ?? head.count
        let statusEnd = lineFeed > 0 && head[lineFeed - 1] == 13 ? lineFeed - 1 : lineFeed
        guard statusEnd > 0 else { throw invalid("empty status line") }
        // "HTTP/1.x SP 3DIGIT [SP reason]"
        let status = head[0..<statusEnd]
        guard status.count >= 12, status.starts(with: Self.http1Prefix), status[status.startIndex + 8] == 32,
            status.count == 12 || status[status.startIndex + 12] == 32
        else {
            throw invalid("not an HTTP/1.x status line")
        }
        var code = 0
        for byte in status[(status.startIndex + 9)..<(status.startIndex + 12)] {
            guard byte >= 48 && byte <= 57 else { throw invalid("not an HTTP/1.x status line") }
            code = code * 10 + Int(byte - 48)
        }
        guard code >= 100 else { throw invalid("not an HTTP/1.x status line") }
        let http10 = status[status.startIndex + 7] == UInt8(ascii: "0")
        var connectionClose = false
        var connectionKeepAlive = false
        var chunked = false
        var contentLength: String?
        let block = Array(head[min(lineFeed + 1, head.count)...])
        let wellFormed = HTTPResponseData.forEachHeader(in: block) { name, value in
            if ASCII.equalsIgnoringCase(name, ASCII.bytes("connection")) {
                connectionClose = connectionClose || ASCII.contains(value, ignoringCase: ASCII.bytes("close"))
                connectionKeepAlive =
                    connectionKeepAlive || ASCII.contains(value, ignoringCase: ASCII.bytes("keep-alive"))
            } else if ASCII.equalsIgnoringCase(name, ASCII.bytes("transfer-encoding")) {
                chunked = chunked || ASCII.contains(value, ignoringCase: ASCII.bytes("chunked"))
            } else if contentLength == nil && ASCII.equalsIgnoringCase(name, ASCII.bytes("content-length")) {
                contentLength = String(decoding: value, as: UTF8.self)
            }
            return true
        }
        guard wellFormed else { throw invalid("header line without ':'") }
        if (100..<200).contains(code) && code != 101 {
            return  // interim response: the real one follows
        }
        self.status = code
        headerBlock = block
        keepAlive = http10 ? connectionKeepAlive : !connectionClose
        if code == 204 || code == 304 {
            state = .done
        } else if chunked {
            state = .chunkSize
        } else if let length = contentLength {
            guard let count = Int(length), count >= 0 else { throw invalid("bad Content-Length '\(length)'") }
            guard count <= maxBodyBytes else { throw invalid("response body of \(count) bytes is too large") }
            state = count == 0 ? .done : .fixed(remaining: count)
        } else {
            keepAlive = false
            state = .untilClose
        }
    }

    private static let http1Prefix = Array("HTTP/1.".utf8)

    /// Takes up to `remaining` body bytes from what has arrived; returns how many are still to come.
    private mutating func consumeBody(_ remaining: Int) throws -> Int {
        let take = min(remaining, buffer.readableBytes)
        try appendBody(take)
        return remaining - take
    }

    private mutating func appendBody(_ count: Int) throws {
        guard count > 0 else { return }
        guard body.count + count <= maxBodyBytes else {
            throw invalid("response body larger than \(maxBodyBytes) bytes")
        }
        body += buffer.readBytes(length: count) ?? []
    }

    /// Reads up to and past `terminator`, returning what came before it; nil when not yet there.
    private mutating func readLine(upTo terminator: [UInt8]) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard view.count >= terminator.count else { return nil }
        var index = view.startIndex
        let last = view.endIndex - terminator.count
        while index <= last {
            if view[index] == terminator[0] && view[index..<(index + terminator.count)].elementsEqual(terminator) {
                let line = Array(view[view.startIndex..<index])
                buffer.moveReaderIndex(forwardBy: index - view.startIndex + terminator.count)
                return line
            }
            index += 1
        }
        return nil
    }

    private func invalid(_ detail: String) -> HTTP1TransportError {
        HTTP1TransportError(kind: .invalidResponse, detail: "invalid HTTP response: \(detail)")
    }
}
