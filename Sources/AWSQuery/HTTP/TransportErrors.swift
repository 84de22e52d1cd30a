import NIOCore
import NIOPosix

/// Maps the HTTP stack's errors onto `AWSClientError`.
enum TransportErrors {
    static func map(_ error: any Error, action: String) -> AWSClientError {
        if let error = error as? AWSClientError { return error }
        if let error = error as? HTTP1TransportError {
            switch error.kind {
            case .timeout: return AWSClientError(.timeout, action: action, detail: error.detail)
            case .connection, .notAnswered, .invalidResponse:
                return AWSClientError(.connection, action: action, detail: error.detail)
            case .invalidURL: return AWSClientError(.invalidRequest, action: action, detail: error.detail)
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return AWSClientError(.timeout, action: action, detail: "connecting timed out")
        }
        if error is NIOConnectionError || error is ChannelError || error is IOError {
            return AWSClientError(.connection, action: action, detail: "\(error)")
        }
        return AWSClientError(.connection, action: action, detail: "\(error)")
    }
}
