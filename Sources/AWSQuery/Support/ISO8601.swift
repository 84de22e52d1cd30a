import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Timestamp formatting and parsing without shared formatter state.
public enum ISO8601 {
    /// `2015-08-30T12:36:00Z`
    public static func format(_ date: Date) -> String {
        let c = utcComponents(date)
        return digits(
            [(c.year, 4), (c.month, 2), (c.day, 2), (c.hour, 2), (c.minute, 2), (c.second, 2)],
            separators: ["-", "-", "T", ":", ":", "Z"])
    }

    /// `20150830T123600Z`, the SigV4 `x-amz-date` form.
    public static func amzDate(_ date: Date) -> String {
        let c = utcComponents(date)
        guard (0...9999).contains(c.year) else {
            return digits(
                [(c.year, 4), (c.month, 2), (c.day, 2), (c.hour, 2), (c.minute, 2), (c.second, 2)],
                separators: ["", "", "T", "", "", "Z"])
        }
        // Signed once per request: 16 bytes written in place, no arrays.
        return String(unsafeUninitializedCapacity: 16) { out in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    out[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(c.year, 4, at: 0)
            put(c.month, 2, at: 4)
            put(c.day, 2, at: 6)
            out[8] = UInt8(ascii: "T")
            put(c.hour, 2, at: 9)
            put(c.minute, 2, at: 11)
            put(c.second, 2, at: 13)
            out[15] = UInt8(ascii: "Z")
            return 16
        }
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
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month - 1)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(hour)
        tm.tm_min = Int32(minute)
        tm.tm_sec = Int32(second)
        let seconds = timegm(&tm)
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
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(monthIndex)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(h)
        tm.tm_min = Int32(m)
        tm.tm_sec = Int32(sec)
        return Date(timeIntervalSince1970: Double(timegm(&tm)))
    }

    struct Components {
        var year, month, day, hour, minute, second: Int
    }

    static func utcComponents(_ date: Date) -> Components {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var result = tm()
        gmtime_r(&t, &result)
        return Components(
            year: Int(result.tm_year) + 1900, month: Int(result.tm_mon) + 1, day: Int(result.tm_mday),
            hour: Int(result.tm_hour), minute: Int(result.tm_min), second: Int(result.tm_sec))
    }
}
