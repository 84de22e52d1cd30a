import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

/// Configuration and answers that try to redirect or inject: header values with control
/// characters, container URIs that are not loopback or ECS/EKS, oversized token files, and the
/// message when no source has credentials.
@Suite("Credential hardening")
struct CredentialHardeningTests {
    static let injected = [
        "SECRETVAL\r\nX-Evil: 1", "SECRETVAL\n", "SECRET\rVAL", "SECRET\u{0}VAL", "SECRET\u{7F}VAL", "SECRET\tVAL",
    ]

    // MARK: Header values

    @Test("a session token or access key id with a control character in the environment is refused, unprinted")
    func environmentTokens() async throws {
        for value in Self.injected {
            let error = await #expect(throws: CredentialError.self) {
                try await EnvironmentCredentialProvider(environment: [
                    "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": value,
                ]).credentials()
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("environment variables") && text.contains("AWS_SESSION_TOKEN"), "\(text)")
            #expect(!text.contains("SECRET"), "the token must not be printed: \(text)")
            if case .misconfigured = error {
            } else {
                Issue.record("expected misconfigured, got \(String(describing: error))")
            }
        }
        await #expect(throws: CredentialError.self) {
            try await EnvironmentCredentialProvider(environment: [
                "AWS_ACCESS_KEY_ID": "AKID\r\nHost: evil", "AWS_SECRET_ACCESS_KEY": "s",
            ]).credentials()
        }
        // Clean values still work.
        let fine = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//+=",
        ]).credentials()
        #expect(fine.sessionToken == "FwoGZXIvYXdzEJr//+=")
    }

    @Test("a profile's aws_session_token with a control character is refused, naming the profile")
    func profileTokens() async throws {
        try await AWSHTTPClient.withClient { transport in
            let sts = STSContext(
                endpoint: .sts(region: "us-east-1", override: "http://127.0.0.1:9"), transport: transport,
                logger: Logger(label: "t"))
            let config = SharedConfig(credentialProfiles: [
                "p": ["aws_access_key_id": "AKIDP", "aws_secret_access_key": "s", "aws_session_token": "SECRETVAL\rX"]
            ])
            let error = await #expect(throws: CredentialError.self) {
                try await ProfileCredentialProvider(
                    profileName: "p", explicitlyNamed: true, config: config, environment: [:], sts: sts
                ).credentials()
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("aws_session_token of profile 'p'"), "\(text)")
            #expect(!text.contains("SECRETVAL"))
        }
    }

    @Test("container and IMDS answers and authorization tokens with control characters are refused")
    func metadataTokens() async throws {
        let server = try await LocalHTTPServer { request in
            switch (request.method, request.uri) {
            case ("GET", "/bad-token"):
                let body = #"{"AccessKeyId":"AKIDC","SecretAccessKey":"s","Token":"meta\r\ntoken"}"#
                return .respond(HTTPResponseData(status: 200, body: Array(body.utf8)))
            case ("GET", "/good"):
                let body = #"{"AccessKeyId":"AKIDC","SecretAccessKey":"s","Token":"meta-token"}"#
                return .respond(HTTPResponseData(status: 200, body: Array(body.utf8)))
            case ("PUT", "/latest/api/token"):
                return .respond(HTTPResponseData(status: 200, body: Array("imds\r\nInjected: yes".utf8)))
            default:
                return .respond(HTTPResponseData(status: 404))
            }
        }
        defer { Task { await server.stop() } }
        let dir = try TemporaryDirectory()
        let tokenFile = try dir.write("token", "Bearer a\nInjected: yes\n")
        try await AWSHTTPClient.withClient { transport in
            func container(_ env: [String: String]) async throws -> AWSCredentials {
                var provider = ContainerCredentialProvider(environment: env, transport: transport)
                provider.timeout = .seconds(30)  // not the 2 s default: the test machine may be loaded
                return try await provider.credentials()
            }
            let answer = await #expect(throws: CredentialError.self) {
                try await container(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/bad-token"])
            }
            #expect(answer.map { "\($0)" }?.contains("Token contains a control character") == true)
            #expect(answer.map { "\($0)" }?.contains("meta") == false)

            for env in [
                ["AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer a\r\nInjected: yes"],
                ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile],
            ] {
                let error = await #expect(throws: CredentialError.self) {
                    try await container(
                        env.merging(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/good"]) { $1 })
                }
                let text = error.map { "\($0)" } ?? ""
                #expect(text.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN"), "\(text)")
                #expect(!text.contains("Injected") && !text.contains("Bearer"), "\(text)")
            }
            let good = try await container([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/good",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer a",
            ])
            #expect(good.sessionToken == "meta-token")

            var metadata = InstanceMetadataCredentialProvider(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url], transport: transport)
            metadata.timeout = .seconds(30)
            let imds = await #expect(throws: CredentialError.self) { try await metadata.credentials() }
            #expect(imds.map { "\($0)" }?.contains("IMDS session token contains a control character") == true)
        }
    }

    @Test("STS credentials with a control character in the session token are refused")
    func stsAnswer() throws {
        let xml =
            "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>AKID</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>a&#13;&#10;b</SessionToken></Credentials></AssumeRoleResult></AssumeRoleResponse>"
        let response = QueryResponse(root: try XMLTree.parse(Array(xml.utf8)), requestId: nil, httpStatus: 200)
        #expect(throws: CredentialError.self) {
            try STSClient.credentials(from: response, action: "AssumeRole", source: "assume-role x")
        }
    }

    @Test("a token file larger than the limit is refused")
    func tokenFileLimit() async throws {
        let dir = try TemporaryDirectory()
        let big = try dir.write("big", String(repeating: "a", count: TokenFile.maximumSize + 1))
        let exact = try dir.write("exact", String(repeating: "a", count: TokenFile.maximumSize))
        #expect(throws: CredentialError.self) { try TokenFile.read(big, source: "s") }
        #expect(try TokenFile.read(exact, source: "s").count == TokenFile.maximumSize)
    }

    // MARK: Container full URI

    @Test(
        "container full URI: loopback (as addresses), the ECS/EKS addresses and https are accepted",
        arguments: [
            "http://127.0.0.1/creds", "http://127.0.0.1:51679/creds", "http://127.1.2.3/x", "http://localhost:8080/",
            "http://LOCALHOST/", "http://[::1]/creds", "http://[::1]:8080/creds", "http://169.254.170.2/v2/creds",
            "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
            "http://[fd00:ec2:0::23]/x", "https://credentials.example.com/x", "HTTP://127.0.0.1/x",
        ])
    func fullURIAccepted(uri: String) {
        #expect(ContainerCredentialProvider.isAllowed(fullURI: uri))
    }

    @Test(
        "container full URI: anything else is refused",
        arguments: [
            "http://127.0.0.1.evil.com/creds", "http://127.evil.com/", "http://localhost.evil.com/",
            "http://evil.com/127.0.0.1", "http://127.0.0.1@evil.com/", "http://user:pw@127.0.0.1/",
            "http://198.51.100.7/creds", "http://169.254.170.3/", "http://169.254.169.254/", "http://[fd00:ec2::24]/",
            "http://[::2]/", "http://0177.0.0.1/", "http://2130706433/", "http://127.1/", "http://0.0.0.0/",
            "ftp://127.0.0.1/", "file:///etc/passwd", "/creds", "127.0.0.1/creds", "http:///creds",
            "http://127.0.0.1/cr\r\neds", "http://[::ffff:8.8.8.8]/", "",
        ])
    func fullURIRefused(uri: String) async throws {
        #expect(!ContainerCredentialProvider.isAllowed(fullURI: uri))
        guard !uri.isEmpty else { return }
        // And the provider refuses it before any request, as a misconfiguration.
        try await AWSHTTPClient.withClient { transport in
            let error = await #expect(throws: CredentialError.self) {
                try await ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri], transport: transport
                ).credentials()
            }
            if case .misconfigured = error {} else { Issue.record("\(uri): \(String(describing: error))") }
            #expect(error.map { "\($0)" }?.contains("pw@") == false)
        }
    }

    // MARK: The chain's message

    @Test("IMDS answering 403 last: the error still lists every source tried, and the failure")
    func chainListsAllWhenLastFails() async throws {
        let server = try await LocalHTTPServer { _ in .respond(HTTPResponseData(status: 403)) }
        defer { Task { await server.stop() } }
        try await AWSHTTPClient.withClient { transport in
            let env = ["HOME": "/nonexistent-home", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url]
            // The session's chain, with a generous IMDS timeout so a loaded test machine does
            // not turn the 403 into "no metadata service".
            let sts = STSContext(
                endpoint: .sts(region: "us-east-1", override: "http://127.0.0.1:9"), transport: transport,
                logger: Logger(label: "t"))
            var imds = InstanceMetadataCredentialProvider(environment: env, transport: transport)
            imds.timeout = .seconds(30)
            let chain = CredentialProviderChain([
                EnvironmentCredentialProvider(environment: env),
                WebIdentityCredentialProvider(environment: env, sts: sts),
                ProfileCredentialProvider(
                    profileName: "default", explicitlyNamed: false, config: SharedConfig(), environment: env, sts: sts),
                ContainerCredentialProvider(environment: env, transport: transport), imds,
            ])
            let error = await #expect(throws: CredentialError.self) { try await chain.credentials() }
            guard case .chainStopped(let tried, let failure) = error else {
                Issue.record("expected chainStopped, got \(String(describing: error))")
                return
            }
            #expect(tried.count == 4)
            #expect("\(failure)".contains("EC2 instance metadata") && "\(failure)".contains("403"))
            let text = "\(error!)"
            var cursor = text.startIndex
            for source in [
                "environment variables", "web identity", "shared config profile 'default'", "container credentials",
                "EC2 instance metadata", "403",
            ] {
                let found = try #require(
                    text.range(of: source, range: cursor..<text.endIndex), "\(source) missing or out of order: \(text)")
                cursor = found.upperBound
            }
        }
    }

    @Test("a failing source in the middle stops the chain and lists what came before it")
    func chainStopsAtAFailingSource() async throws {
        struct Failing: CredentialProvider {
            var name: String { "failing source" }
            func credentials() async throws -> AWSCredentials {
                throw AWSClientError(.connection, action: "GET", detail: "refused")
            }
        }
        struct Never: CredentialProvider {
            var name: String { "never asked" }
            func credentials() async throws -> AWSCredentials {
                Issue.record("the chain went past a failing source")
                return AWSCredentials(accessKeyId: "A", secretAccessKey: "B")
            }
        }
        let chain = CredentialProviderChain([EnvironmentCredentialProvider(environment: [:]), Failing(), Never()])
        let error = await #expect(throws: CredentialError.self) { try await chain.credentials() }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("environment variables: AWS_ACCESS_KEY_ID"), "\(text)")
        #expect(text.contains("failing source") && text.contains("refused"), "\(text)")
        #expect(!text.contains("never asked"))
    }
}
