import ConsoleAccess
import Testing

@testable import BatchEngine

@Suite("Lanes: per-user ordering and conflicts")
struct LaneTests {
    func job(_ line: Int, _ user: String, _ action: ConsoleAction) -> BatchJob {
        BatchJob(line: line, user: user, action: action, password: action == .enable ? Password("P@ssw0rd-xyz") : nil)
    }

    @Test("jobs group by user, case-insensitively (IAM names are), in file order")
    func grouping() {
        let lanes = BatchRunner.lanes([
            job(2, "alice", .disable), job(3, "bob", .enable), job(4, "ALICE", .enable), job(5, "carol", .disable),
            job(6, "bob", .disable),
        ])
        #expect(lanes.map { $0.jobs.map(\.line) } == [[2, 4], [3, 6], [5]])
    }

    @Test("conflicting actions for one user are flagged on each of its rows")
    func conflicts() {
        let notes = BatchRunner.conflictNotes([
            job(2, "alice", .disable), job(3, "alice", .enable), job(4, "bob", .disable), job(5, "bob", .disable),
        ])
        #expect(notes[2]?.contains("line 3") == true)
        #expect(notes[3]?.contains("line 2") == true)
        #expect(notes[4] == nil && notes[5] == nil)
    }
}

@Suite("Progress line")
struct ProgressLineTests {
    @Test("done/total, rate, failures, throttled calls and ETA")
    func line() {
        #expect(
            TerminalProgress.line(done: 120, total: 500, failed: 2, throttled: 3, elapsed: 5)
                == "[120/500] 24.0 rows/s, 2 failed, 3 throttled, ETA 0:16")
        #expect(
            TerminalProgress.line(done: 500, total: 500, failed: 0, throttled: 0, elapsed: 10)
                == "[500/500] 50.0 rows/s, 0 failed")
        #expect(
            TerminalProgress.line(done: 0, total: 10, failed: 0, throttled: 0, elapsed: 0)
                == "[0/10] 0.0 rows/s, 0 failed")
    }
}
