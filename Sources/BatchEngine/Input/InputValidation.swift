import CSVStream

/// The result of checking an input file without running it (`console-access validate`).
///
/// Encodes to the `--output json` document. Messages never contain a password.
public struct InputValidationReport: Sendable, Equatable, Codable {
    /// A row error or warning: its line, a stable code and a readable message.
    public struct Entry: Sendable, Equatable, Codable {
        public var line: Int
        public var code: String
        public var message: String

        public init(line: Int, code: String, message: String) {
            self.line = line
            self.code = code
            self.message = message
        }
    }

    /// Why the file as a whole could not be used.
    public struct FileError: Sendable, Equatable, Codable {
        /// The line the error is about, when there is one.
        public var line: Int?
        public var message: String

        public init(line: Int?, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Valid rows by action.
    public struct ActionCounts: Sendable, Equatable, Codable {
        public var enable: Int
        public var disable: Int
        public var reset: Int
        public var restore: Int

        public init(enable: Int, disable: Int, reset: Int = 0, restore: Int = 0) {
            self.enable = enable
            self.disable = disable
            self.reset = reset
            self.restore = restore
        }
    }

    /// The input's name: its path or `standard input`.
    public var file: String
    public var rows: Int
    public var valid: Int
    public var invalid: Int
    public var byAction: ActionCounts
    public var emptyRowsSkipped: Int
    /// Warnings on valid rows (counted even when not collected).
    public var warningCount: Int
    /// Invalid rows, in file order (empty when `collect` was false).
    public var errors: [Entry]
    /// Warnings on valid rows, in file order (empty when `collect` was false).
    public var warnings: [Entry]
    /// SHA-256 of the input's bytes (lowercase hex); empty when the file could not be read through.
    public var sha256: String
    /// Set when the file is broken: then no row of it may run.
    public var fileError: FileError?

    /// 0 when every row is valid, 1 when some rows are invalid, 2 when the file is broken.
    public var exitCode: Int32 {
        if fileError != nil { return 2 }
        return invalid > 0 ? 1 : 0
    }

    /// Reads and validates the whole input without keeping its rows.
    ///
    /// - Parameters:
    ///   - collect: keep every row error and warning in `errors` and `warnings` (for JSON output).
    ///     Without it, memory stays flat; use `onRow` to see them as they come.
    ///   - onRow: called with each data row's verdict, in file order.
    public static func validate(
        _ input: CSVInput, options: BatchInputOptions = BatchInputOptions(), collect: Bool = true,
        onRow: (RowCheck) -> Void = { _ in }
    ) -> InputValidationReport {
        var report = InputValidationReport(
            file: input.displayName, rows: 0, valid: 0, invalid: 0, byAction: ActionCounts(enable: 0, disable: 0),
            emptyRowsSkipped: 0, warningCount: 0, errors: [], warnings: [], sha256: "", fileError: nil)
        var summary = InputSummary()
        do {
            let reader = try BatchInputReader(input, options: options)
            defer { summary = reader.summary }
            while let row = try reader.nextCheck() {
                if collect {
                    switch row {
                    case .valid(let line, _, let warnings):
                        for warning in warnings {
                            report.warnings.append(Entry(line: line, code: warning.code, message: warning.description))
                        }
                    case .invalid(let error):
                        report.errors.append(Entry(line: error.line, code: error.code, message: error.message))
                    }
                }
                onRow(row)
            }
            report.sha256 = reader.sha256 ?? ""
        } catch {
            report.fileError = FileError(line: error.line, message: error.description)
        }
        report.rows = summary.rows
        report.valid = summary.valid
        report.invalid = summary.invalid
        report.byAction = ActionCounts(
            enable: summary.enable, disable: summary.disable, reset: summary.reset, restore: summary.restore)
        report.emptyRowsSkipped = summary.emptyRowsSkipped
        report.warningCount = summary.warnings
        return report
    }
}
