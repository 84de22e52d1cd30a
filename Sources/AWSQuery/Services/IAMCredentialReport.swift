import Foundation

/// The state `GenerateCredentialReport` answers: `STARTED`, `INPROGRESS` or `COMPLETE`.
public enum CredentialReportState: Sendable, Equatable {
    case started
    case inProgress
    case complete
    /// A value this client does not know (kept for the error message).
    case other(String)

    init(_ text: String) {
        switch text {
        case "STARTED": self = .started
        case "INPROGRESS": self = .inProgress
        case "COMPLETE": self = .complete
        default: self = .other(text)
        }
    }
}

/// The decoded credential report: the CSV, on disk, and when IAM generated it.
public struct CredentialReportContent: Sendable {
    /// The report as IAM made it (CSV, UTF-8), base64-decoded, in a temporary file removed
    /// when the last copy of this value goes (memory stays flat whatever the account's size).
    public let csv: SpooledFile
    /// `GeneratedTime`; nil when the answer had none (or an unreadable one).
    public let generatedTime: Date?
    /// `ReportFormat` (IAM documents only `text/csv`).
    public let format: String

    public init(csv: SpooledFile, generatedTime: Date?, format: String) {
        self.csv = csv
        self.generatedTime = generatedTime
        self.format = format
    }
}

extension IAMClient {
    /// The largest decoded credential report accepted (64 MiB: about 200,000 users at ~330 bytes
    /// each; IAM's default user quota is 5,000). A larger answer is refused, not truncated.
    public static let maxCredentialReportBytes = 64 << 20

    /// `GenerateCredentialReport`: starts generating a report (IAM makes a new one only when the
    /// last is more than 4 hours old) and says how far it is.
    public func generateCredentialReport() async throws -> AWSResult<CredentialReportState> {
        let response = try await query.call("GenerateCredentialReport")
        let state = response.result.string("State") ?? ""
        return AWSResult(value: CredentialReportState(state), requestId: response.requestId)
    }

    /// `GetCredentialReport`: the last generated report. IAM answers `ReportInProgress` (404)
    /// while it is being made, `ReportNotPresent` (410) when none was generated and
    /// `ReportExpired` (410) when the last one is too old; those arrive as `AWSServiceError`.
    public func getCredentialReport(maxBytes: Int) async throws
        -> AWSResult<CredentialReportContent>
    {
        let response = try await query.call("GetCredentialReport")
        let result = response.result
        let content = try Self.decodeCredentialReport(
            base64: result.string("Content") ?? "", maxBytes: maxBytes, httpStatus: response.httpStatus)
        return AWSResult(
            value: CredentialReportContent(
                csv: try SpooledFile.holding(content, prefix: "credential-report"), generatedTime: result.string("GeneratedTime").flatMap(ISO8601.parse),
                format: result.string("ReportFormat") ?? ""),
            requestId: response.requestId)
    }

    /// Decodes the report's base64 `Content` (line breaks and spaces allowed), refusing one
    /// whose decoded size would pass `maxBytes` before decoding it.
    static func decodeCredentialReport(base64: String, maxBytes: Int, httpStatus: Int) throws -> [UInt8] {
        var alphabet: [UInt8] = []
        alphabet.reserveCapacity(base64.utf8.count)
        for byte in base64.utf8 where !(byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09) {
            alphabet.append(byte)
        }
        if alphabet.count / 4 * 3 > maxBytes {
            throw AWSClientError(
                .invalidResponse(httpStatus: httpStatus), action: "GetCredentialReport",
                detail: "the credential report is larger than \(maxBytes) bytes (the limit); it was not read")
        }
        guard !alphabet.isEmpty else {
            throw AWSClientError(
                .invalidResponse(httpStatus: httpStatus), action: "GetCredentialReport",
                detail: "the response has no report Content")
        }
        guard let data = Data(base64Encoded: Data(alphabet)) else {
            throw AWSClientError(
                .invalidResponse(httpStatus: httpStatus), action: "GetCredentialReport",
                detail: "the report Content is not valid base64")
        }
        return [UInt8](data)
    }
}
