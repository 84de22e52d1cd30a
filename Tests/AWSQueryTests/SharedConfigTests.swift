import Foundation
import TestSupport
import Testing

@testable import AWSQuery

@Suite("Shared config and credentials files")
struct SharedConfigTests {
    @Test("config file: [default] and [profile x] are profiles, other sections are not")
    func configSections() {
        let text = """
            # comment
            [default]
            region = eu-west-1
            [profile dev]
            role_arn = arn:aws:iam::123456789012:role/dev ; trailing comment
            source_profile=base
            [sso-session corp]
            sso_region = us-east-1
            [services local]
            iam =
              endpoint_url = http://localhost:1
            """
        let profiles = SharedConfig.parse(text, isConfigFile: true)
        #expect(Set(profiles.keys) == ["default", "dev"])
        #expect(profiles["default"]?["region"] == "eu-west-1")
        #expect(profiles["dev"]?["role_arn"] == "arn:aws:iam::123456789012:role/dev")
        #expect(profiles["dev"]?["source_profile"] == "base")
    }

    @Test("credentials file: [name] sections, CRLF, nested blocks skipped, keys lower-cased")
    func credentialsFile() {
        let text =
            "[default]\r\nAWS_ACCESS_KEY_ID = AKIAIOSFODNN7EXAMPLE\r\naws_secret_access_key = abc/def+ghi\r\n[other]\r\ns3 =\r\n  max_concurrent_requests = 20\r\naws_access_key_id = B\r\n"
        let profiles = SharedConfig.parse(text, isConfigFile: false)
        #expect(profiles["default"]?["aws_access_key_id"] == "AKIAIOSFODNN7EXAMPLE")
        #expect(profiles["default"]?["aws_secret_access_key"] == "abc/def+ghi")
        #expect(profiles["other"]?["max_concurrent_requests"] == nil)
        #expect(profiles["other"]?["aws_access_key_id"] == "B")
    }

    @Test("load reads AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE; credentials file wins")
    func loadAndMerge() throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("config", "[profile p]\nregion = us-west-2\naws_access_key_id = FROMCONFIG\n")
        let credentials = try dir.write(
            "credentials", "[p]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n")
        let shared = try SharedConfig.load(environment: [
            "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "HOME": "/nonexistent",
        ])
        #expect(shared.profile("p")?["aws_access_key_id"] == "FROMCREDS")
        #expect(shared.profile("p")?["region"] == "us-west-2")
        #expect(shared.profile("missing") == nil)
    }

    @Test("/dev/null as a config file is an empty one")
    func devNull() throws {
        let shared = try SharedConfig.load(environment: [
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "HOME": "/nonexistent",
        ])
        #expect(shared.configProfiles.isEmpty && shared.credentialProfiles.isEmpty)
    }

    @Test("missing files are empty, ~ expands to HOME")
    func missingFiles() throws {
        let dir = try TemporaryDirectory()
        _ = try dir.write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
        let shared = try SharedConfig.load(environment: ["HOME": dir.path])
        #expect(shared.profile("default")?["aws_access_key_id"] == "A")
        let empty = try SharedConfig.load(environment: ["HOME": dir.path + "/nothing"])
        #expect(empty.configProfiles.isEmpty && empty.credentialProfiles.isEmpty)
    }
}
