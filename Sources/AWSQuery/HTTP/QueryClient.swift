import Foundation
import Logging

/// One request parameter. Secret values (passwords) are sent but never logged, and are scrubbed
/// from any error message that echoes them.
public struct QueryParameter: Sendable {
    public let name: String
    public let value: String
    public let isSecret: Bool

    public init(_ name: String, _ value: String, secret: Bool = false) {
        self.name = name
        self.value = value
        self.isSecret = secret
    }
}

/// A successful Query-protocol answer.
public struct QueryResponse: Sendable {
    /// The `<ActionResponse>` element.
    public let root: XMLTree
    public let requestId: String?
    public let httpStatus: Int

    /// The `<ActionResult>` element, or the root when the action returns no result.
    public var result: XMLTree {
        // Compared on bytes: `hasSuffix` on `String` walks grapheme boundaries.
        root.children.first { $0.name.utf8.suffix(6).elementsEqual("Result".utf8) } ?? root
    }
}

/// What one API call did, for logs and audit trails. Never holds parameter values.
public struct CallRecord: Sendable {
    public let service: String
    public let action: String
    /// The `UserName` parameter, when the call has one.
    public let userName: String?
    public let startedAt: Date
    public let duration: Duration
    /// The HTTP status, or nil when no response arrived.
    public let httpStatus: Int?
    /// The AWS error code, `ClientError` kind for transport failures, or nil on success.
    public let errorCode: String?
    public let requestId: String?
    /// Which attempt of its call this request was (1 for the first; see `CallContext`).
    public let attempt: Int

    public init(
        service: String, action: String, userName: String?, startedAt: Date, duration: Duration, httpStatus: Int?,
        errorCode: String?, requestId: String?, attempt: Int
    ) {
        self.service = service
        self.action = action
        self.userName = userName
        self.startedAt = startedAt
        self.duration = duration
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.requestId = requestId
        self.attempt = attempt
    }
}

/// Per-task context of the call being made: the retry executor sets the attempt number, and
/// each `CallRecord` carries it.
public enum CallContext {
    @TaskLocal public static var attempt: Int = 1
}

/// A client for one AWS Query-protocol service (IAM, STS): form-encodes, signs, sends, and turns
/// the XML answer into a `QueryResponse` or a typed error. It makes one attempt per call: retry
/// policy belongs to the caller, who knows which steps already succeeded.
public struct QueryClient: Sendable {
    public let endpoint: ServiceEndpoint
    /// Where requests go: the endpoint's URL and `/`.
    private let requestURL: String
    /// `requestURL` parsed once: its `Host` header value and path are what is signed, and the
    /// transport connects to the same host and sends the same path (it parses the same string
    /// the same way).
    private let target: RequestURL?
    public let apiVersion: String
    public let credentials: (any CredentialProvider)?
    public let transport: any HTTPTransport
    public var logger: Logger
    public var timeout: Duration
    public var clock: @Sendable () -> Date
    /// Called once per call made, successful or not.
    public var observer: (@Sendable (CallRecord) -> Void)?

    public init(
        endpoint: ServiceEndpoint, apiVersion: String, credentials: (any CredentialProvider)?,
        transport: any HTTPTransport, logger: Logger = Logger(label: "console-access.aws"),
        timeout: Duration = .seconds(30), clock: @escaping @Sendable () -> Date = Date.init,
        observer: (@Sendable (CallRecord) -> Void)? = nil
    ) {
        self.endpoint = endpoint
        self.requestURL = endpoint.url + "/"
        self.target = RequestURL(requestURL)
        self.apiVersion = apiVersion
        self.credentials = credentials
        self.transport = transport
        self.logger = logger
        self.timeout = timeout
        self.clock = clock
        self.observer = observer
    }

    static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    /// The form body for an action.
    public func formBody(action: String, parameters: [QueryParameter]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(64 + parameters.count * 48)
        body += "Action=".utf8
        SigV4Signer.appendURIEncoded(action, keepSlash: false, to: &body)
        body += "&Version=".utf8
        SigV4Signer.appendURIEncoded(apiVersion, keepSlash: false, to: &body)
        for parameter in parameters {
            body.append(UInt8(ascii: "&"))
            SigV4Signer.appendURIEncoded(parameter.name, keepSlash: false, to: &body)
            body.append(UInt8(ascii: "="))
            SigV4Signer.appendURIEncoded(parameter.value, keepSlash: false, to: &body)
        }
        return body
    }

    /// Makes one call. `signed: false` sends it without credentials (e.g. `AssumeRoleWithWebIdentity`).
    /// A `bodyFilter` sees a 2xx answer's body as it arrives and takes out what should not be
    /// held in memory (the credential report's `Content`); the rest is decoded as always.
    public func call(
        _ action: String, _ parameters: [QueryParameter] = [], signed: Bool = true,
        bodyFilter: (any HTTPResponseBodyFilter)? = nil
    ) async throws -> QueryResponse {
        let userName = parameters.first { $0.name == "UserName" }?.value
        let secrets = parameters.filter(\.isSecret).map(\.value)
        let started = clock()
        let startInstant = ContinuousClock.now
        var trace = CallTrace()
        let support = self.support
        defer {
            support.record(
                trace, action: action, userName: userName, started: started,
                elapsed: ContinuousClock.now - startInstant)
        }

        guard let target, let host = Optional(target.hostHeader) else {
            trace.errorCode = "InvalidEndpoint"
            throw AWSClientError(.invalidRequest, action: action, detail: "endpoint \(endpoint.url) has no host")
        }
        let body = formBody(action: action, parameters: parameters)
        let unsigned: [(name: String, value: String)] = [
            (name: "Host", value: host), (name: "Content-Type", value: Self.contentType),
        ]
        let headers =
            signed ? try await support.signed(unsigned, path: target.path, body: body, trace: &trace) : unsigned
        let response = try await support.send(
            HTTPRequestData(url: requestURL, method: "POST", headers: headers, body: body), action: action,
            bodyFilter: bodyFilter, trace: &trace)
        return try decode(response, action: action, received: clock(), secrets: secrets, trace: &trace)
    }

    /// The plumbing shared with `JSONProtocolClient`, with this client's settings.
    private var support: AWSCallSupport {
        AWSCallSupport(
            endpoint: endpoint, credentials: credentials, transport: transport, logger: logger, timeout: timeout,
            clock: clock, observer: observer)
    }

    /// A 2xx answer's XML (an `ErrorResponse` in a 2xx is still an error), or the error an error
    /// answer describes; a body that is not the expected XML is an `invalidResponse`.
    private func decode(
        _ response: HTTPResponseData, action: String, received: Date, secrets: [String], trace: inout CallTrace
    ) throws -> QueryResponse {
        func serviceError(_ root: XMLTree) -> AWSServiceError {
            let error = Self.serviceError(
                from: root, status: response.status, action: action, response: response, received: received,
                secrets: secrets)
            trace.errorCode = error.code
            trace.requestId = error.requestId
            return error
        }
        if (200..<300).contains(response.status) {
            let root: XMLTree
            do {
                root = try XMLTree.parse(response.body)
            } catch {
                trace.errorCode = "InvalidResponse"
                throw AWSClientError(
                    .invalidResponse(httpStatus: response.status), action: action,
                    detail:
                        "the body is not the expected XML (\(Redaction.scrub("\(error)", secrets: secrets))): \(Self.snippet(response.body, secrets: secrets))"
                )
            }
            if root.name == "ErrorResponse" { throw serviceError(root) }
            trace.requestId =
                root.child(path: "ResponseMetadata", "RequestId")?.text ?? response.header("x-amzn-RequestId")
            return QueryResponse(root: root, requestId: trace.requestId, httpStatus: response.status)
        }
        if let root = try? XMLTree.parse(response.body), root.first("Code") != nil {
            throw serviceError(root)
        }
        trace.errorCode = "HTTP\(response.status)"
        trace.requestId = response.header("x-amzn-RequestId")
        throw AWSClientError(
            .invalidResponse(httpStatus: response.status), action: action,
            detail: response.body.isEmpty
                ? "empty body" : "non-XML body: \(Self.snippet(response.body, secrets: secrets))")
    }

    /// Reads `Code`/`Message`/`Type` wherever they sit (`<ErrorResponse><Error>` or `<Errors><Error>`).
    static func serviceError(
        from root: XMLTree, status: Int, action: String, response: HTTPResponseData, received: Date,
        secrets: [String]
    ) -> AWSServiceError {
        let errorNode = root.first("Error") ?? root
        let code = Redaction.field(
            ASCII.trimmingBlanks(errorNode.string("Code") ?? root.first("Code")?.text ?? ""), secrets: secrets)
        let message = errorNode.string("Message") ?? root.first("Message")?.text ?? ""
        let requestId =
            (root.first("RequestId")?.text ?? root.first("RequestID")?.text
            ?? response.header("x-amzn-RequestId")).map { Redaction.field($0, secrets: secrets) }
        let fault = (errorNode.string("Type")).flatMap(AWSServiceError.Fault.init(rawValue:))
        return AWSServiceError(
            code: code.isEmpty ? "Unknown" : code, message: Redaction.message(message, secrets: secrets),
            httpStatus: status, requestId: requestId, fault: fault, action: action,
            dateHeader: response.header("Date"), localDate: received)
    }

    static func snippet(_ body: [UInt8], secrets: [String]) -> String {
        Redaction.snippet(body, secrets: secrets)
    }

}
