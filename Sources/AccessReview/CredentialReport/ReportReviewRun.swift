import AWSQuery
import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation

/// What the credential-report review adds to `ReviewResult`.
public struct ReportReviewOutcome: Sendable {
    public var generatedTime: Date?
    /// True when an existing report (less than 4 hours old) was used.
    public var reused: Bool
    /// The report as IAM sent it (for the evidence pack).
    public var report: SpooledFile
    /// The review, its CSV form and the emitted batch, spooled.
    public var files: ReportReviewFiles
    /// Counts made while the rows were written.
    public var tally: ReportReviewTally
    public var caller: CallerIdentity
    public var region: String
}

/// The review from the credential report: caller identity, the report (reused or generated,
/// polled), then its rows read through `CSVReader` one at a time, judged, given `--detail` in
/// chunks when asked, and written to the spooled outputs (the review, its CSV form, the emitted
/// batch) before the next chunk is read: memory stays flat at any number of users. `finish`
/// then puts the outputs in place.
enum ReportReviewRun {
    enum Fetched: Sendable {
        case outcome(ReportReviewOutcome)
        /// `AccessDenied` on the report: the caller goes per-user, with this warning.
        case fallback(String)
        case failed(SetupError)
    }

    /// Users judged and given `--detail` together before they are written.
    static let chunkSize = 256

    /// - Throws: `RunSetupError` when the client or the identity check fails.
    ///
    /// - Parameters:
    ///   - role: the member role to review another account through (a review across accounts).
    ///   - account: that account, written in an `account` column of every row.
    static func fetchAndJudge(
        _ configuration: ReviewConfiguration, run: RunContext, now: Date, role: AssumedRole? = nil,
        account: String? = nil
    ) async throws -> Fetched {
        try await run.withSession(role: role) { run -> Fetched in
            let (iam, executor, identity) = (run.iam, run.executor, run.identity)
            if let account, identity.account != account {
                return .failed(
                    SetupError(
                        message:
                            "the session meant for account \(account) acts in account \(identity.account) (\(identity.arn)); not reviewed",
                        isCredentialsProblem: false, errorCode: "WrongAccount"))
            }
            let fetcher = CredentialReportFetcher(
                iam: iam, executor: executor, policy: configuration.reportWait, now: { now })
            let fetched: FetchedCredentialReport
            do {
                fetched = try await fetcher.fetch(fresh: configuration.freshReport)
            } catch let error as CredentialReportUnavailable {
                if error.isAccessDenied {
                    return .fallback(
                        "the credential report is not allowed for this caller (\(error.underlying?.code ?? AWSErrorCode.accessDenied.rawValue)); reviewing with per-user calls instead (slower; grant iam:GenerateCredentialReport and iam:GetCredentialReport to use the report)"
                    )
                }
                return .failed(
                    SetupError(message: error.message, isCredentialsProblem: false, errorCode: error.underlying?.code))
            } catch {
                return .failed(SetupError(error, during: "getting the credential report"))
            }
            let rule = ReportInactivityRule(
                days: configuration.inactiveDays, includeKeys: configuration.includeKeys, now: now)
            let detail =
                configuration.detail == .none
                ? nil : UserDetailReader(iam: iam, executor: executor, partition: run.partition)
            let spool: ReportReviewSpool
            do {
                spool = try await review(
                    fetched.content, configuration: configuration, rule: rule, detail: detail, account: account)
            } catch let error as ReviewWriteError {
                return .failed(SetupError(message: error.description, isCredentialsProblem: false, errorCode: nil))
            } catch is CancellationError {
                return .failed(SetupError(message: "interrupted", isCredentialsProblem: false, errorCode: "Cancelled"))
            } catch {
                return .failed(SetupError(message: "\(error)", isCredentialsProblem: false, errorCode: "InvalidReport"))
            }
            let files: ReportReviewFiles
            do {
                files = try spool.finish()
            } catch {
                return .failed(
                    SetupError(
                        message: "cannot write the review: \(error)", isCredentialsProblem: false, errorCode: nil))
            }
            return .outcome(
                ReportReviewOutcome(
                    generatedTime: fetched.content.generatedTime, reused: fetched.reused, report: fetched.content.csv,
                    files: files, tally: spool.tally, caller: identity, region: run.region))
        }
    }

    /// Reads the report's rows (the root user and the filtered-out users left out), judges them
    /// a chunk at a time, adds `--detail` to the chunk, and writes it.
    /// - Throws: `CredentialReportFormatError` (or a `CSVError`) for a damaged report,
    ///   `ReviewWriteError` when an output cannot be written.
    static func review(
        _ content: CredentialReportContent, configuration: ReviewConfiguration, rule: ReportInactivityRule,
        detail: UserDetailReader?, account: String? = nil
    ) async throws -> ReportReviewSpool {
        var spool: ReportReviewSpool
        do {
            spool = try ReportReviewSpool(
                configuration: configuration, generatedTime: content.generatedTime, account: account)
        } catch {
            throw ReviewWriteError(underlying: error)
        }
        let filter = configuration.userRegex.flatMap { try? UserNameFilter(pattern: $0) }
        var parser = try CredentialReportParser(file: content.csv)
        var chunk: [ReportUserReview] = []
        chunk.reserveCapacity(chunkSize)
        var done = false
        while !done {
            try Task.checkCancellation()
            chunk.removeAll(keepingCapacity: true)
            while chunk.count < chunkSize {
                guard let entry = try parser.next() else {
                    done = true
                    break
                }
                if entry.isRoot { continue }
                if let filter, !filter.matches(entry.user) { continue }
                if let prefix = configuration.pathPrefix, !entry.path.hasPrefix(prefix) { continue }
                chunk.append(rule.review(entry))
            }
            if let detail, !chunk.isEmpty {
                chunk = await detail.addDetail(
                    to: chunk, flaggedOnly: configuration.detail == .flagged, rule: rule,
                    concurrency: configuration.concurrency)
            }
            do {
                for user in chunk { try spool.add(user) }
            } catch {
                throw ReviewWriteError(underlying: error)
            }
        }
        return spool
    }

    /// The options as the manifest records them (no secret is ever an option).
    static func options(_ configuration: ReviewConfiguration) -> [String: String] {
        var options: [String: String] = [
            "source": configuration.source.rawValue, "format": configuration.format.rawValue,
            "detail": configuration.detail.rawValue, "include_keys": String(configuration.includeKeys),
            "fresh_report": String(configuration.freshReport),
        ]
        options["inactive_days"] = configuration.inactiveDays.map(String.init)
        options["user_regex"] = configuration.userRegex
        options["path_prefix"] = configuration.pathPrefix
        options["output"] = configuration.output
        options["emit_batch"] = configuration.emitBatch
        if let targets = configuration.accounts.recorded {
            options["accounts"] = targets
            options["role_name"] = configuration.accounts.roleName
        }
        return options
    }
}

/// A review output could not be written (a full disk, a temporary directory that is not
/// writable): the review stops.
struct ReviewWriteError: Error, CustomStringConvertible {
    let underlying: any Error
    var description: String { "cannot write the review: \(underlying)" }
}
