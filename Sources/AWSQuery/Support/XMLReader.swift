/// Reads an XML document into an `XMLTree`, on bytes.
///
/// Enough XML for AWS Query answers, strictly: elements (namespace prefixes dropped, end tags
/// must match), attributes (checked, not kept), character data with the five predefined entities
/// and character references, CDATA sections, comments and processing instructions. A DOCTYPE or
/// any other `<!` declaration is refused, so no entity can expand and nothing external is read.
/// Anything else that is not well-formed is an error with its line and column.
///
/// It works with an explicit stack, never recursion, and refuses documents nested deeper than
/// `XMLTree.maximumDepth` or with more than `XMLTree.maximumElementCount` elements, so no
/// answer can exhaust the stack (the tree is walked and freed recursively) or build a tree much
/// larger than its bytes. Text is kept as read (entities only shrink it), so the body size limit
/// bounds it.
///
/// It reads the answer's array, bounds-checked: an unsafe buffer was faster on parsing alone but
/// not measurably on a batch (BENCHMARKS.md, "Unsafe code: what the measurements keep").
struct XMLReader {
    private let bytes: [UInt8]
    private var index = 0
    private var elementCount = 0

    /// An open element. Its text is kept as a range of the input while it is one piece without
    /// entity references (the usual case), and copied out only when it is not.
    private struct Frame {
        var start: Int
        var nameRange: Range<Int>
        var single: Range<Int>? = nil
        var text: [UInt8]? = nil
        var hasNonSpace = false
        var children: [XMLTree] = []
    }

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func document() throws(XMLTree.ParseError) -> XMLTree {
        if hasPrefix([0xEF, 0xBB, 0xBF]) { index = 3 }
        var stack: [Frame] = []
        stack.reserveCapacity(8)
        var root: XMLTree?
        while index < bytes.count {
            guard bytes[index] == Self.lt else {
                let start = index
                let end = find(Self.lt, from: index) ?? bytes.count
                if stack.isEmpty {
                    for i in start..<end where !Self.isSpace(bytes[i]) {
                        throw error(at: i, root == nil ? "text before the root element" : "text after the root element")
                    }
                } else {
                    try addText(start..<end, to: &stack[stack.count - 1])
                }
                index = end
                continue
            }
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            switch next {
            case UInt8(ascii: "?"):
                guard let end = find([UInt8(ascii: "?"), Self.gt], from: index + 2) else {
                    throw error(at: index, "unterminated processing instruction")
                }
                index = end + 2
            case UInt8(ascii: "!"):
                if hasPrefix(Self.commentOpen) {
                    guard let end = find(Self.commentClose, from: index + 4) else {
                        throw error(at: index, "unterminated comment")
                    }
                    index = end + 3
                } else if hasPrefix(Self.cdataOpen) {
                    guard !stack.isEmpty else { throw error(at: index, "CDATA outside the root element") }
                    let start = index + Self.cdataOpen.count
                    guard let end = find(Self.cdataClose, from: start) else {
                        throw error(at: index, "unterminated CDATA section")
                    }
                    addCDATA(start..<end, to: &stack[stack.count - 1])
                    index = end + 3
                } else {
                    throw error(at: index, "DOCTYPE and other declarations are not accepted")
                }
            case UInt8(ascii: "/"):
                let tagStart = index
                index += 2
                let name = try readName()
                skipSpace()
                guard index < bytes.count, bytes[index] == Self.gt else {
                    throw error(at: index, "expected '>' to end the end tag")
                }
                index += 1
                guard let frame = stack.popLast() else {
                    throw error(at: tagStart, "end tag </\(string(name))> without a start tag")
                }
                guard bytes[frame.nameRange].elementsEqual(bytes[name]) else {
                    throw error(
                        at: tagStart, "end tag </\(string(name))> does not match <\(string(frame.nameRange))>")
                }
                let node = finish(frame)
                if stack.isEmpty { root = node } else { Self.append(node, to: &stack[stack.count - 1]) }
            default:
                let tagStart = index
                guard root == nil || !stack.isEmpty else { throw error(at: index, "a second root element") }
                guard stack.count < XMLTree.maximumDepth else {
                    throw .tooDeep(limit: XMLTree.maximumDepth)
                }
                elementCount += 1
                guard elementCount <= XMLTree.maximumElementCount else {
                    throw .tooManyElements(limit: XMLTree.maximumElementCount)
                }
                index += 1
                let name = try readName()
                let selfClosing = try readAttributes()
                let frame = Frame(start: tagStart, nameRange: name)
                if selfClosing {
                    let node = finish(frame)
                    if stack.isEmpty { root = node } else { Self.append(node, to: &stack[stack.count - 1]) }
                } else {
                    stack.append(frame)
                }
            }
        }
        if let open = stack.last {
            throw error(at: open.start, "element <\(string(open.nameRange))> is not closed")
        }
        guard let root else { throw .empty }
        return root
    }

    // MARK: - Pieces

    private static func append(_ child: XMLTree, to frame: inout Frame) {
        if frame.children.isEmpty { frame.children.reserveCapacity(4) }
        frame.children.append(child)
    }

    /// Adds a piece of character data to an open element.
    private func addText(_ range: Range<Int>, to frame: inout Frame) throws(XMLTree.ParseError) {
        let piece = bytes[range]
        let nonSpace = piece.contains { !Self.isSpace($0) }
        // White space after a child, with no other text yet, is trimmed away at the end anyway
        // (the text of an element with children is trimmed): nothing to keep.
        if !nonSpace && !frame.hasNonSpace && !frame.children.isEmpty { return }
        if nonSpace { frame.hasNonSpace = true }
        if frame.text == nil && frame.single == nil && !piece.contains(UInt8(ascii: "&")) {
            frame.single = range
            return
        }
        var text = takeText(&frame)
        try appendText(range, to: &text)
        frame.text = text
    }

    /// Adds a CDATA section's content, as it stands, to an open element.
    private func addCDATA(_ range: Range<Int>, to frame: inout Frame) {
        var text = takeText(&frame)
        text.append(contentsOf: bytes[range])
        frame.text = text
        frame.hasNonSpace = frame.hasNonSpace || bytes[range].contains { !Self.isSpace($0) }
    }

    /// The element's text so far as its own bytes, to add to (it is taken out of the frame).
    private func takeText(_ frame: inout Frame) -> [UInt8] {
        defer {
            frame.single = nil
            frame.text = nil
        }
        return frame.text ?? frame.single.map { Array(bytes[$0]) } ?? []
    }

    private func finish(_ frame: Frame) -> XMLTree {
        let qualified = bytes[frame.nameRange]
        let local = qualified.lastIndex(of: UInt8(ascii: ":")).map { qualified[($0 + 1)...] } ?? qualified
        let name = Self.interned(local) ?? String(decoding: local, as: UTF8.self)
        let trim = !frame.children.isEmpty
        let text: String
        if let owned = frame.text {
            text = Self.string(owned[...], trimmed: trim)
        } else if let single = frame.single {
            text = Self.string(bytes[single], trimmed: trim)
        } else {
            text = ""
        }
        return XMLTree(name: name, text: text, children: frame.children)
    }

    private static func string(_ slice: ArraySlice<UInt8>, trimmed: Bool) -> String {
        var slice = slice
        if trimmed {
            while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
            while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        }
        return String(decoding: slice, as: UTF8.self)
    }

    /// A tag name: up to white space, `/` or `>`.
    private mutating func readName() throws(XMLTree.ParseError) -> Range<Int> {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isSpace(byte) || byte == UInt8(ascii: "/") || byte == Self.gt { break }
            if byte == Self.lt || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "\"")
                || byte == UInt8(ascii: "'")
            {
                throw error(at: index, "unexpected '\(Character(Unicode.Scalar(byte)))' in a tag name")
            }
            index += 1
        }
        guard index > start else { throw error(at: start, "missing tag name") }
        guard index < bytes.count else { throw error(at: start, "unterminated tag") }
        let first = bytes[start]
        if first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || (first >= 0x30 && first <= 0x39) {
            throw error(at: start, "a tag name cannot start with '\(Character(Unicode.Scalar(first)))'")
        }
        return start..<index
    }

    /// Skips `name="value"` pairs up to `>` or `/>`; returns whether the tag closed itself.
    private mutating func readAttributes() throws(XMLTree.ParseError) -> Bool {
        while true {
            let hadSpace = skipSpace()
            guard index < bytes.count else { throw error(at: index, "unterminated tag") }
            let byte = bytes[index]
            if byte == Self.gt {
                index += 1
                return false
            }
            if byte == UInt8(ascii: "/") {
                guard index + 1 < bytes.count, bytes[index + 1] == Self.gt else {
                    throw error(at: index, "expected '/>'")
                }
                index += 2
                return true
            }
            guard hadSpace else { throw error(at: index, "expected white space before an attribute") }
            let nameStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "="), !Self.isSpace(bytes[index]),
                bytes[index] != Self.gt, bytes[index] != Self.lt
            {
                index += 1
            }
            guard index > nameStart else { throw error(at: index, "missing attribute name") }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw error(at: index, "expected '=' after an attribute name")
            }
            index += 1
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw error(at: index, "expected a quoted attribute value")
            }
            let quote = bytes[index]
            let valueStart = index + 1
            guard let end = find(quote, from: valueStart) else {
                throw error(at: index, "unterminated attribute value")
            }
            if let lt = bytes[valueStart..<end].firstIndex(of: Self.lt) {
                throw error(at: lt, "'<' in an attribute value")
            }
            var ignored: [UInt8] = []
            try appendText(valueStart..<end, to: &ignored)
            index = end + 1
        }
    }

    /// Character data with entity and character references decoded.
    private func appendText(_ range: Range<Int>, to text: inout [UInt8]) throws(XMLTree.ParseError) {
        var i = range.lowerBound
        while i < range.upperBound {
            guard let amp = bytes[i..<range.upperBound].firstIndex(of: UInt8(ascii: "&")) else {
                text.append(contentsOf: bytes[i..<range.upperBound])
                return
            }
            text.append(contentsOf: bytes[i..<amp])
            guard let semicolon = bytes[amp..<min(range.upperBound, amp + 12)].firstIndex(of: UInt8(ascii: ";"))
            else {
                throw error(at: amp, "'&' that starts no entity reference")
            }
            let entity = bytes[(amp + 1)..<semicolon]
            if entity.first == UInt8(ascii: "#") {
                var digits = entity.dropFirst()
                var radix = 10
                if digits.first == UInt8(ascii: "x") {
                    radix = 16
                    digits = digits.dropFirst()
                }
                guard !digits.isEmpty,
                    let value = UInt32(
                        String(decoding: digits, as: UTF8.self), radix: radix),
                    let scalar = Unicode.Scalar(value), value != 0
                else {
                    throw error(at: amp, "invalid character reference")
                }
                text.append(contentsOf: String(Character(scalar)).utf8)
            } else {
                switch String(decoding: entity, as: UTF8.self) {
                case "lt": text.append(Self.lt)
                case "gt": text.append(Self.gt)
                case "amp": text.append(UInt8(ascii: "&"))
                case "quot": text.append(UInt8(ascii: "\""))
                case "apos": text.append(UInt8(ascii: "'"))
                default: throw error(at: amp, "unknown entity '&\(string(amp + 1..<semicolon));'")
                }
            }
            i = semicolon + 1
        }
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = index
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        return index > start
    }

    private func hasPrefix(_ prefix: [UInt8]) -> Bool {
        index + prefix.count <= bytes.count && bytes[index..<(index + prefix.count)].elementsEqual(prefix)
    }

    private func find(_ byte: UInt8, from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        return bytes[start...].firstIndex(of: byte)
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        return bytes[start...].firstRange(of: needle)?.lowerBound
    }

    /// A name from the input, for an error message: at most `XMLTree.maximumQuotedName` bytes.
    private func string(_ range: Range<Int>) -> String {
        let shown = range.count > XMLTree.maximumQuotedName ? range.prefix(XMLTree.maximumQuotedName) : range[...]
        let text = String(decoding: bytes[shown], as: UTF8.self)
        return shown.count < range.count ? text + "…" : text
    }

    private func error(at offset: Int, _ reason: String) -> XMLTree.ParseError {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == 10 {
            line += 1
            lineStart = i + 1
        }
        return .malformed(line: line, column: offset - lineStart + 1, reason: reason)
    }

    /// Element names of the answers a batch reads most, longer than a small string holds: the
    /// same String is handed out each time instead of a new one.
    private static let internedNames: [Int: [(bytes: [UInt8], name: String)]] = {
        let names = [
            "CreateLoginProfileResponse", "CreateLoginProfileResult", "UpdateLoginProfileResponse",
            "DeleteLoginProfileResponse", "GetLoginProfileResponse", "GetLoginProfileResult",
            "AttachUserPolicyResponse", "ListAttachedUserPoliciesResponse", "ListAttachedUserPoliciesResult",
            "ResponseMetadata", "PasswordResetRequired", "AttachedPolicies", "GetCallerIdentityResponse",
            "GetCallerIdentityResult", "UpdateAccessKeyResponse", "ListAccessKeysResponse", "ListAccessKeysResult",
            "AccessKeyMetadata",
        ]
        return Dictionary(grouping: names.map { (bytes: Array($0.utf8), name: $0) }, by: { $0.bytes.count })
    }()

    private static func interned(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.count > 15, let candidates = internedNames[bytes.count] else { return nil }
        return candidates.first { $0.bytes.elementsEqual(bytes) }?.name
    }

    private static let lt = UInt8(ascii: "<")
    private static let gt = UInt8(ascii: ">")
    private static let commentOpen = Array("<!--".utf8)
    private static let commentClose = Array("-->".utf8)
    private static let cdataOpen = Array("<![CDATA[".utf8)
    private static let cdataClose = Array("]]>".utf8)

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 9 || byte == 10 || byte == 13
    }
}
