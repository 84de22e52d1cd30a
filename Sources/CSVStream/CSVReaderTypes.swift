// The reader's public values: a record, where the bytes come from, and the options.

/// One CSV record: its fields and the physical line where it starts.
public struct CSVRecord: Sendable, Hashable {
    public var fields: [String]
    /// 1-based physical line of the record's first byte. Lines are counted by line feeds (a CRLF
    /// counts once, a lone CR does not end a line), as `grep -n` and editors number them.
    public var line: Int

    public init(fields: [String], line: Int) {
        self.fields = fields
        self.line = line
    }
}

/// Where a reader takes its bytes from.
public enum CSVInput: Sendable {
    /// A file path.
    case path(String)
    /// The process's standard input.
    case standardInput
    /// Bytes in memory (useful for tests and small inputs).
    case bytes([UInt8])

    /// `-` means standard input; anything else is a path.
    public static func argument(_ argument: String) -> CSVInput {
        argument == "-" ? .standardInput : .path(argument)
    }

    /// A name for messages: the path, `standard input` or `input`.
    public var displayName: String {
        switch self {
        case .path(let path): return path
        case .standardInput: return "standard input"
        case .bytes: return "input"
        }
    }
}

/// Options for `CSVReader`.
public struct CSVReaderOptions: Sendable {
    /// The field delimiter: one ASCII byte other than a quote, CR or LF. Default `,`.
    public var delimiter: UInt8
    /// How many bytes are read from the input at a time. Memory use is about this plus the
    /// longest record, whatever the input size.
    public var chunkSize: Int
    /// A record longer than this (in bytes) is an error, so an unclosed quote in a large file
    /// fails fast instead of buffering the rest of the file as one field.
    public var maxRecordBytes: Int

    public init(delimiter: UInt8 = UInt8(ascii: ","), chunkSize: Int = 64 * 1024, maxRecordBytes: Int = 1 << 20) {
        self.delimiter = delimiter
        self.chunkSize = max(1, chunkSize)
        self.maxRecordBytes = maxRecordBytes
    }

    /// Checks the delimiter can be used.
    public static func checkDelimiter(_ byte: UInt8) throws(CSVError) {
        if byte == UInt8(ascii: "\"") || byte == 0x0A || byte == 0x0D || byte >= 0x80 {
            throw CSVError(.invalidDelimiter(byte))
        }
    }
}
