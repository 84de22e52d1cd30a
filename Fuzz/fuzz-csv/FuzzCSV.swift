import CSVStream
import Foundation
import FuzzSupport

/// Fuzzes the CSV reader over libcsv: every record to the end or the first error, with small
/// chunks (records split across reads) and a small record limit (the limit path), and with the
/// first byte of the input as the delimiter when it is an allowed one.
enum FuzzCSV {
    static func run(_ bytes: [UInt8]) {
        var delimiter = UInt8(ascii: ",")
        if let first = bytes.first, (try? CSVReaderOptions.checkDelimiter(first)) != nil { delimiter = first }
        for options in [
            CSVReaderOptions(delimiter: delimiter),
            CSVReaderOptions(delimiter: delimiter, chunkSize: 7, maxRecordBytes: 64),
        ] {
            guard let reader = try? CSVReader(.bytes(bytes), options: options) else { continue }
            while let record = try? reader.next() {
                _ = record.fields.count
            }
        }
    }
}

#if FUZZING
    @_cdecl("fuzz_csv_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        FuzzDriver.run(argc, argv) { FuzzCSV.run($0) }
    }
#else
    @main enum Replay {
        static func main() {
            exit(FuzzReplay.run(arguments: Array(CommandLine.arguments.dropFirst()), FuzzCSV.run))
        }
    }
#endif
