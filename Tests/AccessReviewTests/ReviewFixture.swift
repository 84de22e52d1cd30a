import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

/// A review CSV read back: the header and one dictionary per row, by column name.
struct ReviewTable {
    let header: [String]
    let rows: [[String: String]]

    init(path: String) throws {
        let records = try CSVReader(.path(path)).readAll()
        header = records.first?.fields ?? []
        let header = self.header
        rows = records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record.fields))
        }
    }

    init(text: String) throws {
        let records = try CSVReader(.bytes(Array(text.utf8))).readAll()
        header = records.first?.fields ?? []
        let header = self.header
        rows = records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record.fields))
        }
    }

    func row(_ user: String) -> [String: String]? { rows.first { $0["user"] == user } }
    var users: [String] { rows.compactMap { $0["user"] } }
}

/// Users in every state the review distinguishes, under a path of their own so assertions on a
/// shared moto server are exact.
struct ReviewFixture {
    let path = "/" + Moto.uniqueName("review") + "/"
    let tag = String(UUID().uuidString.prefix(6).lowercased())
    /// No console access; one active key (used), one inactive key (never used).
    var keys: String { "keys-\(tag)" }
    /// Console access never used, MFA device, IAMUserChangePassword attached, an SSH public key
    /// and a signing certificate.
    var fresh: String { "fresh-\(tag)" }
    /// Console access, password used two days ago.
    var recent: String { "recent-\(tag)" }
    /// Console access, password last used 400 days ago.
    var stale: String { "stale-\(tag)" }
    /// Console access never used, nothing else.
    var plain: String { "plain-\(tag)" }
    var all: [String] { [fresh, keys, plain, recent, stale] }

    static let changePassword = "arn:aws:iam::aws:policy/IAMUserChangePassword"
    static let keyUsed = ISO8601.parse("2024-03-04T05:06:07Z")!

    struct Created {
        var activeKey: String
        var inactiveKey: String
    }

    func setUp(_ admin: MotoAdmin) async throws -> Created {
        for user in all { try await admin.createUser(user, path: path) }
        let active = try await admin.createAccessKey(keys).accessKeyId
        let inactive = try await admin.createAccessKey(keys).accessKeyId
        _ = try await admin.iam.call(
            "UpdateAccessKey",
            [
                QueryParameter("UserName", keys), QueryParameter("AccessKeyId", inactive),
                QueryParameter("Status", "Inactive"),
            ])
        for user in [fresh, recent, stale, plain] {
            try await admin.createLoginProfile(user, password: "Review-Secret-Passw0rd!")
        }
        _ = try await admin.enableVirtualMFA(fresh)
        _ = try await admin.uploadSSHPublicKey(fresh)
        _ = try await admin.uploadSigningCertificate(fresh)
        try await admin.attachUserPolicy(fresh, policyArn: Self.changePassword)
        try await admin.attachUserPolicy(recent, policyArn: Self.changePassword)
        return Created(activeKey: active, inactiveKey: inactive)
    }

    /// Rewrites moto's answers with the times it cannot set: `PasswordLastUsed` in
    /// `ListUsers`/`GetUser` and a login profile created 500 days ago for `recent` and
    /// `stale`, and `LastUsedDate` for `activeKey`.
    func rewrite(now: Date, activeKey: String) -> RecordingProxy.ResponseRewrite {
        let passwordUsed = [
            recent: now.addingTimeInterval(-2 * 86_400), stale: now.addingTimeInterval(-400 * 86_400),
        ]
        return { request, response in
            let action = request.formParameters["Action"]
            var body = String(decoding: response.body, as: UTF8.self)
            if action == "GetLoginProfile", let user = request.formParameters["UserName"],
                passwordUsed[user] != nil
            {
                // Their profiles predate the last use (moto dates every profile now).
                body = body.replacingOccurrences(
                    of: "<CreateDate>[^<]*</CreateDate>",
                    with: "<CreateDate>\(ISO8601.format(now.addingTimeInterval(-500 * 86_400)))</CreateDate>",
                    options: .regularExpression)
            } else if action == "ListUsers" || action == "GetUser" {
                for (user, date) in passwordUsed {
                    body = body.replacingOccurrences(
                        of: "<UserName>\(user)</UserName>",
                        with: "<UserName>\(user)</UserName><PasswordLastUsed>\(ISO8601.format(date))</PasswordLastUsed>"
                    )
                }
            } else if action == "GetAccessKeyLastUsed", request.formParameters["AccessKeyId"] == activeKey {
                body = """
                    <GetAccessKeyLastUsedResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\
                    <GetAccessKeyLastUsedResult><UserName>\(keys)</UserName><AccessKeyLastUsed>\
                    <LastUsedDate>\(ISO8601.format(Self.keyUsed))</LastUsedDate><ServiceName>s3</ServiceName>\
                    <Region>us-east-1</Region></AccessKeyLastUsed></GetAccessKeyLastUsedResult>\
                    <ResponseMetadata><RequestId>rewritten</RequestId></ResponseMetadata>\
                    </GetAccessKeyLastUsedResponse>
                    """
            } else {
                return response
            }
            var rewritten = response
            rewritten.body = Array(body.utf8)
            return rewritten
        }
    }
}

/// What moto lacks, filled in front of it (see `ServiceCredentialFront`): no user has
/// service-specific credentials.
enum MotoGaps {
    /// `rewrite` (when given) after the fill.
    static func filling(_ rewrite: RecordingProxy.ResponseRewrite? = nil) -> RecordingProxy.ResponseRewrite {
        ServiceCredentialFront().rewrite(then: rewrite)
    }
}
