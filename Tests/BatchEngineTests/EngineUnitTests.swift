import AWSQuery
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import BatchEngine

@Suite("Lanes: per-user ordering and conflicts")
struct LaneTests {
    func job(_ line: Int, _ user: String, _ action: ConsoleAction) -> BatchJob {
        BatchJob(line: line, user: user, action: action, password: action == .enable ? Password("P@ssw0rd-xyz") : nil)
    }

    @Test("jobs group by user, case-insensitively (IAM names are), in file order")
    func grouping() {
        let lanes = BatchRunner.lanes([
            job(2, "alice", .disable), job(3, "bob", .enable), job(4, "ALICE", .enable), job(5, "carol", .disable),
            job(6, "bob", .disable),
        ])
        #expect(lanes.map { $0.jobs.map(\.line) } == [[2, 4], [3, 6], [5]])
    }

    @Test("conflicting actions for one user are flagged on each of its rows")
    func conflicts() {
        let notes = BatchRunner.conflictNotes([
            job(2, "alice", .disable), job(3, "alice", .enable), job(4, "bob", .disable), job(5, "bob", .disable),
        ])
        #expect(notes[2]?.contains("line 3") == true)
        #expect(notes[3]?.contains("line 2") == true)
        #expect(notes[4] == nil && notes[5] == nil)
    }
}

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

    @Test("still throttled after a reduction: the rate goes just under what got through")
    func measuredRate() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter()
        // A second at 40/s, all through; then 60 requests go out at once and a throttle comes.
        try await clock.sendAnswered(40, every: 0.025, through: limiter)
        var inFlight: [RateTicket] = []
        for _ in 0..<60 { inFlight.append(try await limiter.acquire()) }
        limiter.record(try await limiter.acquire(), throttled: true)
        #expect(limiter.reductionCount == 1)
        let first = limiter.currentRate
        #expect(first > 30 && first < 40, "\(first)")
        // Their answers, over the next 1.5 s: one in two throttled (the server allows 20/s).
        for (i, ticket) in inFlight.enumerated() {
            clock.advance(0.025)
            limiter.record(ticket, throttled: i % 2 == 0)
        }
        #expect(limiter.reductionCount == 1)
        // A request paced at the lowered rate is throttled too: 20/s got through, so 0.9 × 20.
        limiter.record(try await limiter.acquire(), throttled: true)
        #expect(limiter.reductionCount == 2)
        #expect(limiter.currentRate > 17 && limiter.currentRate < 19, "\(limiter.currentRate)")
    }

    @Test(
        "against a server allowing R calls/s, close to the ideal time with few throttles (simulated time)",
        arguments: [
            // At 5/s, 8 workers and a bucket of barely one token, the success rate is measured on
            // few samples and comes out low: the limiter sits a little under the server's rate.
            (rate: 5.0, calls: 200, maxRatio: 1.15, maxThrottled: 24),
            (rate: 10.0, calls: 400, maxRatio: 1.05, maxThrottled: 15),
            (rate: 20.0, calls: 700, maxRatio: 1.05, maxThrottled: 12),
            (rate: 50.0, calls: 1500, maxRatio: 1.05, maxThrottled: 12),
            (rate: 100.0, calls: 3000, maxRatio: 1.05, maxThrottled: 15),
        ])
    func simulatedServer(rate: Double, calls: Int, maxRatio: Double, maxThrottled: Int) {
        let result = ThrottledServerSimulation(serverRate: rate, calls: calls).run()
        // The server's bucket starts full, so a client can finish a little under calls / rate.
        let ideal = Double(calls) / rate
        #expect(result.completed == calls)
        #expect(result.elapsed <= ideal * maxRatio, "took \(result.elapsed) s, ideal \(ideal) s")
        #expect(result.elapsed >= (Double(calls) - rate / 4) / rate * 0.999, "faster than the server allows?")
        #expect(result.throttled <= maxThrottled, "\(result.throttled) throttled calls")
        // Not the SDK rule's saw-tooth (a reduction every 2-3 s): one every several seconds.
        #expect(Double(result.reductions) <= 3 + ideal / 5, "\(result.reductions) reductions in \(ideal) s")
    }

    @Test("a ceiling is never exceeded")
    func ceiling() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter(ceiling: 10)
        let start = clock.now.withLockedValue { $0 }
        for _ in 0..<51 {
            limiter.record(try await limiter.acquire(), throttled: false)
        }
        let elapsed = clock.now.withLockedValue { $0 } - start
        #expect(elapsed >= 4.9, "51 requests at 10/s take at least ~5 s, took \(elapsed)")
        #expect(limiter.currentRate <= 10)
    }
}

/// A discrete-event simulation of a batch against a server with a token bucket (`serverRate`
/// per second, `burst` tokens) that answers `Throttling` beyond it: `workers` in parallel, each
/// call taking `latency`, throttled calls retried after the executor's full-jitter backoff (a
/// seeded generator), every send paced by one shared `AdaptiveRateLimiter` on a simulated clock.
struct ThrottledServerSimulation {
    var serverRate: Double
    var calls: Int
    var burst: Double?
    var workers = 8
    var latency = 0.06
    var policy = RetryPolicy(maxAttempts: 50)

    struct Result {
        var elapsed: Double
        var completed: Int
        var throttled: Int
        var reductions: Int
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
        var random = SplitMix64(seed: 42)
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
        var started = 0
        var completed = 0
        var throttled = 0
        for _ in 0..<min(workers, calls) {
            started += 1
            schedule(start, .ready(attempt: 1))
        }
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
                schedule(now + latency, .response(attempt: attempt, ticket: ticket, throttled: !allowed))
            case .response(let attempt, let ticket, let wasThrottled):
                limiter.record(ticket, throttled: wasThrottled)
                if wasThrottled {
                    throttled += 1
                    let wait = policy.backoff(retry: attempt, random: Double(random.next() % 1_000_000) / 1_000_000)
                    let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
                    schedule(now + seconds, .ready(attempt: attempt + 1))
                } else {
                    completed += 1
                    if started < calls {
                        started += 1
                        schedule(now, .ready(attempt: 1))
                    }
                }
            }
        }
        return Result(
            elapsed: now - start, completed: completed, throttled: throttled, reductions: limiter.reductionCount)
    }
}

@Suite("Progress line")
struct ProgressLineTests {
    @Test("done/total, rate, failures, throttled calls and ETA")
    func line() {
        #expect(
            TerminalProgress.line(done: 120, total: 500, failed: 2, throttled: 3, elapsed: 5)
                == "[120/500] 24.0 rows/s, 2 failed, 3 throttled, ETA 0:16")
        #expect(
            TerminalProgress.line(done: 500, total: 500, failed: 0, throttled: 0, elapsed: 10)
                == "[500/500] 50.0 rows/s, 0 failed")
        #expect(
            TerminalProgress.line(done: 0, total: 10, failed: 0, throttled: 0, elapsed: 0)
                == "[0/10] 0.0 rows/s, 0 failed")
    }
}
