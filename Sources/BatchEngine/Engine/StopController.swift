import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Tells a running batch to stop starting new work. Set by SIGINT/SIGTERM (see `SignalTrap`)
/// or by a program using the library.
public final class StopController: Sendable {
    private struct State {
        var stopped = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public var isStopping: Bool { state.withLockedValue { $0.stopped } }

    public func requestStop() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard !state.stopped else { return [] }
            state.stopped = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a stop is requested (at once if it already was), or when the calling task
    /// is cancelled.
    public func waitForStop() async {
        let id = state.withLockedValue { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.stopped || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// Turns SIGINT and SIGTERM into a graceful stop; a second SIGINT exits at once with 130.
///
/// `@unchecked Sendable`: Dispatch's signal sources are not declared `Sendable` on Linux.
/// Safe because `sources` is written only by `init` and `cancel` (the owner's, called once at
/// the end of a command, never concurrently with `init`), and the event handlers touch only
/// the `Sendable` stop controller and a locked counter.
public final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "console-access.signals")

    /// - Parameters:
    ///   - onFirst: called on the first SIGINT or SIGTERM (print a note, request the stop).
    ///   - onSecond: called on a later SIGINT before exiting with 130.
    public init(
        controller: StopController, onFirst: @escaping @Sendable (Int32) -> Void,
        onSecond: @escaping @Sendable () -> Void
    ) {
        let count = NIOLockedValueBox(0)
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let seen = count.withLockedValue {
                    $0 += 1
                    return $0
                }
                if seen == 1 {
                    onFirst(number)
                    controller.requestStop()
                } else if number == SIGINT {
                    onSecond()
                    exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Restores the default signal handling.
    public func cancel() {
        for source in sources { source.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
