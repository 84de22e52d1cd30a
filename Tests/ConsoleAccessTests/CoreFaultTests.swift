import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import ConsoleAccess

/// The core under faults injected at a chosen call (throttling, lost answers, dropped
/// connections, IAM's policy quota), reset, dry runs and waiting for users, on the in-memory IAM.
@Suite("Console-access core under faults, on the in-memory IAM")
struct CoreFaultTests {
    static let password = CoreTests.password
    static let policyArn = CoreTests.policyArn
    static let writes = CoreTests.writes

    func service(
        _ iam: InMemoryIAM, policy: PasswordPolicy? = nil, caller: CallerIdentity? = nil, maxAttempts: Int = 3
    ) -> ConsoleAccessService {
        CoreTests().service(iam, policy: policy, caller: caller, maxAttempts: maxAttempts)
    }

    func actions(_ iam: InMemoryIAM) async -> [String] { await iam.calls.map(\.action) }

    // MARK: Faults

    @Test("a throttled step is retried on its own; steps that succeeded are not repeated")
    func perCallRetry() async {
        let iam = InMemoryIAM()
        await iam.addUser("frank")
        await iam.inject(.throttle, on: "AttachUserPolicy", times: 2)
        let outcome = await service(iam).enable(user: "frank", password: Self.password)
        #expect(outcome.status == .changed)
        #expect(outcome.attempts == 4)
        #expect(
            await actions(iam) == ["CreateLoginProfile", "AttachUserPolicy", "AttachUserPolicy", "AttachUserPolicy"])
    }

    @Test("a failure after a change is reported honestly: failed, with what was done")
    func partialFailure() async {
        let iam = InMemoryIAM()
        await iam.addUser("gina")
        await iam.inject(
            .error(.accessDenied, httpStatus: 403, message: "not allowed to attach"), on: "AttachUserPolicy")
        let outcome = await service(iam).enable(user: "gina", password: Self.password)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "AccessDenied")
        #expect(outcome.detail == "done before the failure: login profile created")
        #expect(outcome.httpStatus == 403)
        #expect(outcome.isAuthorizationFailure)
        #expect(ExitStatus.of(outcome) == .credentials)
        #expect(await iam.count("AttachUserPolicy") == 1)
    }

    @Test("connection drops past the retries fail the row with nothing changed and the code ConnectionError")
    func connectionDropped() async {
        let iam = InMemoryIAM()
        await iam.addUser("hank")
        await iam.inject(.connectionDropped, on: "DeleteLoginProfile", times: 3)
        let outcome = await service(iam).disable(user: "hank")
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "ConnectionError")
        #expect(outcome.attempts == 3)
        // Dropped before arriving, but the client cannot know: the doubt is said.
        #expect(outcome.detail.contains("whether IAM applied it is unknown"))
    }

    @Test("a CreateLoginProfile applied but whose answer was lost is reported created, from IAM's CreateDate")
    func lostCreateAnswer() async {
        let iam = InMemoryIAM()
        await iam.addUser("ivy", created: Date(timeIntervalSinceNow: -3600))
        await iam.inject(.answerLost, on: "CreateLoginProfile")
        let outcome = await service(iam).enable(user: "ivy", password: Self.password)
        #expect(outcome.status == .changed)
        #expect(outcome.changes == [.profileCreated, .policyAttached])
        #expect(outcome.passwordWasSet)
        #expect(outcome.detail.hasPrefix("login profile created, IAMUserChangePassword attached; "))
        #expect(outcome.detail.contains("after this run sent it"))
        #expect(
            await actions(iam) == ["CreateLoginProfile", "CreateLoginProfile", "GetLoginProfile", "AttachUserPolicy"])
    }

    @Test("a lost answer whose request never arrived, for a user enabled long ago, stays unchanged")
    func lostAnswerOldProfile() async {
        let iam = InMemoryIAM()
        await iam.addUser("jack")
        await iam.addLoginProfile("jack", created: Date(timeIntervalSince1970: 1_577_934_245))  // 2020-01-02T03:04:05Z
        await iam.attach("jack", policyArn: Self.policyArn)
        await iam.inject(.connectionDropped, on: "CreateLoginProfile")
        let outcome = await service(iam).enable(user: "jack", password: Self.password)
        #expect(outcome.status == .unchanged)
        #expect(outcome.changes.isEmpty)
        #expect(!outcome.passwordWasSet)
        #expect(outcome.detail.hasPrefix("console access already enabled (password not changed); "))
        #expect(outcome.detail.contains("created at 2020-01-02T03:04:05Z, before this run sent it"))
        #expect(await actions(iam).allSatisfy { !Self.writes.contains($0) || $0 == "CreateLoginProfile" })
    }

    @Test("a lost DeleteLoginProfile answer then NoSuchEntity: disabled, with the doubt in detail")
    func lostDeleteAnswer() async {
        let iam = InMemoryIAM()
        await iam.addUser("kim")
        await iam.addLoginProfile("kim")
        await iam.inject(.answerLost, on: "DeleteLoginProfile")
        let outcome = await service(iam).disable(user: "kim")
        #expect(outcome.status == .changed)
        #expect(outcome.succeeded)
        #expect(outcome.detail.contains("no login profile now (console access disabled)"))
        #expect(outcome.detail.contains("cannot be known"))
        #expect(!outcome.detail.contains("already disabled)"))
        #expect(await iam.loginProfile("kim") == nil)
        #expect(await actions(iam) == ["DeleteLoginProfile", "DeleteLoginProfile", "GetUser"])
    }

    @Test("a CreateLoginProfile whose answers are all lost fails saying the outcome is unknown")
    func allAnswersLost() async {
        let iam = InMemoryIAM()
        await iam.addUser("lee")
        await iam.inject(.answerLost, on: "CreateLoginProfile", times: 3)
        let outcome = await service(iam).enable(user: "lee", password: Self.password)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "ClientTimeout")
        #expect(outcome.detail.contains("whether IAM applied it is unknown"))
        #expect(!outcome.detail.contains("nothing was changed"))
        // It was applied (the first attempt reached IAM): the report did not deny it.
        #expect(await iam.loginProfile("lee") != nil)
        #expect(await actions(iam) == ["CreateLoginProfile", "CreateLoginProfile", "CreateLoginProfile"])
    }

    // MARK: LimitExceeded on the policy (IAM's quota: 10 managed policies per user)

    func userAtPolicyLimit(_ iam: InMemoryIAM, _ name: String) async {
        await iam.addUser(name)
        for index in 0..<InMemoryIAM.managedPoliciesPerUser {
            await iam.attach(name, policyArn: "arn:aws:iam::123456789012:policy/p\(index)")
        }
    }

    @Test("LimitExceeded on the policy, users may change their own password: changed, noted")
    func limitExceededAllowed() async {
        let iam = InMemoryIAM()
        await userAtPolicyLimit(iam, "max")
        let outcome = await service(iam, policy: PasswordPolicy(allowUsersToChangePassword: true))
            .enable(user: "max", password: Self.password)
        #expect(outcome.status == .changed)
        #expect(outcome.changes == [.profileCreated])
        #expect(outcome.errorCode == "LimitExceeded")
        #expect(outcome.detail.hasPrefix("login profile created; IAMUserChangePassword not attached"))
        #expect(outcome.detail.contains("(LimitExceeded)"))
        #expect(outcome.detail.contains("not needed: the account password policy lets users change their own"))
        #expect(outcome.succeeded)
        #expect(await actions(iam) == ["CreateLoginProfile", "AttachUserPolicy"])
    }

    @Test(
        "LimitExceeded on the policy, users may not change their own password: failed, saying what was done",
        arguments: [PasswordPolicy?.none, PasswordPolicy(allowUsersToChangePassword: false)])
    func limitExceededNotAllowed(policy: PasswordPolicy?) async {
        let iam = InMemoryIAM()
        await userAtPolicyLimit(iam, "ned")
        let outcome = await service(iam, policy: policy).enable(user: "ned", password: Self.password)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "LimitExceeded")
        #expect(outcome.httpStatus == 409)
        #expect(outcome.changes == [.profileCreated])
        #expect(outcome.passwordWasSet)
        #expect(outcome.detail.hasPrefix("done before the failure: login profile created; "))
        #expect(outcome.detail.contains("cannot change the temporary password"))
        #expect(outcome.message?.contains("PoliciesPerUser") == true)
        #expect(await iam.loginProfile("ned") != nil)
    }

    @Test("LimitExceeded for a user who already had console access: nothing changed, password kept, the reason given")
    func limitExceededExistingProfile() async {
        let iam = InMemoryIAM()
        await userAtPolicyLimit(iam, "olga")
        await iam.addLoginProfile("olga")
        let outcome = await service(iam).enable(user: "olga", password: Self.password)
        #expect(outcome.status == .failed)
        #expect(outcome.changes.isEmpty)
        #expect(!outcome.passwordWasSet)
        #expect(
            outcome.detail.hasPrefix(
                "nothing was changed; console access already enabled (password not changed); IAMUserChangePassword not attached"
            ))
        #expect(await actions(iam) == ["CreateLoginProfile", "ListAttachedUserPolicies", "AttachUserPolicy"])
    }

    // MARK: Reset and dry run

    @Test("reset of a user without a login profile creates none and says to use enable (not not-found)")
    func resetWithoutProfile() async {
        let iam = InMemoryIAM()
        await iam.addUser("pat")
        let service = service(iam)
        let outcome = await service.reset(user: "pat", password: Self.password)
        #expect(outcome.status == .failed)
        #expect(outcome.errorCode == "NoLoginProfile")
        #expect(outcome.message?.contains("use enable") == true)
        #expect(outcome.detail == "nothing was changed: no login profile to reset (use enable)")
        #expect(await iam.loginProfile("pat") == nil)
        #expect(await actions(iam) == ["UpdateLoginProfile", "GetUser"])
        let plan = await service.plan(user: "pat", action: .reset, password: Self.password)
        #expect(plan.errorCode == "NoLoginProfile")
        let missing = await service.reset(user: "ghost", password: Self.password)
        #expect(missing.status == .notFound)
        #expect(missing.detail == "no IAM user named ghost")
    }

    @Test("a dry run reads state and plans, changing nothing")
    func plan() async {
        let iam = InMemoryIAM()
        await iam.addUser("quinn")
        await iam.addUser("rita")
        await iam.addLoginProfile("rita")
        let service = service(iam)
        let enable = await service.plan(user: "quinn", action: .enable, password: Self.password)
        #expect(enable.status == .planned)
        #expect(enable.changes == [.profileCreated, .policyAttached])
        let disable = await service.plan(user: "quinn", action: .disable, password: nil)
        #expect(disable.detail == "would change nothing (already as asked)")
        #expect(await service.plan(user: "none", action: .disable, password: nil).status == .notFound)
        let enabled = await service.plan(user: "rita", action: .enable, password: Self.password)
        #expect(enabled.changes == [.policyAttached])
        #expect(
            enabled.detail
                == "would: IAMUserChangePassword attached; console access already enabled (password not changed)")
        let resetting = await service.plan(user: "rita", action: .enable, password: Self.password, resetExisting: true)
        #expect(resetting.changes == [.passwordReset, .policyAttached])
        #expect(await actions(iam).allSatisfy { !Self.writes.contains($0) })
        #expect(await iam.loginProfile("quinn") == nil)
    }

    // MARK: Waiting for the user

    @Test("with a wait window, enable retries a missing user until it appears; the detail shows the wait")
    func waitForUser() async throws {
        let iam = InMemoryIAM()
        let creator = Task {
            while await iam.count("CreateLoginProfile") == 0 { try await Task.sleep(for: .milliseconds(5)) }
            await iam.addUser("late")
        }
        let wait = UserWait(window: .seconds(30), initialDelay: .milliseconds(20), maxDelay: .milliseconds(50))
        let outcome = await service(iam).enable(user: "late", password: Self.password, waitForUser: wait)
        try await creator.value
        #expect(outcome.status == .changed)
        #expect(outcome.changes == [.profileCreated, .policyAttached])
        #expect(outcome.detail.contains("user found after waiting"))
        #expect(await iam.count("CreateLoginProfile") >= 2)
        #expect(await actions(iam).suffix(2) == ["CreateLoginProfile", "AttachUserPolicy"])
    }

    @Test("a user who never appears within the window is not-found, saying how long it waited; reset waits too")
    func waitForUserTimesOut() async {
        let iam = InMemoryIAM()
        let service = service(iam)
        let wait = UserWait(window: .milliseconds(200), initialDelay: .milliseconds(20))
        let outcome = await service.enable(user: "never", password: Self.password, waitForUser: wait)
        #expect(outcome.status == .notFound)
        #expect(outcome.detail.hasPrefix("no IAM user named never (still none after waiting"))
        #expect(outcome.detail.contains("--wait-for-user"))
        #expect(await iam.count("CreateLoginProfile") >= 2)
        let reset = await service.reset(user: "never", password: Self.password, waitForUser: wait)
        #expect(reset.status == .notFound)
        #expect(reset.detail.contains("still none after waiting"))
        #expect(await iam.count("UpdateLoginProfile") >= 2)
        let before = await iam.calls.count
        let once = await service.enable(user: "never", password: Self.password)
        #expect(once.detail == "no IAM user named never")
        #expect(await iam.calls.count == before + 1)
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
