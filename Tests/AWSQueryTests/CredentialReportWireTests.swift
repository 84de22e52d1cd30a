import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// `GetCredentialReport` through the real client (NIOHTTP1 over loopback) against a scripted
/// server: the report streams into its spooled file whatever its size (the client's in-memory
/// body limit is set far below it), a report past the limit, an endless answer or a broken
/// connection leaves no file behind, and error answers are read as always.
@Suite("Credential report on the wire")
struct CredentialReportWireTests {
    /// A report of `users` rows as IAM makes them (about 330 bytes a user).
    static func report(users: Int) -> [UInt8] {
        var text =
            "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
            + "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
            + "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service\n"
        for index in 0..<users {
            text +=
                "user-\(index),arn:aws:iam::123456789012:user/team-\(index % 97)/user-\(index),"
                + "2024-01-01T00:00:00+00:00,true,2025-06-\(10 + index % 19)T08:00:00+00:00,"
                + "2024-03-01T00:00:00+00:00,N/A,\(index % 3 == 0),true,2024-02-01T00:00:00+00:00,"
                + "2025-06-01T00:00:00+00:00,us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        }
        return Array(text.utf8)
    }

    static func xml(_ content: String) -> [UInt8] { CredentialReportStreamTests.answer(content, requestId: "wire-1") }

    /// A 200 answer with `body`: Content-Length framed, or chunked in pieces of `sizes` (cycled).
    static func ok(_ body: [UInt8], chunkSizes sizes: [Int]? = nil) -> [UInt8] {
        guard let sizes else {
            return Array("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
                + body
        }
        var answer = Array("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var start = 0
        var index = 0
        while start < body.count {
            let end = min(body.count, start + sizes[index % sizes.count])
            answer += Array("\(String(end - start, radix: 16))\r\n".utf8) + body[start..<end] + Array("\r\n".utf8)
            start = end
            index += 1
        }
        return answer + Array("0\r\n\r\n".utf8)
    }

    /// Runs `body` with an IAM client on `server` whose in-memory body limit is
    /// `maxResponseBytes`, and a spool directory checked by the test.
    func withIAM<T: Sendable>(
        _ server: ScriptedServer, maxResponseBytes: Int = 64 * 1024, timeout: Duration = .seconds(20),
        _ body: (IAMClient, TemporaryDirectory) async throws -> T
    ) async throws -> T {
        var settings = HTTPSettings()
        settings.maxResponseBytes = maxResponseBytes
        let directory = try TemporaryDirectory()
        do {
            let result = try await AWSHTTPClient.withClient(settings: settings) { transport in
                let query = QueryClient(
                    endpoint: .iam(region: "us-east-1", override: server.url), apiVersion: IAMClient.apiVersion,
                    credentials: StaticCredentialProvider(QueryClientTests.credentials), transport: transport,
                    timeout: timeout)
                return try await body(IAMClient(query: query), directory)
            }
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static func files(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
    }

    @Test(
        "20,000 users (several MB) arrive in many chunks, in memory at most 64 KiB: the file holds the report's bytes",
        arguments: [("chunked, one line as moto sends it", true), ("Content-Length, lines of 76 with CR LF", false)])
    func largeReport(framing: String, chunked: Bool) async throws {
        let report = Self.report(users: 20_000)
        #expect(report.count > 5_000_000)
        let encoded = Data(report).base64EncodedString(
            options: chunked ? [] : [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let answer = Self.ok(Self.xml(encoded), chunkSizes: chunked ? [1, 7, 4093, 2, 65_537, 13, 16_411, 3] : nil)
        let server = try await ScriptedServer { _, _ in .respondBytes(answer) }
        try await withIAM(server) { iam, directory in
            let result = try await iam.getCredentialReport(
                maxBytes: IAMClient.maxCredentialReportBytes, spoolDirectory: directory.path)
            #expect(result.requestId == "wire-1")
            #expect(result.value.format == "text/csv")
            #expect(result.value.generatedTime == ISO8601.parse("2026-01-02T03:04:05Z"))
            #expect(result.value.csv.byteCount == report.count)
            #expect(try result.value.csv.readAll() == report, "\(framing)")
            #expect(try Self.files(directory).count == 1)
            let path = result.value.csv.path
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        }
    }

    @Test("a report over maxBytes is refused while it streams, and no file is left")
    func overLimit() async throws {
        let report = Self.report(users: 7_000)
        let answer = Self.ok(Self.xml(Data(report).base64EncodedString()), chunkSizes: [8_192])
        let server = try await ScriptedServer { _, _ in .respondBytes(answer) }
        try await withIAM(server) { iam, directory in
            let error = await #expect(throws: AWSClientError.self) {
                _ = try await iam.getCredentialReport(maxBytes: 1 << 20, spoolDirectory: directory.path)
            }
            #expect(error?.kind == .invalidResponse(httpStatus: 200))
            #expect(
                error?.description
                    == "GetCredentialReport failed: unreadable response (HTTP 200): the credential report is larger than 1048576 bytes (the limit); it was not read"
            )
            let left = try Self.files(directory)
            #expect(left.isEmpty)
        }
    }

    static let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n"
    static let opening =
        "<GetCredentialReportResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetCredentialReportResult><Content>"

    @Test(
        "an endless answer is read only so far: base64, blanks inside the Content, or XML after it",
        arguments: [
            ("base64", opening, "QUFB", "larger than 1048576 bytes (the limit)"),
            ("blanks", opening + "QUFB", " \r\n\t", "the report Content is longer than a report of 1048576 bytes"),
            ("XML after", opening + "QUFB</Content>", "<x/>", "body larger than 65536 bytes"),
        ])
    func endless(name: String, prefix: String, repeating: String, expected: String) async throws {
        let server = try await ScriptedServer { _, _ in .endless(prefix: Self.head + prefix, repeating: repeating) }
        try await withIAM(server) { iam, directory in
            let error = await #expect(throws: AWSClientError.self) {
                _ = try await iam.getCredentialReport(maxBytes: 1 << 20, spoolDirectory: directory.path)
            }
            #expect(error?.description.contains(expected) == true, "\(name): \(String(describing: error))")
            #expect(error?.retryClass == .never)
            let left = try Self.files(directory)
            #expect(left.isEmpty)
        }
        // What the client read is bounded by the limits (socket buffers aside), not by the server.
        #expect(server.endlessBytesSent.withLockedValue { $0 } < 32 << 20, "\(name)")
    }

    @Test("the connection closed in the middle of the Content: a connection error, no file; the next call works")
    func droppedMidContent() async throws {
        let report = Self.report(users: 2_000)
        let whole = Self.ok(Self.xml(Data(report).base64EncodedString()))
        let server = try await ScriptedServer { connection, _ in
            connection == 0
                ? .respondBytes(Array(whole.prefix(whole.count / 2)), thenClose: true) : .respondBytes(whole)
        }
        try await withIAM(server) { iam, directory in
            let error = await #expect(throws: AWSClientError.self) {
                _ = try await iam.getCredentialReport(maxBytes: 1 << 20, spoolDirectory: directory.path)
            }
            #expect(error?.kind == .connection, "\(String(describing: error))")
            #expect(error?.description.contains("closed the connection before the response was complete") == true)
            #expect(error?.retryClass == .transient, "a drop is retried (RetryingIAM calls again, with a new file)")
            let left = try Self.files(directory)
            #expect(left.isEmpty)
            // A new attempt makes a new file.
            let result = try await iam.getCredentialReport(maxBytes: 1 << 20, spoolDirectory: directory.path)
            #expect(try result.value.csv.readAll() == report)
            #expect(try Self.files(directory).count == 1)
        }
    }

    @Test("a server that stops in the middle of the Content: a timeout, no file")
    func stalledMidContent() async throws {
        let whole = Self.ok(Self.xml(Data(Self.report(users: 500)).base64EncodedString()))
        let server = try await ScriptedServer { _, _ in .respondBytes(Array(whole.prefix(whole.count / 2))) }
        try await withIAM(server, timeout: .seconds(1)) { iam, directory in
            let error = await #expect(throws: AWSClientError.self) {
                _ = try await iam.getCredentialReport(maxBytes: 1 << 20, spoolDirectory: directory.path)
            }
            #expect(error?.kind == .timeout)
            let left = try Self.files(directory)
            #expect(left.isEmpty)
        }
    }

    @Test(
        "error answers are read as always: ReportNotPresent (410), ReportInProgress (404), no file",
        arguments: [("ReportNotPresent", 410), ("ReportInProgress", 404)])
    func errorAnswers(code: String, status: Int) async throws {
        let body =
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
            + "<Code>\(code)</Code><Message>State: \(code)</Message></Error><RequestId>err-1</RequestId></ErrorResponse>"
        let answer =
            "HTTP/1.1 \(status) Error\r\nContent-Type: text/xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let server = try await ScriptedServer { _, _ in .respond(answer) }
        try await withIAM(server) { iam, directory in
            let error = await #expect(throws: AWSServiceError.self) {
                _ = try await iam.getCredentialReport(maxBytes: 1 << 20, spoolDirectory: directory.path)
            }
            #expect(error?.code == code)
            #expect(error?.errorCode == AWSErrorCode(code))
            #expect(error?.httpStatus == status)
            #expect(error?.requestId == "err-1")
            #expect(error?.message == "State: \(code)")
            let left = try Self.files(directory)
            #expect(left.isEmpty)
        }
    }
}
