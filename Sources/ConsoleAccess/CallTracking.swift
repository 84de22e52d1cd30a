import AWSQuery
import Foundation

/// What the attempts of one non-idempotent call (`CreateLoginProfile`, `DeleteLoginProfile`)
/// left unknown: when this run first sent it, and whether an attempt's answer was lost (a
/// timeout, or the connection closed before a full answer), so that IAM may have applied a
/// request whose answer never arrived.
struct CallTracking: Sendable {
    /// The local clock when the first attempt started.
    var firstSentAt: Date?
    /// The action of the attempt whose answer was lost, if one was.
    var lostAction: String?

    var answerLost: Bool { lostAction != nil }

    /// True for the client errors after which the request may have reached IAM: a timeout or a
    /// connection error. `AWSClientError` does not say whether the request bytes were sent, so a
    /// connection that never opened counts too; the caller then reads IAM, which settles it.
    static func mayHaveBeenApplied(_ error: any Error) -> Bool {
        guard let error = error as? AWSClientError else { return false }
        return error.kind == .timeout || error.kind == .connection
    }
}

/// How a login profile found after a lost `CreateLoginProfile` answer came to be.
enum ProfileOrigin: Sendable, Equatable {
    /// Created at or after this run first sent `CreateLoginProfile`: this run created it.
    case thisRun(Date)
    /// Created before this run sent anything: it was there already.
    case earlier(Date)
    /// IAM gave no creation date.
    case unknown
}

/// `--wait-for-user`: how long an enable or reset row keeps retrying while its user does not
/// exist yet (IAM is eventually consistent: a user created elsewhere seconds ago may still
/// answer `NoSuchEntity`), and the backoff between tries.
public struct UserWait: Sendable, Equatable {
    /// The longest window accepted (`--wait-for-user` above it is refused).
    public static let maxWindow: Duration = .seconds(3600)

    /// Zero: report `not-found` at once.
    public var window: Duration
    public var initialDelay: Duration
    public var maxDelay: Duration

    public static let none = UserWait(window: .zero)

    public init(window: Duration, initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(10)) {
        self.window = min(max(window, .zero), Self.maxWindow)
        self.initialDelay = max(initialDelay, .milliseconds(1))
        self.maxDelay = max(maxDelay, self.initialDelay)
    }

    /// The wait before try number `retry + 1` (1-based `retry`), or nil when the window is over.
    /// With a window, there is always a second try (a slow first answer does not use it up).
    func delay(retry: Int, elapsed: Duration) -> Duration? {
        guard window > .zero else { return nil }
        let exponent = min(retry - 1, 20)
        let backoff = min(initialDelay * (1 << exponent), maxDelay)
        let remaining = window - elapsed
        guard remaining > .zero else { return retry == 1 ? min(backoff, window) : nil }
        return min(backoff, remaining)
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Parses a duration such as `90s`, `2m`, `1h`, `500ms` or `0` (a bare number is seconds).
    public static func parseDuration(_ text: String) throws -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmed.dropFirst(digits.count)
        guard !digits.isEmpty, digits.count <= 7, let value = Int(digits) else {
            throw ParseError(description: "'\(text)' is not a duration like 90s, 2m or 0")
        }
        let duration: Duration
        switch unit {
        case "", "s": duration = .seconds(value)
        case "ms": duration = .milliseconds(value)
        case "m": duration = .seconds(value * 60)
        case "h": duration = .seconds(value * 3600)
        default: throw ParseError(description: "'\(text)': unknown unit '\(unit)'; use ms, s, m or h (e.g. 90s, 2m)")
        }
        guard duration <= maxWindow else {
            throw ParseError(description: "'\(text)' is longer than the 1 h limit")
        }
        return duration
    }

    /// `1.5 s`, `90 s`, `2 min 5 s`: how long a row waited, for its detail.
    static func describe(_ duration: Duration) -> String {
        let (whole, atto) = duration.components
        let seconds = Double(whole) + Double(atto) / 1e18
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        let rounded = Int(seconds.rounded())
        if rounded < 120 { return "\(rounded) s" }
        return "\(rounded / 60) min \(rounded % 60) s"
    }
}

extension ConsoleAccessService {
    /// The margin allowed between IAM's `CreateDate` and the moment this run first sent
    /// `CreateLoginProfile`, on top of the clock skew measured from the server's `Date` header:
    /// both have one-second resolution.
    static let creationDateMargin: TimeInterval = 2

    /// Runs one non-idempotent call with retries, noting in `tracking` when it was first sent and
    /// whether an attempt's answer was lost.
    func runTracked<T: Sendable>(
        _ tracking: inout CallTracking, attempts: inout Int, action: String, _ operation: () async throws -> T
    ) async throws -> T {
        try await executor.run(attempts: &attempts) {
            if tracking.firstSentAt == nil { tracking.firstSentAt = Date() }
            // The transport may send the request again on its own (a reused connection that
            // closed without answering): that first copy's answer is lost too.
            let notice = ResendNotice()
            do {
                let value = try await TransportNotices.$resend.withValue(notice) { try await operation() }
                if notice.resent { tracking.lostAction = action }
                return value
            } catch {
                if notice.resent || CallTracking.mayHaveBeenApplied(error) { tracking.lostAction = action }
                throw error
            }
        }
    }

    /// After a lost `CreateLoginProfile` answer and an `EntityAlreadyExists` retry: reads the
    /// profile (`GetLoginProfile`) and compares its `CreateDate` with when this run first sent the
    /// call, in the server's time (the skew measured from `conflict`'s `Date` header).
    func originOfProfile(
        user: String, sentAt: Date, conflict: AWSServiceError, outcome: inout Outcome
    ) async throws -> ProfileOrigin {
        let profile = try await executor.run(attempts: &outcome.attempts) {
            try await iam.getLoginProfile(userName: user)
        }
        outcome.requestId = profile.requestId
        guard let created = profile.value.createDate else { return .unknown }
        let sentInServerTime = sentAt.addingTimeInterval(-(conflict.clockSkew ?? 0))
        return created.timeIntervalSince(sentInServerTime) >= -Self.creationDateMargin
            ? .thisRun(created) : .earlier(created)
    }

    /// Retries `operation` while it reports the user missing (`nil`), within `wait`'s window, and
    /// notes in `waited` how long it waited (nil when it did not wait). Returns nil when the
    /// window ended before the user appeared.
    func waitingForUser<T>(
        _ wait: UserWait, waited: inout Duration?, _ operation: () async throws -> T?
    ) async throws -> T? {
        let clock = ContinuousClock()
        let start = clock.now
        var retry = 0
        while true {
            if let value = try await operation() {
                if retry > 0 { waited = clock.now - start }
                return value
            }
            retry += 1
            guard let delay = wait.delay(retry: retry, elapsed: clock.now - start) else {
                if retry > 1 { waited = clock.now - start }
                return nil
            }
            try await Task.sleep(for: delay)
        }
    }
}
