import Crypto
import Foundation
import NIOConcurrencyHelpers

/// An HTTP request as the signer sees it.
///
/// `path` is the decoded path (as in `/example space/`); `query` is the raw query string without
/// the `?` (its parameters are decoded and re-encoded canonically). Header order is kept, and a
/// name may repeat.
public struct SignableRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, path: String = "/", query: String = "", headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: SignableRequest, rhs: SignableRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.query == rhs.query && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers, by: { $0.name == $1.name && $0.value == $1.value })
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Everything one signing produced. `signedRequest` carries the added headers
/// (`X-Amz-Date`, `X-Amz-Security-Token`, `X-Amz-Content-Sha256` when asked, `Authorization`).
public struct SigningResult: Sendable {
    public let canonicalRequest: String
    public let stringToSign: String
    public let signature: String
    public let authorization: String
    public let signedRequest: SignableRequest
}

/// AWS Signature Version 4 for header-signed requests: the one signer, used for every call.
///
/// A second, byte-level signer for Query POSTs saved less of a batch's client CPU than the 5%
/// that would justify keeping two, so it went (measured 2026-12-02: BENCHMARKS.md, "Batch on
/// the NIOHTTP1 wire layer").
///
/// A value type: credentials, region and service are fixed per signer; the clock is a parameter
/// of `sign`, so tests can pin it.
public struct SigV4Signer: Sendable, CustomStringConvertible {
    public struct Options: Sendable {
        /// Remove `.`/`..` segments and repeated slashes from the path before signing (all services but S3).
        public var normalizePath: Bool
        /// Add and sign an `X-Amz-Content-Sha256` header.
        public var signBody: Bool
        /// Add the session token after signing instead of signing it (some services want that).
        public var omitSessionToken: Bool

        public init(normalizePath: Bool = true, signBody: Bool = false, omitSessionToken: Bool = false) {
            self.normalizePath = normalizePath
            self.signBody = signBody
            self.omitSessionToken = omitSessionToken
        }
    }

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    public let options: Options

    public init(credentials: AWSCredentials, region: String, service: String, options: Options = Options()) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    public var description: String {
        "SigV4Signer(region: \(region), service: \(service), credentials: \(credentials))"
    }

    /// Signs `request` as of `date`.
    public func sign(_ request: SignableRequest, date: Date) -> SigningResult {
        let amzDate = ISO8601.amzDate(date)
        let scopeDate = ISO8601.scopeDate(date)
        let payloadHash = Self.hex(SHA256.hash(data: request.body))

        var request = request
        request.headers.removeAll { Self.isSigningHeader($0.name) }
        request.headers.append((name: "X-Amz-Date", value: amzDate))
        if options.signBody {
            request.headers.append((name: "X-Amz-Content-Sha256", value: payloadHash))
        }
        if let token = credentials.sessionToken, !options.omitSessionToken {
            request.headers.append((name: "X-Amz-Security-Token", value: token))
        }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method.uppercased(),
            Self.canonicalPath(request.path, normalize: options.normalizePath),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(scopeDate)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        let signingKey = Self.signingKey(
            accessKeyId: credentials.accessKeyId, secret: credentials.secretAccessKey, date: scopeDate,
            region: region, service: service)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"

        if let token = credentials.sessionToken, options.omitSessionToken {
            request.headers.append((name: "X-Amz-Security-Token", value: token))
        }
        request.headers.append((name: "Authorization", value: authorization))
        return SigningResult(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            authorization: authorization, signedRequest: request)
    }

    static func appendHex<D: Sequence>(_ digest: D, to out: inout [UInt8]) where D.Element == UInt8 {
        for byte in digest {
            out.append(hexDigitBytes[Int(byte >> 4)])
            out.append(hexDigitBytes[Int(byte & 0x0F)])
        }
    }

    /// The day's signing key. It changes once a day per secret, region and service: the last
    /// few are kept (four HMACs saved per request).
    static func signingKey(accessKeyId: String, secret: String, date: String, region: String, service: String)
        -> SymmetricKey
    {
        let scope = SigningKeyScope(
            accessKeyId: accessKeyId, secretHash: secret.hashValue, date: date, region: region, service: service)
        if let bytes = signingKeys.withLockedValue({ $0[scope] }) { return SymmetricKey(data: bytes) }
        let bytes = deriveSigningKey(secret: secret, date: date, region: region, service: service)
        signingKeys.withLockedValue { keys in
            if keys.count >= 16 { keys.removeAll() }
            keys[scope] = bytes
        }
        return SymmetricKey(data: bytes)
    }

    /// The keys' bytes (`SymmetricKey` is not `Sendable`).
    private static let signingKeys = NIOLockedValueBox<[SigningKeyScope: [UInt8]]>([:])

    /// A header value's canonical form: without white space (space, tab, CR, LF) at either end,
    /// each inner run of it as one space.
    static func appendFolded(_ value: String, to out: inout [UInt8]) {
        var pendingSpace = false
        var wroteAny = false
        for byte in value.utf8 {
            if byte == 32 || byte == 9 || byte == 10 || byte == 13 {
                pendingSpace = wroteAny
            } else {
                if pendingSpace { out.append(32) }
                pendingSpace = false
                wroteAny = true
                out.append(byte)
            }
        }
    }

    private static let hexDigitBytes: [UInt8] = Array("0123456789abcdef".utf8)

    // MARK: - Canonical parts

    static func isSigningHeader(_ name: String) -> Bool {
        switch name.lowercased() {
        case "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256": return true
        default: return false
        }
    }

    /// Lower-cased names sorted; values trimmed with inner runs of spaces folded; repeated names
    /// joined with commas in their original order.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for header in headers {
            let name = foldSpaces(header.name.lowercased())
            merged[name, default: []].append(foldSpaces(header.value))
        }
        let names = merged.keys.sorted()
        let lines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }
        return (lines.joined(), names.joined(separator: ";"))
    }

    static func foldSpaces(_ value: String) -> String {
        var out: [UInt8] = []
        appendFolded(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func canonicalPath(_ path: String, normalize: Bool) -> String {
        if path.isEmpty || path == "/" { return "/" }
        var path = path
        if normalize { path = normalizedPath(path) }
        return uriEncode(path, keepSlash: true)
    }

    /// RFC 3986 dot-segment removal plus folding of empty segments, keeping a trailing slash.
    static func normalizedPath(_ path: String) -> String {
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(segment)
            }
        }
        var result = "/" + output.joined(separator: "/")
        let lastSegment = path.split(separator: "/", omittingEmptySubsequences: false).last
        if path.hasSuffix("/") || lastSegment == "." || lastSegment == "..", result != "/" {
            result += "/"
        }
        return result
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(kv[0]))
            let value = kv.count > 1 ? percentDecode(String(kv[1])) : ""
            pairs.append((uriEncode(key, keepSlash: false), uriEncode(value, keepSlash: false)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encodes every byte except `A-Z a-z 0-9 - . _ ~` (and `/` when asked).
    public static func uriEncode(_ string: String, keepSlash: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(string.utf8.count)
        appendURIEncoded(string, keepSlash: keepSlash, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `uriEncode`, appended to a byte buffer.
    public static func appendURIEncoded(_ string: String, keepSlash: Bool, to out: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(upperHexDigits[Int(byte >> 4)])
                out.append(upperHexDigits[Int(byte & 0x0F)])
            }
        }
    }

    private static let upperHexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func percentDecode(_ string: String) -> String {
        var bytes = [UInt8]()
        var iterator = Array(string.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Names the secret by its access key id and its hash value (a keyed hash whose key is new
    /// in every process), so the cache holds no copy of it.
    private struct SigningKeyScope: Hashable {
        var accessKeyId: String
        var secretHash: Int
        var date: String
        var region: String
        var service: String
    }

    /// The signing key's bytes.
    static func deriveSigningKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        func hmac(_ key: [UInt8], _ data: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(data.utf8), using: SymmetricKey(data: key)))
        }
        let kDate = hmac(Array("AWS4\(secret)".utf8), date)
        let kRegion = hmac(kDate, region)
        let kService = hmac(kRegion, service)
        return hmac(kService, "aws4_request")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        var out = [UInt8]()
        appendHex(digest, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
