@_spi(Fuzzing) import AWSQuery
import Foundation
import FuzzSupport

/// Fuzzes the HTTP response path as the client sees it: the first byte picks where the answer is
/// split between two reads, the rest is what the server sends on the connection (NIOHTTP1's
/// decoder with the client's limits and checks, then status, XML and error decoding).
enum FuzzHTTP {
    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let answer = Array(bytes.dropFirst())
        switch HTTPFuzzing.exchange(answer, split: Int(first) * answer.count / 255) {
        case .answered(let response): _ = response.result.name
        case .failed(let description): precondition(!description.isEmpty)
        case .noAnswer: break
        }
    }
}

#if FUZZING
    @_cdecl("fuzz_http_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        FuzzDriver.run(argc, argv) { FuzzHTTP.run($0) }
    }
#else
    @main enum Replay {
        static func main() {
            exit(FuzzReplay.run(arguments: Array(CommandLine.arguments.dropFirst()), FuzzHTTP.run))
        }
    }
#endif
