import NIOConcurrencyHelpers

/// `GetCredentialReport`'s answer, read as it arrives (the body filter of one attempt): the text
/// of the first `<Content>` element is base64-decoded straight into a spooled file, and
/// everything else, `<Content></Content>` included, stays in the body `QueryClient` parses as
/// always (request id, errors, `GeneratedTime`, `ReportFormat`). Memory stays flat whatever the
/// report's size; the decoded size is bounded by `maxBytes` as it streams, and the Content's text
/// by what that size needs (`Base64StreamDecoder.maxInputBytes`).
///
/// Fed on the connection's event loop, finished by the calling task: its state sits behind a
/// lock. Dropped, or failed, before `finish`, it removes its file.
final class CredentialReportStream: HTTPResponseBodyFilter {
    private let state: NIOLockedValueBox<State>

    /// Where the scan is: before `<Content>` (and how much of the tag was matched), inside it
    /// (and how much of `</Content>`), after it.
    enum Phase: Sendable, Equatable {
        case before(matched: Int)
        case inside(closing: Int)
        case after
    }

    struct State: Sendable {
        var phase = Phase.before(matched: 0)
        var decoder: Base64StreamDecoder
        /// Taken when the report is handed over or abandoned (its file is removed with it).
        var writer: SpooledFileWriter?
        /// Decoded bytes not yet written (written in pieces of `flushBytes`).
        var decoded: [UInt8] = []
        /// What ended the stream, when something did: thrown again by `finish`.
        var failure: (any Error)?
    }

    static let openTag = Array("<Content>".utf8)
    static let closeTag = Array("</Content>".utf8)
    static let flushBytes = 64 * 1024

    let maxBytes: Int

    init(maxBytes: Int, writer: SpooledFileWriter) {
        self.maxBytes = maxBytes
        var state = State(decoder: Base64StreamDecoder(maxBytes: maxBytes), writer: writer)
        state.decoded.reserveCapacity(Self.flushBytes)
        self.state = NIOLockedValueBox(state)
    }

    func filter(_ chunk: UnsafeRawBufferPointer, status: Int, keeping kept: inout [UInt8]) throws {
        try state.withLockedValue { state in
            if let failure = state.failure { throw failure }
            do {
                try Self.scan(chunk, &state, keeping: &kept)
                if state.decoded.count >= Self.flushBytes { try Self.flush(&state) }
            } catch {
                let failure = Self.describe(error, maxBytes: maxBytes, status: status)
                state.failure = failure
                state.writer = nil
                throw failure
            }
        }
    }

    /// The body ended (and `QueryClient` read the rest of the answer): the report, or why there
    /// is none (`status` is the answer's, for the error).
    func finish(status: Int) throws -> SpooledFile {
        try state.withLockedValue { state in
            defer { state.writer = nil }
            if let failure = state.failure { throw failure }
            do {
                switch state.phase {
                case .before: throw Missing.content
                case .inside: throw Missing.end
                case .after: break
                }
                try state.decoder.finish()
                guard state.decoder.characters > 0 else { throw Missing.content }
                try Self.flush(&state)
                guard let writer = state.writer else { throw Missing.content }
                return try writer.finish()
            } catch {
                let failure = Self.describe(error, maxBytes: maxBytes, status: status)
                state.failure = failure
                throw failure
            }
        }
    }

    /// The call failed: the file goes now. Returns the error to throw: the stream's own when it
    /// is what failed the exchange (the transport reports it otherwise), else `error`.
    func abandon(after error: any Error) -> any Error {
        state.withLockedValue { state in
            state.writer = nil
            return state.failure ?? error
        }
    }

    private enum Missing: Error {
        /// No `<Content>` element, or an empty one.
        case content
        /// The body ended inside it.
        case end
    }

    /// Scans one chunk: the tags and the text around them go to `kept`, the Content's text to the
    /// decoder. The tags may be cut at any byte between chunks.
    private static func scan(_ chunk: UnsafeRawBufferPointer, _ state: inout State, keeping kept: inout [UInt8])
        throws
    {
        var index = 0
        while index < chunk.count {
            switch state.phase {
            case .before(var matched):
                // Everything before the text passes, the opening tag too.
                let start = index
                while index < chunk.count && matched < openTag.count {
                    let byte = chunk[index]
                    matched = byte == openTag[matched] ? matched + 1 : (byte == openTag[0] ? 1 : 0)
                    index += 1
                }
                kept.append(contentsOf: chunk[start..<index])
                state.phase = matched == openTag.count ? .inside(closing: 0) : .before(matched: matched)
            case .inside(var closing):
                if closing == 0 {
                    // The text runs to the next `<`: base64 has none, so it starts the closing tag.
                    let end = chunk[index...].firstIndex(of: closeTag[0]) ?? chunk.count
                    try state.decoder.feed(UnsafeRawBufferPointer(rebasing: chunk[index..<end]), into: &state.decoded)
                    index = end
                    if index < chunk.count {
                        closing = 1
                        index += 1
                    }
                }
                while closing > 0 && closing < closeTag.count && index < chunk.count {
                    guard chunk[index] == closeTag[closing] else {
                        // A `<` that does not close the Content: not base64.
                        throw Base64StreamDecoder.Problem.invalidByte(
                            closeTag[0], offset: state.decoder.inputBytes + 1)
                    }
                    closing += 1
                    index += 1
                }
                if closing == closeTag.count {
                    kept.append(contentsOf: closeTag)
                    state.phase = .after
                } else {
                    state.phase = .inside(closing: closing)
                }
            case .after:
                kept.append(contentsOf: chunk[index...])
                index = chunk.count
            }
        }
    }

    private static func flush(_ state: inout State) throws {
        guard !state.decoded.isEmpty, let writer = state.writer else { return }
        try writer.write(state.decoded[...])
        state.decoded.removeAll(keepingCapacity: true)
    }

    /// The `AWSClientError` a problem is reported as (a spool error as it is: the disk, not the
    /// answer, failed).
    private static func describe(_ error: any Error, maxBytes: Int, status: Int) -> any Error {
        let detail: String
        switch error {
        case let problem as Base64StreamDecoder.Problem:
            switch problem {
            case .tooLarge:
                detail = "the credential report is larger than \(maxBytes) bytes (the limit); it was not read"
            case .tooLong:
                detail =
                    "the report Content is longer than a report of \(maxBytes) bytes (the limit) can be; it was not read"
            case .invalidByte(let byte, let offset):
                let shown = byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(byte)"
                detail = "the report Content is not valid base64 (\(shown) at character \(offset))"
            case .misplacedPadding(let offset):
                detail = "the report Content is not valid base64 ('=' padding at character \(offset) is not at its end)"
            case .cut(let characters):
                detail =
                    "the report Content is not valid base64 (its \(characters) characters, blanks aside, are not a multiple of 4: cut short?)"
            }
        case Missing.content:
            detail = "the response has no report Content"
        case Missing.end:
            detail = "the response ended inside the report Content"
        default:
            return error
        }
        return AWSClientError(.invalidResponse(httpStatus: status), action: "GetCredentialReport", detail: detail)
    }
}
