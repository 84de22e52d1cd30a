import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation
import Testing

private func temporaryReportPath() -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("report.csv").path
}

private func contents(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}

private let header =
    "line,user,action,status,detail,error_code,message,attempts,request_id,started_at,duration_ms,account\n"

private let sampleRows: [ReportRow] = [
    ReportRow(
        line: 2, user: "alice", action: .enable, status: .changed, detail: "login profile created", attempts: 1,
        requestID: "4f1c-aa", startedAt: Date(timeIntervalSince1970: 1_795_420_800.123), durationMS: 412),
    ReportRow(line: 3, user: "bob", action: .disable, status: .unchanged, detail: "already disabled", attempts: 1),
    ReportRow(
        line: 4, user: "carol", action: .enable, status: .failed, errorCode: "PasswordPolicyViolation",
        message: "Password should have at least one uppercase letter, \"quoted\",\nand a comma", attempts: 3,
        requestID: "r-3", startedAt: Date(timeIntervalSince1970: 0), durationMS: 0),
    ReportRow(line: 5, user: "dave", action: .disable, status: .notFound, errorCode: "NoSuchEntity", message: " x "),
    ReportRow(line: 6, user: "", action: nil, status: .invalid, errorCode: "field-count", message: "row has 4 fields"),
    ReportRow(line: 7, user: "erin", action: .enable, status: .notRun),
    ReportRow(line: 9, user: "frank", action: .disable, status: .planned, detail: "would delete the login profile"),
]

@Suite("Report rows and statuses")
struct ReportRowTests {
    @Test("the columns are fixed, and a row has no password field")
    func columns() {
        #expect(
            ReportRow.columns == [
                "line", "user", "action", "status", "detail", "error_code", "message", "attempts", "request_id",
                "started_at", "duration_ms", "account",
            ])
        let row = sampleRows[0]
        let labels = Mirror(reflecting: row).children.compactMap(\.label)
        #expect(labels.count == ReportRow.columns.count)
        #expect(!labels.contains { $0.lowercased().contains("password") })
    }

    @Test("the statuses and their spellings")
    func statuses() {
        #expect(
            OutcomeStatus.allCases.map(\.rawValue) == [
                "changed", "unchanged", "failed", "not-found", "invalid", "not-run", "planned", "absent",
            ])
    }

    @Test("cells come out in column order; empty optionals are empty cells")
    func fields() {
        #expect(
            sampleRows[0].fields == [
                "2", "alice", "enable", "changed", "login profile created", "", "", "1", "4f1c-aa",
                "2026-11-23T08:00:00.123Z", "412", "",
            ])
        #expect(sampleRows[5].fields == ["7", "erin", "enable", "not-run", "", "", "", "", "", "", "", ""])
    }

    @Test("an invalid input row becomes an invalid report row with its code and message")
    func invalidRow() throws {
        let input = try BatchInput.load(.bytes(Array("user,action,password\nb b,enable,\n".utf8)))
        let error = try #require(input.rowErrors.first)
        let row = ReportRow(invalid: error)
        #expect(row.status == .invalid)
        #expect(row.line == 2)
        #expect(row.user == "b b")
        #expect(row.action == .enable)
        #expect(row.errorCode == "invalid-user-name")
        #expect(
            row.message
                == "user name has an invalid character U+0020 (space) at position 2; allowed are letters, digits and _+=,.@-; enable needs a password; the password cell is empty"
        )
    }

    @Test("timestamps: UTC with milliseconds, and back", arguments: [0.0, 1_795_420_800.123, 951_782_400.999, -1.5])
    func timestamps(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let text = ReportTimestamp.format(date)
        let parsed = try #require(ReportTimestamp.parse(text))
        #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.0005)
        #expect(ReportTimestamp.format(parsed) == text)
    }

    @Test("known timestamps")
    func knownTimestamps() {
        #expect(ReportTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ReportTimestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(ReportTimestamp.parse("2026-11-23T09:30:00Z") == Date(timeIntervalSince1970: 1_795_426_200))
        #expect(ReportTimestamp.parse("2026-11-23 09:30:00Z") == nil)
        #expect(ReportTimestamp.parse("2026-13-23T09:30:00.000Z") == nil)
        #expect(ReportTimestamp.parse("yesterday") == nil)
    }
}

@Suite("Report writer and reader")
struct ReportIOTests {
    @Test("a new report has the header, then one flushed row per write")
    func writesHeaderAndRows() throws {
        let path = temporaryReportPath()
        let writer = try ReportWriter(creating: path)
        #expect(try contents(path) == header)
        try writer.write(sampleRows[1])
        // Flushed: readable before close.
        #expect(try contents(path) == header + "3,bob,disable,unchanged,already disabled,,,1,,,,\n")
        try writer.close()
    }

    @Test("every row reads back as written, awkward messages included")
    func roundTrip() throws {
        let path = temporaryReportPath()
        let writer = try ReportWriter(creating: path, synchronizeEachRow: true)
        for row in sampleRows { try writer.write(row) }
        try writer.close()
        let read = try ReportReader.readAll(.path(path))
        #expect(read.rows == sampleRows)
        #expect(!read.tornFinalRow)
    }

    @Test("appending to a report adds rows without a second header")
    func append() throws {
        let path = temporaryReportPath()
        let first = try ReportWriter(creating: path)
        try first.write(sampleRows[0])
        try first.close()
        let second = try ReportWriter(appendingTo: path)
        try second.write(sampleRows[1])
        try second.close()
        let text = try contents(path)
        #expect(text.components(separatedBy: "line,user,action").count == 2)
        #expect(try ReportReader.readAll(.path(path)).rows == [sampleRows[0], sampleRows[1]])
    }

    @Test("appending to a missing or empty file writes the header first")
    func appendToNew() throws {
        let path = temporaryReportPath()
        let writer = try ReportWriter(appendingTo: path)
        try writer.write(sampleRows[2])
        try writer.close()
        #expect(try ReportReader.readAll(.path(path)).rows == [sampleRows[2]])

        let empty = temporaryReportPath()
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        try ReportWriter(appendingTo: empty).close()
        #expect(try contents(empty) == header)
    }

    @Test("appending to a file that is not a report is refused, and the file left alone")
    func appendToOther() throws {
        let path = temporaryReportPath()
        try "user,action,password\nbob,disable,\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReportError(.notAReport, source: path)) { _ = try ReportWriter(appendingTo: path) }
        #expect(try contents(path) == "user,action,password\nbob,disable,\n")
    }

    @Test(
        "a torn final row (cut off by a crash) is dropped on read and truncated on append",
        arguments: ["4,carol,enable,fai", "4,carol,enable,failed,,X,\"half a mess", "4"])
    func tornFinalRow(tail: String) throws {
        let path = temporaryReportPath()
        let writer = try ReportWriter(creating: path)
        try writer.write(sampleRows[0])
        try writer.close()
        let complete = try contents(path)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(tail.utf8))
        try handle.close()

        let read = try ReportReader.readAll(.path(path))
        #expect(read.rows == [sampleRows[0]])
        #expect(read.tornFinalRow)
        #expect(read.completeByteCount == complete.utf8.count)

        let resumed = try ReportWriter(appendingTo: path)
        try resumed.write(sampleRows[1])
        try resumed.close()
        #expect(try contents(path) == complete + "3,bob,disable,unchanged,already disabled,,,1,,,,\n")
    }

    @Test("a torn row cut inside a UTF-8 character is dropped too")
    func tornInsideCharacter() throws {
        let path = temporaryReportPath()
        let writer = try ReportWriter(creating: path)
        try writer.write(sampleRows[0])
        try writer.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("5,b,disable,failed,,,caf".utf8) + Data([0xC3]))
        try handle.close()
        let read = try ReportReader.readAll(.path(path))
        #expect(read.rows == [sampleRows[0]])
        #expect(read.tornFinalRow)
    }

    @Test(
        "the reader rejects a file whose header is not the report header",
        arguments: [
            "", "user,action\n", header.uppercased(), header.replacingOccurrences(of: ",duration_ms", with: ""),
        ])
    func rejectsOtherFiles(text: String) {
        #expect(throws: ReportError(.notAReport, source: "input")) {
            _ = try ReportReader.readAll(.bytes(Array(text.utf8)))
        }
    }

    @Test(
        "rows that are not report rows are errors naming the line",
        arguments: [
            ("x,a,enable,changed,,,,,,,", "line is not a positive number"),
            ("2,a,launch,changed,,,,,,,", "action is not enable, disable, reset or empty"),
            (
                "2,a,enable,done,,,,,,,",
                "status is not one of changed, unchanged, failed, not-found, invalid, not-run, planned, absent"
            ),
            ("2,a,enable,changed,,,,-1,,,", "attempts is not a whole number"),
            ("2,a,enable,changed,,,,,,monday,", "started_at is not a UTC timestamp like 2026-11-23T09:30:00.000Z"),
            ("2,a,enable,changed", "row has 4 fields; a report row has 12"),
            (
                "2,a,enable,changed,,,,,,,,12345",
                "account: '12345' has 5 digits; an AWS account id has exactly 12 (keep its leading zeros)"
            ),
        ])
    func badRows(row: String, reason: String) {
        let text = header + "\"1\",ok,disable,changed,,,,,,,\n" + row + "\n"
        #expect(throws: ReportError(.badRow(line: 3, reason: reason), source: "input")) {
            _ = try ReportReader.readAll(.bytes(Array(text.utf8)))
        }
    }

    @Test("a report written before the account column is still read (no account), and resuming rewrites it")
    func legacyReport() throws {
        let legacy =
            ReportRow.legacyColumns.joined(separator: ",") + "\n" + "3,bob,disable,unchanged,already disabled,,,1,,,\n"
        let read = try ReportReader.readAll(.bytes(Array(legacy.utf8)))
        #expect(read.rows.map(\.user) == ["bob"])
        #expect(read.rows.first?.account == "")
        let withAccount = header + "3,bob,disable,changed,,,,1,,,,012345678901\n"
        #expect(try ReportReader.readAll(.bytes(Array(withAccount.utf8))).rows.first?.account == "012345678901")
    }

    @Test("a report can go to standard output")
    func standardOutput() throws {
        let writer = try ReportWriter(creating: "-")
        #expect(writer.source == "standard output")
    }

    @Test("a report that cannot be created is an error naming it")
    func cannotCreate() {
        let path = "/nonexistent-dir/report.csv"
        #expect(
            throws: ReportError(
                .csv(CSVError(.cannotOpen(path: path, reason: "No such file or directory"))), source: path)
        ) {
            _ = try ReportWriter(creating: path)
        }
    }
}
