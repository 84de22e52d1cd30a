import Foundation

/// An HTTP proxy from `HTTPS_PROXY`/`HTTP_PROXY`: where it listens and, when its URL has user
/// info, the `Proxy-Authorization` value (Basic). The description never shows the credentials.
public struct ProxyEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// `Basic <base64(user:password)>`, or nil. Secret: never logged or described.
    let authorization: String?
    /// Which variable named it (for messages).
    public let source: String

    /// `http://host:port`, without user info.
    public var description: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "http://\(bracketed):\(port)"
    }

    public var hasCredentials: Bool { authorization != nil }

    /// Parses a proxy URL as the AWS CLI takes it: `http://[user[:password]@]host[:port]`, or
    /// `host[:port]` (then http). User and password are percent-decoded. https proxies are not
    /// supported and are refused with a message.
    public init(url text: String, source: String) throws(ProxyConfigurationError) {
        self.source = source
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if let scheme = rest.range(of: "://") {
            let name = rest[..<scheme.lowerBound].lowercased()
            guard name == "http" else {
                throw ProxyConfigurationError(
                    source: source,
                    reason: name == "https"
                        ? "https:// proxies are not supported (use http://; requests to https endpoints are tunneled with CONNECT)"
                        : "unsupported scheme \(name)://")
            }
            rest = rest[scheme.upperBound...]
        }
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            rest = rest[..<end]
        }
        var authorization: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = String(parts[0]).removingPercentEncoding,
                let password = (parts.count > 1 ? String(parts[1]) : "").removingPercentEncoding
            else {
                throw ProxyConfigurationError(source: source, reason: "its user info is not valid percent-encoding")
            }
            guard HeaderValidation.isValidValue(user), HeaderValidation.isValidValue(password), !user.contains(":")
            else {
                throw ProxyConfigurationError(
                    source: source, reason: "its user name or password contains a control character (CR, LF, ...)")
            }
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        guard let url = RequestURL("http://" + rest), url.target == "/" else {
            throw ProxyConfigurationError(source: source, reason: "not a proxy URL (http://[user:password@]host:port)")
        }
        host = url.host
        port = url.port
        self.authorization = authorization
    }
}

/// A proxy setting that cannot be used. Names the variable, never its value (it may hold a
/// password).
public struct ProxyConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let source: String
    public let reason: String
    public var description: String { "\(source) is not usable: \(reason)" }
}

/// Hosts that bypass the proxy (`NO_PROXY`/`no_proxy`), matched as the AWS CLI and curl do:
/// comma- or space-separated entries, case-insensitive; `*` matches everything; `example.com`,
/// `.example.com` and `*.example.com` match the domain and every host under it; an entry with
/// `:port` matches that port only; IP addresses match exactly, IPv4 CIDR blocks (`10.0.0.0/8`)
/// by prefix.
public struct NoProxyList: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var domain: String
        var port: Int?
        var cidr: (address: UInt32, prefix: Int)?

        static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.domain == rhs.domain && lhs.port == rhs.port && lhs.cidr?.address == rhs.cidr?.address
                && lhs.cidr?.prefix == rhs.cidr?.prefix
        }
    }
    var matchesAll = false
    var entries: [Entry] = []

    public init(_ text: String) {
        for raw in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            var item = raw.lowercased()
            if item == "*" {
                matchesAll = true
                continue
            }
            if item.hasPrefix("*.") { item.removeFirst(2) }
            while item.hasPrefix(".") { item.removeFirst() }
            var port: Int?
            if item.hasPrefix("[") {
                // [v6]:port or [v6]
                guard let close = item.firstIndex(of: "]") else { continue }
                let after = item[item.index(after: close)...]
                if after.hasPrefix(":") { port = Int(after.dropFirst()) }
                item = String(item[item.index(after: item.startIndex)..<close])
            } else if item.filter({ $0 == ":" }).count == 1, let colon = item.firstIndex(of: ":") {
                port = Int(item[item.index(after: colon)...])
                item = String(item[..<colon])
            }
            var cidr: (UInt32, Int)?
            if let slash = item.firstIndex(of: "/") {
                guard let address = Self.ipv4(item[..<slash]), let prefix = Int(item[item.index(after: slash)...]),
                    (0...32).contains(prefix)
                else { continue }
                cidr = (address, prefix)
            }
            guard !item.isEmpty else { continue }
            entries.append(Entry(domain: item, port: port, cidr: cidr))
        }
    }

    /// Whether a request to `host:port` goes direct.
    public func bypasses(host: String, port: Int) -> Bool {
        if matchesAll { return true }
        let host = host.lowercased()
        let address = Self.ipv4(Substring(host))
        for entry in entries {
            if let entryPort = entry.port, entryPort != port { continue }
            if let cidr = entry.cidr {
                guard let address else { continue }
                let mask: UInt32 = cidr.prefix == 0 ? 0 : ~UInt32(0) << (32 - cidr.prefix)
                if address & mask == cidr.address & mask { return true }
                continue
            }
            if host == entry.domain { return true }
            if address == nil && !host.contains(":") && host.hasSuffix("." + entry.domain) { return true }
        }
        return false
    }

    static func ipv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}

/// The proxies of a run, from the environment as the AWS CLI reads it: `HTTPS_PROXY` (or
/// `https_proxy`) for https endpoints, tunneled with `CONNECT`; `HTTP_PROXY` (or `http_proxy`)
/// for http endpoints, sent in absolute form; `NO_PROXY` (or `no_proxy`) for hosts that go
/// direct. The lowercase name wins when both are set, as in the AWS CLI (Python's urllib).
/// Metadata endpoints (IMDS, container credentials) never use a proxy: their requests say so
/// (`HTTPRequestData.useProxy`), and these addresses are never proxied whatever the request says.
public struct ProxySettings: Sendable, Equatable {
    public var httpsProxy: ProxyEndpoint?
    public var httpProxy: ProxyEndpoint?
    public var noProxy: NoProxyList
    /// A proxy variable that is set but unusable; the client refuses to start with it (a run
    /// must not silently go direct when a proxy was asked for).
    public var problem: ProxyConfigurationError?

    public static let none = ProxySettings(httpsProxy: nil, httpProxy: nil, noProxy: NoProxyList(""))

    public init(httpsProxy: ProxyEndpoint?, httpProxy: ProxyEndpoint?, noProxy: NoProxyList) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
    }

    public init(environment: [String: String]) {
        func value(_ name: String) -> (String, String)? {
            for key in [name.lowercased(), name] {
                if let value = environment[key], !value.trimmingCharacters(in: .whitespaces).isEmpty {
                    return (value, key)
                }
            }
            return nil
        }
        noProxy = NoProxyList(value("NO_PROXY")?.0 ?? "")
        func endpoint(_ name: String) -> ProxyEndpoint? {
            guard let (url, source) = value(name) else { return nil }
            do {
                return try ProxyEndpoint(url: url, source: source)
            } catch {
                problem = problem ?? error
                return nil
            }
        }
        httpsProxy = endpoint("HTTPS_PROXY")
        httpProxy = endpoint("HTTP_PROXY")
    }

    /// Addresses of the metadata services (EC2 IMDS, ECS and EKS container credentials).
    static let metadataHosts: Set<String> = [
        "169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "fd00:ec2::23",
    ]

    /// The proxy for `url`, or nil to connect directly.
    func proxy(for url: RequestURL) -> ProxyEndpoint? {
        guard let proxy = url.isTLS ? httpsProxy : httpProxy else { return nil }
        if Self.metadataHosts.contains(url.host.lowercased()) { return nil }
        if noProxy.bypasses(host: url.host, port: url.port) { return nil }
        return proxy
    }
}

/// Header names and values the client agrees to send: a value with CR, LF, NUL or another
/// control character (other than tab) could split the request, and is refused.
enum HeaderValidation {
    static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 9 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
