import CSVStream
import Foundation
import Testing

@Suite("CSVWriter")
struct CSVWriterTests {
    private func encoded(_ fields: [String], options: CSVWriterOptions = CSVWriterOptions()) throws -> String {
        String(decoding: try CSVWriter.encode(fields, options: options), as: UTF8.self)
    }

    @Test("fields that need no quoting are written as they are")
    func plainFields() throws {
        #expect(try encoded(["alice", "enable", "Pa.ss-w0rd!", "ñ", ""]) == "alice,enable,Pa.ss-w0rd!,ñ,\n")
    }

    @Test(
        "fields are quoted when they must be",
        arguments: [
            ("a,b", #""a,b""#), (#"say "hi""#, #""say ""hi""""#), ("a\nb", "\"a\nb\""), ("a\rb", "\"a\rb\""),
            (" lead", #"" lead""#), ("trail ", #""trail ""#), ("\ttab", "\"\ttab\""),
            ("\u{FEFF}bom", "\"\u{FEFF}bom\""),
            (#"""#, #""""""#),
        ])
    func quotedFields(value: String, expected: String) throws {
        #expect(try encoded([value, "x"]) == expected + ",x\n")
    }

    @Test("a record of one empty field is written as a quoted empty field, not a blank line")
    func singleEmptyField() throws {
        #expect(try encoded([""]) == "\"\"\n")
        #expect(try encoded(["", ""]) == ",\n")
    }

    @Test("a record with no fields cannot be written")
    func emptyRecord() {
        #expect(throws: CSVError(.emptyRecord)) { _ = try CSVWriter.encode([]) }
    }

    @Test("CRLF line ends and other delimiters")
    func options() throws {
        #expect(try encoded(["a", "b"], options: CSVWriterOptions(lineEnding: .crlf)) == "a,b\r\n")
        #expect(
            try encoded(["a;b", "c,d"], options: CSVWriterOptions(delimiter: UInt8(ascii: ";"))) == "\"a;b\";c,d\n")
        #expect(throws: CSVError(.invalidDelimiter(0x22))) {
            _ = try CSVWriter.encode(["a"], options: CSVWriterOptions(delimiter: 0x22))
        }
    }

    @Test("needsQuoting agrees with what is written")
    func needsQuoting() {
        #expect(!CSVWriter.needsQuoting("plain"))
        #expect(CSVWriter.needsQuoting("a;b", delimiter: UInt8(ascii: ";")))
        #expect(!CSVWriter.needsQuoting("a;b"))
        #expect(!CSVWriter.needsQuoting(""))
        #expect(CSVWriter.needsQuoting("", onlyField: true))
    }

    @Test("a file is created, flushed row by row, and emptied when reopened")
    func fileTruncate() throws {
        let path = temporaryPath("out.csv")
        let writer = try CSVWriter(.path(path, .truncate))
        try writer.write(["a", "b"])
        try writer.flush()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a,b\n")
        try writer.write(["c", "d"])
        try writer.synchronize()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a,b\nc,d\n")
        try writer.close()
        #expect(throws: CSVError.self) { try writer.write(["e"]) }

        let again = try CSVWriter(.path(path, .truncate))
        try again.write(["new"])
        try again.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
    }

    @Test("append mode adds to the end of an existing file")
    func fileAppend() throws {
        let path = temporaryPath("out.csv")
        try "x,y\n".write(toFile: path, atomically: true, encoding: .utf8)
        let writer = try CSVWriter(.path(path, .append))
        try writer.write(["a", "b c"])
        try writer.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "x,y\na,b c\n")
    }

    @Test("the writer's buffer goes out when full, and on deinit")
    func bufferAndDeinit() throws {
        let path = temporaryPath("out.csv")
        do {
            let writer = try CSVWriter(.path(path, .truncate), options: CSVWriterOptions(bufferSize: 8))
            try writer.write(["0123456789"])
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "0123456789\n")
            try writer.write(["z"])
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "0123456789\nz\n")
    }

    @Test("a file that cannot be created is an error naming it")
    func cannotCreate() {
        let path = temporaryPath("missing-dir") + "/out.csv"
        #expect(throws: CSVError(.cannotOpen(path: path, reason: "No such file or directory"))) {
            _ = try CSVWriter(.path(path, .truncate))
        }
    }

    @Test("a written file reads back")
    func fileRoundTrip() throws {
        let path = temporaryPath("out.csv")
        let rows = [["user", "note"], ["a", "x,\"y\"\r\nz"], [" b ", ""]]
        let writer = try CSVWriter(.path(path, .truncate))
        for row in rows { try writer.write(row) }
        try writer.close()
        let read = try CSVReader(.path(path)).readAll()
        #expect(read.map(\.fields) == rows)
        #expect(read.map(\.line) == [1, 2, 4])
    }
}
