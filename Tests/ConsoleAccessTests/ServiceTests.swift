import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import ConsoleAccess

/// The core against moto, through a recording proxy so the wire can be checked where moto
/// cannot show it (moto drops PasswordResetRequired on create).
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

    @Test("enable a user with a profile keeps their password; the policy is still ensured; twice makes no write")
    func enableExisting() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("ex")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let first = await service.enable(user: user, password: Self.password)
            #expect(first.status == .changed)
            #expect(first.changes == [.policyAttached])
            #expect(
                first.detail == "IAMUserChangePassword attached; console access already enabled (password not changed)")
            #expect(!first.passwordWasSet)
            #expect(proxy.actions == ["CreateLoginProfile", "ListAttachedUserPolicies", "AttachUserPolicy"])

            proxy.clearRecording()
            let second = await service.enable(user: user, password: Self.password)
            #expect(second.status == .unchanged)
            #expect(second.changes.isEmpty)
            #expect(second.detail == "console access already enabled (password not changed)")
            #expect(second.succeeded)
            #expect(proxy.actions == ["CreateLoginProfile", "ListAttachedUserPolicies"])
            #expect(proxy.successfulWrites.isEmpty)
            #expect(try await attachedPolicies(admin, user) == ["arn:aws:iam::aws:policy/IAMUserChangePassword"])
            #expect(!proxy.actions.contains("UpdateLoginProfile"))
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

    @Test("enable of a missing user is not-found, and nothing else is attempted")
    func enableMissing() async throws {
        try await withService { service, _, proxy in
            let user = Moto.uniqueName("nobody")
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .notFound)
            #expect(outcome.errorCode == "NoSuchEntity")
            #expect(outcome.detail == "no IAM user named \(user)")
            // AWS's message alone, as for disable: the report's other columns carry code and id.
            #expect(outcome.message?.contains(user) == true)
            #expect(outcome.message?.contains("CreateLoginProfile failed") == false)
            #expect(outcome.requestId != nil)
            #expect(proxy.actions == ["CreateLoginProfile"])
        }
    }

    @Test(
        "invalid names and passwords are refused with no request sent",
        arguments: [
            ("", "user name is empty"), ("has space", "invalid character U+0020 (space) at position 4"),
            ("semi;colon", "invalid character ';' at position 5"),
            (String(repeating: "a", count: 65), "65 characters long"),
        ])
    func invalidNames(user: String, reason: String) async throws {
        try await withService { service, _, proxy in
            let enabled = await service.enable(user: user, password: Self.password)
            #expect(enabled.status == .invalid)
            #expect(enabled.detail.contains(reason), "\(enabled.detail)")
            #expect(enabled.attempts == 0)
            let disabled = await service.disable(user: user)
            #expect(disabled.status == .invalid)
            #expect(proxy.requests.isEmpty)
        }
    }

    @Test(
        "invalid passwords are refused with no request sent and never quoted",
        arguments: [
            ("", "enable needs a password"), ("smart’quote-Passw0rd", "outside the allowed set"),
            ("emoji🙂-Passw0rd", "position 6"), (String(repeating: "x", count: 129), "129 characters"),
        ])
    func invalidPasswords(password: String, reason: String) async throws {
        try await withService { service, _, proxy in
            let outcome = await service.enable(user: "valid-user", password: Password(password))
            #expect(outcome.status == .invalid)
            #expect(outcome.detail.contains(reason), "\(outcome.detail)")
            if !password.isEmpty { #expect(!outcome.detail.contains(password)) }
            #expect(proxy.requests.isEmpty)
        }
    }

    @Test("the account password policy is checked locally, naming each rule broken")
    func policyChecked() async throws {
        let policy = PasswordPolicy(
            minimumPasswordLength: 14, requireSymbols: true, requireNumbers: true, requireUppercaseCharacters: true,
            requireLowercaseCharacters: true)
        try await withService(policy: policy) { service, _, proxy in
            let outcome = await service.enable(user: "policy-user", password: Password("short"))
            #expect(outcome.status == .invalid)
            #expect(outcome.detail.contains("at least 14 characters (this one has 5)"))
            #expect(outcome.detail.contains("an uppercase letter"))
            #expect(outcome.detail.contains("a number"))
            #expect(outcome.detail.contains("a symbol"))
            #expect(!outcome.detail.contains("a lowercase letter"))
            #expect(!outcome.detail.contains("short"))
            #expect(proxy.requests.isEmpty)
            #expect(policy.violations(of: Password("Long-Enough-Passw0rd!")).isEmpty)
        }
    }

    @Test("the caller's own user cannot be disabled")
    func selfDisable() async throws {
        let caller = CallerIdentity(
            account: "123456789012", arn: "arn:aws:iam::123456789012:user/ops/me", userId: "AID")
        try await withService(caller: caller) { service, _, proxy in
            let outcome = await service.disable(user: "me")
            #expect(outcome.status == .invalid)
            #expect(outcome.detail.contains("refusing to disable"))
            // IAM user names are unique ignoring case: `ME` is the same user.
            let upper = await service.disable(user: "ME")
            #expect(upper.status == .invalid)
            #expect(upper.detail.contains("refusing to disable"))
            #expect(proxy.requests.isEmpty)
            // A different user is not refused by the guard.
            #expect(service.localProblem(user: "me2", action: .disable, password: nil) == nil)
            #expect(service.localProblem(user: "m", action: .disable, password: nil) == nil)
        }
    }

    @Test("a throttled step is retried on its own; steps that succeeded are not repeated")
    func perCallRetry() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("retry")
            try await admin.createUser(user)
            // Throttle the first two AttachUserPolicy requests.
            let counter = NIOLockedValueBoxInt()
            proxy.setRule { request, _ in
                guard request.formParameters["Action"] == "AttachUserPolicy" else { return nil }
                return counter.increment() <= 2 ? .throttling : nil
            }
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .changed)
            #expect(outcome.attempts == 4)
            #expect(
                proxy.actions == ["CreateLoginProfile", "AttachUserPolicy", "AttachUserPolicy", "AttachUserPolicy"])
        }
    }

    @Test("a failure after a change is reported honestly: failed, with what was done")
    func partialFailure() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("partial")
            try await admin.createUser(user)
            proxy.setRule { request, _ in
                request.formParameters["Action"] == "AttachUserPolicy"
                    ? .error(code: "AccessDenied", status: 403, message: "not allowed to attach") : nil
            }
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .failed)
            #expect(outcome.errorCode == "AccessDenied")
            #expect(outcome.detail == "done before the failure: login profile created")
            #expect(outcome.httpStatus == 403)
            #expect(outcome.isAuthorizationFailure)
            #expect(ExitStatus.of(outcome) == .credentials)
            #expect(proxy.actions.filter { $0 == "AttachUserPolicy" }.count == 1)
        }
    }

    @Test("dry run reads state and plans, changing nothing")
    func plan() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("plan")
            try await admin.createUser(user)
            let enable = await service.plan(user: user, action: .enable, password: Self.password)
            #expect(enable.status == .planned)
            #expect(enable.changes == [.profileCreated, .policyAttached])
            let disable = await service.plan(user: user, action: .disable, password: nil)
            #expect(disable.changes.isEmpty)
            #expect(disable.detail == "would change nothing (already as asked)")
            let missing = await service.plan(user: Moto.uniqueName("none"), action: .disable, password: nil)
            #expect(missing.status == .notFound)
            let writes: Set<String> = [
                "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "AttachUserPolicy", "UpdateAccessKey",
            ]
            #expect(proxy.actions.allSatisfy { !writes.contains($0) })
            #expect(!(try await loginProfileExists(admin, user)))
        }
    }
}
