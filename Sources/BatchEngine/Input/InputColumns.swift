import CSVStream
import ConsoleAccess

/// Where the batch columns sit in an input file, found from its header row.
///
/// Header cells are matched case-insensitively with surrounding spaces and tabs ignored:
/// `user` (or `username`, `user_name`), `action`, `password` (optional: without it, every
/// `enable` row is invalid) and `credentials` (optional: what a `restore` row brings back).
/// Other columns are ignored. A missing `user` or `action` column, or
/// two cells naming the same batch column, is a file error.
public struct InputColumns: Sendable, Equatable {
    /// 0-based index of each column.
    public var user: Int
    public var action: Int
    public var password: Int?
    /// The `credentials` column of `restore` rows.
    public var credentials: Int?
    /// The `revoke` column: a `disable` row's own `--revoke` kinds.
    public var revoke: Int?
    /// The `account` column: the AWS account a row runs in (12 digits; empty for the run's
    /// accounts).
    public var account: Int?
    /// How many cells the header has; every row must have as many.
    public var count: Int

    public init(
        user: Int, action: Int, password: Int?, credentials: Int? = nil, revoke: Int? = nil, account: Int? = nil,
        count: Int
    ) {
        self.account = account
        self.user = user
        self.action = action
        self.password = password
        self.credentials = credentials
        self.revoke = revoke
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
        case "credentials": return "credentials"
        case "revoke": return "revoke"
        case "account", "account_id": return "account"
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
        self.init(
            user: user, action: action, password: found["password"], credentials: found["credentials"],
            revoke: found["revoke"], account: found["account"], count: header.count)
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
        let action = ConsoleAction(parsing: actionCell)
        if action == nil {
            let trimmed = trimmedBlanks(actionCell)
            if trimmed.isEmpty {
                problems.append(.missingAction)
            } else {
                let shown = Validation.isSafeToShow(trimmed) ? trimmed : nil
                problems.append(.unknownAction(shown: shown, length: trimmed.count))
            }
        }
        var password: Password?
        var warnings: [RowWarning] = []
        var restore: RestoreList?
        var revoke: RevokeKinds?
        let passwordCell = self.password.map { fields[$0] }
        switch action {
        case .enable, .reset:
            if let passwordCell, !passwordCell.isEmpty {
                password = Self.password(passwordCell, &problems)
            } else {
                problems.append(.missingPassword(hasColumn: self.password != nil, action: action ?? .enable))
            }
        case .disable:
            if let passwordCell, !passwordCell.isEmpty { warnings.append(.passwordIgnoredForDisable) }
            revoke = revokeCell(fields, &problems)
        case .restore:
            (restore, password) = restoreCells(fields, &problems)
        case nil:
            break
        }
        let account = accountCell(fields, &problems)
        guard problems.isEmpty, let action else {
            return .failure(RowError(line: record.line, user: user, action: action, problems: problems))
        }
        return .success(
            BatchJob(
                line: record.line, user: user, action: action, password: password, warnings: warnings,
                restore: restore, revoke: revoke, account: account))
    }

    /// Validates one record from its raw bytes: a plain row (ASCII user name and password, an
    /// action spelled without spaces) is checked on bytes, and only its user name and password
    /// become strings; any other row goes through `validate(_: CSVRecord)`. Same results.
    public func validate(_ raw: CSVRawRecord) -> RowResult {
        if let plain = plainRow(raw) {
            let password = plain.action.takesPassword ? self.password.map { Password(raw.string($0)) } : nil
            return .success(
                BatchJob(
                    line: raw.line, user: raw.string(user), action: plain.action, password: password,
                    warnings: plain.warnings))
        }
        return validate(CSVRecord(fields: raw.strings, line: raw.line))
    }

    /// Checks one record from its raw bytes without building a job (what `validate` needs): a
    /// plain row makes no strings at all. Same verdicts as `validate(_: CSVRecord)`.
    public func check(_ raw: CSVRawRecord) -> RowCheck {
        if let plain = plainRow(raw) {
            return .valid(line: raw.line, action: plain.action, warnings: plain.warnings)
        }
        switch validate(CSVRecord(fields: raw.strings, line: raw.line)) {
        case .success(let job): return .valid(line: job.line, action: job.action, warnings: job.warnings)
        case .failure(let error): return .invalid(error)
        }
    }

    private struct PlainRow {
        var action: ConsoleAction
        var warnings: [RowWarning]
    }

    /// The verdict for a row whose cells need no Unicode work, or `nil` for any other row.
    private func plainRow(_ raw: CSVRawRecord) -> PlainRow? {
        guard raw.count == count, InputColumns.isPlainValidUserName(bytes: raw[user]),
            let action = InputColumns.plainAction(raw[self.action])
        else { return nil }
        // A row naming its account is checked by the general path.
        if let account, !raw[account].isEmpty { return nil }
        switch action {
        case .enable, .reset:
            guard let password, InputColumns.isPlainValidPassword(bytes: raw[password]) else { return nil }
            return PlainRow(action: action, warnings: [])
        case .disable:
            // A row's own `revoke` kinds are parsed by the general path.
            if let revoke, !raw[revoke].isEmpty { return nil }
            if let password, !raw[password].isEmpty {
                return PlainRow(action: .disable, warnings: [.passwordIgnoredForDisable])
            }
            return PlainRow(action: .disable, warnings: [])
        case .restore:
            return nil
        }
    }

    /// A disable row's `revoke` cell: its own kinds, or nil (empty cell, or no column) for the
    /// run's `--revoke`.
    private func revokeCell(_ fields: [String], _ problems: inout [RowProblem]) -> RevokeKinds? {
        guard let column = revoke else { return nil }
        let cell = trimmedBlanks(fields[column])
        guard !cell.isEmpty else { return nil }
        do {
            return try RevokeKinds(parsing: cell)
        } catch {
            problems.append(.revoke(error.reason))
            return nil
        }
    }

    /// The `account` cell: nil when empty (the run's accounts), else a 12-digit account id.
    private func accountCell(_ fields: [String], _ problems: inout [RowProblem]) -> String? {
        guard let column = account else { return nil }
        let cell = trimmedBlanks(fields[column])
        guard !cell.isEmpty else { return nil }
        if let problem = AccountID.problem(cell) {
            problems.append(.account(problem))
            return nil
        }
        return cell
    }

    /// A restore row's `credentials` cell (required) and password (optional: needed only to
    /// enable console access again, and then it may also be generated).
    private func restoreCells(_ fields: [String], _ problems: inout [RowProblem]) -> (RestoreList?, Password?) {
        guard let column = credentials, !trimmedBlanks(fields[column]).isEmpty else {
            problems.append(
                .credentials(
                    credentials == nil
                        ? "restore needs a credentials column (as --emit-restore writes it)"
                        : "restore needs what to bring back in its credentials cell"))
            return (nil, nil)
        }
        var restore: RestoreList?
        do {
            restore = try RestoreList(parsing: fields[column])
        } catch {
            problems.append(.credentials(error.description))
        }
        guard let passwordCell = password.map({ fields[$0] }), !passwordCell.isEmpty else { return (restore, nil) }
        return (restore, Self.password(passwordCell, &problems))
    }

    /// A non-empty password cell as IAM's rules allow it, or nil with the problem noted.
    private static func password(_ cell: String, _ problems: inout [RowProblem]) -> Password? {
        let candidate = Password(cell)
        if !isPlainValidPassword(cell), let problem = candidate.problem {
            problems.append(.password(problem))
            return nil
        }
        return candidate
    }

    // The fast paths below take a field as `CSVRawRecord` lends it (BENCHMARKS.md, "Parse and
    // validate": checking plain rows on bytes is what made `validate` fast). Safe because each
    // reads its buffer only by iterating it, during the call.

    /// `enable`, `disable`, `reset`, `onboard`, `offboard` or `reset-password` in any ASCII case,
    /// with nothing around it.
    static func plainAction(_ bytes: UnsafeBufferPointer<UInt8>) -> ConsoleAction? {
        func equals(_ word: StaticString) -> Bool {
            word.withUTF8Buffer { letters in
                letters.count == bytes.count && zip(bytes, letters).allSatisfy { $0 | 0x20 == $1 }
            }
        }
        switch bytes.count {
        case 5: return equals("reset") ? .reset : nil
        case 6: return equals("enable") ? .enable : nil
        case 7: return equals("disable") ? .disable : equals("onboard") ? .enable : nil
        case 8: return equals("offboard") ? .disable : nil
        case 14: return equals("reset-password") ? .reset : nil
        default: return nil
        }
    }

    /// A fast check of IAM's user-name rule on the UTF-8 bytes: true only for 1–64 ASCII characters
    /// of `A-Za-z0-9_+=,.@-`, that is only for names `Validation.checkUserName` accepts (a test
    /// checks the two agree). Anything else is decided, and explained, by `Validation.checkUserName`;
    /// this only spares the common case its per-character Unicode work.
    static func isPlainValidUserName(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isPlainValidUserName(bytes: $0) }
    }

    static func isPlainValidUserName(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Bit n of `low` (`high`) is set when byte n (64 + n) is allowed.
        let low: UInt64 = 1 << 0x2B | 1 << 0x2C | 1 << 0x2D | 1 << 0x2E | 0x3FF << 0x30 | 1 << 0x3D
        let high: UInt64 = 1 << 0x00 | 0x3FF_FFFF << 0x01 | 1 << 0x1F | 0x3FF_FFFF << 0x21
        // 64 is `Validation.maxUserNameLength` (a test checks they match).
        guard !bytes.isEmpty && bytes.count <= 64 else { return false }
        for byte in bytes {
            let mask = byte < 64 ? low : byte < 128 ? high : 0
            if mask &>> (byte & 63) & 1 == 0 { return false }
        }
        return true
    }

    /// IAM's password rule checked on valid UTF-8 bytes: 1–128 characters from U+0020–U+00FF,
    /// tab, LF and CR. In UTF-8 those are the bytes 09, 0A, 0D, 20–7F, and the two-byte sequences
    /// led by C2 or C3; any other lead byte means a character outside the set. It agrees with
    /// `Validation.checkPassword` (a test checks it); a refused password still goes through
    /// `Password.problem`, which explains why.
    static func isPlainValidPassword(_ password: String) -> Bool {
        var password = password
        return password.withUTF8 { isPlainValidPassword(bytes: $0) }
    }

    static func isPlainValidPassword(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        var twoByteCharacters = 0
        for byte in bytes where byte < 0x20 || byte > 0x7F {
            switch byte {
            case 0x09, 0x0A, 0x0D, 0x80...0xBF: continue
            case 0xC2, 0xC3: twoByteCharacters += 1
            default: return false
            }
        }
        // 128 is `Validation.maxPasswordLength` (a test checks they match).
        return bytes.count - twoByteCharacters <= 128
    }
}
