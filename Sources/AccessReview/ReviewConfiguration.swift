import AWSQuery
import BatchEngine
import Foundation

/// Everything `console-access review` needs.
public struct ReviewConfiguration: Sendable {
    /// Where the review CSV goes: a file path, or `-` for standard output.
    public var output: String
    /// Only users whose path starts with this (sent to IAM as `PathPrefix`); nil is every user.
    public var pathPrefix: String?
    /// Only users whose name this regular expression matches (anywhere in the name, like grep;
    /// anchor with `^…$` for whole names). nil is every user.
    public var userRegex: String?
    /// Mark users whose console password has not been used for more than this many days.
    public var inactiveDays: Int?
    /// Write a `batch` input (`user,action`, one `disable` row per inactive user) to this new file.
    public var emitBatch: String?
    /// At most this many users read at once (1...64).
    public var concurrency: Int
    public var retry: RetryPolicy
    /// Requests per second never to exceed.
    public var maxRate: Double?
    /// `MaxItems` per `ListUsers` page (IAM's default is 100).
    public var pageSize: Int?
    public var aws: AWSConfiguration
    /// How the run reaches AWS (tests put an in-memory IAM behind it).
    public var connector: any AWSConnector = LiveAWSConnector()
    /// The time inactivity is measured from; nil is the time the run starts (tests inject their own).
    public var now: Date?
    /// Where user state comes from: the credential report (default) or per-user calls.
    /// A review across accounts (`--accounts`, `--organization`): each account from its own
    /// credential report, through the member role.
    public var accounts = AccountOptions()
    public var source: ReviewSource = .report
    /// Generate a new credential report instead of reusing one less than 4 hours old.
    public var freshReport = false
    /// Also mark users whose active access keys are unused for more than `inactiveDays`.
    public var includeKeys = false
    /// Per-user calls for what the report lacks (report source only).
    public var detail: ReviewDetail = .none
    public var format: ReviewFormat = .csv
    /// Write the evidence pack into this new directory.
    public var evidence: String?
    /// How long and how often to wait for the credential report.
    public var reportWait = ReportWaitPolicy()

    public init(
        output: String = "-", pathPrefix: String? = nil, userRegex: String? = nil, inactiveDays: Int? = nil,
        emitBatch: String? = nil, concurrency: Int = 4, retry: RetryPolicy = RetryPolicy(maxAttempts: 5),
        maxRate: Double? = nil, pageSize: Int? = nil, aws: AWSConfiguration = AWSConfiguration(), now: Date? = nil
    ) {
        self.output = output
        self.pathPrefix = pathPrefix
        self.userRegex = userRegex
        self.inactiveDays = inactiveDays
        self.emitBatch = emitBatch
        self.concurrency = concurrency
        self.retry = retry
        self.maxRate = maxRate
        self.pageSize = pageSize
        self.aws = aws
        self.now = now
    }

    public static let concurrencyRange = 1...64
    /// `--inactive-days` accepts 1 to 100 years' worth of days.
    public static let inactiveDaysRange = 1...36_500

    /// The usage problems of this configuration, each a sentence for stderr (empty when it is
    /// fine). Checked before any AWS call; the command exits 2 on any of them.
    public func usageProblems() -> [String] {
        var problems: [String] = []
        if !Self.concurrencyRange.contains(concurrency) {
            problems.append("--concurrency must be from 1 to 64, not \(concurrency)")
        }
        if let inactiveDays, !Self.inactiveDaysRange.contains(inactiveDays) {
            problems.append("--inactive-days must be from 1 to 36500, not \(inactiveDays)")
        }
        if let maxRate, !(maxRate > 0) { problems.append("--max-rate must be a positive number") }
        if let pageSize, !(1...1000).contains(pageSize) { problems.append("the page size must be from 1 to 1000") }
        if let userRegex {
            do {
                _ = try UserNameFilter(pattern: userRegex)
            } catch {
                problems.append("\(error)")
            }
        }
        if let pathPrefix, !pathPrefix.hasPrefix("/") {
            problems.append(
                "--path-prefix must start with / (IAM paths look like /division/team/), not '\(pathPrefix)'")
        }
        if source == .perUser && accounts.fansOut {
            problems.append(
                "--accounts and --organization review each account from its credential report (not --source per-user)")
        }
        if source == .perUser {
            if detail != .none { problems.append("--detail needs the credential report (not --source per-user)") }
            if freshReport { problems.append("--fresh-report needs the credential report (not --source per-user)") }
            if includeKeys { problems.append("--include-keys needs the credential report (not --source per-user)") }
        }
        if includeKeys && inactiveDays == nil { problems.append("--include-keys needs --inactive-days N") }
        if detail == .flagged && inactiveDays == nil {
            problems.append("--detail=flagged needs --inactive-days N (it reads the users marked inactive)")
        }
        if let evidence {
            if evidence.isEmpty {
                problems.append("--evidence needs a directory path")
            } else if FileManager.default.fileExists(atPath: evidence) {
                problems.append("--evidence: \(evidence) already exists; an evidence pack is never overwritten")
            }
        }
        if output.isEmpty { problems.append("--output needs a file path, or - for standard output") }
        if let emitBatch {
            if inactiveDays == nil {
                problems.append("--emit-batch needs --inactive-days N (it lists the users inactive for N days)")
            }
            if emitBatch.isEmpty || emitBatch == "-" {
                problems.append("--emit-batch needs a file path")
            } else if FileManager.default.fileExists(atPath: emitBatch) {
                problems.append(
                    "--emit-batch: \(emitBatch) already exists; it is never overwritten. Move it away or give a new path"
                )
            } else if emitBatch == output {
                problems.append("--emit-batch and --output must be different files")
            }
        }
        return problems
    }
}

/// `--user-regex`: which user names to keep.
public struct UserNameFilter: Sendable {
    public let pattern: String
    private let regex: NSRegularExpression

    public struct InvalidPattern: Error, Sendable, CustomStringConvertible {
        public let pattern: String
        public let reason: String
        public var description: String { "--user-regex: '\(pattern)' is not a valid regular expression: \(reason)" }
    }

    public init(pattern: String) throws(InvalidPattern) {
        guard !pattern.isEmpty else { throw InvalidPattern(pattern: pattern, reason: "it is empty") }
        do {
            regex = try NSRegularExpression(pattern: pattern)
        } catch {
            throw InvalidPattern(pattern: pattern, reason: (error as NSError).localizedDescription)
        }
        self.pattern = pattern
    }

    /// True when the pattern matches anywhere in `name` (case-sensitive; `(?i)` ignores case).
    public func matches(_ name: String) -> Bool {
        regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }
}

/// `--source`.
public enum ReviewSource: String, Sendable, Codable, CaseIterable {
    /// The IAM credential report (falls back to per-user calls on `AccessDenied`).
    case report
    /// Several calls per user (for accounts where the report is not allowed).
    case perUser = "per-user"
}

/// `--detail`.
public enum ReviewDetail: String, Sendable, Codable, CaseIterable {
    case none
    case all
    case flagged
}

/// `--format`.
public enum ReviewFormat: String, Sendable, Codable, CaseIterable {
    case csv
    case json
}
