import AWSQuery
import Crypto
import Foundation

/// What an output file holds: bytes in memory (the per-user review, a manifest) or a spooled
/// file (the credential-report review, whose outputs are written row by row and copied a chunk
/// at a time, so memory stays flat whatever the account's size).
public enum OutputContent: Sendable {
    case bytes([UInt8])
    case file(SpooledFile)

    /// The largest chunk read from a spooled file at once.
    static let chunkBytes = 64 * 1024

    /// Calls `body` with the content a chunk at a time.
    func forEachChunk(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        switch self {
        case .bytes(let bytes):
            try body(bytes[...])
        case .file(let file):
            let fd = open(file.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw OutputError(path: file.path, "cannot read") }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw OutputError(path: file.path, "cannot read")
                }
                if count == 0 { return }
                try body(buffer[..<count])
            }
        }
    }

    /// Writes the content to `fd` (all of it; `path` names it in errors), returning its SHA-256
    /// as lowercase hex.
    @discardableResult
    func write(to fd: Int32, path: String) throws -> String {
        var hasher = SHA256()
        try forEachChunk { chunk in
            hasher.update(data: chunk)
            try OutputContent.writeAll(chunk, to: fd, path: path)
        }
        return Self.hex(hasher.finalize())
    }

    /// The content's SHA-256 as lowercase hex.
    func sha256() throws -> String {
        var hasher = SHA256()
        try forEachChunk { hasher.update(data: $0) }
        return Self.hex(hasher.finalize())
    }

    /// A digest as lowercase hex, as manifests record it.
    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32, path: String) throws {
        if let failure = FileOutput.writeAll(bytes, to: fd) {
            throw OutputError(path: path, "cannot write", reason: String(cString: strerror(failure)))
        }
    }
}

/// An output that could not be written: the path and the system's reason.
struct OutputError: Error, CustomStringConvertible {
    let description: String
    init(path: String, _ what: String, reason: String = String(cString: strerror(errno))) {
        description = "\(what) \(path): \(reason)"
    }
}

/// The review's output files: a new file (never replacing one: `--emit-batch`), a replaced one
/// (`--output`) or standard output. Each is written beside its name, synced, then put in place,
/// so a crash never leaves half a file under the name.
enum NewFile {
    /// Writes `content` to a new file at `path`, complete or not at all, never replacing a file
    /// (written beside it, then hard-linked into place, which fails if the name is taken).
    static func write(_ content: OutputContent, to path: String) throws {
        let temporary = try besideFile(content, for: path)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            let reason = errno == EEXIST ? "it already exists (never overwritten)" : String(cString: strerror(errno))
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(reason)")
        }
    }

    /// The review to standard output (`-`) or to `--output`, replaced atomically.
    static func output(_ content: OutputContent, to output: String) throws {
        if output == "-" {
            try content.write(to: STDOUT_FILENO, path: "standard output")
        } else {
            try replace(content, at: output)
        }
    }

    /// Replaces `path` atomically (a rename), for `--output`, which may name an existing file.
    static func replace(_ content: OutputContent, at path: String) throws {
        let temporary = try besideFile(content, for: path)
        defer { unlink(temporary) }
        guard rename(temporary, path) == 0 else {
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// `content` in a new, synced file beside `path` (the mode of the file it replaces, else 0644
    /// less the umask, as any output); returns its name.
    private static func besideFile(_ content: OutputContent, for path: String) throws -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).tmp-\(getpid())"
        unlink(temporary)
        // A file being replaced keeps its permissions (a 0600 review stays 0600).
        var existing = stat()
        let mode: mode_t = stat(path, &existing) == 0 ? existing.st_mode & 0o777 : 0o644
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw EmittedBatch.EmitError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        if mode != 0o644 { fchmod(fd, mode) }
        do {
            try content.write(to: fd, path: path)
            guard fsync(fd) == 0 else { throw OutputError(path: path, "cannot sync") }
        } catch {
            unlink(temporary)
            throw EmittedBatch.EmitError(message: "\(error)")
        }
        return temporary
    }
}
