import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import ConsoleAccess

/// The core against moto, through a recording proxy so the wire can be checked where moto
/// cannot show it (moto drops PasswordResetRequired on create). The core's decisions are
/// tested on the in-memory IAM (`CoreTests`).
@Suite(
    "Console-access core against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ServiceTests {
    static let password = Password("Core-Test-Passw0rd!")

    /// A service pointed at a recording proxy in front of the shared moto, plus an admin for setup.
    func withService<T: Sendable>(
        policy: PasswordPolicy? = nil, caller: CallerIdentity? = nil, rule: RecordingProxy.FaultRule? = nil,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1)),
        _ body: (ConsoleAccessService, MotoAdmin, RecordingProxy) async throws -> T
    ) async throws -> T {
        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!, rule: rule)
        do {
            let result = try await Moto.withSession(endpoint: proxy.url) { session, _, transport in
                let admin = MotoAdmin(endpoint: Moto.endpoint!, transport: transport)
                let service = ConsoleAccessService(
                    iam: session.iam, caller: caller, passwordPolicy: policy, partition: .aws,
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

    func loginProfileExists(_ admin: MotoAdmin, _ user: String) async throws -> Bool {
        do {
            _ = try await admin.iam.call("GetLoginProfile", [QueryParameter("UserName", user)])
            return true
        } catch let error as AWSServiceError where error.code == "NoSuchEntity" {
            return false
        }
    }

    func attachedPolicies(_ admin: MotoAdmin, _ user: String) async throws -> [String] {
        let response = try await admin.iam.call("ListAttachedUserPolicies", [QueryParameter("UserName", user)])
        return (response.result.child("AttachedPolicies")?.members ?? []).compactMap { $0.string("PolicyArn") }
    }

    @Test("enable a user without a profile: profile created with reset required, policy attached")
    func enableNew() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("en")
            try await admin.createUser(user)
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .changed)
            #expect(outcome.changes == [.profileCreated, .policyAttached])
            #expect(outcome.detail == "login profile created, IAMUserChangePassword attached")
            #expect(outcome.attempts == 2)
            #expect(outcome.requestId != nil)
            #expect(try await loginProfileExists(admin, user))
            #expect(try await attachedPolicies(admin, user) == ["arn:aws:iam::aws:policy/IAMUserChangePassword"])

            // The fewest calls: a new profile needs no ListAttachedUserPolicies.
            #expect(proxy.actions == ["CreateLoginProfile", "AttachUserPolicy"])
            let create = try #require(proxy.requests.first)
            #expect(create.formParameters["UserName"] == user)
            #expect(create.formParameters["PasswordResetRequired"] == "true")
            #expect(create.formParameters["Password"] == Self.password.revealed)
            #expect(proxy.requests[1].formParameters["PolicyArn"] == "arn:aws:iam::aws:policy/IAMUserChangePassword")
        }
    }

    @Test("enable with resetExisting resets an existing password (reset required) and ensures the policy")
    func enableResetExisting() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("rx")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let first = await service.enable(user: user, password: Self.password, resetExisting: true)
            #expect(first.status == .changed)
            #expect(first.changes == [.passwordReset, .policyAttached])
            #expect(first.detail == "password reset, IAMUserChangePassword attached")
            let second = await service.enable(user: user, password: Self.password, resetExisting: true)
            #expect(second.status == .changed)
            #expect(second.changes == [.passwordReset])
            let updates = proxy.requests.filter { $0.formParameters["Action"] == "UpdateLoginProfile" }
            #expect(updates.count == 2)
            for update in updates {
                #expect(update.formParameters["UserName"] == user)
                #expect(update.formParameters["PasswordResetRequired"] == "true")
            }
            #expect(proxy.actions.filter { $0 == "AttachUserPolicy" }.count == 1)
        }
    }

    @Test("disable with a profile deletes it; again is unchanged; a missing user is not-found")
    func disable() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("dis")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let first = await service.disable(user: user)
            #expect(first.status == .changed)
            #expect(first.changes == [.profileDeleted])
            #expect(!(try await loginProfileExists(admin, user)))

            let second = await service.disable(user: user)
            #expect(second.status == .unchanged)
            #expect(second.detail == "no login profile (console access already disabled)")
            #expect(second.succeeded)

            let ghost = Moto.uniqueName("ghost")
            let missing = await service.disable(user: ghost)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "NoSuchEntity")
            #expect(!missing.succeeded)
            #expect(ExitStatus.of(missing) == .failure)
            #expect(proxy.requests.allSatisfy { $0.formParameters["UserName"]?.isEmpty == false })
        }
    }

}
