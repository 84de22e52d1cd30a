import AWSQuery
import Foundation
import TestSupport
import Testing

/// The built binary against a hostile IAM that echoes the password back in every spelling:
/// nothing it prints or writes (stdout, stderr with --debug, the report, the audit log) holds
/// any spelling of the password. And configuration that would redirect credentials is a usage
/// error (exit 2) naming where it came from.
@Suite("CLI: secrets and hostile configuration")
struct SecretLeakTests {
    static let environment = CLI.isolatedEnvironment([
        "AWS_ACCESS_KEY_ID": "AKIDHOSTILE", "AWS_SECRET_ACCESS_KEY": "hostile-secret-key", "AWS_MAX_ATTEMPTS": "1",
    ])

    enum Echo: String, CaseIterable, Sendable {
        case xmlError, htmlPage
    }

    /// A minimal IAM/STS that answers the calls a run makes before the change, then echoes the
    /// password of CreateLoginProfile back in every spelling.
    static func server(_ echo: Echo) async throws -> LocalHTTPServer {
        try await LocalHTTPServer { request in
            let form = request.formParameters
            let action = form["Action"] ?? ""
            func ok(_ inner: String) -> ServerReply {
                .respond(
                    HTTPResponseData(
                        status: 200,
                        body: Array(
                            "<\(action)Response><\(action)Result>\(inner)</\(action)Result><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></\(action)Response>"
                                .utf8)))
            }
            func error(_ status: Int, _ code: String, _ message: String) -> ServerReply {
                .respond(
                    HTTPResponseData(
                        status: status,
                        body: Array(
                            "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error><RequestId>req-2</RequestId></ErrorResponse>"
                                .utf8)))
            }
            switch action {
            case "GetCallerIdentity":
                return ok(
                    "<Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/admin</Arn><UserId>AIDA</UserId>"
                )
            case "GetAccountPasswordPolicy":
                return error(404, "NoSuchEntity", "no policy")
            case "GetUser":
                return ok(
                    "<User><UserName>\(form["UserName"] ?? "")</UserName><UserId>AIDU</UserId><Arn>arn:aws:iam::123456789012:user/u</Arn><Path>/</Path><CreateDate>2024-01-01T00:00:00Z</CreateDate></User>"
                )
            case "GetLoginProfile":
                return error(404, "NoSuchEntity", "Login Profile for User u cannot be found.")
            case "CreateLoginProfile", "UpdateLoginProfile":
                let forms = PasswordEncodings.all(form["Password"] ?? "").map(\.text)
                switch echo {
                case .xmlError:
                    let message = forms.map { "[\(PasswordEncodings.xmlEscaped($0))]" }.joined(separator: " ")
                    return error(400, "PasswordPolicyViolation", "Password \(message) is weak")
                case .htmlPage:
                    let body = "<html><body>" + forms.map { "<p>\($0)</p>" }.joined() + "</body></html>"
                    return .respond(HTTPResponseData(status: 500, body: Array(body.utf8)))
                }
            default:
                return ok("")
            }
        }
    }

    static func csvField(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    @Test(
        "modify and batch with --debug and --audit-log: no spelling of the password anywhere",
        arguments: Echo.allCases, PasswordEncodings.hostilePasswords)
    func noPasswordAnywhere(echo: Echo, password: String) async throws {
        let server = try await Self.server(echo)
        defer { Task { await server.stop() } }
        let dir = try TemporaryDirectory()
        let audit = dir.path + "/audit.jsonl"

        for output in ["text", "json"] {
            let modify = try await CLI.run(
                [
                    "modify", "--user", "u", "--enable", "--password-env", "NEW_PW", "--endpoint-url", server.url,
                    "--debug", "--audit-log", audit, "--output", output,
                ],
                environment: Self.environment.merging(["NEW_PW": password]) { $1 }, timeout: .seconds(60))
            #expect(modify.status == 1, "\(modify.output)")
            #expect(modify.output.contains("CreateLoginProfile"), "\(modify.output)")
            #expect(
                PasswordEncodings.leaks(of: password, in: modify.output).isEmpty, "\(echo) modify: \(modify.output)")
        }

        let input = try dir.write("in.csv", "user,action,password\nu,enable,\(Self.csvField(password))\n")
        let report = dir.path + "/report.csv"
        let batch = try await CLI.run(
            ["batch", input, "--report", report, "--endpoint-url", server.url, "--debug", "--audit-log", audit],
            environment: Self.environment, timeout: .seconds(60))
        #expect(batch.status == 1, "\(batch.output)")
        let reportText = try String(contentsOfFile: report, encoding: .utf8)
        let auditText = try String(contentsOfFile: audit, encoding: .utf8)
        #expect(reportText.contains("CreateLoginProfile") || reportText.contains("HTTP 500"), "\(reportText)")
        #expect(auditText.contains("CreateLoginProfile"))
        for (name, text) in [("output", batch.output), ("report", reportText), ("audit log", auditText)] {
            #expect(PasswordEncodings.leaks(of: password, in: text).isEmpty, "\(echo) batch \(name): \(text)")
        }

        // A restore row re-enabling console access sends its password the same way.
        let restoreInput = try dir.write(
            "restore.csv", "user,action,password,credentials\nu,restore,\(Self.csvField(password)),console\n")
        let restoreReport = dir.path + "/restore-report.csv"
        let restore = try await CLI.run(
            ["batch", restoreInput, "--report", restoreReport, "--endpoint-url", server.url, "--debug"],
            environment: Self.environment, timeout: .seconds(60))
        #expect(restore.status == 1, "\(restore.output)")
        let restoreText = try String(contentsOfFile: restoreReport, encoding: .utf8)
        #expect(restoreText.contains(",restore,failed,"), "\(restoreText)")
        for (name, text) in [("output", restore.output), ("report", restoreText)] {
            #expect(PasswordEncodings.leaks(of: password, in: text).isEmpty, "\(echo) restore \(name): \(text)")
        }
    }

    @Test("a crafted region from the flag, the environment or the profile: exit 2, naming the source")
    func hostileRegion() async throws {
        let dir = try TemporaryDirectory()
        try dir.write(".aws/config", "[default]\nregion = evil.com/x\n")
        let base = ["modify", "--user", "u", "--disable", "--endpoint-url", "http://127.0.0.1:9"]
        let cases: [([String], [String: String], String)] = [
            (base + ["--region", "evil.com/x"], Self.environment, "--region: invalid region 'evil.com/x'"),
            (
                base, Self.environment.merging(["AWS_REGION": "evil.com/x"]) { $1 },
                "AWS_REGION: invalid region 'evil.com/x'"
            ),
            (
                base, Self.environment.merging(["AWS_DEFAULT_REGION": "evil.com/x"]) { $1 },
                "AWS_DEFAULT_REGION: invalid region 'evil.com/x'"
            ),
            (
                base, Self.environment.merging(["HOME": dir.path]) { $1 },
                "region in profile default: invalid region 'evil.com/x'"
            ),
        ]
        for (arguments, environment, message) in cases {
            let result = try await CLI.run(arguments, environment: environment, timeout: .seconds(60))
            #expect(result.status == 2, "\(arguments): \(result.output)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // The batch command too.
        let input = try dir.write("in.csv", "user,action\nu,disable\n")
        let batch = try await CLI.run(
            [
                "batch", input, "--report", dir.path + "/r.csv", "--region", "x@evil.com", "--endpoint-url",
                "http://127.0.0.1:9",
            ],
            environment: Self.environment, timeout: .seconds(60))
        #expect(batch.status == 2, "\(batch.output)")
        #expect(batch.stderr.contains("--region: invalid region 'x@evil.com'"), "\(batch.stderr)")
    }

    @Test("a deeply nested or huge HTML answer: a typed error and exit 1 or 3, never a signal")
    func hostileAnswers() async throws {
        let nested = Array(
            (String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)).utf8)
        let page = Array(("<html><body>" + String(repeating: "<p>boom</p>", count: 20_000) + "</body></html>").utf8)
        for (status, body) in [(200, nested), (400, nested), (500, page)] {
            let server = try await LocalHTTPServer { _ in .respond(HTTPResponseData(status: status, body: body)) }
            let result = try await CLI.run(
                ["modify", "--user", "u", "--disable", "--endpoint-url", server.url], environment: Self.environment,
                timeout: .seconds(60))
            await server.stop()
            #expect(result.status == 1 || result.status == 3, "HTTP \(status): \(result.status) \(result.output)")
            #expect(result.stderr.contains("unreadable response (HTTP \(status))"), "\(result.stderr)")
            #expect(result.output.count < 2000, "HTTP \(status): \(result.output.count) characters of output")
        }
    }
}
