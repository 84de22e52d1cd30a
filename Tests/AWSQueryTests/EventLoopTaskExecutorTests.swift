import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import AWSQuery

@Suite("Event loop task executor")
struct EventLoopTaskExecutorTests {
    @Test("a task that prefers it, its child tasks, and their resumptions after a wait run on its loop")
    func runsOnItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(eventLoop: loop)
        let (parent, children) = await withTaskExecutorPreference(executor) {
            let parent = loop.inEventLoop
            let children = await withTaskGroup(of: [Bool].self) { tasks in
                for _ in 0..<4 {
                    tasks.addTask {
                        let before = loop.inEventLoop
                        try? await Task.sleep(for: .milliseconds(2))
                        return [before, loop.inEventLoop]
                    }
                }
                return await tasks.reduce(into: [Bool]()) { $0 += $1 }
            }
            return (parent, children)
        }
        #expect(parent)
        #expect(children == Array(repeating: true, count: 8))
        // Without the preference, the same code does not run on that loop.
        #expect(!loop.inEventLoop)
        try await group.shutdownGracefully()
    }

    @Test("nonisolated async calls on it need no further job; a resumption from the loop needs one")
    func noExtraJobs() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let enqueued = NIOLockedValueBox(0)
        let executor = EventLoopTaskExecutor(eventLoop: loop, onEnqueue: { enqueued.withLockedValue { $0 += 1 } })
        let (calls, resumptions, sum) = await withTaskExecutorPreference(executor) {
            let start = enqueued.withLockedValue { $0 }
            var sum = 0
            for value in 0..<100 { sum += await Self.nonisolatedWork(value) }
            let afterCalls = enqueued.withLockedValue { $0 }
            for value in 0..<100 {
                // As an HTTP answer does: the loop resumes the waiting task.
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    loop.execute { continuation.resume() }
                }
                sum += await Self.nonisolatedWork(value)
            }
            let afterWaits = enqueued.withLockedValue { $0 }
            return (afterCalls - start, afterWaits - afterCalls, sum)
        }
        #expect(sum == 2 * (0..<100).reduce(0, +))
        #expect(calls == 0)
        #expect(resumptions == 100)
        try await group.shutdownGracefully()
    }

    /// A nonisolated async function that does not suspend.
    static func nonisolatedWork(_ value: Int) async -> Int {
        value
    }
}
