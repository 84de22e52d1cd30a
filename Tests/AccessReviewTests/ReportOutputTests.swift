import CSVStream
import ConsoleAccess
import Foundation
import TestSupport
import Testing

@testable import AWSQuery
@testable import AccessReview
@testable import BatchEngine

@Suite("Credential report outputs")
struct ReportOutputTests {
    func reviews() throws -> [ReportUserReview] {
        let rule = ReportInactivityRule(days: 90, includeKeys: true, now: ReportInactivityTests.now)
        return [
            rule.review(
                try ReportInactivityTests.entry(
                    lastUsed: ReportInactivityTests.daysAgo(131), lastChanged: ReportInactivityTests.daysAgo(400))),
            rule.review(try ReportInactivityTests.entry(lastUsed: ReportInactivityTests.daysAgo(1))),
        ]
    }

    @Test("the emitted batch is what `batch` reads: user, action and the row's revoke kinds; reason ignored")
    func emittedBatchIsBatchInput() throws {
        let bytes = try CSVBytes.make([ReportEmittedBatch.header] + reviews().compactMap(ReportEmittedBatch.row))
        let records = try CSVReader(.bytes(bytes)).readAll()
        #expect(records[0].fields == ["user", "action", "revoke", "reason"])
        let columns = try InputColumns(header: records[0].fields, source: "emitted")
        #expect(records.count == 2, "only the marked user")
        let job = try columns.validate(records[1]).get()
        #expect(job.action == .disable)
        #expect(job.user == "u")
        #expect(job.revoke == .console, "the console is what is stale")
        #expect(records[1].fields[3] == "console unused 131 days")
    }

    @Test("stale keys alone: the emitted row revokes keys and leaves the console; both: console,keys")
    func emittedRevokeKinds() throws {
        let rule = ReportInactivityRule(days: 90, includeKeys: true, now: ReportInactivityTests.now)
        var keysOnly = rule.review(try ReportInactivityTests.entry(lastUsed: ReportInactivityTests.daysAgo(1)))
        keysOnly.state = .inactive
        keysOnly.staleKeySlots = [1]
        var both = keysOnly
        both.consoleStale = true
        let rows = [keysOnly, both].compactMap(ReportEmittedBatch.row)
        #expect(rows.map { $0[2] } == ["keys", "console,keys"])
        let columns = try InputColumns(header: ReportEmittedBatch.header, source: "emitted")
        let job = try columns.validate(CSVRecord(fields: rows[0], line: 2)).get()
        #expect(job.revoke == RevokeKinds([.keys]))
    }

    @Test("review CSV: one cell per header column; JSON carries the same values and the report time")
    func csvAndJSON() throws {
        let rows = try reviews()
        for review in rows { #expect(ReportReviewCSV.fields(review).count == ReportReviewCSV.header.count) }
        let json = try ReviewJSON.document(
            header: ReportReviewCSV.header, rows: rows.map(ReportReviewCSV.fields),
            reportGenerated: ReportInactivityTests.now)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(object["report_generated"] as? String == "2025-01-01T00:00:00Z")
        let users = try #require(object["users"] as? [[String: String]])
        #expect(users.map { $0["state"] } == ["inactive", "active"])
        #expect(users[0]["reason"] == "console unused 131 days")
        #expect(users[0]["password_last_used"] == ReportInactivityTests.daysAgo(131))
    }
}
