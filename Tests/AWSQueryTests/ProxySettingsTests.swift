import Foundation
import Testing

@testable import AWSQuery

@Suite("Proxy settings")
struct ProxySettingsTests {
    @Test("a proxy URL: host, port, percent-decoded Basic credentials, a description without them")
    func proxyURL() throws {
        let proxy = try ProxyEndpoint(url: "http://al%40ice:p%3Ass%20w0rd%21@proxy.corp:3128/", source: "HTTPS_PROXY")
        #expect(proxy.host == "proxy.corp" && proxy.port == 3128)
        let expected = "Basic " + Data("al@ice:p:ss w0rd!".utf8).base64EncodedString()
        #expect(proxy.authorization == expected)
        #expect(proxy.description == "http://proxy.corp:3128")
        #expect(!"\(proxy)".contains("w0rd") && !String(reflecting: proxy.description).contains("w0rd"))
        let bare = try ProxyEndpoint(url: "10.0.0.1:8080", source: "http_proxy")
        #expect(bare.host == "10.0.0.1" && bare.port == 8080 && bare.authorization == nil)
        #expect(try ProxyEndpoint(url: "http://proxy", source: "x").port == 80)
        #expect(try ProxyEndpoint(url: "http://[::1]:3128", source: "x").description == "http://[::1]:3128")
    }

    @Test(
        "unusable proxy URLs are refused, naming the variable and never the password",
        arguments: [
            "https://u:secretpw@proxy:443", "socks5://proxy:1080", "http://u:secret%0D%0Apw@proxy:3128",
            "http://u:secret%00pw@proxy:3128", "http://u:secret%ZZpw@proxy:3128", "http://proxy:99999", "http://",
        ])
    func refused(url: String) {
        #expect {
            _ = try ProxyEndpoint(url: url, source: "HTTPS_PROXY")
        } throws: { error in
            let text = "\(error)"
            return text.contains("HTTPS_PROXY") && !text.contains("secret")
        }
    }

    @Test("variables: lowercase wins as in the AWS CLI; empty means unset; a bad one is kept as a problem")
    func environment() throws {
        let settings = ProxySettings(environment: [
            "HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2", "HTTP_PROXY": "http://plain:3",
            "NO_PROXY": "internal.corp",
        ])
        #expect(settings.httpsProxy?.host == "lower" && settings.httpsProxy?.source == "https_proxy")
        #expect(settings.httpProxy?.host == "plain" && settings.problem == nil)
        #expect(ProxySettings(environment: ["HTTPS_PROXY": " "]).httpsProxy == nil)
        let bad = ProxySettings(environment: ["https_proxy": "ftp://u:pw@x"])
        #expect(bad.problem?.source == "https_proxy")
        #expect(throws: AWSClientError.self) {
            var http = HTTPSettings()
            http.proxies = bad
            _ = try AWSHTTPClient(settings: http)
        }
    }

    @Test(
        "NO_PROXY matching",
        arguments: [
            ("example.com", "example.com", 443, true),
            ("example.com", "iam.example.com", 443, true),
            (".example.com", "iam.example.com", 443, true),
            (".example.com", "example.com", 443, true),
            ("*.example.com", "a.b.example.com", 443, true),
            ("example.com", "badexample.com", 443, false),
            ("example.com", "example.com.evil", 443, false),
            ("*", "anything.at.all", 80, true),
            ("a.corp, *", "x", 80, true),
            ("EXAMPLE.com", "Iam.Example.COM", 443, true),
            ("example.com:8443", "example.com", 8443, true),
            ("example.com:8443", "example.com", 443, false),
            ("127.0.0.1", "127.0.0.1", 5000, true),
            ("127.0.0.1", "127.0.0.11", 5000, false),
            ("10.0.0.0/8", "10.20.30.40", 443, true),
            ("10.0.0.0/8", "11.0.0.1", 443, false),
            ("192.168.1.0/24", "192.168.1.77", 443, true),
            ("1.0.0.0/8", "host.1.0.0.0", 443, false),
            ("[::1]", "::1", 443, true),
            ("::1", "::1", 443, true),
            ("localhost other.corp", "other.corp", 80, true),
            ("", "example.com", 443, false),
        ])
    func noProxy(list: String, host: String, port: Int, bypass: Bool) {
        #expect(NoProxyList(list).bypasses(host: host, port: port) == bypass)
    }

    @Test("which requests use which proxy; metadata addresses never do")
    func routing() throws {
        var settings = ProxySettings(environment: [
            "HTTPS_PROXY": "http://secure:1", "HTTP_PROXY": "http://plain:2", "NO_PROXY": "direct.corp",
        ])
        func proxy(_ url: String) -> String? { settings.proxy(for: RequestURL(url)!)?.host }
        #expect(proxy("https://iam.amazonaws.com/") == "secure")
        #expect(proxy("http://127.0.0.1:5000/") == "plain")
        #expect(proxy("https://api.direct.corp/") == nil)
        for metadata in [
            "http://169.254.169.254/latest/api/token", "http://169.254.170.2/v2/credentials/x",
            "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::254]/latest/api/token",
            "http://[FD00:EC2::23]/v1/credentials",
        ] {
            #expect(proxy(metadata) == nil, "\(metadata)")
        }
        settings.noProxy = NoProxyList("*")
        #expect(proxy("https://iam.amazonaws.com/") == nil)
    }
}
