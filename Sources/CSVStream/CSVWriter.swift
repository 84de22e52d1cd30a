import CLibCSV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a writer puts its bytes.
public enum CSVOutput: Sendable {
    public enum Mode: Sendable {
        /// Create the file, or empty it when it exists.
        case truncate
        /// Create the file when missing, and add to its end.
        case append
    }

    /// A file path (created with mode 0600: reports can hold user names).
    case path(String, Mode)
    /// The process's standard output.
    case standardOutput

    public var displayName: String {
        switch self {
        case .path(let path, _): return path
        case .standardOutput: return "standard output"
        }
    }
}

/// Options for `CSVWriter`.
public struct CSVWriterOptions: Sendable {
    public enum LineEnding: Sendable {
        case lf
        case crlf
    }

    /// The field delimiter: one ASCII byte other than a quote, CR or LF. Default `,`.
    public var delimiter: UInt8
    /// The record terminator. Default LF.
    public var lineEnding: LineEnding
    /// Written records are buffered up to about this many bytes before they go to the output;
    /// `flush()` writes them at once.
    public var bufferSize: Int

    public init(delimiter: UInt8 = UInt8(ascii: ","), lineEnding: LineEnding = .lf, bufferSize: Int = 64 * 1024) {
        self.delimiter = delimiter
        self.lineEnding = lineEnding
        self.bufferSize = bufferSize
    }
}

/// Writes CSV records through libcsv's quoting.
///
/// A field is quoted (by libcsv's `csv_write`: surrounded by quotes, inner quotes doubled) only
/// when it needs it: when it contains the delimiter, a quote, CR or LF; when it starts or ends
/// with a space or tab (so readers that trim unquoted fields keep them); when it starts with a
/// byte-order mark; and when it is the only field of a record and empty (an empty line would read
/// back as a blank line). Every other field is written as is. Whatever the value, `CSVReader`
/// reads it back unchanged.
public final class CSVWriter {
    public let output: CSVOutput
    public let options: CSVWriterOptions
    private var fileDescriptor: Int32
    private var closeDescriptor: Bool
    private var pending: [UInt8] = []

    public init(_ output: CSVOutput, options: CSVWriterOptions = CSVWriterOptions()) throws(CSVError) {
        try CSVReaderOptions.checkDelimiter(options.delimiter)
        switch output {
        case .standardOutput:
            fileDescriptor = 1
            closeDescriptor = false
        case .path(let path, let mode):
            let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == .append ? O_APPEND : O_TRUNC)
            let descriptor = open(path, flags, 0o600)
            if descriptor < 0 {
                throw CSVError(.cannotOpen(path: path, reason: errnoDescription()))
            }
            fileDescriptor = descriptor
            closeDescriptor = true
        }
        self.output = output
        self.options = options
        pending.reserveCapacity(options.bufferSize + 1024)
    }

    deinit {
        if fileDescriptor >= 0 {
            _ = try? writeOut()
            if closeDescriptor { _ = posixClose(fileDescriptor) }
        }
    }

    /// Adds one record. It reaches the output at the next `flush()` (or when the buffer fills).
    public func write(_ fields: [String]) throws(CSVError) {
        try checkOpen()
        try CSVWriter.append(fields, to: &pending, options: options)
        if pending.count >= options.bufferSize { try writeOut() }
    }

    /// Writes every buffered record to the output (the kernel has it: a crash of this process
    /// loses none of it).
    public func flush() throws(CSVError) {
        try checkOpen()
        try writeOut()
    }

    /// `flush()`, then `fsync`: the records survive a crash of the machine too.
    public func synchronize() throws(CSVError) {
        try flush()
        if fsync(fileDescriptor) != 0 && errno != EINVAL && errno != EROFS {
            throw CSVError(.writeFailed(path: output.displayName, reason: errnoDescription()))
        }
    }

    /// Flushes and closes the output. Further writes throw.
    public func close() throws(CSVError) {
        guard fileDescriptor >= 0 else { return }
        defer {
            if closeDescriptor { _ = posixClose(fileDescriptor) }
            fileDescriptor = -1
        }
        try writeOut()
    }

    /// The bytes of one record, terminator included.
    public static func encode(_ fields: [String], options: CSVWriterOptions = CSVWriterOptions()) throws(CSVError)
        -> [UInt8]
    {
        try CSVReaderOptions.checkDelimiter(options.delimiter)
        var bytes: [UInt8] = []
        try append(fields, to: &bytes, options: options)
        return bytes
    }

    /// Whether a field must be quoted (see the type's documentation).
    public static func needsQuoting(_ field: String, delimiter: UInt8 = UInt8(ascii: ","), onlyField: Bool = false)
        -> Bool
    {
        let utf8 = field.utf8
        guard let first = utf8.first, let last = utf8.last else { return onlyField }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        if first == 0xEF && utf8.starts(with: [0xEF, 0xBB, 0xBF]) { return true }
        for byte in utf8 where byte == delimiter || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            return true
        }
        return false
    }

    static func append(_ fields: [String], to bytes: inout [UInt8], options: CSVWriterOptions) throws(CSVError) {
        if fields.isEmpty { throw CSVError(.emptyRecord) }
        let onlyField = fields.count == 1
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(options.delimiter) }
            if needsQuoting(field, delimiter: options.delimiter, onlyField: onlyField) {
                appendQuoted(field, to: &bytes)
            } else {
                bytes.append(contentsOf: field.utf8)
            }
        }
        if options.lineEnding == .crlf { bytes.append(0x0D) }
        bytes.append(0x0A)
    }

    /// Quotes through libcsv's `csv_write`.
    private static func appendQuoted(_ field: String, to bytes: inout [UInt8]) {
        var field = field
        field.withUTF8 { source in
            if source.isEmpty {
                bytes.append(contentsOf: [0x22, 0x22])
                return
            }
            // Safe because `csv_write` writes at most `capacity` bytes (every byte doubled, plus
            // two quotes), and `capacity` zero bytes were appended just before for it.
            let capacity = source.count * 2 + 2
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: capacity))
            let written = bytes.withUnsafeMutableBufferPointer { destination in
                csv_write(destination.baseAddress! + start, capacity, source.baseAddress, source.count)
            }
            bytes.removeLast(capacity - written)
        }
    }

    private func checkOpen() throws(CSVError) {
        if fileDescriptor < 0 {
            throw CSVError(.writeFailed(path: output.displayName, reason: "the writer is closed"))
        }
    }

    private func writeOut() throws(CSVError) {
        var offset = 0
        let total = pending.count
        while offset < total {
            // Safe because `write(2)` reads `total - offset` bytes from `offset`, within `pending`.
            let result = pending.withUnsafeBytes { raw in
                posixWrite(fileDescriptor, raw.baseAddress! + offset, total - offset)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = errnoDescription()
                pending.removeFirst(offset)
                throw CSVError(.writeFailed(path: output.displayName, reason: reason))
            }
            offset += result
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// `write(2)` (the writer's own `write` methods hide the name); the caller bounds the bytes.
private func posixWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

private func posixClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
