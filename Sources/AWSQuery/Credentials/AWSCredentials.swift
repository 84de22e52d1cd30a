import Foundation

/// A set of AWS credentials. The secret access key and session token never appear in any
/// description, dump or log line: they print as `<redacted>`.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public let accessKeyId: String
    /// The secret access key. Do not log, print or store it.
    public let secretAccessKey: String
    /// The session token of temporary credentials. Do not log, print or store it.
    public let sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-term keys.
    public let expiration: Date?
    /// Which provider produced them (e.g. `environment`, `profile default`, `assume-role`).
    public let source: String

    public init(
        accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
        source: String = "explicit"
    ) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.expiration = expiration
        self.source = source
    }

    /// True when the credentials expire within `margin` seconds of `now`.
    public func expires(within margin: TimeInterval, of now: Date = Date()) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }

    public var description: String {
        var parts = ["accessKeyId: \(accessKeyId)", "secretAccessKey: <redacted>"]
        if sessionToken != nil { parts.append("sessionToken: <redacted>") }
        if let expiration { parts.append("expiration: \(ISO8601.format(expiration))") }
        parts.append("source: \(source)")
        return "AWSCredentials(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>", "source": source,
            ], displayStyle: .struct)
    }
}

/// Values that are sent in HTTP headers (access key ids in `Authorization`, session tokens,
/// container authorization tokens, the IMDS session token) must not carry CR, LF or any other
/// control character: one would end the header and let the value write the rest of the request.
/// They are refused where they enter, with an error that names the setting, never the value.
public enum HeaderValue {
    /// True when `value` has no control character (U+0000–U+001F, U+007F).
    public static func isSafe(_ value: String) -> Bool {
        !value.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// Throws `misconfigured` (a setting) or `fetchFailed` (an answer) naming `source` and `what`.
    static func check(_ value: String?, _ what: String, source: String, fetched: Bool) throws(CredentialError) {
        guard let value, !isSafe(value) else { return }
        let reason = "\(what) contains a control character (CR, LF or another); it is not sent in an HTTP header"
        throw fetched
            ? CredentialError.fetchFailed(source: source, reason: reason)
            : CredentialError.misconfigured(source: source, reason: reason)
    }
}

extension AWSCredentials {
    /// These credentials, when their header-bound parts (access key id, session token) are safe.
    /// - Parameters:
    ///   - names: what the access key id and the session token are called where they came from
    ///     (e.g. `AWS_ACCESS_KEY_ID`, `aws_session_token`).
    ///   - fetched: true when they came in an answer (a `fetchFailed` error), false for settings.
    func checkedForHeaders(
        source: String, names: (accessKeyId: String, sessionToken: String) = ("the access key id", "the session token"),
        fetched: Bool
    ) throws(CredentialError) -> AWSCredentials {
        try HeaderValue.check(accessKeyId, names.accessKeyId, source: source, fetched: fetched)
        try HeaderValue.check(sessionToken, names.sessionToken, source: source, fetched: fetched)
        return self
    }
}
