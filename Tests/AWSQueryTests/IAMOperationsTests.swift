import Foundation
import TestSupport
import Testing

@testable import AWSQuery

@Suite(
    "IAM operations against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct IAMOperationsTests {
    @Test("login profile: get, create, create again, update, delete, delete again")
    func loginProfileLifecycle() async throws {
        try await Moto.withSession { session, admin, _ in
            let user = Moto.uniqueName("lp")
            try await admin.createUser(user)
            let iam = session.iam

            let missing = await #expect(throws: AWSServiceError.self) { try await iam.getLoginProfile(userName: user) }
            #expect(missing?.code == "NoSuchEntity")
            #expect(missing?.httpStatus == 404)
            #expect(missing?.action == "GetLoginProfile")
            #expect(missing?.retryClass == .never)

            let created = try await iam.createLoginProfile(
                userName: user, password: "Temp-Passw0rd!x", passwordResetRequired: true)
            #expect(created.value.userName == user)
            #expect(created.requestId?.isEmpty == false)

            let again = await #expect(throws: AWSServiceError.self) {
                try await iam.createLoginProfile(
                    userName: user, password: "Temp-Passw0rd!x", passwordResetRequired: true)
            }
            #expect(again?.code == "EntityAlreadyExists")
            #expect(again?.httpStatus == 409)

            _ = try await iam.updateLoginProfile(
                userName: user, password: "Other-Passw0rd!y", passwordResetRequired: true)
            let profile = try await iam.getLoginProfile(userName: user)
            #expect(profile.value.userName == user)
            #expect(profile.value.createDate != nil)

            _ = try await iam.deleteLoginProfile(userName: user)
            let gone = await #expect(throws: AWSServiceError.self) { try await iam.deleteLoginProfile(userName: user) }
            #expect(gone?.code == "NoSuchEntity")
        }
    }

    @Test("attach IAMUserChangePassword and list attached policies")
    func attachAndList() async throws {
        try await Moto.withSession { session, admin, _ in
            let user = Moto.uniqueName("pol")
            try await admin.createUser(user)
            #expect(try await session.iam.listAttachedUserPolicies(userName: user).value.isEmpty)
            let arn = "arn:aws:iam::aws:policy/IAMUserChangePassword"
            _ = try await session.iam.attachUserPolicy(userName: user, policyArn: arn)
            _ = try await session.iam.attachUserPolicy(userName: user, policyArn: arn)
            let attached = try await session.iam.listAttachedUserPolicies(userName: user).value
            #expect(attached.map(\.policyArn) == [arn])
            #expect(attached.first?.policyName == "IAMUserChangePassword")

            let missing = await #expect(throws: AWSServiceError.self) {
                try await session.iam.attachUserPolicy(
                    userName: user, policyArn: "arn:aws:iam::aws:policy/NoSuchPolicyX")
            }
            #expect(missing?.code == "NoSuchEntity")
        }
    }

    @Test("get user, and a missing user is NoSuchEntity")
    func getUser() async throws {
        try await Moto.withSession { session, admin, _ in
            let user = Moto.uniqueName("gu")
            let arn = try await admin.createUser(user, path: "/staff/")
            let found = try await session.iam.getUser(userName: user).value
            #expect(found.userName == user)
            #expect(found.arn == arn)
            #expect(found.path == "/staff/")
            #expect(found.createDate != nil)
            let error = await #expect(throws: AWSServiceError.self) {
                try await session.iam.getUser(userName: Moto.uniqueName("nobody"))
            }
            #expect(error?.code == "NoSuchEntity")
        }
    }

    @Test("list users filters by path prefix")
    func listUsersByPath() async throws {
        try await Moto.withSession { session, admin, _ in
            let prefix = "/team-\(UUID().uuidString.prefix(6).lowercased())/"
            var names: Set<String> = []
            for index in 0..<3 {
                let name = Moto.uniqueName("path\(index)")
                names.insert(name)
                try await admin.createUser(name, path: prefix)
            }
            try await admin.createUser(Moto.uniqueName("elsewhere"))
            let users = try await session.iam.listUsers(pathPrefix: prefix).value
            #expect(Set(users.map(\.userName)) == names)
            #expect(users.allSatisfy { $0.path == prefix })
        }
    }

    @Test("access keys: list and deactivate")
    func accessKeys() async throws {
        try await Moto.withSession { session, admin, _ in
            let user = Moto.uniqueName("ak")
            try await admin.createUser(user)
            let key = try await admin.createAccessKey(user)
            var keys = try await session.iam.listAccessKeys(userName: user).value
            #expect(keys.map(\.accessKeyId) == [key.accessKeyId])
            #expect(keys.first?.status == .active)
            _ = try await session.iam.updateAccessKey(userName: user, accessKeyId: key.accessKeyId, status: .inactive)
            keys = try await session.iam.listAccessKeys(userName: user).value
            #expect(keys.first?.status == .inactive)
            let lastUsed = try await session.iam.getAccessKeyLastUsed(accessKeyId: key.accessKeyId).value
            #expect(lastUsed.lastUsedDate == nil)
        }
    }

    @Test("MFA devices are listed")
    func mfaDevices() async throws {
        try await Moto.withSession { session, admin, _ in
            let user = Moto.uniqueName("mfa")
            try await admin.createUser(user)
            #expect(try await session.iam.listMFADevices(userName: user).value.isEmpty)
            let serial = try await admin.enableVirtualMFA(user)
            let devices = try await session.iam.listMFADevices(userName: user).value
            #expect(devices.map(\.serialNumber) == [serial])
        }
    }

    @Test("account password policy: none set is nil, a set policy is read back")
    func passwordPolicy() async throws {
        // The password policy is account-wide: use a private server so other tests are unaffected.
        guard let moto = try await PrivateMoto.start() else {
            Issue.record("CONSOLE_ACCESS_MOTO_SERVER is not set; make test sets it")
            return
        }
        defer { moto.stop() }
        try await Moto.withSession(endpoint: moto.endpoint) { session, admin, _ in
            #expect(try await session.iam.getAccountPasswordPolicy().value == nil)
            try await admin.updateAccountPasswordPolicy([
                "MinimumPasswordLength": "14", "RequireSymbols": "true", "RequireNumbers": "true",
                "RequireUppercaseCharacters": "true", "RequireLowercaseCharacters": "false",
                "AllowUsersToChangePassword": "true",
            ])
            let policy = try #require(try await session.iam.getAccountPasswordPolicy().value)
            #expect(policy.minimumPasswordLength == 14)
            #expect(policy.requireSymbols && policy.requireNumbers && policy.requireUppercaseCharacters)
            #expect(!policy.requireLowercaseCharacters)
            #expect(policy.allowUsersToChangePassword)
        }
    }
}

@Suite(
    "STS operations against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct STSOperationsTests {
    @Test("GetCallerIdentity answers account and ARN")
    func callerIdentity() async throws {
        try await Moto.withSession { session, _, _ in
            let identity = try await session.sts.getCallerIdentity()
            #expect(identity.value.account.count == 12)
            #expect(identity.value.arn.hasPrefix("arn:aws:"))
            #expect(identity.value.partition == .aws)
            #expect(identity.requestId != nil)
        }
    }

    @Test("AssumeRole returns temporary credentials that work")
    func assumeRole() async throws {
        try await Moto.withSession { session, admin, transport in
            let role = try await admin.createRole(Moto.uniqueName("role"))
            let assumed = try await session.sts.assumeRole(
                roleArn: role, sessionName: "test-session", externalId: "ext-1", durationSeconds: 900
            ).value
            #expect(assumed.sessionToken != nil)
            #expect(assumed.expiration != nil)
            #expect(assumed.accessKeyId != Moto.testCredentials.accessKeyId)
            let identity = try await Moto.withSession(credentials: assumed) { session, _, _ in
                try await session.sts.getCallerIdentity().value
            }
            #expect(identity.arn.contains("assumed-role"))
            #expect(identity.arn.hasSuffix("/test-session"))
        }
    }

    @Test("AssumeRoleWithWebIdentity is sent unsigned and returns credentials")
    func webIdentity() async throws {
        try await Moto.withSession { session, admin, transport in
            let role = try await admin.createRole(Moto.uniqueName("webrole"))
            let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
            let sts = STSContext(
                endpoint: .sts(region: "us-east-1", override: proxy.url), transport: transport,
                logger: .init(label: "t"))
            let result = await Result(catching: {
                try await sts.client(credentials: nil).assumeRoleWithWebIdentity(
                    roleArn: role, sessionName: "web", webIdentityToken: "header.payload.signature")
            })
            await proxy.stop()
            let credentials = try result.get().value
            #expect(credentials.sessionToken != nil)
            #expect(proxy.requests.first?.header("Authorization") == nil)
            #expect(proxy.requests.first?.formParameters["WebIdentityToken"] == "header.payload.signature")
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
