import Foundation
import TestSupport
import Testing

/// The tool behind a real proxy (Debian's tinyproxy, installed by `make setup`; the tests fail,
/// never skip, when it is missing) and a TLS front with a test CA in front of moto.
@Suite(
    "proxies and CA bundles (tinyproxy, TLS front, moto)",
    .enabled(if: Moto.isAvailable, "no moto server: CONSOLE_ACCESS_MOTO_ENDPOINT is unset (make test sets it)"))
struct ProxyCLITests {
    static var environment: [String: String] { ModifyCommandTests.environment }

    /// A TLS front (test CA) in front of moto, reached as `https://localhost:PORT`.
    struct Front {
        let certificates: TestCertificates
        let recorder: RecordingProxy
        let port: Int
        var endpoint: String { "https://localhost:\(port)" }

        static func start() async throws -> Front {
            let certificates = try TestCertificates.make()
            let recorder = try await RecordingProxy.start(upstream: Moto.endpoint!, tls: certificates.tls)
            let port = try #require(URLComponents(string: recorder.url)?.port)
            return Front(certificates: certificates, recorder: recorder, port: port)
        }

        func stop() async {
            await recorder.stop()
            certificates.remove()
        }
    }

    func createUsers(_ count: Int) async throws -> [String] {
        let users = (0..<count).map { _ in Moto.uniqueName("proxy") }
        try await Moto.withSession { _, admin, _ in
            for user in users { try await admin.createUser(user) }
        }
        return users
    }

    func disable(_ user: String, _ endpoint: String, _ extra: [String] = [], environment: [String: String]) async throws
        -> CLI.Result
    {
        try await CLI.run(
            ["modify", "--user", user, "--disable", "--endpoint-url", endpoint] + extra, environment: environment,
            timeout: .seconds(60))
    }

    @Test("a batch runs through CONNECT with --ca-bundle; without a bundle it fails with a certificate error")
    func batchThroughTunnel() async throws {
        let front = try await Front.start()
        let proxy = try await TinyProxy(connectPorts: [front.port])
        defer { proxy.stop() }
        let users = try await createUsers(3)
        let dir = try TemporaryDirectory()
        let passwords = users.map { _ in "Proxy-Canary-\(UUID().uuidString.prefix(8))!" }
        let lines = ["user,action,password"] + zip(users, passwords).map { "\($0),enable,\($1)" }
        let input = try dir.write("input.csv", lines.joined(separator: "\n") + "\n")
        let environment = Self.environment.merging(["HTTPS_PROXY": proxy.url]) { $1 }

        let report = dir.path + "/report.csv"
        let result = try await CLI.run(
            [
                "batch", input, "--report", report, "--endpoint-url", front.endpoint, "--ca-bundle",
                front.certificates.caPath,
            ],
            environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("3 changed"), "\(result.stdout)")
        #expect(proxy.log.contains("CONNECT localhost:\(front.port)"), "\(proxy.log)")
        let seen = front.recorder.requests
        #expect(seen.contains { $0.formParameters["Action"] == "CreateLoginProfile" })
        #expect(seen.allSatisfy { $0.header("Host") == "localhost:\(front.port)" })
        for password in passwords { #expect(!result.output.contains(password)) }

        let untrusted = try await CLI.run(
            ["batch", input, "--report", dir.path + "/untrusted.csv", "--endpoint-url", front.endpoint],
            environment: environment)
        #expect(untrusted.status == 1 || untrusted.status == 3, "\(untrusted.status): \(untrusted.output)")
        #expect(untrusted.output.contains("certificate"), "\(untrusted.output)")
        #expect(untrusted.output.contains("--ca-bundle"))
        await front.stop()
    }

    @Test("the bundle from the flag, AWS_CA_BUNDLE or the profile's ca_bundle, in that order")
    func bundlePrecedence() async throws {
        let front = try await Front.start()
        let users = try await createUsers(4)
        let dir = try TemporaryDirectory()
        let good = front.certificates.caPath
        let missing = dir.path + "/missing.pem"
        func config(_ bundle: String) throws -> String {
            try dir.write("config-\(UUID().uuidString)", "[default]\nca_bundle = \(bundle)\n")
        }
        // The profile's ca_bundle alone.
        let fromProfile = try await disable(
            users[0], front.endpoint,
            environment: Self.environment.merging(["AWS_CONFIG_FILE": try config(good)]) { $1 })
        #expect(fromProfile.status == 0, "\(fromProfile.output)")
        // AWS_CA_BUNDLE over the profile.
        let fromEnvironment = try await disable(
            users[1], front.endpoint,
            environment: Self.environment.merging(["AWS_CONFIG_FILE": try config(missing), "AWS_CA_BUNDLE": good]) {
                $1
            })
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.output)")
        // --ca-bundle over both.
        let fromFlag = try await disable(
            users[2], front.endpoint, ["--ca-bundle", good],
            environment: Self.environment.merging(["AWS_CONFIG_FILE": try config(missing), "AWS_CA_BUNDLE": missing]) {
                $1
            })
        #expect(fromFlag.status == 0, "\(fromFlag.output)")
        // A bundle that cannot be read is named with where it was set.
        let bad = try await disable(
            users[3], front.endpoint,
            environment: Self.environment.merging(["AWS_CONFIG_FILE": try config(missing)]) {
                $1
            })
        #expect(bad.status != 0 && bad.status < 128, "\(bad.status)")
        #expect(bad.output.contains(missing) && bad.output.contains("ca_bundle in profile default"), "\(bad.output)")
        await front.stop()
    }

    @Test("Basic credentials reach the proxy; a wrong password is a 407 error that never shows the password")
    func proxyCredentials() async throws {
        let front = try await Front.start()
        let proxy = try await TinyProxy(connectPorts: [front.port], basicAuth: ("opsproxy", "Corr3ct-Horse"))
        defer { proxy.stop() }
        let users = try await createUsers(2)
        let trusted = ["--ca-bundle", front.certificates.caPath]
        let good = try await disable(
            users[0], front.endpoint, trusted,
            environment: Self.environment.merging([
                "HTTPS_PROXY": "http://opsproxy:Corr3ct-Horse@127.0.0.1:\(proxy.port)"
            ]) {
                $1
            })
        #expect(good.status == 0, "\(good.output)")
        #expect(proxy.log.contains("CONNECT localhost:\(front.port)"))

        let wrongPassword = "Wr0ng-Battery-Staple"
        let wrong = try await disable(
            users[1], front.endpoint, trusted + ["--debug"],
            environment: Self.environment.merging([
                "https_proxy": "http://opsproxy:\(wrongPassword)@127.0.0.1:\(proxy.port)"
            ]) { $1 })
        #expect(wrong.status == 1 || wrong.status == 3, "\(wrong.status): \(wrong.output)")
        // tinyproxy answers a CONNECT with wrong credentials 401 (407 for other requests).
        #expect(wrong.output.contains("with HTTP 407") || wrong.output.contains("with HTTP 401"), "\(wrong.output)")
        #expect(wrong.output.contains("were refused"), "\(wrong.output)")
        #expect(wrong.output.contains("http://127.0.0.1:\(proxy.port)"))
        #expect(!wrong.output.contains(wrongPassword))
        #expect(!wrong.output.contains("Corr3ct-Horse"))
        await front.stop()
    }

    @Test("NO_PROXY sends matching hosts direct; http endpoints go through HTTP_PROXY in absolute form")
    func bypassAndAbsoluteForm() async throws {
        let front = try await Front.start()
        let users = try await createUsers(2)
        // The proxy named is not listening: only a bypass can succeed.
        let deadProxy = "http://127.0.0.1:\(try FreePort.find())"
        let bypass = try await disable(
            users[0], front.endpoint, ["--ca-bundle", front.certificates.caPath],
            environment: Self.environment.merging(["HTTPS_PROXY": deadProxy, "NO_PROXY": ".example.org,localhost"]) {
                $1
            })
        #expect(bypass.status == 0, "\(bypass.output)")
        await front.stop()

        let moto = try #require(URLComponents(string: Moto.endpoint!))
        let proxy = try await TinyProxy(connectPorts: [])
        defer { proxy.stop() }
        let plain = try await disable(
            users[1], Moto.endpoint!, environment: Self.environment.merging(["HTTP_PROXY": proxy.url]) { $1 })
        #expect(plain.status == 0, "\(plain.output)")
        #expect(
            proxy.log.contains("POST http://\(moto.host ?? ""):\(moto.port ?? 0)/ HTTP/1.1"), "\(proxy.log)")
    }
}
