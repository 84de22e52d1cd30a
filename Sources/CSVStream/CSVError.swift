/// An error reading or writing CSV.
///
/// Descriptions name the physical line (1-based, counting line feeds; CRLF counts once) and the
/// field (1-based) where that is known. They never contain field content, so a value such as a
/// password cannot reach a log through an error message.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A quoted field is still open when the input ends. `line` is where the field opens.
        case unterminatedQuote(endLine: Int)
        /// A quote character inside a field that does not start with a quote (strict mode).
        case unexpectedQuote
        /// Something other than a delimiter or line end after the closing quote of a field.
        case textAfterClosingQuote
        /// A field is not valid UTF-8. `byteOffset` is 0-based within the field.
        case invalidUTF8(byteOffset: Int)
        /// A record is longer than the reader's limit (usually a quote left open).
        case recordTooLong(limit: Int)
        /// libcsv could not grow its buffer.
        case outOfMemory
        /// The delimiter cannot be used (quote, CR, LF or a non-ASCII byte).
        case invalidDelimiter(UInt8)
        /// A record with no fields cannot be written.
        case emptyRecord
        /// Opening a file failed.
        case cannotOpen(path: String, reason: String)
        /// Reading failed.
        case readFailed(path: String, reason: String)
        /// Writing or flushing failed.
        case writeFailed(path: String, reason: String)
    }

    public var kind: Kind
    /// 1-based physical line, when the error is about a place in the input.
    public var line: Int?
    /// 1-based field number within its record, when known.
    public var field: Int?

    public init(_ kind: Kind, line: Int? = nil, field: Int? = nil) {
        self.kind = kind
        self.line = line
        self.field = field
    }

    public var description: String {
        var location = ""
        if let line {
            location = "line \(line)"
            if let field { location += ", field \(field)" }
            location += ": "
        }
        switch kind {
        case .unterminatedQuote(let endLine):
            let fieldText = field.map { "field \($0)" } ?? "a field"
            return
                "\(location)\(fieldText) opens a quote that is never closed (the input ends at line \(endLine)); close the quote or double any quote inside the field"
        case .unexpectedQuote:
            return
                "\(location)a quote character inside an unquoted field; quote the whole field and double any quote inside it"
        case .textAfterClosingQuote:
            return
                "\(location)unexpected character after the closing quote of a field; a quote inside a quoted field must be doubled"
        case .invalidUTF8(let byteOffset):
            return
                "\(location)field is not valid UTF-8 (bad byte at offset \(byteOffset) in the field); save the file as UTF-8"
        case .recordTooLong(let limit):
            return "\(location)record is longer than \(limit) bytes; is a quote left open?"
        case .outOfMemory:
            return "\(location)out of memory while parsing"
        case .invalidDelimiter(let byte):
            return
                "invalid delimiter byte 0x\(String(byte, radix: 16)); use a single ASCII character other than a quote, CR or LF"
        case .emptyRecord:
            return "a record with no fields cannot be written"
        case .cannotOpen(let path, let reason):
            return "cannot open \(path): \(reason)"
        case .readFailed(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
