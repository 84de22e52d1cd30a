import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// Hostile XML: nesting past the limit, too many elements, long names in error messages, and
/// error bodies that are not XML, truncated or huge, through the real client.
@Suite("XML limits and hostile error bodies")
struct XMLLimitsTests {
    static func nested(_ depth: Int, inner: String = "") -> [UInt8] {
        Array((String(repeating: "<a>", count: depth) + inner + String(repeating: "</a>", count: depth)).utf8)
    }

    @Test("100,000 nested elements end in a typed error, not a stack overflow")
    func deepNesting() {
        #expect(throws: XMLTree.ParseError.tooDeep(limit: XMLTree.maximumDepth)) {
            try XMLTree.parse(Self.nested(100_000))
        }
        // Unclosed, as a truncated answer would be: the same error.
        #expect(throws: XMLTree.ParseError.tooDeep(limit: XMLTree.maximumDepth)) {
            try XMLTree.parse(Array(String(repeating: "<a>", count: 100_000).utf8))
        }
    }

    @Test("nesting exactly at the limit is read; one more element is refused")
    func depthBoundary() throws {
        let tree = try XMLTree.parse(Self.nested(XMLTree.maximumDepth, inner: "x"))
        var node = tree
        var depth = 1
        while let child = node.children.first {
            node = child
            depth += 1
        }
        #expect(depth == XMLTree.maximumDepth)
        #expect(node.text == "x")
        #expect(throws: XMLTree.ParseError.tooDeep(limit: XMLTree.maximumDepth)) {
            try XMLTree.parse(Self.nested(XMLTree.maximumDepth + 1))
        }
        // A self-closing element one level too deep counts too.
        #expect(throws: XMLTree.ParseError.tooDeep(limit: XMLTree.maximumDepth)) {
            try XMLTree.parse(Self.nested(XMLTree.maximumDepth, inner: "<b/>"))
        }
    }

    @Test("more elements than the limit are refused; a full page of members is not")
    func elementCount() throws {
        let flood = "<r>" + String(repeating: "<m/>", count: XMLTree.maximumElementCount) + "</r>"
        #expect(throws: XMLTree.ParseError.tooManyElements(limit: XMLTree.maximumElementCount)) {
            try XMLTree.parse(Array(flood.utf8))
        }
        let page =
            "<ListUsersResponse><ListUsersResult><Users>"
            + String(
                repeating:
                    "<member><UserName>u</UserName><UserId>i</UserId><Arn>a</Arn><Path>/</Path><CreateDate>d</CreateDate></member>",
                count: 1000) + "</Users></ListUsersResult></ListUsersResponse>"
        #expect(try XMLTree.parse(Array(page.utf8)).first("Users")?.members.count == 1000)
    }

    @Test("an error message quotes at most a short piece of a tag name")
    func longNamesInMessages() {
        let name = String(repeating: "n", count: 10_000)
        let error = #expect(throws: XMLTree.ParseError.self) { try XMLTree.parse(Array("<\(name)>".utf8)) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("is not closed"))
        #expect(text.count < 200)
    }

    // MARK: - Through the client

    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-key-value")

    /// Calls CreateLoginProfile against a server that answers `status` with `body`.
    static func call(status: Int, body: [UInt8], password: String = "Unused-Passw0rd") async throws -> any Error {
        let server = try await LocalHTTPServer { _ in
            .respond(
                HTTPResponseData(status: status, headers: [(name: "Content-Type", value: "text/html")], body: body))
        }
        defer { Task { await server.stop() } }
        return try await AWSHTTPClient.withClient { transport in
            let iam = IAMClient(
                query: QueryClient(
                    endpoint: .iam(region: "us-east-1", override: server.url), apiVersion: IAMClient.apiVersion,
                    credentials: StaticCredentialProvider(Self.credentials), transport: transport, timeout: .seconds(10)
                ))
            do {
                _ = try await iam.createLoginProfile(userName: "u", password: password, passwordResetRequired: true)
                Issue.record("the call succeeded")
                return CancellationError()
            } catch {
                return error
            }
        }
    }

    @Test("a deeply nested answer, 200 or 400, is an unreadable-response error", arguments: [200, 400, 500])
    func deepAnswer(status: Int) async throws {
        let error = try await Self.call(status: status, body: Self.nested(100_000))
        let clientError = try #require(error as? AWSClientError)
        #expect(clientError.kind == .invalidResponse(httpStatus: status))
        #expect("\(clientError)".count < 600)
    }

    @Test("an HTML 500 page, a truncated error and a huge body show at most a short snippet")
    func hostileBodies() async throws {
        let html = Array(
            ("<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1>"
                + String(repeating: "<p>stack frame goes here</p>", count: 5_000) + "</body></html>").utf8)
        let truncated = Array(
            "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exc".utf8)
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 200_000)
        for (status, body) in [(500, html), (400, truncated), (502, huge), (200, huge)] {
            let error = try await Self.call(status: status, body: body)
            let clientError = try #require(error as? AWSClientError, "HTTP \(status)")
            #expect(clientError.kind == .invalidResponse(httpStatus: status))
            // The detail holds a snippet of at most `snippetLength` characters (plus its `…`)
            // after a short explanation.
            #expect(clientError.detail.count <= Redaction.snippetLength + 150, "HTTP \(status): \(clientError.detail)")
        }
        let page = try #require(try await Self.call(status: 500, body: html) as? AWSClientError)
        #expect(page.detail.contains("500 Internal Server Error Internal Server Error stack frame"))
        #expect(page.detail.hasSuffix("…"))
    }
}
