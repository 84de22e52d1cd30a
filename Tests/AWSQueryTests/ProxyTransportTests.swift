import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import TestSupport
import Testing

@testable import AWSQuery

@Suite("HTTP client through proxies, with CA bundles")
struct ProxyTransportTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    func settings(_ environment: [String: String]) -> HTTPSettings {
        HTTPSettings(environment: environment)
    }

    @Test("http through a proxy: absolute form, Host of the endpoint, Basic credentials from the URL")
    func absoluteForm() async throws {
        let proxy = try await ScriptedServer { _, _ in .respond(Self.ok) }
        let http = settings(["HTTP_PROXY": "http://ops%2Bteam:pa%3Ass@127.0.0.1:\(proxy.port)"])
        try await AWSHTTPClient.withClient(settings: http) { client in
            for _ in 0..<2 {
                let response = try await client.send(
                    HTTPRequestData(url: "http://iam.internal.example:8080/base/?x=1", method: "POST", body: [65]),
                    timeout: .seconds(5))
                #expect(String(decoding: response.body, as: UTF8.self) == "ok")
            }
        }
        let head = try #require(proxy.heads.withLockedValue { $0.first })
        #expect(head.hasPrefix("POST http://iam.internal.example:8080/base/?x=1 HTTP/1.1\r\n"))
        #expect(head.contains("Host: iam.internal.example:8080"))
        #expect(head.contains("Proxy-Authorization: Basic " + Data("ops+team:pa:ss".utf8).base64EncodedString()))
        // Both requests on one kept connection to the proxy.
        #expect(proxy.connections.withLockedValue { $0 } == 1)
        await proxy.stop()
    }

    @Test("NO_PROXY and metadata requests (useProxy: false) go direct")
    func bypass() async throws {
        let proxy = try await ScriptedServer { _, _ in .respond(Self.ok) }
        let server = try await ScriptedServer { _, _ in .respond(Self.ok) }
        try await AWSHTTPClient.withClient(settings: settings(["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)"])) {
            client in
            _ = try await client.send(HTTPRequestData(url: server.url + "/", useProxy: false), timeout: .seconds(5))
        }
        let noProxy = settings(["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)", "no_proxy": "localhost,127.0.0.1"])
        try await AWSHTTPClient.withClient(settings: noProxy) { client in
            _ = try await client.send(HTTPRequestData(url: server.url + "/"), timeout: .seconds(5))
        }
        #expect(server.requests.withLockedValue { $0 } == 2)
        #expect(proxy.requests.withLockedValue { $0 } == 0)
        await proxy.stop()
        await server.stop()
    }

    @Test("a CONNECT answered 407 is a typed error naming the proxy, never its password, never retried")
    func connectRefused() async throws {
        let proxy = try await ScriptedServer { _, _ in
            .respond(
                "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 9\r\n\r\nforbidden"
            )
        }
        let http = settings(["HTTPS_PROXY": "http://alice:hunter2secret@127.0.0.1:\(proxy.port)"])
        try await AWSHTTPClient.withClient(settings: http) { client in
            let error = try await #require(throws: HTTP1TransportError.self) {
                _ = try await client.send(HTTPRequestData(url: "https://iam.amazonaws.com/"), timeout: .seconds(5))
            }
            #expect(error.kind == .proxyRefused(status: 407))
            let mapped = TransportErrors.map(error, action: "GetUser")
            #expect(mapped.description.contains("http://127.0.0.1:\(proxy.port)"))
            #expect(mapped.description.contains("407") && mapped.description.contains("HTTPS_PROXY"))
            #expect(!mapped.description.contains("hunter2"))
            #expect(mapped.retryClass == .never)
        }
        let head = try #require(proxy.heads.withLockedValue { $0.first })
        #expect(head.hasPrefix("CONNECT iam.amazonaws.com:443 HTTP/1.1\r\n"))
        #expect(head.contains("Proxy-Authorization: Basic " + Data("alice:hunter2secret".utf8).base64EncodedString()))
        await proxy.stop()
    }

    @Test("a proxy that is not there is a connection error naming it")
    func proxyDown() async throws {
        let port = try FreePort.find()
        let http = settings(["HTTPS_PROXY": "http://u:pw-secret@127.0.0.1:\(port)"])
        try await AWSHTTPClient.withClient(settings: http) { client in
            let error = try await #require(throws: HTTP1TransportError.self) {
                _ = try await client.send(HTTPRequestData(url: "https://iam.amazonaws.com/"), timeout: .seconds(5))
            }
            #expect(error.kind == .connection)
            #expect(error.description.contains("127.0.0.1:\(port)") && !error.description.contains("pw-secret"))
        }
    }

    @Test("https through tinyproxy's CONNECT, trusting the test CA from the bundle; without it a TLS error")
    func tunnelWithBundle() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await LocalHTTPServer(tls: certificates.tls) { request in
            .respond(HTTPResponseData(status: 200, body: Array("tunneled \(request.uri)".utf8)))
        }
        let proxy = try await TinyProxy(connectPorts: [server.port])
        defer { proxy.stop() }
        var http = settings(["HTTPS_PROXY": proxy.url])
        http.caBundlePath = certificates.caPath
        http.caBundleSource = "--ca-bundle"
        try await AWSHTTPClient.withClient(settings: http) { client in
            let response = try await client.send(
                HTTPRequestData(url: "https://localhost:\(server.port)/base/"), timeout: .seconds(10))
            #expect(String(decoding: response.body, as: UTF8.self) == "tunneled /base/")
        }
        #expect(proxy.log.contains("CONNECT localhost:\(server.port)"))

        try await AWSHTTPClient.withClient(settings: settings(["HTTPS_PROXY": proxy.url])) { client in
            let error = try await #require(throws: HTTP1TransportError.self) {
                _ = try await client.send(
                    HTTPRequestData(url: "https://localhost:\(server.port)/"), timeout: .seconds(10))
            }
            #expect(error.kind == .tls, "\(error)")
            #expect(error.description.contains("--ca-bundle"))
            #expect(TransportErrors.map(error, action: "X").retryClass == .never)
        }
        await server.stop()
    }

    @Test("TLS below 1.2 is refused")
    func tlsMinimum() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.keyPath, format: .pem)))
        configuration.minimumTLSVersion = .tlsv1
        configuration.maximumTLSVersion = .tlsv11
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        var http = HTTPSettings()
        http.caBundlePath = certificates.caPath
        try await AWSHTTPClient.withClient(settings: http) { client in
            let error = try await #require(throws: HTTP1TransportError.self) {
                _ = try await client.send(HTTPRequestData(url: "https://localhost:\(port)/"), timeout: .seconds(5))
            }
            #expect(error.kind == .tls, "\(error)")
        }
        try await channel.close()
    }

    @Test("CA bundles that cannot be used stop the client at setup with the file and its source")
    func badBundles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bundles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let notPEM = directory.appendingPathComponent("not.pem")
        try Data("hello, not a certificate\n".utf8).write(to: notPEM)
        let brokenPEM = directory.appendingPathComponent("broken.pem")
        try Data("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8).write(to: brokenPEM)
        let huge = directory.appendingPathComponent("huge.pem")
        try Data(count: CABundle.maxBytes + 1).write(to: huge)
        let cases: [(String, String)] = [
            (directory.appendingPathComponent("missing.pem").path, "cannot be read"),
            (notPEM.path, "PEM"), (brokenPEM.path, "PEM"), (huge.path, "larger than"), (directory.path, "read"),
        ]
        for (path, reason) in cases {
            var http = HTTPSettings()
            http.caBundlePath = path
            http.caBundleSource = "ca_bundle in profile ops"
            #expect {
                _ = try AWSHTTPClient(settings: http)
            } throws: { error in
                let text = "\(error)"
                return text.contains(path) && text.contains("ca_bundle in profile ops") && text.contains(reason)
            }
        }
    }
}
