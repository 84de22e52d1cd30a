import AWSQuery
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import ConsoleAccess

/// `reset`, lost answers, `LimitExceeded` on the policy, and waiting for a user: against moto,
/// through the fault-injecting proxy for what moto cannot show.
@Suite(
    "Reset, lost answers, policy limit and waiting for users against moto",
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

    func loginProfileExists(_ admin: MotoAdmin, _ user: String) async throws -> Bool {
        do {
            _ = try await admin.iam.call("GetLoginProfile", [QueryParameter("UserName", user)])
            return true
        } catch let error as AWSServiceError where error.code == "NoSuchEntity" {
            return false
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

    @Test("reset of a user without a login profile creates none and says to use enable (not not-found)")
    func resetWithoutProfile() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("rn")
            try await admin.createUser(user)
            let outcome = await service.reset(user: user, password: Self.password)
            #expect(outcome.status == .failed)
            #expect(outcome.errorCode == "NoLoginProfile")
            #expect(outcome.message?.contains("use enable") == true)
            #expect(outcome.detail == "nothing was changed: no login profile to reset (use enable)")
            #expect(!outcome.passwordWasSet)
            #expect(!(try await loginProfileExists(admin, user)))
            #expect(proxy.actions == ["UpdateLoginProfile", "GetUser"])
            #expect(proxy.successfulWrites.isEmpty)

            let plan = await service.plan(user: user, action: .reset, password: Self.password)
            #expect(plan.errorCode == "NoLoginProfile")
            #expect(plan.status == .failed)

            let ghost = Moto.uniqueName("rghost")
            let missing = await service.reset(user: ghost, password: Self.password)
            #expect(missing.status == .notFound)
            #expect(missing.detail == "no IAM user named \(ghost)")
        }
    }

    @Test("reset is checked like enable: bad passwords and the account policy refuse it before any call")
    func resetPasswordRules() async throws {
        let policy = PasswordPolicy(minimumPasswordLength: 30)
        try await withService(policy: policy) { service, _, proxy in
            let short = await service.reset(user: "someone", password: Self.password)
            #expect(short.status == .invalid)
            #expect(short.detail.contains("at least 30 characters"))
            let empty = await service.reset(user: "someone", password: Password(""))
            #expect(empty.status == .invalid)
            #expect(empty.detail == "reset needs a password")
            #expect(proxy.requests.isEmpty)
        }
    }

    @Test("a dry run of enable for an enabled user predicts unchanged, password not changed")
    func planEnabledUser() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("pe")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let missingPolicy = await service.plan(user: user, action: .enable, password: Self.password)
            #expect(missingPolicy.changes == [.policyAttached])
            #expect(
                missingPolicy.detail
                    == "would: IAMUserChangePassword attached; console access already enabled (password not changed)")
            try await admin.attachUserPolicy(user, policyArn: Self.policyArn)
            let plan = await service.plan(user: user, action: .enable, password: Self.password)
            #expect(plan.changes.isEmpty)
            #expect(
                plan.detail
                    == "would change nothing (already as asked); console access already enabled (password not changed)")
            let resetting = await service.plan(
                user: user, action: .enable, password: Self.password, resetExisting: true)
            #expect(resetting.changes == [.passwordReset])
            #expect(proxy.successfulWrites.isEmpty)
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

    @Test("a lost answer whose request never arrived, for a user enabled long ago, stays unchanged")
    func lostAnswerOldProfile() async throws {
        // moto cannot backdate a profile: the proxy shows an old CreateDate, as IAM would.
        try await withService(rule: RecordingProxy.firstPerUser("CreateLoginProfile", .dropConnection)) {
            service, admin, proxy in
            let user = Moto.uniqueName("old")
            proxy.setRewrite(RecordingProxy.profileCreationDates(createdLongAgo: [user]))
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            try await admin.attachUserPolicy(user, policyArn: Self.policyArn)
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .unchanged)
            #expect(outcome.changes.isEmpty)
            #expect(!outcome.passwordWasSet)
            #expect(outcome.detail.hasPrefix("console access already enabled (password not changed); "))
            #expect(outcome.detail.contains("created at 2020-01-02T03:04:05Z, before this run sent it"))
            #expect(proxy.successfulWrites.isEmpty)
        }
    }

    @Test("a lost DeleteLoginProfile answer then NoSuchEntity: disabled, with the doubt in detail")
    func lostDeleteAnswer() async throws {
        try await withService(rule: RecordingProxy.firstPerUser("DeleteLoginProfile", .forwardThenDrop)) {
            service, admin, proxy in
            let user = Moto.uniqueName("ld")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let outcome = await service.disable(user: user)
            #expect(outcome.status == .changed)
            #expect(outcome.succeeded)
            #expect(outcome.detail.contains("no login profile now (console access disabled)"))
            #expect(outcome.detail.contains("cannot be known"))
            #expect(!outcome.detail.contains("already disabled)"))
            #expect(!(try await loginProfileExists(admin, user)))
            #expect(proxy.actions == ["DeleteLoginProfile", "DeleteLoginProfile", "GetUser"])
        }
    }

    @Test("a CreateLoginProfile whose answers are all lost fails saying the outcome is unknown")
    func allAnswersLost() async throws {
        try await withService(
            rule: { request, _ in request.formParameters["Action"] == "CreateLoginProfile" ? .forwardThenDrop : nil }
        ) { service, admin, proxy in
            let user = Moto.uniqueName("la")
            try await admin.createUser(user)
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .failed)
            #expect(outcome.errorCode == "ConnectionError")
            #expect(outcome.detail.contains("whether IAM applied it is unknown"))
            #expect(!outcome.detail.contains("nothing was changed"))
            // It was applied (the first attempt reached moto): the report did not deny it.
            #expect(try await loginProfileExists(admin, user))
            #expect(proxy.actions.allSatisfy { $0 == "CreateLoginProfile" })
        }
    }

    // MARK: LimitExceeded on the policy

    static let limitExceeded: RecordingProxy.FaultRule = { request, _ in
        request.formParameters["Action"] == "AttachUserPolicy"
            ? .error(code: "LimitExceeded", status: 409, message: "Cannot exceed quota for PoliciesPerUser: 10")
            : nil
    }

    @Test("LimitExceeded on the policy, users may change their own password: changed, noted")
    func limitExceededAllowed() async throws {
        try await withService(policy: PasswordPolicy(allowUsersToChangePassword: true), rule: Self.limitExceeded) {
            service, admin, proxy in
            let user = Moto.uniqueName("lim")
            try await admin.createUser(user)
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .changed)
            #expect(outcome.changes == [.profileCreated])
            #expect(outcome.errorCode == "LimitExceeded")
            #expect(outcome.detail.hasPrefix("login profile created; IAMUserChangePassword not attached"))
            #expect(outcome.detail.contains("(LimitExceeded)"))
            #expect(outcome.detail.contains("not needed: the account password policy lets users change their own"))
            #expect(outcome.succeeded)
            #expect(proxy.actions == ["CreateLoginProfile", "AttachUserPolicy"])
        }
    }

    @Test(
        "LimitExceeded on the policy, users may not change their own password: failed, saying what was done",
        arguments: [PasswordPolicy?.none, PasswordPolicy(allowUsersToChangePassword: false)])
    func limitExceededNotAllowed(policy: PasswordPolicy?) async throws {
        try await withService(policy: policy, rule: Self.limitExceeded) { service, admin, _ in
            let user = Moto.uniqueName("lim")
            try await admin.createUser(user)
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .failed)
            #expect(outcome.errorCode == "LimitExceeded")
            #expect(outcome.httpStatus == 409)
            #expect(outcome.changes == [.profileCreated])
            #expect(outcome.passwordWasSet)
            #expect(outcome.detail.hasPrefix("done before the failure: login profile created; "))
            #expect(outcome.detail.contains("(LimitExceeded)"))
            #expect(outcome.detail.contains("cannot change the temporary password"))
            #expect(outcome.message?.contains("PoliciesPerUser") == true)
            #expect(try await loginProfileExists(admin, user))
        }
    }

    @Test("LimitExceeded for a user who already had console access: nothing changed, password kept, the reason given")
    func limitExceededExistingProfile() async throws {
        try await withService(rule: Self.limitExceeded) { service, admin, proxy in
            let user = Moto.uniqueName("limx")
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: "Old-Passw0rd!")
            let outcome = await service.enable(user: user, password: Self.password)
            #expect(outcome.status == .failed)
            #expect(outcome.changes.isEmpty)
            #expect(!outcome.passwordWasSet)
            #expect(
                outcome.detail.hasPrefix(
                    "nothing was changed; console access already enabled (password not changed); IAMUserChangePassword not attached"
                ))
            #expect(proxy.actions == ["CreateLoginProfile", "ListAttachedUserPolicies", "AttachUserPolicy"])
        }
    }

    // MARK: Waiting for the user

    @Test("with a wait window, enable retries a missing user until it appears; the detail shows the wait")
    func waitForUser() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("late")
            // The user appears only after moto has answered the first try (NoSuchEntity).
            let creator = Task {
                while !proxy.forwardedCalls.contains(where: { $0.action == "CreateLoginProfile" }) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await admin.createUser(user)
            }
            let wait = UserWait(window: .seconds(30), initialDelay: .milliseconds(100), maxDelay: .milliseconds(200))
            let outcome = await service.enable(user: user, password: Self.password, waitForUser: wait)
            try await creator.value
            #expect(outcome.status == .changed)
            #expect(outcome.changes == [.profileCreated, .policyAttached])
            #expect(outcome.detail.contains("user found after waiting"))
            #expect(proxy.actions.filter { $0 == "CreateLoginProfile" }.count >= 2)
            #expect(proxy.actions.suffix(2) == ["CreateLoginProfile", "AttachUserPolicy"])
        }
    }

    @Test("a user who never appears within the window is not-found, saying how long it waited; reset waits too")
    func waitForUserTimesOut() async throws {
        try await withService { service, admin, proxy in
            let user = Moto.uniqueName("never")
            let wait = UserWait(window: .milliseconds(300), initialDelay: .milliseconds(50))
            let outcome = await service.enable(user: user, password: Self.password, waitForUser: wait)
            #expect(outcome.status == .notFound)
            #expect(outcome.detail.hasPrefix("no IAM user named \(user) (still none after waiting"))
            #expect(outcome.detail.contains("--wait-for-user"))
            #expect(proxy.actions.count >= 2)
            #expect(Set(proxy.actions) == ["CreateLoginProfile"])

            proxy.clearRecording()
            let reset = await service.reset(user: user, password: Self.password, waitForUser: wait)
            #expect(reset.status == .notFound)
            #expect(reset.detail.contains("still none after waiting"))
            #expect(proxy.actions.filter { $0 == "UpdateLoginProfile" }.count >= 2)

            // Without a window: one try, not-found at once.
            proxy.clearRecording()
            let once = await service.enable(user: user, password: Self.password)
            #expect(once.detail == "no IAM user named \(user)")
            #expect(proxy.actions == ["CreateLoginProfile"])
        }
    }

    @Test("wait durations parse as 90s, 2m, 1h, 500ms, 0; bad ones are refused")
    func parseDurations() throws {
        #expect(try UserWait.parseDuration("90s") == .seconds(90))
        #expect(try UserWait.parseDuration("2m") == .seconds(120))
        #expect(try UserWait.parseDuration("1h") == .seconds(3600))
        #expect(try UserWait.parseDuration("500ms") == .milliseconds(500))
        #expect(try UserWait.parseDuration("0") == .zero)
        #expect(try UserWait.parseDuration("45") == .seconds(45))
        for bad in ["", "s", "-5s", "2d", "1.5m", "2h", "99999999s", "ninety"] {
            #expect(throws: UserWait.ParseError.self, "\(bad)") { try UserWait.parseDuration(bad) }
        }
        let wait = UserWait(window: .seconds(10), initialDelay: .seconds(1), maxDelay: .seconds(4))
        #expect(wait.delay(retry: 1, elapsed: .zero) == .seconds(1))
        #expect(wait.delay(retry: 3, elapsed: .zero) == .seconds(4))
        #expect(wait.delay(retry: 9, elapsed: .seconds(9)) == .seconds(1))
        #expect(wait.delay(retry: 2, elapsed: .seconds(10)) == nil)
        // A first answer slower than the window still gets a second try.
        #expect(wait.delay(retry: 1, elapsed: .seconds(12)) == .seconds(1))
        #expect(UserWait.none.delay(retry: 1, elapsed: .zero) == nil)
    }
}
