// The libcsv glue: the parser states the reader looks at, the state its callbacks write into,
// the callbacks themselves, and the UTF-8 check every field goes through.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// libcsv's parser states (`pstate`; libcsv.c does not export their names).
let rowNotBegun: Int32 = 0
let fieldBegun: Int32 = 2
let fieldMightHaveEnded: Int32 = 3

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
    /// True while `popPending` lends a record (see `CSVReader.withNextRecord`).
    var lending = false

    var currentFieldCount: Int { fieldEnds.count - currentFieldStart }

    var hasPending: Bool { pendingHead < pending.count }

    mutating func popPending<Result>(_ body: (CSVRawRecord) -> Result) -> Result {
        let record = pending[pendingHead]
        lending = true
        defer { lending = false }
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
        // Safe because libcsv hands its field buffer with the field's length, valid until the
        // callback returns; the bytes are copied into `bytes` before that.
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
///
/// Kept because a measurement says so: the reader with two `Array`s in its place was measurably
/// slower (BENCHMARKS.md, "Unsafe code: what the measurements keep").
///
/// Safe because every index it is given is below `count` (the callers work from `count` and from
/// offsets it returned), `count <= capacity` always, and its one owner never copies it: the
/// `ParserState` lives behind the reader's pointer and frees it once, in the reader's `deinit`.
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

    /// Drops the first `n` elements (`n <= count`), moving the rest to the front.
    mutating func removeFirst(_ n: Int) {
        precondition(n <= count, "removing more elements than the buffer holds")
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

// Safe because the reader passes a pointer to its `ParserState` as the context of every
// `csv_parse` and `csv_fini` call, and libcsv calls these only during those calls.
func csvFieldCallback(_ data: UnsafeMutableRawPointer?, _ length: Int, _ context: UnsafeMutableRawPointer?) {
    context!.assumingMemoryBound(to: ParserState.self).pointee.addField(data, length)
}

func csvRecordCallback(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    context!.assumingMemoryBound(to: ParserState.self).pointee.endRecord()
}

func csvNeverSpace(_ byte: UInt8) -> Int32 { 0 }

/// The offset of the first byte that does not start or continue a valid UTF-8 sequence.
func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    // Safe because every byte read is at an index checked to be below `bytes.count`.
    var index = 0
    let count = bytes.count
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
