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

/// Sees a 2xx answer's body as it arrives and decides what of it the answer keeps in memory: an
/// answer too large to hold (the credential report) streams its bulk elsewhere. Made for one
/// request: it is called chunk by chunk in order, never concurrently, on the connection's event
/// loop (so it must not wait). A throw fails the exchange with that error and closes the
/// connection. Never called for other statuses: error answers are read whole, as always.
public protocol HTTPResponseBodyFilter: Sendable {
    /// Appends to `kept` what of `chunk` stays in the in-memory body (the transport bounds that
    /// by its response limit; the filter bounds what it takes out).
    func filter(_ chunk: UnsafeRawBufferPointer, status: Int, keeping kept: inout [UInt8]) throws
}

/// Sends HTTP requests. The production implementation is `AWSHTTPClient`.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData
    /// The same, a 2xx answer's body going through `bodyFilter` as it arrives.
    func send(_ request: HTTPRequestData, timeout: Duration, bodyFilter: (any HTTPResponseBodyFilter)?) async throws
        -> HTTPResponseData
}

extension HTTPTransport {
    /// For transports that hold whole answers anyway (test doubles): the filter sees the body
    /// in one chunk once it has arrived.
    public func send(_ request: HTTPRequestData, timeout: Duration, bodyFilter: (any HTTPResponseBodyFilter)?)
        async throws -> HTTPResponseData
    {
        var response = try await send(request, timeout: timeout)
        guard let bodyFilter, (200..<300).contains(response.status) else { return response }
        let status = response.status
        var kept: [UInt8] = []
        try response.body.withUnsafeBytes { try bodyFilter.filter($0, status: status, keeping: &kept) }
        response.body = kept
        return response
    }
}
