import Foundation
import NIOCore
import TestSupport
import Testing

@testable import AWSQuery

/// A hostile or broken server answers; the client ends each exchange with a typed error within
/// its timeout, closes the connection (the next request opens a new one), reads a bounded
/// amount, and never classifies the failure as throttling.
@Suite("HTTP client against hostile answers")
struct HTTPHostileAnswerTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    /// Sends one request answered by `answer`, then a second one answered well: returns the first
    /// request's error and the number of connections the server saw (2 when the first was closed).
    func firstFails(
        _ answer: ScriptedServer.Action, settings: HTTPSettings = HTTPSettings()
    ) async throws -> (HTTP1TransportError, connections: Int, server: ScriptedServer) {
        let server = try await ScriptedServer { connection, _ in connection == 0 ? answer : .respond(Self.ok) }
        let error = try await AWSHTTPClient.withClient(settings: settings) { client in
            let error = try await #require(throws: HTTP1TransportError.self) {
                _ = try await client.send(
                    HTTPRequestData(url: server.url + "/", method: "POST", body: Array("Action=X".utf8)),
                    timeout: .seconds(20))
            }
            let second = try await client.send(
                HTTPRequestData(url: server.url + "/", method: "POST", body: Array("Action=X".utf8)),
                timeout: .seconds(5))
            #expect(String(decoding: second.body, as: UTF8.self) == "ok")
            return error
        }
        let mapped = TransportErrors.map(error, action: "CreateLoginProfile")
        #expect(mapped.retryClass == .never, "a malformed answer is never retried, least of all as throttling")
        #expect(mapped.kind == .invalidResponse(httpStatus: 0))
        await server.stop()
        return (error, server.connections.withLockedValue { $0 }, server)
    }

    @Test(
        "broken framing is a protocol violation and closes the connection",
        arguments: [
            ("duplicate Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
            ("conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"),
            ("Content-Length with a list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"),
            (
                "Content-Length and chunked",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
            ),
            ("garbage after the body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE"),
            ("a second response after the body", ok + ok),
            ("an unasked-for 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"),
            ("bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"),
            ("header without a colon", "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n"),
            ("not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n"),
            ("bare CR in a header", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"),
        ])
    func protocolViolations(name: String, answer: String) async throws {
        let (error, connections, _) = try await firstFails(.respond(answer))
        #expect(error.kind == .protocolViolation, "\(name): \(error)")
        #expect(error.description.contains("invalid HTTP response"))
        #expect(connections == 2, "\(name): the connection was reused after a broken answer")
    }

    @Test("an endless header is stopped at the head limit")
    func endlessHeader() async throws {
        let (error, connections, server) = try await firstFails(
            .endless(prefix: "HTTP/1.1 200 OK\r\nX-Long: ", repeating: "a"))
        #expect(error.kind == .limitExceeded)
        #expect(connections == 2)
        #expect(server.endlessBytesSent.withLockedValue { $0 } < 64 << 20)
    }

    @Test("too many headers are stopped at the head limit")
    func manyHeaders() async throws {
        let (error, _, _) = try await firstFails(
            .endless(prefix: "HTTP/1.1 200 OK\r\n", repeating: "X-A: b\r\n"))
        #expect(error.kind == .limitExceeded)
        #expect(error.description.contains("\(HTTPLimits.maxResponseHeadBytes)"))
    }

    @Test("an endless chunk extension is stopped at the overhead limit")
    func endlessChunkExtension() async throws {
        let (error, _, server) = try await firstFails(
            .endless(prefix: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=", repeating: "x"))
        #expect(error.kind == .limitExceeded || error.kind == .protocolViolation, "\(error)")
        #expect(server.endlessBytesSent.withLockedValue { $0 } < 64 << 20)
    }

    @Test("endless trailers are stopped")
    func endlessTrailers() async throws {
        let (error, _, server) = try await firstFails(
            .endless(
                prefix: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n",
                repeating: "X-Trailer: t\r\n"))
        #expect(error.kind == .limitExceeded)
        #expect(server.endlessBytesSent.withLockedValue { $0 } < 64 << 20)
    }

    @Test("tiny chunks are body, not overhead, up to the overhead limit")
    func tinyChunks() async throws {
        let (error, _, _) = try await firstFails(
            .endless(prefix: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", repeating: "1\r\na\r\n"))
        #expect(error.kind == .limitExceeded)
        #expect(error.description.contains("chunk framing"))
    }

    @Test("interim answers: up to the limit are skipped, one more is refused")
    func interimAnswers() async throws {
        let interim = "HTTP/1.1 100 Continue\r\n\r\n"
        let allowed = String(repeating: interim, count: HTTPLimits.maxInterimResponses) + Self.ok
        let server = try await ScriptedServer { _, _ in .respond(allowed) }
        let body = try await AWSHTTPClient.withClient { client in
            try await client.send(HTTPRequestData(url: server.url + "/", method: "POST"), timeout: .seconds(5)).body
        }
        #expect(String(decoding: body, as: UTF8.self) == "ok")
        await server.stop()

        let tooMany = String(repeating: interim, count: HTTPLimits.maxInterimResponses + 1) + Self.ok
        let (error, connections, _) = try await firstFails(.respond(tooMany))
        #expect(error.kind == .limitExceeded)
        #expect(error.description.contains("interim"))
        #expect(connections == 2)
        let (endless, _, _) = try await firstFails(.endless(prefix: "", repeating: interim))
        #expect(endless.kind == .limitExceeded)
    }

    @Test("a declared body past the limit is refused before it is read")
    func declaredBodyTooLarge() async throws {
        let (error, _, _) = try await firstFails(
            .respond("HTTP/1.1 200 OK\r\nContent-Length: \(HTTPLimits.maxResponseBodyBytes + 1)\r\n\r\n"))
        #expect(error.kind == .limitExceeded)
        #expect(error.description.contains("\(HTTPLimits.maxResponseBodyBytes)"))
        #expect(HTTPSettings().maxResponseBytes == HTTPLimits.maxResponseBodyBytes)
    }

    @Test("an endless chunked or unframed body is stopped at the body limit")
    func endlessBody() async throws {
        var settings = HTTPSettings()
        settings.maxResponseBytes = 1 << 20
        let (chunked, _, server) = try await firstFails(
            .endless(
                prefix: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                repeating: "4000\r\n" + String(repeating: "b", count: 0x4000) + "\r\n"),
            settings: settings)
        #expect(chunked.kind == .limitExceeded)
        #expect(server.endlessBytesSent.withLockedValue { $0 } < 16 << 20)
        let (unframed, _, _) = try await firstFails(
            .endless(prefix: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", repeating: "b"), settings: settings)
        #expect(unframed.kind == .limitExceeded)
    }

    @Test("bytes sent while no request is in flight close the connection; the next request opens a new one")
    func unsolicitedBytes() async throws {
        // Connection 0 answers, then pushes a smuggled answer while the connection sits idle.
        let server = try await ScriptedServer { connection, _ in
            connection == 0
                ? .respondThenLater(
                    Self.ok, later: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil", delay: .milliseconds(400))
                : .respond(Self.ok)
        }
        try await AWSHTTPClient.withClient { client in
            let first = try await client.send(
                HTTPRequestData(url: server.url + "/", method: "POST"), timeout: .seconds(5))
            #expect(String(decoding: first.body, as: UTF8.self) == "ok")
            // Wait until the extra bytes have arrived (a loaded machine could read both in one read,
            // which is refused as bytes after the body: the pause keeps them apart).
            try await Task.sleep(for: .milliseconds(1200))
            let second = try await client.send(
                HTTPRequestData(url: server.url + "/", method: "POST"), timeout: .seconds(5))
            #expect(String(decoding: second.body, as: UTF8.self) == "ok")
        }
        #expect(server.connections.withLockedValue { $0 } == 2)
        await server.stop()
    }

    @Test("a header value with CR, LF or another control character is refused, naming the header only")
    func controlCharactersInHeaders() async throws {
        let server = try await ScriptedServer { _, _ in .respond(Self.ok) }
        try await AWSHTTPClient.withClient { client in
            for value in ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\u{0}b", "a\u{7F}b", "tok\u{1B}en"] {
                let error = try await #require(throws: HTTP1TransportError.self) {
                    _ = try await client.send(
                        HTTPRequestData(
                            url: server.url + "/", method: "GET", headers: [("X-Amz-Security-Token", value)]),
                        timeout: .seconds(5))
                }
                #expect(error.kind == .invalidRequest)
                #expect(error.description.contains("X-Amz-Security-Token"))
                #expect(!error.description.contains(value))
                #expect(TransportErrors.map(error, action: "X").retryClass == .never)
            }
            await #expect(throws: HTTP1TransportError.self) {
                _ = try await client.send(
                    HTTPRequestData(url: server.url + "/", headers: [("Bad Name", "v")]), timeout: .seconds(5))
            }
            // A tab is allowed in a value.
            _ = try await client.send(
                HTTPRequestData(url: server.url + "/", headers: [("X-Tab", "a\tb")]), timeout: .seconds(5))
        }
        #expect(server.requests.withLockedValue { $0 } == 1)
        await server.stop()
    }
}
