import CSVStream
import Foundation
import Testing

@Suite("CSVReader: malformed input is an error naming the line")
struct CSVMalformedInputTests {
    @Test("an unclosed quote at the end names the line and field where it opens", arguments: chunkSizes)
    func unterminatedQuote(chunkSize: Int) {
        let error = readError("user,action\nalice,enable\nbob,\"disable\ncarol,enable\n", chunkSize: chunkSize)
        #expect(error == CSVError(.unterminatedQuote(endLine: 4), line: 3, field: 2))
        #expect(error?.description.hasPrefix("line 3, field 2: field 2 opens a quote that is never closed") == true)
    }

    @Test("an unclosed quote without a final line end")
    func unterminatedQuoteNoLineEnd() {
        #expect(readError("a,b\n\"c") == CSVError(.unterminatedQuote(endLine: 2), line: 2, field: 1))
    }

    @Test("a quote inside an unquoted field", arguments: chunkSizes)
    func strayQuote(chunkSize: Int) {
        let error = readError("user,action\nal\"ice,enable\n", chunkSize: chunkSize)
        #expect(error == CSVError(.unexpectedQuote, line: 2, field: 1))
        #expect(error?.description.contains("line 2, field 1") == true)
    }

    @Test("a space before an opening quote makes the quote stray")
    func spaceBeforeQuote() {
        #expect(readError("a, \"b\"\n") == CSVError(.unexpectedQuote, line: 1, field: 2))
    }

    @Test("text after a closing quote", arguments: chunkSizes)
    func textAfterClosingQuote(chunkSize: Int) {
        let error = readError("a,b\nc,\"d\"e,f\n", chunkSize: chunkSize)
        #expect(error == CSVError(.textAfterClosingQuote, line: 2, field: 2))
        #expect(readError("a,\"b\" \n") == CSVError(.textAfterClosingQuote, line: 1, field: 2))
    }

    @Test("the stray quote's own line is named when the record started earlier")
    func strayQuoteInMultiLineRecord() {
        #expect(readError("h\n\"a\nb\"x\n") == CSVError(.textAfterClosingQuote, line: 3, field: 1))
    }

    @Test("invalid UTF-8 names the line and field", arguments: chunkSizes)
    func invalidUTF8(chunkSize: Int) {
        let bytes = Array("user,action\nalice,enable\n".utf8) + [0x62, 0x6F, 0x62, 0x2C, 0xE9, 0x0A]
        #expect(
            readError(bytes: bytes, chunkSize: chunkSize) == CSVError(.invalidUTF8(byteOffset: 0), line: 3, field: 2))
    }

    @Test("invalid UTF-8 on a later line of a multi-line field names that line")
    func invalidUTF8InMultiLineField() {
        let bytes = Array("h\n\"one\ntwo\nt".utf8) + [0xFF] + Array("o\"\n".utf8)
        #expect(readError(bytes: bytes) == CSVError(.invalidUTF8(byteOffset: 9), line: 4, field: 1))
    }

    @Test(
        "each kind of invalid UTF-8 is caught",
        arguments: [
            [0xC3], [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
            [0xF8, 0x88, 0x80, 0x80, 0x80],
        ] as [[UInt8]])
    func invalidSequences(sequence: [UInt8]) {
        let bytes = Array("ok,x".utf8) + sequence + Array("\n".utf8)
        #expect(readError(bytes: bytes) == CSVError(.invalidUTF8(byteOffset: 1), line: 1, field: 2))
    }

    @Test("records before an error are returned first; then the error repeats")
    func errorIsSticky() throws {
        let reader = try CSVReader(.bytes(Array("a,b\nc,d\ne\"f\ng,h\n".utf8)))
        #expect(try reader.next() == CSVRecord(fields: ["a", "b"], line: 1))
        #expect(try reader.next() == CSVRecord(fields: ["c", "d"], line: 2))
        #expect(throws: CSVError(.unexpectedQuote, line: 3, field: 1)) { try reader.next() }
        #expect(throws: CSVError(.unexpectedQuote, line: 3, field: 1)) { try reader.next() }
    }

    @Test("a record over the size limit stops the read instead of buffering the file")
    func recordTooLong() {
        var text = "a,b\n\"open"
        text += String(repeating: "x\n", count: 3000)
        let limited = CSVReaderOptions(chunkSize: 512, maxRecordBytes: 1000)
        do {
            _ = try CSVReader(.bytes(Array(text.utf8)), options: limited).readAll()
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .recordTooLong(limit: 1000))
            #expect(error.line == 2)
        }
    }

    @Test("error descriptions never contain field content")
    func noContentInErrors() {
        let secret = "S3cr3t-Pa55"
        let inputs: [[UInt8]] = [
            Array("u,p\nbob,\"\(secret)\n".utf8),
            Array("u,p\nbob,\(secret)\"x\n".utf8),
            Array("u,p\nbob,\"\(secret)\"x\n".utf8),
            Array("u,p\nbob,\(secret)".utf8) + [0xFF, 0x0A],
        ]
        for input in inputs {
            let error = readError(bytes: input)
            #expect(error != nil)
            #expect(error?.description.contains(secret) == false)
            #expect(error?.description.contains("S3cr") == false)
        }
    }

    @Test("a missing file is an error naming it")
    func missingFile() {
        let path = temporaryPath("nope.csv")
        #expect(throws: CSVError.self) { _ = try CSVReader(.path(path)) }
        do {
            _ = try CSVReader(.path(path))
        } catch {
            #expect(error.description == "cannot open \(path): No such file or directory")
        }
    }

    @Test("a directory cannot be read")
    func directory() throws {
        let reader = try CSVReader(.path(FileManager.default.temporaryDirectory.path))
        do {
            _ = try reader.next()
            Issue.record("expected an error")
        } catch {
            guard case .readFailed = error.kind else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }
}
