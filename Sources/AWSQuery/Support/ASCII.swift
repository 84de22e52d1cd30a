/// ASCII on bytes, for protocol text: HTTP header names and tokens, AWS error codes. Case folding
/// touches `A`–`Z` only.
enum ASCII {
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }

    static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// Whether `needle` occurs in `bytes`, ignoring case.
    static func contains(_ bytes: some Collection<UInt8>, ignoringCase needle: some Collection<UInt8>) -> Bool {
        var start = bytes.startIndex
        while bytes.distance(from: start, to: bytes.endIndex) >= needle.count {
            if equalsIgnoringCase(bytes[start...].prefix(needle.count), needle) { return true }
            bytes.formIndex(after: &start)
        }
        return false
    }

    /// Space or tab.
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 9
    }

    /// `text` without spaces and tabs at either end.
    static func trimmingBlanks(_ text: String) -> String {
        var bytes = Substring(text).utf8[...]
        while let first = bytes.first, isBlank(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isBlank(last) { bytes = bytes.dropLast() }
        return String(Substring(bytes))
    }
}
