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
    /// The report is never held in memory: its base64 `Content` is decoded into a spooled file
    /// as it arrives, and refused once it passes `maxBytes` decoded (the file removed).
    public func getCredentialReport(maxBytes: Int) async throws
        -> AWSResult<CredentialReportContent>
    {
        try await getCredentialReport(maxBytes: maxBytes, spoolDirectory: SpooledFileWriter.temporaryDirectory)
    }

    /// The same, spooling into `spoolDirectory` (tests).
    func getCredentialReport(maxBytes: Int, spoolDirectory: String) async throws
        -> AWSResult<CredentialReportContent>
    {
        // A new file for each attempt (RetryingIAM calls again): one that fails, whether the
        // connection dropped, timed out or the report was refused, leaves none behind.
        let stream = CredentialReportStream(
            maxBytes: maxBytes, writer: try SpooledFileWriter(prefix: "credential-report", directory: spoolDirectory))
        let response: QueryResponse
        do {
            response = try await query.call("GetCredentialReport", bodyFilter: stream)
        } catch {
            throw stream.abandon(after: error)
        }
        let result = response.result
        return AWSResult(
            value: CredentialReportContent(
                csv: try stream.finish(status: response.httpStatus),
                generatedTime: result.string("GeneratedTime").flatMap(ISO8601.parse),
                format: result.string("ReportFormat") ?? ""),
            requestId: response.requestId)
    }
}
