import Foundation
import TestSupport
import Testing

@testable import BatchEngine

@Suite("--accounts lists")
struct AccountListTests {
    @Test("ids by commas, spaces or lines; duplicates dropped; comments in files")
    func parses() throws {
        #expect(
            try AccountOptions.parseList("111111111111, 222222222222 111111111111")
                == ["111111111111", "222222222222"])
        let file = "# the leavers' accounts\n111111111111\n\n222222222222 # prod\r\n"
        #expect(try AccountOptions.parseList("@f", readFile: { _ in file }) == ["111111111111", "222222222222"])
        let windows = "\u{FEFF}111111111111\r\n222222222222\r\n"
        #expect(
            try AccountOptions.parseList("@f", readFile: { _ in windows }) == ["111111111111", "222222222222"],
            "CRLF line ends and a byte-order mark")
    }

    @Test(
        "a bad entry is an error naming it (and the file's line); nothing or an unreadable file too",
        arguments: [
            ("12345", "--accounts: '12345' has 5 digits; an AWS account id has exactly 12 (keep its leading zeros)"),
            ("111111111111,abc", "--accounts: 'abc' is not an AWS account id (12 digits)"),
            (" , ", "--accounts: no account id given"),
        ])
    func refuses(value: String, message: String) {
        do {
            _ = try AccountOptions.parseList(value)
            Issue.record("\(value) was accepted")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test("a file: the line of a bad entry; a file past the size limit; a missing file")
    func files() throws {
        do {
            _ = try AccountOptions.parseList("@ids.txt", readFile: { _ in "111111111111\n22222\n" })
            Issue.record("accepted")
        } catch {
            #expect(error.message.hasPrefix("--accounts: ids.txt line 2: '22222' has 5 digits"))
        }
        let dir = try TemporaryDirectory()
        let big = try dir.write(
            "big.txt", String(repeating: "111111111111\n", count: AccountOptions.maxListBytes / 13 + 2))
        #expect(throws: AccountListError.self) { _ = try AccountOptions.parseList("@" + big) }
        #expect(throws: AccountListError.self) { _ = try AccountOptions.parseList("@" + dir.path + "/missing.txt") }
    }
}
