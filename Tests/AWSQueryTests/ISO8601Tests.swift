import Foundation
import TestSupport
import Testing

@testable import AWSQuery

#if canImport(Glibc)
    import Glibc
#endif

@Suite("UTC calendar and timestamps")
struct ISO8601Tests {
    /// Edges (the epoch, a second before it, leap days, century years) and random instants from
    /// 1601 to 9999.
    static let instants: [Int64] = {
        var random = SplitMix64(seed: 8601)
        let edges: [Int64] = [
            0, -1, 86_399, 86_400, 951_782_400, 951_868_799, 951_868_800, -2_203_891_200, 4_107_542_399,
            4_107_542_400, 1_440_938_160, -11_644_473_600, 253_402_300_799,
        ]
        return edges + (0..<20_000).map { _ in Int64.random(in: -11_644_473_600...253_402_300_799, using: &random) }
    }()

    @Test("civil dates and times agree with gmtime_r, and days(fromYear:) with timegm")
    func agreesWithLibc() {
        var mismatches: [Int64] = []
        for instant in Self.instants {
            var time = time_t(instant)
            var expected = tm()
            gmtime_r(&time, &expected)
            let components = ISO8601.utcComponents(Date(timeIntervalSince1970: Double(instant)))
            let seconds = CivilCalendar.seconds(
                year: Int64(components.year), month: Int64(components.month), day: Int64(components.day),
                hour: Int64(components.hour), minute: Int64(components.minute), second: Int64(components.second))
            if components.year != Int(expected.tm_year) + 1900 || components.month != Int(expected.tm_mon) + 1
                || components.day != Int(expected.tm_mday) || components.hour != Int(expected.tm_hour)
                || components.minute != Int(expected.tm_min) || components.second != Int(expected.tm_sec)
                || seconds != Int64(timegm(&expected)) || seconds != instant
            {
                mismatches.append(instant)
            }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("a fraction of a second rounds down, before the epoch too")
    func fractions() {
        #expect(ISO8601.format(Date(timeIntervalSince1970: 0.999)) == "1970-01-01T00:00:00Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59Z")
        #expect(ISO8601.amzDate(Date(timeIntervalSince1970: 1_440_938_160.5)) == "20150830T123600Z")
        #expect(ISO8601.amzDate(Date(timeIntervalSince1970: 951_782_400)) == "20000229T000000Z")
    }

    @Test("format and parse round-trip; offsets and fractions are honoured")
    func roundTrip() throws {
        for instant in Self.instants.prefix(2_000) {
            let date = Date(timeIntervalSince1970: Double(instant))
            #expect(ISO8601.parse(ISO8601.format(date)) == date)
        }
        let base = try #require(ISO8601.parse("2024-03-04T05:06:07Z"))
        #expect(base.timeIntervalSince1970 == 1_709_528_767)
        #expect(ISO8601.parse("2024-03-04T06:36:07+01:30") == base)
        #expect(ISO8601.parse("2024-03-04T03:06:07-0200") == base)
        #expect(ISO8601.parse("2024-03-04T05:06:07.250Z")?.timeIntervalSince1970 == 1_709_528_767.25)
        for bad in ["2024-13-04T05:06:07Z", "2024-03-04T24:06:07Z", "2024-03-04 05:06", "2024-03-04T05:06:07Q", ""] {
            #expect(ISO8601.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("HTTP dates: the standard form is read; anything out of range or malformed is nil, never a crash")
    func httpDates() {
        #expect(ISO8601.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT")?.timeIntervalSince1970 == 784_111_777)
        #expect(ISO8601.parseHTTPDate("Tue, 29 Feb 2000 23:59:60 GMT")?.timeIntervalSince1970 == 951_868_800)
        for bad in [
            "Sun, 06 Nov 99999999999999999 08:49:37 GMT", "Sun, 06 Nov 1994 99999999999999:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT",
            "06 Nov 1994 08:49:37", "",
        ] {
            #expect(ISO8601.parseHTTPDate(bad) == nil, "\(bad)")
        }
    }
}

extension ISO8601Tests {
    @Test("milliseconds round to the nearest, carrying into the second, before the epoch too")
    func milliseconds() {
        #expect(
            ISO8601.formatWithMilliseconds(Date(timeIntervalSince1970: 1_440_938_160.123)) == "2015-08-30T12:36:00.123Z"
        )
        #expect(ISO8601.formatWithMilliseconds(Date(timeIntervalSince1970: 0.9996)) == "1970-01-01T00:00:01.000Z")
        #expect(ISO8601.formatWithMilliseconds(Date(timeIntervalSince1970: -0.0004)) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601.formatWithMilliseconds(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
    }

    @Test("a year past 9999 is written in full, not cut to four digits")
    func fiveDigitYears() {
        let date = Date(timeIntervalSince1970: 253_402_300_800)
        #expect(ISO8601.format(date) == "10000-01-01T00:00:00Z")
        #expect(ISO8601.amzDate(date) == "100000101T000000Z")
        #expect(ISO8601.formatWithMilliseconds(date) == "10000-01-01T00:00:00.000Z")
    }
}

extension ISO8601Tests {
    @Test("a service error's server date is the same whether given as a date or as its Date header")
    func serviceErrorDates() {
        func error(_ date: Date?) -> AWSServiceError {
            AWSServiceError(code: "X", message: "m", httpStatus: 400, action: "A", serverDate: date)
        }
        func error(header: String?) -> AWSServiceError {
            AWSServiceError(
                code: "X", message: "m", httpStatus: 400, requestId: nil, fault: nil, action: "A", dateHeader: header,
                localDate: nil)
        }
        let date = Date(timeIntervalSince1970: 784_111_777)
        #expect(error(header: "Sun, 06 Nov 1994 08:49:37 GMT").serverDate == date)
        #expect(error(header: "Sun, 06 Nov 1994 08:49:37 GMT") == error(date))
        #expect(error(header: "Sun, 06 Nov 1994 08:49:38 GMT") != error(date))
        #expect(error(header: "not a date") == error(nil))
        #expect(error(header: nil) == error(nil))
    }
}
