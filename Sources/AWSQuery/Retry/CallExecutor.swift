import Foundation
import NIOConcurrencyHelpers

/// How a failed call is retried: which errors, how many attempts, how long to wait.
///
/// The defaults follow the AWS SDKs' standard mode: full-jitter exponential backoff
/// `random(0...1) × min(base × 2^(attempt-1), maxBackoff)`, a shared retry quota, and only
/// retryable errors (throttling, transient faults, 5xx, connection errors, timeouts).
public struct RetryPolicy: Sendable {
    /// Attempts per call, the first included. 1 disables retries.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxBackoff: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .seconds(1), maxBackoff: Duration = .seconds(20)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
    }

    /// Reads `AWS_MAX_ATTEMPTS` (a whole number ≥ 1), else `fallback`.
    public static func maxAttempts(environment: [String: String], fallback: Int) throws -> Int {
        guard let text = environment["AWS_MAX_ATTEMPTS"], !text.isEmpty else { return fallback }
        guard let value = Int(text), value >= 1 else {
            throw AWSConfigurationError.invalidSetting(
                name: "AWS_MAX_ATTEMPTS", reason: "must be a whole number ≥ 1, not '\(text)'")
        }
        return value
    }

    /// The wait before retry number `retry` (1 for the first retry), with full jitter.
    public func backoff(retry: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(retry - 1, 30)
        let ceiling = min(baseDelay * (1 << exponent), maxBackoff)
        return ceiling * random
    }
}

/// The SDKs' retry quota: retries spend tokens (5, or 10 after a timeout), successes give some
/// back. When a service is failing hard, the quota runs dry and calls fail fast instead of
/// piling retries onto it. Shared by every call of a run.
public final class RetryQuota: Sendable {
    public static let initialTokens = 500
    public static let retryCost = 5
    public static let timeoutCost = 10
    public static let noRetryIncrement = 1

    private let tokens: NIOLockedValueBox<Int>

    public init(tokens: Int = RetryQuota.initialTokens) {
        self.tokens = NIOLockedValueBox(tokens)
    }

    public var available: Int { tokens.withLockedValue { $0 } }

    /// Takes the cost of a retry; returns the cost taken, or nil when the quota is exhausted.
    func acquire(for retryClass: RetryClass) -> Int? {
        let cost = retryClass == .timeout ? Self.timeoutCost : Self.retryCost
        return tokens.withLockedValue { tokens in
            guard tokens >= cost else { return nil }
            tokens -= cost
            return cost
        }
    }

    func release(_ amount: Int) {
        tokens.withLockedValue { $0 = min(Self.initialTokens, $0 + amount) }
    }
}

/// Paces requests. `AdaptiveRateLimiter` (beside this file) implements this; one limiter is shared
/// by every call of a run.
public protocol RequestRateLimiter: Sendable {
    /// Waits until a request may be sent. Throws `CancellationError` when cancelled.
    func acquire() async throws -> RateTicket
    /// Feedback after each attempt, with the ticket its request was sent on.
    func record(_ ticket: RateTicket, outcome: RateOutcome)
}

/// How an attempt paced by a `RequestRateLimiter` ended.
public enum RateOutcome: Sendable {
    /// Answered, and not a throttle (an error of the call's own, like `NoSuchEntity`, included).
    case answered
    /// Refused for the request rate (`Throttling` and the like).
    case throttled
    /// No usable answer: a connection error, a timeout, a 5xx. Says nothing about the rate.
    case failed
}

extension RequestRateLimiter {
    /// `record(_:outcome:)` for an answered or throttled request.
    public func record(_ ticket: RateTicket, throttled: Bool) {
        record(ticket, outcome: throttled ? .throttled : .answered)
    }
}

/// When a request's turn was granted and when it was let go (later, when it had to wait): the
/// limiter tells the throttles of requests paced before it lowered its rate (already on their
/// way, or waiting on a turn granted at the old rate) from those paced after, and measures what
/// the server let through between the sends of two throttled requests.
public struct RateTicket: Sendable {
    public var grantedAt: Double
    public var releasedAt: Double

    public init(grantedAt: Double, releasedAt: Double? = nil) {
        self.grantedAt = grantedAt
        self.releasedAt = releasedAt ?? grantedAt
    }
}

/// Runs one API call with retries: each call on its own, so a step that succeeded is never
/// repeated by a later step's retry. Honors cancellation between and during waits.
public struct CallExecutor: Sendable {
    public var policy: RetryPolicy
    public var quota: RetryQuota
    public var limiter: (any RequestRateLimiter)?
    /// Called for each throttled response (for counters).
    public var onThrottle: (@Sendable () -> Void)?
    var sleep: @Sendable (Duration) async throws -> Void

    public init(
        policy: RetryPolicy = RetryPolicy(), quota: RetryQuota = RetryQuota(), limiter: (any RequestRateLimiter)? = nil,
        onThrottle: (@Sendable () -> Void)? = nil,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.policy = policy
        self.quota = quota
        self.limiter = limiter
        self.onThrottle = onThrottle
        self.sleep = sleep
    }

    /// Runs `operation` until it succeeds, fails with a non-retryable error, or runs out of
    /// attempts or quota. `attempts` is increased by one per request sent.
    public func run<T: Sendable>(attempts: inout Int, _ operation: () async throws -> T) async throws -> T {
        var attempt = 0
        var spentOnRetries = 0
        while true {
            try Task.checkCancellation()
            attempt += 1
            let ticket = try await limiter?.acquire()
            attempts += 1
            do {
                // The attempt number is 1 unless set: a first attempt skips binding the task-local.
                let value =
                    attempt == 1 && CallContext.attempt == 1
                    ? try await operation()
                    : try await CallContext.$attempt.withValue(attempt) { try await operation() }
                if let ticket { limiter?.record(ticket, outcome: .answered) }
                quota.release(spentOnRetries > 0 ? spentOnRetries : RetryQuota.noRetryIncrement)
                return value
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                let retryClass = RetryClass.of(error)
                if retryClass == .throttling { onThrottle?() }
                if let ticket {
                    // A fault or timeout says nothing about the rate; an error answer does.
                    let outcome: RateOutcome =
                        switch retryClass {
                        case .throttling: .throttled
                        case .never: .answered
                        case .transient, .timeout: .failed
                        }
                    limiter?.record(ticket, outcome: outcome)
                }
                guard retryClass.isRetryable, attempt < policy.maxAttempts, let cost = quota.acquire(for: retryClass)
                else { throw error }
                spentOnRetries += cost
                try await sleep(policy.backoff(retry: attempt))
            }
        }
    }
}
