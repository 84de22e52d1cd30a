import CSVStream
import Foundation

/// Reads all records of `text` with the given options.
func records(
    _ text: String, chunkSize: Int = 64 * 1024, delimiter: Character = ",", maxRecordBytes: Int = 1 << 20
) throws(CSVError) -> [CSVRecord] {
    try records(bytes: Array(text.utf8), chunkSize: chunkSize, delimiter: delimiter, maxRecordBytes: maxRecordBytes)
}

func records(
    bytes: [UInt8], chunkSize: Int = 64 * 1024, delimiter: Character = ",", maxRecordBytes: Int = 1 << 20
) throws(CSVError) -> [CSVRecord] {
    let options = CSVReaderOptions(
        delimiter: delimiter.asciiValue!, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
    return try CSVReader(.bytes(bytes), options: options).readAll()
}

/// The error reading `text` throws (or `nil` when it reads cleanly), for every chunk size given.
func readError(_ text: String, chunkSize: Int = 64 * 1024, delimiter: Character = ",") -> CSVError? {
    readError(bytes: Array(text.utf8), chunkSize: chunkSize, delimiter: delimiter)
}

func readError(bytes: [UInt8], chunkSize: Int = 64 * 1024, delimiter: Character = ",") -> CSVError? {
    do {
        _ = try records(bytes: bytes, chunkSize: chunkSize, delimiter: delimiter)
        return nil
    } catch {
        return error
    }
}

/// Chunk sizes that make records straddle chunk boundaries, plus the default.
let chunkSizes = [1, 2, 3, 4, 5, 6, 7, 13, 64 * 1024]

/// A fresh path in a fresh temporary directory.
func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("csvstream-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}
