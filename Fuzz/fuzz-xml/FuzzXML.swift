import AWSQuery
import Foundation
import FuzzSupport

/// Fuzzes the XML reader as the Query client uses it: parse, then look up what an answer's
/// reader looks up (error code and message, request id, the result element, list members).
enum FuzzXML {
    static func run(_ bytes: [UInt8]) {
        guard let root = try? XMLTree.parse(bytes) else { return }
        _ = root.first("Code")?.text
        _ = root.first("Message")?.text
        _ = root.first("RequestId")?.text
        _ = root.child(path: "ResponseMetadata", "RequestId")?.text
        for child in root.children {
            _ = child.first("member")
            _ = child.string("IsTruncated")
        }
        _ = root == root
    }
}

#if FUZZING
    @_cdecl("fuzz_xml_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        FuzzDriver.run(argc, argv) { FuzzXML.run($0) }
    }
#else
    @main enum Replay {
        static func main() {
            exit(FuzzReplay.run(arguments: Array(CommandLine.arguments.dropFirst()), FuzzXML.run))
        }
    }
#endif
