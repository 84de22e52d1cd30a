import Foundation

/// An AWS partition: a separate set of regions, endpoints and ARNs.
public enum Partition: String, Sendable, CaseIterable {
    case aws = "aws"
    case awsCN = "aws-cn"
    case awsUSGov = "aws-us-gov"

    /// The partition a region belongs to (`cn-*` → aws-cn, `us-gov-*` → aws-us-gov, else aws).
    public static func of(region: String) -> Partition {
        if region.hasPrefix("cn-") { return .awsCN }
        if region.hasPrefix("us-gov-") { return .awsUSGov }
        return .aws
    }

    /// The partition named in an ARN (`arn:PARTITION:...`), if it is one we know.
    public static func of(arn: String) -> Partition? {
        let parts = arn.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "arn" else { return nil }
        return Partition(rawValue: String(parts[1]))
    }

    /// Where IAM (a global service) lives in this partition, and the region it is signed for.
    public var iamEndpoint: (url: String, signingRegion: String) {
        switch self {
        case .aws: return ("https://iam.amazonaws.com", "us-east-1")
        case .awsCN: return ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1")
        case .awsUSGov: return ("https://iam.us-gov.amazonaws.com", "us-gov-west-1")
        }
    }

    /// Where AWS Organizations (global per partition) lives in this partition, and the region it
    /// is signed for.
    public var organizationsEndpoint: (url: String, signingRegion: String) {
        switch self {
        case .aws: return ("https://organizations.us-east-1.amazonaws.com", "us-east-1")
        case .awsCN: return ("https://organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1")
        case .awsUSGov: return ("https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1")
        }
    }

    var dnsSuffix: String {
        self == .awsCN ? "amazonaws.com.cn" : "amazonaws.com"
    }
}

/// Where a service is reached and how requests to it are signed.
public struct ServiceEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// Scheme, host, optional port and optional base path: `https://iam.amazonaws.com`.
    public let url: String
    public let signingRegion: String
    /// The SigV4 service name: `iam`, `sts`, `organizations`.
    public let signingName: String

    /// The `Host` header value: host, and the port when it is not the scheme's default; nil when
    /// the URL has no host.
    public let hostHeader: String?
    /// The request path as sent and signed: the URL's path ending in `/` (`/` for none).
    public let path: String

    public init(url: String, signingRegion: String, signingName: String) {
        let url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.url = url
        self.signingRegion = signingRegion
        self.signingName = signingName
        self.hostHeader = RequestURL(url + "/")?.hostHeader
        // As `QueryClient` sends it: the URL and `/`, parsed as the transport parses it.
        self.path = RequestURL(url + "/")?.path ?? "/"
    }

    public var description: String { "\(url) (signed as \(signingName) in \(signingRegion))" }

    /// IAM in the partition of `region`, or at `override` (signed as that partition's IAM region).
    public static func iam(region: String, override: String? = nil) -> ServiceEndpoint {
        let partition = Partition.of(region: region)
        let standard = partition.iamEndpoint
        return ServiceEndpoint(url: override ?? standard.url, signingRegion: standard.signingRegion, signingName: "iam")
    }

    /// STS in `region` (STS is regional), or at `override`.
    public static func sts(region: String, override: String? = nil) -> ServiceEndpoint {
        let partition = Partition.of(region: region)
        let url = override ?? "https://sts.\(region).\(partition.dnsSuffix)"
        return ServiceEndpoint(url: url, signingRegion: region, signingName: "sts")
    }

    /// AWS Organizations in the partition of `region`, or at `override` (signed as that
    /// partition's Organizations region, as IAM is).
    public static func organizations(region: String, override: String? = nil) -> ServiceEndpoint {
        let standard = Partition.of(region: region).organizationsEndpoint
        return ServiceEndpoint(
            url: override ?? standard.url, signingRegion: standard.signingRegion, signingName: "organizations")
    }

    /// Checks that an override is an absolute http(s) URL with a host, and no user info, query,
    /// fragment or control characters (which would end up in the `Host` header or the signature).
    public static func validate(override: String, source: String) throws {
        guard !override.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }),
            let components = URLComponents(string: override), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.query == nil,
            components.fragment == nil,
            // The transport's parse must find the same host (what is signed is what is reached).
            let parsed = RequestURL(override),
            parsed.host.lowercased() == host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        else {
            throw AWSConfigurationError.invalidEndpoint(url: override, source: source)
        }
    }
}

/// A problem with how the client was configured (not with AWS's answer).
public enum AWSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidEndpoint(url: String, source: String)
    /// A region that is not a valid host label, and the setting it came from.
    case invalidRegion(value: String, source: String)
    case profileNotFound(String)
    case invalidProfile(profile: String, reason: String)
    case invalidSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let url, let source):
            return
                "invalid endpoint URL '\(Self.printable(Self.withoutUserInfo(url)))' from \(source): expected http(s)://host[:port][/path], without user info"
        case .invalidRegion(let value, let source):
            return
                "\(source): invalid region '\(Self.printable(value))': a region is letters, digits and hyphens, such as us-east-1"
        case .profileNotFound(let name):
            return "the config profile (\(name)) could not be found"
        case .invalidProfile(let profile, let reason):
            return "profile \(profile): \(reason)"
        case .invalidSetting(let name, let reason):
            return "\(name): \(reason)"
        }
    }

    /// A URL with any user info (`user:password@`) replaced by `<redacted>@`.
    static func withoutUserInfo(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let authorityEnd =
            url[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "<redacted>" + String(url[at...])
    }

    /// A configured value as an error quotes it: control characters escaped, at most 100 characters.
    static func printable(_ value: String) -> String {
        var text = ""
        for scalar in value.unicodeScalars.prefix(100) {
            text += scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return value.unicodeScalars.count > 100 ? text + "…" : text
    }
}
