import CSVStream
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// A CSV file only its owner may read, written as a run goes: created new with mode 0600 (an
/// existing file is refused, except when resuming, which appends to it if it is still 0600), a
/// header row first, and each row flushed as soon as it is written. `--generate-passwords` and
/// `--emit-restore` write through it.
///
/// `@unchecked Sendable`: `CSVWriter` is not `Sendable`, so no lock box can hold it checked.
/// Safe because `writer` is a constant used only under `lock` and never leaves this class.
public final class PrivateCSVFile: @unchecked Sendable {
    public let path: String
    private let lock = NIOLock()
    private let writer: CSVWriter
    /// True when this run created the file (not appending to one from an earlier run).
    public let createdNew: Bool
    /// Rows written after the header (guarded by `lock`).
    private var rowsWritten = 0

    public struct OpenError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - option: the option that named the file, for error messages (`--generate-passwords`).
    ///   - what: what the file holds, for the refusal to overwrite one (`a password file`).
    ///   - appending: continue an existing file (for `--resume`); it must be mode 0600.
    public init(path: String, header: [String], option: String, what: String, appending: Bool) throws {
        self.path = path
        var info = stat()
        let exists = stat(path, &info) == 0
        if exists && !appending {
            throw OpenError(
                description:
                    "\(option): \(path) already exists; refusing to overwrite \(what) (move it away, or use --resume to continue that run)"
            )
        }
        if exists {
            guard info.st_mode & 0o077 == 0 else {
                throw OpenError(
                    description:
                        "\(option): \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); expected 0600"
                )
            }
        } else {
            // Exclusive create with 0600 before anything is written: no window where it is readable.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw OpenError(description: "\(option): cannot create \(path): \(String(cString: strerror(errno)))")
            }
            fchmod(fd, 0o600)
            _ = Glibc.close(fd)
        }
        createdNew = !exists
        do {
            writer = try CSVWriter(.path(path, .append))
            if !exists || info.st_size == 0 {
                try writer.write(header)
                try writer.flush()
            }
        } catch {
            throw OpenError(description: "\(option): cannot write \(path): \(error)")
        }
    }

    /// Appends one row and flushes it.
    public func write(_ fields: [String]) throws {
        try lock.withLock {
            try writer.write(fields)
            try writer.flush()
            rowsWritten += 1
        }
    }

    public func close() {
        lock.withLock { try? writer.close() }
    }

    /// Closes the file and, when this run created it and wrote no row, removes it (so that the
    /// same command can run again after a run that changed nothing, such as a refused one).
    /// Returns true when it was removed.
    public func closeRemovingIfEmpty() -> Bool {
        lock.withLock {
            try? writer.close()
            guard createdNew && rowsWritten == 0 else { return false }
            return unlink(path) == 0
        }
    }
}

/// `--generate-passwords FILE`: the generated passwords, as `user,password,line` rows (and
/// `account` in a multi-account run), each written once IAM has set it.
public struct PasswordFile: Sendable {
    let file: PrivateCSVFile
    /// Whether rows carry their account (a multi-account run).
    let byAccount: Bool
    public var path: String { file.path }

    /// - Parameter appending: continue an existing file (for `--resume`); it must be mode 0600.
    public init(path: String, appending: Bool, byAccount: Bool = false) throws {
        self.byAccount = byAccount
        file = try PrivateCSVFile(
            path: path, header: ["user", "password", "line"] + (byAccount ? ["account"] : []),
            option: "--generate-passwords", what: "a password file", appending: appending)
    }

    /// Appends one row and flushes it.
    public func write(user: String, password: Password, line: Int, account: String? = nil) throws {
        try file.write([user, password.revealed, String(line)] + (byAccount ? [account ?? ""] : []))
    }

    public func close() { file.close() }
}

/// `--emit-restore FILE`: a batch file that undoes exactly what this run's disable rows changed,
/// a `restore` row per user as each row finishes (`user,action,password,credentials`, and
/// `account` in a multi-account run, so `batch` restores each user in its own account; the
/// password is left empty: give one, or run it with `--generate-passwords`).
public struct RestoreFile: Sendable {
    let file: PrivateCSVFile
    /// Whether rows carry their account (a multi-account run).
    let byAccount: Bool
    public var path: String { file.path }

    public init(path: String, appending: Bool, byAccount: Bool = false) throws {
        self.byAccount = byAccount
        file = try PrivateCSVFile(
            path: path, header: ["user", "action", "password", "credentials"] + (byAccount ? ["account"] : []),
            option: "--emit-restore", what: "a restore file", appending: appending)
    }

    /// Writes the row that undoes `outcome`, if it changed anything; flushed at once.
    public func record(_ outcome: Outcome, account: String? = nil) throws {
        guard let list = RestoreList(undoing: outcome) else { return }
        try file.write(
            [outcome.user, ConsoleAction.restore.rawValue, "", list.description] + (byAccount ? [account ?? ""] : []))
    }

    /// Closes the file; one this run created with nothing to undo is removed (true).
    public func close() -> Bool { file.closeRemovingIfEmpty() }
}
