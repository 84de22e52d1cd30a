import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `--resume`: continuing an earlier report of the same input.
extension BatchRun {
    struct ResumeRefusal: Error {
        let message: String
    }

    /// The rows an earlier run finished (`changed`/`unchanged`, and `absent` when the report has
    /// them), by line (and account, in a multi-account run), after checking that the report
    /// belongs to this input and this kind of run. Absent rows left out of the report (no
    /// `--report-absent`) cannot be told from rows never run, so they run again.
    static func resumeState(
        report: String, input: BatchInput, dryRun: Bool, byAccount: Bool, accountTargets: String?,
        notes: inout [String]
    ) throws -> [RowKey: ReportRow] {
        guard FileManager.default.fileExists(atPath: report) else {
            notes.append("--resume: \(report) does not exist yet; starting a new report")
            return [:]
        }
        guard let record = try RunRecord.read(forReport: report) else {
            throw ResumeRefusal(
                message:
                    "--resume: \(RunRecord.path(forReport: report)) is missing, so \(report) cannot be matched to its input; give a new report path"
            )
        }
        if record.wasRefused {
            // Nothing ran: there is nothing to continue, whatever the input is now.
            notes.append("--resume: the run that wrote \(report) was refused before any change; starting a new report")
            return [:]
        }
        guard record.inputSHA256 == input.sha256 else {
            throw ResumeRefusal(
                message:
                    "--resume: the input has changed since \(report) was started (SHA-256 then \(record.inputSHA256.prefix(12))…, now \(input.sha256.prefix(12))…); resuming would skip or repeat the wrong rows. Give a new report path to run this file"
            )
        }
        guard record.dryRun == dryRun else {
            throw ResumeRefusal(
                message:
                    "--resume: \(report) is from a \(record.dryRun ? "dry run" : "real run"); resume it the same way")
        }
        guard (record.multiAccount == true) == byAccount else {
            throw ResumeRefusal(
                message:
                    "--resume: \(report) is from a \(byAccount ? "single-account" : "multi-account") run; resume it the same way (with the same --accounts or --organization), or give a new report path"
            )
        }
        guard record.accountTargets == accountTargets else {
            func shown(_ targets: String?) -> String { targets ?? "the caller's account" }
            throw ResumeRefusal(
                message:
                    "--resume: \(report) ran its rows in \(shown(record.accountTargets)); this run would run them in \(shown(accountTargets)). Resume with the same --accounts/--organization/--exclude-accounts, or give a new report path"
            )
        }
        let contents = try ReportReader.readAll(.path(report))
        let lines = Set(
            input.rows.map { row -> Int in
                switch row {
                case .success(let job): return job.line
                case .failure(let error): return error.line
                }
            })
        var done: [RowKey: ReportRow] = [:]
        // `absent` (a multi-account run's user not in that account, written with
        // `--report-absent`) is finished too: not entering that account again.
        for row in contents.rows
        where (row.status == .changed || row.status == .unchanged || row.status == .absent) && lines.contains(row.line)
        {
            done[RowKey(line: row.line, account: byAccount ? row.account : "")] = row
        }
        return done
    }

    /// Replaces the report with just `rows` (header first), atomically, so a resumed report ends
    /// with exactly one row per input row.
    static func rewriteKeeping(_ rows: [ReportRow], report: String) throws {
        guard FileManager.default.fileExists(atPath: report) else { return }
        let temporary = report + ".tmp-\(getpid())"
        let writer = try ReportWriter(creating: temporary)
        for row in rows { try writer.write(row) }
        try writer.close()
        guard rename(temporary, report) == 0 else {
            throw ResumeRefusal(message: "--resume: cannot replace \(report): \(String(cString: strerror(errno)))")
        }
    }
}
