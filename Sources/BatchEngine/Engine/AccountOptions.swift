import AWSQuery
import ConsoleAccess
import Foundation

/// Many accounts in one run: where rows without an `account` cell run (`--accounts`,
/// `--organization`), and how each member account is reached (the role assumed there from the
/// run's credentials).
public struct AccountOptions: Sendable, Equatable, CustomStringConvertible {
    /// Where rows without an `account` cell run.
    public enum Targets: Sendable, Equatable {
        /// In the caller's account (a single-account run, unless rows name accounts).
        case caller
        /// `--accounts`: in each of these accounts.
        case list([String])
        /// `--organization`: in every `ACTIVE` account of the caller's organization.
        case organization
    }

    public var targets: Targets
    /// `--exclude-accounts`: never worked on, whatever else names them.
    public var exclude: Set<String>
    /// `--role-name`: the role assumed in each member account (`arn:…:iam::ACCOUNT:role/NAME`).
    public var roleName: String
    /// `--external-id`, if the role's trust policy asks for one.
    public var externalId: String?
    /// `--role-session-name` (CloudTrail shows it); default `console-access-…`.
    public var sessionName: String?
    /// `--accounts-concurrency`: accounts worked at once (at most `--concurrency`).
    public var concurrency: Int
    /// `--report-absent`: write `absent` rows to the report (they are always counted).
    public var reportAbsent: Bool

    public static let defaultRoleName = "OrganizationAccountAccessRole"

    /// The external id is redacted (a trust policy's shared value).
    public var description: String {
        "AccountOptions(\(recorded ?? "caller"), role: \(roleName), external id: \(externalId == nil ? "none" : "<redacted>"), session: \(sessionName ?? "default"), concurrency: \(concurrency), report absent: \(reportAbsent))"
    }

    /// Why `value` cannot be an external id (STS: 2-1224 characters of letters, digits and
    /// `+=,.@:/-_`), or nil. Never quotes the value.
    public static func externalIdProblem(_ value: String) -> String? {
        let allowed = value.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "+=,.@:/-_".unicodeScalars.contains($0))
        }
        guard (2...1224).contains(value.count), allowed else {
            return
                "the external id (not shown, \(value.count) characters) must be 2-1224 characters of letters, digits and +=,.@:/-_"
        }
        return nil
    }

    public init(
        targets: Targets = .caller, exclude: Set<String> = [], roleName: String = Self.defaultRoleName,
        externalId: String? = nil, sessionName: String? = nil, concurrency: Int = 4, reportAbsent: Bool = false
    ) {
        self.targets = targets
        self.exclude = exclude
        self.roleName = roleName
        self.externalId = externalId
        self.sessionName = sessionName
        self.concurrency = max(concurrency, 1)
        self.reportAbsent = reportAbsent
    }

    /// Whether rows fan out over several accounts.
    public var fansOut: Bool { targets != .caller }

    /// Where rows run, as the run record keeps it: a resumed run must run in the same accounts
    /// (`accounts:ID,…` sorted, or `organization`, with `;exclude:ID,…`); nil for the caller's.
    public var recorded: String? {
        let place: String
        switch targets {
        case .caller: return nil
        case .list(let accounts): place = "accounts:" + accounts.sorted().joined(separator: ",")
        case .organization: place = "organization"
        }
        return exclude.isEmpty ? place : place + ";exclude:" + exclude.sorted().joined(separator: ",")
    }

    /// The role to assume in `account`, or nil for the caller's own account (its credentials
    /// are used as they are).
    public func role(in account: String, callerAccount: String, partition: Partition) -> AssumedRole? {
        guard account != callerAccount else { return nil }
        return AssumedRole(
            roleArn: AccountID.roleArn(account: account, roleName: roleName, partition: partition.rawValue),
            sessionName: sessionName, externalId: externalId)
    }

    /// Parses `--accounts` (or `--exclude-accounts`, named by `option`): ids separated by commas,
    /// spaces or line breaks, or `@FILE` with one per line (`#` starts a comment). Duplicates are
    /// dropped, order kept.
    /// - Throws: `AccountListError` naming the option, the bad entry (and the file's line).
    public static func parseList(
        _ value: String, option: String = "--accounts", readFile: (String) throws -> String = AccountOptions.read
    ) throws(AccountListError) -> [String] {
        var text = value
        var source: String?
        if value.hasPrefix("@") {
            let path = String(value.dropFirst())
            do {
                text = try readFile(path)
            } catch {
                throw AccountListError(message: "\(option): cannot read \(path): \(error)")
            }
            source = path
        }
        var accounts: [String] = []
        var seen: Set<String> = []
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        // `isNewline`: CRLF is one Character in Swift, so a file from Windows splits as it should.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for entry in line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
                let account = String(entry)
                if let problem = AccountID.problem(account) {
                    let place = source.map { "\($0) line \(index + 1): " } ?? ""
                    throw AccountListError(message: "\(option): \(place)\(problem)")
                }
                if seen.insert(account).inserted { accounts.append(account) }
            }
        }
        guard !accounts.isEmpty else {
            throw AccountListError(message: "\(option): no account id given\(source.map { " in \($0)" } ?? "")")
        }
        return accounts
    }

    /// The largest `--accounts @FILE` read (an account list is a few KB).
    public static let maxListBytes = 1 << 20

    public static func read(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AccountListError(message: String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maxListBytes + 1) ?? Data()
        guard data.count <= maxListBytes else {
            throw AccountListError(message: "it is larger than \(maxListBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AccountListError(message: "it is not UTF-8 text")
        }
        return text
    }
}

/// `--accounts` or `--exclude-accounts` could not be read.
public struct AccountListError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The accounts a multi-account run works in, and its jobs expanded over them.
public struct AccountPlan: Sendable {
    /// The account of the run's own credentials (they are used there as they are).
    public var callerAccount: String
    /// Where rows without an `account` cell run, in order (excluded accounts removed).
    public var targets: [String]
    /// `--exclude-accounts`: rows are never run there, whatever names the account.
    var excluded: Set<String>
    /// Whether rows without an `account` cell fan out (`--accounts`, `--organization`), or run in
    /// the caller's account (keeping `not-found`).
    var fansOut: Bool
    public var partition: Partition
    /// What the plan tells the user (accounts skipped, and why).
    public var notes: [String] = []

    /// Every job in each account it runs in: a row with an `account` cell only there; any other
    /// row in each target (marked `fannedOut` when the run fans out). `unplaced` holds the rows
    /// that run nowhere, with why: a row naming an excluded account, or a row without a cell
    /// when no target is left (each still gets its report row).
    func expand(_ jobs: [BatchJob]) -> (jobs: [BatchJob], unplaced: [(job: BatchJob, reason: String)]) {
        var expanded: [BatchJob] = []
        var unplaced: [(job: BatchJob, reason: String)] = []
        for job in jobs {
            if let account = job.account {
                if excluded.contains(account) {
                    unplaced.append((job, "not run: account \(account) is excluded (--exclude-accounts)"))
                } else {
                    expanded.append(job)
                }
                continue
            }
            if targets.isEmpty {
                unplaced.append(
                    (job, "not run: no account left to run in (every account was excluded or none is ACTIVE)"))
            }
            for account in targets {
                var copy = job
                copy.account = account
                copy.fannedOut = fansOut
                expanded.append(copy)
            }
        }
        return (expanded, unplaced)
    }

    /// The jobs by account, the accounts in the order their first job appears (one pass).
    static func byAccount(_ jobs: [BatchJob]) -> [(account: String, jobs: [BatchJob])] {
        var order: [String] = []
        var groups: [String: [BatchJob]] = [:]
        for job in jobs {
            let account = job.account ?? ""
            if groups[account] == nil { order.append(account) }
            groups[account, default: []].append(job)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }
}
