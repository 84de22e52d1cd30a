import CSVStream
import Foundation
import Testing

/// Replays the CSV fuzzing corpus (`Fuzz/corpus/csv`: seeds and every input a fuzzer ever
/// crashed on) through the reader as the fuzz target drives it: each input ends in records or a
/// typed `CSVError`, with normal and with tiny chunks and record limits.
@Suite("Fuzz corpus replay (CSVStream)")
struct CSVFuzzCorpusTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus/csv")

    @Test("every CSV corpus input reads to its end or a typed error; the sample files read whole")
    func csvCorpus() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { !$0.hasPrefix(".") }.sorted()
        #expect(names.count >= 6)
        for name in names {
            let bytes = Array(try Data(contentsOf: Self.folder.appendingPathComponent(name)))
            for options in [CSVReaderOptions(), CSVReaderOptions(chunkSize: 7, maxRecordBytes: 64)] {
                let reader = try CSVReader(.bytes(bytes), options: options)
                do {
                    while try reader.next() != nil {}
                } catch {
                    // A typed CSVError is the expected end of a malformed input.
                    #expect(!error.description.isEmpty)
                }
            }
        }
        let onboarding = Array(try Data(contentsOf: Self.folder.appendingPathComponent("onboarding.csv")))
        let records = try CSVReader(.bytes(onboarding)).readAll()
        #expect(records.first?.fields.first?.lowercased() == "user")
        #expect(records.count > 1)
    }
}
