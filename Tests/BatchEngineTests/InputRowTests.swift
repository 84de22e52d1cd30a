import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation
import Testing

// The rows of a batch input: validation, trimming, problems, line numbers, the checksum.
// The header, file errors and the `validate` report are in InputParserTests.swift (with the
// `load` and `fileError` helpers).

@Suite("Batch input: rows")
struct InputRowTests {
    private let header = "user,action,password\n"

    private func rowError(_ row: String, header: String = "user,action,password\n") throws -> RowError {
        let input = try load(header + row + "\n")
        let errors = input.rowErrors
        try #require(errors.count == 1)
        return errors[0]
    }

    @Test("valid enable and disable rows become jobs")
    func validRows() throws {
        let input = try load(header + "alice,enable,Init1al-Pass\nbob,DISABLE,\ncarol,Onboard,x y\ndave,offboard,\n")
        #expect(
            input.jobs == [
                BatchJob(line: 2, user: "alice", action: .enable, password: Password("Init1al-Pass")),
                BatchJob(line: 3, user: "bob", action: .disable, password: nil),
                BatchJob(line: 4, user: "carol", action: .enable, password: Password("x y")),
                BatchJob(line: 5, user: "dave", action: .disable, password: nil),
            ])
        #expect(input.rowErrors.isEmpty)
        var expected = InputSummary()
        expected.rows = 4
        expected.valid = 4
        expected.enable = 2
        expected.disable = 2
        #expect(input.summary == expected)
    }

    @Test("spaces and tabs around user and action are trimmed; the password is kept exactly")
    func trimming() throws {
        let input = try load(header + " alice\t,  enable ,  pass word  \n")
        #expect(input.jobs == [BatchJob(line: 2, user: "alice", action: .enable, password: Password("  pass word  "))])
    }

    @Test("an empty user")
    func emptyUser() throws {
        let error = try rowError("  ,disable,")
        #expect(error.problems == [.userName(.empty)])
        #expect(error.description == "line 2: user name is empty")
        #expect(error.code == "invalid-user-name")
    }

    @Test("a user name with an invalid character names its position")
    func invalidUserCharacter() throws {
        let error = try rowError("ali ce,disable,")
        #expect(error.problems == [.userName(.invalidCharacter(" ", position: 4))])
        #expect(
            error.description
                == "line 2: user name has an invalid character U+0020 (space) at position 4; allowed are letters, digits and _+=,.@-"
        )
        #expect(try rowError("bob/x,disable,").problems == [.userName(.invalidCharacter("/", position: 4))])
    }

    @Test("a user name longer than 64 characters")
    func longUser() throws {
        let name = String(repeating: "a", count: 65)
        #expect(try rowError("\(name),disable,").problems == [.userName(.tooLong(length: 65))])
        #expect(try load(header + String(repeating: "b", count: 64) + ",disable,\n").jobs.count == 1)
    }

    @Test("an unknown action is quoted when it cannot be a password")
    func unknownAction() throws {
        let error = try rowError("bob,enabel,")
        #expect(error.problems == [.unknownAction(shown: "enabel", length: 6)])
        #expect(
            error.description
                == "line 2: unknown action \"enabel\"; expected enable, disable, reset or restore (or onboard/offboard/reset-password)"
        )
        #expect(error.action == nil)
        #expect(error.user == "bob")
    }

    @Test("an unknown action that could be a password is not shown")
    func unknownActionHidden() throws {
        let error = try rowError("bob,Sup3r$ecret!,")
        #expect(error.problems == [.unknownAction(shown: nil, length: 12)])
        #expect(!error.description.contains("Sup3r"))
        #expect(error.code == "unknown-action")
    }

    @Test("an empty action")
    func emptyAction() throws {
        #expect(try rowError("bob, ,").problems == [.missingAction])
    }

    @Test("enable without a password")
    func enableWithoutPassword() throws {
        let error = try rowError("bob,enable,")
        #expect(error.problems == [.missingPassword(hasColumn: true)])
        #expect(error.description == "line 2: enable needs a password; the password cell is empty")
        #expect(error.action == .enable)
        #expect(error.code == "missing-password")
    }

    @Test("enable in a file without a password column")
    func enableWithoutPasswordColumn() throws {
        let error = try rowError("bob,enable", header: "user,action\n")
        #expect(error.problems == [.missingPassword(hasColumn: false)])
        #expect(error.description == "line 2: enable needs a password; the file has no password column")
    }

    @Test("a password too long, or with a character IAM refuses, is invalid and never shown")
    func passwordProblems() throws {
        let long = String(repeating: "Xy1!", count: 33)
        let tooLong = try rowError("bob,enable,\(long)")
        #expect(tooLong.problems == [.password(.tooLong(length: 132))])
        #expect(!tooLong.description.contains("Xy1!"))
        let badCharacter = try rowError("bob,enable,Pass€word")
        #expect(badCharacter.problems == [.password(.invalidCharacter(position: 5))])
        #expect(!badCharacter.description.contains("Pass"))
        #expect(badCharacter.code == "invalid-password")
        #expect(try load(header + "bob,enable,\(String(repeating: "a", count: 128))\n").jobs.count == 1)
        let widest = try load(header + "bob,enable,\"ÿé\ta\r\nb \"\n")
        #expect(widest.jobs.first?.password == Password("ÿé\ta\r\nb "))
    }

    @Test("a disable row with a password is valid, with a warning, and the password is dropped")
    func disableWithPassword() throws {
        let input = try load(header + "bob,disable,Secret-1\n")
        let job = try #require(input.jobs.first)
        #expect(job.password == nil)
        #expect(job.warnings == [.passwordIgnoredForDisable])
        #expect(job.warnings.first?.description == "password ignored for disable")
        #expect(input.summary.warnings == 1)
    }

    @Test("a row with more or fewer fields than the header is invalid")
    func fieldCount() throws {
        let more = try rowError("bob,enable,pa,ss")
        #expect(more.problems == [.fieldCount(expected: 3, found: 4)])
        #expect(more.user == "")
        #expect(!more.description.contains("pa"))
        #expect(try rowError("bob,disable").problems == [.fieldCount(expected: 3, found: 2)])
        #expect(
            try rowError("bob").description
                == "line 2: row has 1 field; the header has 3 (is a comma inside an unquoted value?)")
    }

    @Test("every problem of a row is listed, in column order")
    func severalProblems() throws {
        let error = try rowError("b b,launch,x")
        #expect(
            error.problems == [
                .userName(.invalidCharacter(" ", position: 2)), .unknownAction(shown: "launch", length: 6),
            ])
        #expect(error.message.contains("; unknown action"))
    }

    @Test("rows of empty or blank cells are skipped like blank lines, and counted")
    func emptyRows() throws {
        let input = try load(header + ",,\nbob,disable,\n \t, ,\n\n")
        #expect(input.rows.count == 1)
        #expect(input.summary.emptyRowsSkipped == 2)
        #expect(input.summary.rows == 1)
    }

    @Test("line numbers follow multi-line cells, CRLF and blank lines", arguments: [1, 2, 3, 5, 7, 64 * 1024])
    func lineNumbers(chunkSize: Int) throws {
        let text =
            "user,action,password\r\n\r\nalice,enable,\"multi\r\nline\"\r\nbad user,disable,\r\n\nbob,disable,\r\n"
        let input = try load(text, chunkSize: chunkSize)
        #expect(input.rows.count == 3)
        #expect(input.jobs.map(\.line) == [3, 7])
        #expect(input.rowErrors.map(\.line) == [5])
        #expect(input.jobs.first?.password == Password("multi\r\nline"))
    }

    @Test("a semicolon-delimited file")
    func semicolon() throws {
        let input = try load("user;action;password\nbob;enable;a,b\n", delimiter: ";")
        #expect(input.jobs == [BatchJob(line: 2, user: "bob", action: .enable, password: Password("a,b"))])
    }

    @Test("no row error, warning or file error ever contains the password")
    func passwordNeverInMessages() throws {
        let secret = "Zq9#Secret-Value"
        let rows = [
            "bad user,enable,\(secret)", "bob,enable,\(secret)€", "bob,launch,\(secret)", "bob,enable,\(secret),x",
            "bob,disable,\(secret)", ",,\(secret)", "bob,\(secret),",
            "bob,enable,\(String(repeating: secret, count: 9))",
        ]
        let input = try load(header + rows.joined(separator: "\n") + "\n")
        #expect(input.rows.count == rows.count)
        for row in input.rows {
            switch row {
            case .success(let job):
                #expect(!"\(job)".contains("Zq9"))
                for warning in job.warnings { #expect(!warning.description.contains("Zq9")) }
            case .failure(let error):
                #expect(!error.description.contains("Zq9"))
                #expect(!"\(error)".contains("Zq9"))
                #expect(!String(reflecting: error).contains("Zq9"))
            }
        }
        for broken in [
            "user,action,password\nbob,enable,\"\(secret)\n", "user,action,password\nbob,enable,\(secret)\"\n",
        ] {
            let error = try #require(fileError(broken))
            #expect(!error.description.contains("Zq9"))
        }
        let notUTF8 = Array("user,action,password\nbob,enable,\(secret)".utf8) + [0xFF, 0x0A]
        #expect(try #require(fileError(bytes: notUTF8)).description.contains("Zq9") == false)
    }

    @Test("the SHA-256 of the input bytes is computed while reading")
    func checksum() throws {
        #expect(try load("user,action\n").sha256 == "06e6db12dda973a3c92a57aebbdf0cf54dc16d60ce56cc559e92fcf5708d6c47")
        #expect(
            try load("user,action\n", chunkSize: 1).sha256
                == "06e6db12dda973a3c92a57aebbdf0cf54dc16d60ce56cc559e92fcf5708d6c47")
        #expect(try load("user,action\n").sha256 != load("user,action\n\n").sha256)
    }

    @Test("the streaming scan sees every row in order and keeps none")
    func scan() throws {
        var seen: [Int] = []
        let result = try BatchInput.scan(.bytes(Array((header + "a,enable,p\nb b,disable,\nc,disable,\n").utf8))) {
            row in
            switch row {
            case .success(let job): seen.append(job.line)
            case .failure(let error): seen.append(-error.line)
            }
        }
        #expect(seen == [2, -3, 4])
        #expect(result.summary.valid == 2)
        #expect(result.summary.invalid == 1)
        #expect(result.sha256.count == 64)
    }

    @Test("rows are read from a file path")
    func fromFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("users.csv").path
        try (header + "alice,enable,Pw-1\n").write(toFile: path, atomically: true, encoding: .utf8)
        let input = try BatchInput.load(.path(path))
        #expect(input.source == path)
        #expect(input.jobs.count == 1)
    }
}
