import AWSQuery
import Foundation
import TestSupport
import Testing

/// One IAM to run the contract against: the in-memory IAM, or moto over the wire.
struct IAMBackend: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (_ body: @Sendable (any IAMOperations, any IAMSeeder) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    static let inMemory = IAMBackend(name: "in-memory") { body in
        let iam = InMemoryIAM()
        try await body(iam, InMemorySeeder(iam: iam))
    }

    static let moto = IAMBackend(name: "moto") { body in
        try await Moto.withSession { session, admin, _ in
            try await body(session.iam, MotoSeeder(admin: admin))
        }
    }

    /// The in-memory IAM always; moto when the test run started one.
    static var all: [IAMBackend] { Moto.isAvailable ? [inMemory, moto] : [inMemory] }
}

/// Sets up what the tool itself never does (users, keys), on either backend.
protocol IAMSeeder: Sendable {
    func createUser(_ name: String, path: String) async throws
    func createLoginProfile(_ name: String) async throws
    func createAccessKey(_ name: String) async throws -> String
    func uploadSSHPublicKey(_ name: String) async throws -> String
    func uploadSigningCertificate(_ name: String) async throws -> String
    /// Binds a new virtual MFA device named `device` to the user; returns its serial number.
    func enableMFADevice(_ name: String, device: String) async throws -> String
}

struct InMemorySeeder: IAMSeeder {
    let iam: InMemoryIAM
    func createUser(_ name: String, path: String) async throws { await iam.addUser(name, path: path) }
    func createLoginProfile(_ name: String) async throws { await iam.addLoginProfile(name) }
    func createAccessKey(_ name: String) async throws -> String { await iam.addAccessKey(name) }
    func uploadSSHPublicKey(_ name: String) async throws -> String { await iam.addSSHPublicKey(name) }
    func uploadSigningCertificate(_ name: String) async throws -> String { await iam.addSigningCertificate(name) }
    func enableMFADevice(_ name: String, device: String) async throws -> String {
        await iam.addMFADevice(name, device: device)
    }
}

struct MotoSeeder: IAMSeeder {
    let admin: MotoAdmin
    func createUser(_ name: String, path: String) async throws { _ = try await admin.createUser(name, path: path) }
    func createLoginProfile(_ name: String) async throws {
        try await admin.createLoginProfile(name, password: "Seeded-Passw0rd!")
    }
    func createAccessKey(_ name: String) async throws -> String { try await admin.createAccessKey(name).accessKeyId }
    func uploadSSHPublicKey(_ name: String) async throws -> String { try await admin.uploadSSHPublicKey(name) }
    func uploadSigningCertificate(_ name: String) async throws -> String {
        try await admin.uploadSigningCertificate(name)
    }
    func enableMFADevice(_ name: String, device: String) async throws -> String {
        try await admin.enableVirtualMFA(name, device: device)
    }
}

/// The same cases against the in-memory IAM and against moto: the answers the core relies on
/// (codes, statuses, what a call leaves behind) must agree, so unit tests on the in-memory IAM
/// mean what they say.
@Suite("IAM contract: the in-memory IAM and moto agree")
struct IAMContractTests {
    static let password = "Contract-Passw0rd!"

    func expectCode(
        _ code: AWSErrorCode, status: Int, _ body: () async throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        do {
            try await body()
            Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
        } catch let error as AWSServiceError {
            #expect(error.errorCode == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.httpStatus == status, "\(error)", sourceLocation: sourceLocation)
            #expect(error.requestId?.isEmpty == false, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a missing user answers NoSuchEntity (404) to every call naming it", arguments: IAMBackend.all)
    func missingUser(backend: IAMBackend) async throws {
        try await backend.run { iam, _ in
            let ghost = Moto.uniqueName("ghost")
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.getUser(userName: ghost) }
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.getLoginProfile(userName: ghost) }
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.createLoginProfile(
                    userName: ghost, password: Self.password, passwordResetRequired: true)
            }
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.deleteLoginProfile(userName: ghost) }
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.listAccessKeys(userName: ghost) }
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.listSSHPublicKeys(userName: ghost) }
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.listSigningCertificates(userName: ghost) }
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.updateSSHPublicKey(
                    userName: ghost, sshPublicKeyId: "APKA0000000000000000", status: .inactive)
            }
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.deactivateMFADevice(
                    userName: ghost, serialNumber: "arn:aws:iam::123456789012:mfa/\(ghost)")
            }
        }
    }

    @Test(
        "a login profile: created once, EntityAlreadyExists (409) the second time, read, deleted once",
        arguments: IAMBackend.all)
    func loginProfileLifecycle(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("lp")
            try await seed.createUser(user, path: "/")
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.getLoginProfile(userName: user) }
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.updateLoginProfile(
                    userName: user, password: Self.password, passwordResetRequired: true)
            }
            let created = try await iam.createLoginProfile(
                userName: user, password: Self.password, passwordResetRequired: true)
            #expect(created.value.userName == user)
            #expect(created.requestId?.isEmpty == false)
            await expectCode(.entityAlreadyExists, status: 409) {
                _ = try await iam.createLoginProfile(
                    userName: user, password: Self.password, passwordResetRequired: true)
            }
            let read = try await iam.getLoginProfile(userName: user)
            #expect(read.value.userName == user)
            #expect(read.value.createDate != nil)
            _ = try await iam.updateLoginProfile(userName: user, password: Self.password, passwordResetRequired: true)
            _ = try await iam.deleteLoginProfile(userName: user)
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.deleteLoginProfile(userName: user) }
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.getLoginProfile(userName: user) }
            // The user is still there.
            #expect(try await iam.getUser(userName: user).value.userName == user)
        }
    }

    @Test("attaching a managed policy twice leaves it attached once", arguments: IAMBackend.all)
    func attachTwice(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("pol")
            try await seed.createUser(user, path: "/")
            let arn = "arn:aws:iam::aws:policy/IAMUserChangePassword"
            #expect(try await iam.listAttachedUserPolicies(userName: user).value.isEmpty)
            _ = try await iam.attachUserPolicy(userName: user, policyArn: arn)
            _ = try await iam.attachUserPolicy(userName: user, policyArn: arn)
            let attached = try await iam.listAttachedUserPolicies(userName: user).value
            #expect(attached.map(\.policyArn) == [arn])
            #expect(attached.map(\.policyName) == ["IAMUserChangePassword"])
        }
    }

    @Test("access keys are listed and deactivated, never deleted", arguments: IAMBackend.all)
    func accessKeys(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("keys")
            try await seed.createUser(user, path: "/")
            let first = try await seed.createAccessKey(user)
            let second = try await seed.createAccessKey(user)
            let keys = try await iam.listAccessKeys(userName: user).value
            #expect(Set(keys.map(\.accessKeyId)) == [first, second])
            #expect(keys.allSatisfy { $0.status == .active && $0.userName == user })
            _ = try await iam.updateAccessKey(userName: user, accessKeyId: first, status: .inactive)
            let after = try await iam.listAccessKeys(userName: user).value
            #expect(after.first { $0.accessKeyId == first }?.status == .inactive)
            #expect(after.first { $0.accessKeyId == second }?.status == .active)
            let lastUsed = try await iam.getAccessKeyLastUsed(accessKeyId: second).value
            #expect(lastUsed.lastUsedDate == nil)
        }
    }

    @Test("ListUsers follows paging to the end and honours the path prefix", arguments: IAMBackend.all)
    func listUsersPaged(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let path = "/\(Moto.uniqueName("contract"))/"
            let names = (0..<5).map { "\(Moto.uniqueName("page"))-\($0)" }
            for name in names { try await seed.createUser(name, path: path) }
            try await seed.createUser(Moto.uniqueName("elsewhere"), path: "/")
            let listed = try await iam.listUsers(pathPrefix: path, pageSize: 2).value
            #expect(Set(listed.map(\.userName)) == Set(names))
            #expect(listed.allSatisfy { $0.path == path && $0.arn.hasSuffix(":user\(path)\($0.userName)") })
        }
    }

    @Test(
        "the credential report: generated until COMPLETE, then read, listing the account's users",
        arguments: IAMBackend.all)
    func credentialReport(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("report")
            try await seed.createUser(user, path: "/")
            var state = try await iam.generateCredentialReport().value
            for _ in 0..<10 where state != .complete {
                try await Task.sleep(for: .milliseconds(50))
                state = try await iam.generateCredentialReport().value
            }
            #expect(state == .complete)
            let report = try await iam.getCredentialReport().value
            let text = String(decoding: try report.csv.readAll(), as: UTF8.self)
            #expect(text.hasPrefix("user,arn,user_creation_time,password_enabled,password_last_used"))
            #expect(text.contains("\n\(user),"))
            #expect(report.generatedTime != nil)
            await expectCode(.noSuchEntity, status: 404) { _ = try await iam.getUser(userName: user + "-x") }
        }
    }
}

// The credentials offboarding deactivates besides access keys (service-specific credentials,
// which moto does not implement, are in IAMCredentialWireTests).
extension IAMContractTests {
    @Test(
        "SSH public keys are listed (all of them), set Inactive, and an unknown id is NoSuchEntity",
        arguments: IAMBackend.all)
    func sshPublicKeys(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("ssh")
            try await seed.createUser(user, path: "/")
            #expect(try await iam.listSSHPublicKeys(userName: user).value.isEmpty)
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await seed.uploadSSHPublicKey(user)) }
            let keys = try await iam.listSSHPublicKeys(userName: user).value
            #expect(Set(keys.map(\.sshPublicKeyId)) == Set(ids))
            #expect(keys.allSatisfy { $0.status == .active && $0.userName == user && $0.uploadDate != nil })
            _ = try await iam.updateSSHPublicKey(userName: user, sshPublicKeyId: ids[0], status: .inactive)
            // Setting the status it has already succeeds (a retry is harmless).
            _ = try await iam.updateSSHPublicKey(userName: user, sshPublicKeyId: ids[0], status: .inactive)
            let after = try await iam.listSSHPublicKeys(userName: user).value
            #expect(after.first { $0.sshPublicKeyId == ids[0] }?.status == .inactive)
            #expect(after.filter { $0.status == .active }.count == 2)
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.updateSSHPublicKey(
                    userName: user, sshPublicKeyId: "APKA0000000000000000", status: .inactive)
            }
        }
    }

    @Test(
        "signing certificates are listed (without bodies), set Inactive and Active again; an unknown id is NoSuchEntity",
        arguments: IAMBackend.all)
    func signingCertificates(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("cert")
            try await seed.createUser(user, path: "/")
            #expect(try await iam.listSigningCertificates(userName: user).value.isEmpty)
            // IAM's (and moto's) quota is two certificates per user.
            let ids = [try await seed.uploadSigningCertificate(user), try await seed.uploadSigningCertificate(user)]
            let certificates = try await iam.listSigningCertificates(userName: user).value
            #expect(Set(certificates.map(\.certificateId)) == Set(ids))
            #expect(certificates.allSatisfy { $0.status == .active && $0.userName == user && $0.uploadDate != nil })
            _ = try await iam.updateSigningCertificate(userName: user, certificateId: ids[1], status: .inactive)
            var after = try await iam.listSigningCertificates(userName: user).value
            #expect(after.first { $0.certificateId == ids[1] }?.status == .inactive)
            #expect(after.first { $0.certificateId == ids[0] }?.status == .active)
            _ = try await iam.updateSigningCertificate(userName: user, certificateId: ids[1], status: .active)
            after = try await iam.listSigningCertificates(userName: user).value
            #expect(after.allSatisfy { $0.status == .active })
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.updateSigningCertificate(
                    userName: user, certificateId: String(repeating: "0", count: 32), status: .inactive)
            }
        }
    }

    @Test(
        "deactivating an MFA device unbinds it from the user; a second time is NoSuchEntity",
        arguments: IAMBackend.all)
    func mfaDeactivation(backend: IAMBackend) async throws {
        try await backend.run { iam, seed in
            let user = Moto.uniqueName("mfa")
            try await seed.createUser(user, path: "/")
            let first = try await seed.enableMFADevice(user, device: user)
            let second = try await seed.enableMFADevice(user, device: user + "-b")
            let devices = try await iam.listMFADevices(userName: user).value
            #expect(Set(devices.map(\.serialNumber)) == [first, second])
            #expect(devices.allSatisfy { $0.userName == user })
            _ = try await iam.deactivateMFADevice(userName: user, serialNumber: first)
            #expect(try await iam.listMFADevices(userName: user).value.map(\.serialNumber) == [second])
            await expectCode(.noSuchEntity, status: 404) {
                _ = try await iam.deactivateMFADevice(userName: user, serialNumber: first)
            }
            _ = try await iam.deactivateMFADevice(userName: user, serialNumber: second)
            #expect(try await iam.listMFADevices(userName: user).value.isEmpty)
        }
    }
}
