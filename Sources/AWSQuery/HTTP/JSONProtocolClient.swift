import Foundation
import Logging

/// A successful answer of an AWS JSON 1.1 service: the body as received (a JSON document),
/// the request id and the HTTP status.
public struct JSONProtocolResponse: Sendable {
    public let body: [UInt8]
    public let requestId: String?
    public let httpStatus: Int
}

/// A client for one AWS JSON 1.1 service (Organizations): `POST /` with the operation in
/// `X-Amz-Target`, a JSON body, SigV4-signed; the answer is a JSON document, or an error with
/// `__type` and `message`. The same transport, signer, credentials, logging and `CallRecord`s as
/// `QueryClient`, and the same typed errors (`AWSServiceError`, `AWSClientError`), so the retry
/// rules treat both protocols alike. One attempt per call: retries belong to the caller.
public struct JSONProtocolClient: Sendable {
    public let endpoint: ServiceEndpoint
    /// The `X-Amz-Target` prefix: `AWSOrganizationsV20161128`.
    public let targetPrefix: String
    public let credentials: (any CredentialProvider)?
    public let transport: any HTTPTransport
    public var logger: Logger
    public var timeout: Duration
    public var clock: @Sendable () -> Date
    /// Called once per call made, successful or not.
    public var observer: (@Sendable (CallRecord) -> Void)?

    public init(
        endpoint: ServiceEndpoint, targetPrefix: String, credentials: (any CredentialProvider)?,
        transport: any HTTPTransport, logger: Logger = Logger(label: "console-access.aws"),
        timeout: Duration = .seconds(30), clock: @escaping @Sendable () -> Date = Date.init,
        observer: (@Sendable (CallRecord) -> Void)? = nil
    ) {
        self.endpoint = endpoint
        self.targetPrefix = targetPrefix
        self.credentials = credentials
        self.transport = transport
        self.logger = logger
        self.timeout = timeout
        self.clock = clock
        self.observer = observer
    }

    public static let contentType = "application/x-amz-json-1.1"

    /// Makes one call of `operation` with the JSON `body`, and decodes a 2xx answer with
    /// `decode`. A `decode` that throws an `AWSClientError` fails the call with it (and the call's
    /// record says `InvalidResponse`); any other error is wrapped as an unreadable answer.
    public func call<T>(
        _ operation: String, body: [UInt8], decode: (JSONProtocolResponse) throws -> T
    ) async throws -> T {
        let started = clock()
        let startInstant = ContinuousClock.now
        var trace = CallTrace()
        let support = AWSCallSupport(
            endpoint: endpoint, credentials: credentials, transport: transport, logger: logger, timeout: timeout,
            clock: clock, observer: observer)
        defer {
            support.record(
                trace, action: operation, userName: nil, started: started, elapsed: ContinuousClock.now - startInstant)
        }

        guard let host = endpoint.hostHeader else {
            trace.errorCode = "InvalidEndpoint"
            throw AWSClientError(.invalidRequest, action: operation, detail: "endpoint \(endpoint.url) has no host")
        }
        let unsigned: [(name: String, value: String)] = [
            (name: "Host", value: host), (name: "Content-Type", value: Self.contentType),
            (name: "X-Amz-Target", value: "\(targetPrefix).\(operation)"),
        ]
        let headers = try await support.signed(unsigned, path: endpoint.path, body: body, trace: &trace)
        let response = try await support.send(
            HTTPRequestData(url: endpoint.url + "/", method: "POST", headers: headers, body: body),
            action: operation, trace: &trace)
        trace.requestId = response.header("x-amzn-RequestId").map { Redaction.field($0, secrets: []) }
        guard (200..<300).contains(response.status) else {
            throw failure(response, operation: operation, received: clock(), trace: &trace)
        }
        do {
            return try decode(
                JSONProtocolResponse(body: response.body, requestId: trace.requestId, httpStatus: response.status))
        } catch let error as AWSClientError {
            trace.errorCode = error.code
            throw error
        } catch {
            trace.errorCode = "InvalidResponse"
            throw AWSClientError(
                .invalidResponse(httpStatus: response.status), action: operation,
                detail: "the body is not the expected JSON (\(error)): \(Redaction.snippet(response.body, secrets: []))"
            )
        }
    }

    /// The error a non-2xx answer describes: an `AWSServiceError` when it names a code, else an
    /// unreadable answer with its status (so a bare 5xx is still retried as a transient fault).
    private func failure(
        _ response: HTTPResponseData, operation: String, received: Date, trace: inout CallTrace
    ) -> any Error {
        let document = try? JSONDecoder().decode(ErrorDocument.self, from: Data(response.body))
        let code = Self.errorCode(header: response.header("x-amzn-ErrorType"), document: document)
        guard let code else {
            trace.errorCode = "HTTP\(response.status)"
            return AWSClientError(
                .invalidResponse(httpStatus: response.status), action: operation,
                detail: response.body.isEmpty
                    ? "empty body" : "no error code in the body: \(Redaction.snippet(response.body, secrets: []))")
        }
        let error = AWSServiceError(
            code: code, message: Redaction.message(document?.message ?? "", secrets: []),
            httpStatus: response.status, requestId: trace.requestId, fault: nil, action: operation,
            dateHeader: response.header("Date"), localDate: received)
        trace.errorCode = error.code
        return error
    }

    /// The body of a JSON 1.1 error: `{"__type": "...", "message": "..."}` (`Message` and `code`
    /// are seen too).
    struct ErrorDocument: Decodable {
        var type: String?
        var code: String?
        var message: String?

        enum CodingKeys: String, CodingKey {
            case type = "__type"
            case code
            case lowerMessage = "message"
            case upperMessage = "Message"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            code = try? container.decodeIfPresent(String.self, forKey: .code)
            message =
                (try? container.decodeIfPresent(String.self, forKey: .lowerMessage))
                ?? (try? container.decodeIfPresent(String.self, forKey: .upperMessage))
        }
    }

    /// The error code as the AWS JSON protocols give it: the `x-amzn-ErrorType` header, else the
    /// body's `__type`, else its `code`; without a namespace (`aws.prefix#Name` → `Name`) or a
    /// suffix after `:`; nil when none is there.
    static func errorCode(header: String?, document: ErrorDocument?) -> String? {
        for candidate in [header, document?.type, document?.code] {
            guard let candidate else { continue }
            var text = Substring(candidate)
            if let colon = text.firstIndex(of: ":") { text = text[..<colon] }
            if let hash = text.firstIndex(of: "#") { text = text[text.index(after: hash)...] }
            let code = Redaction.field(ASCII.trimmingBlanks(String(text)), secrets: [])
            if !code.isEmpty { return code }
        }
        return nil
    }
}
