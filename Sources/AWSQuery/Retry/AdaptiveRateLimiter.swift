import Foundation
import NIOConcurrencyHelpers

/// One request-rate limiter shared by every call of a batch, whose rate follows CUBIC like the
/// AWS SDKs' adaptive retry mode: it does nothing until the first throttle; then it lowers the
/// rate and grows it back along a cubic curve as calls succeed. Requests are let go evenly,
/// `1 / rate` apart, never in a burst (not even after an idle stretch). With a ceiling
/// (`--max-rate`) it paces from the start and never lets go faster than the ceiling.
///
/// What differs from a per-client SDK limiter, to waste less time and provoke fewer throttles
/// when the whole batch shares one limit:
///
/// - **One reduction per congestion event.** Throttles of requests paced before the last
///   reduction (already on their way, or waiting on a turn granted at the old rate) are part of
///   the event that caused it, however many there are; and a throttle never raises the rate.
/// - **The server's rate, measured.** While requests queue at the limiter, the server gets every
///   one it has room for, so its successes per second are the rate it allows. Counted between
///   two throttled requests (its bucket was empty at both) that is off by less than one request;
///   counted over the last second, by at most what its bucket held at the start. Requests not
///   answered yet count as successes (throttles come back sooner, and a rate measured high
///   costs one more throttle, measured low seconds under the limit). A throttle then
///   sets the rate just under that measurement (`estimateBeta`) and the cubic climbs back to it
///   and probes beyond slowly (`estimateScale`), instead of cutting to 0.7x (`beta`) and racing
///   back (`scaleConstant`), which throttles again every few seconds. With too few requests to
///   measure (the first throttles of a run, or any while the limiter is off or idle) it falls
///   back to the SDK's rule, applied to the rate requests were let go at (throttles come back
///   before successes, so answers understate it).
/// - Faults and timeouts (`RateOutcome.failed`) neither lower nor raise the rate (they count as
///   let through when the server's rate is measured).
///
/// `acquire` reserves a turn under a lock and sleeps outside it, so waiting callers are served
/// in order without spinning. The simulation in the tests runs it against a token-bucket server.
public final class AdaptiveRateLimiter: RequestRateLimiter, Sendable {
    /// The SDK's multiplicative decrease and cubic scale, used when the server's rate is unknown.
    static let beta = 0.7
    static let scaleConstant = 0.4
    /// Used after a measured throttle: 0.9x the server's rate, and a cubic scale relative to it.
    /// 0.0005 climbs back to it in 5.8 s and then probes slowly: 2% above it 3.4 s later, 5% above
    /// 4.6 s later.
    static let estimateBeta = 0.9
    static let estimateScale = 0.0005
    /// A measurement needs `minSamples` successes over at least `estimateHistory` seconds (or
    /// between two throttles), counted over the last `rateWindow` seconds, or as long as it takes
    /// to see `estimateSamples` at a low rate (at most `maxRateWindow`).
    static let estimateHistory = 0.25
    static let minSamples = 5.0
    static let rateWindow = 1.0
    static let maxRateWindow = 4.0
    static let estimateSamples = 20.0
    static let minFillRate = 0.5
    /// Responses and releases kept before a sweep trims them to this (about 4 s at 2,000
    /// requests/s); a sweep also runs once they span twice `maxRateWindow`.
    static let maxHistory = 8192

    struct Response {
        var time: Double
        /// When its request was let go.
        var released: Double
        var outcome: RateOutcome
        var throttled: Bool { outcome == .throttled }
        /// Let through by the server's rate limit (a fault or timeout was too: only a throttle
        /// says the limit was reached).
        var passed: Bool { outcome != .throttled }
    }

    struct State {
        var enabled = false
        var fillRate = 0.0
        /// The earliest time the next request may go: requests are spaced `1 / fillRate` apart
        /// and never sent in a burst, however long the limiter sat idle.
        var nextRelease = 0.0
        /// Since when every request has had to wait its turn (nil when the last one did not).
        var pacedSince: Double?
        /// Responses of the last `maxRateWindow` seconds (up to twice that before a sweep), oldest first.
        var recent: [Response] = []
        /// When the first response arrived (for how much history there is).
        var firstResponse: Double?
        /// When requests were let go, likewise.
        var releases: [Double] = []
        var firstRelease: Double?
        /// The rate the cubic curve returns to: the server's measured rate, or what was being sent.
        var lastMaxRate = 0.0
        var reducedBy = AdaptiveRateLimiter.beta
        var scale = AdaptiveRateLimiter.scaleConstant
        var lastThrottleTime: Double
        var throttles = 0
        /// When the last throttled request was let go (the server's bucket was empty when it came).
        var lastThrottled: Double?
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
            initial.nextRelease = now
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

    /// Takes the next turn and returns it with how many seconds to wait before sending (0 when
    /// the limiter is off or idle). The wait is the caller's: the turn is already its own.
    func reserve() -> (RateTicket, wait: Double) {
        state.withLockedValue { state in
            let now = clock()
            guard state.enabled else {
                Self.rememberRelease(&state, at: now)
                return (RateTicket(grantedAt: now), 0)
            }
            let release = max(now, state.nextRelease)
            state.nextRelease = release + 1 / state.fillRate
            if release > now {
                if state.pacedSince == nil { state.pacedSince = now }
            } else {
                state.pacedSince = nil
            }
            Self.rememberRelease(&state, at: release)
            return (RateTicket(grantedAt: now, releasedAt: release), release - now)
        }
    }

    /// Learns from one answer: a throttle lowers the rate (once per congestion event), an answer
    /// lets it climb back along the cubic curve; a fault or timeout says nothing about the rate.
    public func record(_ ticket: RateTicket, outcome: RateOutcome) {
        state.withLockedValue { state in
            let now = clock()
            if state.firstResponse == nil { state.firstResponse = now }
            Self.append(Response(time: now, released: ticket.releasedAt, outcome: outcome), to: &state.recent, at: now)
            {
                $0.time
            }
            let newRate: Double?
            switch outcome {
            case .throttled: newRate = Self.reduce(&state, throttled: ticket, now: now)
            case .answered: newRate = Self.climb(&state, now: now)
            case .failed: newRate = nil
            }
            guard let newRate else { return }
            // The floor keeps a limiter that was cut hard from stalling; the ceiling wins over it.
            let floored = max(newRate, Self.minFillRate)
            state.fillRate = ceiling.map { min(floored, $0) } ?? floored
        }
    }

    /// A throttle: the new rate, or nil when it belongs to a congestion event already counted
    /// (its request was granted before the last reduction).
    private static func reduce(_ state: inout State, throttled ticket: RateTicket, now: Double) -> Double? {
        state.throttles += 1
        let previousThrottle = state.lastThrottled
        state.lastThrottled = max(state.lastThrottled ?? ticket.releasedAt, ticket.releasedAt)
        if state.reductions > 0, ticket.grantedAt <= state.lastThrottleTime { return nil }
        state.reductions += 1
        if let served = serverRate(state, now: now, throttledAt: ticket.releasedAt, previousThrottle: previousThrottle)
        {
            // What got through while more was sent is the rate the server allows: go just under
            // it, climb back slowly, probe beyond it gently.
            state.lastMaxRate = served
            state.reducedBy = estimateBeta
        } else {
            // Nothing measured: the SDK's rule, applied to the rate requests were let go at
            // (early throttles come back before the successes, so answers alone understate it):
            // the limiter's while it holds requests back.
            let sent = sentRate(state, now: now, window: rateWindow)
            let released = max(releaseRate(state, now: now, window: rateWindow), sent)
            state.lastMaxRate =
                !state.enabled ? released : state.pacedSince != nil ? state.fillRate : min(released, state.fillRate)
            state.reducedBy = beta
        }
        state.lastMaxRate = max(state.lastMaxRate, minFillRate)
        state.lastThrottleTime = now
        // Never up on a throttle: one soon after a reduction, while the server's bucket is still
        // empty, can measure a rate above what is being sent. The curve then starts from the
        // current rate (and climbs to a little above it).
        if state.enabled, state.lastMaxRate * state.reducedBy > state.fillRate {
            state.lastMaxRate = state.fillRate / state.reducedBy
        }
        // Measured: a curve scaled to the rate; unmeasured: the SDK's.
        state.scale = state.reducedBy == beta ? scaleConstant : estimateScale * max(state.lastMaxRate, minFillRate)
        let newRate = state.lastMaxRate * state.reducedBy
        if !state.enabled {
            state.enabled = true
            state.nextRelease = now + 1 / max(newRate, minFillRate)
        }
        return newRate
    }

    /// An answer while the limiter is on: the cubic curve's rate, or nil when nothing was
    /// reduced yet.
    private static func climb(_ state: inout State, now: Double) -> Double? {
        guard state.enabled, state.lastMaxRate > 0 else { return nil }
        let window = pow(state.lastMaxRate * (1 - state.reducedBy) / state.scale, 1.0 / 3.0)
        let calculated = state.scale * pow(now - state.lastThrottleTime - window, 3) + state.lastMaxRate
        // Never more than twice what is actually being sent (the SDK rule), so an idle stretch
        // cannot grow a burst; but not below where the last reduction put it (requests held back
        // by retry waits are not a sign of a lower limit).
        let sent = sentRate(state, now: now, window: rateWindow)
        return min(calculated, max(2 * sent, state.lastMaxRate * state.reducedBy, minFillRate))
    }

    /// Appends to a history kept in time order. Readers look back at most `maxRateWindow`; older
    /// entries go in one sweep once they span twice that (or there are twice `maxHistory`), so
    /// a call does not shift the whole history.
    static func append<Entry>(_ entry: Entry, to history: inout [Entry], at now: Double, time: (Entry) -> Double) {
        history.append(entry)
        if let first = history.first, now - time(first) > 2 * maxRateWindow || history.count > 2 * maxHistory {
            history.removeFirst(
                max(history.firstIndex { now - time($0) <= maxRateWindow } ?? 0, history.count - maxHistory))
        }
    }

    /// The rate the server allows, measured at the throttle of a request let go at
    /// `throttledAt`: successes per second among the requests let go over a stretch before it
    /// during which the limiter was holding requests back, so the server had every request it
    /// could take and none of its room went unused. Two stretches: from `rateWindow` earlier (or
    /// as long as it takes to see `estimateSamples` at a low rate; the server's bucket may have
    /// held some at its start, so the count can be high by its size), and from the previous
    /// throttled request (the bucket was empty at both ends: off by less than one request). The
    /// lower of the two that have `minSamples`; nil when neither has, or the limiter is not pacing.
    static func serverRate(_ state: State, now: Double, throttledAt: Double, previousThrottle: Double?) -> Double? {
        guard state.enabled, let steadySince = state.pacedSince else { return nil }
        // Throttles can come back sooner than successes: a request let go in the stretch and
        // not answered yet counts as a success (an overstatement costs a throttle soon, an
        // understatement seconds under the limit).
        func successes(from start: Double) -> Double {
            let inside = { (released: Double) in released > start && released <= throttledAt }
            var answered = 0
            var succeeded = 0
            for response in state.recent where inside(response.released) {
                answered += 1
                if response.passed { succeeded += 1 }
            }
            let unanswered = max(0, state.releases.count(where: inside) - answered)
            return Double(succeeded + unanswered)
        }
        var estimate: Double? = nil
        let sent = sentRate(state, now: now, window: rateWindow)
        let window = min(max(estimateSamples / max(sent, 1), rateWindow), maxRateWindow)
        let windowStart = max(throttledAt - window, steadySince)
        if throttledAt - windowStart >= estimateHistory {
            let count = successes(from: windowStart)
            if count >= minSamples { estimate = count / (throttledAt - windowStart) }
        }
        if let anchor = previousThrottle, anchor >= steadySince, anchor < throttledAt,
            throttledAt - anchor < maxRateWindow
        {
            // The bucket held less than one request's room at either end: one more could have gone.
            let count = successes(from: anchor)
            if count >= minSamples { estimate = min(estimate ?? .infinity, (count + 1) / (throttledAt - anchor)) }
        }
        return estimate
    }

    static func rememberRelease(_ state: inout State, at time: Double) {
        if state.firstRelease == nil { state.firstRelease = time }
        append(time, to: &state.releases, at: time) { $0 }
    }

    /// Requests let go per second over the last `window` seconds (or since the first, if sooner;
    /// at least a quarter second).
    static func releaseRate(_ state: State, now: Double, window: Double) -> Double {
        guard let first = state.firstRelease else { return 0 }
        let span = max(min(now - first, window), 0.25)
        let count = state.releases.count { $0 <= now && now - $0 <= window }
        return Double(count) / span
    }

    /// Responses per second over the last `window` seconds (or since the first response, if
    /// sooner; at least a quarter second).
    static func sentRate(_ state: State, now: Double, window: Double) -> Double {
        guard let first = state.firstResponse else { return 0 }
        let span = max(min(now - first, window), 0.25)
        let count = state.recent.reversed().prefix { now - $0.time <= window }.count
        return Double(count) / span
    }
}
