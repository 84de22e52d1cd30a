import Foundation
import Logging

/// How to reach AWS: which profile, region, endpoint and credentials, and an optional role to
/// assume. Every field left nil is found the way the AWS CLI finds it.
public struct AWSConfiguration: Sendable {
    /// `--profile`; else `AWS_PROFILE`; else `default`.
    public var profile: String?
    /// `--region`; else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`; else `us-east-1`.
    public var region: String?
    /// `--endpoint-url` for IAM, STS and Organizations; else `AWS_ENDPOINT_URL_IAM`/`_STS`/`_ORGANIZATIONS`,
    /// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`; else the partition's standard endpoints.
    public var endpointURL: String?
    /// Credentials to use instead of the chain.
    public var credentials: AWSCredentials?
    /// `--role-arn`: assume this role on top of whatever credentials were found.
    public var roleArn: String?
    public var roleSessionName: String?
    public var externalId: String?
    /// A member account's role, assumed on top of everything above (the base credentials, and
    /// `--role-arn` when given): a multi-account run's session in that account.
    public var accountRole: AssumedRole?
    /// The environment to read; the process's by default (tests pass their own).
    public var environment: [String: String]
    public var logger: Logger
    /// HTTP settings as given: `AWS_CA_BUNDLE` and proxies from the environment, and whatever
    /// the caller set (`--ca-bundle`).
    private var httpSettings: HTTPSettings
    /// The HTTP settings of the run: as set, with the profile's `ca_bundle` when neither
    /// `--ca-bundle` nor `AWS_CA_BUNDLE` names a bundle (the AWS CLI's precedence). The shared
    /// config is read when this is read; a config that cannot be read is reported by
    /// `AWSSession.make`.
    public var http: HTTPSettings {
        get {
            guard httpSettings.caBundlePath == nil else { return httpSettings }
            var settings = httpSettings
            let profileName =
                profile.flatMap { $0.isEmpty ? nil : $0 }
                ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
            if let config = try? SharedConfig.load(environment: environment),
                let bundle = config.configProfiles[profileName]?["ca_bundle"], !bundle.isEmpty
            {
                settings.caBundlePath = SharedConfig.expand(bundle, home: environment["HOME"] ?? NSHomeDirectory())
                settings.caBundleSource = "ca_bundle in profile \(profileName)"
            }
            return settings
        }
        set { httpSettings = newValue }
    }
    /// Called once per AWS call made (for audit logs and counters).
    public var observer: (@Sendable (CallRecord) -> Void)?

    public init(
        profile: String? = nil, region: String? = nil, endpointURL: String? = nil, credentials: AWSCredentials? = nil,
        roleArn: String? = nil, roleSessionName: String? = nil, externalId: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "console-access.aws"), observer: (@Sendable (CallRecord) -> Void)? = nil
    ) {
        self.profile = profile
        self.region = region
        self.endpointURL = endpointURL
        self.credentials = credentials
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.externalId = externalId
        self.environment = environment
        self.logger = logger
        self.httpSettings = HTTPSettings(environment: environment)
        self.observer = observer
    }
}

/// A role assumed in another account: its ARN, the session name CloudTrail shows, and the
/// external id its trust policy may ask for (a secret-like value: never logged).
public struct AssumedRole: Sendable, Equatable, CustomStringConvertible {
    public var roleArn: String
    public var sessionName: String?
    public var externalId: String?

    public init(roleArn: String, sessionName: String? = nil, externalId: String? = nil) {
        self.roleArn = roleArn
        self.sessionName = sessionName
        self.externalId = externalId
    }

    /// The account the role is in (the ARN's fifth field), when the ARN has one.
    public var account: String? {
        let fields = roleArn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return fields.count == 6 && !fields[4].isEmpty ? String(fields[4]) : nil
    }

    public var description: String {
        "AssumedRole(\(roleArn), session: \(sessionName ?? "default"), external id: \(externalId == nil ? "none" : "<redacted>"))"
    }
}

/// Resolved clients for one run: IAM, STS and Organizations over one HTTP transport and one
/// credential provider.
public struct AWSSession: Sendable {
    public let region: String
    public let profile: String
    public let iam: IAMClient
    public let sts: STSClient
    /// AWS Organizations (global per partition), with the same credentials: listing accounts
    /// needs the management account's (or a delegated administrator's), not a member role's.
    public let organizations: OrganizationsClient
    public let credentials: any CredentialProvider
    /// Where each setting came from, for `--debug`.
    public let resolution: [String: String]

    /// Resolves settings, endpoints and the credential chain. Makes no network call: credentials
    /// are fetched on first use.
    public static func make(configuration: AWSConfiguration, transport: any HTTPTransport) throws -> AWSSession {
        let env = configuration.environment
        func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }

        let shared = try SharedConfig.load(environment: env)
        let explicitProfile = nonEmpty(configuration.profile) ?? nonEmpty(env["AWS_PROFILE"])
        let profileName = explicitProfile ?? "default"
        if let explicitProfile, !shared.hasProfile(explicitProfile), configuration.credentials == nil {
            throw AWSConfigurationError.profileNotFound(explicitProfile)
        }
        let profileSettings = shared.profile(profileName) ?? [:]
        var resolution: [String: String] = ["profile": explicitProfile == nil ? "default" : profileName]

        let (region, regionSource) = try Region.resolve(
            flag: configuration.region, environment: env, profileSettings: profileSettings, profileName: profileName)
        resolution["region"] = "\(region) (\(regionSource))"

        func override(service: String) throws -> String? {
            let candidates: [(String?, String)] = [
                (configuration.endpointURL, "--endpoint-url"),
                (env["AWS_ENDPOINT_URL_\(service)"], "AWS_ENDPOINT_URL_\(service)"),
                (env["AWS_ENDPOINT_URL"], "AWS_ENDPOINT_URL"),
                (profileSettings["endpoint_url"], "endpoint_url in profile \(profileName)"),
            ]
            for (value, source) in candidates {
                if let value = nonEmpty(value) {
                    try ServiceEndpoint.validate(override: value, source: source)
                    resolution["endpoint \(service.lowercased())"] = "\(value) (\(source))"
                    return value
                }
            }
            return nil
        }
        let iamEndpoint = ServiceEndpoint.iam(region: region, override: try override(service: "IAM"))
        let stsEndpoint = ServiceEndpoint.sts(region: region, override: try override(service: "STS"))
        let organizationsEndpoint = ServiceEndpoint.organizations(
            region: region, override: try override(service: "ORGANIZATIONS"))
        let stsContext = STSContext(
            endpoint: stsEndpoint, transport: transport, logger: configuration.logger,
            observer: configuration.observer)

        var provider: any CredentialProvider
        if let explicit = configuration.credentials {
            provider = StaticCredentialProvider(explicit)
        } else {
            provider = RefreshingCredentialProvider(
                CredentialProviderChain([
                    EnvironmentCredentialProvider(environment: env),
                    WebIdentityCredentialProvider(environment: env, sts: stsContext),
                    ProfileCredentialProvider(
                        profileName: profileName, explicitlyNamed: explicitProfile != nil, config: shared,
                        environment: env, sts: stsContext),
                    ContainerCredentialProvider(environment: env, transport: transport),
                    InstanceMetadataCredentialProvider(environment: env, transport: transport),
                ]))
        }
        if let roleArn = nonEmpty(configuration.roleArn) {
            provider = RefreshingCredentialProvider(
                AssumeRoleCredentialProvider(
                    roleArn: roleArn, sessionName: configuration.roleSessionName, externalId: configuration.externalId,
                    source: provider, sts: stsContext))
            resolution["role"] = roleArn
        }
        if let role = configuration.accountRole {
            provider = RefreshingCredentialProvider(
                AssumeRoleCredentialProvider(
                    roleArn: role.roleArn, sessionName: role.sessionName, externalId: role.externalId,
                    source: provider, sts: stsContext))
            resolution["account role"] = role.roleArn
        }

        func client(_ endpoint: ServiceEndpoint, _ version: String) -> QueryClient {
            QueryClient(
                endpoint: endpoint, apiVersion: version, credentials: provider, transport: transport,
                logger: configuration.logger, timeout: configuration.http.requestTimeout,
                observer: configuration.observer)
        }
        return AWSSession(
            region: region, profile: profileName, iam: IAMClient(query: client(iamEndpoint, IAMClient.apiVersion)),
            sts: STSClient(query: client(stsEndpoint, STSClient.apiVersion)),
            organizations: OrganizationsClient(
                endpoint: organizationsEndpoint, credentials: provider, transport: transport,
                logger: configuration.logger, timeout: configuration.http.requestTimeout,
                observer: configuration.observer, pageSize: OrganizationsClient.maxPageSize),
            credentials: provider,
            resolution: resolution)
    }
}
