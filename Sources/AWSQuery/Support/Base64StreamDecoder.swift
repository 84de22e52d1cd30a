/// Decodes padded base64 (RFC 4648, the standard alphabet) fed in pieces of any size, cut at any
/// byte: space, tab, CR and LF are skipped anywhere; `=` padding only ends the last group of four
/// (`xx==` or `xxx=`), after which only blanks may follow; the length without blanks must be a
/// multiple of 4. Both what it reads and what it makes are bounded. A value type: the state of
/// one decoding.
struct Base64StreamDecoder: Sendable {
    /// Why the text is refused. Offsets count every byte fed, blanks included, from 1.
    enum Problem: Error, Equatable, Sendable {
        /// A byte outside the alphabet, `=` and blanks.
        case invalidByte(UInt8, offset: Int)
        /// `=` not at the end: in the first half of a group, or followed by more text.
        case misplacedPadding(offset: Int)
        /// The text ends inside a group of four (`characters`: blanks aside).
        case cut(characters: Int)
        /// The decoded bytes would pass `maxBytes`.
        case tooLarge
        /// More than `maxInputBytes` bytes were fed (blanks count: a flood of them is refused).
        case tooLong
    }

    let maxBytes: Int
    let maxInputBytes: Int
    /// Bytes fed, blanks included.
    private(set) var inputBytes = 0
    /// Characters fed, blanks aside.
    private(set) var characters = 0
    /// Bytes decoded.
    private(set) var decodedBytes = 0
    /// The current group's bits, `count` sextets of them, then `padding` `=`.
    private var bits: UInt32 = 0
    private var count = 0
    private var padding = 0
    /// A padded group ended the text: anything but blanks after it is refused.
    private var ended = false

    /// `maxInputBytes` defaults to the base64 length of `maxBytes` bytes, plus an eighth for
    /// line breaks (IAM's lines, when it breaks them, are 64 or 76 characters) and 4 KiB.
    init(maxBytes: Int, maxInputBytes: Int? = nil) {
        self.maxBytes = maxBytes
        let encoded = (maxBytes / 3 + 1) * 4
        self.maxInputBytes = maxInputBytes ?? encoded + encoded / 8 + 4096
    }

    /// 0–63 for the alphabet, `blank` for space, tab, CR and LF, `pad` for `=`, else `invalid`.
    private static let blank: UInt8 = 0xFD
    private static let pad: UInt8 = 0xFE
    private static let invalid: UInt8 = 0xFF
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        for byte in [0x20, 0x09, 0x0A, 0x0D] { table[byte] = blank }
        table[Int(UInt8(ascii: "="))] = pad
        return table
    }()

    /// Decodes `input`, appending the bytes made to `output`.
    mutating func feed(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(Problem) {
        guard input.count <= maxInputBytes - inputBytes else { throw .tooLong }
        try Self.table.withUnsafeBufferPointer { (table) throws(Problem) in
            for byte in input {
                inputBytes += 1
                let value = table[Int(byte)]
                if value < 64 {
                    guard padding == 0 && !ended else { throw .misplacedPadding(offset: inputBytes) }
                    characters += 1
                    bits = bits << 6 | UInt32(value)
                    count += 1
                    if count == 4 { try emit(into: &output) }
                } else if value == Self.blank {
                    continue
                } else if value == Self.pad {
                    // `=` only as the third or fourth character of the last group.
                    guard !ended && count + padding >= 2 else { throw .misplacedPadding(offset: inputBytes) }
                    characters += 1
                    padding += 1
                    if count + padding == 4 { try emit(into: &output) }
                } else {
                    throw .invalidByte(byte, offset: inputBytes)
                }
            }
        }
    }

    /// A complete group: three bytes, or two or one when padded (the padded group's unused bits
    /// are ignored, as most decoders do).
    private mutating func emit(into output: inout [UInt8]) throws(Problem) {
        let made = count - 1
        guard made <= maxBytes - decodedBytes else { throw .tooLarge }
        switch count {
        case 4:
            output.append(UInt8(truncatingIfNeeded: bits >> 16))
            output.append(UInt8(truncatingIfNeeded: bits >> 8))
            output.append(UInt8(truncatingIfNeeded: bits))
        case 3:
            output.append(UInt8(truncatingIfNeeded: bits >> 10))
            output.append(UInt8(truncatingIfNeeded: bits >> 2))
        default:
            output.append(UInt8(truncatingIfNeeded: bits >> 4))
        }
        decodedBytes += made
        ended = padding > 0
        bits = 0
        count = 0
        padding = 0
    }

    /// The text ended: refused when it ended inside a group.
    func finish() throws(Problem) {
        guard count == 0 && padding == 0 else { throw .cut(characters: characters) }
    }
}
