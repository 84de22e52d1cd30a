import NIOCore

/// Runs Swift Concurrency jobs on one NIO event loop: tasks that prefer it
/// (`withTaskExecutorPreference`) and the HTTP connections they use share a thread, so an
/// answer resumes its caller without a hop to another thread.
///
/// The executable installs NIO's event loops as the global executor instead when it can
/// (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`);
/// that finds the runtime's hook by name, which a binary with the Swift runtime linked
/// statically (`make install`) does not export, and then this does the same job.
@available(macOS 15.0, *)
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
