import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// Passwords echoed back by a server, in every spelling, never reach an error.
@Suite("Redaction of echoed secrets")
struct RedactionTests {
    @Test("each spelling of each hostile password is redacted", arguments: PasswordEncodings.hostilePasswords)
    func everySpelling(password: String) {
        for form in PasswordEncodings.all(password) {
            let message = "Password \(form.text) does not meet the policy"
            let scrubbed = Redaction.scrub(message, secrets: [password])
            #expect(
                PasswordEncodings.leaks(of: password, in: scrubbed).isEmpty,
                "\(form.name): \(scrubbed) leaks \(PasswordEncodings.leaks(of: password, in: scrubbed))")
            #expect(scrubbed.contains(Redaction.placeholder), "\(form.name): \(scrubbed)")
            #expect(scrubbed.hasPrefix("Password"), "\(form.name): \(scrubbed)")
            #expect(scrubbed.hasSuffix("does not meet the policy"), "\(form.name): \(scrubbed)")
        }
    }

    @Test("text around the secret is kept as it was")
    func surroundings() {
        #expect(Redaction.scrub("pw a%20b%26c&amp;d. ok", secrets: ["a b&c&d"]) == "pw <redacted>. ok")
        #expect(Redaction.scrub("pw Abc1 and Abc1", secrets: ["Abc1"]) == "pw <redacted> and <redacted>")
        #expect(Redaction.scrub("the cat", secrets: ["cat"]) == "the cat")
        #expect(Redaction.scrub("an ééé", secrets: ["ééé"]) == "an ééé")
        #expect(Redaction.scrub("pw Grüße!", secrets: ["Grüße"]) == "pw <redacted>!")
        #expect(Redaction.scrub("pw Gru\u{308}ße!", secrets: ["Grüße"]) == "pw <redacted>!")
        #expect(Redaction.scrub("nothing here", secrets: ["Hunter2-Secret", ""]) == "nothing here")
        #expect(Redaction.scrub("100% sure & <ok>", secrets: ["Hunter2-Secret"]) == "100% sure & <ok>")
    }

    @Test(
        "fragments: a prefix or suffix of at least minimumFragmentLength characters is redacted, shorter ones are not")
    func fragments() {
        let secret = "Correct-Horse-Battery"
        #expect(Redaction.minimumFragmentLength == 6)
        #expect(Redaction.scrub("cut: Correc", secrets: [secret]) == "cut: <redacted>")
        #expect(Redaction.scrub("cut: attery end", secrets: [secret]) == "cut: <redacted> end")
        #expect(Redaction.scrub("cut: Corre", secrets: [secret]) == "cut: Corre")
        #expect(Redaction.scrub("cut: ttery", secrets: [secret]) == "cut: ttery")
        // Percent-encoded and truncated at once.
        #expect(Redaction.scrub("cut: Correct%2DHo", secrets: [secret]) == "cut: <redacted>")
    }

    @Test("Latin-1 bytes (a server answering in ISO-8859-1) are matched too")
    func latin1Bytes() {
        let password = "Grüße-Straße"
        var body = Array("pw: ".utf8)
        body += password.unicodeScalars.map { UInt8($0.value) }
        body += Array(" end".utf8)
        #expect(Redaction.snippet(body, secrets: [password]) == "pw: <redacted> end")
    }

    @Test("snippets: markup dropped, at most snippetLength characters, the placeholder kept")
    func snippets() {
        let page = "<html><body><h1>Oops</h1>\(String(repeating: "word ", count: 500))</body></html>"
        let snippet = Redaction.snippet(Array(page.utf8), secrets: [])
        #expect(snippet.hasPrefix("Oops word word"))
        #expect(snippet.count == Redaction.snippetLength + 1)
        #expect(snippet.hasSuffix("…"))
        let secret = "ab<cd ef>gh-secret"
        let echoed = Redaction.snippet(Array("<p>bad: \(secret)</p>".utf8), secrets: [secret])
        #expect(echoed == "bad: <redacted>")
        #expect(Redaction.snippet(Array("x < y".utf8), secrets: []) == "x < y")
    }

    @Test("messages and fields are cut at their limits")
    func lengths() {
        let long = String(repeating: "m", count: 5000)
        #expect(Redaction.message(long, secrets: []).count == Redaction.maximumMessageLength + 1)
        #expect(Redaction.field(long, secrets: []).count == Redaction.maximumFieldLength + 1)
        #expect(Redaction.message("short", secrets: []) == "short")
        // A secret past the scanned part is not looked at, and not shown: the text is cut first.
        let far = String(repeating: "y", count: Redaction.maximumScannedBytes) + "Hunter2-Secret"
        #expect(!Redaction.scrub(far, secrets: ["Hunter2-Secret"]).contains("Hunter2"))
    }

    // MARK: - Through the client

    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-key-value")

    enum Shape: String, CaseIterable, Sendable {
        /// An XML error whose Message (and Code, and RequestId) echo the password.
        case xmlError
        /// An HTML 500 page echoing it.
        case htmlPage
        /// A 200 answer that is not well-formed, echoing it.
        case malformedSuccess
    }

    /// A server that echoes the password it receives back in every spelling, in `shape`.
    static func hostileServer(_ shape: Shape) async throws -> LocalHTTPServer {
        try await LocalHTTPServer { request in
            let password = request.formParameters["Password"] ?? ""
            let forms = PasswordEncodings.all(password).map(\.text)
            switch shape {
            case .xmlError:
                let message = forms.map { "[\(PasswordEncodings.xmlEscaped($0))]" }.joined(separator: " ")
                let body =
                    "<ErrorResponse><Error><Type>Sender</Type><Code>PasswordPolicyViolation \(PasswordEncodings.xmlEscaped(password))</Code><Message>Password \(message) is weak</Message></Error><RequestId>\(PasswordEncodings.xmlEscaped(forms[1]))</RequestId></ErrorResponse>"
                return .respond(HTTPResponseData(status: 400, body: Array(body.utf8)))
            case .htmlPage:
                let body = "<html><body>" + forms.map { "<p>\($0)</p>" }.joined() + "</body></html>"
                return .respond(HTTPResponseData(status: 500, body: Array(body.utf8)))
            case .malformedSuccess:
                let body = "<CreateLoginProfileResponse>" + forms.joined(separator: " | ")
                return .respond(HTTPResponseData(status: 200, body: Array(body.utf8)))
            }
        }
    }

    @Test(
        "a hostile server echoing the password in every spelling: the error shows none",
        arguments: Shape.allCases, PasswordEncodings.hostilePasswords)
    func throughTheClient(shape: Shape, password: String) async throws {
        let server = try await Self.hostileServer(shape)
        defer { Task { await server.stop() } }
        let error: any Error = try await AWSHTTPClient.withClient { transport in
            let iam = IAMClient(
                query: QueryClient(
                    endpoint: .iam(region: "us-east-1", override: server.url), apiVersion: IAMClient.apiVersion,
                    credentials: StaticCredentialProvider(Self.credentials), transport: transport, timeout: .seconds(10)
                ))
            do {
                _ = try await iam.createLoginProfile(userName: "u", password: password, passwordResetRequired: true)
                return CancellationError()
            } catch {
                return error
            }
        }
        let texts = ["\(error)", String(reflecting: error)]
        for text in texts {
            #expect(PasswordEncodings.leaks(of: password, in: text).isEmpty, "\(shape): leaks in \(text)")
        }
        switch shape {
        case .xmlError:
            let serviceError = try #require(error as? AWSServiceError)
            #expect(serviceError.message.hasPrefix("Password ["))
            #expect(serviceError.message.hasSuffix("] is weak"))
            #expect(serviceError.code.hasPrefix("PasswordPolicyViolation"))
        case .htmlPage, .malformedSuccess:
            #expect(error is AWSClientError)
        }
    }
}
