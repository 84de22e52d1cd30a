import Foundation

/// An error answered by an AWS service: the code, message, HTTP status and request id it sent.
public struct AWSServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Fault: String, Sendable {
        case sender = "Sender"
        case receiver = "Receiver"
    }

    /// The AWS error code as sent, e.g. `NoSuchEntity`, `Throttling`, `AccessDenied`.
    public let code: String
    /// The code, typed: compare with its cases, never with a string.
    public let errorCode: AWSErrorCode
    public let message: String
    public let httpStatus: Int
    public let requestId: String?
    public let fault: Fault?
    /// The API action that failed, e.g. `CreateLoginProfile`.
    public let action: String
    /// The server's `Date` header, when it sent one: used to tell clock skew apart.
    public var serverDate: Date? { serverDateSource.value }
    private var serverDateSource: ServerDate
    /// The local clock when the response arrived.
    public let localDate: Date?

    public init(
        code: String, message: String, httpStatus: Int, requestId: String? = nil, fault: Fault? = nil,
        action: String, serverDate: Date? = nil, localDate: Date? = nil
    ) {
        self.code = code
        self.errorCode = AWSErrorCode(code)
        self.message = message
        self.httpStatus = httpStatus
        self.requestId = requestId
        self.fault = fault
        self.action = action
        self.serverDateSource = serverDate.map(ServerDate.date) ?? .none
        self.localDate = localDate
    }

    /// An error whose server date is the text of an HTTP `Date` header, parsed only when read.
    init(
        code: String, message: String, httpStatus: Int, requestId: String?, fault: Fault?, action: String,
        dateHeader: String?, localDate: Date?
    ) {
        self.init(
            code: code, message: message, httpStatus: httpStatus, requestId: requestId, fault: fault, action: action,
            localDate: localDate)
        if let dateHeader { serverDateSource = .header(dateHeader) }
    }

    /// The server's date as given, or as the header text, parsed only when asked for: most error
    /// answers (`NoSuchEntity`, `EntityAlreadyExists`) are handled without it. Equal when the
    /// dates are, however each was given.
    private enum ServerDate: Sendable, Equatable {
        case none
        case date(Date)
        case header(String)

        var value: Date? {
            switch self {
            case .none: return nil
            case .date(let date): return date
            case .header(let text): return ISO8601.parseHTTPDate(text)
            }
        }

        static func == (lhs: ServerDate, rhs: ServerDate) -> Bool { lhs.value == rhs.value }
    }

    /// How far the local clock is from the server's, when both are known (positive: local is ahead).
    public var clockSkew: TimeInterval? {
        guard let serverDate, let localDate else { return nil }
        return localDate.timeIntervalSince(serverDate)
    }

    public var description: String {
        var text = "\(action) failed: \(code)"
        if !message.isEmpty { text += ": \(message)" }
        text += " (HTTP \(httpStatus)"
        if let requestId { text += ", request id \(requestId)" }
        text += ")"
        if let hint { text += ". \(hint)" }
        return text
    }

    public var retryClass: RetryClass { errorCode.retryClass(httpStatus: httpStatus) }

    /// What the user can do about a credentials error.
    var hint: String? {
        switch errorCode {
        case .signatureDoesNotMatch, .requestExpired, .invalidSignatureException:
            if let skew = clockSkew, abs(skew) > 240 {
                let minutes = Int((abs(skew) / 60).rounded())
                return
                    "The local clock is \(minutes) minute(s) \(skew > 0 ? "ahead of" : "behind") the server's; AWS rejects signatures more than 5 minutes off. Fix the system clock (NTP)"
            }
            if errorCode == .signatureDoesNotMatch {
                return "Check the secret access key for this access key id"
            }
            return nil
        case .invalidClientTokenId, .unrecognizedClientException:
            return "The access key id is not known to this endpoint; check the credentials and the partition"
        case .expiredToken, .expiredTokenException:
            return "The session token has expired; refresh the temporary credentials"
        default:
            return nil
        }
    }
}

/// A failure on our side of the wire: the request never got a usable answer.
public struct AWSClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Could not connect, or the connection dropped before a full response.
        case connection
        /// No answer within the timeout.
        case timeout
        /// The server answered, but not with a response we can read (an HTML error page, a proxy).
        /// Status 0: the answer broke HTTP framing or went past a limit (`HTTPLimits`), or TLS
        /// failed; never retried.
        case invalidResponse(httpStatus: Int)
        /// The endpoint or request could not be formed.
        case invalidRequest
    }

    public let kind: Kind
    public let action: String
    public let detail: String

    public init(_ kind: Kind, action: String, detail: String) {
        self.kind = kind
        self.action = action
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .connection: return "\(action) failed: connection error: \(detail)"
        case .timeout: return "\(action) failed: timed out: \(detail)"
        case .invalidResponse(let status):
            // Status 0: the answer broke HTTP framing or a limit before a status could count.
            return status == 0
                ? "\(action) failed: unreadable response: \(detail)"
                : "\(action) failed: unreadable response (HTTP \(status)): \(detail)"
        case .invalidRequest: return "\(action) failed: invalid request: \(detail)"
        }
    }

    public var retryClass: RetryClass {
        switch kind {
        case .connection: return .transient
        case .timeout: return .timeout
        case .invalidResponse(let status): return AWSErrorCode("").retryClass(httpStatus: status)
        case .invalidRequest: return .never
        }
    }

    /// The report's error code for this failure: `ConnectionError`, `ClientTimeout`,
    /// `InvalidResponse` or `InvalidRequest`.
    public var code: String {
        switch kind {
        case .connection: return "ConnectionError"
        case .timeout: return "ClientTimeout"
        case .invalidResponse: return "InvalidResponse"
        case .invalidRequest: return "InvalidRequest"
        }
    }

    /// The HTTP status of an unreadable answer (0 when it broke framing before a status could
    /// count); nil when there was no answer.
    public var httpStatus: Int? {
        if case .invalidResponse(let status) = kind { return status }
        return nil
    }

    /// True when the request may have reached the server and been applied although no answer
    /// came: a timeout or a connection error. `kind` does not say whether the request bytes were
    /// sent, so a connection that never opened counts too; the caller then reads IAM, which
    /// settles it.
    public var answerMayBeLost: Bool { kind == .timeout || kind == .connection }
}

/// Whether, and why, an error may be retried.
public enum RetryClass: Sendable, Equatable {
    /// The service asked us to slow down.
    case throttling
    /// A transient fault: 5xx, connection drops, `ServiceFailure`, ...
    case transient
    /// A timeout (retried, but costs more retry quota).
    case timeout
    /// Retrying cannot help.
    case never

    public var isRetryable: Bool { self != .never }

    /// Classifies any error the client can throw.
    public static func of(_ error: any Error) -> RetryClass {
        switch error {
        case let e as AWSServiceError: return e.retryClass
        case let e as AWSClientError: return e.retryClass
        default: return .never
        }
    }
}
