import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

/// The inactivity rule and the CSV row, without a server.
@Suite("Review rule and columns")
struct ReviewRuleTests {
    static let now = ISO8601.parse("2025-06-01T00:00:00Z")!

    func user(created: String = "2020-01-01T00:00:00Z", lastUsed: String? = nil) -> IAMUser {
        var xml = "<member><UserName>u</UserName><Arn>arn:aws:iam::1:user/u</Arn><Path>/</Path>"
        xml += "<CreateDate>\(created)</CreateDate>"
        if let lastUsed { xml += "<PasswordLastUsed>\(lastUsed)</PasswordLastUsed>" }
        xml += "</member>"
        return IAMUser(try! XMLTree.parse(Array(xml.utf8)))
    }

    func profile(created: String) -> LoginProfile {
        LoginProfile(
            try! XMLTree.parse(
                Array(
                    "<LoginProfile><UserName>u</UserName><CreateDate>\(created)</CreateDate><PasswordResetRequired>true</PasswordResetRequired></LoginProfile>"
                        .utf8)))
    }

    @Test("more than N days, by last use or (never used) by profile creation; re-created profiles count from creation")
    func rule() {
        let rule = InactivityRule(days: 90, now: Self.now)
        let old = profile(created: "2024-01-01T00:00:00Z")
        // Used 91 days ago: inactive; 89 days ago: not; exactly 90 days: not (more than N).
        #expect(rule.isInactive(UserReview(user: user(lastUsed: "2025-03-02T00:00:00Z"), loginProfile: old)))
        #expect(!rule.isInactive(UserReview(user: user(lastUsed: "2025-03-04T00:00:00Z"), loginProfile: old)))
        #expect(!rule.isInactive(UserReview(user: user(lastUsed: "2025-03-03T00:00:00Z"), loginProfile: old)))
        // Never used: the profile's age decides.
        #expect(rule.isInactive(UserReview(user: user(), loginProfile: old)))
        #expect(!rule.isInactive(UserReview(user: user(), loginProfile: profile(created: "2025-05-01T00:00:00Z"))))
        // Used long ago, but console access re-created last week: not inactive.
        #expect(
            !rule.isInactive(
                UserReview(
                    user: user(lastUsed: "2023-01-01T00:00:00Z"), loginProfile: profile(created: "2025-05-25T00:00:00Z")
                )))
        // No console access, or unreadable: never inactive.
        #expect(!rule.isInactive(UserReview(user: user(lastUsed: "2020-01-01T00:00:00Z"))))
        #expect(!rule.isInactive(UserReview(user: user(), loginProfile: old, error: "boom")))
    }

    @Test("the row has one cell per header column, dates in ISO 8601 UTC")
    func row() {
        let review = UserReview(
            user: user(lastUsed: "2025-05-01T10:00:00.000+02:00"),
            loginProfile: profile(created: "2024-01-01T00:00:00Z"),
            mfaDevices: 1,
            accessKeys: [
                ReviewedAccessKey(
                    accessKeyId: "AKIAEXAMPLE1", status: .active, created: ISO8601.parse("2024-02-02T00:00:00Z"),
                    lastUsed: nil)
            ], changePasswordPolicyAttached: true)
        let fields = ReviewCSV.fields(review, rule: InactivityRule(days: 30, now: Self.now), now: Self.now)
        #expect(fields.count == ReviewCSV.header.count)
        let row = Dictionary(uniqueKeysWithValues: zip(ReviewCSV.header, fields))
        #expect(row["password_last_used"] == "2025-05-01T08:00:00Z")
        #expect(row["console_idle_days"] == "30")
        #expect(row["inactive"] == "true")
        #expect(row["access_key_1_id"] == "AKIAEXAMPLE1")
        #expect(row["access_key_1_created"] == "2024-02-02T00:00:00Z")
        #expect(row["access_key_1_last_used"] == "")
        #expect(row["access_key_2_id"] == "")
        #expect(row["password_reset_required"] == "true")
        #expect(row["user_created"] == "2020-01-01T00:00:00Z")
    }
}
