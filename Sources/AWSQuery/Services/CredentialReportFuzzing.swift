/// The credential report's streamed path, for the fuzz target `fuzz-report` (`Fuzz/`): a
/// `GetCredentialReport` body, in chunks of a given size, through the filter that takes the
/// base64 `Content` out of memory and decodes it into a temporary file. Not an API for programs.
@_spi(Fuzzing) public enum CredentialReportFuzzing {
    /// What the stream made of the body.
    public enum Ending: Sendable, Equatable {
        /// The decoded report's size, and the XML kept in memory.
        case decoded(bytes: Int, kept: [UInt8])
        /// A typed error, described.
        case failed(String)
    }

    /// The limit the fuzz target decodes within (small, so it is reached).
    public static let maxBytes = 4 * 1024

    /// Feeds `body` to a fresh stream, `chunk` bytes at a time, then finishes it. Checks what must
    /// hold for every input: what is kept never exceeds what came in, and a decoded report is
    /// never over the limit.
    public static func run(_ body: [UInt8], chunk: Int) -> Ending {
        let writer: SpooledFileWriter
        do {
            writer = try SpooledFileWriter(prefix: "fuzz-report")
        } catch {
            return .failed("\(error)")
        }
        let stream = CredentialReportStream(maxBytes: maxBytes, writer: writer)
        var kept: [UInt8] = []
        let size = max(chunk, 1)
        do {
            var offset = 0
            while offset < body.count {
                let end = min(offset + size, body.count)
                try body[offset..<end].withUnsafeBytes { try stream.filter($0, status: 200, keeping: &kept) }
                offset = end
            }
            let file = try stream.finish(status: 200)
            precondition(kept.count <= body.count, "kept more than came in")
            precondition(file.byteCount <= maxBytes, "decoded past the limit")
            return .decoded(bytes: file.byteCount, kept: kept)
        } catch {
            let described = "\(stream.abandon(after: error))"
            precondition(!described.isEmpty)
            return .failed(described)
        }
    }
}
