import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// One request-rate limiter shared by every call of a batch: a token bucket whose rate follows
/// CUBIC, like the AWS SDKs' adaptive retry mode. It does nothing until the first throttle; then
/// it lowers the rate and grows it back along a cubic curve as calls succeed. With a ceiling
/// (`--max-rate`), the bucket is on from the start and never fills faster than the ceiling.
///
/// Two things differ from a per-client SDK limiter, both to waste less time and provoke fewer
/// throttles when the whole batch shares one limit:
///
/// - **One reduction per congestion event.** Throttles of requests paced before the last
///   reduction (already on their way, or waiting on a turn granted at the old rate) are part of
///   the event that caused it, however many there are.
/// - **The server's rate, measured.** While we send faster than the server allows, the rate of
///   *successful* responses is the rate it allows. When at least `estimateWindow` of history is
///   there, a throttle sets the rate just under that measurement (`estimateBeta`), and the cubic
///   curve climbs back to it and probes beyond slowly (`estimateScale`), instead of halving the
///   rate (`beta`) and racing back (`scaleConstant`), which throttles again every few seconds.
///   Without enough history (the very first throttle) it falls back to the SDK's rule.
///
/// `acquire` reserves a token under a lock and sleeps outside it, so waiting callers are served
/// in order without spinning.
public final class AdaptiveRateLimiter: RequestRateLimiter, Sendable {
    /// The SDK's multiplicative decrease and cubic scale, used when the server's rate is unknown.
    static let beta = 0.7
    static let scaleConstant = 0.4
    /// Used after a throttle once pacing: 0.9× the rate the throttle came at (or what got
    /// through, if less), and a cubic scale relative to that rate. 0.0005 climbs back to it in
    /// 5.8 s and then probes slowly: 2% above it 3.4 s later, 5% above 4.6 s later.
    static let estimateBeta = 0.9
    static let estimateScale = 0.0005
    /// History needed to trust the measured success rate.
    static let estimateHistory = 0.5
    /// Rates are measured over the last second, or over as long as it takes to see
    /// `estimateSamples` responses at a low rate (at most `maxRateWindow`).
    static let rateWindow = 1.0
    static let maxRateWindow = 4.0
    static let estimateSamples = 20.0
    static let minFillRate = 0.5
    static let minCapacity = 1.0
    /// The bucket holds this many seconds of tokens: small, so a reserve cannot burst.
    static let burstSeconds = 0.25

    struct Response {
        var time: Double
        var throttled: Bool
    }

    struct State {
        var enabled = false
        var fillRate = 0.0
        var maxCapacity = 0.0
        var currentCapacity = 0.0
        var lastRefill: Double?
        /// Responses of the last `maxRateWindow` seconds, oldest first.
        var recent: [Response] = []
        /// When the first response arrived (for how much history there is).
        var firstResponse: Double?
        /// The rate the cubic curve returns to: the server's measured rate, or what was being sent.
        var lastMaxRate = 0.0
        var reducedBy = AdaptiveRateLimiter.beta
        var scale = AdaptiveRateLimiter.scaleConstant
        var lastThrottleTime: Double
        var throttles = 0
        var reductions = 0
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
        var initial = State(lastThrottleTime: now)
        if let ceiling = self.ceiling {
            initial.enabled = true
            initial.fillRate = ceiling
            initial.maxCapacity = max(ceiling * Self.burstSeconds, Self.minCapacity)
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
    /// Congestion events that lowered the rate.
    public var reductionCount: Int { state.withLockedValue { $0.reductions } }
    public var isEnabled: Bool { state.withLockedValue { $0.enabled } }

    public func acquire() async throws -> RateTicket {
        let (ticket, wait) = reserve()
        if wait > 0 {
            try await sleep(.nanoseconds(Int64(wait * 1e9)))
        }
        try Task.checkCancellation()
        return ticket
    }

    /// Takes a token now and returns it with how many seconds to wait before sending (0 when
    /// one was there). The wait is the caller's: the token is already its own.
    func reserve() -> (RateTicket, wait: Double) {
        state.withLockedValue { state in
            let now = clock()
            guard state.enabled else { return (RateTicket(grantedAt: now), 0) }
            Self.refill(&state, now: now)
            state.currentCapacity -= 1
            let wait = state.currentCapacity >= 0 ? 0 : -state.currentCapacity / state.fillRate
            return (RateTicket(grantedAt: now), wait)
        }
    }

    public func record(_ ticket: RateTicket, throttled: Bool) {
        state.withLockedValue { state in
            let now = clock()
            Self.remember(&state, Response(time: now, throttled: throttled))
            let newRate: Double
            if throttled {
                state.throttles += 1
                if state.reductions > 0, ticket.grantedAt <= state.lastThrottleTime { return }
                state.reductions += 1
                let sent = Self.rates(state, now: now, window: Self.rateWindow).sent
                let window = min(max(Self.estimateSamples / max(sent, 1), Self.rateWindow), Self.maxRateWindow)
                let (_, succeeded, span) = Self.rates(state, now: now, window: window)
                let measured = now - (state.firstResponse ?? now) >= Self.estimateHistory && succeeded * span >= 3
                if state.reductions > 1 {
                    // Pacing already: what was being sent when the throttle came, or what got
                    // through, if less (then that is the server's rate).
                    let sending = min(sent, state.fillRate)
                    state.lastMaxRate = measured ? min(succeeded, sending) : sending
                    state.reducedBy = Self.estimateBeta
                    state.scale = Self.estimateScale * max(state.lastMaxRate, Self.minFillRate)
                } else if measured {
                    // The first throttle after a while of sending: what got through is the rate.
                    state.lastMaxRate = state.enabled ? min(succeeded, state.fillRate) : succeeded
                    state.reducedBy = Self.estimateBeta
                    state.scale = Self.estimateScale * max(state.lastMaxRate, Self.minFillRate)
                } else {
                    // Throttled at once: nothing measured yet; the SDK's rule until something is.
                    state.lastMaxRate = state.enabled ? min(sent, state.fillRate) : sent
                    state.reducedBy = Self.beta
                    state.scale = Self.scaleConstant
                }
                state.lastMaxRate = max(state.lastMaxRate, Self.minFillRate)
                state.lastThrottleTime = now
                newRate = state.lastMaxRate * state.reducedBy
                if !state.enabled {
                    state.enabled = true
                    state.lastRefill = now
                    state.currentCapacity = 0
                }
            } else {
                guard state.enabled, state.lastMaxRate > 0 else { return }
                let window = pow(state.lastMaxRate * (1 - state.reducedBy) / state.scale, 1.0 / 3.0)
                let calculated = state.scale * pow(now - state.lastThrottleTime - window, 3) + state.lastMaxRate
                // Never more than twice what is actually being sent (the SDK rule).
                let sent = Self.rates(state, now: now, window: Self.rateWindow).sent
                newRate = min(calculated, max(2 * sent, Self.minFillRate))
            }
            Self.refill(&state, now: now)
            let capped = ceiling.map { min(newRate, $0) } ?? newRate
            state.fillRate = max(capped, Self.minFillRate)
            state.maxCapacity = max(capped * Self.burstSeconds, Self.minCapacity)
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

    static func remember(_ state: inout State, _ response: Response) {
        if state.firstResponse == nil { state.firstResponse = response.time }
        state.recent.append(response)
        if let cut = state.recent.firstIndex(where: { response.time - $0.time <= maxRateWindow }), cut > 0 {
            state.recent.removeFirst(cut)
        }
        if state.recent.count > 8192 { state.recent.removeFirst(state.recent.count - 8192) }
    }

    /// Responses per second and successful responses per second over the last `window`
    /// seconds (or since the first response, if sooner; at least a quarter second), and that span.
    static func rates(_ state: State, now: Double, window: Double) -> (sent: Double, succeeded: Double, span: Double) {
        guard let first = state.firstResponse, !state.recent.isEmpty else { return (0, 0, 0) }
        let span = max(min(now - first, window), 0.25)
        var count = 0
        var succeeded = 0
        for response in state.recent.reversed() {
            if now - response.time > window { break }
            count += 1
            if !response.throttled { succeeded += 1 }
        }
        return (Double(count) / span, Double(succeeded) / span, span)
    }
}
