import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// `signQueryPost`, the byte-level signing the Query client uses for every call, must give
/// exactly what the general signer (checked against AWS's suite) gives for the same request.
@Suite("Query request signing")
struct QuerySigningTests {
    static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    func general(_ signer: SigV4Signer, host: String, path: String, body: [UInt8], date: Date) -> SigningResult {
        signer.sign(
            SignableRequest(
                method: "POST", path: path,
                headers: [(name: "Host", value: host), (name: "Content-Type", value: Self.contentType)], body: body),
            date: date)
    }

    @Test("same headers and signature as the general signer, over many requests")
    func matchesGeneralSigner() {
        var rng = SplitMix64(seed: 42)
        let hosts = [
            "iam.amazonaws.com", "127.0.0.1:5000", "sts.eu-west-1.amazonaws.com", " spaced.host  ", "[::1]:8080",
        ]
        let paths = ["/", "", "/a/../b/", "/x y/"]
        let tokens: [String?] = [nil, "FQoGZXIvYXdzEJr//////////wEaDM+token", "tok  with   spaces"]
        for index in 0..<400 {
            let credentials = AWSCredentials(
                accessKeyId: "AKID\(index % 7)", secretAccessKey: "secret/\(index % 5)+key",
                sessionToken: tokens[index % tokens.count])
            let options = SigV4Signer.Options(
                normalizePath: index % 3 != 0, signBody: index % 4 == 1, omitSessionToken: index % 5 == 2)
            let signer = SigV4Signer(
                credentials: credentials, region: ["us-east-1", "cn-north-1", "eu-west-1"][index % 3],
                service: index % 2 == 0 ? "iam" : "sts", options: options)
            let host = hosts[Int.random(in: 0..<hosts.count, using: &rng)]
            let path = paths[Int.random(in: 0..<paths.count, using: &rng)]
            let body = (0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let date = Date(timeIntervalSince1970: Double(Int.random(in: 0..<4_000_000_000, using: &rng)))

            let expected = general(signer, host: host, path: path, body: body, date: date)
            let fast = signer.signQueryPost(
                host: host, path: path, contentType: Self.contentType, body: body, date: date)
            #expect(fast.authorization == expected.authorization)
            let added = Array(expected.signedRequest.headers.dropFirst(2))
            #expect(fast.headers.map(\.name) == added.map(\.name))
            #expect(fast.headers.map(\.value) == added.map(\.value))
        }
    }

    @Test("a known signature: AWS's example key, date and an IAM ListUsers body")
    func knownSignature() {
        // Computed independently with Python's hmac/hashlib from the SigV4 definition.
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "iam")
        let signature = signer.signQueryPost(
            host: "iam.amazonaws.com", path: "/", contentType: Self.contentType,
            body: Array("Action=ListUsers&Version=2010-05-08".utf8), date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(signature.amzDate == "20150830T123600Z")
        #expect(
            signature.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=\(Self.pythonSignature)")
    }

    static let pythonSignature = "5d76d0de3e0ffe5a7a23cfce21b99d6f4e5060aad86bd9dc7c617f224e5b492a"
}
