import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

/// The credential sources reached over the network, against loopback servers: role assumption
/// (profiles, web identity, `--role-arn`) with moto for STS, and small responders for ECS and
/// IMDS.
@Suite("Credential providers: roles and metadata")
struct CredentialNetworkSourceTests: IsolatedCredentialEnvironment {
    static let motoTrait = Testing.ConditionTrait.enabled(
        if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)")

    static func sts(_ endpoint: String, _ transport: any HTTPTransport) -> STSContext {
        STSContext(
            endpoint: .sts(region: "us-east-1", override: endpoint), transport: transport, logger: Logger(label: "t"))
    }

    // MARK: Profiles with roles (moto STS)

    @Test(
        "role_arn with source_profile assumes the role with the source's keys, sending external_id, session name, duration",
        motoTrait)
    func profileAssumeRole() async throws {
        try await Moto.withSession { _, admin, transport in
            let role = try await admin.createRole(Moto.uniqueName("profrole"))
            let proxy = try await RecordingProxy.start(upstream: Moto.endpoint!)
            defer { Task { await proxy.stop() } }
            let config = SharedConfig(
                configProfiles: [
                    "ops": [
                        "role_arn": role, "source_profile": "base", "external_id": "ext-42",
                        "role_session_name": "ops-session", "duration_seconds": "1800",
                    ]
                ],
                credentialProfiles: ["base": ["aws_access_key_id": "AKIDBASE", "aws_secret_access_key": "base-secret"]])
            let provider = ProfileCredentialProvider(
                profileName: "ops", explicitlyNamed: true, config: config, environment: [:],
                sts: Self.sts(proxy.url, transport))
            let credentials = try await provider.credentials()
            #expect(credentials.sessionToken != nil)
            #expect(credentials.accessKeyId != "AKIDBASE")
            let request = try #require(proxy.requests.first)
            #expect(request.formParameters["Action"] == "AssumeRole")
            #expect(request.formParameters["RoleArn"] == role)
            #expect(request.formParameters["ExternalId"] == "ext-42")
            #expect(request.formParameters["RoleSessionName"] == "ops-session")
            #expect(request.formParameters["DurationSeconds"] == "1800")
            #expect(request.header("Authorization")?.contains("Credential=AKIDBASE/") == true)
        }
    }

    @Test("credential_source = Environment assumes the role with environment keys", motoTrait)
    func credentialSourceEnvironment() async throws {
        try await Moto.withSession { _, admin, transport in
            let role = try await admin.createRole(Moto.uniqueName("envrole"))
            let config = SharedConfig(configProfiles: ["p": ["role_arn": role, "credential_source": "Environment"]])
            let provider = ProfileCredentialProvider(
                profileName: "p", explicitlyNamed: true, config: config,
                environment: ["AWS_ACCESS_KEY_ID": "AKIDENVSRC", "AWS_SECRET_ACCESS_KEY": "s"],
                sts: Self.sts(Moto.endpoint!, transport))
            let credentials = try await provider.credentials()
            #expect(credentials.source.hasPrefix("assume-role"))

            let noEnv = ProfileCredentialProvider(
                profileName: "p", explicitlyNamed: true, config: config, environment: [:],
                sts: Self.sts(Moto.endpoint!, transport))
            let error = await #expect(throws: CredentialError.self) { try await noEnv.credentials() }
            if case .notFound = error {
                Issue.record("a named credential_source with nothing in it must not be skipped")
            }
        }
    }

    @Test("bad role profiles: cycles, missing sources, bad duration, unknown credential_source")
    func badRoleProfiles() async throws {
        try await AWSHTTPClient.withClient { transport in
            let sts = Self.sts("http://127.0.0.1:9", transport)
            let config = SharedConfig(configProfiles: [
                "a": ["role_arn": "arn:aws:iam::1:role/a", "source_profile": "b"],
                "b": ["role_arn": "arn:aws:iam::1:role/b", "source_profile": "a"],
                "orphan": ["role_arn": "arn:aws:iam::1:role/o", "source_profile": "nowhere"],
                "duration": ["role_arn": "arn:aws:iam::1:role/d", "source_profile": "keys", "duration_seconds": "60"],
                "keys": ["aws_access_key_id": "A", "aws_secret_access_key": "B"],
                "weird": ["role_arn": "arn:aws:iam::1:role/w", "credential_source": "Floppy"],
                "neither": ["role_arn": "arn:aws:iam::1:role/n"],
                "half": ["aws_access_key_id": "A"],
            ])
            let expectations: [(String, String)] = [
                ("a", "cycle"), ("orphan", "does not exist"), ("duration", "duration_seconds"),
                ("weird", "Floppy"), ("neither", "neither source_profile nor credential_source"),
                ("half", "needs both"),
            ]
            for (profile, words) in expectations {
                let provider = ProfileCredentialProvider(
                    profileName: profile, explicitlyNamed: true, config: config, environment: [:], sts: sts)
                let error = await #expect(throws: CredentialError.self) { try await provider.credentials() }
                #expect(
                    error.map { "\($0)" }?.contains(words) == true, "profile \(profile): \(String(describing: error))")
            }
        }
    }

    @Test("web identity: the token file is exchanged for role credentials", motoTrait)
    func webIdentity() async throws {
        try await Moto.withSession { _, admin, transport in
            let role = try await admin.createRole(Moto.uniqueName("webid"))
            let dir = try TemporaryDirectory()
            let tokenFile = try dir.write("token", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl\n")
            let provider = WebIdentityCredentialProvider(
                environment: [
                    "AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_SESSION_NAME": "irsa",
                ],
                sts: Self.sts(Moto.endpoint!, transport))
            let credentials = try await provider.credentials()
            #expect(credentials.sessionToken != nil)
            #expect(credentials.source == "web identity \(role)")

            await #expect(throws: CredentialError.self) {
                try await WebIdentityCredentialProvider(
                    environment: ["AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": dir.path + "/missing"],
                    sts: Self.sts(Moto.endpoint!, transport)
                ).credentials()
            }
        }
    }

    @Test("--role-arn assumes a role on top of the chain's credentials", motoTrait)
    func roleArnOnTop() async throws {
        try await Moto.withSession { _, admin, transport in
            let role = try await admin.createRole(Moto.uniqueName("ontop"))
            var configuration = Moto.configuration(endpoint: Moto.endpoint!)
            configuration.roleArn = role
            configuration.roleSessionName = "batch-run"
            let session = try AWSSession.make(configuration: configuration, transport: transport)
            let identity = try await session.sts.getCallerIdentity().value
            #expect(identity.arn.contains(":assumed-role/"))
            #expect(identity.arn.hasSuffix("/batch-run"))
        }
    }

    // MARK: Container and instance metadata (loopback responders)

    static func credentialsJSON(_ id: String, expiration: Date = Date().addingTimeInterval(3600)) -> HTTPResponseData {
        let body = """
            {"Code":"Success","AccessKeyId":"\(id)","SecretAccessKey":"meta-secret","Token":"meta-token","Expiration":"\(ISO8601.format(expiration))"}
            """
        return HTTPResponseData(
            status: 200, headers: [(name: "Content-Type", value: "application/json")], body: Array(body.utf8))
    }

    @Test("ECS full URI with an authorization token, and with a token file")
    func container() async throws {
        let seen = NIOLockedValueBox<[ReceivedRequest]>([])
        let server = try await LocalHTTPServer { request in
            seen.withLockedValue { $0.append(request) }
            guard request.header("Authorization") == "Bearer ecs-token" else {
                return .respond(HTTPResponseData(status: 401))
            }
            return .respond(Self.credentialsJSON("AKIDECS"))
        }
        defer { Task { await server.stop() } }
        let dir = try TemporaryDirectory()
        let tokenFile = try dir.write("ecs-token", "Bearer ecs-token\n")
        try await AWSHTTPClient.withClient { transport in
            // The 2 s default is for a real host; the parallel test run can be slower than that.
            func provider(_ environment: [String: String]) -> ContainerCredentialProvider {
                var provider = ContainerCredentialProvider(environment: environment, transport: transport)
                provider.timeout = .seconds(30)
                return provider
            }
            let direct = try await provider(
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ecs-token",
                ]
            ).credentials()
            #expect(direct.accessKeyId == "AKIDECS")
            #expect(direct.sessionToken == "meta-token")
            #expect(direct.expiration != nil)

            let fromFile = try await provider([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
            ]).credentials()
            #expect(fromFile.accessKeyId == "AKIDECS")

            let unauthorized = await #expect(throws: CredentialError.self) {
                try await ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds"], transport: transport
                ).credentials()
            }
            #expect(unauthorized.map { "\($0)" }?.contains("HTTP 401") == true)

            let remote = await #expect(throws: CredentialError.self) {
                try await ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://198.51.100.7/creds"],
                    transport: transport
                ).credentials()
            }
            if case .misconfigured = remote {
            } else {
                Issue.record("a plain-http non-loopback FULL_URI must be refused")
            }
        }
        #expect(seen.withLockedValue { $0.first?.uri } == "/creds")
    }

    @Test("IMDSv2: token first, then role, then credentials with the token")
    func instanceMetadata() async throws {
        let seen = NIOLockedValueBox<[ReceivedRequest]>([])
        let server = try await LocalHTTPServer { request in
            seen.withLockedValue { $0.append(request) }
            switch (request.method, request.uri) {
            case ("PUT", "/latest/api/token"):
                guard request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600" else {
                    return .respond(HTTPResponseData(status: 400))
                }
                return .respond(HTTPResponseData(status: 200, body: Array("imds-session-token".utf8)))
            case (_, _) where request.header("X-aws-ec2-metadata-token") != "imds-session-token":
                return .respond(HTTPResponseData(status: 401))
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                return .respond(HTTPResponseData(status: 200, body: Array("app-role\n".utf8)))
            case ("GET", "/latest/meta-data/iam/security-credentials/app-role"):
                return .respond(Self.credentialsJSON("AKIDIMDS"))
            default:
                return .respond(HTTPResponseData(status: 404))
            }
        }
        defer { Task { await server.stop() } }
        try await AWSHTTPClient.withClient { transport in
            var provider = InstanceMetadataCredentialProvider(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url + "/"], transport: transport)
            // The 1 s default is for a real host; the parallel test run can be slower than that.
            provider.timeout = .seconds(30)
            let credentials = try await provider.credentials()
            #expect(credentials.accessKeyId == "AKIDIMDS")
            #expect(credentials.source == "instance role app-role")

            await #expect(
                throws: CredentialError.notFound(
                    source: "EC2 instance metadata (IMDSv2)", reason: "disabled by AWS_EC2_METADATA_DISABLED")
            ) {
                try await InstanceMetadataCredentialProvider(
                    environment: [
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url, "AWS_EC2_METADATA_DISABLED": "true",
                    ],
                    transport: transport
                ).credentials()
            }
        }
        let paths = seen.withLockedValue { $0.map { "\($0.method) \($0.uri)" } }
        #expect(
            paths == [
                "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/app-role",
            ])
    }
}
