import NIOCore

/// One request on the wire: the encoded bytes, and where its answer goes.
struct HTTP1Exchange: Sendable {
    var request: ByteBuffer
    var timeout: TimeAmount
    var maxResponseBytes: Int
    var promise: EventLoopPromise<HTTP1Answer>
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
/// event loop; the exchange's promise is completed exactly once.
final class HTTP1ClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = HTTP1Exchange
    typealias OutboundOut = ByteBuffer

    private var exchange: HTTP1Exchange?
    private var parser = HTTP1ResponseParser(maxBodyBytes: 0)
    private var timeoutTask: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard self.exchange == nil else {
            exchange.promise.fail(
                HTTP1TransportError(kind: .connection, detail: "connection already has a request in flight"))
            promise?.fail(ChannelError.inappropriateOperationForState)
            return
        }
        self.exchange = exchange
        parser = HTTP1ResponseParser(maxBodyBytes: exchange.maxResponseBytes)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeoutTask = context.eventLoop.scheduleTask(in: exchange.timeout) {
            let (handler, context) = loopBound.value
            handler.finish(
                context, .failure(HTTP1TransportError(kind: .timeout, detail: "no complete response in time")),
                close: true)
        }
        context.write(wrapOutboundOut(exchange.request), promise: promise)
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
        timeoutTask?.cancel()
        timeoutTask = nil
        guard let exchange else { return }
        self.exchange = nil
        switch result {
        case .success(let response):
            exchange.promise.succeed(HTTP1Answer(response: response, reusable: !close && context.channel.isActive))
        case .failure(let error):
            exchange.promise.fail(error)
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
    private var headers: [(name: String, value: String)] = []
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
        buffer.writeBuffer(&bytes)
        while true {
            switch state {
            case .head:
                guard let head = readLine(upTo: [13, 10, 13, 10]) else {
                    if buffer.readableBytes > 64 * 1024 { throw invalid("response head larger than 64 KiB") }
                    return nil
                }
                try parseHead(head)
            case .fixed(let remaining):
                let take = min(remaining, buffer.readableBytes)
                try appendBody(take)
                if remaining - take > 0 {
                    state = .fixed(remaining: remaining - take)
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
                let take = min(remaining, buffer.readableBytes)
                try appendBody(take)
                if remaining - take > 0 {
                    state = .chunkData(remaining: remaining - take)
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
                return HTTPResponseData(status: status, headers: headers, body: body)
            }
        }
    }

    /// The connection ended: the response, if the body was delimited by the end.
    mutating func endOfStream() -> HTTPResponseData? {
        guard case .untilClose = state else { return nil }
        keepAlive = false
        state = .done
        return HTTPResponseData(status: status, headers: headers, body: body)
    }

    private mutating func parseHead(_ head: [UInt8]) throws {
        var lines = head.split(separator: 10, omittingEmptySubsequences: false).map { line in
            line.last == 13 ? line.dropLast() : line
        }
        guard !lines.isEmpty else { throw invalid("empty status line") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)),
            let code = Int(String(decoding: parts[1], as: UTF8.self)), (100..<1000).contains(code)
        else {
            throw invalid("not an HTTP/1.x status line")
        }
        let http10 = parts[0].elementsEqual(Array("HTTP/1.0".utf8))
        var parsed: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw invalid("header line without ':'") }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
            parsed.append((name: name, value: Self.trimmed(value)))
        }
        if (100..<200).contains(code) && code != 101 {
            return  // interim response: the real one follows
        }
        status = code
        headers = parsed
        let connection = Self.value("connection", in: parsed)?.lowercased() ?? ""
        keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close")
        if code == 204 || code == 304 {
            state = .done
        } else if Self.value("transfer-encoding", in: parsed)?.lowercased().contains("chunked") == true {
            state = .chunkSize
        } else if let length = Self.value("content-length", in: parsed) {
            guard let count = Int(length), count >= 0 else { throw invalid("bad Content-Length '\(length)'") }
            guard count <= maxBodyBytes else { throw invalid("response body of \(count) bytes is too large") }
            state = count == 0 ? .done : .fixed(remaining: count)
        } else {
            keepAlive = false
            state = .untilClose
        }
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

    static func value(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
            let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}
