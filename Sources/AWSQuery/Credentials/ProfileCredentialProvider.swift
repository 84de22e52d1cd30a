import Foundation

/// Credentials from a named profile of the shared config and credentials files: static keys,
/// or a role assumed from `source_profile` (followed recursively) or `credential_source`
/// (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`), with `external_id`,
/// `role_session_name` and `duration_seconds`; or `web_identity_token_file` with `role_arn`.
public struct ProfileCredentialProvider: CredentialProvider {
    public let profileName: String
    /// True when the profile was asked for (`--profile`, `AWS_PROFILE`): then a missing profile is an error.
    public let explicitlyNamed: Bool
    public let config: SharedConfig
    public let environment: [String: String]
    public let sts: STSContext

    public var name: String { "shared config profile '\(profileName)'" }

    public init(
        profileName: String, explicitlyNamed: Bool, config: SharedConfig, environment: [String: String],
        sts: STSContext
    ) {
        self.profileName = profileName
        self.explicitlyNamed = explicitlyNamed
        self.config = config
        self.environment = environment
        self.sts = sts
    }

    public func credentials() async throws -> AWSCredentials {
        guard config.hasProfile(profileName) else {
            if explicitlyNamed {
                throw CredentialError.misconfigured(
                    source: name,
                    reason: "the profile does not exist in \(config.configPath) or \(config.credentialsPath)")
            }
            throw CredentialError.notFound(
                source: name, reason: "no such profile in \(config.credentialsPath) or \(config.configPath)")
        }
        return try await resolve(profileName, visited: [])
    }

    private func resolve(_ profile: String, visited: [String]) async throws -> AWSCredentials {
        guard let settings = config.profile(profile) else {
            throw CredentialError.misconfigured(
                source: name,
                reason: "source_profile '\(profile)' (via \(visited.joined(separator: " → "))) does not exist")
        }
        if visited.contains(profile) {
            throw CredentialError.misconfigured(
                source: name, reason: "source_profile cycle: \((visited + [profile]).joined(separator: " → "))")
        }
        let isSourceOfChain = !visited.isEmpty

        if let roleArn = settings["role_arn"] {
            if let tokenFile = settings["web_identity_token_file"] {
                return try await WebIdentityCredentialProvider(
                    roleArn: roleArn, tokenFile: tokenFile, sessionName: settings["role_session_name"], sts: sts
                ).credentials()
            }
            // A profile used as the source of another may also carry keys: those are its own credentials.
            if isSourceOfChain, let keys = try staticKeys(settings, profile: profile) {
                return keys
            }
            let source: any CredentialProvider
            switch (settings["source_profile"], settings["credential_source"]) {
            case (let sourceProfile?, nil):
                if sourceProfile == profile {
                    guard let keys = try staticKeys(settings, profile: profile) else {
                        throw CredentialError.misconfigured(
                            source: name, reason: "profile '\(profile)' is its own source_profile but has no keys")
                    }
                    source = StaticCredentialProvider(keys, name: "profile '\(profile)' keys")
                } else {
                    let keys = try await resolve(sourceProfile, visited: visited + [profile])
                    source = StaticCredentialProvider(keys, name: "profile '\(sourceProfile)'")
                }
            case (nil, let credentialSource?):
                source = try self.credentialSource(credentialSource, profile: profile)
            case (nil, nil):
                throw CredentialError.misconfigured(
                    source: name,
                    reason: "profile '\(profile)' has role_arn but neither source_profile nor credential_source")
            case (.some, .some):
                throw CredentialError.misconfigured(
                    source: name, reason: "profile '\(profile)' has both source_profile and credential_source")
            }
            var duration: Int?
            if let text = settings["duration_seconds"] {
                guard let value = Int(text), value >= 900, value <= 43_200 else {
                    throw CredentialError.misconfigured(
                        source: name, reason: "duration_seconds must be a whole number from 900 to 43200, not '\(text)'"
                    )
                }
                duration = value
            }
            let assumed = AssumeRoleCredentialProvider(
                roleArn: roleArn, sessionName: settings["role_session_name"], externalId: settings["external_id"],
                durationSeconds: duration, source: source, sts: sts)
            do {
                return try await assumed.credentials()
            } catch CredentialError.notFound(let source, let reason) {
                // The role's source was named in the profile, so its absence is an error, not a reason to move on.
                throw CredentialError.fetchFailed(source: "\(name): credential source \(source)", reason: reason)
            } catch let error as CredentialError {
                throw error
            } catch {
                throw CredentialError.fetchFailed(source: "\(name): assume role \(roleArn)", reason: "\(error)")
            }
        }

        if let keys = try staticKeys(settings, profile: profile) { return keys }
        if settings["aws_access_key_id"] != nil || settings["aws_secret_access_key"] != nil {
            throw CredentialError.misconfigured(
                source: name, reason: "profile '\(profile)' needs both aws_access_key_id and aws_secret_access_key")
        }
        if isSourceOfChain {
            throw CredentialError.misconfigured(source: name, reason: "source profile '\(profile)' has no credentials")
        }
        throw CredentialError.notFound(source: name, reason: "the profile has no credentials")
    }

    private func staticKeys(_ settings: [String: String], profile: String) throws(CredentialError) -> AWSCredentials? {
        guard let id = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"], !id.isEmpty,
            !secret.isEmpty
        else { return nil }
        return try AWSCredentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: settings["aws_session_token"],
            source: "profile \(profile)"
        ).checkedForHeaders(
            source: name,
            names: ("aws_access_key_id of profile '\(profile)'", "aws_session_token of profile '\(profile)'"),
            fetched: false)
    }

    private func credentialSource(_ value: String, profile: String) throws -> any CredentialProvider {
        switch value {
        case "Environment": return EnvironmentCredentialProvider(environment: environment)
        case "Ec2InstanceMetadata":
            return InstanceMetadataCredentialProvider(environment: environment, transport: sts.transport)
        case "EcsContainer": return ContainerCredentialProvider(environment: environment, transport: sts.transport)
        default:
            throw CredentialError.misconfigured(
                source: name,
                reason:
                    "profile '\(profile)' has credential_source '\(value)'; expected Environment, Ec2InstanceMetadata or EcsContainer"
            )
        }
    }
}
