import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// `AWS_CA_BUNDLE`: HTTPS to a server whose certificate only a private CA vouches for.
@Suite(
    "AWS_CA_BUNDLE over HTTPS",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "openssl is not installed"))
struct CABundleTests {
    /// A CA and a server certificate for 127.0.0.1 signed by it.
    static func makeCertificates(in dir: TemporaryDirectory) throws -> (ca: String, cert: String, key: String) {
        let script = """
            set -e
            cd '\(dir.path)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=console-access-test-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CertificateError() }
        return (dir.path + "/ca.pem", dir.path + "/server.pem", dir.path + "/server.key")
    }

    struct CertificateError: Error {}

    @Test("the bundle's CA is trusted; without it the same server is refused")
    func bundle() async throws {
        let dir = try TemporaryDirectory()
        let files = try Self.makeCertificates(in: dir)
        let server = try await LocalHTTPServer(tls: (files.cert, files.key)) { _ in
            .respond(
                HTTPResponseData(
                    status: 200,
                    body: Array(
                        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/tls</Arn><Account>123456789012</Account><UserId>AID</UserId></GetCallerIdentityResult><ResponseMetadata><RequestId>tls-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
                            .utf8)))
        }
        defer { Task { await server.stop() } }
        let url = "https://127.0.0.1:\(server.port)"
        let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")

        var trusted = AWSConfiguration(
            endpointURL: url, credentials: credentials,
            environment: ["HOME": "/nonexistent", "AWS_CA_BUNDLE": files.ca])
        trusted.http.connectTimeout = .seconds(3)
        let identity = try await AWSHTTPClient.withClient(settings: trusted.http) { transport in
            try await AWSSession.make(configuration: trusted, transport: transport).sts.getCallerIdentity()
        }
        #expect(identity.value.arn == "arn:aws:iam::123456789012:user/tls")
        #expect(identity.requestId == "tls-1")

        var untrusted = AWSConfiguration(
            endpointURL: url, credentials: credentials, environment: ["HOME": "/nonexistent"])
        untrusted.http.connectTimeout = .seconds(3)
        await #expect(throws: AWSClientError.self) {
            try await AWSHTTPClient.withClient(settings: untrusted.http) { transport in
                try await AWSSession.make(configuration: untrusted, transport: transport).sts.getCallerIdentity()
            }
        }
    }
}
