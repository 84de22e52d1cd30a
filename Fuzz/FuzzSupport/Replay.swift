import Foundation

/// The fuzz targets' driver outside libFuzzer: each target is an ordinary executable in a normal
/// build that runs its input function over the files (or folders of files) named on the command
/// line, so a corpus or a crash input can be replayed without the sanitizers:
///
///     swift run fuzz-xml Fuzz/corpus/xml
///
/// Built with `-D FUZZING -sanitize=fuzzer,address` (`make fuzz`), the same target instead
/// exports `LLVMFuzzerTestOneInput` and libFuzzer provides `main`.
public enum FuzzReplay {
    public static func run(arguments: [String], _ body: ([UInt8]) -> Void) -> Int32 {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: fuzz-TARGET FILE_OR_FOLDER...\n".utf8))
            return 2
        }
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    return 1
                }
                body(Array(data))
                count += 1
            }
        }
        print("replayed \(count) input(s)")
        return 0
    }

    /// The files of a folder (sorted, hidden ones skipped), or the path itself.
    public static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }
}

#if FUZZING
    import CFuzzDriver

    /// Runs libFuzzer on `body` (see `fuzz_driver.h`: SwiftPM names an executable's entry
    /// `<module>_main`, so each target calls this from there).
    public enum FuzzDriver {
        nonisolated(unsafe) static var body: (([UInt8]) -> Void)?

        public static func run(
            _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
            _ body: @escaping ([UInt8]) -> Void
        ) -> CInt {
            // libFuzzer calls back on this thread only; the body is set once before it starts.
            Self.body = body
            var argc = argc
            var argv = argv
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                FuzzDriver.body?(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                return 0
            }
        }
    }
#endif
