/// Why the exit codes live here and not in the executable: they are part of the files the
/// libraries write, not only of the process. The run record and summary (`REPORT.run.json`,
/// `exit_code`), the review summary and `modify --json` carry the same number the process exits
/// with, so that a cron job or an auditor reading the file later sees the same verdict. One enum,
/// next to `Outcome` which decides it; the executable only passes `rawValue` to `exit`.

/// The process exit codes of console-access, shared by every command.
public enum ExitStatus: Int32, Sendable {
    /// Every row changed or was already as asked.
    case success = 0
    /// A change failed, or a user was not found.
    case failure = 1
    /// Usage or input error (bad option, bad file, invalid row).
    case usage = 2
    /// Credentials missing, or authorization failed.
    case credentials = 3
    /// Stopped by SIGINT/SIGTERM.
    case interrupted = 130

    /// The exit status for one outcome.
    public static func of(_ outcome: Outcome) -> ExitStatus {
        if outcome.succeeded { return .success }
        if outcome.status == .invalid { return .usage }
        if outcome.status == .failed, let code = outcome.errorCode, RowFailure.isCredentialsProblem(code: code) {
            return .credentials
        }
        return .failure
    }
}
