import NIOConcurrencyHelpers
import Testing

@testable import BatchEngine

@Suite("Bounded concurrency")
struct BoundedConcurrencyTests {
    /// Counts items in flight and the most seen at once.
    final class Gauge: Sendable {
        private let state = NIOLockedValueBox((now: 0, most: 0))
        func enter() {
            state.withLockedValue {
                $0.now += 1; $0.most = max($0.most, $0.now)
            }
        }
        func leave() { state.withLockedValue { $0.now -= 1 } }
        var most: Int { state.withLockedValue { $0.most } }
    }

    @Test("never more than `limit` in flight; every item runs exactly once; results by index", arguments: [1, 3, 8])
    func bounded(limit: Int) async {
        let gauge = Gauge()
        let runs = NIOLockedValueBox([Int: Int]())
        let items = Array(0..<50)
        let results = await BoundedConcurrency.map(items, limit: limit) { index, item in
            gauge.enter()
            defer { gauge.leave() }
            runs.withLockedValue { $0[item, default: 0] += 1 }
            try? await Task.sleep(for: .milliseconds(1))
            #expect(index == item)
            return item * 2
        }
        #expect(gauge.most <= limit)
        #expect(gauge.most == limit, "the workers did overlap")
        #expect(runs.withLockedValue { $0 } == Dictionary(uniqueKeysWithValues: items.map { ($0, 1) }))
        #expect(results == items.map { $0 * 2 })
    }

    @Test("no items, or a limit below 1: runs nothing / one at a time")
    func edges() async {
        let none = await BoundedConcurrency.map([Int](), limit: 4) { _, item in item }
        #expect(none.isEmpty)
        let gauge = Gauge()
        await BoundedConcurrency.forEach(Array(0..<5), limit: 0) { _, _ in
            gauge.enter()
            try? await Task.sleep(for: .milliseconds(1))
            gauge.leave()
        }
        #expect(gauge.most == 1)
    }

    @Test("cancellation: no item starts after the task is cancelled; items not started have no result")
    func cancellation() async {
        let started = NIOLockedValueBox(0)
        let task = Task {
            await BoundedConcurrency.map(Array(0..<1000), limit: 2) { _, item -> Int in
                started.withLockedValue { $0 += 1 }
                try? await Task.sleep(for: .milliseconds(5))
                return item
            }
        }
        while started.withLockedValue({ $0 }) < 4 { try? await Task.sleep(for: .milliseconds(1)) }
        task.cancel()
        let results = await task.value
        let count = started.withLockedValue { $0 }
        #expect(count < 1000)
        #expect(results.count == 1000)
        #expect(results.compactMap { $0 }.count == count, "every started item has its result, no other does")
    }
}
