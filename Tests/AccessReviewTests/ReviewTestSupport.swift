import AWSQuery
import AccessReview
import CSVStream
import Foundation
import TestSupport
import Testing

/// What the review suites share: one way to configure a review on the in-memory IAM, one way to
/// read what a review wrote.
enum ReviewTesting {
    /// A review through `connector`, judged at `now`, with retries and credential-report polls
    /// that wait milliseconds, not seconds.
    static func configuration(
        connector: InMemoryConnector, output: String, now: Date, source: ReviewSource = .report,
        inactiveDays: Int? = nil, emitBatch: String? = nil, maxAttempts: Int = 3
    ) -> ReviewConfiguration {
        var configuration = ReviewConfiguration(
            output: output, inactiveDays: inactiveDays, emitBatch: emitBatch,
            retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(1), maxBackoff: .milliseconds(2)),
            aws: AWSConfiguration(
                region: "us-east-1", credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")),
            now: now)
        configuration.source = source
        configuration.connector = connector
        configuration.reportWait = ReportWaitPolicy(
            timeLimit: .seconds(5), initialDelay: .milliseconds(1), maxDelay: .milliseconds(2))
        return configuration
    }

    /// The CSV file at `path`, each row as column → value, by its header's names.
    static func rows(_ path: String) throws -> [[String: String]] {
        let records = try CSVReader(.path(path)).readAll()
        let header = try #require(records.first).fields
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.fields)) }
    }
}
