@_spi(Fuzzing) import AWSQuery
import Foundation
import FuzzSupport

/// Fuzzes the credential report's streamed path: the first byte picks the chunk size (1-64), the
/// rest is the `GetCredentialReport` body the server sends (the `<Content>` element found across
/// chunk borders, its base64 decoded into a temporary file within a limit, the rest kept).
enum FuzzReport {
    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        _ = CredentialReportFuzzing.run(Array(bytes.dropFirst()), chunk: Int(first % 64) + 1)
    }
}

#if FUZZING
    @_cdecl("fuzz_report_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        FuzzDriver.run(argc, argv) { FuzzReport.run($0) }
    }
#else
    @main enum Replay {
        static func main() {
            exit(FuzzReplay.run(arguments: Array(CommandLine.arguments.dropFirst()), FuzzReport.run))
        }
    }
#endif
