import CLibCSV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

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
    /// Called with every chunk of raw bytes read, in order (for example to hash the input). The
    /// bytes are the reader's own buffer, valid only during the call (a pointer, not a copy:
    /// every byte of the input goes through it).
    public var byteObserver: ((UnsafeRawBufferPointer) -> Void)?
    /// Total bytes read from the input so far.
    public private(set) var bytesRead = 0
    /// Bytes of the input, from its start, that hold only complete records ended by a line end
    /// (and blank lines). After the end of input, anything past this is a final record without a
    /// line end: for a file written record by record, a torn last write.
    public private(set) var terminatedBytes = 0
    /// After the end of input: whether the last record ended without a line end.
    public private(set) var finalRecordUnterminated = false

    // Pointers because libcsv needs them: its parser struct at a fixed address, and a context
    // pointer for its callbacks (the state they write into). Safe because both are allocated and
    // initialized in `init`, freed only in `deinit`, and handed to libcsv only for the duration
    // of a `csv_parse` or `csv_fini` call made here.
    private let parser: UnsafeMutablePointer<csv_parser>
    private let state: UnsafeMutablePointer<ParserState>
    private var fileDescriptor: Int32 = -1
    private var closeDescriptor = false
    private var memory: [UInt8] = []
    private var memoryOffset = 0
    // The chunk buffer that `read(2)` fills and `csv_parse` reads. Safe because it is allocated
    // in `init` and freed in `deinit`, bytes are written only below `buffer.count` and read only
    // below `bufferEnd` (`bufferEnd <= buffer.count`).
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
        // A call from inside `body` would move the bytes the lent record points to.
        precondition(!state.pointee.lending, "CSVReader.withNextRecord called from inside its own body")
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
        // Safe because `memchr` and `csv_parse` see only `bufferStart..<bufferEnd` (`count`
        // bytes from `start`; `pieceLength <= count`).
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
        let context = UnsafeMutableRawPointer(state)  // see `state`
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
            // Safe because both slices lie within `buffer`: `room <= buffer.count - bufferEnd`,
            // and `count <= room`.
            let room = min(chunk, buffer.count - bufferEnd)
            let count = try readBytes(
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[bufferEnd..<(bufferEnd + room)]))
            if count == 0 {
                atEnd = true
                break
            }
            byteObserver?(UnsafeRawBufferPointer(rebasing: buffer[bufferEnd..<(bufferEnd + count)]))
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

    /// Reads up to `destination.count` bytes into it; 0 at the end of the input.
    private func readBytes(into destination: UnsafeMutableRawBufferPointer) throws(CSVError) -> Int {
        if fileDescriptor < 0 {
            let available = min(destination.count, memory.count - memoryOffset)
            if available <= 0 { return 0 }
            destination.copyBytes(from: memory[memoryOffset..<(memoryOffset + available)])
            memoryOffset += available
            return available
        }
        while true {
            let result = read(fileDescriptor, destination.baseAddress, destination.count)
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw CSVError(.readFailed(path: input.displayName, reason: errnoDescription()))
        }
    }
}

func errnoDescription() -> String {
    String(cString: strerror(errno))
}
