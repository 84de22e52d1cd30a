import CSVStream

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error writing or reading a report.
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Reading, parsing or writing failed.
        case csv(CSVError)
        /// The file's first row is not the report header: not a report (or another version).
        case notAReport
        /// A row cannot be read back as a report row.
        case badRow(line: Int, reason: String)
    }

    public var kind: Kind
    /// The report's path (or `standard output` / `input`).
    public var source: String

    public init(_ kind: Kind, source: String) {
        self.kind = kind
        self.source = source
    }

    public var description: String {
        switch kind {
        case .csv(let error):
            switch error.kind {
            case .cannotOpen, .readFailed, .writeFailed: return error.description
            default: return "\(source) \(error.description)"
            }
        case .notAReport:
            return
                "\(source) line 1: not a console-access report (the first row must be \(ReportRow.columns.joined(separator: ",")))"
        case .badRow(let line, let reason):
            return "\(source) line \(line): not a valid report row: \(reason)"
        }
    }
}

/// Writes the report: a header row, then one row per input row, each flushed as it is written
/// (a crash loses no finished row).
///
/// Not thread-safe: give it to one task (or wrap it in an actor).
public final class ReportWriter {
    public let source: String
    private let writer: CSVWriter
    private let synchronizeEachRow: Bool

    /// Creates (or empties) a report and writes the header. `-` writes to standard output.
    /// With `synchronizeEachRow`, every row is also `fsync`ed (survives a machine crash).
    public init(creating path: String, synchronizeEachRow: Bool = false) throws(ReportError) {
        let output: CSVOutput = path == "-" ? .standardOutput : .path(path, .truncate)
        source = output.displayName
        self.synchronizeEachRow = synchronizeEachRow
        do {
            writer = try CSVWriter(output)
        } catch {
            throw ReportError(.csv(error), source: source)
        }
        try writeFields(ReportRow.columns)
    }

    /// Opens a report to add rows to it (to resume a run). A missing or empty file gets a header;
    /// an existing one must start with the report header (else `notAReport`), must read back as a
    /// report, and loses a torn final row (one cut off without its line end by a crash: its input
    /// row did not finish and runs again). No second header is written.
    public init(appendingTo path: String, synchronizeEachRow: Bool = false) throws(ReportError) {
        source = path
        self.synchronizeEachRow = synchronizeEachRow
        var needsHeader = true
        var fileStatus = stat()
        if stat(path, &fileStatus) == 0 && fileStatus.st_size > 0 {
            let contents = try ReportReader.readAll(.path(path))
            if contents.tornFinalRow {
                if truncate(path, off_t(contents.completeByteCount)) != 0 {
                    let reason = String(cString: strerror(errno))
                    throw ReportError(.csv(CSVError(.writeFailed(path: path, reason: reason))), source: path)
                }
            }
            needsHeader = false
        }
        do {
            writer = try CSVWriter(.path(path, .append))
        } catch {
            throw ReportError(.csv(error), source: path)
        }
        if needsHeader { try writeFields(ReportRow.columns) }
    }

    /// Writes one row and flushes it to the file.
    public func write(_ row: ReportRow) throws(ReportError) {
        try writeFields(row.fields)
    }

    /// Flushes and closes the report.
    public func close() throws(ReportError) {
        do {
            try writer.close()
        } catch {
            throw ReportError(.csv(error), source: source)
        }
    }

    private func writeFields(_ fields: [String]) throws(ReportError) {
        do {
            try writer.write(fields)
            if synchronizeEachRow {
                try writer.synchronize()
            } else {
                try writer.flush()
            }
        } catch {
            throw ReportError(.csv(error), source: source)
        }
    }
}

/// What `ReportReader.readAll` found.
public struct ReportContents: Sendable, Equatable {
    /// Every complete row, in file order.
    public var rows: [ReportRow]
    /// Whether the file ends with a row cut off before its line end (dropped from `rows`).
    public var tornFinalRow: Bool
    /// Bytes from the start of the file up to the end of the last complete row.
    public var completeByteCount: Int
}

/// Reads a report back (to resume a run). Rejects a file whose first row is not the report header.
public final class ReportReader {
    public let source: String
    /// After the end: whether the last row was cut off before its line end. That row is not returned.
    public private(set) var tornFinalRow = false
    private let reader: CSVReader

    public init(_ input: CSVInput, options: CSVReaderOptions = CSVReaderOptions()) throws(ReportError) {
        source = input.displayName
        do {
            reader = try CSVReader(input, options: options)
            guard let header = try reader.next(), !reader.finalRecordUnterminated else {
                throw ReportError(.notAReport, source: source)
            }
            guard header.fields == ReportRow.columns || header.fields == ReportRow.legacyColumns else {
                throw ReportError(.notAReport, source: source)
            }
        } catch let error as ReportError {
            throw error
        } catch let error as CSVError {
            throw ReportError(.csv(error), source: source)
        } catch {
            throw ReportError(.notAReport, source: source)
        }
    }

    /// The next complete row, or `nil` at the end.
    public func next() throws(ReportError) -> ReportRow? {
        let record: CSVRecord
        do {
            guard let next = try reader.next() else { return nil }
            record = next
        } catch {
            // A cut-off final row can end inside quotes or inside a UTF-8 sequence.
            if reader.finalRecordUnterminated {
                tornFinalRow = true
                return nil
            }
            throw ReportError(.csv(error), source: source)
        }
        if reader.finalRecordUnterminated {
            tornFinalRow = true
            return nil
        }
        do {
            return try ReportRow(fields: record.fields)
        } catch {
            throw ReportError(.badRow(line: record.line, reason: error.reason), source: source)
        }
    }

    /// Bytes from the start of the input up to the end of the last complete row (after the end).
    public var completeByteCount: Int { reader.terminatedBytes }

    /// Reads a whole report.
    public static func readAll(_ input: CSVInput) throws(ReportError) -> ReportContents {
        let reader = try ReportReader(input)
        var rows: [ReportRow] = []
        while let row = try reader.next() { rows.append(row) }
        return ReportContents(
            rows: rows, tornFinalRow: reader.tornFinalRow, completeByteCount: reader.completeByteCount)
    }
}
