import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// `--generate-passwords FILE`: the generated passwords, as `user,password,line` rows through the
/// project's CSV writer. The file is created new with mode 0600 (an existing file is refused,
/// except when resuming, which appends), and each row is flushed as soon as its password is set.
///
/// `@unchecked Sendable`: `CSVWriter` is not `Sendable`, so no lock box can hold it checked.
/// Safe because `writer` is a constant used only under `lock` and never leaves this class.
public final class PasswordFile: @unchecked Sendable {
    public let path: String
    private let lock = NIOLock()
    private let writer: CSVWriter

    public struct OpenError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameter appending: continue an existing file (for `--resume`); it must be mode 0600.
    public init(path: String, appending: Bool) throws {
        self.path = path
        var info = stat()
        let exists = stat(path, &info) == 0
        if exists && !appending {
            throw OpenError(
                description:
                    "--generate-passwords: \(path) already exists; refusing to overwrite a password file (move it away, or use --resume to continue that run)"
            )
        }
        if exists {
            guard info.st_mode & 0o077 == 0 else {
                throw OpenError(
                    description:
                        "--generate-passwords: \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); expected 0600"
                )
            }
        } else {
            // Exclusive create with 0600 before anything is written: no window where it is readable.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw OpenError(
                    description: "--generate-passwords: cannot create \(path): \(String(cString: strerror(errno)))")
            }
            fchmod(fd, 0o600)
            _ = Glibc.close(fd)
        }
        do {
            writer = try CSVWriter(.path(path, .append))
            if !exists || info.st_size == 0 {
                try writer.write(["user", "password", "line"])
                try writer.flush()
            }
        } catch {
            throw OpenError(description: "--generate-passwords: cannot write \(path): \(error)")
        }
    }

    /// Appends one row and flushes it.
    public func write(user: String, password: Password, line: Int) throws {
        try lock.withLock {
            try writer.write([user, password.revealed, String(line)])
            try writer.flush()
        }
    }

    public func close() {
        lock.withLock { try? writer.close() }
    }
}
