import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import ConsoleAccess

/// The core's decisions, on the in-memory IAM (`InMemoryIAM`, whose answers the IAM contract
/// suite checks against moto): which calls, in which order, what each outcome says, with faults
/// injected at a chosen call. The wire itself (parameters sent, lost answers on a real
/// connection) is tested against moto in `ServiceTests` and `ResetAndRecoveryTests`.
@Suite("Console-access core on the in-memory IAM")
struct CoreTests {
    static let password = Password("Core-Test-Passw0rd!")
    static let policyArn = "arn:aws:iam::aws:policy/IAMUserChangePassword"
    static let writes: Set<String> = [
        "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "AttachUserPolicy", "UpdateAccessKey",
    ]

    /// A service over a fresh in-memory IAM, retrying quickly.
    func service(
        _ iam: InMemoryIAM, policy: PasswordPolicy? = nil, caller: CallerIdentity? = nil, maxAttempts: Int = 3
    ) -> ConsoleAccessService {
        ConsoleAccessService(
            iam: iam, caller: caller, passwordPolicy: policy, partition: .aws,
            executor: CallExecutor(policy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(1))))
    }

    func actions(_ iam: InMemoryIAM) async -> [String] { await iam.calls.map(\.action) }

    // MARK: Enable

    @Test("enable a user without a profile: 2 calls, profile created with reset required, policy attached")
    func enableNew() async {
        let iam = InMemoryIAM()
        await iam.addUser("alice")
        let outcome = await service(iam).enable(user: "alice", password: Self.password)
        #expect(outcome.status == .changed)
        #expect(outcome.changes == [.profileCreated, .policyAttached])
        #expect(outcome.detail == "login profile created, IAMUserChangePassword attached")
        #expect(outcome.attempts == 2)
        #expect(outcome.requestId != nil)
        #expect(await actions(iam) == ["CreateLoginProfile", "AttachUserPolicy"])
        #expect(await iam.loginProfile("alice")?.passwordResetRequired == true)
        #expect(await iam.attachedPolicies("alice") == [Self.policyArn])
    }

    @Test("enable a user with a profile keeps their password; the policy is still ensured; twice makes no write")
    func enableExisting() async {
        let iam = InMemoryIAM()
        await iam.addUser("bob")
        await iam.addLoginProfile("bob")
        let service = service(iam)
        let first = await service.enable(user: "bob", password: Self.password)
        #expect(first.status == .changed)
        #expect(first.changes == [.policyAttached])
        #expect(
            first.detail == "IAMUserChangePassword attached; console access already enabled (password not changed)")
        #expect(!first.passwordWasSet)
        #expect(await actions(iam) == ["CreateLoginProfile", "ListAttachedUserPolicies", "AttachUserPolicy"])

        let second = await service.enable(user: "bob", password: Self.password)
        #expect(second.status == .unchanged)
        #expect(second.changes.isEmpty)
        #expect(second.detail == "console access already enabled (password not changed)")
        #expect(second.succeeded)
        #expect(await actions(iam).suffix(2) == ["CreateLoginProfile", "ListAttachedUserPolicies"])
        #expect(await iam.count("UpdateLoginProfile") == 0)
        #expect(await iam.attachedPolicies("bob") == [Self.policyArn])
    }

    @Test("enable with resetExisting resets an existing password and attaches the policy once")
    func enableResetExisting() async {
        let iam = InMemoryIAM()
        await iam.addUser("carol")
        await iam.addLoginProfile("carol")
        let service = service(iam)
        let first = await service.enable(user: "carol", password: Self.password, resetExisting: true)
        #expect(first.changes == [.passwordReset, .policyAttached])
        #expect(first.detail == "password reset, IAMUserChangePassword attached")
        let second = await service.enable(user: "carol", password: Self.password, resetExisting: true)
        #expect(second.status == .changed)
        #expect(second.changes == [.passwordReset])
        #expect(await iam.count("UpdateLoginProfile") == 2)
        #expect(await iam.count("AttachUserPolicy") == 1)
        #expect(await iam.loginProfile("carol")?.passwordResetRequired == true)
    }

    @Test("enable of a missing user is not-found, and nothing else is attempted")
    func enableMissing() async {
        let iam = InMemoryIAM()
        let outcome = await service(iam).enable(user: "nobody", password: Self.password)
        #expect(outcome.status == .notFound)
        #expect(outcome.errorCode == AWSErrorCode.noSuchEntity.rawValue)
        #expect(outcome.detail == "no IAM user named nobody")
        #expect(outcome.message?.contains("nobody") == true)
        #expect(outcome.message?.contains("CreateLoginProfile failed") == false)
        #expect(outcome.requestId != nil)
        #expect(await actions(iam) == ["CreateLoginProfile"])
    }

    // MARK: Disable

    @Test("disable deletes the profile; again is unchanged; a missing user is not-found")
    func disable() async {
        let iam = InMemoryIAM()
        await iam.addUser("dave")
        await iam.addLoginProfile("dave")
        let service = service(iam)
        let first = await service.disable(user: "dave")
        #expect(first.status == .changed)
        #expect(first.changes == [.profileDeleted])
        #expect(await iam.loginProfile("dave") == nil)
        let second = await service.disable(user: "DAVE")
        #expect(second.status == .unchanged)
        #expect(second.detail == "no login profile (console access already disabled)")
        let missing = await service.disable(user: "ghost")
        #expect(missing.status == .notFound)
        #expect(missing.errorCode == "NoSuchEntity")
        #expect(missing.httpStatus == 404)
        #expect(!missing.succeeded)
        #expect(ExitStatus.of(missing) == .failure)
    }

    @Test("disable revoking console and keys sets active keys Inactive, never deletes; again changes nothing")
    func disableKeys() async {
        let iam = InMemoryIAM()
        await iam.addUser("erin")
        let active = await iam.addAccessKey("erin")
        await iam.addAccessKey("erin", status: .inactive)
        let service = service(iam)
        let first = await service.disable(user: "erin", revoke: .consoleAndKeys)
        #expect(first.status == .changed)
        #expect(first.changes == [.accessKeysDeactivated])
        #expect(first.deactivatedKeys == [active])
        #expect(first.detail.hasPrefix("access keys deactivated: \(active)"))
        #expect(await iam.accessKeyStatuses("erin") == [.inactive, .inactive])
        let second = await service.disable(user: "erin", revoke: .consoleAndKeys)
        #expect(second.status == .unchanged)
        #expect(second.detail.contains("no active access keys"))
        #expect(await iam.count("UpdateAccessKey") == 1)
    }

    // MARK: Refusals

    @Test(
        "invalid names are refused with no request sent",
        arguments: [
            ("", "user name is empty"), ("has space", "invalid character U+0020 (space) at position 4"),
            ("semi;colon", "invalid character ';' at position 5"),
            (String(repeating: "a", count: 65), "65 characters long"),
        ])
    func invalidNames(user: String, reason: String) async {
        let iam = InMemoryIAM()
        let service = service(iam)
        let enabled = await service.enable(user: user, password: Self.password)
        #expect(enabled.status == .invalid)
        #expect(enabled.detail.contains(reason), "\(enabled.detail)")
        #expect(enabled.attempts == 0)
        #expect(await service.disable(user: user).status == .invalid)
        #expect(await iam.calls.isEmpty)
        #expect(service.localProblem(user: user, action: .disable, password: nil)?.code == "invalid-user-name")
    }

    @Test(
        "invalid passwords are refused with no request sent and never quoted",
        arguments: [
            ("", "enable needs a password"), ("smart’quote-Passw0rd", "outside the allowed set"),
            ("emoji🙂-Passw0rd", "position 6"), (String(repeating: "x", count: 129), "129 characters"),
        ])
    func invalidPasswords(password: String, reason: String) async {
        let iam = InMemoryIAM()
        let outcome = await service(iam).enable(user: "valid-user", password: Password(password))
        #expect(outcome.status == .invalid)
        #expect(outcome.detail.contains(reason), "\(outcome.detail)")
        if !password.isEmpty { #expect(!outcome.detail.contains(password)) }
        #expect(await iam.calls.isEmpty)
    }

    @Test("the account password policy is checked locally, naming each rule broken; reset too")
    func policyChecked() async {
        let policy = PasswordPolicy(
            minimumPasswordLength: 14, requireSymbols: true, requireNumbers: true, requireUppercaseCharacters: true,
            requireLowercaseCharacters: true)
        let iam = InMemoryIAM()
        let service = service(iam, policy: policy)
        let outcome = await service.enable(user: "policy-user", password: Password("short"))
        #expect(outcome.status == .invalid)
        #expect(outcome.detail.contains("at least 14 characters (this one has 5)"))
        #expect(outcome.detail.contains("an uppercase letter"))
        #expect(outcome.detail.contains("a number"))
        #expect(outcome.detail.contains("a symbol"))
        #expect(!outcome.detail.contains("a lowercase letter"))
        #expect(!outcome.detail.contains("short"))
        let reset = await service.reset(user: "someone", password: Password("short"))
        #expect(reset.status == .invalid)
        #expect(reset.detail.contains("at least 14 characters"))
        #expect(await service.reset(user: "someone", password: Password("")).detail == "reset needs a password")
        #expect(
            service.localProblem(user: "x", action: .enable, password: Password("short"))?.code == "password-policy")
        #expect(await iam.calls.isEmpty)
        #expect(policy.violations(of: Password("Long-Enough-Passw0rd!")).isEmpty)
    }

    @Test("the caller's own user cannot be disabled, in any case; others can")
    func selfDisable() async {
        let caller = CallerIdentity(
            account: "123456789012", arn: "arn:aws:iam::123456789012:user/ops/me", userId: "AID")
        let iam = InMemoryIAM()
        let service = service(iam, caller: caller)
        for name in ["me", "ME"] {
            let outcome = await service.disable(user: name)
            #expect(outcome.status == .invalid)
            #expect(outcome.detail.contains("refusing to disable"))
        }
        #expect(await iam.calls.isEmpty)
        #expect(
            service.localProblem(user: "me", action: .disable, password: nil) == .selfDisable(callerArn: caller.arn))
        #expect(service.localProblem(user: "me", action: .disable, password: nil)?.code == "self-disable")
        #expect(service.localProblem(user: "me2", action: .disable, password: nil) == nil)
        #expect(service.localProblem(user: "m", action: .disable, password: nil) == nil)
    }
}
