import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// `--audit-log FILE`: one JSON line per AWS request made (time, service, action, user, HTTP
/// status, result code, request id, attempt, duration), appended and flushed as each call ends,
/// so a security team can reconcile a run with CloudTrail. Never a password: `CallRecord`s
/// hold no parameter values but the user name.
public final class AuditLog: Sendable {
    public let path: String
    private let handle: NIOLockedValueBox<FileHandle?>

    struct Line: Encodable {
        let time: String
        let service: String
        let action: String
        let user: String?
        let httpStatus: Int?
        let result: String
        let requestId: String?
        let attempt: Int
        let durationMs: Int

        enum CodingKeys: String, CodingKey {
            case time, service, action, user, result, attempt
            case httpStatus = "http_status"
            case requestId = "request_id"
            case durationMs = "duration_ms"
        }
    }

    /// Opens (creating if needed) `path` for appending.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw AuditLogError(path: path, reason: String(cString: strerror(errno)))
        }
        handle = NIOLockedValueBox(FileHandle(fileDescriptor: fd, closeOnDealloc: true))
    }

    /// Appends the line for one call.
    public func record(_ call: CallRecord) {
        let (seconds, attoseconds) = call.duration.components
        let line = Line(
            time: ISO8601.format(call.startedAt), service: call.service, action: call.action, user: call.userName,
            httpStatus: call.httpStatus, result: call.errorCode ?? "OK", requestId: call.requestId,
            attempt: call.attempt, durationMs: Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(line) else { return }
        handle.withLockedValue { handle in
            handle?.write(data + Data("\n".utf8))
        }
    }

    public func close() {
        handle.withLockedValue { handle in
            try? handle?.close()
            handle = nil
        }
    }
}

public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot open the audit log \(path): \(reason)" }
}
