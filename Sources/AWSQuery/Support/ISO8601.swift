import Foundation

/// Timestamp formatting and parsing without shared formatter state.
public enum ISO8601 {
    /// `2015-08-30T12:36:00Z`
    public static func format(_ date: Date) -> String {
        write(utcComponents(date), dateSeparator: UInt8(ascii: "-"), timeSeparator: UInt8(ascii: ":"))
    }

    /// `20150830T123600Z`, the SigV4 `x-amz-date` form.
    public static func amzDate(_ date: Date) -> String {
        write(utcComponents(date), dateSeparator: nil, timeSeparator: nil)
    }

    /// `2026-11-23T09:30:00.123Z`: `format` with milliseconds (rounded to the nearest).
    public static func formatWithMilliseconds(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, millisecond) = CivilCalendar.floorDivide(milliseconds, 1000)
        return write(
            utcComponents(seconds: seconds), dateSeparator: UInt8(ascii: "-"), timeSeparator: UInt8(ascii: ":"),
            milliseconds: Int(millisecond))
    }

    /// Year, month, day, `T`, hours, minutes, seconds, optional `.mmm`, `Z`; the separators go
    /// between the date's and the time's fields. Written on bytes (a batch formats one for every
    /// request it signs and every report row); a year outside 0...9999 takes the general path.
    static func write(
        _ c: Components, dateSeparator: UInt8?, timeSeparator: UInt8?, milliseconds: Int? = nil
    ) -> String {
        guard (0...9999).contains(c.year) else {
            let date = dateSeparator.map { String(UnicodeScalar($0)) } ?? ""
            let time = timeSeparator.map { String(UnicodeScalar($0)) } ?? ""
            var fields = [(c.year, 4), (c.month, 2), (c.day, 2), (c.hour, 2), (c.minute, 2), (c.second, 2)]
            var separators = [date, date, "T", time, time]
            if let milliseconds {
                fields.append((milliseconds, 3))
                separators.append(".")
            }
            return digits(fields, separators: separators + ["Z"])
        }
        let count = 16 + (dateSeparator == nil ? 0 : 2) + (timeSeparator == nil ? 0 : 2) + (milliseconds == nil ? 0 : 4)
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        func put(_ value: Int, _ width: Int, then separator: UInt8?) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                out[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            offset += width
            if let separator {
                out[offset] = separator
                offset += 1
            }
        }
        put(c.year, 4, then: dateSeparator)
        put(c.month, 2, then: dateSeparator)
        put(c.day, 2, then: UInt8(ascii: "T"))
        put(c.hour, 2, then: timeSeparator)
        put(c.minute, 2, then: timeSeparator)
        if let milliseconds {
            put(c.second, 2, then: UInt8(ascii: "."))
            put(milliseconds, 3, then: UInt8(ascii: "Z"))
        } else {
            put(c.second, 2, then: UInt8(ascii: "Z"))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `20150830`, the SigV4 credential-scope date.
    public static func scopeDate(_ date: Date) -> String {
        let c = utcComponents(date)
        return digits([(c.year, 4), (c.month, 2), (c.day, 2)], separators: ["", "", ""])
    }

    /// Zero-padded decimal fields, each followed by its separator (no `String(format:)`, which
    /// goes through Foundation's formatter on every signed request).
    static func digits(_ fields: [(value: Int, width: Int)], separators: [String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        for (index, field) in fields.enumerated() {
            let value = max(field.value, 0)
            var width = 1
            var power = 10
            while power <= value {
                width += 1
                power *= 10
            }
            width = max(width, field.width)
            let start = out.count
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
            var rest = value
            var position = start + width - 1
            while rest > 0 {
                out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                position -= 1
            }
            out += separators[index].utf8
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` as IAM, STS, ECS and IMDS write it.
    public static func parse(_ text: String) -> Date? {
        let s = Array(ASCII.trimmingBlanks(text).utf8)
        guard s.count >= 19 else { return nil }
        func num(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<(from + count) {
                guard i < s.count, s[i] >= 48, s[i] <= 57 else { return nil }
                v = v * 10 + Int(s[i] - 48)
            }
            return v
        }
        guard let year = num(0, 4), s[4] == UInt8(ascii: "-"), let month = num(5, 2), s[7] == UInt8(ascii: "-"),
            let day = num(8, 2), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: " "), let hour = num(11, 2),
            s[13] == UInt8(ascii: ":"), let minute = num(14, 2), s[16] == UInt8(ascii: ":"), let second = num(17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < s.count, s[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < s.count, s[index] >= 48, s[index] <= 57 {
                fraction += Double(s[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        if index < s.count {
            switch s[index] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                index += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign = s[index] == UInt8(ascii: "+") ? 1 : -1
                guard let oh = num(index + 1, 2) else { return nil }
                var om = 0
                if index + 3 < s.count, s[index + 3] == UInt8(ascii: ":") {
                    guard let m = num(index + 4, 2) else { return nil }
                    om = m
                    index += 6
                } else if let m = num(index + 3, 2) {
                    om = m
                    index += 5
                } else {
                    index += 3
                }
                offset = sign * (oh * 3600 + om * 60)
            default:
                return nil
            }
        }
        guard index == s.count else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
            return nil
        }
        let seconds = CivilCalendar.seconds(
            year: Int64(year), month: Int64(month), day: Int64(day), hour: Int64(hour), minute: Int64(minute),
            second: Int64(second))
        return Date(timeIntervalSince1970: Double(seconds) - Double(offset) + fraction)
    }

    /// Parses an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
    public static func parseHTTPDate(_ text: String) -> Date? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(separator: " ")
        guard parts.count == 6, let day = Int(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3])
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let h = Int(time[0]), let m = Int(time[1]), let sec = Int(time[2]) else { return nil }
        // Whatever a server sends, nothing out of range reaches the arithmetic.
        guard (1...9999).contains(year), (1...31).contains(day), (0..<24).contains(h), (0..<60).contains(m),
            (0..<61).contains(sec)
        else { return nil }
        let seconds = CivilCalendar.seconds(
            year: Int64(year), month: Int64(monthIndex + 1), day: Int64(day), hour: Int64(h), minute: Int64(m),
            second: Int64(sec))
        return Date(timeIntervalSince1970: Double(seconds))
    }

    struct Components {
        var year, month, day, hour, minute, second: Int
    }

    static func utcComponents(_ date: Date) -> Components {
        utcComponents(seconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    static func utcComponents(seconds: Int64) -> Components {
        let (days, daySeconds) = CivilCalendar.floorDivide(seconds, 86_400)
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        return Components(
            year: Int(year), month: Int(month), day: Int(day), hour: Int(daySeconds / 3600),
            minute: Int(daySeconds / 60 % 60), second: Int(daySeconds % 60))
    }
}
