import NIOConcurrencyHelpers

/// The one bounded-concurrency primitive of the engine: batch lanes, review users and the
/// credential-report review's `--detail` calls all run through it.
///
/// `limit` worker tasks (never more, and never more than there are items) each take the next
/// item from a shared cursor until none is left: no task per item, so a million rows cost
/// `limit` tasks. Every item is run at most once. A worker stops taking items once its task is
/// cancelled; the items it never took have no result (`nil` in `map`'s answer). What to do
/// about an item already running when the task is cancelled is `body`'s business (its calls
/// see the cancellation).
public enum BoundedConcurrency {
    /// Runs `body` for each item (with its index), at most `limit` at once. Returns each item's
    /// result by index; `nil` for an item that was never started (the task was cancelled).
    /// `body` runs on the workers, concurrently with itself.
    public static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], limit: Int, body: @escaping @Sendable (Int, Item) async -> Output
    ) async -> [Output?] {
        var results = [Output?](repeating: nil, count: items.count)
        guard !items.isEmpty else { return results }
        let cursor = NIOLockedValueBox(0)
        let workers = min(max(limit, 1), items.count)
        await withTaskGroup(of: [(Int, Output)].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var finished: [(Int, Output)] = []
                    while !Task.isCancelled {
                        let index = cursor.withLockedValue { next -> Int? in
                            guard next < items.count else { return nil }
                            defer { next += 1 }
                            return next
                        }
                        guard let index else { break }
                        finished.append((index, await body(index, items[index])))
                    }
                    return finished
                }
            }
            for await finished in group {
                for (index, output) in finished { results[index] = output }
            }
        }
        return results
    }

    /// Runs `body` for each item (with its index), at most `limit` at once; see `map`.
    public static func forEach<Item: Sendable>(
        _ items: [Item], limit: Int, body: @escaping @Sendable (Int, Item) async -> Void
    ) async {
        _ = await map(items, limit: limit, body: body)
    }
}
