import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

/// A credential report as IAM documents it, with every kind of value: the root row
/// (`not_supported`), `N/A`, `no_information`, offsets other than UTC, two keys, two
/// certificates, a column this tool does not know, and the documented columns in a different
/// order than usual (found by name).
enum SampleReport {
    static let header = [
        "arn", "user", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
        "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
        "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
        "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
        "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
        "cert_2_active", "cert_2_last_rotated", "future_column",
    ]
    static let text = """
        \(header.joined(separator: ","))
        arn:aws:iam::123456789012:root,<root_account>,2014-01-01T00:00:00+00:00,not_supported,2024-05-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A,x
        arn:aws:iam::123456789012:user/eng/team/alice,alice,2020-01-01T00:00:00+00:00,true,2024-05-01T12:00:00-05:00,2023-01-01T00:00:00+00:00,2024-07-01T00:00:00+00:00,true,true,2023-02-01T00:00:00+00:00,2024-04-30T08:00:00+02:00,us-east-1,s3,false,2023-03-01T00:00:00+00:00,N/A,N/A,N/A,true,2022-01-01T00:00:00+00:00,true,2022-06-01T00:00:00+00:00,y
        arn:aws:iam::123456789012:user/bob,bob,2020-01-01T00:00:00+00:00,true,no_information,2023-06-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A,
        arn:aws:iam::123456789012:user/carol,carol,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A,

        """
}

@Suite("Credential report parsing")
struct CredentialReportParserTests {
    func entries(_ text: String) throws -> [CredentialReportEntry] {
        var parser = try CredentialReportParser(csv: Array(text.utf8))
        var entries: [CredentialReportEntry] = []
        while let entry = try parser.next() { entries.append(entry) }
        return entries
    }

    @Test("every documented value: root, N/A, no_information, not_supported, offsets, two keys, two certs")
    func documentedValues() throws {
        let all = try entries(SampleReport.text)
        #expect(all.map(\.user) == ["<root_account>", "alice", "bob", "carol"])
        let root = all[0]
        #expect(root.isRoot)
        #expect(!root.passwordEnabled, "not_supported is not a password")
        #expect(root.passwordLastChanged == .notSupported)

        let alice = all[1]
        #expect(alice.path == "/eng/team/")
        #expect(alice.passwordEnabled && alice.mfaActive)
        #expect(alice.passwordLastUsed.date == ISO8601.parse("2024-05-01T17:00:00Z"), "-05:00 is 5 hours behind UTC")
        #expect(alice.accessKeys.count == 2)
        #expect(alice.accessKeys[0].active)
        #expect(alice.accessKeys[0].lastUsed.date == ISO8601.parse("2024-04-30T06:00:00Z"))
        #expect(alice.accessKeys[0].lastUsedService == "s3")
        #expect(!alice.accessKeys[1].active && alice.accessKeys[1].exists, "an inactive second key")
        #expect(alice.accessKeys[1].lastUsed == .notApplicable)
        #expect(alice.certificatesActive == [true, true])
        #expect(alice.certificatesLastRotated[1].date == ISO8601.parse("2022-06-01T00:00:00Z"))

        let bob = all[2]
        #expect(bob.path == "/")
        #expect(bob.passwordLastUsed == .noInformation)
        #expect(bob.passwordNextRotation == .notApplicable)
        #expect(bob.activeKeys.isEmpty)
        #expect(!all[3].passwordEnabled)
    }

    @Test("a missing required column is an error naming it; an unknown column is ignored")
    func missingColumn() throws {
        let text = SampleReport.text.replacingOccurrences(of: "password_last_used,", with: "pwd_used,")
        #expect {
            _ = try entries(text)
        } throws: { error in
            "\(error)".contains("required column missing: password_last_used")
        }
        #expect(throws: CredentialReportFormatError.self) { _ = try entries("") }
    }

    @Test("a damaged row (wrong cell count, unclosed quote) is an error, not a silent skip")
    func damagedRows() throws {
        let header = SampleReport.header.joined(separator: ",")
        #expect {
            _ = try entries(header + "\narn:aws:iam::1:user/x,x,2020-01-01T00:00:00Z\n")
        } throws: { error in
            "\(error)".contains("line 2 has 3 cells")
        }
        #expect(throws: (any Error).self) {
            _ = try entries(header + "\n\"unclosed," + String(repeating: ",", count: 22) + "\n")
        }
    }

    @Test("ReportTime reads every documented word and rejects anything else")
    func reportTime() {
        #expect(ReportTime("N/A") == .notApplicable)
        #expect(ReportTime("no_information") == .noInformation)
        #expect(ReportTime("not_supported") == .notSupported)
        #expect(ReportTime("2024-01-02T03:04:05+00:00").date == ISO8601.parse("2024-01-02T03:04:05Z"))
        #expect(ReportTime("yesterday") == .unreadable("yesterday"))
        #expect(ReportTime("") == .unreadable(""))
    }
}

@Suite("Credential report inactivity")
struct ReportInactivityTests {
    static let now = ISO8601.parse("2025-01-01T00:00:00Z")!
    static func daysAgo(_ days: Double) -> String { ISO8601.format(now.addingTimeInterval(-days * 86_400)) }

    /// One report row from the cells that matter.
    static func entry(
        password: Bool = true, lastUsed: String = "N/A", lastChanged: String = "N/A", key1Active: Bool = false,
        key1Rotated: String = "N/A", key1Used: String = "N/A", key2Active: Bool = false, key2Rotated: String = "N/A",
        key2Used: String = "N/A", created: String = daysAgo(1000)
    ) throws -> CredentialReportEntry {
        let header = CredentialReportParser.requiredColumns.joined(separator: ",")
        let row = [
            "u", "arn:aws:iam::1:user/u", created, password ? "true" : "false", lastUsed, lastChanged, "false",
            key1Active ? "true" : "false", key1Rotated, key1Used, key2Active ? "true" : "false", key2Rotated, key2Used,
        ].joined(separator: ",")
        var parser = try CredentialReportParser(csv: Array("\(header)\n\(row)\n".utf8))
        return try #require(try parser.next())
    }

    let rule = ReportInactivityRule(days: 90, includeKeys: false, now: now)
    let keysRule = ReportInactivityRule(days: 90, includeKeys: true, now: now)

    @Test("console used 131 days ago: inactive, and the row says so")
    func consoleUnused() throws {
        let review = rule.review(try Self.entry(lastUsed: Self.daysAgo(131.5), lastChanged: Self.daysAgo(300)))
        #expect(review.state == .inactive)
        #expect(review.reasons == ["console unused 131 days"])
        #expect(review.consoleIdleDays == 131)
    }

    @Test("used within N days is active; exactly N days is not past N")
    func consoleUsed() throws {
        #expect(rule.review(try Self.entry(lastUsed: Self.daysAgo(2))).state == .active)
        #expect(rule.review(try Self.entry(lastUsed: Self.daysAgo(90))).state == .active)
        #expect(rule.review(try Self.entry(lastUsed: Self.daysAgo(2))).reasons == ["console used 2 days ago"])
    }

    @Test("never signed in: judged by when the password was set, never by the user's creation alone")
    func neverUsed() throws {
        let old = rule.review(try Self.entry(lastUsed: "no_information", lastChanged: Self.daysAgo(200)))
        #expect(old.state == .inactive)
        #expect(old.reasons == ["never signed in; password set 200 days ago"])
        let new = rule.review(try Self.entry(lastUsed: "no_information", lastChanged: Self.daysAgo(3)))
        #expect(new.state == .active, "a user created 1000 days ago whose password was set 3 days ago")
        let unknown = rule.review(try Self.entry(lastUsed: "no_information", lastChanged: "N/A"))
        #expect(unknown.state == .undetermined, "no password date: not marked from the user's creation")
        #expect(unknown.reasons.first?.contains("no date") == true)
    }

    @Test("no console and no active key: no_access; without --inactive-days nothing is judged")
    func noAccessAndNotJudged() throws {
        #expect(rule.review(try Self.entry(password: false)).state == .noAccess)
        let unjudged = ReportInactivityRule(days: nil, includeKeys: false, now: Self.now)
        #expect(unjudged.review(try Self.entry(lastUsed: Self.daysAgo(500))).state == .notJudged)
        #expect(unjudged.review(try Self.entry(password: false)).state == .noAccess)
    }

    @Test("--include-keys: an active key unused (else unrotated) for N days marks the user; inactive keys never")
    func keys() throws {
        let entry = try Self.entry(
            password: false, key1Active: true, key1Rotated: Self.daysAgo(400), key1Used: Self.daysAgo(95),
            key2Active: false, key2Rotated: Self.daysAgo(400), key2Used: Self.daysAgo(300))
        #expect(rule.review(entry).state == .active, "keys are judged only with --include-keys")
        let marked = keysRule.review(entry)
        #expect(marked.state == .inactive)
        #expect(marked.staleKeySlots == [1])
        #expect(marked.reasons == ["access key 1 unused 95 days"])
        let named = keysRule.review(entry, detail: UserDetail(accessKeyIds: ["AKIAIOSFODNN7EXAMPLE", "AKIA2"]))
        #expect(named.reasons == ["key AKIA…EXAMPLE unused 95 days"])

        let neverUsed = try Self.entry(
            password: false, key1Active: true, key1Rotated: Self.daysAgo(400), key1Used: Self.daysAgo(1),
            key2Active: true, key2Rotated: Self.daysAgo(120), key2Used: "N/A")
        let second = keysRule.review(neverUsed)
        #expect(second.staleKeySlots == [2])
        #expect(second.reasons == ["access key 1 used 1 days ago", "access key 2 never used; created 120 days ago"])
    }
}

@Suite("Evidence pack")
struct EvidencePackTests {
    static let manifest = EvidencePack.Manifest(
        toolVersion: EvidencePack.toolVersion, created: "2025-01-01T00:00:00Z", accountId: "123456789012",
        callerArn: "arn:aws:iam::123456789012:user/auditor", region: "us-east-1", partition: "aws",
        source: "report", reportGenerated: "2025-01-01T00:00:00Z", reportReused: false,
        options: ["inactive_days": "90"], counts: ["users": 2], files: [:])

    @Test("files and manifest with each file's SHA-256; no temporary left behind")
    func writesPack() throws {
        let dir = try TemporaryDirectory()
        let pack = dir.path + "/pack"
        let files = [
            EvidencePack.File(name: "review.csv", bytes: Array("user\nu\n".utf8)),
            EvidencePack.File(name: "credential-report.csv", bytes: Array("raw".utf8)),
        ]
        try EvidencePack.write(files, manifest: Self.manifest, to: pack)
        let names = try FileManager.default.contentsOfDirectory(atPath: pack).sorted()
        #expect(names == ["credential-report.csv", "manifest.json", "review.csv"])
        let manifestData = try #require(FileManager.default.contents(atPath: pack + "/manifest.json"))
        let manifest = try JSONDecoder().decode(EvidencePack.Manifest.self, from: manifestData)
        #expect(manifest.accountId == "123456789012")
        for file in files {
            let onDisk = try #require(FileManager.default.contents(atPath: pack + "/" + file.name))
            #expect(manifest.files[file.name] == EvidencePack.sha256Hex([UInt8](onDisk)))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["pack"])
    }

    @Test("an existing pack, even an empty directory, is never overwritten")
    func neverOverwrites() throws {
        let dir = try TemporaryDirectory()
        let pack = dir.path + "/pack"
        try FileManager.default.createDirectory(atPath: pack, withIntermediateDirectories: false)
        #expect {
            try EvidencePack.write(
                [EvidencePack.File(name: "review.csv", bytes: [1])], manifest: Self.manifest, to: pack)
        } throws: { error in
            "\(error)".contains("already exists")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: pack).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["pack"], "the temporary is removed")
    }

    @Test("SHA-256 matches the known digest of 'abc'")
    func digest() {
        #expect(
            EvidencePack.sha256Hex(Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
