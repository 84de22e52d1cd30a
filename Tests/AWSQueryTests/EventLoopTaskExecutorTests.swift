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
}
