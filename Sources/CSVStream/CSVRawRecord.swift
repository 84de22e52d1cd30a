/// One record's fields as UTF-8 bytes (already checked to be valid UTF-8), lent to
/// `CSVReader.withNextRecord`. Valid only inside that call.
///
/// Bytes, not strings: a string per field and an array per record were among the measured costs
/// of the first reader (BENCHMARKS.md, "Parse and validate", profile notes).
public struct CSVRawRecord {
    /// 1-based physical line where the record starts.
    public let line: Int
    /// Number of fields.
    public let count: Int
    // Safe because the two buffers are the parser state's `bytes` and `fieldEnds` contents,
    // which do not move or change while the record is lent (`CSVReader.withNextRecord` refuses
    // to be called again from inside its body), and the record is used only inside that body.
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
        // Safe because `firstField + count <= ends.count` (the record's fields are all in
        // `ends`), and the ends are non-decreasing offsets no larger than `bytes.count`.
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
