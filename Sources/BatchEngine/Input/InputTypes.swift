import CSVStream
import ConsoleAccess

// What a row asks for is the core's `ConsoleAction`.

extension ConsoleAction {
    /// Parses an action cell: `enable`/`disable`/`reset`, or the aliases `onboard`/`offboard`/
    /// `reset-password`, in any case, with surrounding spaces and tabs ignored.
    public init?(parsing text: String) {
        switch text.utf8.count {
        case 6 where text == "enable": self = .enable
        case 7 where text == "disable": self = .disable
        case 5 where text == "reset": self = .reset
        default:
            switch trimmedBlanks(text).lowercased() {
            case "enable", "onboard": self = .enable
            case "disable", "offboard": self = .disable
            case "reset", "reset-password": self = .reset
            case "restore": self = .restore
            default: return nil
            }
        }
    }
}

/// A valid row, ready to run.
public struct BatchJob: Sendable, Equatable {
    /// The physical line where the row starts in the input file.
    public var line: Int
    /// The IAM user name (surrounding spaces and tabs removed).
    public var user: String
    public var action: ConsoleAction
    /// The password to set, for `enable` and `reset` (never trimmed), and for a `restore` that
    /// lists `console` when the row gives one. `nil` for `disable`.
    public var password: Password?
    /// Things worth telling the user that do not stop the row.
    public var warnings: [RowWarning]
    /// What a `restore` row brings back (its `credentials` cell); nil for other actions.
    public var restore: RestoreList?
    /// A `disable` row's own kinds to revoke (its `revoke` cell); nil for the run's `--revoke`.
    public var revoke: RevokeKinds?
    /// The AWS account the row runs in: its `account` cell, or (`fannedOut`) one of the run's
    /// `--accounts`; nil in a single-account run (the caller's account).
    public var account: String?
    /// True when `account` came from `--accounts`/`--organization`, not from the row: a user
    /// missing there is `absent`, not `not-found`.
    public var fannedOut = false

    public init(
        line: Int, user: String, action: ConsoleAction, password: Password?, warnings: [RowWarning] = [],
        restore: RestoreList? = nil, revoke: RevokeKinds? = nil, account: String? = nil
    ) {
        self.account = account
        self.line = line
        self.user = user
        self.action = action
        self.password = password
        self.warnings = warnings
        self.restore = restore
        self.revoke = revoke
    }

    /// True when the row sets a console password: enable, reset, and a restore listing `console`.
    public var setsPassword: Bool { action.takesPassword || restore?.console == true }
}

/// A note about a valid row.
public enum RowWarning: Sendable, Hashable, CustomStringConvertible {
    /// A `disable` row has a password; it is not used.
    case passwordIgnoredForDisable

    /// A stable, machine-readable code.
    public var code: String {
        switch self {
        case .passwordIgnoredForDisable: return "password-ignored"
        }
    }

    public var description: String {
        switch self {
        case .passwordIgnoredForDisable: return "password ignored for disable"
        }
    }
}

/// Why a row is invalid. Descriptions never contain the password.
public enum RowProblem: Sendable, Equatable, CustomStringConvertible {
    /// The row has a different number of fields than the header.
    case fieldCount(expected: Int, found: Int)
    /// The user name breaks IAM's rules (empty, too long, invalid character at a position).
    case userName(Validation.UserNameProblem)
    /// The action cell is empty.
    case missingAction
    /// The action is not one of enable/disable/reset (or an alias). `shown` is the value when it is
    /// safe to show (short, letters, `-`, `_` and spaces only), else `nil` with its length.
    case unknownAction(shown: String?, length: Int)
    /// An `enable` or `reset` row without a password. `hasColumn` is false when the file has no password column.
    case missingPassword(hasColumn: Bool, action: ConsoleAction = .enable)
    /// The password breaks IAM's rules (too long, a character outside the allowed set).
    case password(Validation.PasswordProblem)
    /// A `restore` row's `credentials` cell is missing or cannot be read.
    case credentials(String)
    /// A `disable` row's `revoke` cell names no kind or an unknown one.
    case revoke(String)
    /// The `account` cell is not a 12-digit AWS account id (the reason says how).
    case account(String)

    /// A stable, machine-readable code, used as the report's `error_code` for invalid rows.
    public var code: String {
        switch self {
        case .fieldCount: return "field-count"
        case .userName: return "invalid-user-name"
        case .missingAction: return "missing-action"
        case .unknownAction: return "unknown-action"
        case .missingPassword: return "missing-password"
        case .password: return "invalid-password"
        case .credentials: return "invalid-credentials"
        case .revoke: return "invalid-revoke"
        case .account: return "invalid-account"
        }
    }

    public var description: String {
        switch self {
        case .fieldCount(let expected, let found):
            return
                "row has \(found) field\(found == 1 ? "" : "s"); the header has \(expected) (is a comma inside an unquoted value?)"
        case .userName(let problem):
            return problem.description
        case .missingAction:
            return "action is empty; expected enable, disable, reset or restore"
        case .unknownAction(let shown, let length):
            if let shown {
                return
                    "unknown action \"\(shown)\"; expected enable, disable, reset or restore (or onboard/offboard/reset-password)"
            }
            return
                "unknown action (value not shown, \(length) characters); expected enable, disable, reset or restore (or onboard/offboard/reset-password)"
        case .missingPassword(let hasColumn, let action):
            return hasColumn
                ? "\(action.rawValue) needs a password; the password cell is empty"
                : "\(action.rawValue) needs a password; the file has no password column"
        case .password(let problem):
            return problem.description
        case .credentials(let reason):
            return reason
        case .revoke(let reason):
            return "revoke: \(reason); expected `all` or kinds separated by commas from: "
                + CredentialKind.allCases.map(\.rawValue).joined(separator: ", ")
        case .account(let reason):
            return "account: \(reason)"
        }
    }
}

/// An invalid row: where it is and everything wrong with it.
public struct RowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The physical line where the row starts.
    public var line: Int
    /// The user cell (spaces and tabs around it removed); empty when the row's fields do not line
    /// up with the header.
    public var user: String
    /// The action, when it could be read.
    public var action: ConsoleAction?
    /// At least one problem, in column order (user, action, password).
    public var problems: [RowProblem]

    public init(line: Int, user: String, action: ConsoleAction?, problems: [RowProblem]) {
        self.line = line
        self.user = user
        self.action = action
        self.problems = problems
    }

    /// The code of the first problem.
    public var code: String { problems.first?.code ?? "invalid-row" }

    /// The problems, joined with `; `.
    public var message: String { problems.map(\.description).joined(separator: "; ") }

    public var description: String { "line \(line): \(message)" }
}

/// Each data row's outcome: a job to run, or why the row is invalid.
public typealias RowResult = Result<BatchJob, RowError>

/// A row's verdict without its job (what `validate` needs; cheaper than `RowResult`).
public enum RowCheck: Sendable, Equatable {
    case valid(line: Int, action: ConsoleAction, warnings: [RowWarning])
    case invalid(RowError)

    /// The verdict of a full result.
    public init(_ result: RowResult) {
        switch result {
        case .success(let job): self = .valid(line: job.line, action: job.action, warnings: job.warnings)
        case .failure(let error): self = .invalid(error)
        }
    }
}

/// A problem with the file as a whole: nothing in it may run. (`console-access validate` exits 2.)
public struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Reading or parsing failed (unreadable file, unclosed quote, stray quote, not UTF-8).
        case csv(CSVError)
        /// No header row: the file is empty or holds only blank lines.
        case empty
        /// A required column is missing. `column` is its canonical name.
        case missingColumn(String)
        /// Two header cells name the same column. Positions are 1-based.
        case duplicateColumn(column: String, first: Int, second: Int)
    }

    public var kind: Kind
    /// Where the input came from (a path or `standard input`).
    public var source: String

    public init(_ kind: Kind, source: String) {
        self.kind = kind
        self.source = source
    }

    /// The line the error is about, when there is one.
    public var line: Int? {
        switch kind {
        case .csv(let error): return error.line
        case .empty: return nil
        case .missingColumn, .duplicateColumn: return 1
        }
    }

    public var description: String {
        switch kind {
        case .csv(let error):
            switch error.kind {
            case .cannotOpen, .readFailed: return error.description
            default: return "\(source) \(error.description)"
            }
        case .empty:
            return "\(source): the file is empty; expected a header row naming the columns user, action, password"
        case .missingColumn(let column):
            let names = InputColumns.acceptedNames(for: column).map { "\"\($0)\"" }.joined(separator: " or ")
            return
                "\(source) line 1: the header has no \(column) column (expected \(names)); the first row must be a header naming the columns user, action, password"
        case .duplicateColumn(let column, let first, let second):
            return "\(source) line 1: columns \(first) and \(second) both name the \(column) column"
        }
    }
}

/// Counts over the data rows of an input file.
public struct InputSummary: Sendable, Equatable, Codable {
    /// Data rows (the header and skipped empty rows not counted).
    public var rows = 0
    public var valid = 0
    public var invalid = 0
    /// Valid rows by action.
    public var enable = 0
    public var disable = 0
    public var reset = 0
    public var restore = 0
    /// Warnings on valid rows.
    public var warnings = 0
    /// Records whose cells are all empty or blank (for example `,,` lines from a spreadsheet):
    /// skipped, like blank lines.
    public var emptyRowsSkipped = 0

    public init() {}

    mutating func count(_ check: RowCheck) {
        rows += 1
        switch check {
        case .valid(_, let action, let rowWarnings):
            valid += 1
            warnings += rowWarnings.count
            switch action {
            case .enable: enable += 1
            case .disable: disable += 1
            case .reset: reset += 1
            case .restore: restore += 1
            }
        case .invalid:
            invalid += 1
        }
    }

    mutating func count(_ result: RowResult) {
        switch result {
        case .success(let job): count(.valid(line: job.line, action: job.action, warnings: job.warnings))
        case .failure(let error): count(.invalid(error))
        }
    }
}

/// Spaces and tabs around `text` removed (other characters, including non-breaking spaces, kept).
func trimmedBlanks(_ text: String) -> String {
    let utf8 = text.utf8
    guard let first = utf8.first, let last = utf8.last else { return text }
    if first != 0x20 && first != 0x09 && last != 0x20 && last != 0x09 { return text }
    var start = utf8.startIndex
    var end = utf8.endIndex
    while start < end && (utf8[start] == 0x20 || utf8[start] == 0x09) { start = utf8.index(after: start) }
    while end > start {
        let before = utf8.index(before: end)
        if utf8[before] != 0x20 && utf8[before] != 0x09 { break }
        end = before
    }
    return String(text[start..<end])
}

func isBlank(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 }
}
