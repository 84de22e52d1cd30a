import Foundation
import Testing

/// Runs the built `console-access` executable (built by `swift build --build-tests`).
private struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

private func executableURL() throws -> URL {
    var candidates: [URL] = []
    // The products directory holds both the test bundle and the executable.
    if let bundle = Bundle.main.executableURL {
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("console-access"))
    }
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        candidates.append(
            URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().appendingPathComponent("console-access")
        )
    }
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    candidates.append(packageRoot.appendingPathComponent(".build/debug/console-access"))
    let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    return try #require(found, "console-access executable not found; run swift build --build-tests first")
}

private func run(_ arguments: [String], stdin: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = try executableURL()
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

private func writeInput(_ text: String, name: String = "users.csv") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("validate-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

private let secret = "Xk7#TopSecret"

@Suite("console-access validate (end to end)")
struct ValidateCommandTests {
    @Test("every row valid: exit 0 and a summary")
    func allValid() throws {
        let path = try writeInput("user,action,password\nalice,enable,\(secret)\nbob,disable,\n")
        let result = try run(["validate", path])
        #expect(result.status == 0)
        #expect(result.stdout == "\(path): 2 rows, 2 valid, 0 invalid (valid: 1 enable, 1 disable)\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("invalid rows: exit 1, each with its line, warnings, no password anywhere")
    func invalidRows() throws {
        let path = try writeInput(
            "user,action,password\nalice,enable,\(secret)\nbad user,disable,\ncarol,enable,\nbob,disable,\(secret)\n")
        let result = try run(["validate", path])
        #expect(result.status == 1)
        #expect(
            result.stdout == """
                line 3: user name has an invalid character U+0020 (space) at position 4; allowed are letters, digits and _+=,.@-
                line 4: enable needs a password; the password cell is empty
                line 5: warning: password ignored for disable
                \(path): 4 rows, 2 valid, 2 invalid (valid: 1 enable, 1 disable), 1 warning

                """)
        #expect(!result.stdout.contains("Xk7"))
        #expect(!result.stderr.contains("Xk7"))
    }

    @Test("a broken file: exit 2, the reason and line on standard error")
    func brokenFile() throws {
        let path = try writeInput("user,action,password\nalice,enable,\"\(secret)\nbob,disable,\n")
        let result = try run(["validate", path])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: \(path) line 2, field 3: field 3 opens a quote that is never closed"))
        #expect(!result.stderr.contains("Xk7"))
        #expect(!result.stdout.contains("Xk7"))
    }

    @Test("a missing column: exit 2")
    func missingColumn() throws {
        let path = try writeInput("user,password\nalice,x\n")
        let result = try run(["validate", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 1: the header has no action column"))
    }

    @Test("a missing file: exit 2")
    func missingFile() throws {
        let result = try run(["validate", "/nonexistent/users.csv"])
        #expect(result.status == 2)
        #expect(result.stderr == "error: cannot open /nonexistent/users.csv: No such file or directory\n")
    }

    @Test("JSON output: counts and errors, sorted keys")
    func json() throws {
        let path = try writeInput("user,action,password\nalice,enable,\(secret)\nbad user,disable,\nbob,disable,x\n")
        let result = try run(["validate", path, "--output", "json"])
        #expect(result.status == 1)
        #expect(!result.stdout.contains("Xk7"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["rows"] as? Int == 3)
        #expect(object["valid"] as? Int == 2)
        #expect(object["invalid"] as? Int == 1)
        #expect(object["warningCount"] as? Int == 1)
        #expect((object["byAction"] as? [String: Int]) == ["enable": 1, "disable": 1, "reset": 0, "restore": 0])
        #expect((object["sha256"] as? String)?.count == 64)
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors.first?["line"] as? Int == 3)
        #expect(errors.first?["code"] as? String == "invalid-user-name")
        let warnings = try #require(object["warnings"] as? [[String: Any]])
        #expect(warnings.first?["code"] as? String == "password-ignored")
        #expect(object["fileError"] == nil)
        #expect(result.stdout.hasPrefix("{\"byAction\":"))
    }

    @Test("JSON output for a broken file: exit 2 and a fileError")
    func jsonBroken() throws {
        let path = try writeInput("user,action\nal\"ice,enable\n")
        let result = try run(["validate", path, "--output", "json"])
        #expect(result.status == 2)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let fileError = try #require(object["fileError"] as? [String: Any])
        #expect(fileError["line"] as? Int == 2)
        #expect((fileError["message"] as? String)?.contains("line 2, field 1") == true)
        #expect(result.stderr.contains("line 2, field 1"))
    }

    @Test(
        "standard input and other delimiters",
        arguments: [("semicolon", ";"), (";", ";"), ("tab", "\t"), ("\\t", "\t")])
    func standardInput(option: String, delimiter: String) throws {
        let text =
            ["user", "action", "password"].joined(separator: delimiter) + "\n"
            + ["alice", "enable", "a,b"].joined(separator: delimiter) + "\n"
        let result = try run(["validate", "-", "--delimiter", option], stdin: text)
        #expect(result.status == 0)
        #expect(result.stdout == "standard input: 1 row, 1 valid, 0 invalid (valid: 1 enable, 0 disable)\n")
    }

    @Test("a delimiter that cannot work is a usage error")
    func badDelimiter() throws {
        let result = try run(["validate", "-", "--delimiter", "\""], stdin: "")
        #expect(result.status == 2)
        #expect(result.stderr.contains("delimiter"))
    }
}
