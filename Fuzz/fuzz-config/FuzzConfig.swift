import AWSQuery
import Foundation
import FuzzSupport

/// Fuzzes the shared config and credentials file parser (`~/.aws/config`, `~/.aws/credentials`),
/// both dialects, on any bytes (a file is read as UTF-8 with invalid sequences replaced).
enum FuzzConfig {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        for isConfigFile in [true, false] {
            let profiles = SharedConfig.parse(text, isConfigFile: isConfigFile)
            for (_, settings) in profiles {
                _ = settings["region"]
                _ = settings["role_arn"]
            }
        }
    }
}

#if FUZZING
    @_cdecl("fuzz_config_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        FuzzDriver.run(argc, argv) { FuzzConfig.run($0) }
    }
#else
    @main enum Replay {
        static func main() {
            exit(FuzzReplay.run(arguments: Array(CommandLine.arguments.dropFirst()), FuzzConfig.run))
        }
    }
#endif
