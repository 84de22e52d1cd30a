import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A minimal element tree for AWS Query responses: element names (namespace prefixes dropped),
/// text content and children. Attributes are not kept; AWS Query responses carry none we need.
public struct XMLTree: Sendable, Equatable {
    public var name: String
    public var text: String
    public var children: [XMLTree]

    public init(name: String, text: String = "", children: [XMLTree] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    /// The first direct child with this name.
    public func child(_ name: String) -> XMLTree? {
        children.first { $0.name == name }
    }

    /// Follows a path of direct children.
    public func child(path: String...) -> XMLTree? {
        var node: XMLTree? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The text of a direct child, if present.
    public func string(_ name: String) -> String? {
        child(name)?.text
    }

    /// Depth-first search for the first element with this name (self included).
    public func first(_ name: String) -> XMLTree? {
        if self.name == name { return self }
        for child in children {
            if let found = child.first(name) { return found }
        }
        return nil
    }

    /// The `<member>` children of a list element.
    public var members: [XMLTree] { children.filter { $0.name == "member" } }

    public enum ParseError: Error, Sendable, CustomStringConvertible {
        case malformed(line: Int, column: Int, reason: String)
        case empty

        public var description: String {
            switch self {
            case .malformed(let line, let column, let reason):
                return "malformed XML at line \(line), column \(column): \(reason)"
            case .empty:
                return "empty XML document"
            }
        }
    }

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8]) throws -> XMLTree {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        if !parser.parse() {
            let reason = parser.parserError.map { String(describing: $0) } ?? "parse failed"
            throw ParseError.malformed(line: parser.lineNumber, column: parser.columnNumber, reason: reason)
        }
        guard let root = delegate.root else { throw ParseError.empty }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLTree] = []
    var root: XMLTree?

    /// Without XML whitespace (space, tab, CR, LF) at either end.
    static func trimmed(_ text: String) -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
            let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(scalars[first...last])
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLTree(name: local))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA cdataBlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: cdataBlock, as: UTF8.self)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard var node = stack.popLast() else { return }
        if !node.children.isEmpty {
            node.text = Self.trimmed(node.text)
        }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }
}
