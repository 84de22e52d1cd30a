import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

/// `organizations:ListAccounts` over the AWS JSON 1.1 protocol, against loopback servers that
/// answer what AWS (and hostile or broken servers) can answer.
@Suite("Organizations client on the wire")
struct OrganizationsClientTests {
    static let credentials = AWSCredentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        sessionToken: "session-token-value-123")
    /// 2015-08-30T12:36:00Z.
    static let fixedDate = Date(timeIntervalSince1970: 1_440_938_160)
    static let account =
        #"{"Id":"111122223333","Arn":"arn:aws:organizations::111122223333:account/o-abc/111122223333","Email":"a@example.com","Name":"alpha","Status":"ACTIVE","JoinedMethod":"CREATED","JoinedTimestamp":1.7E9}"#

    /// Runs `body` with an Organizations client pointed at a local server answering with `handler`.
    func withServer<T: Sendable>(
        settings: HTTPSettings = HTTPSettings(), pageSize: Int? = nil,
        observer: (@Sendable (CallRecord) -> Void)? = nil,
        handler: @escaping LocalHTTPServer.Handler, _ body: (OrganizationsClient, LocalHTTPServer) async throws -> T
    ) async throws -> T {
        let server = try await LocalHTTPServer(handler: handler)
        do {
            let result = try await AWSHTTPClient.withClient(settings: settings) { transport in
                let client = OrganizationsClient(
                    endpoint: .organizations(region: "eu-west-1", override: server.url),
                    credentials: StaticCredentialProvider(Self.credentials), transport: transport,
                    timeout: .seconds(5), clock: { Self.fixedDate }, observer: observer, pageSize: pageSize)
                return try await body(client, server)
            }
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static func json(_ status: Int, _ body: String, requestId: String? = "req-1") -> ServerReply {
        var headers = [(name: "Content-Type", value: "application/x-amz-json-1.1")]
        if let requestId { headers.append((name: "x-amzn-RequestId", value: requestId)) }
        return .respond(HTTPResponseData(status: status, headers: headers, body: Array(body.utf8)))
    }

    /// An executor that retries at once (no backoff sleep).
    static let executor = CallExecutor(sleep: { _ in })

    @Test("a request is a signed JSON 1.1 POST to / with the operation in X-Amz-Target")
    func requestShape() async throws {
        let seen = NIOLockedValueBox<[ReceivedRequest]>([])
        try await withServer(
            pageSize: 2,
            handler: { request in
                seen.withLockedValue { $0.append(request) }
                let first = seen.withLockedValue { $0.count } == 1
                return Self.json(
                    200, #"{"Accounts":[\#(Self.account)],"NextToken":\#(first ? #""tok/1+=""# : "null")}"#)
            }
        ) { client, server in
            let first = try await client.listAccounts(nextToken: nil)
            #expect(first.value.accounts == [OrganizationAccount(id: "111122223333", name: "alpha", status: "ACTIVE")])
            #expect(first.value.nextToken == "tok/1+=")
            #expect(first.requestId == "req-1")
            let second = try await client.listAccounts(nextToken: "tok/1+=")
            #expect(second.value.nextToken == nil)

            let requests = seen.withLockedValue { $0 }
            try #require(requests.count == 2)
            #expect(requests[0].bodyString == #"{"MaxResults":2}"#)
            #expect(requests[1].bodyString == #"{"MaxResults":2,"NextToken":"tok/1+="}"#)
            for request in requests {
                #expect(request.method == "POST")
                #expect(request.uri == "/")
                #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
                #expect(request.header("X-Amz-Target") == "AWSOrganizationsV20161128.ListAccounts")
                #expect(request.header("Host") == "127.0.0.1:\(server.port)")
                #expect(request.header("X-Amz-Security-Token") == "session-token-value-123")
            }
            // Signed for organizations in us-east-1 (the aws partition's Organizations region,
            // whatever the session's region), X-Amz-Target included; the signature is the one
            // the signer computes for exactly these bytes.
            let authorization = try #require(requests[1].header("Authorization"))
            #expect(authorization.contains("Credential=AKIDEXAMPLE/20150830/us-east-1/organizations/aws4_request"))
            #expect(
                authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"))
            let expected = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "organizations")
                .sign(
                    SignableRequest(
                        method: "POST", path: "/",
                        headers: [
                            (name: "Host", value: "127.0.0.1:\(server.port)"),
                            (name: "Content-Type", value: "application/x-amz-json-1.1"),
                            (name: "X-Amz-Target", value: "AWSOrganizationsV20161128.ListAccounts"),
                        ], body: requests[1].body), date: Self.fixedDate)
            #expect(authorization == expected.authorization)
        }
    }

    @Test("AccessDeniedException is a typed AWSServiceError with status, request id and action; never retried")
    func accessDenied() async throws {
        let records = NIOLockedValueBox<[CallRecord]>([])
        let requests = NIOLockedValueBox(0)
        try await withServer(
            observer: { record in records.withLockedValue { $0.append(record) } },
            handler: { _ in
                requests.withLockedValue { $0 += 1 }
                return Self.json(
                    400,
                    #"{"__type":"AccessDeniedException","Message":"You don't have permissions to access this resource."}"#,
                    requestId: "denied-7")
            }
        ) { client, _ in
            let error = await #expect(throws: AWSServiceError.self) {
                try await client.listAllAccounts(executor: Self.executor)
            }
            #expect(error?.code == "AccessDeniedException")
            #expect(error?.errorCode == .accessDeniedException)
            #expect(error?.errorCode.isAccessDenied == true)
            #expect(error?.message == "You don't have permissions to access this resource.")
            #expect(error?.httpStatus == 400)
            #expect(error?.requestId == "denied-7")
            #expect(error?.action == "ListAccounts")
            #expect(error?.retryClass == .never)
        }
        #expect(requests.withLockedValue { $0 } == 1)
        let record = try #require(records.withLockedValue { $0 }.first)
        #expect(record.service == "organizations")
        #expect(record.action == "ListAccounts")
        #expect(record.httpStatus == 400)
        #expect(record.errorCode == "AccessDeniedException")
        #expect(record.requestId == "denied-7")
    }

    @Test("error codes lose their namespace and suffix; message and Message are both read")
    func errorCodeShapes() async throws {
        let answers: [(String, String?, String, String)] = [
            (
                #"{"__type":"com.amazonaws.organizations.v20161128#AWSOrganizationsNotInUseException","message":"not in use"}"#,
                nil, "AWSOrganizationsNotInUseException", "not in use"
            ),
            (
                #"{"message":"slow down"}"#, "ThrottlingException:http://internal.amazon.com/", "ThrottlingException",
                "slow down"
            ),
            (#"{"code":"ServiceException","Message":"oops"}"#, nil, "ServiceException", "oops"),
        ]
        for (body, header, code, message) in answers {
            try await withServer(handler: { _ in
                var headers = [(name: "x-amzn-RequestId", value: "r")]
                if let header { headers.append((name: "x-amzn-ErrorType", value: header)) }
                return .respond(HTTPResponseData(status: 400, headers: headers, body: Array(body.utf8)))
            }) { client, _ in
                let error = await #expect(throws: AWSServiceError.self) {
                    try await client.listAccounts(nextToken: nil)
                }
                #expect(error?.code == code)
                #expect(error?.message == message)
            }
        }
    }

    @Test("a namespaced TooManyRequestsException and a bare 503 are retried, then the listing succeeds")
    func throttlingRetried() async throws {
        let requests = NIOLockedValueBox(0)
        let attempts = NIOLockedValueBox<[Int]>([])
        let throttles = NIOLockedValueBox(0)
        var executor = Self.executor
        executor.onThrottle = { throttles.withLockedValue { $0 += 1 } }
        try await withServer(
            observer: { record in attempts.withLockedValue { $0.append(record.attempt) } },
            handler: { _ in
                let number = requests.withLockedValue { count in
                    count += 1
                    return count
                }
                switch number {
                case 1:
                    return Self.json(
                        400,
                        #"{"__type":"com.amazon.coral.availability#TooManyRequestsException","message":"Rate exceeded"}"#
                    )
                case 2: return .respond(HTTPResponseData(status: 503, body: Array("<html>busy</html>".utf8)))
                default: return Self.json(200, #"{"Accounts":[\#(Self.account)]}"#)
                }
            }
        ) { client, _ in
            let ledger = CallLedger()
            let accounts = try await ledger.recording { try await client.listAllAccounts(executor: executor) }
            #expect(accounts.map(\.id) == ["111122223333"])
            #expect(ledger.attempts == 3)
        }
        #expect(requests.withLockedValue { $0 } == 3)
        #expect(attempts.withLockedValue { $0 } == [1, 2, 3])
        #expect(throttles.withLockedValue { $0 } == 1)
    }

    /// The first request's error, which must be an unreadable answer (never retried).
    func invalidAnswer(
        _ reply: ServerReply, settings: HTTPSettings = HTTPSettings(), recorded: String = "InvalidResponse",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> AWSClientError? {
        let requests = NIOLockedValueBox(0)
        let records = NIOLockedValueBox<[CallRecord]>([])
        let error = try await withServer(
            settings: settings, observer: { r in records.withLockedValue { $0.append(r) } },
            handler: { _ in
                requests.withLockedValue { $0 += 1 }
                return reply
            }
        ) { client, _ in
            await #expect(throws: AWSClientError.self, sourceLocation: sourceLocation) {
                try await client.listAllAccounts(executor: Self.executor)
            }
        }
        #expect(requests.withLockedValue { $0 } == 1, sourceLocation: sourceLocation)
        #expect(error?.code == "InvalidResponse", sourceLocation: sourceLocation)
        #expect(error?.retryClass == .never, sourceLocation: sourceLocation)
        #expect(records.withLockedValue { $0.map(\.errorCode) } == [recorded], sourceLocation: sourceLocation)
        return error
    }

    @Test("malformed JSON, a wrong account id, a missing list or status: clear errors, no retry")
    func hostileBodies() async throws {
        let malformed = try await invalidAnswer(Self.json(200, #"{"Accounts":[{"Id":"1111"#))
        #expect(malformed?.kind == .invalidResponse(httpStatus: 200))
        #expect(malformed?.description.contains("not the expected JSON") == true)

        let short = try await invalidAnswer(
            Self.json(200, #"{"Accounts":[{"Id":"12345","Name":"x","Status":"ACTIVE"}]}"#))
        #expect(short?.description.contains("account id '12345' is not an AWS account id (12 digits)") == true)
        let letters = try await invalidAnswer(
            Self.json(200, #"{"Accounts":[{"Id":"11112222333x","Status":"ACTIVE"}]}"#))
        #expect(letters?.description.contains("'11112222333x'") == true)
        let control = try await invalidAnswer(Self.json(200, #"{"Accounts":[{"Id":"1\n2","Status":"ACTIVE"}]}"#))
        #expect(control?.description.contains("'1\\n2'") == true)
        _ = try await invalidAnswer(Self.json(200, #"{"Accounts":[{"Id":111122223333,"Status":"ACTIVE"}]}"#))
        let noList = try await invalidAnswer(Self.json(200, #"{"NextToken":"t"}"#))
        #expect(noList?.description.contains("no Accounts list") == true)
        let noStatus = try await invalidAnswer(Self.json(200, #"{"Accounts":[{"Id":"111122223333"}]}"#))
        #expect(noStatus?.description.contains("account 111122223333 has no Status") == true)
        _ = try await invalidAnswer(Self.json(200, #"{"Accounts":"# + String(repeating: "[", count: 100_000)))
        _ = try await invalidAnswer(Self.json(200, "<html>not json</html>"))
        let longToken = String(repeating: "t", count: OrganizationsClient.maxNextTokenLength + 1)
        let tokenError = try await invalidAnswer(Self.json(200, #"{"Accounts":[],"NextToken":"\#(longToken)"}"#))
        #expect(tokenError?.description.contains("NextToken is longer") == true)
        // An error status whose body names no code: unreadable, with its status (recorded as
        // QueryClient records it).
        let noCode = try await invalidAnswer(Self.json(403, "<html>Forbidden</html>"), recorded: "HTTP403")
        #expect(noCode?.kind == .invalidResponse(httpStatus: 403))
    }

    @Test("a body past the transport's size limit fails the call, unread")
    func bodyTooLarge() async throws {
        var settings = HTTPSettings()
        settings.maxResponseBytes = 64 * 1024
        let accounts = Array(repeating: Self.account, count: 600).joined(separator: ",")
        let body = #"{"Accounts":[\#(accounts)]}"#
        #expect(body.utf8.count > settings.maxResponseBytes)
        let error = try await invalidAnswer(Self.json(200, body), settings: settings)
        #expect(error?.kind == .invalidResponse(httpStatus: 0))
    }

    @Test("State is read when Status is missing; an empty NextToken ends the listing; duplicates are kept once")
    func statusAndPaging() async throws {
        let requests = NIOLockedValueBox(0)
        try await withServer(handler: { _ in
            let number = requests.withLockedValue { count in
                count += 1
                return count
            }
            return number == 1
                ? Self.json(
                    200, #"{"Accounts":[\#(Self.account),{"Id":"000011112222","State":"SUSPENDED"}],"NextToken":"p2"}"#)
                : Self.json(200, #"{"Accounts":[\#(Self.account)],"NextToken":""}"#)
        }) { client, _ in
            let accounts = try await client.listAllAccounts(executor: Self.executor)
            #expect(
                accounts == [
                    OrganizationAccount(id: "111122223333", name: "alpha", status: "ACTIVE"),
                    OrganizationAccount(id: "000011112222", name: "", status: "SUSPENDED"),
                ])
            #expect(accounts.map(\.isActive) == [true, false])
        }
        #expect(requests.withLockedValue { $0 } == 2)
    }

    @Test("a NextToken given again (the same one, or a cycle) is an error, not an endless loop")
    func repeatedToken() async throws {
        for tokens in [["same", "same"], ["a", "b", "a"]] {
            let requests = NIOLockedValueBox(0)
            try await withServer(handler: { _ in
                let number = requests.withLockedValue { count in
                    count += 1
                    return count
                }
                let token = tokens[min(number, tokens.count) - 1]
                return Self.json(
                    200, #"{"Accounts":[\#(Self.account)],"NextToken":"\#(token)"}"#, requestId: "r\(number)")
            }) { client, _ in
                let error = await #expect(throws: AWSClientError.self) {
                    try await client.listAllAccounts(executor: Self.executor)
                }
                #expect(error?.description.contains("NextToken an earlier page gave") == true)
                #expect(error?.description.contains("request id r\(tokens.count)") == true)
                #expect(error?.retryClass == .never)
            }
            #expect(requests.withLockedValue { $0 } == tokens.count)
        }
    }

    /// Pages that never end, each with a new token.
    struct EndlessOrganization: OrganizationsOperations {
        let calls = NIOLockedValueBox(0)
        func listAccounts(nextToken: String?) async throws -> AWSResult<OrganizationAccountPage> {
            let number = calls.withLockedValue { count in
                count += 1
                return count
            }
            return AWSResult(value: OrganizationAccountPage(accounts: [], nextToken: "page-\(number)"), requestId: nil)
        }
    }

    @Test("listing stops with an error after maxPages pages")
    func pageCap() async throws {
        let endless = EndlessOrganization()
        let error = await #expect(throws: AWSClientError.self) {
            try await endless.listAllAccounts(executor: Self.executor, maxPages: 7)
        }
        #expect(error?.description.contains("past 7 pages") == true)
        #expect(endless.calls.withLockedValue { $0 } == 7)
        #expect(OrganizationsPaging.maxPages == 1000)
    }

    @Test("MaxResults outside 1–20 is refused before sending")
    func maxResultsRange() async throws {
        let requests = NIOLockedValueBox(0)
        try await withServer(handler: { _ in
            requests.withLockedValue { $0 += 1 }
            return Self.json(200, #"{"Accounts":[]}"#)
        }) { client, _ in
            for bad in [0, 21] {
                let error = await #expect(throws: AWSClientError.self) {
                    try await client.listAccounts(nextToken: nil, maxResults: bad)
                }
                #expect(error?.kind == .invalidRequest)
            }
        }
        #expect(requests.withLockedValue { $0 } == 0)
    }
}
