import Foundation
import NIOSSL

/// Settings for the shared HTTP client.
public struct HTTPSettings: Sendable {
    /// Time allowed to open a connection (never more than the request's own timeout).
    public var connectTimeout: Duration = .seconds(10)
    /// Time allowed for one whole request and response.
    public var requestTimeout: Duration = .seconds(30)
    /// At most this many connections to one host (the pool is bounded).
    public var maxConnectionsPerHost: Int = 64
    /// PEM bundle of trusted roots for HTTPS: `--ca-bundle`, else `AWS_CA_BUNDLE`, else the
    /// profile's `ca_bundle` (see `AWSConfiguration.http`). Applies through a proxy tunnel too.
    public var caBundlePath: String?
    /// Where `caBundlePath` came from, for messages.
    public var caBundleSource: String = "AWS_CA_BUNDLE"
    /// Largest response body held in memory (what a body filter keeps, when a call has one).
    public var maxResponseBytes: Int = HTTPLimits.maxResponseBodyBytes
    /// Proxies from the environment.
    public var proxies: ProxySettings = .none

    public init() {}

    /// `AWS_CA_BUNDLE` and the proxy variables.
    public init(environment: [String: String]) {
        if let bundle = environment["AWS_CA_BUNDLE"], !bundle.isEmpty {
            caBundlePath = bundle
            caBundleSource = "AWS_CA_BUNDLE"
        }
        proxies = ProxySettings(environment: environment)
    }
}

/// A CA bundle file: PEM certificates, read with a size limit.
public enum CABundle {
    /// Largest bundle read. The full Mozilla root store is about 220 KiB.
    public static let maxBytes = 4 * 1024 * 1024

    /// The certificates in `path`, or a setup error naming the file and where it was set.
    public static func load(path: String, source: String) throws -> [NIOSSLCertificate] {
        func failure(_ reason: String) -> AWSClientError {
            AWSClientError(.invalidRequest, action: "setup", detail: "the CA bundle \(path) (\(source)) \(reason)")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw failure("cannot be read") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw failure("cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maxBytes else { throw failure("is larger than \(maxBytes) bytes") }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw failure("is not a PEM certificate bundle")
        }
        guard !certificates.isEmpty else { throw failure("holds no PEM certificate") }
        return certificates
    }

    /// The client TLS configuration: TLS 1.2 at least, the bundle's roots when one is given
    /// (instead of the system's, as the AWS CLI does).
    static func clientConfiguration(roots: [NIOSSLCertificate]?) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let roots { configuration.trustRoots = .certificates(roots) }
        return configuration
    }
}
