import ConsoleAccess
import Testing

@testable import BatchEngine

/// SplitMix64: a small deterministic generator, so a failing seed can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
            if fast { #expect(slow, "fast path accepted a password it should not") }
            if password.utf8.allSatisfy({ $0 < 0x7F }) { #expect(fast == slow) }
        }
        #expect(InputColumns.isPlainValidPassword(String(repeating: "a", count: 128)))
        #expect(!InputColumns.isPlainValidPassword(String(repeating: "a", count: 129)))
        #expect(!InputColumns.isPlainValidPassword(""))
    }
}
