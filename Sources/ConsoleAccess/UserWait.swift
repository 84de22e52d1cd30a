import Foundation

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
