import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

/// Usage errors: refused before any AWS call (the endpoint has nothing listening).
@Suite("Review usage errors")
struct ReviewUsageTests {
    func run(_ configure: (inout ReviewConfiguration) -> Void) async -> ReviewResult {
        var configuration = ReviewConfiguration(
            output: "-", aws: Moto.configuration(endpoint: "http://127.0.0.1:9"))
        configure(&configuration)
        return await ReviewRun.execute(configuration)
    }

    @Test("an invalid regex exits 2")
    func invalidRegex() async {
        let result = await run { $0.userRegex = "([a-z" }
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("--user-regex: '([a-z' is not a valid regular expression") == true)
    }

    @Test("--emit-batch without --inactive-days exits 2")
    func emitWithoutDays() async throws {
        let dir = try TemporaryDirectory()
        let result = await run { $0.emitBatch = dir.path + "/out.csv" }
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("--emit-batch needs --inactive-days") == true)
    }

    @Test("an existing --emit-batch file exits 2 and is left as it was")
    func existingEmitFile() async throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("out.csv", "keep me\n")
        let result = await run {
            $0.emitBatch = path
            $0.inactiveDays = 90
        }
        #expect(result.exitStatus == .usage)
        #expect(result.errors.first?.contains("already exists") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me\n")
    }

    @Test("out-of-range numbers and a relative path prefix exit 2")
    func ranges() async {
        #expect(await run { $0.concurrency = 0 }.exitStatus == .usage)
        #expect(await run { $0.concurrency = 65 }.exitStatus == .usage)
        #expect(await run { $0.inactiveDays = 0 }.exitStatus == .usage)
        #expect(await run { $0.pathPrefix = "engineering/" }.exitStatus == .usage)
    }

    @Test("EmittedBatch.write never replaces a file that appeared meanwhile")
    func emitRace() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("out.csv", "someone else's\n")
        #expect(throws: EmittedBatch.EmitError.self) { try EmittedBatch.write(users: ["a"], to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "someone else's\n")
        let fresh = dir.path + "/new.csv"
        try EmittedBatch.write(users: ["a", "b"], to: fresh)
        #expect(try String(contentsOfFile: fresh, encoding: .utf8) == "user,action\na,disable\nb,disable\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["new.csv", "out.csv"])
    }
}
