import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

/// The Query client on the wire, against loopback servers that answer what AWS (and the things
/// in front of it) can answer: paging, both error shapes, HTML pages, dropped connections.
@Suite("Query client on the wire")
struct QueryClientTests {
    static let credentials = AWSCredentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        sessionToken: "session-token-value-123")

    /// Runs `body` with an IAM client pointed at a local server answering with `handler`.
    func withServer<T: Sendable>(
        logger: Logger = Logger(label: "test"), clock: @escaping @Sendable () -> Date = Date.init,
        _ handler: @escaping LocalHTTPServer.Handler, _ body: (IAMClient, LocalHTTPServer) async throws -> T
    ) async throws -> T {
        let server = try await LocalHTTPServer(handler: handler)
        do {
            let result = try await AWSHTTPClient.withClient { transport in
                let query = QueryClient(
                    endpoint: .iam(region: "us-east-1", override: server.url), apiVersion: IAMClient.apiVersion,
                    credentials: StaticCredentialProvider(Self.credentials), transport: transport, logger: logger,
                    timeout: .seconds(5), clock: clock)
                return try await body(IAMClient(query: query), server)
            }
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static func xml(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> ServerReply {
        .respond(
            HTTPResponseData(
                status: status, headers: [(name: "Content-Type", value: "text/xml")] + headers, body: Array(body.utf8)))
    }

    @Test("a request is a signed form POST with every parameter encoded")
    func requestShape() async throws {
        let seen = NIOLockedValueBox<[ReceivedRequest]>([])
        try await withServer({ request in
            seen.withLockedValue { $0.append(request) }
            return Self.xml(
                200,
                "<UpdateLoginProfileResponse><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></UpdateLoginProfileResponse>"
            )
        }) { iam, server in
            let result = try await iam.updateLoginProfile(
                userName: "alice+ops@example.com", password: "p&ss=w+rd %20 ~ü", passwordResetRequired: true)
            #expect(result.requestId == "req-1")
            let request = try #require(seen.withLockedValue { $0.first })
            #expect(request.method == "POST")
            #expect(request.uri == "/")
            #expect(request.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
            #expect(request.header("Host") == "127.0.0.1:\(server.port)")
            #expect(request.header("X-Amz-Security-Token") == "session-token-value-123")
            let authorization = try #require(request.header("Authorization"))
            #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
            #expect(authorization.contains("/us-east-1/iam/aws4_request"))
            #expect(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"))
            #expect(
                request.bodyString
                    == "Action=UpdateLoginProfile&Version=2010-05-08&UserName=alice%2Bops%40example.com&Password=p%26ss%3Dw%2Brd%20%2520%20~%C3%BC&PasswordResetRequired=true"
            )
            #expect(request.formParameters["Password"] == "p&ss=w+rd %20 ~ü")
        }
    }

    @Test("list calls follow IsTruncated and Marker across pages")
    func paging() async throws {
        let markers = NIOLockedValueBox<[String?]>([])
        try await withServer({ request in
            let marker = request.formParameters["Marker"]
            markers.withLockedValue { $0.append(marker) }
            let (names, next): ([String], String?) =
                switch marker {
                case nil: (["u1", "u2"], "m1")
                case "m1": (["u3", "u4"], "m2")
                default: (["u5"], nil)
                }
            let members = names.map {
                "<member><UserName>\($0)</UserName><UserId>id-\($0)</UserId><Arn>arn:aws:iam::123456789012:user/\($0)</Arn><Path>/</Path><CreateDate>2024-01-02T03:04:05Z</CreateDate></member>"
            }.joined()
            let truncation =
                next.map { "<IsTruncated>true</IsTruncated><Marker>\($0)</Marker>" }
                ?? "<IsTruncated>false</IsTruncated>"
            return Self.xml(
                200,
                "<ListUsersResponse><ListUsersResult><Users>\(members)</Users>\(truncation)</ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>"
            )
        }) { iam, _ in
            let users = try await iam.listUsers(pageSize: 2).value
            #expect(users.map(\.userName) == ["u1", "u2", "u3", "u4", "u5"])
            #expect(users.first?.createDate == ISO8601.parse("2024-01-02T03:04:05Z"))
            #expect(markers.withLockedValue { $0 } == [nil, "m1", "m2"])
        }
    }

    @Test("<ErrorResponse><Error> gives code, message, status, request id and fault")
    func errorShapeSingle() async throws {
        try await withServer({ _ in
            Self.xml(
                409,
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>EntityAlreadyExists</Code><Message>Login Profile for user bob already exists.</Message></Error><RequestId>rid-409</RequestId></ErrorResponse>"
            )
        }) { iam, _ in
            let error = await #expect(throws: AWSServiceError.self) {
                try await iam.createLoginProfile(
                    userName: "bob", password: "Secret-Pass-1", passwordResetRequired: true)
            }
            #expect(error?.code == "EntityAlreadyExists")
            #expect(error?.message == "Login Profile for user bob already exists.")
            #expect(error?.httpStatus == 409)
            #expect(error?.requestId == "rid-409")
            #expect(error?.fault == .sender)
            #expect(error?.retryClass == .never)
            #expect(
                error?.description
                    == "CreateLoginProfile failed: EntityAlreadyExists: Login Profile for user bob already exists. (HTTP 409, request id rid-409)"
            )
        }
    }

    @Test("<ErrorResponse><Errors><Error> is read too, and throttling is retryable")
    func errorShapeWrapped() async throws {
        try await withServer({ _ in
            Self.xml(
                400,
                "<ErrorResponse><Errors><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></Errors><RequestID>rid-thr</RequestID></ErrorResponse>"
            )
        }) { iam, _ in
            let error = await #expect(throws: AWSServiceError.self) { try await iam.getUser(userName: "x") }
            #expect(error?.code == "Throttling")
            #expect(error?.requestId == "rid-thr")
            #expect(error?.retryClass == .throttling)
        }
    }

    @Test("an HTML 503 page is a clear, retryable client error")
    func htmlError() async throws {
        try await withServer({ _ in
            .respond(
                HTTPResponseData(
                    status: 503, headers: [(name: "Content-Type", value: "text/html")],
                    body: Array("<html><body><h1>503 Service Unavailable</h1><p>Back soon</p></body></html>".utf8)))
        }) { iam, _ in
            let error = await #expect(throws: AWSClientError.self) { try await iam.getUser(userName: "x") }
            #expect(error?.kind == .invalidResponse(httpStatus: 503))
            #expect(error?.retryClass == .transient)
            #expect(error?.description.contains("503 Service Unavailable Back soon") == true)
        }
    }

    @Test("an HTML 403 from a proxy is not retryable")
    func htmlForbidden() async throws {
        try await withServer({ _ in
            .respond(HTTPResponseData(status: 403, body: Array("<html>Forbidden by corporate proxy</html>".utf8)))
        }) { iam, _ in
            let error = await #expect(throws: AWSClientError.self) { try await iam.getUser(userName: "x") }
            #expect(error?.kind == .invalidResponse(httpStatus: 403))
            #expect(error?.retryClass == .never)
        }
    }

    @Test("a dropped connection is a retryable connection error")
    func droppedConnection() async throws {
        try await withServer({ _ in .dropConnection }) { iam, _ in
            let error = await #expect(throws: AWSClientError.self) { try await iam.getUser(userName: "x") }
            #expect(error?.kind == .connection)
            #expect(error?.retryClass == .transient)
        }
    }

    @Test("nothing listening is a connection error naming the action")
    func refused() async throws {
        let port = try FreePort.find()
        try await AWSHTTPClient.withClient { transport in
            let iam = IAMClient(
                query: QueryClient(
                    endpoint: .iam(region: "us-east-1", override: "http://127.0.0.1:\(port)"),
                    apiVersion: IAMClient.apiVersion, credentials: StaticCredentialProvider(Self.credentials),
                    transport: transport))
            let error = await #expect(throws: AWSClientError.self) { try await iam.deleteLoginProfile(userName: "x") }
            #expect(error?.kind == .connection)
            #expect(error?.description.hasPrefix("DeleteLoginProfile failed: connection error") == true)
        }
    }

    @Test("a malformed 200 body is an error, not a silent success")
    func malformedSuccess() async throws {
        try await withServer({ _ in Self.xml(200, "<GetUserResponse><GetUserResult>") }) { iam, _ in
            let error = await #expect(throws: AWSClientError.self) { try await iam.getUser(userName: "x") }
            #expect(error?.kind == .invalidResponse(httpStatus: 200))
        }
    }

    @Test("a password echoed by the server is scrubbed from the error message")
    func passwordScrubbed() async throws {
        let password = "Hunter2-Very-Secret!"
        try await withServer({ request in
            let echoed = request.formParameters["Password"] ?? ""
            return Self.xml(
                400,
                "<ErrorResponse><Error><Code>PasswordPolicyViolation</Code><Message>Password \(echoed) does not meet policy</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            )
        }) { iam, _ in
            let error = await #expect(throws: AWSServiceError.self) {
                try await iam.createLoginProfile(userName: "u", password: password, passwordResetRequired: true)
            }
            #expect(error?.message == "Password <redacted> does not meet policy")
            #expect(error.map { "\($0)" }?.contains(password) == false)
        }
    }

    @Test("scrubbing: secrets of 4 characters or more, ASCII or not, and only those")
    func scrubRules() {
        #expect(Redaction.scrub("pw Abc1 and Abc1", secrets: ["Abc1"]) == "pw <redacted> and <redacted>")
        #expect(Redaction.scrub("the cat", secrets: ["cat"]) == "the cat")
        // Three characters in six bytes: still too short to redact.
        #expect(Redaction.scrub("an ééé", secrets: ["ééé"]) == "an ééé")
        #expect(Redaction.scrub("pw Grüße!", secrets: ["Grüße"]) == "pw <redacted>!")
        #expect(Redaction.scrub("nothing here", secrets: ["Hunter2-Secret", ""]) == "nothing here")
    }

    @Test("clock skew is named when a signature error comes with a far-off Date")
    func clockSkew() async throws {
        let skewed = Date().addingTimeInterval(3600)
        try await withServer(
            clock: { skewed },
            { _ in
                Self.xml(
                    403,
                    "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired</Message></Error><RequestId>r</RequestId></ErrorResponse>",
                    headers: [(name: "Date", value: Self.httpDate(Date()))])
            }
        ) { iam, _ in
            let error = await #expect(throws: AWSServiceError.self) { try await iam.getUser(userName: "u") }
            #expect(error?.description.contains("local clock is 60 minute(s) ahead") == true)
        }
    }

    @Test("--debug logging shows action, user, status, request id and timing, never the password")
    func debugLogging() async throws {
        let capture = LogCapture()
        let password = "Log-Leak-Canary-Pass-42"
        try await withServer(
            logger: capture.logger(),
            { _ in
                Self.xml(
                    200,
                    "<CreateLoginProfileResponse><CreateLoginProfileResult><LoginProfile><UserName>carol</UserName></LoginProfile></CreateLoginProfileResult><ResponseMetadata><RequestId>rid-log</RequestId></ResponseMetadata></CreateLoginProfileResponse>"
                )
            }
        ) { iam, _ in
            _ = try await iam.createLoginProfile(userName: "carol", password: password, passwordResetRequired: true)
        }
        let text = capture.text
        #expect(text.contains("action=CreateLoginProfile"))
        #expect(text.contains("user=carol"))
        #expect(text.contains("status=200"))
        #expect(text.contains("request_id=rid-log"))
        #expect(text.contains("ms="))
        #expect(!text.contains(password))
        #expect(!text.contains(Self.credentials.secretAccessKey))
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    @Test("an endpoint with a base path is signed with the path it is sent to, and the Host it connects to")
    func basePath() async throws {
        let seen = NIOLockedValueBox<[ReceivedRequest]>([])
        let server = try await LocalHTTPServer { request in
            seen.withLockedValue { $0.append(request) }
            return Self.xml(
                200,
                "<GetUserResponse><GetUserResult><User><UserName>a</UserName></User></GetUserResult></GetUserResponse>")
        }
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        for base in ["/base/", "/base", "/a/b/"] {
            try await AWSHTTPClient.withClient { transport in
                let query = QueryClient(
                    endpoint: .iam(region: "us-east-1", override: server.url + base), apiVersion: IAMClient.apiVersion,
                    credentials: StaticCredentialProvider(Self.credentials), transport: transport,
                    timeout: .seconds(5), clock: { date })
                _ = try await query.call("GetUser", [QueryParameter("UserName", "a")])
            }
            let request = try #require(seen.withLockedValue { $0.last })
            let sentPath = base.hasSuffix("/") ? base : base + "/"
            #expect(request.uri == sentPath)
            #expect(request.header("Host") == "127.0.0.1:\(server.port)")
            // The signature the server would compute from what it received matches what was sent.
            let expected = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "iam")
                .sign(
                    SignableRequest(
                        method: "POST", path: request.uri,
                        headers: [
                            (name: "Host", value: try #require(request.header("Host"))),
                            (name: "Content-Type", value: try #require(request.header("Content-Type"))),
                        ], body: request.body), date: date)
            #expect(request.header("Authorization") == expected.authorization)
        }
        await server.stop()
    }
}
