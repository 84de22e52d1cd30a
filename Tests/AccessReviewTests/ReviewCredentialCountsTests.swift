import AWSQuery
import Foundation
import TestSupport
import Testing

@testable import AccessReview

/// What `disable --revoke` covers besides the password and access keys, as the review counts it
/// (active SSH public keys, signing certificates, service-specific credentials, MFA devices):
/// per user, and from the credential report with and without `--detail`. On the in-memory IAM
/// behind the connector seam.
@Suite("Review: counts of active credentials")
struct ReviewCredentialCountsTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let holder = "holder"
    static let bare = "bare"

    func configuration(_ iam: InMemoryIAM, in dir: TemporaryDirectory, source: ReviewSource) -> ReviewConfiguration {
        ReviewTesting.configuration(
            connector: InMemoryConnector(iam: iam), output: dir.path + "/review.csv", now: Self.now, source: source)
    }

    /// `holder`: a console password, 2 active and 1 inactive SSH keys, a certificate, an active
    /// and an inactive service-specific credential, an MFA device. `bare`: nothing.
    func seed(_ iam: InMemoryIAM) async {
        let old = Self.now.addingTimeInterval(-30 * 86_400)
        for user in [Self.holder, Self.bare] { _ = await iam.addUser(user, created: old) }
        await iam.addLoginProfile(Self.holder, created: old)
        await iam.addSSHPublicKey(Self.holder)
        await iam.addSSHPublicKey(Self.holder)
        await iam.addSSHPublicKey(Self.holder, status: .inactive)
        await iam.addSigningCertificate(Self.holder)
        await iam.addServiceSpecificCredential(Self.holder)
        await iam.addServiceSpecificCredential(Self.holder, serviceName: "cassandra.amazonaws.com", status: .inactive)
        await iam.addMFADevice(Self.holder)
    }

    @Test("per user: the active SSH keys, certificates, service credentials and MFA devices, in the last columns")
    func perUser() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .perUser))
        #expect(result.exitStatus == .success, "\(result.errors)")
        let review = try #require(result.reviews.first { $0.userName == Self.holder })
        #expect(review.activeSSHPublicKeys == 2)
        #expect(review.activeSigningCertificates == 1)
        #expect(review.activeServiceSpecificCredentials == 1)

        let table = try ReviewTable(path: dir.path + "/review.csv")
        #expect(table.header == ReviewCSV.header)
        #expect(
            Array(table.header.suffix(6)) == [
                "change_password_policy_attached", "inactive", "error", "ssh_keys_active", "certificates_active",
                "service_credentials_active",
            ], "appended after the columns that were there")
        let holder = try #require(table.row(Self.holder))
        #expect(holder["ssh_keys_active"] == "2")
        #expect(holder["certificates_active"] == "1")
        #expect(holder["service_credentials_active"] == "1")
        #expect(holder["mfa_devices"] == "1")
        let bare = try #require(table.row(Self.bare))
        #expect(
            [bare["ssh_keys_active"], bare["certificates_active"], bare["service_credentials_active"]] == [
                "0", "0", "0",
            ])
        #expect(bare["mfa_devices"] == "0")
        for action in ["ListSSHPublicKeys", "ListSigningCertificates", "ListServiceSpecificCredentials"] {
            #expect(await iam.count(action) == 2, "\(action): once per user")
        }
    }

    @Test(
        "per user: a listing the caller may not make leaves that count empty and says so once; the user is read",
        arguments: ["ListSSHPublicKeys", "ListSigningCertificates", "ListServiceSpecificCredentials"])
    func denied(action: String) async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403), on: action, times: 2)
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .perUser))
        #expect(result.exitStatus == .success, "a policy from before these columns still reviews: \(result.errors)")
        #expect(result.summary?.unreadable == 0)
        #expect(result.notes.filter { $0.contains("not allowed: iam:\(action) (AccessDenied)") }.count == 1)
        let table = try ReviewTable(path: dir.path + "/review.csv")
        let column = [
            "ListSSHPublicKeys": "ssh_keys_active", "ListSigningCertificates": "certificates_active",
            "ListServiceSpecificCredentials": "service_credentials_active",
        ][action]!
        for user in [Self.holder, Self.bare] {
            let row = try #require(table.row(user))
            #expect(row[column] == "", "\(user): unknown, not 0")
            #expect(row["error"] == "")
        }
        #expect(table.row(Self.holder)?["console_access"] == "true")
    }

    @Test("per user: a listing that fails otherwise makes the user unreadable, with the step and its code")
    func unreadable() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(.error(.limitExceeded, httpStatus: 409), on: "ListSSHPublicKeys", user: Self.holder)
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .perUser))
        #expect(result.exitStatus == .failure)
        #expect(result.summary?.unreadable == 1)
        let review = try #require(result.reviews.first { $0.userName == Self.holder })
        #expect(review.errorCode == "LimitExceeded")
        #expect(review.error?.hasPrefix("iam:ListSSHPublicKeys: ") == true, "\(review.error ?? "")")
        let row = try #require(try ReviewTable(path: dir.path + "/review.csv").row(Self.holder))
        #expect(row["error"]?.contains("LimitExceeded") == true)
        #expect(
            [row["ssh_keys_active"], row["certificates_active"], row["service_credentials_active"]] == ["", "", ""])
        #expect(try ReviewTable(path: dir.path + "/review.csv").row(Self.bare)?["ssh_keys_active"] == "0")
    }

    @Test("report with --detail: SSH keys and service credentials listed, MFA counted; the same in JSON")
    func reportWithDetail() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        var config = configuration(iam, in: dir, source: .report)
        config.detail = .all
        config.format = .json
        config.output = dir.path + "/review.json"
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        let rows = try jsonRows(config.output)
        let holder = try #require(rows[Self.holder])
        #expect(holder["ssh_keys_active"] == "2")
        #expect(holder["service_credentials_active"] == "1")
        #expect(holder["mfa_device_count"] == "1")
        #expect(holder["mfa_devices"]?.hasPrefix("arn:aws:iam::") == true)
        #expect(holder["certificates_active"] == "1", "from the report's cert_N_active")
        let bare = try #require(rows[Self.bare])
        #expect(bare["ssh_keys_active"] == "0")
        #expect(bare["service_credentials_active"] == "0")
        #expect(bare["mfa_device_count"] == "0")
        #expect(await iam.count("ListSSHPublicKeys") == 2)
        #expect(await iam.count("ListServiceSpecificCredentials") == 2)
        #expect(await iam.count("ListSigningCertificates") == 0, "the report has the certificates")
        #expect(await iam.count("ListMFADevices") == 1, "only the user the report shows with MFA")
        #expect(Set(rows[Self.holder]?.keys.map { $0 } ?? []) == Set(ReportReviewCSV.header))
    }

    @Test("report without --detail: SSH keys and service credentials empty (unknown), never 0; no extra calls")
    func reportWithoutDetail() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        let result = await ReviewRun.execute(configuration(iam, in: dir, source: .report))
        #expect(result.exitStatus == .success, "\(result.errors)")
        let table = try ReviewTable(path: dir.path + "/review.csv")
        #expect(table.header == ReportReviewCSV.header)
        #expect(
            Array(table.header.suffix(7)) == [
                "state", "reason", "error", "ssh_keys_active", "certificates_active", "service_credentials_active",
                "mfa_device_count",
            ])
        for user in [Self.holder, Self.bare] {
            let row = try #require(table.row(user))
            #expect(row["ssh_keys_active"] == "", "\(user)")
            #expect(row["service_credentials_active"] == "", "\(user)")
        }
        #expect(table.row(Self.holder)?["certificates_active"] == "1", "the report's cert_N_active")
        #expect(table.row(Self.bare)?["certificates_active"] == "0")
        #expect(table.row(Self.holder)?["mfa_device_count"] == "", "MFA on, how many devices is unknown")
        #expect(table.row(Self.bare)?["mfa_device_count"] == "0", "the report shows no MFA")
        for action in ["ListSSHPublicKeys", "ListServiceSpecificCredentials", "ListMFADevices"] {
            #expect(await iam.count(action) == 0, "\(action)")
        }
    }

    @Test("report with --detail: a listing the caller may not make leaves its count empty, noted once")
    func reportDetailDenied() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(.error(.accessDenied, httpStatus: 403), on: "ListServiceSpecificCredentials", times: 5)
        var config = configuration(iam, in: dir, source: .report)
        config.detail = .all
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus == .success, "\(result.errors)")
        #expect(result.notes.contains { $0.contains("not allowed: iam:ListServiceSpecificCredentials") })
        let row = try #require(try ReviewTable(path: dir.path + "/review.csv").row(Self.holder))
        #expect(row["ssh_keys_active"] == "2")
        #expect(row["service_credentials_active"] == "")
    }

    @Test("report with --detail: a listing that fails is the row's error; its count stays empty")
    func reportDetailFailure() async throws {
        let dir = try TemporaryDirectory()
        let iam = InMemoryIAM(now: { Self.now })
        await seed(iam)
        await iam.inject(
            .error(.limitExceeded, httpStatus: 409), on: "ListServiceSpecificCredentials", user: Self.holder)
        var config = configuration(iam, in: dir, source: .report)
        config.detail = .all
        let result = await ReviewRun.execute(config)
        #expect(result.exitStatus != .success)
        let row = try #require(try ReviewTable(path: dir.path + "/review.csv").row(Self.holder))
        #expect(row["error"]?.hasPrefix("iam:ListServiceSpecificCredentials: ") == true, "\(row["error"] ?? "")")
        #expect(row["ssh_keys_active"] == "2", "read before the failure")
        #expect(row["service_credentials_active"] == "")
    }

    /// `--format json` rows by user name.
    func jsonRows(_ path: String) throws -> [String: [String: String]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let users = try #require(object["users"] as? [[String: String]])
        return Dictionary(uniqueKeysWithValues: users.map { ($0["user"] ?? "", $0) })
    }
}

@Suite("Credential report: certificates")
struct ReportCertificateCountTests {
    func entry(_ text: String) throws -> CredentialReportEntry {
        var parser = try CredentialReportParser(csv: Array(text.utf8))
        return try #require(try parser.next())
    }

    @Test("certificates_active counts the report's cert_N_active; empty when the report has no such columns")
    func certificates() throws {
        let required = CredentialReportParser.requiredColumns.joined(separator: ",")
        let cells = [
            "u", "arn:aws:iam::1:user/u", "2020-01-01T00:00:00+00:00", "false", "N/A", "N/A", "false", "false",
            "N/A", "N/A", "false", "N/A", "N/A",
        ].joined(separator: ",")
        let rule = ReportInactivityRule(days: nil, includeKeys: false, now: Date())
        for (certs, expected) in [("true,true", "2"), ("true,false", "1"), ("false,false", "0")] {
            let entry = try entry("\(required),cert_1_active,cert_2_active\n\(cells),\(certs)\n")
            #expect(entry.activeCertificates == Int(expected))
            let row = Dictionary(
                uniqueKeysWithValues: zip(ReportReviewCSV.header, ReportReviewCSV.fields(rule.review(entry))))
            #expect(row["certificates_active"] == expected, "\(certs)")
        }
        let without = try entry("\(required)\n\(cells)\n")
        #expect(without.activeCertificates == nil)
        let row = Dictionary(
            uniqueKeysWithValues: zip(ReportReviewCSV.header, ReportReviewCSV.fields(rule.review(without))))
        #expect(row["certificates_active"] == "")
    }
}
