import AWSQuery
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import ConsoleAccess

/// `reset` and lost answers over the wire: the parameters sent and answers lost on a real
/// connection (the transport's own resend included), against moto through the fault-injecting
/// proxy. The core's decisions for every fault are tested on the in-memory IAM (`CoreTests`).
@Suite(
    "Reset and lost answers over the wire against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ResetAndRecoveryTests {
    static let password = Password("Reset-Test-Passw0rd!")
    static let policyArn = "arn:aws:iam::aws:policy/IAMUserChangePassword"

    func withService<T: Sendable>(
        policy: PasswordPolicy? = nil, rule: RecordingProxy.FaultRule? = nil,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1)),
        _ body: (ConsoleAccessService, MotoAdmin, RecordingProxy) async throws -> T
    ) async throws -> T {
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!, rule: rule)
        do {
            let result = try await Moto.withSession(endpoint: proxy.url) { session, _, transport in
                let admin = MotoAdmin(endpoint: Moto.endpoint!, transport: transport)
                let service = ConsoleAccessService(
                    iam: session.iam, caller: nil, passwordPolicy: policy, partition: .aws,
                    executor: CallExecutor(policy: retry))
                return try await body(service, admin, proxy)
            }
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    // MARK: reset

    @Test("reset sets a new temporary password on an existing profile, one call, reset required")
    func resetExisting() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("rs")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let outcome = await service.reset(user: user, password: Self.password)
            #expect(outcome.status == .changed)
            #expect(outcome.action == .reset)
            #expect(outcome.changes == [.passwordReset])
            #expect(outcome.detail == "password reset")
            #expect(outcome.passwordWasSet)
            #expect(proxy.actions == ["UpdateLoginProfile"])
            let update = try #require(proxy.requests.first)
            #expect(update.formParameters["PasswordResetRequired"] == "true")
            #expect(update.formParameters["Password"] == Self.password.revealed)
            #expect(update.formParameters["UserName"] == user)
        }
    }

    // MARK: Lost answers

    @Test("a CreateLoginProfile applied but whose answer was lost is reported created, from IAM's CreateDate")
    func lostCreateAnswer() async throws {
        try await withService(rule: RecordingProxy.firstPerUser("CreateLoginProfile", .forwardThenDrop)) {
            service, admin, proxy in
            // moto answers GetLoginProfile with the user's creation time; IAM with the profile's.
            proxy.setRewrite(RecordingProxy.profileCreationDates())
            let user = Moto.uniqueName("lost")
            try await admin.createUser(user)
            // Long enough before that moto's user date alone would say "before this run".
            try await Task.sleep(for: .seconds(3))
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .changed)
            #expect(outcome.changes == [.profileCreated, .policyAttached])
            #expect(outcome.passwordWasSet)
            #expect(outcome.detail.hasPrefix("login profile created, IAMUserChangePassword attached; "))
            #expect(outcome.detail.contains("after this run sent it"))
            #expect(!outcome.detail.contains("already enabled"))
            #expect(
                proxy.actions == [
                    "CreateLoginProfile", "CreateLoginProfile", "GetLoginProfile", "AttachUserPolicy",
                ])
            #expect(proxy.injected == [.forwardThenDrop])
        }
    }

    @Test("a lost answer on a reused connection, resent by the HTTP layer itself, is still resolved by reading IAM")
    func lostAnswerResentByTransport() async throws {
        try await withService(rule: RecordingProxy.firstPerUser("CreateLoginProfile", .forwardThenDrop)) {
            service, admin, proxy in
            proxy.setRewrite(RecordingProxy.profileCreationDates())
            let user = Moto.uniqueName("resent")
            try await admin.createUser(user)
            // A first call opens the keep-alive connection the create then goes out on.
            var attempts = 0
            _ = try await service.executor.run(attempts: &attempts) { try await service.iam.getUser(userName: user) }
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .changed)
            #expect(outcome.changes == [.profileCreated, .policyAttached])
            #expect(outcome.detail.contains("after this run sent it"), "\(outcome.detail)")
            // One attempt of the call as the executor sees it, two on the wire: the transport resent it.
            #expect(outcome.attempts == 3)
            #expect(
                proxy.actions == [
                    "GetUser", "CreateLoginProfile", "CreateLoginProfile", "GetLoginProfile", "AttachUserPolicy",
                ])
        }
    }
}
