import CSVStream
import Foundation
import Testing

@Suite("CSVReader: well-formed input")
struct CSVReaderTests {
    @Test("plain records carry their line numbers", arguments: chunkSizes)
    func plainRecords(chunkSize: Int) throws {
        let result = try records("user,action\nalice,enable\nbob,disable\n", chunkSize: chunkSize)
        #expect(
            result == [
                CSVRecord(fields: ["user", "action"], line: 1),
                CSVRecord(fields: ["alice", "enable"], line: 2),
                CSVRecord(fields: ["bob", "disable"], line: 3),
            ])
    }

    @Test("RFC 4180 quoting: delimiters, doubled quotes, empty quoted fields", arguments: chunkSizes)
    func quoting(chunkSize: Int) throws {
        let text = #""a,b","say ""hi""","",x"# + "\n" + #""""""# + "\n"
        let result = try records(text, chunkSize: chunkSize)
        #expect(
            result == [
                CSVRecord(fields: ["a,b", #"say "hi""#, "", "x"], line: 1),
                CSVRecord(fields: [#"""#], line: 2),
            ])
    }

    @Test("empty fields, leading and trailing delimiters")
    func emptyFields() throws {
        let result = try records("a,,b\n,\n,x,\n")
        #expect(result.map(\.fields) == [["a", "", "b"], ["", ""], ["", "x", ""]])
    }

    @Test("CRLF line ends: no CR in fields, one line per CRLF", arguments: chunkSizes)
    func crlf(chunkSize: Int) throws {
        let result = try records("user,action\r\nalice,enable\r\n\"bob\",disable\r\n", chunkSize: chunkSize)
        #expect(result.map(\.fields) == [["user", "action"], ["alice", "enable"], ["bob", "disable"]])
        #expect(result.map(\.line) == [1, 2, 3])
    }

    @Test("mixed LF and CRLF")
    func mixedLineEnds() throws {
        let result = try records("a,b\r\nc,d\ne,f\r\n")
        #expect(result.map(\.fields) == [["a", "b"], ["c", "d"], ["e", "f"]])
        #expect(result.map(\.line) == [1, 2, 3])
    }

    @Test("a UTF-8 byte-order mark at the start is ignored", arguments: chunkSizes)
    func byteOrderMark(chunkSize: Int) throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("user,action\nalice,enable\n".utf8)
        let result = try records(bytes: bytes, chunkSize: chunkSize)
        #expect(
            result == [
                CSVRecord(fields: ["user", "action"], line: 1), CSVRecord(fields: ["alice", "enable"], line: 2),
            ])
    }

    @Test("a file holding only a byte-order mark, or nothing, has no records")
    func emptyInputs() throws {
        #expect(try records(bytes: [0xEF, 0xBB, 0xBF]).isEmpty)
        #expect(try records(bytes: [0xEF, 0xBB, 0xBF], chunkSize: 1).isEmpty)
        #expect(try records("").isEmpty)
        #expect(try records("\n\r\n\n").isEmpty)
    }

    @Test("a byte-order mark after the start is data")
    func byteOrderMarkInside() throws {
        let result = try records("a,\u{FEFF}b\n")
        #expect(result.map(\.fields) == [["a", "\u{FEFF}b"]])
    }

    @Test("short inputs that start like a byte-order mark are read as they are")
    func shortInputs() throws {
        #expect(try records("a").map(\.fields) == [["a"]])
        #expect(try records("ab", chunkSize: 1).map(\.fields) == [["ab"]])
        #expect(try records(bytes: [0xC3, 0xA9], chunkSize: 1).map(\.fields) == [["é"]])
    }

    @Test("blank lines are skipped and still counted", arguments: chunkSizes)
    func blankLines(chunkSize: Int) throws {
        let result = try records("\n\nuser,action\n\r\n\nalice,enable\n\n", chunkSize: chunkSize)
        #expect(
            result == [
                CSVRecord(fields: ["user", "action"], line: 3), CSVRecord(fields: ["alice", "enable"], line: 6),
            ])
    }

    @Test("leading and trailing spaces and tabs are kept", arguments: chunkSizes)
    func spacesKept(chunkSize: Int) throws {
        let result = try records("  a  , b ,\t c\t,\" q \"\n   \n", chunkSize: chunkSize)
        #expect(result.map(\.fields) == [["  a  ", " b ", "\t c\t", " q "], ["   "]])
        #expect(result.map(\.line) == [1, 2])
    }

    @Test(
        "multi-line quoted fields keep their line breaks; later records keep true line numbers", arguments: chunkSizes)
    func multiLineFields(chunkSize: Int) throws {
        let text = "h1,h2\n\"line one\nline two\",x\n\"a\r\nb\r\n\",y\r\nlast,z\n"
        let result = try records(text, chunkSize: chunkSize)
        #expect(
            result == [
                CSVRecord(fields: ["h1", "h2"], line: 1),
                CSVRecord(fields: ["line one\nline two", "x"], line: 2),
                CSVRecord(fields: ["a\r\nb\r\n", "y"], line: 4),
                CSVRecord(fields: ["last", "z"], line: 7),
            ])
    }

    @Test("a record that starts after a multi-line field on the same line")
    func recordAfterMultiLineField() throws {
        let result = try records("\"a\nb\",\"c\nd\"\ne,f\n")
        #expect(result == [CSVRecord(fields: ["a\nb", "c\nd"], line: 1), CSVRecord(fields: ["e", "f"], line: 4)])
    }

    @Test("the last record may lack a line end", arguments: chunkSizes)
    func noFinalLineEnd(chunkSize: Int) throws {
        let reader = try CSVReader(
            .bytes(Array("a,b\nc,\"d\"".utf8)), options: CSVReaderOptions(chunkSize: chunkSize))
        #expect(
            try reader.readAll() == [CSVRecord(fields: ["a", "b"], line: 1), CSVRecord(fields: ["c", "d"], line: 2)])
        #expect(reader.finalRecordUnterminated)
        #expect(reader.terminatedBytes == 4)
    }

    @Test("a terminated last record is reported as such")
    func terminatedFinalRecord() throws {
        let reader = try CSVReader(.bytes(Array("a,b\nc,d\n\n".utf8)))
        _ = try reader.readAll()
        #expect(!reader.finalRecordUnterminated)
        #expect(reader.terminatedBytes == 9)
        #expect(reader.bytesRead == 9)
    }

    @Test("a lone CR ends a record but not a line")
    func loneCarriageReturn() throws {
        let result = try records("a,b\rc,d\ne,f\n")
        #expect(
            result == [
                CSVRecord(fields: ["a", "b"], line: 1), CSVRecord(fields: ["c", "d"], line: 1),
                CSVRecord(fields: ["e", "f"], line: 2),
            ])
    }

    @Test("semicolon, tab and pipe delimiters", arguments: [";", "\t", "|"] as [Character])
    func delimiters(delimiter: Character) throws {
        let d = String(delimiter)
        let text = "user\(d)action\nal,ice\(d)\"en\(d)able\"\n"
        let result = try records(text, chunkSize: 3, delimiter: delimiter)
        #expect(result.map(\.fields) == [["user", "action"], ["al,ice", "en\(d)able"]])
    }

    @Test("a delimiter that cannot work is refused", arguments: [0x22, 0x0A, 0x0D, 0xC3] as [UInt8])
    func invalidDelimiter(byte: UInt8) {
        #expect(throws: CSVError(.invalidDelimiter(byte))) {
            _ = try CSVReader(.bytes([]), options: CSVReaderOptions(delimiter: byte))
        }
    }

    @Test("UTF-8 beyond ASCII: Latin-1 range, CJK, emoji", arguments: chunkSizes)
    func unicode(chunkSize: Int) throws {
        let text = "ñandú,Ünïcödé ÿ\n日本語,😀👍🏽\n"
        let result = try records(text, chunkSize: chunkSize)
        #expect(result.map(\.fields) == [["ñandú", "Ünïcödé ÿ"], ["日本語", "😀👍🏽"]])
    }

    @Test("reads a file in chunks and reports every byte to the observer")
    func readsFile() throws {
        let path = temporaryPath("input.csv")
        var text = "user,action,password\n"
        for index in 0..<2000 { text += "user\(index),enable,\"pa,ss \(index)\"\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try CSVReader(.path(path), options: CSVReaderOptions(chunkSize: 100))
        var observed: [UInt8] = []
        reader.byteObserver = { observed.append(contentsOf: $0) }
        var count = 0
        while let record = try reader.next() {
            count += 1
            #expect(record.line == count)
            if count > 1 { #expect(record.fields == ["user\(count - 2)", "enable", "pa,ss \(count - 2)"]) }
        }
        #expect(count == 2001)
        #expect(observed == Array(text.utf8))
        #expect(reader.bytesRead == text.utf8.count)
        #expect(try reader.next() == nil)
    }

    @Test("every chunk size gives the same records for a tricky document")
    func chunkSizeIndependence() throws {
        let text =
            "\u{FEFF}h1,h2,h3\r\n\n \"x\" ,\"multi\r\nline\",\"\"\"\"\n\"a,b\",\"c\nd\ne\",f\r\n\r\n  ,\t,\n\"tail\",\"é\""
        let bytes = Array(text.utf8)
        // Leading space then a quote is a strict error; take the text without that row.
        let fixed = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: " \"x\" ", with: "x")
        let expected = try records(fixed)
        #expect(expected.count == 5)
        for size in 1...17 {
            #expect(try records(fixed, chunkSize: size) == expected, "chunk size \(size)")
        }
    }
}
