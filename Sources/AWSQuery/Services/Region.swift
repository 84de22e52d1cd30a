/// Region names, checked where they enter: a region becomes part of a host name
/// (`sts.<region>.amazonaws.com`), so a crafted one (`evil.com/x`, `x@evil.com`) would send
/// signed requests and tokens to another host.
public enum Region {
    /// The longest region name accepted (a DNS label's limit).
    public static let maximumLength = 63

    /// Whether `value` is a DNS label: 1 to 63 ASCII letters, digits and hyphens, not starting
    /// or ending with a hyphen.
    public static func isValid(_ value: String) -> Bool {
        let bytes = value.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength, bytes.first != UInt8(ascii: "-"),
            bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-")
        }
    }

    /// `value`, or an `invalidRegion` error naming `source` (`--region`, `AWS_REGION`, ...).
    public static func validated(_ value: String, source: String) throws(AWSConfigurationError) -> String {
        guard isValid(value) else { throw .invalidRegion(value: value, source: source) }
        return value
    }

    /// The region to use and where it came from, the way the AWS CLI picks it: `flag`
    /// (`--region`), `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`.
    /// The first one set must be valid: an invalid one is an error, not skipped.
    public static func resolve(
        flag: String?, environment: [String: String], profileSettings: [String: String], profileName: String
    ) throws(AWSConfigurationError) -> (region: String, source: String) {
        let candidates: [(String?, String)] = [
            (flag, "--region"), (environment["AWS_REGION"], "AWS_REGION"),
            (environment["AWS_DEFAULT_REGION"], "AWS_DEFAULT_REGION"),
            (profileSettings["region"], "region in profile \(profileName)"),
        ]
        for case (let value?, let source) in candidates where !value.isEmpty {
            return (try validated(value, source: source), source)
        }
        return ("us-east-1", "default")
    }
}

extension AWSConfiguration {
    /// The region this configuration resolves to, checked (see `Region.resolve`): lets a
    /// command refuse a bad region as a usage error before any work starts.
    public func resolveRegion() throws -> (region: String, source: String) {
        let shared = try SharedConfig.load(environment: environment)
        let explicit = [profile, environment["AWS_PROFILE"]].lazy.compactMap { $0 }.first { !$0.isEmpty }
        let name = explicit ?? "default"
        return try Region.resolve(
            flag: region, environment: environment, profileSettings: shared.profile(name) ?? [:], profileName: name)
    }
}
