import CSVStream
import TestSupport
import Testing

@Suite("CSVWriter to CSVReader round trip")
struct CSVRoundTripTests {
    /// Pieces random fields are made of: the awkward ones on purpose.
    private static let pieces: [String] = [
        ",", ";", "\t", "\"", "\"\"", "\r", "\n", "\r\n", " ", "  ", "a", "Z", "0", "user", "=1+2", "é", "ñ",
        "ÿ", "\u{A0}", "\u{FEFF}", "©", "日本", "😀", "👍🏽", "|", "\\", "'", "#",
    ]

    private static func randomField(_ generator: inout SplitMix64) -> String {
        let length = Int.random(in: 0...6, using: &generator)
        var field = ""
        for _ in 0..<length { field += pieces.randomElement(using: &generator)! }
        return field
    }

    private static func randomRows(_ generator: inout SplitMix64) -> [[String]] {
        let rowCount = Int.random(in: 1...12, using: &generator)
        let width = Int.random(in: 1...5, using: &generator)
        return (0..<rowCount).map { _ in (0..<width).map { _ in randomField(&generator) } }
    }

    @Test("random rows read back identically (500 seeds, random chunk sizes and delimiters)")
    func randomRoundTrip() throws {
        let delimiters: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")]
        for seed in UInt64(1)...500 {
            var generator = SplitMix64(seed: seed)
            let rows = CSVRoundTripTests.randomRows(&generator)
            let delimiter = delimiters.randomElement(using: &generator)!
            let lineEnding: CSVWriterOptions.LineEnding = Bool.random(using: &generator) ? .lf : .crlf
            let writeOptions = CSVWriterOptions(delimiter: delimiter, lineEnding: lineEnding)
            var bytes: [UInt8] = []
            for row in rows { bytes += try CSVWriter.encode(row, options: writeOptions) }
            let chunkSize = Int.random(in: 1...9, using: &generator)
            let reader = try CSVReader(
                .bytes(bytes), options: CSVReaderOptions(delimiter: delimiter, chunkSize: chunkSize))
            let read = try reader.readAll()
            #expect(read.map(\.fields) == rows, "seed \(seed)")
            // Line numbers: each record starts after the line feeds of those before it.
            var line = 1
            for (record, row) in zip(read, rows) {
                #expect(record.line == line, "seed \(seed)")
                line += row.joined().utf8.filter { $0 == 0x0A }.count + 1
            }
        }
    }

    @Test("a long random file through a real file and small chunks")
    func fileRoundTrip() throws {
        var generator = SplitMix64(seed: 0xC5F)
        var rows: [[String]] = []
        for _ in 0..<300 { rows += CSVRoundTripTests.randomRows(&generator).prefix(1) }
        let path = temporaryPath("round-trip.csv")
        let writer = try CSVWriter(.path(path, .truncate), options: CSVWriterOptions(bufferSize: 100))
        for row in rows { try writer.write(row) }
        try writer.close()
        let read = try CSVReader(.path(path), options: CSVReaderOptions(chunkSize: 7)).readAll()
        #expect(read.map(\.fields) == rows)
    }

    @Test("a large input with multi-line fields across small chunks (exercises buffer compaction)")
    func largeInput() throws {
        var generator = SplitMix64(seed: 99)
        var rows: [[String]] = []
        var bytes: [UInt8] = []
        for index in 0..<20_000 {
            let row = ["u\(index)", CSVRoundTripTests.randomField(&generator), index % 7 == 0 ? "a\nb\r\nc" : "x"]
            rows.append(row)
            var encoded = try CSVWriter.encode(row)
            // A lone CR also ends a record: then the next record starts in the same parse
            // piece, so the reader's buffer is compacted with a record in progress.
            if index % 3 == 0 { encoded[encoded.count - 1] = 0x0D }
            bytes += encoded
        }
        for chunkSize in [7, 4096] {
            let read = try CSVReader(.bytes(bytes), options: CSVReaderOptions(chunkSize: chunkSize)).readAll()
            #expect(read.map(\.fields) == rows)
            var line = 1
            for (index, (record, row)) in zip(read, rows).enumerated() {
                #expect(record.line == line)
                line += row.joined().utf8.filter { $0 == 0x0A }.count + (index % 3 == 0 ? 0 : 1)
            }
        }
    }
}
