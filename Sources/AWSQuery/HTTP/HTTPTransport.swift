import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP request, fully buffered (AWS Query requests and responses are small).
public struct HTTPRequestData: Sendable {
    public var url: String
    public var method: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// False for the metadata endpoints (IMDS, container credentials): never through a proxy.
    public var useProxy: Bool

    public init(
        url: String, method: String = "GET", headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        useProxy: Bool = true
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.useProxy = useProxy
    }
}

/// One HTTP response, fully buffered.
public struct HTTPResponseData: Sendable {
    public var status: Int
    public var body: [UInt8]
    private var fields: HTTPHeaders

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.fields = HTTPHeaders(headers.map { ($0.name, $0.value) })
        self.body = body
    }

    init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.fields = headers
        self.body = body
    }

    /// Every header in order, names as sent.
    public var headers: [(name: String, value: String)] {
        get { fields.map { (name: $0.name, value: $0.value) } }
        set { fields = HTTPHeaders(newValue.map { ($0.name, $0.value) }) }
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        fields.first(name: name)
    }
}

/// Sends HTTP requests. The production implementation is `AWSHTTPClient`.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData
}
