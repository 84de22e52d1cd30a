import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// One request-rate limiter shared by every call of a batch: a token bucket whose rate follows
/// CUBIC, like the AWS SDKs' adaptive retry mode (scale 0.4, beta 0.7, rates measured in 0.5 s
/// buckets). It does nothing until the first throttle; then it lowers the rate to 0.7× what was
/// being sent and grows it back along a cubic curve as calls succeed. With a ceiling
/// (`--max-rate`), the bucket is on from the start and never fills faster than the ceiling.
///
/// Unlike a per-call SDK client, the whole batch shares this one limiter, so a burst of
/// throttles from requests already in flight counts as one congestion event (one 0.7×
/// reduction), not one per response.
///
/// `acquire` reserves a token under a lock and sleeps outside it, so waiting callers are served
/// in order without spinning.
public final class AdaptiveRateLimiter: RequestRateLimiter, Sendable {
    static let smooth = 0.8
    static let beta = 0.7
    static let scaleConstant = 0.4
    static let minFillRate = 0.5
    static let minCapacity = 1.0
    /// Throttles within this many seconds of a reduction count as the same event.
    static let congestionWindow = 0.5

    struct State {
        var enabled = false
        var fillRate = 0.0
        var maxCapacity = 0.0
        var currentCapacity = 0.0
        var lastRefill: Double?
        var measuredTxRate = 0.0
        var lastTxRateBucket: Double
        var requestCount = 0
        /// Send times of recent responses, for a rate estimate before the first 0.5 s bucket closes.
        var recent: [Double] = []
        var lastMaxRate = 0.0
        var lastThrottleTime: Double
        var timeWindow = 0.0
        var throttles = 0
    }

    public let ceiling: Double?
    private let state: NIOLockedValueBox<State>
    private let clock: @Sendable () -> Double
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - ceiling: requests per second never to exceed (`--max-rate`), or nil.
    ///   - clock: seconds on a monotonic scale (tests inject their own).
    public init(
        ceiling: Double? = nil, clock: @escaping @Sendable () -> Double = AdaptiveRateLimiter.monotonicSeconds,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.ceiling = ceiling.flatMap { $0 > 0 ? $0 : nil }
        self.clock = clock
        self.sleep = sleep
        let now = clock()
        var initial = State(lastTxRateBucket: (now * 2).rounded(.down) / 2, lastThrottleTime: now)
        if let ceiling = self.ceiling {
            initial.enabled = true
            initial.fillRate = ceiling
            initial.maxCapacity = max(ceiling, Self.minCapacity)
            initial.currentCapacity = Self.minCapacity
            initial.lastRefill = now
        }
        self.state = NIOLockedValueBox(initial)
    }

    public static let monotonicSeconds: @Sendable () -> Double = {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The current fill rate in requests per second (0 while the limiter is off).
    public var currentRate: Double { state.withLockedValue { $0.enabled ? $0.fillRate : 0 } }
    /// Throttled responses seen.
    public var throttleCount: Int { state.withLockedValue { $0.throttles } }
    public var isEnabled: Bool { state.withLockedValue { $0.enabled } }

    public func acquire() async throws {
        let wait: Double = state.withLockedValue { state in
            guard state.enabled else { return 0 }
            let now = clock()
            Self.refill(&state, now: now)
            state.currentCapacity -= 1
            return state.currentCapacity >= 0 ? 0 : -state.currentCapacity / state.fillRate
        }
        if wait > 0 {
            try await sleep(.nanoseconds(Int64(wait * 1e9)))
        }
        try Task.checkCancellation()
    }

    public func record(throttled: Bool) {
        state.withLockedValue { state in
            let now = clock()
            Self.updateMeasuredRate(&state, now: now)
            let calculated: Double
            if throttled {
                state.throttles += 1
                // One reduction per congestion event: throttles answered within one measurement
                // bucket of the last reduction belong to the same burst (many requests in flight
                // at once), and compounding 0.7× for each would crash the rate.
                if state.enabled, now - state.lastThrottleTime < Self.congestionWindow { return }
                let measured = max(state.measuredTxRate, Self.recentRate(state, now: now))
                let rateToUse = state.enabled ? min(measured, state.fillRate) : measured
                state.lastMaxRate = max(rateToUse, Self.minFillRate)
                Self.calculateTimeWindow(&state)
                state.lastThrottleTime = now
                calculated = state.lastMaxRate * Self.beta
                if !state.enabled {
                    state.enabled = true
                    state.lastRefill = now
                    state.currentCapacity = 0
                }
            } else {
                guard state.enabled, state.lastMaxRate > 0 else { return }
                Self.calculateTimeWindow(&state)
                let dt = now - state.lastThrottleTime
                calculated = Self.scaleConstant * pow(dt - state.timeWindow, 3) + state.lastMaxRate
            }
            // Never more than twice what is actually being sent (the SDK rule), measured over the
            // last second so that the cap does not lag behind a rate that just started.
            let measured = max(state.measuredTxRate, Self.recentRate(state, now: now))
            var newRate = throttled ? calculated : min(calculated, max(2 * measured, Self.minFillRate))
            if let ceiling { newRate = min(newRate, ceiling) }
            Self.refill(&state, now: now)
            state.fillRate = max(newRate, Self.minFillRate)
            state.maxCapacity = max(newRate, Self.minCapacity)
            state.currentCapacity = min(state.currentCapacity, state.maxCapacity)
        }
    }

    static func refill(_ state: inout State, now: Double) {
        guard let last = state.lastRefill else {
            state.lastRefill = now
            return
        }
        let elapsed = max(0, now - last)
        state.currentCapacity = min(state.maxCapacity, state.currentCapacity + elapsed * state.fillRate)
        state.lastRefill = now
    }

    /// Responses per second over the last second (or since the first response, if sooner).
    static func recentRate(_ state: State, now: Double) -> Double {
        guard let first = state.recent.first, state.recent.count > 1 else { return 0 }
        let span = max(now - first, 0.25)
        return Double(state.recent.count) / span
    }

    static func updateMeasuredRate(_ state: inout State, now: Double) {
        state.recent.append(now)
        if let cut = state.recent.firstIndex(where: { now - $0 <= 1.0 }), cut > 0 {
            state.recent.removeFirst(cut)
        }
        if state.recent.count > 4096 { state.recent.removeFirst(state.recent.count - 4096) }
        let bucket = (now * 2).rounded(.down) / 2
        state.requestCount += 1
        if bucket > state.lastTxRateBucket {
            let current = Double(state.requestCount) / (bucket - state.lastTxRateBucket)
            state.measuredTxRate = current * smooth + state.measuredTxRate * (1 - smooth)
            state.requestCount = 0
            state.lastTxRateBucket = bucket
        }
    }

    static func calculateTimeWindow(_ state: inout State) {
        state.timeWindow = pow(state.lastMaxRate * (1 - beta) / scaleConstant, 1.0 / 3.0)
    }
}
