import NIOCore

/// The parts of a request URL the client needs, parsed without Foundation.
struct RequestURL: Sendable {
    var isTLS: Bool
    /// Without brackets, as the socket layer wants an IPv6 literal.
    var host: String
    var port: Int
    /// Path and query: what goes on the request line.
    var target: String
    var isIPAddress: Bool

    var hostHeader: String {
        let bracketed = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }

    /// The target without its query: the path that is signed.
    var path: String {
        guard let query = target.firstIndex(of: "?") else { return target }
        return String(target[..<query])
    }

    /// `host:port` with the port always given (a `CONNECT` target).
    var hostHeaderWithPort: String {
        let bracketed = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "\(bracketed):\(port)"
    }

    /// Which idle connections a request may use: scheme, host and port.
    private(set) var poolKey = ""

    init?(_ url: String) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            isTLS = true
            rest = url.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            isTLS = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[rest.startIndex..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        self.target = target
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
            isIPAddress = true
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            isIPAddress = !host.isEmpty && host.allSatisfy { $0.isNumber || $0 == "." }
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = isTLS ? 443 : 80
        }
        poolKey = "\(isTLS ? "https" : "http")://\(hostHeader)"
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
