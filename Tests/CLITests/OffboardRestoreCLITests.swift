import AWSQuery
import Foundation
import TestSupport
import Testing

/// Issue 20 end to end: the built binary offboards a user holding one of each credential with
/// `--revoke all --emit-restore`, then runs the emitted file: every credential's status equals
/// its status before. Against moto (keys, SSH keys, a real self-signed certificate, a virtual MFA
/// device), with `ServiceCredentialFront` answering the service-specific credential calls moto
/// lacks, in IAM's documented XML.
@Suite(
    "offboard with --revoke all and restore, end to end",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct OffboardRestoreCLITests {
    static let password = "Offboard-Canary-Passw0rd!3"

    struct State: Equatable {
        var console: Bool
        var keys: [AccessKeyStatus]
        var ssh: [AccessKeyStatus]
        var certs: [AccessKeyStatus]
        var services: [String]
        var mfa: Int
    }

    func state(_ user: String, _ front: ServiceCredentialFront) async throws -> State {
        try await Moto.withSession { session, _, _ in
            let iam = session.iam
            return State(
                console: (try? await iam.getLoginProfile(userName: user)) != nil,
                keys: try await iam.listAccessKeys(userName: user).value.compactMap(\.status),
                ssh: try await iam.listSSHPublicKeys(userName: user).value.map(\.status),
                certs: try await iam.listSigningCertificates(userName: user).value.map(\.status),
                services: front.statuses(user), mfa: try await iam.listMFADevices(userName: user).value.count)
        }
    }

    @Test("every credential's status after the restore equals its status before the offboarding")
    func offboardAndRestore() async throws {
        let user = Moto.uniqueName("leaver")
        let front = ServiceCredentialFront()
        try await Moto.withSession { session, admin, _ in
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: Self.password)
            _ = try await admin.createAccessKey(user)
            let old = try await admin.createAccessKey(user)
            _ = try await session.iam.updateAccessKey(userName: user, accessKeyId: old.accessKeyId, status: .inactive)
            _ = try await admin.uploadSSHPublicKey(user)
            _ = try await admin.uploadSigningCertificate(user)
            _ = try await admin.enableVirtualMFA(user)
        }
        front.add(user)
        let before = try await state(user, front)
        #expect(
            before
                == State(
                    console: true, keys: [.active, .inactive], ssh: [.active], certs: [.active], services: ["Active"],
                    mfa: 1))

        let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!, rewrite: front.rewrite())
        defer { Task { await proxy.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write("leavers.csv", "user,action\n\(user),offboard\n")
        let undo = dir.path + "/undo.csv"
        let offboard = try await CLI.run(
            [
                "batch", input, "--report", dir.path + "/offboard.csv", "--revoke", "all", "--emit-restore", undo,
                "--endpoint-url", proxy.url, "--debug",
            ], environment: ModifyCommandTests.environment)
        #expect(offboard.status == 0, "\(offboard.output)")
        let revoked = try await state(user, front)
        #expect(
            revoked
                == State(
                    console: false, keys: [.inactive, .inactive], ssh: [.inactive], certs: [.inactive],
                    services: ["Inactive"], mfa: 0))
        let undoText = try String(contentsOfFile: undo, encoding: .utf8)
        #expect(undoText.hasPrefix("user,action,password,credentials\n\(user),restore,,console;keys:"), "\(undoText)")

        let passwords = dir.path + "/passwords.csv"
        let restore = try await CLI.run(
            [
                "batch", undo, "--report", dir.path + "/restore.csv", "--generate-passwords", passwords,
                "--endpoint-url", proxy.url, "--debug",
            ], environment: ModifyCommandTests.environment)
        #expect(restore.status == 0, "\(restore.output)")
        let after = try await state(user, front)
        #expect(
            after
                == State(
                    console: true, keys: [.active, .inactive], ssh: [.active], certs: [.active], services: ["Active"],
                    mfa: 0))
        let report = try String(contentsOfFile: dir.path + "/restore.csv", encoding: .utf8)
        #expect(report.contains("must register them again"), "the MFA device needs the user: \(report)")

        // The generated password is in the password file only (`user,password,line`: the user
        // and line hold no comma; the password is quoted when it does).
        let row = try #require(
            try String(contentsOfFile: passwords, encoding: .utf8).split(separator: "\n").dropFirst().first)
        var generated = String(row.dropFirst(user.count + 1))
        let lastComma = try #require(generated.lastIndex(of: ","))
        generated = String(generated[..<lastComma])
        if generated.hasPrefix("\"") {
            generated = String(generated.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        #expect(generated.count >= 20)
        for text in [offboard.output, restore.output, report, undoText] {
            #expect(!text.contains(generated))
            #expect(!text.contains(Self.password))
        }
    }
}

/// `modify --disable --revoke`: one user, the same core as batch.
@Suite(
    "modify --disable --revoke",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ModifyRevokeTests {
    @Test("revokes the kinds asked for, names every id in the JSON, leaves the others; again is unchanged")
    func modifyRevoke() async throws {
        let user = Moto.uniqueName("modrevoke")
        let (key, ssh, cert) = try await Moto.withSession { _, admin, _ in
            try await admin.createUser(user)
            try await admin.createLoginProfile(user, password: OffboardRestoreCLITests.password)
            let key = try await admin.createAccessKey(user).accessKeyId
            return (key, try await admin.uploadSSHPublicKey(user), try await admin.uploadSigningCertificate(user))
        }
        let arguments = [
            "modify", "--user", user, "--disable", "--revoke", "console,keys,ssh", "--endpoint-url", Moto.endpoint!,
            "--output", "json",
        ]
        let first = try await CLI.run(arguments, environment: ModifyCommandTests.environment)
        #expect(first.status == 0, "\(first.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect(json["status"] as? String == "changed")
        #expect(
            json["changes"] as? [String]
                == ["login profile deleted", "access keys deactivated", "SSH public keys deactivated"])
        let revoked = try #require(json["revoked"] as? [[String: String]])
        #expect(revoked == [["kind": "keys", "id": key], ["kind": "ssh", "id": ssh]])
        #expect(json["deactivated_keys"] as? [String] == [key])
        let (sshKeys, certs) = try await Moto.withSession { session, _, _ in
            (
                try await session.iam.listSSHPublicKeys(userName: user).value,
                try await session.iam.listSigningCertificates(userName: user).value
            )
        }
        #expect(sshKeys.map(\.status) == [.inactive])
        #expect(certs.map(\.certificateId) == [cert])
        #expect(certs.map(\.status) == [.active], "certs were not asked for")
        let again = try await CLI.run(arguments, environment: ModifyCommandTests.environment)
        #expect(again.status == 0)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(second["status"] as? String == "unchanged")
        #expect((second["revoked"] as? [Any])?.isEmpty == true)
    }
}
