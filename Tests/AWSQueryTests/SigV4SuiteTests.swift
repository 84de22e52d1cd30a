import Foundation
import Testing

@testable import AWSQuery

/// Runs AWS's own SigV4 test suite (header signing), vendored beside this file under
/// `aws-signing-test-suite/` with its Apache-2.0 LICENSE and NOTICE, and compares canonical
/// request, string to sign, signature and signed request exactly. A missing case fails: the
/// cases are listed here, not discovered, so a lost folder cannot shrink the suite silently.
@Suite("SigV4 signing test suite")
struct SigV4SuiteTests {
    static let suiteRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("aws-signing-test-suite/v4")

    /// Every case of the suite (v4, 38 cases). The suite's `query-*` (presigned URL) expectations
    /// are not used because the client only signs with headers.
    static let caseNames: [String] = [
        "get-header-key-duplicate", "get-header-value-multiline", "get-header-value-order", "get-header-value-trim",
        "get-relative-normalized", "get-relative-relative-normalized", "get-relative-relative-unnormalized",
        "get-relative-unnormalized", "get-slash-dot-slash-normalized", "get-slash-dot-slash-unnormalized",
        "get-slash-normalized", "get-slash-pointless-dot-normalized", "get-slash-pointless-dot-unnormalized",
        "get-slash-unnormalized", "get-slashes-normalized", "get-slashes-unnormalized", "get-space-normalized",
        "get-space-unnormalized", "get-unreserved", "get-utf8", "get-vanilla", "get-vanilla-empty-query-key",
        "get-vanilla-query", "get-vanilla-query-order-encoded", "get-vanilla-query-order-key-case",
        "get-vanilla-query-unreserved", "get-vanilla-utf8-query", "get-vanilla-with-session-token",
        "post-header-key-case", "post-header-key-sort", "post-header-value-case", "post-sts-header-after",
        "post-sts-header-before", "post-vanilla", "post-vanilla-empty-query-value", "post-vanilla-query",
        "post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters",
    ]

    static let caseFiles = [
        "context.json", "request.txt", "header-canonical-request.txt", "header-string-to-sign.txt",
        "header-signature.txt", "header-signed-request.txt",
    ]

    @Test("the vendored suite has its license, its notice and every file of all 38 cases")
    func suiteIsComplete() {
        #expect(Self.caseNames.count == 38)
        let root = Self.suiteRoot.deletingLastPathComponent()
        for file in ["LICENSE", "NOTICE"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file)")
        }
        for name in Self.caseNames {
            for file in Self.caseFiles {
                let path = Self.suiteRoot.appendingPathComponent(name).appendingPathComponent(file).path
                #expect(FileManager.default.fileExists(atPath: path), "missing \(name)/\(file)")
            }
        }
        // No case on disk that the list above does not run.
        let onDisk = (try? FileManager.default.contentsOfDirectory(atPath: Self.suiteRoot.path)) ?? []
        #expect(Set(onDisk.filter { !$0.hasPrefix(".") }) == Set(Self.caseNames))
    }

    @Test("header signing matches AWS's expected output", arguments: caseNames)
    func signingCase(_ name: String) throws {
        let folder = Self.suiteRoot.appendingPathComponent(name)
        let context = try JSONDecoder().decode(
            SuiteContext.self, from: Data(contentsOf: folder.appendingPathComponent("context.json")))
        let request = try SuiteRequest.parse(try Data(contentsOf: folder.appendingPathComponent("request.txt")))
        let expected = { (file: String) in
            try String(decoding: Data(contentsOf: folder.appendingPathComponent(file)), as: UTF8.self)
        }

        let credentials = AWSCredentials(
            accessKeyId: context.credentials.accessKeyId, secretAccessKey: context.credentials.secretAccessKey,
            sessionToken: context.credentials.token)
        let signer = SigV4Signer(
            credentials: credentials, region: context.region, service: context.service,
            options: .init(
                normalizePath: context.normalize, signBody: context.signBody,
                omitSessionToken: context.omitSessionToken ?? false))
        let date = try #require(ISO8601.parse(context.timestamp))
        let result = signer.sign(
            SignableRequest(
                method: request.method, path: request.path, query: request.query, headers: request.headers,
                body: request.body), date: date)

        #expect(result.canonicalRequest == (try expected("header-canonical-request.txt")))
        #expect(result.stringToSign == (try expected("header-string-to-sign.txt")))
        #expect(
            result.signature == (try expected("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
        let expectedSigned = try SuiteRequest.parse(
            Data(contentsOf: folder.appendingPathComponent("header-signed-request.txt")))
        let expectedAuthorization = try #require(expectedSigned.headers.first { $0.name == "Authorization" }?.value)
        #expect(result.authorization == expectedAuthorization)
        // Every header of the expected signed request is present with the same value.
        for header in expectedSigned.headers {
            let ours = result.signedRequest.headers.filter { $0.name.lowercased() == header.name.lowercased() }
            #expect(
                ours.contains { SigV4Signer.foldSpaces($0.value) == SigV4Signer.foldSpaces(header.value) },
                "header \(header.name)")
        }
    }
}

struct SuiteContext: Decodable {
    struct Credentials: Decodable {
        let accessKeyId: String
        let secretAccessKey: String
        let token: String?

        enum CodingKeys: String, CodingKey {
            case accessKeyId = "access_key_id"
            case secretAccessKey = "secret_access_key"
            case token
        }
    }
    let credentials: Credentials
    let normalize: Bool
    let region: String
    let service: String
    let signBody: Bool
    let timestamp: String
    let omitSessionToken: Bool?

    enum CodingKeys: String, CodingKey {
        case credentials, normalize, region, service, timestamp
        case signBody = "sign_body"
        case omitSessionToken = "omit_session_token"
    }
}

/// A raw HTTP request as the suite writes it: request line, headers (continuation lines start
/// with white space, names may repeat), a blank line, the body.
struct SuiteRequest {
    var method: String
    var path: String
    var query: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    struct Malformed: Error {}

    static func parse(_ data: Data) throws -> SuiteRequest {
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.components(separatedBy: "\n")
        guard !lines.isEmpty else { throw Malformed() }
        let requestLine = lines.removeFirst()
        guard let firstSpace = requestLine.firstIndex(of: " "),
            let lastSpace = requestLine.range(of: " HTTP/", options: .backwards)?.lowerBound
        else { throw Malformed() }
        let method = String(requestLine[..<firstSpace])
        let target = String(requestLine[requestLine.index(after: firstSpace)..<lastSpace])
        var path = target
        var query = ""
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        }
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String] = []
        var inBody = false
        for line in lines {
            if inBody {
                bodyLines.append(line)
                continue
            }
            if line.isEmpty {
                inBody = true
                continue
            }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw Malformed() }
            headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
        }
        return SuiteRequest(
            method: method, path: path, query: query, headers: headers,
            body: Array(bodyLines.joined(separator: "\n").utf8))
    }
}
