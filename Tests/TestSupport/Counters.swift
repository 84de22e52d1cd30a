import NIOConcurrencyHelpers

/// A locked integer for counting across tasks in tests.
public final class NIOLockedValueBoxInt: Sendable {
    private let box = NIOLockedValueBox(0)

    public init() {}

    /// Adds one and returns the new value.
    public func increment() -> Int {
        box.withLockedValue {
            $0 += 1
            return $0
        }
    }

    public var value: Int { box.withLockedValue { $0 } }
}
