import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation
import Testing

/// Loads `text` as a batch input.
func load(_ text: String, delimiter: Character = ",", chunkSize: Int = 64 * 1024) throws(InputFileError) -> BatchInput {
    try load(bytes: Array(text.utf8), delimiter: delimiter, chunkSize: chunkSize)
}

func load(bytes: [UInt8], delimiter: Character = ",", chunkSize: Int = 64 * 1024) throws(InputFileError)
    -> BatchInput
{
    let options = BatchInputOptions(csv: CSVReaderOptions(delimiter: delimiter.asciiValue!, chunkSize: chunkSize))
    return try BatchInput.load(.bytes(bytes), options: options)
}

/// The file error loading `text` throws, or `nil`.
func fileError(_ text: String) -> InputFileError? {
    fileError(bytes: Array(text.utf8))
}

func fileError(bytes: [UInt8]) -> InputFileError? {
    do {
        _ = try load(bytes: bytes)
        return nil
    } catch {
        return error
    }
}

@Suite("Batch input: header")
struct InputHeaderTests {
    @Test(
        "header names match case-insensitively, with spaces around them ignored, in any order",
        arguments: [
            "user,action,password", "User,Action,Password", " USERNAME ,\taction\t, PassWord",
            "user_name,action,password",
            "password,action,user", "note,user,extra,action,password,more",
        ])
    func headerVariants(header: String) throws {
        let columns = try load(header + "\n").columns
        let cells = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        #expect(columns.user == cells.firstIndex { ["user", "username", "user_name"].contains($0) })
        #expect(columns.action == cells.firstIndex(of: "action"))
        #expect(columns.password == cells.firstIndex(of: "password"))
        #expect(columns.count == cells.count)
    }

    @Test("the password column is optional")
    func passwordOptional() throws {
        let input = try load("user,action\nbob,disable\n")
        #expect(input.columns.password == nil)
        #expect(input.jobs == [BatchJob(line: 2, user: "bob", action: .disable, password: nil)])
    }

    @Test("a missing user column is a file error naming it")
    func missingUser() {
        let error = fileError("name,action,password\nbob,disable,\n")
        #expect(error?.kind == .missingColumn("user"))
        #expect(error?.line == 1)
        #expect(
            error?.description
                == "input line 1: the header has no user column (expected \"user\" or \"username\" or \"user_name\"); the first row must be a header naming the columns user, action, password"
        )
    }

    @Test("a missing action column is a file error naming it")
    func missingAction() {
        #expect(fileError("user,password\n")?.kind == .missingColumn("action"))
    }

    @Test("a file without a header row does not show its first row (it may hold a password)")
    func noHeader() {
        let error = fileError("alice,enable,Secret-Pass1\n")
        #expect(error?.kind == .missingColumn("user"))
        #expect(error?.description.contains("Secret") == false)
    }

    @Test("two cells naming the same column are a file error", arguments: ["user,action,username", "user,action,User"])
    func duplicateUser(header: String) {
        #expect(fileError(header + "\n")?.kind == .duplicateColumn(column: "user", first: 1, second: 3))
    }

    @Test("duplicate action and password columns")
    func duplicateOthers() {
        #expect(fileError("action,user,ACTION\n")?.kind == .duplicateColumn(column: "action", first: 1, second: 3))
        #expect(
            fileError("password,user,action,password\n")?.kind
                == .duplicateColumn(column: "password", first: 1, second: 4))
        #expect(
            fileError("password,user,action,password\n")?.description
                == "input line 1: columns 1 and 4 both name the password column")
    }

    @Test("duplicate extra columns are ignored")
    func duplicateExtras() throws {
        #expect(
            try load("note,user,note,action,,\n").columns == InputColumns(user: 1, action: 3, password: nil, count: 6))
    }

    @Test(
        "an empty file, or one of blank lines only, is a file error", arguments: ["", "\n\n", "\u{FEFF}", " , \n\t\n"])
    func emptyFile(text: String) {
        #expect(fileError(text)?.kind == .empty)
    }

    @Test("a header with no rows is a valid, empty batch")
    func headerOnly() throws {
        let input = try load("user,action,password\n")
        #expect(input.rows.isEmpty)
        #expect(input.summary == InputSummary())
        #expect(input.allRowsValid)
    }

    @Test("the header may follow blank lines and a byte-order mark")
    func headerAfterBlankLines() throws {
        let input = try load(bytes: [0xEF, 0xBB, 0xBF] + Array("\n\nuser,action\nbob,disable\n".utf8))
        #expect(input.jobs == [BatchJob(line: 4, user: "bob", action: .disable, password: nil)])
    }

    @Test("a broken file is a file error naming the line, with nothing to run")
    func brokenFile() {
        let error = fileError("user,action,password\nbob,disable,\ncarol,enable,\"Pass\n")
        #expect(error?.kind == .csv(CSVError(.unterminatedQuote(endLine: 3), line: 3, field: 3)))
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("input line 3, field 3: field 3 opens a quote") == true)
    }

    @Test("a missing file is a file error naming it")
    func missingFile() {
        do {
            _ = try BatchInput.load(.path("/nonexistent/users.csv"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "cannot open /nonexistent/users.csv: No such file or directory")
            #expect(error.line == nil)
        }
    }
}

@Suite("Input validation report (what validate prints)")
struct InputValidationReportTests {
    private func report(_ text: String, collect: Bool = true) -> InputValidationReport {
        InputValidationReport.validate(.bytes(Array(text.utf8)), collect: collect)
    }

    @Test("exit codes: 0 all valid, 1 some invalid, 2 broken file")
    func exitCodes() {
        #expect(report("user,action\nbob,disable\n").exitCode == 0)
        #expect(report("user,action\nb b,disable\n").exitCode == 1)
        #expect(report("user,action\n\"bob,disable\n").exitCode == 2)
        #expect(report("user\nbob\n").exitCode == 2)
        #expect(report("").exitCode == 2)
    }

    @Test("counts, errors and warnings, in file order")
    func counts() {
        let result = report("user,action,password\na,enable,p\nb b,disable,\nc,disable,x\n\n,,\nd,offboard,\n")
        #expect(result.rows == 4)
        #expect(result.valid == 3)
        #expect(result.invalid == 1)
        #expect(result.byAction == InputValidationReport.ActionCounts(enable: 1, disable: 2))
        #expect(result.emptyRowsSkipped == 1)
        #expect(result.warningCount == 1)
        #expect(result.errors.map(\.line) == [3])
        #expect(result.warnings.map(\.line) == [4])
        #expect(result.fileError == nil)
        #expect(result.sha256.count == 64)
    }

    @Test("without collect, nothing is kept but the counts")
    func streaming() {
        var lines: [Int] = []
        let result = InputValidationReport.validate(
            .bytes(Array("user,action\nb b,disable\nc,disable\n".utf8)), collect: false
        ) { row in
            if case .invalid(let error) = row { lines.append(error.line) }
        }
        #expect(result.errors.isEmpty)
        #expect(result.invalid == 1)
        #expect(lines == [2])
    }

    @Test("a broken file keeps the counts of the rows before the break and names the line")
    func broken() {
        let result = report("user,action\nbob,disable\ncarol,dis\"able\n")
        #expect(result.fileError?.line == 3)
        #expect(result.fileError?.message.hasPrefix("input line 3, field 2: a quote character") == true)
        #expect(result.rows == 1)
        #expect(result.sha256 == "")
    }
}
