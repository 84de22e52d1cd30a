import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import Testing

@testable import AWSQuery

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

    @Test("requests carry Host and Content-Length; a garbled answer is an unreadable-response error, not retried")
    func garbled() async throws {
        let server = try await ScriptedServer { _, _ in .respond("NOT HTTP AT ALL\r\n\r\n") }
        _ = try await AWSHTTPClient.withClient { client in
            await #expect {
                _ = try await get(client, server.url)
            } throws: { error in
                let mapped = TransportErrors.map(error, action: "X")
                return mapped.kind == .invalidResponse(httpStatus: 0)
                    && mapped.description.contains("invalid HTTP response")
                    && mapped.retryClass == .never
            }
        }
        await server.stop()
        let request = HTTPRequestData(url: "http://h.example:8080/p?q=1", method: "POST", body: [1, 2, 3])
        let client = try AWSHTTPClient()
        let head = try AWSHTTPClient.head(for: request, route: try client.route(request.url, useProxy: true))
        try await client.shutdown()
        #expect(head.uri == "/p?q=1" && head.method == .POST)
        #expect(head.headers["Host"] == ["h.example:8080"] && head.headers["Content-Length"] == ["3"])
    }
}
