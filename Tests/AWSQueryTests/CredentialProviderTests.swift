import Foundation
import TestSupport
import Testing

@testable import AWSQuery

/// What the credential suites share.
protocol IsolatedCredentialEnvironment {}

extension IsolatedCredentialEnvironment {
    /// An environment that finds nothing on this machine: no HOME files, no IMDS.
    static func isolated(_ extra: [String: String] = [:], home: String = "/nonexistent-home") -> [String: String] {
        ["HOME": home, "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { $1 }
    }
}

/// The credential sources that need no network, the chain's order, refresh, and redaction. The
/// sources reached over the network are in `CredentialNetworkSourceTests`.
@Suite("Credential providers")
struct CredentialProviderTests: IsolatedCredentialEnvironment {
    // MARK: Environment

    @Test("environment: both keys and the session token")
    func environment() async throws {
        let credentials = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
        ]).credentials()
        #expect(credentials.accessKeyId == "AKIDENV")
        #expect(credentials.secretAccessKey == "env-secret")
        #expect(credentials.sessionToken == "env-token")
        #expect(credentials.source == "environment")
    }

    @Test("environment: none set is notFound, one without the other is misconfigured")
    func environmentPartial() async throws {
        await #expect(
            throws: CredentialError.notFound(
                source: "environment variables", reason: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        ) {
            try await EnvironmentCredentialProvider(environment: [:]).credentials()
        }
        let error = await #expect(throws: CredentialError.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID"]).credentials()
        }
        #expect(error?.description.contains("AWS_SECRET_ACCESS_KEY is not") == true)
    }

    // MARK: Chain

    @Test("the chain prefers the environment over a profile, and uses the profile otherwise")
    func chainOrder() async throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            ".aws/credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n")
        try await AWSHTTPClient.withClient { transport in
            let withEnv = Self.isolated(
                ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"], home: dir.path)
            let session = try AWSSession.make(
                configuration: AWSConfiguration(environment: withEnv), transport: transport)
            #expect(try await session.credentials.credentials().accessKeyId == "AKIDENV")

            let profileOnly = try AWSSession.make(
                configuration: AWSConfiguration(environment: Self.isolated(home: dir.path)), transport: transport)
            let found = try await profileOnly.credentials.credentials()
            #expect(found.accessKeyId == "AKIDPROFILE")
            #expect(found.source == "profile default")
        }
    }

    @Test("no credentials anywhere: the error lists every source tried, in order")
    func nothingFound() async throws {
        let port = try FreePort.find()
        try await AWSHTTPClient.withClient { transport in
            let env = ["HOME": "/nonexistent-home", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"]
            let session = try AWSSession.make(configuration: AWSConfiguration(environment: env), transport: transport)
            let error = await #expect(throws: CredentialError.self) { try await session.credentials.credentials() }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.hasPrefix("Unable to locate credentials"))
            let order = [
                "environment variables", "web identity", "shared config profile 'default'", "container credentials",
                "EC2 instance metadata",
            ]
            var cursor = text.startIndex
            for source in order {
                let found = try #require(
                    text.range(of: source, range: cursor..<text.endIndex), "\(source) missing or out of order")
                cursor = found.upperBound
            }
            // And a signed call surfaces the same error instead of sending anything.
            await #expect(throws: CredentialError.self) { try await session.sts.getCallerIdentity() }
        }
    }

    @Test("an explicitly named profile that does not exist is an error at once")
    func missingProfile() async throws {
        try await AWSHTTPClient.withClient { transport in
            #expect(throws: AWSConfigurationError.profileNotFound("ghost")) {
                try AWSSession.make(
                    configuration: AWSConfiguration(profile: "ghost", environment: Self.isolated()),
                    transport: transport)
            }
            #expect(throws: AWSConfigurationError.profileNotFound("ghost2")) {
                try AWSSession.make(
                    configuration: AWSConfiguration(environment: Self.isolated(["AWS_PROFILE": "ghost2"])),
                    transport: transport)
            }
        }
    }

    // MARK: Refresh

    actor CountingProvider: CredentialProvider {
        nonisolated var name: String { "counting" }
        var fetches = 0
        let lifetime: TimeInterval

        init(lifetime: TimeInterval) { self.lifetime = lifetime }

        func credentials() async throws -> AWSCredentials {
            fetches += 1
            try await Task.sleep(for: .milliseconds(50))
            return AWSCredentials(
                accessKeyId: "AKID\(fetches)", secretAccessKey: "s", sessionToken: "t",
                expiration: Date().addingTimeInterval(lifetime))
        }
    }

    @Test("temporary credentials are cached, shared by concurrent callers, and refreshed before expiry")
    func refresh() async throws {
        let longLived = CountingProvider(lifetime: 3600)
        let cache = RefreshingCredentialProvider(longLived, refreshMargin: 300)
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await cache.credentials().accessKeyId } }
            for try await id in group { #expect(id == "AKID1") }
        }
        #expect(await longLived.fetches == 1)

        let shortLived = CountingProvider(lifetime: 120)  // inside the 5-minute margin: always refreshed
        let refreshing = RefreshingCredentialProvider(shortLived, refreshMargin: 300)
        #expect(try await refreshing.credentials().accessKeyId == "AKID1")
        #expect(try await refreshing.credentials().accessKeyId == "AKID2")
        #expect(await shortLived.fetches == 2)
    }

    // MARK: Redaction

    @Test("secrets never appear in descriptions, dumps or signer descriptions")
    func redaction() {
        let credentials = AWSCredentials(
            accessKeyId: "AKIDSHOWN", secretAccessKey: "SECRET-SHOULD-NOT-PRINT", sessionToken: "TOKEN-SHOULD-NOT-PRINT"
        )
        var dumped = ""
        dump(credentials, to: &dumped)
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "iam")
        for text in [
            "\(credentials)", String(reflecting: credentials), dumped, "\(signer)", String(reflecting: signer),
            "\(StaticCredentialProvider(credentials))",
        ] {
            #expect(!text.contains("SECRET-SHOULD-NOT-PRINT"), "\(text)")
            #expect(!text.contains("TOKEN-SHOULD-NOT-PRINT"), "\(text)")
        }
        #expect("\(credentials)".contains("AKIDSHOWN"))
    }
}
