import NIOConcurrencyHelpers

/// Lets the caller of a non-idempotent call learn that the transport sent its request more than
/// once: `HTTPTransport` sends a request again, once, when a reused keep-alive connection closes
/// without answering, and that silence may also mean the server applied the first copy and the
/// answer was lost. Set `TransportNotices.resend` around the call, then read `resent`.
public final class ResendNotice: Sendable {
    private let flag = NIOLockedValueBox(false)

    public init() {}

    /// True once the transport has sent the request again.
    public var resent: Bool { flag.withLockedValue { $0 } }

    /// Called by the transport when it sends the request again.
    public func record() { flag.withLockedValue { $0 = true } }
}

/// Task-local notices from the transport to the call in progress.
public enum TransportNotices {
    @TaskLocal public static var resend: ResendNotice?
}
