import AWSQuery
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import BatchEngine

@Suite("Run setup (RunContext)")
struct RunSessionTests {
    /// What IAM and STS answer for an unknown access key.
    static let deniedBody =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
        + "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid."
        + "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"

    /// A server that refuses every call as STS does an unknown access key.
    func deniedServer() async throws -> ScriptedServer {
        let answer =
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: \(Self.deniedBody.utf8.count)\r\n\r\n"
            + Self.deniedBody
        return try await ScriptedServer { _, _ in .respond(answer) }
    }

    @Test("a failed identity check is RunSetupError.identity, a credentials problem; the body never runs")
    func identityFailure() async throws {
        let server = try await deniedServer()
        defer { Task { await server.stop() } }
        let run = RunContext(
            aws: Moto.configuration(endpoint: server.url), retry: RetryPolicy(maxAttempts: 1), maxRate: nil)
        var ran = false
        do {
            try await run.withSession { _ in ran = true }
            Issue.record("withSession did not throw")
        } catch let error as RunSetupError {
            guard case .identity(let setup) = error else {
                Issue.record("not an identity failure: \(error)")
                return
            }
            #expect(setup.isCredentialsProblem)
            #expect(setup.errorCode == "InvalidClientTokenId")
            #expect(setup.message.hasPrefix("checking the caller's identity (sts:GetCallerIdentity): "))
        }
        #expect(!ran)
        #expect(run.calls.total == 1)
    }

    @Test("batch: a failed identity check exits with credentials, one call, every row not-run")
    func batchIdentityFailure() async throws {
        let server = try await deniedServer()
        defer { Task { await server.stop() } }
        let dir = try TemporaryDirectory()
        let input = try dir.write("input.csv", "user,action\nsomeone,disable\n")
        let configuration = BatchConfiguration(
            input: .path(input), reportPath: dir.path + "/report.csv", retry: RetryPolicy(maxAttempts: 1),
            aws: Moto.configuration(endpoint: server.url))
        let result = await BatchRun.execute(configuration)
        #expect(result.exitStatus == .credentials)
        #expect(result.errors.first?.hasPrefix("nothing was changed: checking the caller's identity") == true)
        #expect(result.summary?.apiCalls == 1, "the identity is checked once, and nothing else is called")
        #expect(server.requests.withLockedValue { $0 } == 1)
        #expect(try ReportReader.readAll(.path(configuration.reportPath)).rows.map(\.status) == [.notRun])
    }

    @Test(
        "with moto: the body gets the checked identity; one call so far",
        .enabled(if: Moto.isAvailable, "no moto server"))
    func connected() async throws {
        let run = RunContext(aws: Moto.configuration(endpoint: Moto.endpoint!), retry: RetryPolicy(), maxRate: nil)
        let account = try await run.withSession { session in session.identity.account }
        #expect(!account.isEmpty)
        #expect(run.calls.total == 1)
    }
}
