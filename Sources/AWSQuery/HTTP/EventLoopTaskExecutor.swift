import NIOCore

/// Runs Swift Concurrency jobs on one NIO event loop: tasks that prefer it
/// (`withTaskExecutorPreference`) and the HTTP connections they use share a thread, so an
/// answer resumes its caller without a hop to another thread.
///
/// Jobs run with this as their *task* executor and no serial executor (the generic one), which
/// is what nonisolated async code asks for: calling and returning from such functions needs no
/// further enqueue. (NIO's global-executor takeover,
/// `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`,
/// runs jobs as the loop's serial executor instead, so the runtime enqueues a task again each
/// time it asks for the generic executor; the executable therefore uses this.)
@available(macOS 15.0, *)
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop
    private let onEnqueue: (@Sendable () -> Void)?

    /// - Parameter onEnqueue: called for every job enqueued (tests count them).
    public init(eventLoop: any EventLoop, onEnqueue: (@Sendable () -> Void)? = nil) {
        self.eventLoop = eventLoop
        self.onEnqueue = onEnqueue
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        onEnqueue?()
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
