import CSVStream
import ConsoleAccess
import TestSupport
import Testing

@testable import BatchEngine

/// The ASCII fast paths in `InputColumns` must never accept what `Validation` refuses, and must
/// accept every plain ASCII value it accepts.
@Suite("Input fast paths agree with Validation")
struct InputFastPathTests {
    private static let alphabet: [Character] = Array(
        "abcXYZ019_+=,.@- !\"#$%&'()*/:;<>?[\\]^`{|}~\t\n\r\u{7F}\u{0}é\u{FF}\u{100}€😀\u{301}")

    private static func randomString(_ generator: inout SplitMix64, maxLength: Int) -> String {
        let length = Int.random(in: 0...maxLength, using: &generator)
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    @Test("the limits the fast paths hard-code are Validation's")
    func limits() {
        #expect(Validation.maxUserNameLength == 64)
        #expect(Validation.maxPasswordLength == 128)
    }

    @Test("user names: 20,000 random strings")
    func userNames() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let name = InputFastPathTests.randomString(&generator, maxLength: 70)
            let fast = InputColumns.isPlainValidUserName(name)
            let slow = Validation.checkUserName(name) == nil
            if fast { #expect(slow, "fast path accepted \(name.debugDescription)") }
            if name.utf8.allSatisfy({ $0 < 0x80 }) { #expect(fast == slow, "\(name.debugDescription)") }
        }
        for allowed in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-" {
            #expect(InputColumns.isPlainValidUserName(String(allowed)))
        }
        #expect(InputColumns.isPlainValidUserName(String(repeating: "a", count: 64)))
        #expect(!InputColumns.isPlainValidUserName(String(repeating: "a", count: 65)))
        #expect(!InputColumns.isPlainValidUserName(""))
    }

    @Test("passwords: 20,000 random strings")
    func passwords() {
        var generator = SplitMix64(seed: 11)
        for _ in 0..<20_000 {
            let password = InputFastPathTests.randomString(&generator, maxLength: 135)
            let fast = InputColumns.isPlainValidPassword(password)
            let slow = Validation.checkPassword(password) == nil
            #expect(fast == slow, "fast path and Validation disagree")
        }
        // Near the length limit, with one- and two-byte characters.
        let allowed: [Character] = ["a", "Z", " ", "~", "\u{7F}", "\u{80}", "é", "ÿ", "\t"]
        for _ in 0..<2000 {
            let length = Int.random(in: 120...136, using: &generator)
            let password = String((0..<length).map { _ in allowed.randomElement(using: &generator)! })
            #expect(InputColumns.isPlainValidPassword(password) == (Validation.checkPassword(password) == nil))
        }
        #expect(InputColumns.isPlainValidPassword(String(repeating: "a", count: 128)))
        #expect(InputColumns.isPlainValidPassword(String(repeating: "ÿ", count: 128)))
        #expect(!InputColumns.isPlainValidPassword(String(repeating: "é", count: 129)))
        #expect(InputColumns.isPlainValidPassword("\u{7F}\u{80}\t\r\n "))
        #expect(!InputColumns.isPlainValidPassword(String(repeating: "a", count: 129)))
        #expect(!InputColumns.isPlainValidPassword(""))
    }

    @Test("rows checked on raw bytes get the same results as through strings (4,000 random rows)")
    func rawPathAgrees() throws {
        var generator = SplitMix64(seed: 3)
        let users = ["alice", "B0b", "x.y@z", " ", "\t", "é", "a b", "", "-", String(repeating: "a", count: 64), "😀"]
        let actions = [
            "enable", "DISABLE", "Onboard", "offBoard", " enable", "enable ", "enabel", "", "en able", "ENABLE",
        ]
        let passwords = [
            "", "Pass-1", " sp ", "é", "\t", "\r\n", "€", String(repeating: "x", count: 128), "\u{7F}", ",",
        ]
        let layouts = [
            InputColumns(user: 0, action: 1, password: 2, count: 3),
            InputColumns(user: 0, action: 1, password: nil, count: 2),
            InputColumns(user: 2, action: 0, password: 1, count: 4),
        ]
        for _ in 0..<4000 {
            let columns = layouts.randomElement(using: &generator)!
            var fields = Array(repeating: "extra", count: columns.count)
            fields[columns.user] = (0..<Int.random(in: 1...2, using: &generator)).map { _ in
                users.randomElement(using: &generator)!
            }.joined()
            fields[columns.action] = actions.randomElement(using: &generator)!
            if let password = columns.password {
                fields[password] = (0..<Int.random(in: 0...2, using: &generator)).map { _ in
                    passwords.randomElement(using: &generator)!
                }.joined()
            }
            if Int.random(in: 0..<20, using: &generator) == 0 { fields.append("x") }
            let reader = try CSVReader(.bytes(try CSVWriter.encode(fields)))
            let viaBytes = try #require(
                try reader.withNextRecord { raw in (columns.validate(raw), columns.check(raw), raw.strings) })
            #expect(viaBytes.2 == fields)
            let viaStrings = columns.validate(CSVRecord(fields: fields, line: 1))
            #expect(viaBytes.0 == viaStrings, "\(fields.debugDescription)")
            #expect(viaBytes.1 == RowCheck(viaStrings), "\(fields.debugDescription)")
        }
    }
}
