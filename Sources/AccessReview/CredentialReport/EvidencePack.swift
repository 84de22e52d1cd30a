import ConsoleAccess
import Crypto
import Foundation

/// `--evidence DIR`: what an auditor keeps. A new directory holding the review (`review.csv`,
/// and `review.json` with `--format json`), the raw credential report as IAM sent it
/// (`credential-report.csv`), the emitted batch (`batch.csv`, when users were judged) and
/// `manifest.json`: account, caller, region and partition, the report's generation time, the
/// options, the tool version, counts, and every file's SHA-256.
///
/// Atomic: everything is written and synced in a temporary directory beside `DIR`, which is
/// then renamed to `DIR` with `RENAME_NOREPLACE` — a crash leaves no `DIR` (only a
/// `.DIR.tmp-…` to delete), and an existing `DIR` is never replaced, even one that appeared
/// during the run.
public enum EvidencePack {
    public static let toolVersion = ToolVersion.name
    public static let manifestName = "manifest.json"

    public struct File: Sendable {
        public var name: String
        public var content: OutputContent

        public init(name: String, content: OutputContent) {
            self.name = name
            self.content = content
        }

        public init(name: String, bytes: [UInt8]) {
            self.init(name: name, content: .bytes(bytes))
        }
    }

    public struct Manifest: Codable, Sendable, Equatable {
        public var toolVersion: String
        public var created: String
        public var accountId: String
        public var callerArn: String
        public var region: String
        public var partition: String
        public var source: String
        public var reportGenerated: String?
        public var reportReused: Bool
        public var options: [String: String]
        public var counts: [String: Int]
        /// File name → lowercase hex SHA-256.
        public var files: [String: String]
        /// A review across accounts: the accounts reviewed (each has `ACCOUNT/manifest.json`
        /// and `ACCOUNT/credential-report.csv` in the pack); nil for one account.
        public var accounts: [String]? = nil
        /// A review across accounts: the accounts that could not be reviewed, with why (empty
        /// when every account was); nil for one account.
        public var accountsFailed: [String: String]? = nil

        enum CodingKeys: String, CodingKey {
            case toolVersion = "tool_version"
            case created
            case accountId = "account_id"
            case callerArn = "caller_arn"
            case region, partition, source
            case reportGenerated = "report_generated"
            case reportReused = "report_reused"
            case options, counts, files, accounts
            case accountsFailed = "accounts_failed"
        }
    }

    public struct PackError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { "--evidence: \(message)" }
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        OutputContent.hex(SHA256.hash(data: bytes))
    }

    /// Writes the pack. `manifest` gets its `files` filled in here.
    public static func write(_ files: [File], manifest: Manifest, to directory: String) throws(PackError) {
        let parent = (directory as NSString).deletingLastPathComponent
        let base = (directory as NSString).lastPathComponent
        guard !base.isEmpty, base != ".", base != ".." else {
            throw PackError(message: "'\(directory)' is not a new directory name")
        }
        let temporary =
            (parent.isEmpty ? "" : parent + "/") + ".\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(temporary, 0o700) == 0 else {
            throw PackError(message: "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var manifest = manifest
        do {
            for file in files {
                if let slash = file.name.lastIndex(of: "/") {
                    let directory = temporary + "/" + file.name[..<slash]
                    if !FileManager.default.fileExists(atPath: directory) {
                        guard mkdir(directory, 0o700) == 0 else {
                            throw PackError(message: "cannot create \(directory): \(String(cString: strerror(errno)))")
                        }
                    }
                }
                manifest.files[file.name] = try writeSynced(file.content, to: temporary + "/" + file.name)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let manifestBytes = try [UInt8](encoder.encode(manifest))
            _ = try writeSynced(.bytes(manifestBytes + [0x0A]), to: temporary + "/" + manifestName)
            try syncDirectory(temporary)
        } catch {
            removeTree(temporary)
            throw error as? PackError ?? PackError(message: "\(error)")
        }
        guard renameNoReplace(temporary, directory) else {
            let reason =
                errno == EEXIST || errno == ENOTEMPTY
                ? "it already exists (a pack is never overwritten)" : String(cString: strerror(errno))
            removeTree(temporary)
            throw PackError(message: "cannot create \(directory): \(reason)")
        }
        try? syncDirectory(parent.isEmpty ? "." : parent)
    }

    /// Writes and syncs a new file; returns its SHA-256 (lowercase hex).
    static func writeSynced(_ content: OutputContent, to path: String) throws(PackError) -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PackError(message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let digest: String
        do {
            digest = try content.write(to: fd, path: path)
        } catch {
            throw PackError(message: "\(error)")
        }
        guard fsync(fd) == 0 else {
            throw PackError(message: "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
        return digest
    }

    static func syncDirectory(_ path: String) throws(PackError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PackError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fsync(fd)
    }

    /// `renameat2(…, RENAME_NOREPLACE)` (looked up at run time: glibc 2.28+): fails with EEXIST
    /// when `to` exists, where plain `rename` would replace an empty directory. Without it:
    /// `mkdir(to)` (fails if it exists), then `rename` over that empty directory of our own.
    static func renameNoReplace(_ from: String, _ to: String) -> Bool {
        typealias RenameAt2 =
            @convention(c) (
                Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
            ) -> Int32
        if let symbol = dlsym(nil, "renameat2") {
            // Safe because `renameat2` has exactly this C signature (glibc's `<stdio.h>`), and the
            // strings passed are valid for the call (Swift bridges them for its duration).
            let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
            let renameNoReplaceFlag: UInt32 = 1  // RENAME_NOREPLACE
            let status = renameat2(AT_FDCWD, from, AT_FDCWD, to, renameNoReplaceFlag)
            if status == 0 { return true }
            if errno != EINVAL && errno != ENOSYS { return false }  // else: the file system lacks the flag
        }
        guard mkdir(to, 0o700) == 0 else { return false }
        return rename(from, to) == 0
    }

    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
