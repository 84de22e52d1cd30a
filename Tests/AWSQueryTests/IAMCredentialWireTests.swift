import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

/// The calls for a user's other credentials on the wire, against a loopback server answering
/// IAM's documented XML: service-specific credentials (moto does not implement them) in full,
/// and the exact parameters of every status change. Plus the in-memory IAM's semantics for
/// service-specific credentials, which the contract suite cannot check against moto.
@Suite("Service-specific credentials and status changes on the wire; service-specific credentials in memory")
struct IAMCredentialWireTests {
    static func member(
        _ id: String, service: String, serviceUser: String?, status: String, created: String = "2024-05-06T07:08:09Z"
    ) -> String {
        "<member><UserName>jane</UserName><Status>\(status)</Status>"
            + (serviceUser.map { "<ServiceUserName>\($0)</ServiceUserName>" } ?? "")
            + "<CreateDate>\(created)</CreateDate><ServiceSpecificCredentialId>\(id)</ServiceSpecificCredentialId>"
            + "<ServiceName>\(service)</ServiceName></member>"
    }

    static func listing(_ members: [String], next: String?, requestId: String) -> ServerReply {
        let truncation =
            next.map { "<IsTruncated>true</IsTruncated><Marker>\($0)</Marker>" } ?? "<IsTruncated>false</IsTruncated>"
        return QueryClientTests.xml(
            200,
            "<ListServiceSpecificCredentialsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                + "<ListServiceSpecificCredentialsResult><ServiceSpecificCredentials>\(members.joined())"
                + "</ServiceSpecificCredentials>\(truncation)</ListServiceSpecificCredentialsResult>"
                + "<ResponseMetadata><RequestId>\(requestId)</RequestId></ResponseMetadata>"
                + "</ListServiceSpecificCredentialsResponse>")
    }

    @Test("ListServiceSpecificCredentials follows Marker across two pages and parses every field")
    func listTwoPages() async throws {
        let seen = NIOLockedValueBox<[[String: String]]>([])
        try await QueryClientTests().withServer({ request in
            let form = request.formParameters
            seen.withLockedValue { $0.append(form) }
            if form["Marker"] == nil {
                return Self.listing(
                    [
                        Self.member(
                            "ACCAEXAMPLE1EXAMPLE1", service: "codecommit.amazonaws.com",
                            serviceUser: "jane-at-123456789012", status: "Active")
                    ], next: "page-2", requestId: "r1")
            }
            return Self.listing(
                [
                    Self.member(
                        "ACCAEXAMPLE2EXAMPLE2", service: "cassandra.amazonaws.com",
                        serviceUser: "jane+1-at-123456789012",
                        status: "Inactive"),
                    Self.member(
                        "ACCAEXAMPLE3EXAMPLE3", service: "bedrock.amazonaws.com", serviceUser: nil, status: "Expired"),
                ], next: nil, requestId: "r2")
        }) { iam, _ in
            let result = try await iam.listServiceSpecificCredentials(userName: "jane")
            #expect(result.requestId == "r2")
            let credentials = result.value
            #expect(
                credentials.first
                    == ServiceSpecificCredentialMetadata(
                        userName: "jane", serviceSpecificCredentialId: "ACCAEXAMPLE1EXAMPLE1",
                        serviceName: "codecommit.amazonaws.com", serviceUserName: "jane-at-123456789012",
                        status: .active,
                        createDate: ISO8601.parse("2024-05-06T07:08:09Z")))
            #expect(credentials.map(\.serviceSpecificCredentialId).count == 3)
            #expect(credentials.map(\.serviceName).last == "bedrock.amazonaws.com")
            #expect(credentials.map(\.serviceUserName) == ["jane-at-123456789012", "jane+1-at-123456789012", nil])
            // An expired credential grants nothing: it reads as inactive.
            #expect(credentials.map(\.status) == [.active, .inactive, .inactive])
            let forms = seen.withLockedValue { $0 }
            #expect(forms.map { $0["Action"] } == ["ListServiceSpecificCredentials", "ListServiceSpecificCredentials"])
            #expect(forms.map { $0["UserName"] } == ["jane", "jane"])
            #expect(forms.map { $0["Marker"] } == [nil, "page-2"])
        }
    }

    @Test("an answer without IsTruncated is one page")
    func listUnpaged() async throws {
        let calls = NIOLockedValueBox(0)
        try await QueryClientTests().withServer({ _ in
            calls.withLockedValue { $0 += 1 }
            return QueryClientTests.xml(
                200,
                "<ListServiceSpecificCredentialsResponse><ListServiceSpecificCredentialsResult><ServiceSpecificCredentials>"
                    + Self.member(
                        "ACCAEXAMPLE1EXAMPLE1", service: "codecommit.amazonaws.com", serviceUser: "j", status: "Active")
                    + "</ServiceSpecificCredentials></ListServiceSpecificCredentialsResult></ListServiceSpecificCredentialsResponse>"
            )
        }) { iam, _ in
            let listed = try await iam.listServiceSpecificCredentials(userName: "jane").value
            #expect(listed.count == 1)
            #expect(calls.withLockedValue { $0 } == 1)
        }
    }

    /// The form parameters (without `Version`) each status change below must send, in order.
    static let expectedForms: [[String: String]] = [
        [
            "Action": "UpdateServiceSpecificCredential", "UserName": "jane",
            "ServiceSpecificCredentialId": "ACCAEXAMPLE1EXAMPLE1", "Status": "Inactive",
        ],
        ["Action": "UpdateSSHPublicKey", "UserName": "jane", "SSHPublicKeyId": "APKAEXAMPLE", "Status": "Active"],
        [
            "Action": "UpdateSigningCertificate", "UserName": "jane", "CertificateId": "CERTEXAMPLE",
            "Status": "Inactive",
        ],
        ["Action": "DeactivateMFADevice", "UserName": "jane", "SerialNumber": "arn:aws:iam::123456789012:mfa/jane"],
    ]

    @Test("every status change and MFA deactivation sends IAM's parameters")
    func statusChanges() async throws {
        let seen = NIOLockedValueBox<[[String: String]]>([])
        try await QueryClientTests().withServer({ request in
            let form = request.formParameters
            seen.withLockedValue { $0.append(form) }
            let action = form["Action"] ?? ""
            return QueryClientTests.xml(
                200,
                "<\(action)Response><ResponseMetadata><RequestId>rid-\(action)</RequestId></ResponseMetadata></\(action)Response>"
            )
        }) { iam, _ in
            let updated = try await iam.updateServiceSpecificCredential(
                userName: "jane", serviceSpecificCredentialId: "ACCAEXAMPLE1EXAMPLE1", status: .inactive)
            #expect(updated.requestId == "rid-UpdateServiceSpecificCredential")
            _ = try await iam.updateSSHPublicKey(userName: "jane", sshPublicKeyId: "APKAEXAMPLE", status: .active)
            _ = try await iam.updateSigningCertificate(
                userName: "jane", certificateId: "CERTEXAMPLE", status: .inactive)
            let deactivated = try await iam.deactivateMFADevice(
                userName: "jane", serialNumber: "arn:aws:iam::123456789012:mfa/jane")
            #expect(deactivated.requestId == "rid-DeactivateMFADevice")
            let forms = seen.withLockedValue { $0 }.map { $0.filter { $0.key != "Version" } }
            #expect(forms == Self.expectedForms)
        }
    }

    @Test("UpdateServiceSpecificCredential's NoSuchEntity comes back typed")
    func updateMissing() async throws {
        try await QueryClientTests().withServer({ _ in
            QueryClientTests.xml(
                404,
                "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The Service Specific Credential with id ACCAMISSING000000000 cannot be found.</Message></Error><RequestId>rid-404</RequestId></ErrorResponse>"
            )
        }) { iam, _ in
            let missing = await #expect(throws: AWSServiceError.self) {
                try await iam.updateServiceSpecificCredential(
                    userName: "jane", serviceSpecificCredentialId: "ACCAMISSING000000000", status: .inactive)
            }
            #expect(missing?.errorCode == .noSuchEntity)
            #expect(missing?.httpStatus == 404)
            #expect(missing?.requestId == "rid-404")
            #expect(missing?.action == "UpdateServiceSpecificCredential")
        }
    }

    @Test("in memory: service-specific credentials are listed, set Inactive, NoSuchEntity for an unknown id or user")
    func inMemoryServiceCredentials() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        let git = await iam.addServiceSpecificCredential("jane", serviceName: "codecommit.amazonaws.com")
        let cassandra = await iam.addServiceSpecificCredential(
            "jane", serviceName: "cassandra.amazonaws.com", status: .inactive)
        #expect(git.hasPrefix("ACCA") && git != cassandra)
        let listed = try await iam.listServiceSpecificCredentials(userName: "JANE").value
        #expect(listed.map(\.serviceSpecificCredentialId) == [git, cassandra])
        #expect(listed.map(\.serviceName) == ["codecommit.amazonaws.com", "cassandra.amazonaws.com"])
        #expect(listed.allSatisfy { $0.userName == "jane" && $0.serviceUserName == "jane-at-123456789012" })
        _ = try await iam.updateServiceSpecificCredential(
            userName: "jane", serviceSpecificCredentialId: git, status: .inactive)
        #expect(await iam.serviceCredentialStatuses("jane") == [.inactive, .inactive])
        _ = try await iam.updateServiceSpecificCredential(
            userName: "jane", serviceSpecificCredentialId: cassandra, status: .active)
        #expect(await iam.serviceCredentialStatuses("jane") == [.inactive, .active])
        for (user, id) in [("jane", "ACCA00000000000000999"), ("nobody", git)] {
            let error = await #expect(throws: AWSServiceError.self) {
                try await iam.updateServiceSpecificCredential(
                    userName: user, serviceSpecificCredentialId: id, status: .inactive)
            }
            #expect(error?.errorCode == .noSuchEntity)
            #expect(error?.httpStatus == 404)
        }
        await #expect(throws: AWSServiceError.self) { try await iam.listServiceSpecificCredentials(userName: "nobody") }
    }

    @Test("in memory: each list records one call per page of listPageSize items")
    func inMemoryPaging() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        await iam.setListPageSize(2)
        for _ in 0..<5 { await iam.addServiceSpecificCredential("jane") }
        for _ in 0..<3 { await iam.addSSHPublicKey("jane") }
        await iam.addSigningCertificate("jane")
        #expect(try await iam.listServiceSpecificCredentials(userName: "jane").value.count == 5)
        #expect(try await iam.listSSHPublicKeys(userName: "jane").value.count == 3)
        #expect(try await iam.listSigningCertificates(userName: "jane").value.count == 1)
        #expect(await iam.count("ListServiceSpecificCredentials") == 3)
        #expect(await iam.count("ListSSHPublicKeys") == 2)
        #expect(await iam.count("ListSigningCertificates") == 1)
    }

    @Test("in memory: a deactivated MFA device leaves the user but stays in the account")
    func inMemoryMFA() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        let first = await iam.addMFADevice("jane")
        let second = await iam.addMFADevice("jane")
        #expect(first == "arn:aws:iam::123456789012:mfa/jane" && second != first)
        _ = try await iam.deactivateMFADevice(userName: "jane", serialNumber: first)
        #expect(await iam.mfaSerials("jane") == [second])
        #expect(await iam.accountMFADevices() == [first, second].sorted())
    }
}
