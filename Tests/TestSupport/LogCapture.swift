import Foundation
import Logging
import NIOConcurrencyHelpers

/// A swift-log handler that keeps every line, with its metadata, for assertions.
public final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    public init() {}

    public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { [self] label in Handler(capture: self, label: label) }
        logger.logLevel = level
        return logger
    }

    public var text: String { lines.withLockedValue { $0.joined(separator: "\n") } }
    public var entries: [String] { lines.withLockedValue { $0 } }

    fileprivate func append(_ line: String) {
        lines.withLockedValue { $0.append(line) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.level) \(event.message) \(rendered)")
        }
    }
}
