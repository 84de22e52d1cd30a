import CSVStream
import Crypto

/// Options for reading a batch input file.
public struct BatchInputOptions: Sendable {
    /// The CSV options: delimiter (default `,`), chunk size, longest record.
    public var csv: CSVReaderOptions

    public init(csv: CSVReaderOptions = CSVReaderOptions()) {
        self.csv = csv
    }

    public init(delimiter: UInt8) {
        self.csv = CSVReaderOptions(delimiter: delimiter)
    }
}

/// Reads a batch input file row by row: the header first (in `init`), then one `RowResult` per
/// data row, in file order, with a SHA-256 of every byte read.
///
/// Memory stays flat: nothing is kept but the current row. Records whose cells are all empty or
/// blank are skipped like blank lines (and counted in `summary.emptyRowsSkipped`).
public final class BatchInputReader {
    /// A name for the input in messages: the path or `standard input`.
    public let source: String
    public let columns: InputColumns
    /// Counts over the rows read so far.
    public private(set) var summary = InputSummary()

    private let reader: CSVReader
    private let digest: DigestBox
    private var finalDigest: String?

    /// Opens the input and reads its header row.
    public init(_ input: CSVInput, options: BatchInputOptions = BatchInputOptions()) throws(InputFileError) {
        let source = input.displayName
        let digest = DigestBox()
        let reader: CSVReader
        do {
            reader = try CSVReader(input, options: options.csv)
        } catch {
            throw InputFileError(.csv(error), source: source)
        }
        reader.byteObserver = { bytes in digest.hasher.update(bufferPointer: bytes) }
        var header: CSVRecord?
        do {
            while let record = try reader.next() {
                if isBlankRecord(record.fields) { continue }
                header = record
                break
            }
        } catch {
            throw InputFileError(.csv(error), source: source)
        }
        guard let header else { throw InputFileError(.empty, source: source) }
        self.columns = try InputColumns(header: header.fields, source: source)
        self.source = source
        self.reader = reader
        self.digest = digest
    }

    /// The next data row, or `nil` after the last one.
    public func next() throws(InputFileError) -> RowResult? {
        let columns = self.columns
        while let row = try nextRecord({ raw in columns.validate(raw) }) {
            guard let row else { continue }
            summary.count(row)
            return row
        }
        return nil
    }

    /// The next data row's verdict without its job (faster; for checking a file), or `nil` after
    /// the last one.
    public func nextCheck() throws(InputFileError) -> RowCheck? {
        let columns = self.columns
        while let row = try nextRecord({ raw in columns.check(raw) }) {
            guard let row else { continue }
            summary.count(row)
            return row
        }
        return nil
    }

    /// `body`'s result for the next record; `.some(nil)` for an empty row (skipped and counted);
    /// `nil` at the end of the input (the digest is then final).
    private func nextRecord<Row>(_ body: (CSVRawRecord) -> Row) throws(InputFileError) -> Row?? {
        let result: Row??
        do {
            result = try reader.withNextRecord { raw -> Row? in
                isBlankRecord(raw) ? nil : body(raw)
            }
        } catch {
            throw InputFileError(.csv(error), source: source)
        }
        switch result {
        case .none:
            if finalDigest == nil { finalDigest = hex(digest.hasher.finalize()) }
            return nil
        case .some(.none):
            summary.emptyRowsSkipped += 1
            return .some(nil)
        case .some(.some(let row)):
            return row
        }
    }

    /// The SHA-256 (lowercase hex) of every byte of the input, once `next()` has returned `nil`.
    /// For standard input, of the bytes read.
    public var sha256: String? { finalDigest }
}

/// The whole input, read and validated: what the batch needs before its first API call.
public struct BatchInput: Sendable {
    public var source: String
    public var columns: InputColumns
    /// One result per data row, in file order.
    public var rows: [RowResult]
    public var summary: InputSummary
    /// SHA-256 (lowercase hex) of the input's bytes; `--resume` can refuse a changed file.
    public var sha256: String

    /// The valid rows, in file order.
    public var jobs: [BatchJob] { rows.compactMap { try? $0.get() } }

    /// The invalid rows, in file order.
    public var rowErrors: [RowError] {
        rows.compactMap { row in
            if case .failure(let error) = row { return error }
            return nil
        }
    }

    /// Whether every row is valid (what `--strict` requires before any change).
    public var allRowsValid: Bool { summary.invalid == 0 }

    /// Reads and validates the whole input. Throws only file-level errors; row errors are in `rows`.
    public static func load(_ input: CSVInput, options: BatchInputOptions = BatchInputOptions()) throws(InputFileError)
        -> BatchInput
    {
        let reader = try BatchInputReader(input, options: options)
        var rows: [RowResult] = []
        while let row = try reader.next() { rows.append(row) }
        return BatchInput(
            source: reader.source, columns: reader.columns, rows: rows, summary: reader.summary,
            sha256: reader.sha256 ?? "")
    }

    /// Reads and validates the whole input, handing each row to `body` and keeping none: for
    /// `validate` on files of any size. Returns the counts and the input's SHA-256.
    public static func scan(
        _ input: CSVInput, options: BatchInputOptions = BatchInputOptions(), _ body: (RowResult) -> Void
    ) throws(InputFileError) -> (summary: InputSummary, sha256: String) {
        let reader = try BatchInputReader(input, options: options)
        while let row = try reader.next() { body(row) }
        return (reader.summary, reader.sha256 ?? "")
    }
}

private final class DigestBox {
    var hasher = SHA256()
}

private func hex(_ digest: SHA256.Digest) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(64)
    for byte in digest {
        bytes.append(digits[Int(byte >> 4)])
        bytes.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Whether every cell is empty or only spaces and tabs (quick answer for the usual row).
private func isBlankRecord(_ fields: [String]) -> Bool {
    if let first = fields.first?.utf8.first, first != 0x20 && first != 0x09 { return false }
    return fields.allSatisfy(isBlank)
}

private func isBlankRecord(_ raw: CSVRawRecord) -> Bool {
    for index in 0..<raw.count {
        for byte in raw[index] where byte != 0x20 && byte != 0x09 { return false }
    }
    return true
}

extension BatchInput {
    /// For `--generate-passwords`: enable and reset rows whose only problem is a missing password
    /// become jobs without one (a password is generated when they run).
    public func acceptingMissingPasswords() -> BatchInput {
        var summary = self.summary
        let accepted = rows.map { row -> RowResult in
            guard case .failure(let error) = row, let action = error.action, action.takesPassword,
                error.problems.allSatisfy({ if case .missingPassword = $0 { return true } else { return false } })
            else { return row }
            summary.invalid -= 1
            summary.valid += 1
            if action == .enable { summary.enable += 1 } else { summary.reset += 1 }
            return .success(BatchJob(line: error.line, user: error.user, action: action, password: nil))
        }
        var copy = self
        copy.rows = accepted
        copy.summary = summary
        return copy
    }
}
