import Foundation
import Logging
import TestSupport
import Testing

@testable import AWSQuery

/// A region or endpoint from configuration must never put another host into a URL that
/// signed requests (and web identity tokens) go to.
@Suite("Region and endpoint validation")
struct RegionValidationTests {
    static let hostile = [
        "evil.com/x", "us-east-1.evil.com", "x@evil.com", "evil.com:443", "us-east-1/", "us east 1",
        "us-east-1\r\nX: y",
        "-us-east-1", "us-east-1-", "", "ü-east-1", String(repeating: "a", count: 64), "us_east_1", "evil.com#",
        "evil.com?", "[::1]",
    ]

    @Test(
        "valid regions are accepted",
        arguments: ["us-east-1", "eu-central-2", "cn-north-1", "us-gov-west-1", "local", "X1"])
    func valid(region: String) throws {
        #expect(Region.isValid(region))
        #expect(try Region.validated(region, source: "--region") == region)
    }

    @Test("host-changing region names are refused", arguments: hostile)
    func invalid(region: String) {
        #expect(!Region.isValid(region))
    }

    @Test("each place a region enters is checked, and the error names it")
    func sources() throws {
        let cases: [(flag: String?, env: [String: String], profile: [String: String], source: String)] = [
            ("evil.com/x", [:], [:], "--region"),
            (nil, ["AWS_REGION": "evil.com/x"], [:], "AWS_REGION"),
            (nil, ["AWS_DEFAULT_REGION": "evil.com/x"], [:], "AWS_DEFAULT_REGION"),
            (nil, [:], ["region": "evil.com/x"], "region in profile dev"),
        ]
        for (flag, env, profile, source) in cases {
            let error = #expect(throws: AWSConfigurationError.self) {
                try Region.resolve(flag: flag, environment: env, profileSettings: profile, profileName: "dev")
            }
            #expect(error == .invalidRegion(value: "evil.com/x", source: source))
            #expect(
                error.map { "\($0)" }
                    == "\(source): invalid region 'evil.com/x': a region is letters, digits and hyphens, such as us-east-1"
            )
        }
        // The first one set wins; an invalid later one is not looked at.
        let picked = try Region.resolve(
            flag: nil, environment: ["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "evil.com/x"],
            profileSettings: [:], profileName: "dev")
        #expect(picked.region == "eu-west-1" && picked.source == "AWS_REGION")
        #expect(
            try Region.resolve(flag: nil, environment: [:], profileSettings: [:], profileName: "d").region
                == "us-east-1")
        // Control characters are shown escaped, not written to the terminal.
        let crlf = #expect(throws: AWSConfigurationError.self) {
            try Region.validated("a\r\nb", source: "AWS_REGION")
        }
        #expect(crlf.map { "\($0)" }?.contains("a\\r\\nb") == true)
    }

    @Test("a session is never made with a crafted region: no STS host under the attacker's name")
    func session() async throws {
        let dir = try TemporaryDirectory()
        try dir.write(".aws/config", "[default]\nregion = attacker.example/\n")
        try await AWSHTTPClient.withClient { transport in
            for (configuration, source) in [
                (AWSConfiguration(region: "evil.com/x", environment: ["HOME": dir.path]), "--region"),
                (AWSConfiguration(environment: ["HOME": dir.path, "AWS_REGION": "x.evil.com"]), "AWS_REGION"),
                (AWSConfiguration(environment: ["HOME": dir.path]), "region in profile default"),
            ] {
                let error = #expect(throws: AWSConfigurationError.self) {
                    try AWSSession.make(configuration: configuration, transport: transport)
                }
                #expect(
                    error.map { "\($0)" }?.hasPrefix(source + ": invalid region") == true,
                    "\(String(describing: error))")
                #expect(throws: AWSConfigurationError.self) { try configuration.resolveRegion() }
            }
            let fine = try AWSSession.make(
                configuration: AWSConfiguration(environment: ["HOME": dir.path, "AWS_REGION": "eu-west-1"]),
                transport: transport)
            #expect(fine.sts.query.endpoint.url == "https://sts.eu-west-1.amazonaws.com")
        }
    }

    @Test(
        "endpoint overrides: http(s) with a host and no user info, query, fragment or control characters",
        arguments: [
            ("https://iam.example.com", true), ("http://127.0.0.1:5000", true), ("http://localhost:5000/base", true),
            ("http://[::1]:5000", true), ("ftp://example.com", false), ("example.com", false), ("https://", false),
            ("https://user:secret@example.com", false), ("https://user@example.com", false),
            ("https://example.com/?x=1", false), ("https://example.com/#f", false),
            ("https://example.com\r\nX-Evil: 1", false), ("https://exa mple.com", false),
        ])
    func endpointOverride(url: String, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try ServiceEndpoint.validate(override: url, source: "--endpoint-url") }
        } else {
            let error = #expect(throws: AWSConfigurationError.self) {
                try ServiceEndpoint.validate(override: url, source: "--endpoint-url")
            }
            #expect(error.map { "\($0)" }?.contains("secret") == false)
        }
    }
}
