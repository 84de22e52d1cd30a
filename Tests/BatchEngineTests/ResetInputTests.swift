import BatchEngine
import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

/// The `reset` action in input files, and the run record's `refused` mark.
@Suite("Batch input: reset rows")
struct ResetInputTests {
    @Test(
        "reset and reset-password parse in any case, with blanks around, on the fast and the slow path",
        arguments: ["reset", "RESET", "Reset", " reset ", "reset-password", "Reset-Password", "\treset-password"])
    func parses(cell: String) throws {
        // The second row's password is not plain ASCII: its row takes the slow path.
        let input = try load("user,action,password\nalice,\(cell),Some-Passw0rd!\nbob,\(cell),Sóme-Passw0rd!\n")
        #expect(input.rowErrors.isEmpty, "\(input.rowErrors)")
        #expect(input.jobs.map(\.action) == [.reset, .reset])
        #expect(input.jobs.map { $0.password?.revealed } == ["Some-Passw0rd!", "Sóme-Passw0rd!"])
    }

    @Test("look-alikes are unknown actions, not resets")
    func lookAlikes() throws {
        for cell in ["resett", "reset password", "reset_password", "rest", "re-set", "resetpassword"] {
            let input = try load("user,action,password\nalice,\(cell),Some-Passw0rd!\n")
            #expect(input.jobs.isEmpty, "\(cell)")
            #expect(input.rowErrors.first?.code == "unknown-action", "\(cell)")
        }
    }

    @Test("a reset row needs a password, like enable; --generate-passwords accepts it; counts by action")
    func password() throws {
        let input = try load(
            "user,action,password\nalice,reset,\nbob,enable,\ncarol,disable,\ndan,reset,Pw-Long-Enough!\n")
        #expect(
            input.rowErrors.map(\.message) == [
                "reset needs a password; the password cell is empty",
                "enable needs a password; the password cell is empty",
            ])
        #expect(input.summary.reset == 1)
        #expect(input.summary.invalid == 2)
        let accepted = input.acceptingMissingPasswords()
        #expect(accepted.rowErrors.isEmpty)
        #expect(accepted.jobs.map(\.action) == [.reset, .enable, .disable, .reset])
        #expect(accepted.summary.reset == 2)
        #expect(accepted.summary.enable == 1)
        #expect(accepted.summary.valid == 4)
        #expect(accepted.summary.invalid == 0)
        let noColumn = try load("user,action\nalice,reset\n")
        #expect(noColumn.rowErrors.first?.message == "reset needs a password; the file has no password column")
    }

    @Test("validate counts reset rows apart from enable and disable")
    func validateCounts() {
        let report = InputValidationReport.validate(
            .bytes(
                Array(
                    "user,action,password\na,reset,Pw-Long-Enough!\nb,RESET-PASSWORD,Pw-Long-Enough!\nc,enable,Pw-Long-Enough!\n"
                        .utf8)))
        #expect(report.byAction == InputValidationReport.ActionCounts(enable: 1, disable: 0, reset: 2))
        #expect(report.valid == 3)
    }

    @Test("a run record without `refused` (written before it existed) reads as not refused")
    func oldRunRecord() throws {
        let dir = try TemporaryDirectory()
        let report = dir.path + "/r.csv"
        _ = try dir.write(
            "r.csv.run.json",
            #"{"complete":true,"dry_run":false,"input":"in.csv","input_sha256":"ab","started_at":"2026-11-23T09:30:00Z","tool":"console-access"}"#
        )
        let record = try #require(try RunRecord.read(forReport: report))
        #expect(record.refused == nil)
        #expect(!record.wasRefused)
        var refused = record
        refused.refused = true
        try refused.write(forReport: report)
        #expect(try RunRecord.read(forReport: report)?.wasRefused == true)
        refused.complete = false
        #expect(!refused.wasRefused, "an unfinished record is never taken as refused")
    }
}
