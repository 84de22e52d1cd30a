import Foundation

/// Removes secret values (passwords, web identity tokens) from text a server sent back.
///
/// A server may echo a secret in many spellings, so the text is read in several layers and the
/// secret looked for in each one:
/// - as it stands, and with `%HH` escapes (either hex case; UTF-8, or Latin-1 when the bytes are
///   not UTF-8) and HTML/XML character references (`&amp;`, `&lt;`, `&#39;`, `&#x27;`, the
///   Latin-1 names such as `&eacute;`) decoded once, twice and three times (double encoding);
/// - with `+` read as a space and every run of white space as one space (on both sides);
/// - truncated: a prefix or suffix of the secret at least `minimumFragmentLength` characters long
///   is redacted wherever it appears, so a message cut off inside the secret leaks at most
///   `minimumFragmentLength - 1` of its characters.
/// Secrets shorter than `minimumSecretLength` characters are left alone (they would redact common
/// words). Only error paths call this: successful answers are never scrubbed.
public enum Redaction {
    public static let placeholder = "<redacted>"
    /// Secrets shorter than this (in characters) are not redacted.
    public static let minimumSecretLength = 4
    /// A prefix or suffix of a secret this long (in characters) or longer is redacted as well.
    public static let minimumFragmentLength = 6
    /// How much of a text is examined, in bytes; the rest is dropped (with a `…`) before scrubbing.
    public static let maximumScannedBytes = 16 * 1024
    /// How many decoding layers (percent escapes, character references) are looked through.
    static let decodingLayers = 3

    /// `text` with every secret, in every spelling above, replaced by `<redacted>`.
    public static func scrub(_ text: String, secrets: [String]) -> String {
        let secrets = prepared(secrets)
        if secrets.isEmpty || text.isEmpty { return text }
        var source = text
        // A decomposed `ü` (u + U+0308) is the same password character; compose before searching.
        if source.unicodeScalars.contains(where: { (0x300...0x36F).contains($0.value) }) {
            source = source.precomposedStringWithCanonicalMapping
        }
        return scrub(bytes: Array(source.utf8), secrets: secrets)
    }

    /// The first `limit` characters of a body that is shown in an error (an HTML error page, a
    /// malformed answer): secrets scrubbed, markup dropped, white space collapsed, cut with `…`.
    public static func snippet(_ body: [UInt8], secrets: [String], limit: Int = snippetLength) -> String {
        let secrets = prepared(secrets)
        // Scrubbed before the markup is dropped (a secret containing `<` must not be split by
        // it), and again after (a secret split by markup is whole once the markup is gone).
        var text =
            secrets.isEmpty ? decodedText(body.prefix(maximumScannedBytes)) : scrub(bytes: body, secrets: secrets)
        text = dropMarkup(text)
        text = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        if !secrets.isEmpty { text = scrub(bytes: Array(text.utf8), secrets: secrets) }
        return cut(text, to: limit)
    }

    /// A server's error message as an error keeps it: scrubbed, and cut (with `…`) after
    /// `maximumMessageLength` characters.
    public static func message(_ text: String, secrets: [String]) -> String {
        cut(scrub(text, secrets: secrets), to: maximumMessageLength)
    }

    /// A short field of a server's answer (error code, request id): scrubbed, and cut after
    /// `maximumFieldLength` characters.
    public static func field(_ text: String, secrets: [String]) -> String {
        cut(scrub(text, secrets: secrets), to: maximumFieldLength)
    }

    /// The longest server message an error keeps (characters); AWS's are a line or two.
    public static let maximumMessageLength = 1024
    /// The longest error code or request id an error keeps (characters).
    public static let maximumFieldLength = 128

    private static func cut(_ text: String, to limit: Int) -> String {
        // Most texts are far shorter in bytes than the limit in characters: no character walk.
        guard text.utf8.count > limit, text.count > limit else { return text }
        return String(text.prefix(limit)) + "…"
    }

    /// The longest piece of a body an error shows (characters).
    public static let snippetLength = 200

    // MARK: - Internals

    /// Secrets as folded scalars (see `fold`), the too-short ones dropped.
    private static func prepared(_ secrets: [String]) -> [[UInt32]] {
        var result: [[UInt32]] = []
        for secret in secrets where secret.utf8.count >= minimumSecretLength {
            let folded = collapse(secret.precomposedStringWithCanonicalMapping.unicodeScalars.map { fold($0.value) })
            if folded.count >= minimumSecretLength { result.append(folded) }
        }
        return result
    }

    /// One character of the text being searched, with the byte range of the original it came from.
    struct Unit {
        var scalar: UInt32
        var start: Int
        var end: Int
    }

    static func scrub(bytes: [UInt8], secrets: [[UInt32]]) -> String {
        let truncated = bytes.count > maximumScannedBytes
        let bytes = truncated ? Array(bytes.prefix(maximumScannedBytes)) : bytes
        var layer = decode(
            bytes.enumerated().map { Unit(scalar: UInt32($0.element), start: $0.offset, end: $0.offset + 1) })
        var found: [Range<Int>] = []
        for depth in 0...decodingLayers {
            if depth > 0 {
                guard let next = decodeReferences(layer) else { break }
                layer = next
            }
            let folded = collapsedUnits(layer)
            for secret in secrets { matches(of: secret, in: folded, into: &found) }
        }
        var text = found.isEmpty ? decodedText(bytes[...]) : replacing(found, in: bytes)
        if truncated { text += "…" }
        return text
    }

    /// Bytes as text: UTF-8, or Latin-1 for bytes that are not (a Latin-1 server's answer).
    static func decodedText(_ bytes: ArraySlice<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for unit in decode(
            bytes.enumerated().map { Unit(scalar: UInt32($0.element), start: $0.offset, end: $0.offset + 1) })
        {
            scalars.append(Unicode.Scalar(unit.scalar) ?? "\u{FFFD}")
        }
        return String(scalars)
    }

    private static func replacing(_ ranges: [Range<Int>], in bytes: [UInt8]) -> String {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        var text = ""
        var position = 0
        for range in merged {
            text += decodedText(bytes[position..<range.lowerBound])
            text += placeholder
            position = range.upperBound
        }
        text += decodedText(bytes[position...])
        return text
    }

    /// Byte-valued units (below 0x100) read as UTF-8 sequences where they form one, else each
    /// as a Latin-1 character; other units pass through.
    static func decode(_ units: [Unit]) -> [Unit] {
        var result: [Unit] = []
        result.reserveCapacity(units.count)
        var i = 0
        while i < units.count {
            let lead = units[i].scalar
            let length: Int
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 1
            }
            if length > 1, i + length <= units.count,
                let scalar = utf8Scalar(units[i..<(i + length)].map(\.scalar))
            {
                result.append(Unit(scalar: scalar, start: units[i].start, end: units[i + length - 1].end))
                i += length
            } else {
                result.append(units[i])
                i += 1
            }
        }
        return result
    }

    private static func utf8Scalar(_ bytes: [UInt32]) -> UInt32? {
        guard bytes.allSatisfy({ $0 < 0x100 }) else { return nil }
        var decoder = UTF8()
        var iterator = bytes.map { UInt8($0) }.makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator), iterator.next() == nil else { return nil }
        return scalar.value
    }

    /// One layer of `%HH` escapes and `&...;` references decoded; nil when there was none.
    static func decodeReferences(_ units: [Unit]) -> [Unit]? {
        var result: [Unit] = []
        result.reserveCapacity(units.count)
        var changed = false
        var i = 0
        while i < units.count {
            let scalar = units[i].scalar
            if escapedByte(in: units, at: i) != nil {
                // A run of escapes is decoded together: its bytes may be one UTF-8 character.
                var run: [Unit] = []
                while let byte = escapedByte(in: units, at: i) {
                    run.append(Unit(scalar: byte, start: units[i].start, end: units[i + 2].end))
                    i += 3
                }
                result += decode(run)
                changed = true
                continue
            }
            if scalar == 0x26, let (value, length) = reference(in: units, at: i) {
                result.append(Unit(scalar: value, start: units[i].start, end: units[i + length - 1].end))
                i += length
                changed = true
                continue
            }
            result.append(units[i])
            i += 1
        }
        return changed ? result : nil
    }

    /// The byte a `%HH` escape at `i` stands for.
    private static func escapedByte(in units: [Unit], at i: Int) -> UInt32? {
        guard i + 2 < units.count, units[i].scalar == 0x25, let high = hexValue(units[i + 1].scalar),
            let low = hexValue(units[i + 2].scalar)
        else { return nil }
        return high * 16 + low
    }

    private static func hexValue(_ scalar: UInt32) -> UInt32? {
        switch scalar {
        case 0x30...0x39: return scalar - 0x30
        case 0x41...0x46: return scalar - 0x41 + 10
        case 0x61...0x66: return scalar - 0x61 + 10
        default: return nil
        }
    }

    /// A character reference starting at `&` (`units[start]`): its value and length in units.
    private static func reference(in units: [Unit], at start: Int) -> (UInt32, Int)? {
        var name = ""
        var i = start + 1
        while i < units.count, i - start <= 10 {
            let scalar = units[i].scalar
            if scalar == 0x3B {
                guard let value = referenceValue(name) else { return nil }
                return (value, i - start + 1)
            }
            guard scalar < 0x80, let character = Unicode.Scalar(scalar),
                character.properties.isASCIIHexDigit || (0x41...0x5A).contains(scalar) || (0x61...0x7A).contains(scalar)
                    || (0x30...0x39).contains(scalar) || scalar == 0x23
            else { return nil }
            name.unicodeScalars.append(character)
            i += 1
        }
        return nil
    }

    private static func referenceValue(_ name: String) -> UInt32? {
        if name.hasPrefix("#") {
            var digits = name.dropFirst()
            var radix = 10
            if digits.first == "x" || digits.first == "X" {
                radix = 16
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty, let value = UInt32(digits, radix: radix), Unicode.Scalar(value) != nil else {
                return nil
            }
            return value
        }
        switch name {
        case "amp": return 0x26
        case "lt": return 0x3C
        case "gt": return 0x3E
        case "quot": return 0x22
        case "apos": return 0x27
        default: return latin1Names.firstIndex(of: name).map { UInt32(0xA0 + $0) }
        }
    }

    /// HTML's names for U+00A0 to U+00FF, in order.
    private static let latin1Names: [String] = [
        "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not",
        "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1",
        "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml",
        "Aring", "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH",
        "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc",
        "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
        "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute",
        "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
    ]

    /// `+`, tab, CR, LF and no-break space read as a space.
    private static func fold(_ scalar: UInt32) -> UInt32 {
        switch scalar {
        case 0x2B, 0x09, 0x0A, 0x0D, 0xA0: return 0x20
        default: return scalar
        }
    }

    private static func collapse(_ scalars: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        for scalar in scalars where !(scalar == 0x20 && result.last == 0x20) { result.append(scalar) }
        return result
    }

    /// Units folded, with each run of spaces one unit covering the whole run.
    private static func collapsedUnits(_ units: [Unit]) -> [Unit] {
        var result: [Unit] = []
        result.reserveCapacity(units.count)
        for var unit in units {
            unit.scalar = fold(unit.scalar)
            if unit.scalar == 0x20, let last = result.last, last.scalar == 0x20 {
                result[result.count - 1].end = unit.end
            } else {
                result.append(unit)
            }
        }
        return result
    }

    /// Adds the original byte ranges of every occurrence of `secret`, and of each prefix or
    /// suffix of it at least `minimumFragmentLength` long, in `units`.
    private static func matches(of secret: [UInt32], in units: [Unit], into found: inout [Range<Int>]) {
        let needed = min(minimumFragmentLength, secret.count)
        guard units.count >= needed else { return }
        for i in 0..<units.count where units[i].scalar == secret[0] {
            var length = 0
            while length < secret.count, i + length < units.count, units[i + length].scalar == secret[length] {
                length += 1
            }
            if length >= needed { found.append(units[i].start..<units[i + length - 1].end) }
        }
        let last = secret[secret.count - 1]
        for end in 1...units.count where units[end - 1].scalar == last {
            var length = 0
            while length < secret.count, length < end,
                units[end - 1 - length].scalar == secret[secret.count - 1 - length]
            {
                length += 1
            }
            if length >= needed { found.append(units[end - length].start..<units[end - 1].end) }
        }
    }

    /// Text with `<...>` tags replaced by a space, so an HTML page reads as its words. A `<`
    /// with no `>` after it, and the redaction placeholder, stay.
    private static func dropMarkup(_ text: String) -> String {
        let characters = Array(text)
        let marker = Array(placeholder)
        var result = ""
        var i = 0
        while i < characters.count {
            if characters[i] == "<", !characters[i...].starts(with: marker),
                let close = characters[(i + 1)...].firstIndex(of: ">")
            {
                result.append(" ")
                i = close + 1
            } else {
                result.append(characters[i])
                i += 1
            }
        }
        return result
    }
}
