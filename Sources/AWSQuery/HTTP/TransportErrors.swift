import AsyncHTTPClient
import NIOCore
import NIOPosix

/// Maps the HTTP stack's errors onto `AWSClientError`.
enum TransportErrors {
    static func map(_ error: any Error, action: String) -> AWSClientError {
        if let error = error as? AWSClientError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .connectTimeout, .deadlineExceeded, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout,
                .writeTimeout:
                return AWSClientError(.timeout, action: action, detail: "\(error)")
            case .invalidURL, .emptyHost, .emptyScheme:
                return AWSClientError(.invalidRequest, action: action, detail: "\(error)")
            default:
                return AWSClientError(.connection, action: action, detail: "\(error)")
            }
        }
        if error is NIOConnectionError || error is ChannelError || error is IOError {
            return AWSClientError(.connection, action: action, detail: "\(error)")
        }
        return AWSClientError(.connection, action: action, detail: "\(error)")
    }
}
