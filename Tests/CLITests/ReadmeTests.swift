import Foundation
import TestSupport
import Testing

/// Keeps README true: every `console-access` command line it shows names a real subcommand, and
/// every option it shows for a subcommand is one that subcommand accepts. (`make demo` runs the
/// main commands for real.)
@Suite("README stays true")
struct ReadmeTests {
    static let readme: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    /// `console-access <sub> ...` lines inside code blocks.
    static var commandLines: [String] {
        var lines: [String] = []
        var inCode = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inCode.toggle()
                continue
            }
            guard inCode else { continue }
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("$ ") { text.removeFirst(2) }
            if let pipe = text.range(of: "| console-access ") { text = String(text[pipe.lowerBound...].dropFirst(2)) }
            if text.hasPrefix("console-access ") { lines.append(text) }
        }
        return lines
    }

    func helpText(_ subcommand: String) async throws -> String {
        let result = try await CLI.run([subcommand, "--help"])
        #expect(result.status == 0, "console-access \(subcommand) --help")
        return result.stdout
    }

    @Test("README shows commands")
    func hasCommands() {
        #expect(Self.commandLines.count >= 8, "\(Self.commandLines)")
    }

    @Test("every command line in README uses a real subcommand and real options")
    func commandsAreReal() async throws {
        var help: [String: String] = [:]
        for line in Self.commandLines {
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 1 else { continue }
            let subcommand = words[1]
            if subcommand.hasPrefix("<") || subcommand == "help" { continue }
            if help[subcommand] == nil { help[subcommand] = try await helpText(subcommand) }
            let text = help[subcommand] ?? ""
            for word in words where word.hasPrefix("--") {
                let option = String(word.prefix { $0 != "=" && $0 != "]" && $0 != ")" && $0 != "|" })
                #expect(
                    text.contains(option),
                    "README: `\(line)` uses \(option), which `\(subcommand)` does not accept")
            }
        }
    }

    @Test("every option in README's option tables exists on its command")
    func optionTables() async throws {
        // Sections "### batch", "### modify", ... hold tables whose first cell names options.
        var current: String?
        var checked = 0
        for line in Self.readme.split(separator: "\n") {
            if line.hasPrefix("### `") {
                current = line.dropFirst(5).prefix { $0 != "`" }.description
                continue
            }
            if line.hasPrefix("## ") { current = nil }
            guard let subcommand = current, line.hasPrefix("| `--") else { continue }
            let cell = line.dropFirst(2).prefix { $0 != "|" }
            let text = try await helpText(subcommand)
            for piece in cell.split(separator: "`") where piece.hasPrefix("--") {
                let option = String(piece.prefix { $0 != " " })
                #expect(text.contains(option), "README table for \(subcommand): \(option) is not an option of it")
                checked += 1
            }
        }
        #expect(checked >= 25)
    }
}
