import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The limits on what the client reads from the network. Past any of them the exchange fails
/// with `HTTP1TransportError.Kind.limitExceeded` and the connection is closed.
public enum HTTPLimits {
    /// One response head: header names and values together (NIOHTTP1 counts them). IAM answers
    /// carry a handful of short headers; 32 KiB is far above any real one.
    public static let maxResponseHeadBytes = 32 * 1024
    /// One header line (name and value).
    public static let maxHeaderFieldBytes = 16 * 1024
    /// Header lines in one head (trailers count too).
    public static let maxHeaderCount = 256
    /// One response body held in memory. IAM and STS answers are a few KiB; a list of every
    /// user of a large account a few MiB. `GetCredentialReport`'s base64 `Content` does not
    /// count: it streams to a file as it arrives, bounded by its own limit
    /// (`IAMClient.maxCredentialReportBytes`), and only the XML around it is held.
    public static let maxResponseBodyBytes = 16 * 1024 * 1024
    /// Everything in a response that is not body: status lines, headers, interim answers, chunk
    /// sizes and extensions, trailers. Bounds chunk extensions and trailers, which the parser
    /// reads past without keeping.
    public static let maxResponseOverheadBytes = 256 * 1024
    /// Interim (`1xx`) answers before the final one.
    public static let maxInterimResponses = 8
    /// The answer of a proxy to `CONNECT` (head only).
    public static let maxProxyAnswerBytes = 16 * 1024
}

/// Why an exchange failed below HTTP. `AWSClientError` is made from it by the client, which
/// knows the action.
public struct HTTP1TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case timeout
        case connection
        /// The connection ended, or could not be written, before any byte of an answer.
        case notAnswered
        /// The answer breaks HTTP/1.1 framing (duplicate lengths, bytes after the body, ...).
        case protocolViolation
        /// The answer went past one of `HTTPLimits`.
        case limitExceeded
        /// The request cannot be sent as given (URL, header value).
        case invalidRequest
        /// The proxy refused or failed the tunnel (`CONNECT` answered other than 2xx).
        case proxyRefused(status: Int)
        /// TLS failed: handshake, certificate verification, protocol version.
        case tls
    }
    public var kind: Kind
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail }
}

/// Maps the HTTP stack's errors onto `AWSClientError`.
///
/// Retry classes follow: timeouts and dropped connections are retried (`.timeout`,
/// `.transient`); a malformed answer, one past a limit, a refused header value or a TLS failure
/// is `.invalidResponse(httpStatus: 0)` or `.invalidRequest`, never retried (the same server
/// would answer the same way) and never counted as throttling; a proxy's non-2xx answer to
/// `CONNECT` carries its status (`407` is never retried, `502`/`503` are transient).
public enum TransportErrors {
    public static func map(_ error: any Error, action: String) -> AWSClientError {
        if let error = error as? AWSClientError { return error }
        if let error = error as? HTTP1TransportError {
            switch error.kind {
            case .timeout: return AWSClientError(.timeout, action: action, detail: error.detail)
            case .connection, .notAnswered:
                return AWSClientError(.connection, action: action, detail: error.detail)
            case .protocolViolation, .limitExceeded, .tls:
                return AWSClientError(.invalidResponse(httpStatus: 0), action: action, detail: error.detail)
            case .proxyRefused(let status):
                return AWSClientError(.invalidResponse(httpStatus: status), action: action, detail: error.detail)
            case .invalidRequest: return AWSClientError(.invalidRequest, action: action, detail: error.detail)
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return AWSClientError(.timeout, action: action, detail: "connecting timed out")
        }
        return AWSClientError(.connection, action: action, detail: "\(error)")
    }

    /// An error raised inside the pipeline (decoder, TLS, socket) as the transport reports it.
    static func fromPipeline(_ error: any Error) -> HTTP1TransportError {
        if let error = error as? HTTP1TransportError { return error }
        if let error = error as? HTTPParserError {
            if error == .invalidEOFState {
                // The connection ended inside the answer (a cut body): lost, as a drop is, not malformed.
                return HTTP1TransportError(
                    kind: .connection, detail: "the server closed the connection before the response was complete")
            }
            if error == .headerOverflow {
                return HTTP1TransportError(
                    kind: .limitExceeded,
                    detail:
                        "invalid HTTP response: head larger than \(HTTPLimits.maxResponseHeadBytes) bytes or a header line larger than \(HTTPLimits.maxHeaderFieldBytes)"
                )
            }
            return HTTP1TransportError(kind: .protocolViolation, detail: "invalid HTTP response: \(error)")
        }
        if error is NIOHTTPDecoderError || error is ByteToMessageDecoderError {
            return HTTP1TransportError(kind: .protocolViolation, detail: "invalid HTTP response: \(error)")
        }
        if let error = error as? NIOSSLError {
            return HTTP1TransportError(kind: .tls, detail: tlsDetail("\(error)"))
        }
        if let error = error as? BoringSSLError {
            return HTTP1TransportError(kind: .tls, detail: tlsDetail("\(error)"))
        }
        if error is NIOSSLExtraError {
            return HTTP1TransportError(kind: .tls, detail: tlsDetail("\(error)"))
        }
        return HTTP1TransportError(kind: .connection, detail: "\(error)")
    }

    private static func tlsDetail(_ text: String) -> String {
        let verify = text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate")
        return "TLS failed: \(text)"
            + (verify
                ? " (the server's certificate is not trusted: a TLS-inspecting proxy or private endpoint needs its CA in --ca-bundle, AWS_CA_BUNDLE or ca_bundle)"
                : "")
    }
}
