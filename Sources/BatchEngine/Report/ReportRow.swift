import AWSQuery
import ConsoleAccess
import Foundation

// A row's `status` column is the core's `OutcomeStatus` (`changed`, `unchanged`, `failed`,
// `not-found`, `invalid`, `not-run`, `planned`).

/// One row of the report. There is deliberately no password field.
public struct ReportRow: Sendable, Equatable {
    /// The report's columns, in order.
    public static let columns = legacyColumns + ["account"]
    /// The columns before `account` was added (last, so no column moved): such a report is
    /// still read (its rows have no account) and is rewritten with `account` on `--resume`.
    public static let legacyColumns = [
        "line", "user", "action", "status", "detail", "error_code", "message", "attempts", "request_id",
        "started_at", "duration_ms",
    ]

    /// The physical line where the input row starts.
    public var line: Int
    public var user: String
    /// `nil` when the input row's action could not be read.
    public var action: ConsoleAction?
    public var status: OutcomeStatus
    /// A short human note on what happened (for example `login profile created`).
    public var detail: String
    /// The AWS error code, or a row problem's code for `invalid` rows; empty when none.
    public var errorCode: String
    /// The error message; empty when none. Must never contain a password.
    public var message: String
    /// API attempts made (retries included); `nil` when nothing was sent.
    public var attempts: Int?
    /// The AWS request id of the last call; empty when none.
    public var requestID: String
    /// When work on the row started (written in UTC, millisecond precision).
    public var startedAt: Date?
    /// How long the row took, in milliseconds.
    public var durationMS: Int?
    /// The AWS account the row ran in (the caller's in a single-account run); empty when the
    /// row never reached an account (an invalid row, a run refused before connecting).
    public var account: String

    public init(
        line: Int, user: String, action: ConsoleAction?, status: OutcomeStatus, detail: String = "",
        errorCode: String = "", message: String = "", attempts: Int? = nil, requestID: String = "",
        startedAt: Date? = nil, durationMS: Int? = nil, account: String = ""
    ) {
        self.account = account
        self.line = line
        self.user = user
        self.action = action
        self.status = status
        self.detail = detail
        self.errorCode = errorCode
        self.message = message
        self.attempts = attempts
        self.requestID = requestID
        self.startedAt = startedAt.map(ReportTimestamp.roundedToMilliseconds)
        self.durationMS = durationMS
    }

    /// The report row for an invalid input row: status `invalid`, the first problem's code, and
    /// every problem in the message.
    public init(invalid error: RowError) {
        self.init(
            line: error.line, user: error.user, action: error.action, status: .invalid, errorCode: error.code,
            message: error.message)
    }

    /// The cells, in `columns` order.
    public var fields: [String] {
        [
            String(line), user, action?.rawValue ?? "", status.rawValue, detail, errorCode, message,
            attempts.map { String($0) } ?? "", requestID, startedAt.map(ReportTimestamp.format) ?? "",
            durationMS.map { String($0) } ?? "", account,
        ]
    }

    /// Parses cells written by `fields`. Throws a reason naming the column.
    init(fields: [String]) throws(ReportRowProblem) {
        guard fields.count == ReportRow.columns.count || fields.count == ReportRow.legacyColumns.count else {
            throw ReportRowProblem(
                "row has \(fields.count) fields; a report row has \(ReportRow.columns.count)")
        }
        guard let line = Int(fields[0]), line > 0 else { throw ReportRowProblem("line is not a positive number") }
        var action: ConsoleAction?
        if !fields[2].isEmpty {
            guard let parsed = ConsoleAction(rawValue: fields[2]) else {
                throw ReportRowProblem("action is not enable, disable, reset or empty")
            }
            action = parsed
        }
        guard let status = OutcomeStatus(rawValue: fields[3]) else {
            throw ReportRowProblem(
                "status is not one of \(OutcomeStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let attempts = try ReportRow.optionalInt(fields[7], column: "attempts")
        var startedAt: Date?
        if !fields[9].isEmpty {
            guard let parsed = ReportTimestamp.parse(fields[9]) else {
                throw ReportRowProblem("started_at is not a UTC timestamp like 2026-11-23T09:30:00.000Z")
            }
            startedAt = parsed
        }
        let duration = try ReportRow.optionalInt(fields[10], column: "duration_ms")
        self.init(
            line: line, user: fields[1], action: action, status: status, detail: fields[4], errorCode: fields[5],
            message: fields[6], attempts: attempts, requestID: fields[8], startedAt: startedAt, durationMS: duration,
            account: fields.count > 11 ? fields[11] : "")
        if !account.isEmpty, let problem = AccountID.problem(account) {
            throw ReportRowProblem("account: \(problem)")
        }
    }

    private static func optionalInt(_ text: String, column: String) throws(ReportRowProblem) -> Int? {
        if text.isEmpty { return nil }
        guard let value = Int(text), value >= 0 else {
            throw ReportRowProblem("\(column) is not a whole number")
        }
        return value
    }
}

struct ReportRowProblem: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// UTC timestamps with milliseconds: `2026-11-23T09:30:00.123Z`.
public enum ReportTimestamp {
    public static func format(_ date: Date) -> String {
        ISO8601.formatWithMilliseconds(date)
    }

    /// Parses what `format` writes (the milliseconds part is optional).
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20 || bytes.count == 24, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        func byte(_ index: Int, is character: Character) -> Bool { bytes[index] == character.asciiValue }
        guard byte(4, is: "-"), byte(7, is: "-"), byte(10, is: "T"), byte(13, is: ":"), byte(16, is: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var milli: Int64 = 0
        if bytes.count == 24 {
            guard byte(19, is: "."), let value = number(20..<23) else { return nil }
            milli = value
        }
        let seconds = CivilCalendar.seconds(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        let total = seconds * 1000 + milli
        return Date(timeIntervalSince1970: Double(total) / 1000)
    }

    static func roundedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(Int64((date.timeIntervalSince1970 * 1000).rounded())) / 1000)
    }
}
