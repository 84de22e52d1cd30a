import AWSQuery
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
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
            try await limiter.acquire()
            limiter.record(throttled: false)
        }
        #expect(!limiter.isEnabled)
        #expect(clock.slept.withLockedValue { $0 } == 0)
    }

    @Test("a throttle lowers the rate below what was sent; successes raise it again")
    func cubic() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter()
        // Send at 40/s for a second.
        for _ in 0..<40 {
            try await limiter.acquire()
            limiter.record(throttled: false)
            clock.advance(0.025)
        }
        limiter.record(throttled: true)
        let lowered = limiter.currentRate
        #expect(limiter.isEnabled)
        #expect(lowered > 20 && lowered < 40, "\(lowered)")
        // A burst of throttles from requests already in flight is one event, not ten.
        for _ in 0..<10 { limiter.record(throttled: true) }
        #expect(limiter.currentRate == lowered)
        #expect(limiter.throttleCount == 11)
        // Successes over a few seconds bring the rate back up.
        for _ in 0..<200 {
            try await limiter.acquire()
            limiter.record(throttled: false)
        }
        #expect(limiter.currentRate > lowered)
    }

    @Test("a ceiling is never exceeded")
    func ceiling() async throws {
        let clock = FakeClock()
        let limiter = clock.limiter(ceiling: 10)
        let start = clock.now.withLockedValue { $0 }
        for _ in 0..<51 {
            try await limiter.acquire()
            limiter.record(throttled: false)
        }
        let elapsed = clock.now.withLockedValue { $0 } - start
        #expect(elapsed >= 4.9, "51 requests at 10/s take at least ~5 s, took \(elapsed)")
        #expect(limiter.currentRate <= 10)
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
