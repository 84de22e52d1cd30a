import Foundation
import TestSupport
import Testing

@testable import AWSQuery

@Suite("Endpoints and settings resolution")
struct EndpointTests {
    @Test(
        "IAM is global per partition, signed in the partition's home region",
        arguments: [
            ("us-west-2", "https://iam.amazonaws.com", "us-east-1"),
            ("eu-central-1", "https://iam.amazonaws.com", "us-east-1"),
            ("cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            ("us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
        ])
    func iam(region: String, url: String, signingRegion: String) {
        let endpoint = ServiceEndpoint.iam(region: region)
        #expect(endpoint.url == url)
        #expect(endpoint.signingRegion == signingRegion)
        #expect(endpoint.signingName == "iam")
    }

    @Test("STS is regional")
    func sts() {
        #expect(ServiceEndpoint.sts(region: "eu-west-1").url == "https://sts.eu-west-1.amazonaws.com")
        #expect(ServiceEndpoint.sts(region: "eu-west-1").signingRegion == "eu-west-1")
        #expect(ServiceEndpoint.sts(region: "cn-north-1").url == "https://sts.cn-north-1.amazonaws.com.cn")
        #expect(ServiceEndpoint.sts(region: "us-gov-west-1").url == "https://sts.us-gov-west-1.amazonaws.com")
    }

    @Test("Host header keeps non-default ports only")
    func hostHeader() {
        #expect(
            ServiceEndpoint(url: "https://iam.amazonaws.com", signingRegion: "", signingName: "").hostHeader
                == "iam.amazonaws.com")
        #expect(
            ServiceEndpoint(url: "https://iam.amazonaws.com:443/", signingRegion: "", signingName: "").hostHeader
                == "iam.amazonaws.com")
        #expect(
            ServiceEndpoint(url: "http://127.0.0.1:5000", signingRegion: "", signingName: "").hostHeader
                == "127.0.0.1:5000")
        // The path as sent and signed: the base path and `/`, with or without the slash given.
        #expect(ServiceEndpoint(url: "http://localhost:8080/base", signingRegion: "", signingName: "").path == "/base/")
        #expect(
            ServiceEndpoint(url: "http://localhost:8080/base/", signingRegion: "", signingName: "").path == "/base/")
        #expect(ServiceEndpoint(url: "http://localhost:8080", signingRegion: "", signingName: "").path == "/")
    }

    @Test("partition from an ARN")
    func partitionFromArn() {
        #expect(Partition.of(arn: "arn:aws-cn:iam::123456789012:user/x") == .awsCN)
        #expect(Partition.of(arn: "arn:aws:sts::123456789012:assumed-role/r/s") == .aws)
        #expect(Partition.of(arn: "not-an-arn") == nil)
    }

    func session(_ configuration: AWSConfiguration) async throws -> AWSSession {
        try await AWSHTTPClient.withClient { transport in
            try AWSSession.make(configuration: configuration, transport: transport)
        }
    }

    @Test(
        "endpoint overrides: --endpoint-url, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the profile")
    func overridePrecedence() async throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("config", "[default]\nendpoint_url = http://127.0.0.1:4444\nregion = eu-west-3\n")
        let base = [
            "HOME": dir.path, "AWS_CONFIG_FILE": config, "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B",
        ]

        var s = try await session(AWSConfiguration(environment: base))
        #expect(s.iam.query.endpoint.url == "http://127.0.0.1:4444")
        #expect(s.sts.query.endpoint.url == "http://127.0.0.1:4444")
        #expect(s.region == "eu-west-3")
        #expect(s.sts.query.endpoint.signingRegion == "eu-west-3")
        #expect(s.iam.query.endpoint.signingRegion == "us-east-1")

        s = try await session(
            AWSConfiguration(environment: base.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:3333"]) { $1 }))
        #expect(s.iam.query.endpoint.url == "http://127.0.0.1:3333")

        s = try await session(
            AWSConfiguration(
                environment: base.merging([
                    "AWS_ENDPOINT_URL": "http://127.0.0.1:3333", "AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:2222",
                    "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:2223",
                ]) { $1 }))
        #expect(s.iam.query.endpoint.url == "http://127.0.0.1:2222")
        #expect(s.sts.query.endpoint.url == "http://127.0.0.1:2223")

        s = try await session(
            AWSConfiguration(
                endpointURL: "http://127.0.0.1:1111",
                environment: base.merging(["AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:2222"]) { $1 }))
        #expect(s.iam.query.endpoint.url == "http://127.0.0.1:1111")
        #expect(s.sts.query.endpoint.url == "http://127.0.0.1:1111")
    }

    @Test("region: --region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile, then us-east-1")
    func regionPrecedence() async throws {
        let home = ["HOME": "/nonexistent-home"]
        #expect(try await session(AWSConfiguration(environment: home)).region == "us-east-1")
        #expect(
            try await session(AWSConfiguration(environment: home.merging(["AWS_DEFAULT_REGION": "eu-west-1"]) { $1 }))
                .region == "eu-west-1")
        #expect(
            try await session(
                AWSConfiguration(
                    environment: home.merging(["AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "ap-south-1"]) { $1 })
            ).region == "ap-south-1")
        let cn = try await session(
            AWSConfiguration(region: "cn-north-1", environment: home.merging(["AWS_REGION": "ap-south-1"]) { $1 }))
        #expect(cn.region == "cn-north-1")
        #expect(cn.iam.query.endpoint.url == "https://iam.cn-north-1.amazonaws.com.cn")
    }

    @Test("an invalid endpoint URL is refused, naming where it came from")
    func invalidOverride() async throws {
        await #expect(throws: AWSConfigurationError.invalidEndpoint(url: "localhost:5000", source: "--endpoint-url")) {
            try await session(
                AWSConfiguration(endpointURL: "localhost:5000", environment: ["HOME": "/nonexistent-home"]))
        }
        await #expect(throws: AWSConfigurationError.invalidEndpoint(url: "ftp://x", source: "AWS_ENDPOINT_URL")) {
            try await session(
                AWSConfiguration(environment: ["HOME": "/nonexistent-home", "AWS_ENDPOINT_URL": "ftp://x"]))
        }
    }

    @Test("AWS_CA_BUNDLE: an unreadable bundle is a clear error")
    func caBundle() throws {
        let settings = HTTPSettings(environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"])
        #expect(settings.caBundlePath == "/nonexistent/ca.pem")
        let error = #expect(throws: AWSClientError.self) { try AWSHTTPClient(settings: settings) }
        #expect(error?.description.contains("the CA bundle /nonexistent/ca.pem (AWS_CA_BUNDLE) cannot be read") == true)
    }
}
