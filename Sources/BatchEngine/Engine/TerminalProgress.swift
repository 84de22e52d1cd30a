import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// A live progress line on standard error (done/total, rate, failures, throttled calls, ETA),
/// redrawn at most twice a second. Use it only when standard error is a terminal.
public final class TerminalProgress: BatchProgress {
    private let state = NIOLockedValueBox((last: 0.0, shown: false))
    private let start = AdaptiveRateLimiter.monotonicSeconds()

    public init() {}

    /// True when standard error is a terminal.
    public static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    public func update(done: Int, total: Int, failed: Int, throttled: Int) {
        let now = AdaptiveRateLimiter.monotonicSeconds()
        let draw = state.withLockedValue { state -> Bool in
            guard now - state.last >= 0.5 || done == total else { return false }
            state.last = now
            state.shown = true
            return true
        }
        guard draw else { return }
        FileHandle.standardError.write(
            Data(
                ("\r\u{1B}[K"
                    + Self.line(done: done, total: total, failed: failed, throttled: throttled, elapsed: now - start))
                    .utf8))
    }

    public func finish() {
        if state.withLockedValue({ $0.shown }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// `[120/500] 24.0 rows/s, 2 failed, 3 throttled, ETA 0:16`
    public static func line(done: Int, total: Int, failed: Int, throttled: Int, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "[\(done)/\(total)] " + String(format: "%.1f rows/s", rate)
        text += ", \(failed) failed"
        if throttled > 0 { text += ", \(throttled) throttled" }
        if rate > 0 && done < total {
            let remaining = Int((Double(total - done) / rate).rounded())
            text += String(format: ", ETA %d:%02d", remaining / 60, remaining % 60)
        }
        return text
    }
}
