import AWSQuery
import Foundation

/// How long and how often to wait for IAM to finish a credential report.
public struct ReportWaitPolicy: Sendable {
    /// Give up after this long (generation usually takes seconds; large accounts longer).
    public var timeLimit: Duration
    /// The first pause between polls; it doubles up to `maxDelay`.
    public var initialDelay: Duration
    public var maxDelay: Duration
    /// A report generated less than this long ago is used as it is (IAM itself regenerates at
    /// most every 4 hours).
    public var reuseAge: TimeInterval

    public init(
        timeLimit: Duration = .seconds(300), initialDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(8),
        reuseAge: TimeInterval = 4 * 3600
    ) {
        self.timeLimit = timeLimit
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.reuseAge = reuseAge
    }
}

/// Why the credential report could not be had.
public struct CredentialReportUnavailable: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The AWS error behind it, when there was one (`AccessDenied` triggers the per-user fallback;
    /// a credentials problem such as `InvalidClientTokenId` does not: per-user calls would fail too).
    public let underlying: AWSServiceError?
    public var description: String { message }
    public var isAccessDenied: Bool {
        underlying?.errorCode.isAccessDenied == true
    }
}

/// The report and how it was obtained.
public struct FetchedCredentialReport: Sendable {
    public var content: CredentialReportContent
    /// True when an existing report (less than `reuseAge` old) was used without generating one.
    public var reused: Bool
    /// Calls made for it (each retry counted by the executor's observer, not here).
    public var polls: Int
}

/// Obtains the credential report as the IAM API documents it: `GetCredentialReport` first
/// (unless a fresh one is asked for) and, when it is absent (`ReportNotPresent`), expired
/// (`ReportExpired`) or older than `reuseAge`, `GenerateCredentialReport` until `COMPLETE` —
/// with doubling pauses, retrying `LimitExceeded` (too many generation requests) and
/// `ReportInProgress` the same way — then `GetCredentialReport`, all within `timeLimit`.
public struct CredentialReportFetcher: Sendable {
    /// IAM, each call retried on its own through the run's executor.
    public var iam: RetryingIAM
    public var policy: ReportWaitPolicy
    public var now: @Sendable () -> Date

    public init(
        iam: any IAMOperations, executor: CallExecutor, policy: ReportWaitPolicy = ReportWaitPolicy(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.iam = RetryingIAM(iam, executor: executor)
        self.policy = policy
        self.now = now
    }

    /// Codes that mean "not ready yet: wait and ask again".
    static let waitCodes: Set<AWSErrorCode> = [.reportInProgress, .limitExceeded]
    /// Codes that mean "generate one".
    static let generateCodes: Set<AWSErrorCode> = [.reportNotPresent, .reportExpired]

    public func fetch(fresh: Bool) async throws(CredentialReportUnavailable) -> FetchedCredentialReport {
        let deadline = ContinuousClock.now + policy.timeLimit
        var delay = policy.initialDelay
        var polls = 0
        var needsGenerate = fresh
        var lastWait = "nothing yet"
        do {
            if !fresh {
                polls += 1
                switch try await getReport() {
                case .report(let content):
                    if let generated = content.generatedTime, now().timeIntervalSince(generated) < policy.reuseAge {
                        return FetchedCredentialReport(content: content, reused: true, polls: polls)
                    }
                    needsGenerate = true
                case .generate(let code):
                    lastWait = code
                    needsGenerate = true
                case .wait(let code):
                    lastWait = code
                }
            }
            while true {
                try Task.checkCancellation()
                if needsGenerate {
                    polls += 1
                    switch try await generate() {
                    case .complete: needsGenerate = false
                    case .notYet(let state):
                        lastWait = state
                        try await pause(&delay, until: deadline, waitingFor: lastWait)
                        continue
                    }
                }
                polls += 1
                switch try await getReport() {
                case .report(let content):
                    return FetchedCredentialReport(content: content, reused: false, polls: polls)
                case .generate(let code):
                    // Generation said COMPLETE, yet the report is gone or expired: generate again.
                    lastWait = code
                    needsGenerate = true
                case .wait(let code):
                    lastWait = code
                }
                try await pause(&delay, until: deadline, waitingFor: lastWait)
            }
        } catch let error as CredentialReportUnavailable {
            throw error
        } catch let error as AWSServiceError {
            throw CredentialReportUnavailable(
                message: "the credential report could not be had (iam:\(error.action)): \(error)", underlying: error)
        } catch is CancellationError {
            throw CredentialReportUnavailable(
                message: "cancelled while waiting for the credential report", underlying: nil)
        } catch {
            throw CredentialReportUnavailable(
                message: "the credential report could not be had: \(error)", underlying: nil)
        }
    }

    enum GetOutcome {
        case report(CredentialReportContent)
        case generate(String)
        case wait(String)
    }

    enum GenerateOutcome {
        case complete
        case notYet(String)
    }

    func getReport() async throws -> GetOutcome {
        do {
            let content = try await iam.getCredentialReport().value
            if !content.format.isEmpty && content.format != "text/csv" {
                throw CredentialReportUnavailable(
                    message: "the credential report has format \(content.format); only text/csv is known",
                    underlying: nil)
            }
            return .report(content)
        } catch let error as AWSServiceError where Self.generateCodes.contains(error.errorCode) {
            return .generate(error.code)
        } catch let error as AWSServiceError where Self.waitCodes.contains(error.errorCode) {
            return .wait(error.code)
        }
    }

    func generate() async throws -> GenerateOutcome {
        do {
            let state = try await iam.generateCredentialReport().value
            switch state {
            case .complete: return .complete
            case .started: return .notYet("STARTED")
            case .inProgress: return .notYet("INPROGRESS")
            case .other(let text):
                throw CredentialReportUnavailable(
                    message: "GenerateCredentialReport answered an unknown state '\(text)'", underlying: nil)
            }
        } catch let error as AWSServiceError where Self.waitCodes.contains(error.errorCode) {
            return .notYet(error.code)
        }
    }

    /// Sleeps `delay` (then doubles it, up to `maxDelay`), or throws when that would pass the deadline.
    func pause(_ delay: inout Duration, until deadline: ContinuousClock.Instant, waitingFor: String) async throws {
        guard ContinuousClock.now + delay <= deadline else {
            throw CredentialReportUnavailable(
                message:
                    "the credential report was not ready within \(policy.timeLimit) (IAM last said \(waitingFor)); try again later or raise --report-timeout",
                underlying: nil)
        }
        try await Task.sleep(for: delay)
        delay = min(delay * 2, policy.maxDelay)
    }
}
