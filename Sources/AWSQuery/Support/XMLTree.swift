/// A minimal element tree for AWS Query responses: element names (namespace prefixes dropped),
/// text content and children. Attributes are not kept; AWS Query responses carry none we need.
///
/// `parse` is a small, strict XML reader on bytes (see `XMLReader`): no Foundation, no DTDs, no
/// external entities.
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

    /// The deepest nesting a document may have (the root is depth 1). AWS Query answers nest
    /// about 6 deep; the limit keeps every recursive walk of the tree far from the stack's end.
    public static let maximumDepth = 64
    /// The most elements a document may have: a full page of 1000 users or policies is about
    /// 15,000.
    public static let maximumElementCount = 200_000
    /// How much of a tag name an error message quotes (bytes).
    static let maximumQuotedName = 40

    public enum ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        case malformed(line: Int, column: Int, reason: String)
        case empty
        /// Elements nested deeper than `XMLTree.maximumDepth`.
        case tooDeep(limit: Int)
        /// More elements than `XMLTree.maximumElementCount`.
        case tooManyElements(limit: Int)

        public var description: String {
            switch self {
            case .malformed(let line, let column, let reason):
                return "malformed XML at line \(line), column \(column): \(reason)"
            case .empty:
                return "empty XML document"
            case .tooDeep(let limit):
                return "XML nested deeper than \(limit) elements"
            case .tooManyElements(let limit):
                return "XML with more than \(limit) elements"
            }
        }
    }

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> XMLTree {
        var reader = XMLReader(bytes)
        return try reader.document()
    }
}
