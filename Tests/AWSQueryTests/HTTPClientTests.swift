import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import AWSQuery

/// A raw TCP server for the client's connection handling: each request (head plus
/// Content-Length body) is answered as `script` says, given the connection's number (from 0)
/// and the request's number on it.
final class ScriptedServer: Sendable {
    enum Action: Sendable {
        case respond(String, thenClose: Bool = false)
        case closeWithoutAnswer
        case neverAnswer
    }

    let port: Int
    let connections = NIOLockedValueBox(0)
    let requests = NIOLockedValueBox(0)
    private let channel: any Channel

    init(script: @escaping @Sendable (_ connection: Int, _ request: Int) -> Action) async throws {
        let connections = self.connections
        let requests = self.requests
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = connections.withLockedValue { count in
                    defer { count += 1 }
                    return count
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(connection: number, requests: requests, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let connection: Int
        let requests: NIOLockedValueBox<Int>
        let script: @Sendable (Int, Int) -> Action
        var buffer: [UInt8] = []
        var served = 0

        init(connection: Int, requests: NIOLockedValueBox<Int>, script: @escaping @Sendable (Int, Int) -> Action) {
            self.connection = connection
            self.requests = requests
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
            let text = String(decoding: buffer, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return }
            let head = text[..<headEnd.lowerBound].lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let headBytes = text[..<headEnd.upperBound].utf8.count
            guard buffer.count >= headBytes + length else { return }
            buffer.removeFirst(headBytes + length)
            requests.withLockedValue { $0 += 1 }
            let action = script(connection, served)
            served += 1
            switch action {
            case .respond(let response, let thenClose):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
                if thenClose { context.close(promise: nil) }
            case .closeWithoutAnswer:
                context.close(promise: nil)
            case .neverAnswer:
                break
            }
        }
    }
}

/// The shared HTTP client (AsyncHTTPClient underneath) against a server that answers as each
/// test scripts it.
@Suite("HTTP client connections")
struct HTTPClientConnectionTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    func get(_ client: AWSHTTPClient, _ url: String, timeout: Duration = .seconds(5)) async throws -> String {
        let response = try await client.send(
            HTTPRequestData(url: url + "/", method: "POST", body: Array("Action=X".utf8)), timeout: timeout)
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test("keep-alive: sequential requests share one connection")
    func reuse() async throws {
        let server = try await ScriptedServer { _, _ in .respond(Self.ok) }
        try await AWSHTTPClient.withClient { client in
            for _ in 0..<5 {
                let body = try await get(client, server.url)
                #expect(body == "ok")
            }
        }
        #expect(server.connections.withLockedValue { $0 } == 1)
        await server.stop()
    }

    @Test("Connection: close is honored: the next request opens a new connection")
    func closeHeader() async throws {
        let server = try await ScriptedServer { _, _ in
            .respond("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        }
        try await AWSHTTPClient.withClient { client in
            for _ in 0..<3 {
                let body = try await get(client, server.url)
                #expect(body == "ok")
            }
        }
        #expect(server.connections.withLockedValue { $0 } == 3)
        await server.stop()
    }

    @Test("no answer in time is a timeout; a refused connection fails within the connect timeout")
    func timeoutAndRefused() async throws {
        let server = try await ScriptedServer { _, _ in .neverAnswer }
        try await AWSHTTPClient.withClient { client in
            let start = ContinuousClock.now
            await #expect {
                _ = try await get(client, server.url, timeout: .milliseconds(300))
            } throws: { error in
                TransportErrors.map(error, action: "X").kind == .timeout
            }
            #expect(ContinuousClock.now - start < .seconds(5))
        }
        let port = server.port
        await server.stop()
        var settings = HTTPSettings()
        settings.connectTimeout = .seconds(2)
        try await AWSHTTPClient.withClient(settings: settings) { client in
            let start = ContinuousClock.now
            await #expect {
                _ = try await get(client, "http://127.0.0.1:\(port)")
            } throws: { error in
                // AsyncHTTPClient keeps trying a refused connection until the connect timeout.
                let kind = TransportErrors.map(error, action: "X").kind
                return kind == .connection || kind == .timeout
            }
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("cancelling the task ends a request that is waiting for its answer")
    func cancellation() async throws {
        let server = try await ScriptedServer { _, _ in .neverAnswer }
        try await AWSHTTPClient.withClient { client in
            let task = Task { try await get(client, server.url, timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            task.cancel()
            let result = await task.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(ContinuousClock.now - start < .seconds(5))
        }
        await server.stop()
    }

    @Test("a garbled answer is a connection error")
    func garbled() async throws {
        let server = try await ScriptedServer { _, _ in .respond("NOT HTTP AT ALL\r\n\r\n") }
        try await AWSHTTPClient.withClient { client in
            await #expect {
                _ = try await get(client, server.url)
            } throws: { error in
                TransportErrors.map(error, action: "X").kind == .connection
            }
        }
        await server.stop()
    }
}
