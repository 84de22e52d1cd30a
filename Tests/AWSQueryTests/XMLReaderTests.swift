import Foundation
import TestSupport
import Testing

@testable import AWSQuery

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The reference: the same tree built with Foundation's XMLParser (libxml2), as the client did
/// before it had its own reader.
private func foundationTree(_ bytes: [UInt8]) -> XMLTree? {
    final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?
        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            stack.append(XMLTree(name: elementName.split(separator: ":").last.map(String.init) ?? elementName))
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !stack.isEmpty { stack[stack.count - 1].text += string }
        }
        func parser(_ parser: XMLParser, foundCDATA cdataBlock: Data) {
            if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: cdataBlock, as: UTF8.self) }
        }
        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            guard var node = stack.popLast() else { return }
            if !node.children.isEmpty {
                node.text = node.text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n"))
            }
            if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
        }
    }
    let builder = Builder()
    let parser = XMLParser(data: Data(bytes))
    parser.shouldResolveExternalEntities = false
    parser.delegate = builder
    return parser.parse() ? builder.root : nil
}

@Suite("XML reader")
struct XMLReaderTests {
    static let awsDocuments: [String] = [
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <CreateLoginProfileResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
          <CreateLoginProfileResult>
            <LoginProfile>
              <UserName>alice</UserName>
              <CreateDate>2026-11-25T10:00:00Z</CreateDate>
              <PasswordResetRequired>true</PasswordResetRequired>
            </LoginProfile>
          </CreateLoginProfileResult>
          <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
        </CreateLoginProfileResponse>
        """,
        """
        <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>\
        <Code>NoSuchEntity</Code><Message>The user with name bob &amp; co &lt;x&gt; cannot be found.</Message>\
        </Error><RequestId>abc</RequestId></ErrorResponse>
        """,
        """
        <Response><Errors><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></Errors>\
        <RequestID>r-1</RequestID></Response>
        """,
        """
        <ListAttachedUserPoliciesResponse><ListAttachedUserPoliciesResult><AttachedPolicies>
        <member><PolicyArn>arn:aws:iam::aws:policy/IAMUserChangePassword</PolicyArn>\
        <PolicyName>IAMUserChangePassword</PolicyName></member>
        <member><PolicyName>Other</PolicyName><PolicyArn>arn:aws:iam::123:policy/a-b_c</PolicyArn></member>
        </AttachedPolicies><IsTruncated>false</IsTruncated></ListAttachedUserPoliciesResult>
        <!-- a comment --><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
        </ListAttachedUserPoliciesResponse>
        """,
        "<a:Root xmlns:a='urn:x' b = \"1\"><a:Child/><Empty></Empty><T>  spaced  </T></a:Root>",
        "<R><T>caf\u{E9} &#233; &#xE9; &quot;q&quot; &apos;a&apos; ]]&gt;</T><![CDATA[<raw & text>]]></R>",
        "\u{FEFF}<R>\n<?pi data?>\n<S>mixed<U>in</U>text</S>\n</R>\n<!-- trailing -->\n",
    ]

    @Test("AWS-shaped documents read the same as with Foundation's XMLParser", arguments: awsDocuments)
    func matchesFoundation(document: String) throws {
        let bytes = Array(document.utf8)
        let ours = try XMLTree.parse(bytes)
        let reference = try #require(foundationTree(bytes))
        #expect(ours == reference)
    }

    @Test("names lose their prefix; text is kept, and trimmed only around children")
    func shape() throws {
        let tree = try XMLTree.parse(Array(XMLReaderTests.awsDocuments[4].utf8))
        #expect(tree.name == "Root")
        #expect(tree.children.map(\.name) == ["Child", "Empty", "T"])
        #expect(tree.string("T") == "  spaced  ")
        let error = try XMLTree.parse(Array(XMLReaderTests.awsDocuments[1].utf8))
        #expect(error.first("Message")?.text == "The user with name bob & co <x> cannot be found.")
        let mixed = try XMLTree.parse(Array(XMLReaderTests.awsDocuments[6].utf8))
        #expect(mixed.string("S") == "mixedtext")
    }

    @Test("random well-formed documents read the same as with Foundation's XMLParser")
    func randomDocuments() throws {
        var rng = SplitMix64(seed: 7)
        let texts = ["", " ", "a", "x y", "&amp;", "&lt;tag&gt;", "&#65;", "\u{E9}\u{4E2D}", "\n  \n", "1 > 0"]
        func element(_ depth: Int) -> String {
            let name = ["A", "b", "ns:C", "member", "Long_Name-1.x"][Int.random(in: 0..<5, using: &rng)]
            if depth > 3 || Bool.random(using: &rng) {
                return "<\(name)>\(texts[Int.random(in: 0..<texts.count, using: &rng)])</\(name)>"
            }
            var inner = ""
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                inner += texts[Int.random(in: 0..<texts.count, using: &rng)] + element(depth + 1)
            }
            return Bool.random(using: &rng) && inner.isEmpty ? "<\(name)/>" : "<\(name) k=\"v\">\(inner)</\(name)>"
        }
        for _ in 0..<300 {
            let document = element(0)
            let bytes = Array(document.utf8)
            let reference = try #require(foundationTree(bytes), "\(document)")
            #expect(try XMLTree.parse(bytes) == reference, "\(document)")
        }
    }

    @Test(
        "malformed documents are refused with a position and a reason",
        arguments: [
            ("<a><b></a>", "does not match"),
            ("<a>", "not closed"),
            ("</a>", "without a start tag"),
            ("<a></a><b></b>", "second root"),
            ("text<a/>", "text before"),
            ("<a/>text", "text after"),
            ("<a>&nope;</a>", "unknown entity"),
            ("<a>AT&T</a>", "'&'"),
            ("<a>&#xZZ;</a>", "character reference"),
            ("<a>&#0;</a>", "character reference"),
            ("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "DOCTYPE"),
            ("<a b></a>", "'='"),
            ("<a b=c></a>", "quoted"),
            ("<a b=\"<\"></a>", "'<'"),
            ("<a><!-- open</a>", "comment"),
            ("<a><![CDATA[x</a>", "CDATA"),
            ("<?xml version='1.0'", "processing instruction"),
            ("<a", "unterminated tag"),
            ("< a/>", "tag name"),
            ("<1a/>", "tag name"),
        ])
    func malformed(document: String, reason: String) {
        #expect {
            _ = try XMLTree.parse(Array(document.utf8))
        } throws: { error in
            guard case .malformed(let line, let column, let message) = error as? XMLTree.ParseError else {
                return false
            }
            return line >= 1 && column >= 1 && message.contains(reason)
        }
    }

    @Test("an empty or blank document is `empty`; error positions count lines and columns")
    func emptyAndPositions() {
        #expect(throws: XMLTree.ParseError.empty) { try XMLTree.parse([]) }
        #expect(throws: XMLTree.ParseError.empty) { try XMLTree.parse(Array("  \n <!-- c --> ".utf8)) }
        #expect {
            try XMLTree.parse(Array("<a>\n  <b>\n  </c>\n</a>".utf8))
        } throws: { error in
            guard case .malformed(let line, let column, _) = error as? XMLTree.ParseError else { return false }
            return line == 3 && column == 3
        }
    }

    @Test("an HTML error page is not XML that the client could mistake for an answer")
    func htmlPage() {
        let page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
        #expect(throws: XMLTree.ParseError.self) { try XMLTree.parse(Array(page.utf8)) }
        #expect(throws: XMLTree.ParseError.self) { try XMLTree.parse(Array("<html><br></html>".utf8)) }
    }
}
