import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// The credential report's body filter (`CredentialReportStream`) fed as the transport feeds it:
/// IAM's answer in chunks cut anywhere, the Content decoded into a spooled file, everything else
/// kept for `QueryClient`. Wire tests are in `CredentialReportWireTests`.
@Suite("Credential report Content, streamed")
struct CredentialReportStreamTests {
    /// IAM's answer around `content` (the Content element's text as sent).
    static func answer(_ content: String, requestId: String = "req-1") -> [UInt8] {
        Array(
            ("<GetCredentialReportResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                + "<GetCredentialReportResult><Content>\(content)</Content><ReportFormat>text/csv</ReportFormat>"
                + "<GeneratedTime>2026-01-02T03:04:05Z</GeneratedTime></GetCredentialReportResult>"
                + "<ResponseMetadata><RequestId>\(requestId)</RequestId></ResponseMetadata>"
                + "</GetCredentialReportResponse>").utf8)
    }

    /// What one run of the filter made: what it kept, and the report or the error.
    struct Outcome {
        var kept: [UInt8] = []
        var report: Result<[UInt8], any Error>
        /// Files left in the spool directory once the run's stream is gone.
        var leftBehind: [String]

        var error: String? {
            if case .failure(let error) = report { return "\(error)" }
            return nil
        }
    }

    /// Feeds `body` to a new stream in chunks ending at `cuts`, then finishes it as
    /// `getCredentialReport` does (a throw while fed abandons it).
    static func run(_ body: [UInt8], cuts: [Int] = [], maxBytes: Int = 1 << 20) throws -> Outcome {
        let directory = try TemporaryDirectory()
        var kept: [UInt8] = []
        let report: Result<[UInt8], any Error> = {
            do {
                let stream = CredentialReportStream(
                    maxBytes: maxBytes, writer: try SpooledFileWriter(prefix: "report", directory: directory.path))
                do {
                    var start = 0
                    for end in cuts.filter({ $0 > 0 && $0 < body.count }) + [body.count] where end >= start {
                        try body[start..<end].withUnsafeBytes { try stream.filter($0, status: 200, keeping: &kept) }
                        start = end
                    }
                } catch {
                    throw stream.abandon(after: error)
                }
                return .success(try stream.finish(status: 200).readAll())
            } catch {
                return .failure(error)
            }
        }()
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return Outcome(kept: kept, report: report, leftBehind: left)
    }

    static let csv = Array(
        ("user,arn,user_creation_time,password_enabled\n"
            + (0..<12).map { "user-\($0),arn:aws:iam::123456789012:user/user-\($0),2024-01-01T00:00:00+00:00,true\n" }
            .joined()).utf8)

    @Test("the Content cut at every byte between two chunks, and one byte a chunk: the same file, the rest kept")
    func everyCut() throws {
        let body = Self.answer(Data(Self.csv).base64EncodedString(options: [.lineLength76Characters]))
        let expectedKept = Self.answer("")
        for cut in 0...body.count {
            let outcome = try Self.run(body, cuts: [cut])
            #expect(try outcome.report.get() == Self.csv, "cut at \(cut)")
            #expect(outcome.kept == expectedKept, "cut at \(cut)")
            #expect(outcome.leftBehind.isEmpty)
        }
        let bytewise = try Self.run(body, cuts: Array(1..<body.count))
        #expect(try bytewise.report.get() == Self.csv)
        #expect(bytewise.kept == expectedKept)
    }

    @Test("what is kept parses as the answer did: empty Content, format, time and request id")
    func keptAnswer() async throws {
        let directory = try TemporaryDirectory()
        let body = Self.answer(Data(Self.csv).base64EncodedString(), requestId: "9f2c")
        // A transport holding whole answers: the filter sees the body once it has arrived.
        let query = QueryClient(
            endpoint: .iam(region: "us-east-1", override: "https://iam.example"), apiVersion: IAMClient.apiVersion,
            credentials: StaticCredentialProvider(QueryClientTests.credentials),
            transport: Whole(response: HTTPResponseData(status: 200, body: body)))
        let result = try await IAMClient(query: query).getCredentialReport(
            maxBytes: 1 << 20, spoolDirectory: directory.path)
        #expect(result.requestId == "9f2c")
        #expect(result.value.format == "text/csv")
        #expect(result.value.generatedTime == ISO8601.parse("2026-01-02T03:04:05Z"))
        #expect(try result.value.csv.readAll() == Self.csv)
        #expect(result.value.csv.byteCount == Self.csv.count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 1)
        let tree = try XMLTree.parse(Self.answer(""))
        #expect(tree.child(path: "GetCredentialReportResult", "Content")?.text == "")
    }

    /// A transport that holds whole answers (the protocol's default filtering applies).
    struct Whole: HTTPTransport {
        let response: HTTPResponseData
        func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData { response }
    }

    @Test("blanks anywhere in the Content: spaces, tabs, CR LF, a break after every character")
    func blanks() throws {
        let encoded = Data(Self.csv).base64EncodedString()
        for separator in ["\n", "\r\n", " ", "\t", " \r\n\t "] {
            let spread = encoded.map { String($0) }.joined(separator: separator)
            let outcome = try Self.run(Self.answer(separator + spread + separator), cuts: [100, 101, 777])
            #expect(try outcome.report.get() == Self.csv, "separator \(Array(separator.utf8))")
        }
        let lines = Data(Self.csv).base64EncodedString(options: [.lineLength64Characters, .endLineWithCarriageReturn])
        #expect(try Self.run(Self.answer("\n" + lines + "\n")).report.get() == Self.csv)
    }

    @Test("padding: one, two or no '=' decode; '=' anywhere else is refused, naming where")
    func padding() throws {
        for length in 1...6 {
            let bytes = Array(Self.csv.prefix(length))
            let encoded = Data(bytes).base64EncodedString()
            #expect(try Self.run(Self.answer(encoded)).report.get() == bytes, "\(encoded)")
        }
        for (text, offset) in [("QQ==QQ==", 5), ("Q===", 2), ("QQ=A", 4), ("====", 1), ("QUJD=", 5), ("QUI==", 5)] {
            let outcome = try Self.run(Self.answer(text))
            #expect(
                outcome.error?.contains("not valid base64 ('=' padding at character \(offset) is not at its end)")
                    == true, "\(text): \(outcome.error ?? "accepted")")
            #expect(outcome.leftBehind.isEmpty)
        }
    }

    @Test("cut short: a length that is not a multiple of 4 is refused and no file is left")
    func cutShort() throws {
        let encoded = Data(Self.csv).base64EncodedString()
        for drop in [1, 2, 3, 5] {
            let outcome = try Self.run(Self.answer(String(encoded.dropLast(drop))), cuts: [50])
            let characters = encoded.count - drop
            #expect(
                outcome.error
                    == "GetCredentialReport failed: unreadable response (HTTP 200): the report Content is not valid base64 (its \(characters) characters, blanks aside, are not a multiple of 4: cut short?)"
            )
            #expect(outcome.leftBehind.isEmpty)
        }
    }

    @Test("past the limit: refused as it streams, at one byte over, the file removed; at the limit, read")
    func limit() throws {
        let report = Array(repeating: UInt8(ascii: "A"), count: 301)
        let over = try Self.run(Self.answer(Data(report).base64EncodedString()), cuts: [120], maxBytes: 300)
        #expect(
            over.error?.contains("the credential report is larger than 300 bytes (the limit); it was not read") == true)
        #expect(over.leftBehind.isEmpty)
        let exact = try Self.run(Self.answer(Data(report.prefix(300)).base64EncodedString()), maxBytes: 300)
        #expect(try exact.report.get().count == 300)
        // A flood of blanks inside the Content is refused too: what is read stays bounded.
        let flood = try Self.run(Self.answer("QUJD" + String(repeating: " ", count: 10_000)), maxBytes: 300)
        #expect(flood.error?.contains("the report Content is longer than a report of 300 bytes") == true)
        #expect(flood.leftBehind.isEmpty)
    }

    @Test("not base64: a stray character, an element or an entity inside the Content is refused")
    func notBase64() throws {
        for (text, shown) in [
            ("!!!not base64!!!", "'!' at character 1"), ("QUJD-_==", "'-' at character 5"),
            ("QUJD<b>x</b>", "'<' at character 5"), ("QUJD&#13;", "'&' at character 5"),
            ("QUJD\u{0}", "byte 0 at character 5"), ("QUJD\u{E9}", "byte 195 at character 5"),
        ] {
            let outcome = try Self.run(Self.answer(text), cuts: [140])
            #expect(outcome.error?.contains("the report Content is not valid base64 (\(shown))") == true, "\(text)")
            #expect(outcome.error?.hasPrefix("GetCredentialReport failed: unreadable response (HTTP 200)") == true)
            #expect(outcome.leftBehind.isEmpty)
        }
    }

    @Test("no Content: missing, empty, blank or self-closed is 'no report Content'")
    func noContent() throws {
        let missing = Array(
            "<GetCredentialReportResponse><GetCredentialReportResult><ReportFormat>text/csv</ReportFormat></GetCredentialReportResult></GetCredentialReportResponse>"
                .utf8)
        let selfClosed = Array(
            "<GetCredentialReportResponse><GetCredentialReportResult><Content/></GetCredentialReportResult></GetCredentialReportResponse>"
                .utf8)
        for body in [missing, selfClosed, Self.answer(""), Self.answer(" \n\t ")] {
            let outcome = try Self.run(body, cuts: [30])
            #expect(outcome.error?.hasSuffix("the response has no report Content") == true)
            #expect(outcome.kept == (body == missing || body == selfClosed ? body : Self.answer("")))
            #expect(outcome.leftBehind.isEmpty)
        }
        let unclosed = try Self.run(Array(Self.answer("QUJD").prefix(120)))
        #expect(unclosed.error?.hasSuffix("the response ended inside the report Content") == true)
    }

    @Test("2,000 random reports decode to their bytes in random chunks; cut ones are refused")
    func randomReports() throws {
        var rng = SplitMix64(seed: 64)
        for index in 0..<2_000 {
            let bytes = (0..<Int.random(in: 1..<600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let options: Data.Base64EncodingOptions =
                index % 2 == 0 ? [] : [.lineLength76Characters, .endLineWithLineFeed]
            let encoded = Data(bytes).base64EncodedString(options: options)
            let body = Self.answer(encoded)
            let cuts = (0..<3).map { _ in Int.random(in: 0...body.count, using: &rng) }.sorted()
            let outcome = try Self.run(body, cuts: cuts, maxBytes: 1_000)
            #expect(try outcome.report.get() == bytes)
            let cut = String(encoded.dropLast(Int.random(in: 1...3, using: &rng)))
            if cut.filter({ !$0.isWhitespace }).count % 4 != 0 {
                let refused = try Self.run(Self.answer(cut), cuts: cuts, maxBytes: 1_000)
                #expect(refused.error?.contains("not valid base64") == true)
                #expect(refused.leftBehind.isEmpty)
            }
        }
    }
}
