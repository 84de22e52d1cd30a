import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery

/// Where the session sends Organizations calls: the partition's global endpoint, or an override.
@Suite("Organizations client: endpoints and session")
struct OrganizationsClientSessionTests {
    @Test(
        "Organizations is global per partition, signed in that partition's region",
        arguments: [
            ("eu-west-1", "https://organizations.us-east-1.amazonaws.com", "us-east-1"),
            ("us-east-1", "https://organizations.us-east-1.amazonaws.com", "us-east-1"),
            ("us-gov-east-1", "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
            ("cn-north-1", "https://organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"),
        ])
    func partitions(region: String, url: String, signingRegion: String) {
        let endpoint = ServiceEndpoint.organizations(region: region)
        #expect(endpoint.url == url)
        #expect(endpoint.signingRegion == signingRegion)
        #expect(endpoint.signingName == "organizations")
        let overridden = ServiceEndpoint.organizations(region: region, override: "http://127.0.0.1:5000")
        #expect(overridden.url == "http://127.0.0.1:5000")
        #expect(overridden.signingRegion == signingRegion)
    }

    func session(_ configuration: AWSConfiguration) async throws -> AWSSession {
        try await AWSHTTPClient.withClient { transport in
            try AWSSession.make(configuration: configuration, transport: transport)
        }
    }

    @Test("overrides: --endpoint-url, then AWS_ENDPOINT_URL_ORGANIZATIONS, then AWS_ENDPOINT_URL, then the profile")
    func overrides() async throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("config", "[default]\nendpoint_url = http://127.0.0.1:4444\nregion = eu-west-3\n")
        let base = [
            "HOME": dir.path, "AWS_CONFIG_FILE": config, "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B",
        ]
        var s = try await session(AWSConfiguration(environment: base))
        #expect(s.organizations.endpoint.url == "http://127.0.0.1:4444")
        #expect(s.organizations.endpoint.signingRegion == "us-east-1")
        #expect(s.organizations.endpoint.signingName == "organizations")
        #expect(s.organizations.pageSize == OrganizationsClient.maxPageSize)

        s = try await session(
            AWSConfiguration(environment: base.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:3333"]) { $1 }))
        #expect(s.organizations.endpoint.url == "http://127.0.0.1:3333")

        let specific = base.merging([
            "AWS_ENDPOINT_URL": "http://127.0.0.1:3333", "AWS_ENDPOINT_URL_ORGANIZATIONS": "http://127.0.0.1:2224",
        ]) { $1 }
        s = try await session(AWSConfiguration(environment: specific))
        #expect(s.organizations.endpoint.url == "http://127.0.0.1:2224")
        #expect(s.iam.query.endpoint.url == "http://127.0.0.1:3333")
        #expect(s.resolution["endpoint organizations"] == "http://127.0.0.1:2224 (AWS_ENDPOINT_URL_ORGANIZATIONS)")

        s = try await session(AWSConfiguration(endpointURL: "http://127.0.0.1:1111", environment: specific))
        #expect(s.organizations.endpoint.url == "http://127.0.0.1:1111")

        let standard = try await session(
            AWSConfiguration(region: "us-gov-west-1", environment: ["HOME": "/nonexistent-home"]))
        #expect(standard.organizations.endpoint.url == "https://organizations.us-gov-west-1.amazonaws.com")
        #expect(standard.resolution["endpoint organizations"] == nil)
    }

    @Test("an invalid AWS_ENDPOINT_URL_ORGANIZATIONS is refused, naming where it came from")
    func invalidOverride() async throws {
        await #expect(
            throws: AWSConfigurationError.invalidEndpoint(url: "ftp://x", source: "AWS_ENDPOINT_URL_ORGANIZATIONS")
        ) {
            try await session(
                AWSConfiguration(
                    environment: ["HOME": "/nonexistent-home", "AWS_ENDPOINT_URL_ORGANIZATIONS": "ftp://x"]))
        }
    }
}

/// `ListAccounts` against moto's Organizations, through the live connector a run uses.
@Suite(
    "Organizations client against moto",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct OrganizationsClientMotoTests {
    /// The JSON object of an answer.
    static func object(_ response: JSONProtocolResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test("every account is listed across small pages, the management account included")
    func listsEveryAccount() async throws {
        let endpoint = try #require(Moto.endpoint)
        let records = NIOLockedValueBox<[CallRecord]>([])
        var configuration = Moto.configuration(endpoint: endpoint)
        configuration.observer = { record in records.withLockedValue { $0.append(record) } }
        try await LiveAWSConnector().withConnection(configuration) { connection in
            let organizations = try #require(connection.organizations as? OrganizationsClient)
            #expect(organizations.endpoint.url == endpoint)
            // The shared server may hold the organization already (another test, an earlier run).
            do {
                _ = try await organizations.call("CreateOrganization", body: #"{"FeatureSet":"ALL"}"#)
            } catch let error as AWSServiceError where error.code == "AlreadyInOrganizationException" {}
            let organization = try Self.object(try await organizations.call("DescribeOrganization"))["Organization"]
            let management = try #require((organization as? [String: Any])?["MasterAccountId"] as? String)

            var created: [String: String] = [:]
            for _ in 0..<5 {
                let name = Moto.uniqueName("org")
                let answer = try Self.object(
                    try await organizations.call(
                        "CreateAccount", body: #"{"AccountName":"\#(name)","Email":"\#(name)@example.com"}"#))
                let status = try #require(answer["CreateAccountStatus"] as? [String: Any])
                #expect(status["State"] as? String == "SUCCEEDED")
                created[try #require(status["AccountId"] as? String)] = name
            }

            records.withLockedValue { $0.removeAll() }
            var paged = organizations
            paged.pageSize = 2
            let accounts = try await paged.listAllAccounts(executor: CallExecutor())
            let byId = Dictionary(accounts.map { ($0.id, $0) }) { first, _ in first }
            #expect(byId.count == accounts.count)
            #expect(accounts.count >= created.count + 1)
            for (id, name) in created {
                #expect(byId[id] == OrganizationAccount(id: id, name: name, status: "ACTIVE"))
            }
            #expect(byId[management]?.isActive == true)
            let calls = records.withLockedValue { $0 }
            #expect(calls.count >= (accounts.count + 1) / 2)
            #expect(calls.allSatisfy { $0.service == "organizations" && $0.action == "ListAccounts" })
            #expect(calls.allSatisfy { $0.httpStatus == 200 && $0.errorCode == nil })

            // The session's own page size (20) lists the same accounts.
            let whole = try await organizations.listAllAccounts(executor: CallExecutor())
            #expect(Set(whole.map(\.id)) == Set(byId.keys))
        }
    }
}
