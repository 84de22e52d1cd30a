import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import AWSQuery

@Suite("Retries: backoff, quota, cancellation")
struct CallExecutorTests {
    static func throttle() -> AWSServiceError {
        AWSServiceError(code: "Throttling", message: "Rate exceeded", httpStatus: 400, action: "Test")
    }

    /// An executor that records its waits instead of sleeping.
    static func executor(
        maxAttempts: Int, quota: RetryQuota = RetryQuota(), sleeps: NIOLockedValueBox<[Duration]>
    ) -> CallExecutor {
        CallExecutor(
            policy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(100), maxBackoff: .seconds(1)),
            quota: quota, sleep: { duration in sleeps.withLockedValue { $0.append(duration) } })
    }

    @Test("retryable errors are retried with backoff until success; attempts are counted")
    func retriesUntilSuccess() async throws {
        let sleeps = NIOLockedValueBox<[Duration]>([])
        let calls = NIOLockedValueBox(0)
        var attempts = 0
        let value = try await Self.executor(maxAttempts: 5, sleeps: sleeps).run(attempts: &attempts) {
            let n = calls.withLockedValue {
                $0 += 1
                return $0
            }
            if n < 3 { throw Self.throttle() }
            return "ok"
        }
        #expect(value == "ok")
        #expect(attempts == 3)
        let waits = sleeps.withLockedValue { $0 }
        #expect(waits.count == 2)
        #expect(waits[0] <= .milliseconds(100))
        #expect(waits[1] <= .milliseconds(200))
    }

    @Test("non-retryable errors fail at once")
    func noRetryForPermanent() async throws {
        let sleeps = NIOLockedValueBox<[Duration]>([])
        var attempts = 0
        for code in ["EntityAlreadyExists", "NoSuchEntity", "PasswordPolicyViolation", "LimitExceeded", "AccessDenied"]
        {
            attempts = 0
            await #expect(throws: AWSServiceError.self) {
                try await Self.executor(maxAttempts: 5, sleeps: sleeps).run(attempts: &attempts) { () -> Int in
                    throw AWSServiceError(code: code, message: "", httpStatus: 409, action: "Test")
                }
            }
            #expect(attempts == 1, "\(code)")
        }
        #expect(sleeps.withLockedValue { $0 }.isEmpty)
    }

    @Test("the attempt limit is honoured")
    func attemptLimit() async throws {
        let sleeps = NIOLockedValueBox<[Duration]>([])
        var attempts = 0
        await #expect(throws: AWSServiceError.self) {
            try await Self.executor(maxAttempts: 4, sleeps: sleeps).run(attempts: &attempts) { () -> Int in
                throw AWSServiceError(code: "ServiceFailure", message: "", httpStatus: 500, action: "Test")
            }
        }
        #expect(attempts == 4)
        #expect(sleeps.withLockedValue { $0.count } == 3)
    }

    @Test("an exhausted retry quota stops retries")
    func quota() async throws {
        let sleeps = NIOLockedValueBox<[Duration]>([])
        let quota = RetryQuota(tokens: 12)
        var attempts = 0
        await #expect(throws: AWSClientError.self) {
            try await Self.executor(maxAttempts: 10, quota: quota, sleeps: sleeps).run(attempts: &attempts) {
                () -> Int in
                throw AWSClientError(.connection, action: "Test", detail: "reset")
            }
        }
        #expect(attempts == 3)  // 12 tokens pay for two retries of 5
        #expect(quota.available == 2)
    }

    @Test("backoff is full jitter under an exponential ceiling capped at maxBackoff")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxBackoff: .seconds(1))
        #expect(policy.backoff(retry: 1, random: 1) == .milliseconds(100))
        #expect(policy.backoff(retry: 3, random: 1) == .milliseconds(400))
        #expect(policy.backoff(retry: 9, random: 1) == .seconds(1))
        #expect(policy.backoff(retry: 3, random: 0.5) == .milliseconds(200))
        #expect(policy.backoff(retry: 3, random: 0) == .zero)
    }

    @Test("AWS_MAX_ATTEMPTS is read and checked")
    func maxAttemptsSetting() throws {
        #expect(try RetryPolicy.maxAttempts(environment: [:], fallback: 5) == 5)
        #expect(try RetryPolicy.maxAttempts(environment: ["AWS_MAX_ATTEMPTS": "7"], fallback: 5) == 7)
        #expect(throws: AWSConfigurationError.self) {
            try RetryPolicy.maxAttempts(environment: ["AWS_MAX_ATTEMPTS": "zero"], fallback: 5)
        }
    }

    @Test("cancellation during a backoff wait stops the retries")
    func cancellation() async throws {
        let calls = NIOLockedValueBox(0)
        let executor = CallExecutor(
            policy: RetryPolicy(maxAttempts: 10, baseDelay: .seconds(30), maxBackoff: .seconds(30)))
        let task = Task {
            var attempts = 0
            return try await executor.run(attempts: &attempts) { () -> Int in
                calls.withLockedValue { $0 += 1 }
                throw AWSServiceError(code: "Throttling", message: "", httpStatus: 400, action: "Test")
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(calls.withLockedValue { $0 } <= 2)
    }
}
