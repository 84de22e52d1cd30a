import CSVStream
import ConsoleAccess

/// Where the batch columns sit in an input file, found from its header row.
///
/// Header cells are matched case-insensitively with surrounding spaces and tabs ignored:
/// `user` (or `username`, `user_name`), `action`, and `password` (optional: without it, every
/// `enable` row is invalid). Other columns are ignored. A missing `user` or `action` column, or
/// two cells naming the same batch column, is a file error.
public struct InputColumns: Sendable, Equatable {
    /// 0-based index of each column.
    public var user: Int
    public var action: Int
    public var password: Int?
    /// How many cells the header has; every row must have as many.
    public var count: Int

    public init(user: Int, action: Int, password: Int?, count: Int) {
        self.user = user
        self.action = action
        self.password = password
        self.count = count
    }

    /// The header names accepted for a canonical column name.
    public static func acceptedNames(for column: String) -> [String] {
        switch column {
        case "user": return ["user", "username", "user_name"]
        default: return [column]
        }
    }

    static func canonicalName(_ headerCell: String) -> String? {
        switch trimmedBlanks(headerCell).lowercased() {
        case "user", "username", "user_name": return "user"
        case "action": return "action"
        case "password": return "password"
        default: return nil
        }
    }

    /// Maps a header record. `source` names the input in errors.
    public init(header: [String], source: String) throws(InputFileError) {
        var found: [String: Int] = [:]
        for (index, cell) in header.enumerated() {
            guard let name = InputColumns.canonicalName(cell) else { continue }
            if let first = found[name] {
                throw InputFileError(
                    .duplicateColumn(column: name, first: first + 1, second: index + 1), source: source)
            }
            found[name] = index
        }
        guard let user = found["user"] else { throw InputFileError(.missingColumn("user"), source: source) }
        guard let action = found["action"] else { throw InputFileError(.missingColumn("action"), source: source) }
        self.init(user: user, action: action, password: found["password"], count: header.count)
    }

    /// Validates one data record against IAM's rules (`Validation`) and the batch rules.
    ///
    /// The user and action cells lose surrounding spaces and tabs; the password is used exactly
    /// as written. A row with a different number of fields than the header is invalid.
    public func validate(_ record: CSVRecord) -> RowResult {
        let fields = record.fields
        guard fields.count == count else {
            return .failure(
                RowError(
                    line: record.line, user: "", action: nil,
                    problems: [.fieldCount(expected: count, found: fields.count)]))
        }
        var problems: [RowProblem] = []
        let user = trimmedBlanks(fields[self.user])
        if !InputColumns.isPlainValidUserName(user), let problem = Validation.checkUserName(user) {
            problems.append(.userName(problem))
        }
        let actionCell = fields[self.action]
        let action = BatchAction(parsing: actionCell)
        if action == nil {
            let trimmed = trimmedBlanks(actionCell)
            if trimmed.isEmpty {
                problems.append(.missingAction)
            } else {
                let shown = InputColumns.isSafeToShow(trimmed) ? trimmed : nil
                problems.append(.unknownAction(shown: shown, length: trimmed.count))
            }
        }
        var password: Password?
        var warnings: [RowWarning] = []
        let passwordCell = self.password.map { fields[$0] }
        switch action {
        case .enable:
            if let passwordCell, !passwordCell.isEmpty {
                let candidate = Password(passwordCell)
                if !InputColumns.isPlainValidPassword(passwordCell), let problem = candidate.problem {
                    problems.append(.password(problem))
                } else {
                    password = candidate
                }
            } else {
                problems.append(.missingPassword(hasColumn: self.password != nil))
            }
        case .disable:
            if let passwordCell, !passwordCell.isEmpty { warnings.append(.passwordIgnoredForDisable) }
        case nil:
            break
        }
        guard problems.isEmpty, let action else {
            return .failure(RowError(line: record.line, user: user, action: action, problems: problems))
        }
        return .success(BatchJob(line: record.line, user: user, action: action, password: password, warnings: warnings))
    }

    /// A fast check of IAM's user-name rule on the UTF-8 bytes: true only for 1–64 ASCII characters
    /// of `A-Za-z0-9_+=,.@-`, that is only for names `Validation.checkUserName` accepts (a test
    /// checks the two agree). Anything else is decided, and explained, by `Validation.checkUserName`;
    /// this only spares the common case its per-character Unicode work.
    static func isPlainValidUserName(_ name: String) -> Bool {
        // Bit n of `low` (`high`) is set when byte n (64 + n) is allowed.
        let low: UInt64 = 1 << 0x2B | 1 << 0x2C | 1 << 0x2D | 1 << 0x2E | 0x3FF << 0x30 | 1 << 0x3D
        let high: UInt64 = 1 << 0x00 | 0x3FF_FFFF << 0x01 | 1 << 0x1F | 0x3FF_FFFF << 0x21
        var name = name
        return name.withUTF8 { bytes in
            // 64 is `Validation.maxUserNameLength` (a test checks they match).
            guard !bytes.isEmpty && bytes.count <= 64 else { return false }
            for byte in bytes {
                let allowed = byte < 64 ? low >> byte & 1 : byte < 128 ? high >> (byte - 64) & 1 : 0
                if allowed == 0 { return false }
            }
            return true
        }
    }

    /// A fast check of IAM's password rule on the UTF-8 bytes: true only for 1–128 characters of
    /// printable ASCII, tab, LF and CR, that is only for passwords `Validation.checkPassword`
    /// accepts (a test checks the two agree). Anything else is decided by `Password.problem`.
    static func isPlainValidPassword(_ password: String) -> Bool {
        var password = password
        return password.withUTF8 { bytes in
            // 128 is `Validation.maxPasswordLength` (a test checks they match).
            guard !bytes.isEmpty && bytes.count <= 128 else { return false }
            for byte in bytes where byte < 0x20 || byte > 0x7E {
                if byte != 0x09 && byte != 0x0A && byte != 0x0D { return false }
            }
            return true
        }
    }

    /// An unknown action is echoed only when it cannot be a misplaced password: at most 24
    /// characters, ASCII letters, spaces, `-` and `_` only.
    static func isSafeToShow(_ text: String) -> Bool {
        text.utf8.count <= 24
            && text.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x20 || byte == 0x2D
                    || byte == 0x5F
            }
    }
}
