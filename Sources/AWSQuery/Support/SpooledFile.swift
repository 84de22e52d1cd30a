import Foundation
import NIOConcurrencyHelpers

/// A large answer kept on disk instead of in memory (the credential report): a new file in the
/// temporary directory (`TMPDIR`, else `/tmp`), mode 0600, removed when the last reference to it
/// goes. Memory stays the same whatever its size.
public final class SpooledFile: Sendable {
    public let path: String
    /// Its size in bytes.
    public let byteCount: Int

    init(path: String, byteCount: Int) {
        self.path = path
        self.byteCount = byteCount
    }

    deinit { unlink(path) }

    /// A spooled file holding `bytes` (for answers that are small anyway, and for tests).
    public static func holding(_ bytes: [UInt8], prefix: String = "console-access") throws -> SpooledFile {
        let writer = try SpooledFileWriter(prefix: prefix)
        try writer.write(bytes[...])
        return try writer.finish()
    }

    /// Its bytes, read whole (tests and small files only).
    public func readAll() throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpoolError(message: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return [UInt8](data)
    }
}

/// Writing to a file descriptor, for the spooled files and the outputs put in place from them.
public enum FileOutput {
    /// Writes all of `bytes` to `fd` (again after an interrupted or short write); nil when done,
    /// else the `errno` of the failure.
    public static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) -> Int32? {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            // Safe: the buffer is the slice's own storage, read within its bounds.
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }
}

/// Why a spooled file could not be written or read.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Writes a new spooled file; `finish` hands it over. A writer dropped before `finish` (an
/// error, a cancelled call) removes its file. Sendable: its descriptor and counts sit behind a
/// lock, so a writer made by a task may be fed on an event loop (the credential report's
/// body filter) and finished back in the task.
public final class SpooledFileWriter: Sendable {
    public let path: String
    private struct State {
        let fd: Int32
        var byteCount = 0
        var finished = false
    }
    private let state: NIOLockedValueBox<State>

    /// The bytes written so far.
    public var byteCount: Int { state.withLockedValue { $0.byteCount } }

    /// Where spooled files go: `TMPDIR`, else `/tmp`.
    static var temporaryDirectory: String {
        ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    /// A new file in the temporary directory (`TMPDIR`, else `/tmp`).
    public convenience init(prefix: String = "console-access") throws {
        try self.init(prefix: prefix, directory: Self.temporaryDirectory)
    }

    /// A new file in `directory` (tests give their own).
    init(prefix: String, directory: String) throws {
        var template = Array("\(directory)/.\(prefix)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw SpoolError(
                message: "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        // mkstemp makes the file 0600 and fills in the name.
        self.path = String(cString: template)
        self.state = NIOLockedValueBox(State(fd: fd))
    }

    public func write(_ bytes: ArraySlice<UInt8>) throws {
        try state.withLockedValue { state in
            precondition(!state.finished, "a finished spooled file is not written to")
            if let failure = FileOutput.writeAll(bytes, to: state.fd) {
                throw SpoolError(message: "cannot write \(path): \(String(cString: strerror(failure)))")
            }
            state.byteCount += bytes.count
        }
    }

    /// Closes the file and hands it over (it is removed when the returned object goes).
    public func finish() throws -> SpooledFile {
        let (failure, byteCount) = state.withLockedValue { state in
            precondition(!state.finished, "a spooled file is finished once")
            state.finished = true
            let failure = close(state.fd) != 0 ? String(cString: strerror(errno)) : nil
            return (failure, state.byteCount)
        }
        // Made before throwing: the file goes with it.
        let file = SpooledFile(path: path, byteCount: byteCount)
        if let failure { throw SpoolError(message: "cannot write \(path): \(failure)") }
        return file
    }

    deinit {
        state.withLockedValue { state in
            guard !state.finished else { return }
            close(state.fd)
            unlink(path)
        }
    }
}
