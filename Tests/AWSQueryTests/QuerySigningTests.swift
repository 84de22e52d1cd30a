import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// The signing of a Query POST as the client sends it (Host and Content-Type signed, a form body),
/// checked against a signature computed outside Swift.
@Suite("Query request signing")
struct QuerySigningTests {
    static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    func sign(_ signer: SigV4Signer, host: String, path: String, body: [UInt8], date: Date) -> SigningResult {
        signer.sign(
            SignableRequest(
                method: "POST", path: path,
                headers: [(name: "Host", value: host), (name: "Content-Type", value: Self.contentType)], body: body),
            date: date)
    }

    @Test("a known signature: AWS's example key, date and an IAM ListUsers body")
    func knownSignature() {
        // Computed independently with Python's hmac/hashlib from the SigV4 definition.
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "iam")
        let signature = sign(
            signer, host: "iam.amazonaws.com", path: "/",
            body: Array("Action=ListUsers&Version=2010-05-08".utf8), date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(signature.signedRequest.header("X-Amz-Date") == "20150830T123600Z")
        #expect(
            signature.signedRequest.headers.map(\.name) == ["Host", "Content-Type", "X-Amz-Date", "Authorization"])
        #expect(
            signature.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=\(Self.pythonSignature)")
    }

    @Test("temporary credentials: the session token is signed and sent, after X-Amz-Date")
    func sessionToken() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyId: "ASIAEXAMPLE", secretAccessKey: "s", sessionToken: "tok"),
            region: "us-east-1", service: "iam")
        let signature = sign(
            signer, host: "iam.amazonaws.com", path: "/", body: [], date: Date(timeIntervalSince1970: 0))
        #expect(
            signature.signedRequest.headers.map(\.name)
                == ["Host", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(signature.authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"))
    }

    static let pythonSignature = "5d76d0de3e0ffe5a7a23cfce21b99d6f4e5060aad86bd9dc7c617f224e5b492a"
}
