import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A raw TCP server on 127.0.0.1 for the client's connection handling and for hostile answers:
/// each request (head plus Content-Length body) is answered with exactly the bytes `script`
/// says, given the connection's number (from 0) and the request's number on it. Stop it with
/// `stop()`.
public final class ScriptedServer: Sendable {
    public enum Action: Sendable {
        /// These bytes, as they are (any framing, broken or not), then optionally close.
        case respond(String, thenClose: Bool = false)
        case respondBytes([UInt8], thenClose: Bool = false)
        /// `prefix`, then `repeating` over and over until the client closes the connection or
        /// `limit` bytes were sent (an endless header, chunk extension, trailer or body).
        case endless(prefix: String, repeating: String, limit: Int = 256 << 20)
        /// `response`, then `later` after `delay` (bytes nobody asked for, on an idle connection).
        case respondThenLater(String, later: String, delay: TimeAmount)
        case closeWithoutAnswer
        case neverAnswer
    }

    public let port: Int
    public let connections = NIOLockedValueBox(0)
    public let requests = NIOLockedValueBox(0)
    /// Bytes sent by `.endless` answers (all connections).
    public let endlessBytesSent = NIOLockedValueBox(0)
    /// Every request head received, as text.
    public let heads = NIOLockedValueBox<[String]>([])
    private let channel: any Channel

    public init(script: @escaping @Sendable (_ connection: Int, _ request: Int) -> Action) async throws {
        let connections = self.connections
        let shared = Shared(requests: requests, endlessBytesSent: endlessBytesSent, heads: heads, script: script)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = connections.withLockedValue { count in
                    defer { count += 1 }
                    return count
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(connection: number, shared: shared))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() async { try? await channel.close() }

    struct Shared: Sendable {
        let requests: NIOLockedValueBox<Int>
        let endlessBytesSent: NIOLockedValueBox<Int>
        let heads: NIOLockedValueBox<[String]>
        let script: @Sendable (Int, Int) -> Action
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let connection: Int
        let shared: Shared
        var buffer: [UInt8] = []
        var served = 0

        init(connection: Int, shared: Shared) {
            self.connection = connection
            self.shared = shared
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
            let text = String(decoding: buffer, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return }
            let head = text[..<headEnd.lowerBound]
            let length =
                head.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let headBytes = text[..<headEnd.upperBound].utf8.count
            guard buffer.count >= headBytes + length else { return }
            buffer.removeFirst(headBytes + length)
            shared.requests.withLockedValue { $0 += 1 }
            shared.heads.withLockedValue { $0.append(String(head)) }
            let action = shared.script(connection, served)
            served += 1
            switch action {
            case .respond(let response, let thenClose):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
                if thenClose { context.close(promise: nil) }
            case .respondBytes(let response, let thenClose):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: response)), promise: nil)
                if thenClose { context.close(promise: nil) }
            case .endless(let prefix, let repeating, let limit):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: prefix)), promise: nil)
                let piece = ByteBuffer(
                    string: String(repeating: repeating, count: max(1, 16384 / max(1, repeating.utf8.count))))
                sendForever(context: NIOLoopBound(context, eventLoop: context.eventLoop), piece: piece, left: limit)
            case .respondThenLater(let response, let later, let delay):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    loopBound.value.writeAndFlush(NIOAny(ByteBuffer(string: later)), promise: nil)
                }
            case .closeWithoutAnswer:
                context.close(promise: nil)
            case .neverAnswer:
                break
            }
        }

        private func sendForever(context: NIOLoopBound<ChannelHandlerContext>, piece: ByteBuffer, left: Int) {
            let channelContext = context.value
            guard left > 0, channelContext.channel.isActive else { return }
            let counter = shared.endlessBytesSent
            channelContext.writeAndFlush(NIOAny(piece)).whenComplete { result in
                guard case .success = result else { return }
                counter.withLockedValue { $0 += piece.readableBytes }
                self.sendForever(context: context, piece: piece, left: left - piece.readableBytes)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
