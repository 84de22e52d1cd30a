import Foundation

/// The spellings a server could echo a password back in, for tests that check none of them
/// leaks: raw, percent-encoded (upper and lower hex, `+` for space, Latin-1 bytes), HTML/XML
/// escaped (named, decimal, hex, Latin-1 names), whitespace-collapsed, double-encoded, and
/// truncated at either end.
public enum PasswordEncodings {
    /// Passwords with spaces, `&`, `%`, `+`, `<`, quotes and Latin-1 letters (all valid IAM passwords).
    public static let hostilePasswords = [
        "Sp ace&amp%+<q\"'éüßÿ9Zz",
        "  two  spaces & <tag> 100% +plus",
        "ÿüß é&<\"'%+x-Long-Enough",
        "P@ss w0rd+%21&lt;ü",
    ]

    /// Every spelling of `password`, by name.
    public static func all(_ password: String) -> [(name: String, text: String)] {
        let scalars = Array(password.unicodeScalars)
        var forms: [(String, String)] = [
            ("raw", password),
            ("percent upper", percent(password, lower: false, plusForSpace: false, latin1: false)),
            ("percent lower", percent(password, lower: true, plusForSpace: false, latin1: false)),
            ("form (+ for space)", percent(password, lower: false, plusForSpace: true, latin1: false)),
            ("form lower", percent(password, lower: true, plusForSpace: true, latin1: false)),
            ("percent Latin-1", percent(password, lower: false, plusForSpace: false, latin1: true)),
            ("html named", html(password, style: .named)),
            ("html decimal", html(password, style: .decimal)),
            ("html hex", html(password, style: .hex)),
            ("html hex upper X", html(password, style: .hexUpper)),
            (
                "double percent",
                percent(
                    percent(password, lower: false, plusForSpace: false, latin1: false), lower: false,
                    plusForSpace: false, latin1: false)
            ),
            ("double html", html(html(password, style: .named), style: .named)),
            (
                "whitespace collapsed",
                password.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            ),
            (
                "whitespace as newline",
                password.split(separator: " ", omittingEmptySubsequences: true).joined(separator: "\n  ")
            ),
        ]
        // As our own outputs would quote it: JSON strings and CSV fields.
        forms.append(
            (
                "json string",
                password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            ))
        forms.append(("csv field", password.replacingOccurrences(of: "\"", with: "\"\"")))
        // Truncated: the server cut the message inside the password, or shows only its end.
        let cut = max(1, scalars.count - 8)
        forms.append(("truncated end", String(String.UnicodeScalarView(scalars.prefix(scalars.count - cut / 2)))))
        forms.append(("truncated start", String(String.UnicodeScalarView(scalars.suffix(scalars.count - cut / 2)))))
        return forms
    }

    static func percent(_ text: String, lower: Bool, plusForSpace: Bool, latin1: Bool) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar)
                || "-._~".unicodeScalars.contains(scalar)
            {
                result.unicodeScalars.append(scalar)
                continue
            }
            if scalar == " " && plusForSpace {
                result += "+"
                continue
            }
            let bytes: [UInt8] = latin1 && scalar.value < 0x100 ? [UInt8(scalar.value)] : Array(String(scalar).utf8)
            for byte in bytes { result += "%" + String(format: lower ? "%02x" : "%02X", byte) }
        }
        return result
    }

    enum HTMLStyle { case named, decimal, hex, hexUpper }

    static func html(_ text: String, style: HTMLStyle) -> String {
        let names: [Unicode.Scalar: String] = [
            "&": "amp", "<": "lt", ">": "gt", "\"": "quot", "'": "#39", "é": "eacute", "ü": "uuml", "ß": "szlig",
            "ÿ": "yuml",
        ]
        var result = ""
        for scalar in text.unicodeScalars {
            let plain =
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == " ")
            switch style {
            case .named:
                if let name = names[scalar] { result += "&\(name);" } else { result.unicodeScalars.append(scalar) }
            case .decimal:
                if plain { result.unicodeScalars.append(scalar) } else { result += "&#\(scalar.value);" }
            case .hex:
                if plain {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += "&#x" + String(scalar.value, radix: 16) + ";"
                }
            case .hexUpper:
                if plain {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += "&#X00" + String(scalar.value, radix: 16, uppercase: true) + ";"
                }
            }
        }
        return result
    }

    /// The forms of `password` that `text` contains (empty when none leaked).
    public static func leaks(of password: String, in text: String) -> [String] {
        all(password).filter { text.contains($0.text) }.map(\.name)
    }

    /// Text that XML-escapes `text` (so an XML answer carries it as is).
    public static func xmlEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
