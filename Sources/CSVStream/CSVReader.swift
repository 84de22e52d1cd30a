import CLibCSV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

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

/// A streaming CSV reader over libcsv.
///
/// - RFC 4180 quoting: delimiters, doubled quotes and line breaks inside quoted fields.
/// - LF and CRLF line ends (a lone CR also ends a record, but is not counted as a line).
/// - A UTF-8 byte-order mark at the start is skipped; blank lines are skipped.
/// - Spaces and tabs are data and are kept, leading and trailing, quoted or not.
/// - Strict: a quote inside an unquoted field, text after a closing quote, an unclosed quote at
///   the end of the input, or a field that is not UTF-8 is a `CSVError` naming the line and field.
///   After an error the reader stays failed: `next()` throws the same error again.
///
/// Reads `chunkSize` bytes at a time; memory stays flat whatever the input size.
public final class CSVReader {
    public let input: CSVInput
    public let options: CSVReaderOptions
    /// Called with every chunk of raw bytes read, in order (for example to hash the input).
    public var byteObserver: ((UnsafeRawBufferPointer) -> Void)?
    /// Total bytes read from the input so far.
    public private(set) var bytesRead = 0
    /// Bytes of the input, from its start, that hold only complete records ended by a line end
    /// (and blank lines). After the end of input, anything past this is a final record without a
    /// line end: for a file written record by record, a torn last write.
    public private(set) var terminatedBytes = 0
    /// After the end of input: whether the last record ended without a line end.
    public private(set) var finalRecordUnterminated = false

    private let parser: UnsafeMutablePointer<csv_parser>
    private let state: UnsafeMutablePointer<ParserState>
    private var fileDescriptor: Int32 = -1
    private var closeDescriptor = false
    private var memory: [UInt8] = []
    private var memoryOffset = 0
    private let buffer: UnsafeMutableRawBufferPointer
    private var bufferStart = 0
    private var bufferEnd = 0
    private var consumed = 0
    private var line = 1
    private var lastByteWasLineFeed = false
    private var startChecked = false
    private var atEnd = false
    private var finished = false
    private var failure: CSVError?
    private var keepsBlanks = true

    public init(_ input: CSVInput, options: CSVReaderOptions = CSVReaderOptions()) throws(CSVError) {
        try CSVReaderOptions.checkDelimiter(options.delimiter)
        switch input {
        case .path(let path):
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 {
                throw CSVError(.cannotOpen(path: path, reason: errnoDescription()))
            }
            fileDescriptor = descriptor
            closeDescriptor = true
        case .standardInput:
            fileDescriptor = 0
        case .bytes(let bytes):
            memory = bytes
        }
        self.input = input
        self.options = options
        buffer = .allocate(byteCount: max(options.chunkSize, 4), alignment: 16)
        state = .allocate(capacity: 1)
        state.initialize(to: ParserState())
        parser = .allocate(capacity: 1)
        _ = csv_init(parser, UInt8(CSV_STRICT | CSV_STRICT_FINI))
        csv_set_delim(parser, options.delimiter)
        csv_set_space_func(parser, csvNeverSpace)
        csv_set_blk_size(parser, 4096)
    }

    deinit {
        state.pointee.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        csv_free(parser)
        parser.deallocate()
        buffer.deallocate()
        if closeDescriptor { _ = close(fileDescriptor) }
    }

    /// The next record, or `nil` at the end of the input.
    public func next() throws(CSVError) -> CSVRecord? {
        try withNextRecord { CSVRecord(fields: $0.strings, line: $0.line) }
    }

    /// Hands the next record to `body` as raw UTF-8 field bytes, without making strings or
    /// arrays: the fast path for callers that look at bytes first. The record is valid only
    /// inside `body`. Returns `body`'s result, or `nil` at the end of the input.
    public func withNextRecord<Result>(_ body: (CSVRawRecord) -> Result) throws(CSVError) -> Result? {
        while true {
            // Records completed before an error come first: they precede it in the input.
            if state.pointee.hasPending { return state.pointee.popPending(body) }
            if let failure { throw failure }
            if let error = state.pointee.error {
                failure = error
                continue
            }
            if finished { return nil }
            do {
                try step()
            } catch {
                failure = error
            }
        }
    }

    /// Reads every remaining record. For small inputs and tests; large inputs should use `next()`.
    public func readAll() throws(CSVError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        while let record = try next() { records.append(record) }
        return records
    }

    // MARK: - Parsing

    private func step() throws(CSVError) {
        if bufferStart == bufferEnd {
            if atEnd {
                try finish()
                return
            }
            try fill()
            return
        }
        let base = buffer.baseAddress!
        let start = base + bufferStart
        let count = bufferEnd - bufferStart
        let lineFeed = memchr(start, 0x0A, count)
        let pieceLength = lineFeed.map { start.distance(to: $0) + 1 } ?? count
        let pieceLine = line
        state.pointee.currentLine = pieceLine
        // libcsv trims spaces and tabs unless given a space function that says "never"; calling
        // it costs a call per byte. A piece without any space or tab parses the same either way,
        // so it goes without the function (the common case).
        let hasBlank = memchr(start, 0x20, pieceLength) != nil || memchr(start, 0x09, pieceLength) != nil
        if hasBlank != keepsBlanks {
            csv_set_space_func(parser, hasBlank ? csvNeverSpace : nil)
            keepsBlanks = hasBlank
        }
        let context = UnsafeMutableRawPointer(state)
        let parsed = csv_parse(parser, start, pieceLength, csvFieldCallback, csvRecordCallback, context)
        let status = csv_error(parser)
        if parsed < pieceLength || status != CSV_SUCCESS {
            throw parseError(status: status)
        }
        bufferStart += pieceLength
        consumed += pieceLength
        lastByteWasLineFeed = lineFeed != nil
        if lineFeed != nil { line += 1 }
        let parseState = parser.pointee.pstate
        if parseState == rowNotBegun {
            terminatedBytes = consumed
        } else {
            if state.pointee.recordStartLine == nil { state.pointee.recordStartLine = pieceLine }
            if parseState == fieldBegun && parser.pointee.quoted != 0 && state.pointee.fieldStartLine == nil {
                state.pointee.fieldStartLine = pieceLine
            }
            if state.pointee.recordBytes + parser.pointee.entry_pos > options.maxRecordBytes {
                throw CSVError(
                    .recordTooLong(limit: options.maxRecordBytes), line: state.pointee.recordStartLine,
                    field: state.pointee.currentFieldCount + 1)
            }
        }
    }

    private func parseError(status: Int32) -> CSVError {
        let field = state.pointee.currentFieldCount + 1
        if status == CSV_EPARSE {
            if parser.pointee.pstate == fieldMightHaveEnded {
                return CSVError(.textAfterClosingQuote, line: line, field: field)
            }
            return CSVError(.unexpectedQuote, line: line, field: field)
        }
        return CSVError(.outOfMemory, line: line, field: field)
    }

    private func finish() throws(CSVError) {
        finished = true
        let context = UnsafeMutableRawPointer(state)
        state.pointee.currentLine = line
        let lastLine = lastByteWasLineFeed ? max(1, line - 1) : line
        let fieldStart = state.pointee.fieldStartLine ?? line
        let field = state.pointee.currentFieldCount + 1
        finalRecordUnterminated = parser.pointee.pstate != rowNotBegun
        if csv_fini(parser, csvFieldCallback, csvRecordCallback, context) != 0 {
            throw CSVError(.unterminatedQuote(endLine: lastLine), line: fieldStart, field: field)
        }
    }

    private func fill() throws(CSVError) {
        // Keep reading until the start of the input can be checked for a byte-order mark.
        if bufferStart == bufferEnd {
            bufferStart = 0
            bufferEnd = 0
        }
        let chunk = options.chunkSize
        repeat {
            let room = min(chunk, buffer.count - bufferEnd)
            let count = try readBytes(into: buffer.baseAddress! + bufferEnd, count: room)
            if count == 0 {
                atEnd = true
                break
            }
            byteObserver?(UnsafeRawBufferPointer(start: buffer.baseAddress! + bufferEnd, count: count))
            bufferEnd += count
            bytesRead += count
        } while !startChecked && bufferEnd < 3
        if !startChecked {
            startChecked = true
            if bufferEnd >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF {
                bufferStart = 3
                consumed = 3
                terminatedBytes = 3
            }
        }
    }

    private func readBytes(into pointer: UnsafeMutableRawPointer, count: Int) throws(CSVError) -> Int {
        if fileDescriptor < 0 {
            let available = min(count, memory.count - memoryOffset)
            if available <= 0 { return 0 }
            memory.withUnsafeBytes { source in
                pointer.copyMemory(from: source.baseAddress! + memoryOffset, byteCount: available)
            }
            memoryOffset += available
            return available
        }
        while true {
            let result = read(fileDescriptor, pointer, count)
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw CSVError(.readFailed(path: input.displayName, reason: errnoDescription()))
        }
    }
}

// MARK: - libcsv glue

private let rowNotBegun: Int32 = 0
private let fieldBegun: Int32 = 2
private let fieldMightHaveEnded: Int32 = 3

/// One record's fields as UTF-8 bytes (already checked to be valid UTF-8), lent to
/// `CSVReader.withNextRecord`. Valid only inside that call.
public struct CSVRawRecord {
    /// 1-based physical line where the record starts.
    public let line: Int
    /// Number of fields.
    public let count: Int
    private let bytes: UnsafeBufferPointer<UInt8>
    private let ends: UnsafeBufferPointer<Int>
    private let firstField: Int

    init(line: Int, count: Int, bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<Int>, firstField: Int) {
        self.line = line
        self.count = count
        self.bytes = bytes
        self.ends = ends
        self.firstField = firstField
    }

    /// The bytes of field `index` (0-based).
    public subscript(index: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(index >= 0 && index < count, "field index out of range")
        let field = firstField + index
        let start = field == 0 ? 0 : ends[field - 1]
        return UnsafeBufferPointer(rebasing: bytes[start..<ends[field]])
    }

    /// Field `index` (0-based) as a string.
    public func string(_ index: Int) -> String {
        String(decoding: self[index], as: UTF8.self)
    }

    /// Every field as a string.
    public var strings: [String] {
        (0..<count).map(string)
    }
}

/// Mutable state the libcsv callbacks write into (passed as the context pointer). A struct behind
/// a pointer: no reference counting or exclusivity checks on the hot path.
///
/// Field bytes go into one growing buffer: first those of complete records not yet handed out,
/// then those of the record in progress. When every complete record has been handed out and the
/// buffer holds more than 16 KiB, it is compacted, so it stays near 16 KiB plus one record.
struct ParserState {
    struct PendingRecord {
        var line: Int
        var firstField: Int
        var fieldCount: Int
    }

    var bytes = FlatBuffer<UInt8>()
    /// End offset in `bytes` of each field.
    var fieldEnds = FlatBuffer<Int>()
    var pending: [PendingRecord] = []
    var pendingHead = 0
    /// Index in `fieldEnds` of the record in progress's first field.
    var currentFieldStart = 0
    var recordBytes = 0
    var currentLine = 1
    var recordStartLine: Int?
    var fieldStartLine: Int?
    var error: CSVError?

    var currentFieldCount: Int { fieldEnds.count - currentFieldStart }

    var hasPending: Bool { pendingHead < pending.count }

    mutating func popPending<Result>(_ body: (CSVRawRecord) -> Result) -> Result {
        let record = pending[pendingHead]
        let result = body(
            CSVRawRecord(
                line: record.line, count: record.fieldCount, bytes: bytes.contents, ends: fieldEnds.contents,
                firstField: record.firstField))
        pendingHead += 1
        // Compacting after every record would cost more than it saves: wait for some bytes.
        if pendingHead == pending.count && bytes.count >= 16 * 1024 { compact() }
        return result
    }

    /// Drops the handed-out records' bytes, keeping the record in progress.
    private mutating func compact() {
        pending.removeAll(keepingCapacity: true)
        pendingHead = 0
        if currentFieldStart > 0 {
            let byteStart = fieldEnds[currentFieldStart - 1]
            bytes.removeFirst(byteStart)
            fieldEnds.removeFirst(currentFieldStart)
            for index in 0..<fieldEnds.count { fieldEnds[index] -= byteStart }
        }
        currentFieldStart = 0
    }

    mutating func addField(_ pointer: UnsafeMutableRawPointer?, _ length: Int) {
        if error != nil { return }
        let field = UnsafeBufferPointer(start: pointer?.assumingMemoryBound(to: UInt8.self), count: length)
        let offset = firstInvalidUTF8Offset(field)
        if offset != length {
            var lineOfByte = fieldStartLine ?? currentLine
            for byte in field[..<offset] where byte == 0x0A { lineOfByte += 1 }
            error = CSVError(.invalidUTF8(byteOffset: offset), line: lineOfByte, field: currentFieldCount + 1)
            return
        }
        bytes.append(contentsOf: field)
        fieldEnds.append(bytes.count)
        recordBytes += length + 1
        fieldStartLine = nil
    }

    mutating func endRecord() {
        if error != nil { return }
        pending.append(
            PendingRecord(
                line: recordStartLine ?? currentLine, firstField: currentFieldStart, fieldCount: currentFieldCount))
        currentFieldStart = fieldEnds.count
        recordStartLine = nil
        fieldStartLine = nil
        recordBytes = 0
    }

    mutating func deallocate() {
        bytes.deallocate()
        fieldEnds.deallocate()
    }
}

/// A growable buffer of plain values in one allocation, without copy-on-write checks (owned by
/// one `ParserState`, freed by `deallocate()`).
struct FlatBuffer<Element: BitwiseCopyable> {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init() {
        capacity = 256
        base = .allocate(capacity: capacity)
    }

    var contents: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }

    mutating func append(_ element: Element) {
        if count == capacity { grow(to: count + 1) }
        base[count] = element
        count += 1
    }

    mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress, !elements.isEmpty else { return }
        if count + elements.count > capacity { grow(to: count + elements.count) }
        (base + count).update(from: source, count: elements.count)
        count += elements.count
    }

    /// Drops the first `n` elements, moving the rest to the front.
    mutating func removeFirst(_ n: Int) {
        if n < count { memmove(base, base + n, (count - n) * MemoryLayout<Element>.stride) }
        count -= n
    }

    private mutating func grow(to minimum: Int) {
        var newCapacity = capacity * 2
        while newCapacity < minimum { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func deallocate() {
        base.deallocate()
    }
}

private func csvFieldCallback(_ data: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    context!.assumingMemoryBound(to: ParserState.self).pointee.addField(data, length)
}

private func csvRecordCallback(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    context!.assumingMemoryBound(to: ParserState.self).pointee.endRecord()
}

private func csvNeverSpace(_ byte: UInt8) -> Int32 { 0 }

/// The offset of the first byte that does not start or continue a valid UTF-8 sequence.
func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var index = 0
    let count = bytes.count
    // ASCII fast path, eight bytes at a time.
    if let base = bytes.baseAddress {
        let raw = UnsafeRawPointer(base)
        while index + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
    }
    while index < count && bytes[index] < 0x80 { index += 1 }
    while index < count {
        let lead = bytes[index]
        var length = 0
        var minimum: UInt32 = 0
        var scalar: UInt32 = 0
        switch lead {
        case 0x00...0x7F:
            index += 1
            continue
        case 0xC2...0xDF: (length, minimum, scalar) = (2, 0x80, UInt32(lead & 0x1F))
        case 0xE0...0xEF: (length, minimum, scalar) = (3, 0x800, UInt32(lead & 0x0F))
        case 0xF0...0xF4: (length, minimum, scalar) = (4, 0x10000, UInt32(lead & 0x07))
        default: return index
        }
        if index + length > count { return index }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            if byte & 0xC0 != 0x80 { return index }
            scalar = scalar << 6 | UInt32(byte & 0x3F)
        }
        if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return index }
        index += length
    }
    return count
}

func errnoDescription() -> String {
    String(cString: strerror(errno))
}
