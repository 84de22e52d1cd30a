import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// Our signatures against a real verifier: moto with signature checking turned on.
@Suite(
    "SigV4 against moto's signature check",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct SignatureVerificationTests {
    @Test(
        "signed IAM and STS calls pass; a wrong secret is SignatureDoesNotMatch; an unknown key is InvalidClientTokenId"
    )
    func realVerifier() async throws {
        // Signature checking is server-wide: use a private server.
        let moto = try #require(try await PrivateMoto.start(), "CONSOLE_ACCESS_MOTO_SERVER is not set")
        defer { moto.stop() }

        let adminKeys = try await Moto.withSession(endpoint: moto.endpoint) { _, admin, _ in
            try await admin.createUser("sig-admin")
            try await admin.attachUserPolicy("sig-admin", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess")
            try await admin.createUser("sig-target")
            return try await admin.createAccessKey("sig-admin")
        }
        #expect(adminKeys.accessKeyId.count >= 16)

        let enabled = try await Moto.control(moto.endpoint, path: "/moto-api/reset-auth", body: "0")
        #expect(enabled.status == 200)

        try await Moto.withSession(endpoint: moto.endpoint, credentials: adminKeys) { session, _, _ in
            let identity = try await session.sts.getCallerIdentity().value
            #expect(identity.arn.hasSuffix(":user/sig-admin"))
            #expect(identity.userName == "sig-admin")
            let user = try await session.iam.getUser(userName: "sig-target").value
            #expect(user.userName == "sig-target")
            _ = try await session.iam.createLoginProfile(
                userName: "sig-target", password: "Signed-Passw0rd!", passwordResetRequired: true)
        }

        let wrongSecret = AWSCredentials(
            accessKeyId: adminKeys.accessKeyId, secretAccessKey: "not-the-right-secret-key")
        try await Moto.withSession(endpoint: moto.endpoint, credentials: wrongSecret) { session, _, _ in
            let error = await #expect(throws: AWSServiceError.self) {
                try await session.iam.getUser(userName: "sig-target")
            }
            #expect(error?.code == "SignatureDoesNotMatch")
            #expect(error?.httpStatus == 403)
            #expect(error?.retryClass == .never)
            #expect(error.map { $0.errorCode.isAuthorization } == true)
            #expect(error?.description.contains("SignatureDoesNotMatch") == true)
            #expect(error?.description.contains("not-the-right-secret-key") == false)

            let stsError = await #expect(throws: AWSServiceError.self) { try await session.sts.getCallerIdentity() }
            #expect(stsError?.code == "SignatureDoesNotMatch")
        }

        let unknownKey = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "whatever-secret")
        try await Moto.withSession(endpoint: moto.endpoint, credentials: unknownKey) { session, _, _ in
            let error = await #expect(throws: AWSServiceError.self) {
                try await session.iam.getUser(userName: "sig-target")
            }
            #expect(error?.code == "InvalidClientTokenId")
            #expect(error?.httpStatus == 403)
        }

        // A user without policies is denied: the check is real, not just a key lookup.
        let plainKeys = try await Moto.withSession(endpoint: moto.endpoint, credentials: adminKeys) { _, admin, _ in
            try await admin.createUser("sig-plain")
            return try await admin.createAccessKey("sig-plain")
        }
        try await Moto.withSession(endpoint: moto.endpoint, credentials: plainKeys) { session, _, _ in
            let error = await #expect(throws: AWSServiceError.self) {
                try await session.iam.deleteLoginProfile(userName: "sig-target")
            }
            #expect(error?.code == "AccessDenied")
        }
    }
}
