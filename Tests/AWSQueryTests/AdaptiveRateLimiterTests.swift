import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

@Suite("Adaptive rate limiter")
struct AdaptiveRateLimiterTests {
    /// A clock the test moves by hand, and sleeps that advance it instead of waiting.
    final class FakeClock: Sendable {
        let now = NIOLockedValueBox(1000.0)
        let slept = NIOLockedValueBox(0.0)
        func advance(_ seconds: Double) { now.withLockedValue { $0 += seconds } }
        /// `count` requests, one every `interval` seconds, each answered at once without a throttle.
        func sendAnswered(_ count: Int, every interval: Double, through limiter: AdaptiveRateLimiter) async throws {
            for _ in 0..<count {
                limiter.record(try await limiter.acquire(), throttled: false)
                advance(interval)
            }
        }

        /// A limiter turned on by a throttle after a second at 40/s, all through: unpaced,
        /// nothing says the server was saturated, so the SDK's 0.7x of the 40/s sent.
        func limiterOnAfterThrottle() async throws -> AdaptiveRateLimiter {
            let limiter = limiter()
            try await sendAnswered(40, every: 0.025, through: limiter)
            limiter.record(try await limiter.acquire(), throttled: true)
            return limiter
        }

        func limiter(ceiling: Double? = nil) -> AdaptiveRateLimiter {
            AdaptiveRateLimiter(
                ceiling: ceiling, clock: { self.now.withLockedValue { $0 } },
                sleep: { duration in
                    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
                    self.slept.withLockedValue { $0 += seconds }
                    self.advance(seconds)
                })
        }
    }

    @Test("off until the first throttle: no waiting")
    func offUntilThrottle() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter()
        for _ in 0..<100 {
            limiter.record(try await limiter.acquire(), throttled: false)
        }
        #expect(!limiter.isEnabled)
        #expect(clock.slept.withLockedValue { $0 } == 0)
    }

    @Test("a throttle lowers the rate below what was sent; successes raise it again")
    func cubic() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter()
        // Send at 40/s for a second; ten more requests go out.
        try await clock.sendAnswered(40, every: 0.025, through: limiter)
        var inFlight: [RateTicket] = []
        for _ in 0..<10 { inFlight.append(try await limiter.acquire()) }
        clock.advance(0.05)
        limiter.record(try await limiter.acquire(), throttled: true)
        let lowered = limiter.currentRate
        #expect(limiter.isEnabled)
        #expect(lowered > 20 && lowered < 40, "\(lowered)")
        // Throttles of requests that were on their way before the reduction are the same
        // congestion event, however many and however late.
        clock.advance(1)
        for ticket in inFlight { limiter.record(ticket, throttled: true) }
        #expect(limiter.currentRate == lowered)
        #expect(limiter.throttleCount == 11)
        #expect(limiter.reductionCount == 1)
        // Successes over a few seconds bring the rate back up.
        for _ in 0..<200 {
            limiter.record(try await limiter.acquire(), throttled: false)
        }
        #expect(limiter.currentRate > lowered)
        // A request paced after the reduction and still throttled is a new event.
        limiter.record(try await limiter.acquire(), throttled: true)
        #expect(limiter.reductionCount == 2)
    }

    /// Sends `count` requests through `limiter` one after another, each answered at once by a
    /// server that allows `rate` per second with a bucket of `burst`; returns how many it throttled.
    func paced(_ count: Int, through limiter: AdaptiveRateLimiter, clock: FakeClock, rate: Double, burst: Double)
        async throws -> Int
    {
        var tokens = burst
        var last = clock.now.withLockedValue { $0 }
        var throttled = 0
        for _ in 0..<count {
            let ticket = try await limiter.acquire()
            let now = clock.now.withLockedValue { $0 }
            tokens = min(burst, tokens + (now - last) * rate)
            last = now
            if tokens >= 1 {
                tokens -= 1
                limiter.record(ticket, throttled: false)
            } else {
                throttled += 1
                limiter.record(ticket, throttled: true)
            }
        }
        return throttled
    }

    @Test("paced faster than the server allows: the rate settles just under what gets through")
    func measuredRate() async throws {
        let clock = FakeClock()
        let limiter = try await clock.limiterOnAfterThrottle()
        let first = limiter.currentRate
        #expect(first > 26 && first < 30, "\(first)")
        // The server allows 20/s with room for one request: paced requests are throttled until
        // the rate is measured between two throttles and set under it.
        let throttled = try await paced(150, through: limiter, clock: clock, rate: 20, burst: 1)
        #expect(limiter.currentRate > 16 && limiter.currentRate < 21, "\(limiter.currentRate)")
        #expect(limiter.reductionCount <= 4, "\(limiter.reductionCount) reductions")
        #expect(throttled <= 5, "\(throttled) throttled")
    }

    @Test("requests are spaced evenly: no burst after an idle stretch, none faster than the rate")
    func spacing() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter(ceiling: 10)
        clock.advance(30)
        var releases: [Double] = []
        for _ in 0..<5 {
            let ticket = try await limiter.acquire()
            releases.append(ticket.releasedAt)
            #expect(abs(ticket.releasedAt - clock.now.withLockedValue { $0 }) < 1e-9, "sent when released")
            limiter.record(ticket, throttled: false)
        }
        for (earlier, later) in zip(releases, releases.dropFirst()) {
            #expect(later - earlier >= 0.1 - 1e-9, "\(later - earlier) s apart at 10/s")
        }
    }

    @Test(
        "against a server allowing R calls/s, close to the ideal time with few throttles (simulated time)",
        arguments: [
            // At 5/s the server's bucket holds barely one request: sending a little too fast
            // wastes its room (every other request is throttled), so what gets through
            // understates its rate and the limiter settles under it.
            (rate: 5.0, calls: 200, maxRatio: 1.2, maxThrottled: 16),
            (rate: 10.0, calls: 400, maxRatio: 1.05, maxThrottled: 22),
            (rate: 20.0, calls: 700, maxRatio: 1.03, maxThrottled: 14),
            (rate: 50.0, calls: 1500, maxRatio: 1.05, maxThrottled: 14),
            (rate: 100.0, calls: 3000, maxRatio: 1.05, maxThrottled: 10),
        ])
    func simulatedServer(rate: Double, calls: Int, maxRatio: Double, maxThrottled: Int) {
        // The server's bucket starts full, so a client can finish a little under calls / rate.
        let ideal = Double(calls) / rate
        for seed: UInt64 in [1, 2, 3, 4, 5, 6] {
            var simulation = ThrottledServerSimulation(serverRate: rate, calls: calls)
            simulation.seed = seed
            let result = simulation.run()
            #expect(result.completed == calls)
            #expect(result.elapsed <= ideal * maxRatio, "seed \(seed): took \(result.elapsed) s, ideal \(ideal) s")
            #expect(result.throttled <= maxThrottled, "seed \(seed): \(result.throttled) throttled calls")
            #expect(!result.rateUpOnThrottle)
            // Not the SDK rule's saw-tooth (a reduction every 2-3 s): one every several seconds.
            #expect(
                Double(result.reductions) <= 4 + ideal / 5,
                "seed \(seed): \(result.reductions) reductions in \(ideal) s")
        }
    }

    @Test(
        "successes answered much later than throttles: the rate is not measured low (simulated time)",
        arguments: [20.0, 50.0])
    func slowSuccesses(rate: Double) {
        // 40 workers, successes 0.3-0.6 s after the throttles would come back.
        let calls = Int(rate * 35)
        for seed: UInt64 in [1, 2, 3] {
            var simulation = ThrottledServerSimulation(serverRate: rate, calls: calls)
            simulation.seed = seed
            simulation.workers = 40
            simulation.serviceTime = 0.3...0.6
            let result = simulation.run()
            #expect(result.completed == calls)
            let ideal = Double(calls) / rate
            #expect(result.elapsed <= ideal * 1.12, "seed \(seed): took \(result.elapsed) s, ideal \(ideal) s")
            // A throttle never raises the rate.
            #expect(!result.rateUpOnThrottle)
        }
    }

    @Test("a ceiling is never exceeded, before and after throttles, however low")
    func ceiling() async throws {
        for ceiling in [10.0, 0.2] {
            let clock = FakeClock()
            let limiter = clock.limiter(ceiling: ceiling)
            var releases: [Double] = []
            // Throttles and answers in turn; the rate may move, never above the ceiling.
            for i in 0..<60 {
                let ticket = try await limiter.acquire()
                releases.append(ticket.releasedAt)
                clock.advance(0.01)
                limiter.record(ticket, throttled: i % 10 == 9)
                #expect(limiter.currentRate <= ceiling + 1e-9, "\(limiter.currentRate) at ceiling \(ceiling)")
            }
            for (earlier, later) in zip(releases, releases.dropFirst()) {
                #expect(later - earlier >= 1 / ceiling - 1e-9, "\(later - earlier) s apart at \(ceiling)/s")
            }
        }
    }

    @Test("faults and timeouts neither lower nor raise the rate")
    func faults() async throws {
        let clock = FakeClock()
        let limiter = try await clock.limiterOnAfterThrottle()
        let rate = limiter.currentRate
        for _ in 0..<50 {
            let ticket = try await limiter.acquire()
            clock.advance(0.5)
            limiter.record(ticket, outcome: .failed)
        }
        #expect(limiter.currentRate == rate)
        #expect(limiter.reductionCount == 1)
    }

    @Test("a throttle that measures more than is being sent leaves the rate where it is, then and after")
    func neverUpOnThrottle() async throws {
        let clock = FakeClock()
        // Limiter on at 0.7 x 40/s; then paced requests all through for a while (the cubic climbs).
        let limiter = try await clock.limiterOnAfterThrottle()
        _ = try await paced(60, through: limiter, clock: clock, rate: 1000, burst: 1000)
        // A throttle while paced: the rate goes to 0.9x what got through.
        limiter.record(try await limiter.acquire(), throttled: true)
        let reduced = limiter.currentRate
        // Three requests go out at the lowered rate, unanswered; a fourth is throttled. The last
        // second holds the faster sends from before the reduction and the unanswered three count
        // as let through, so this throttle measures more than is being sent now.
        var inFlight: [RateTicket] = []
        for _ in 0..<3 { inFlight.append(try await limiter.acquire()) }
        limiter.record(try await limiter.acquire(), throttled: true)
        #expect(limiter.reductionCount == 3)
        #expect(limiter.currentRate <= reduced, "a throttle raised the rate from \(reduced) to \(limiter.currentRate)")
        let afterThrottle = limiter.currentRate
        // Their answers: the curve starts from where the throttle left the rate, no jump.
        for ticket in inFlight { limiter.record(ticket, throttled: false) }
        #expect(limiter.currentRate <= afterThrottle * 1.02, "\(afterThrottle) then \(limiter.currentRate)")
    }
}

/// A discrete-event simulation of a batch against a server with a token bucket (`serverRate`
/// per second, `burst` tokens) that answers `Throttling` beyond it: `setupCalls` one at a time,
/// then `workers` in parallel, every send paced by one shared `AdaptiveRateLimiter` on a
/// simulated clock. A call takes `latency`, plus a random `serviceTime` when the server does the
/// work (a throttle comes back sooner, as from moto behind the benchmark proxy); throttled calls
/// are retried after the executor's full-jitter backoff. Random numbers come from a seeded
/// generator, so a run is repeatable.
struct ThrottledServerSimulation {
    var serverRate: Double
    var calls: Int
    var burst: Double?
    var workers = 8
    var latency = 0.05
    var serviceTime: ClosedRange<Double> = 0.005...0.04
    var setupCalls = 2
    var seed: UInt64 = 42
    var policy = RetryPolicy(maxAttempts: 50)

    struct Result {
        var elapsed: Double
        var completed: Int
        var throttled: Int
        var reductions: Int
        /// A throttle raised the rate (it never should).
        var rateUpOnThrottle = false
    }

    /// `attempt` of the call: 1 for the first request, more for its retries.
    enum Event {
        case ready(attempt: Int)
        case send(attempt: Int, ticket: RateTicket)
        case response(attempt: Int, ticket: RateTicket, throttled: Bool)
    }

    func run() -> Result {
        let clock = AdaptiveRateLimiterTests.FakeClock()
        let start = clock.now.withLockedValue { $0 }
        let limiter = clock.limiter()
        var random = SplitMix64(seed: seed)
        func uniform() -> Double { Double(random.next() % 1_000_000) / 1_000_000 }
        let capacity = burst ?? max(1, serverRate / 4)
        var tokens = capacity
        var tokensAt = start
        var queue: [(time: Double, order: Int, event: Event)] = []
        var order = 0
        func schedule(_ time: Double, _ event: Event) {
            order += 1
            let index = queue.firstIndex { $0.time > time } ?? queue.endIndex
            queue.insert((time, order, event), at: index)
        }
        var started = 1
        var completed = 0
        var throttled = 0
        var rateUpOnThrottle = false
        schedule(start, .ready(attempt: 1))
        var now = start
        while !queue.isEmpty, completed < calls {
            let next = queue.removeFirst()
            now = next.time
            clock.now.withLockedValue { $0 = now }
            switch next.event {
            case .ready(let attempt):
                let (ticket, wait) = limiter.reserve()
                schedule(now + wait, .send(attempt: attempt, ticket: ticket))
            case .send(let attempt, let ticket):
                tokens = min(capacity, tokens + (now - tokensAt) * serverRate)
                tokensAt = now
                let allowed = tokens >= 1
                if allowed { tokens -= 1 }
                let work =
                    allowed ? serviceTime.lowerBound + uniform() * (serviceTime.upperBound - serviceTime.lowerBound) : 0
                schedule(now + latency + work, .response(attempt: attempt, ticket: ticket, throttled: !allowed))
            case .response(let attempt, let ticket, let wasThrottled):
                let before = limiter.currentRate
                limiter.record(ticket, throttled: wasThrottled)
                if wasThrottled, before > 0, limiter.currentRate > before { rateUpOnThrottle = true }
                if wasThrottled {
                    throttled += 1
                    let wait = policy.backoff(retry: attempt, random: uniform())
                    let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
                    schedule(now + seconds, .ready(attempt: attempt + 1))
                } else {
                    completed += 1
                    // Setup calls run one at a time; then the workers start.
                    let startNow = completed < setupCalls ? 1 : completed == setupCalls ? workers : 1
                    for _ in 0..<startNow where started < calls {
                        started += 1
                        schedule(now, .ready(attempt: 1))
                    }
                }
            }
        }
        return Result(
            elapsed: now - start, completed: completed, throttled: throttled, reductions: limiter.reductionCount,
            rateUpOnThrottle: rateUpOnThrottle)
    }
}
