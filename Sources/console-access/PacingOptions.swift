import AWSQuery
import ArgumentParser
import Foundation

/// How hard a run may push AWS: shared by `batch` and `review`.
struct PacingOptions: ParsableArguments {
    @Option(help: "At most this many users in flight at once (1-64).")
    var concurrency = 4

    @Option(
        name: .customLong("max-attempts"),
        help: "Attempts per AWS call, retries included (default: AWS_MAX_ATTEMPTS, else 5).")
    var maxAttempts: Int?

    @Option(name: .customLong("max-rate"), help: "Never send more than this many requests per second.")
    var maxRate: Double?

    func validate() throws {
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 64") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
        if let maxRate, !(maxRate > 0) { throw ValidationError("--max-rate must be a positive number") }
    }

    /// The retry policy: `--max-attempts`, else `AWS_MAX_ATTEMPTS`, else 5.
    func retryPolicy() throws -> RetryPolicy {
        do {
            let attempts =
                try maxAttempts
                ?? RetryPolicy.maxAttempts(environment: ProcessInfo.processInfo.environment, fallback: 5)
            return RetryPolicy(maxAttempts: attempts)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
