import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import AWSQuery

@Suite("HTTP/1.1 response parser")
struct HTTP1ResponseParserTests {
    /// Feeds `text` in pieces of `step` bytes; returns the response and whether the connection
    /// may be reused.
    func parse(_ text: String, step: Int = .max, max: Int = 1 << 20) throws -> (HTTPResponseData?, Bool) {
        var parser = HTTP1ResponseParser(maxBodyBytes: max)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            var piece = ByteBuffer(bytes: bytes[offset..<end])
            offset = end
            if let response = try parser.feed(&piece) { return (response, parser.reusable) }
        }
        return (nil, parser.reusable)
    }

    @Test("Content-Length body, whole or a byte at a time", arguments: [1, 3, 1000])
    func contentLength(step: Int) throws {
        let (response, reusable) = try parse(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nx-amzn-RequestId:  abc \r\nContent-Length: 5\r\n\r\nhello",
            step: step)
        #expect(response?.status == 200)
        #expect(response.map { String(decoding: $0.body, as: UTF8.self) } == "hello")
        #expect(response?.header("X-Amzn-RequestId") == "abc")
        #expect(reusable)
    }

    @Test("chunked body with extensions and trailers")
    func chunked() throws {
        let (response, reusable) = try parse(
            "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n",
            step: 2)
        #expect(response?.status == 503)
        #expect(response.map { String(decoding: $0.body, as: UTF8.self) } == "Wikipedia")
        #expect(reusable)
    }

    @Test("an interim 100 Continue is skipped")
    func interim() throws {
        let (response, _) = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        #expect(response?.status == 204)
        #expect(response?.body.isEmpty == true)
    }

    @Test("Connection: close, HTTP/1.0 and bytes after the response all end the connection")
    func notReusable() throws {
        #expect(try parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").1 == false)
        #expect(try parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").1 == false)
        #expect(try parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").1 == true)
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1").1 == false)
    }

    @Test("a body without a length ends with the connection")
    func untilClose() throws {
        var parser = HTTP1ResponseParser(maxBodyBytes: 100)
        var bytes = ByteBuffer(string: "HTTP/1.1 500 Oops\r\nContent-Type: text/html\r\n\r\n<html>")
        #expect(try parser.feed(&bytes) == nil)
        var more = ByteBuffer(string: "</html>")
        #expect(try parser.feed(&more) == nil)
        let response = parser.endOfStream()
        #expect(response?.status == 500)
        #expect(response.map { String(decoding: $0.body, as: UTF8.self) } == "<html></html>")
        #expect(!parser.reusable)
    }

    @Test(
        "malformed responses are refused with a reason",
        arguments: [
            ("SSH-2.0-OpenSSH\r\n\r\n", "status line"),
            ("HTTP/1.1 abc OK\r\n\r\n", "status line"),
            ("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "':'"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX", "CRLF"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", "too large"),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" + String(repeating: "a", count: 101),
                "larger"
            ),
        ])
    func malformed(text: String, reason: String) {
        #expect {
            _ = try parse(text, max: 100)
        } throws: { error in
            guard let error = error as? HTTP1TransportError, error.kind == .invalidResponse else { return false }
            return error.detail.contains(reason)
        }
    }
}

@Suite("Request URLs")
struct RequestURLTests {
    @Test("scheme, host, port, target and Host header")
    func parts() throws {
        let plain = try #require(RequestURL("http://127.0.0.1:5000"))
        #expect(!plain.isTLS && plain.host == "127.0.0.1" && plain.port == 5000 && plain.target == "/")
        #expect(plain.isIPAddress && plain.hostHeader == "127.0.0.1:5000")
        let aws = try #require(RequestURL("https://iam.amazonaws.com/"))
        #expect(aws.isTLS && aws.port == 443 && aws.hostHeader == "iam.amazonaws.com" && !aws.isIPAddress)
        let v6 = try #require(RequestURL("http://[::1]:8080/latest/api/token?x=1#frag"))
        #expect(v6.host == "::1" && v6.port == 8080 && v6.target == "/latest/api/token?x=1")
        #expect(v6.hostHeader == "[::1]:8080" && v6.isIPAddress)
        #expect(RequestURL("HTTP://Example.com:80?a=b")?.target == "/?a=b")
        #expect(RequestURL("http://example.com:80")?.hostHeader == "example.com")
        #expect(RequestURL("https://user@host.example:8443/p")?.host == "host.example")
    }

    @Test(
        "what cannot be sent to is refused",
        arguments: [
            "ftp://host", "host:80", "http://", "http://:80/", "http://h:0", "http://h:70000", "http://h:x/",
            "http://[::1",
        ])
    func refused(url: String) {
        #expect(RequestURL(url) == nil)
    }
}

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

    @Test("a kept connection the server drops unanswered is replaced once; a fresh one is not retried")
    func staleConnection() async throws {
        // Connection 0 answers its first request, then drops the second unanswered (as a
        // server closing an idle connection at the wrong moment does).
        let server = try await ScriptedServer { connection, request in
            connection == 0 && request == 1 ? .closeWithoutAnswer : .respond(Self.ok)
        }
        try await AWSHTTPClient.withClient { client in
            let first = try await get(client, server.url)
            let second = try await get(client, server.url)
            #expect(first == "ok" && second == "ok")
        }
        #expect(server.connections.withLockedValue { $0 } == 2)
        #expect(server.requests.withLockedValue { $0 } == 3)
        await server.stop()

        let dropping = try await ScriptedServer { _, _ in .closeWithoutAnswer }
        _ = try await AWSHTTPClient.withClient { client in
            await #expect(throws: HTTP1TransportError.self) { try await get(client, dropping.url) }
        }
        #expect(dropping.requests.withLockedValue { $0 } == 1)
        await dropping.stop()
    }

    @Test("no answer in time is a timeout; a refused connection fails at once")
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
        try await AWSHTTPClient.withClient { client in
            let start = ContinuousClock.now
            await #expect {
                _ = try await get(client, "http://127.0.0.1:\(port)")
            } throws: { error in
                TransportErrors.map(error, action: "X").kind == .connection
            }
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("each request on a kept connection gets its own timeout: a later, shorter one still fires in time")
    func timeoutPerRequestOnOneConnection() async throws {
        // Request 0 answers after a pause; request 1 is never answered.
        let server = try await ScriptedServer { _, request in
            request == 0 ? .respond(Self.ok) : .neverAnswer
        }
        try await AWSHTTPClient.withClient { client in
            let first = try await get(client, server.url, timeout: .seconds(60))
            #expect(first == "ok")
            let start = ContinuousClock.now
            await #expect {
                _ = try await get(client, server.url, timeout: .milliseconds(300))
            } throws: { error in
                TransportErrors.map(error, action: "X").kind == .timeout
            }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(5))
        }
        #expect(server.connections.withLockedValue { $0 } == 1)
        await server.stop()
    }

    @Test("a request answered before its timeout is not failed later by an earlier request's timer")
    func answeredRequestsOutliveOldTimers() async throws {
        let server = try await ScriptedServer { _, _ in .respond(Self.ok) }
        try await AWSHTTPClient.withClient { client in
            // The first request arms the connection's timer for 400 ms; later requests run past it.
            let first = try await get(client, server.url, timeout: .milliseconds(400))
            #expect(first == "ok")
            for _ in 0..<6 {
                try await Task.sleep(for: .milliseconds(100))
                let later = try await get(client, server.url, timeout: .seconds(5))
                #expect(later == "ok")
            }
        }
        #expect(server.connections.withLockedValue { $0 } == 1)
        await server.stop()
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

    @Test("requests carry Host and Content-Length; a garbled answer is a connection error")
    func garbled() async throws {
        let server = try await ScriptedServer { _, _ in .respond("NOT HTTP AT ALL\r\n\r\n") }
        _ = try await AWSHTTPClient.withClient { client in
            await #expect {
                _ = try await get(client, server.url)
            } throws: { error in
                let mapped = TransportErrors.map(error, action: "X")
                return mapped.kind == .connection && mapped.description.contains("invalid HTTP response")
            }
        }
        await server.stop()
        let request = HTTPRequestData(url: "http://h.example:8080/p?q=1", method: "POST", body: [1, 2, 3])
        let encoded = AWSHTTPClient.encode(request, url: try #require(RequestURL(request.url)))
        let text = String(decoding: encoded.readableBytesView, as: UTF8.self)
        #expect(text.hasPrefix("POST /p?q=1 HTTP/1.1\r\nHost: h.example:8080\r\nContent-Length: 3\r\n\r\n"))
    }
}
