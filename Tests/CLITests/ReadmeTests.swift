import AWSQuery
import Foundation
import TestSupport
import Testing

/// Keeps README true: every `console-access` command line it shows names a real subcommand, and
/// every option it shows for a subcommand is one that subcommand accepts; every example command
/// line runs, against a moto server, and a shown transcript matches what the tool prints.
/// (`make demo` runs the main commands on the sample files as well.)
@Suite("README stays true")
struct ReadmeTests {
    static let readme: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    /// Example commands in code blocks, as written (shell lines, pipes included), each with the
    /// output shown after it when the block is a `$ command` transcript. Synopsis lines
    /// (`<placeholders>`, `[options]`) are left out.
    static var examples: [(line: String, transcript: [String]?)] {
        var examples: [(line: String, transcript: [String]?)] = []
        var inCode = false
        var transcript: (line: String, output: [String])?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if inCode, let open = transcript { examples.append((open.line, open.output)) }
                transcript = nil
                inCode.toggle()
                continue
            }
            guard inCode else { continue }
            if line.hasPrefix("$ console-access ") {
                if let open = transcript { examples.append((open.line, open.output)) }
                transcript = (String(line.dropFirst(2)), [])
            } else if transcript != nil {
                transcript?.output.append(String(line))
            } else if line.contains("console-access "), !line.contains("<"), !line.contains("[") {
                examples.append((String(line), nil))
            }
        }
        return examples
    }

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

    @Test(
        "every example command line in README runs against moto, and its transcript is what the tool prints",
        .enabled(if: ProcessInfo.processInfo.environment["CONSOLE_ACCESS_MOTO_SERVER"] != nil, "\(Moto.skipReason)"))
    func examplesRun() async throws {
        #expect(Self.examples.count >= 6, "\(Self.examples.map(\.line))")
        let moto = try #require(try await PrivateMoto.start(), "CONSOLE_ACCESS_MOTO_SERVER is not set")
        defer { moto.stop() }
        // The users the examples name, in the state they assume.
        try await Moto.withSession(endpoint: moto.endpoint) { _, admin, _ in
            _ = try await admin.createUser("ana.silva")
            _ = try await admin.createUser("dana.kim")
            try await admin.createLoginProfile("dana.kim", password: "Old-Passw0rd-Dana!")
            _ = try await admin.createAccessKey("dana.kim")
            _ = try await admin.createUser("lee.park")
            try await admin.createLoginProfile("lee.park", password: "Old-Passw0rd-Lee!")
            _ = try await admin.createAccessKey("lee.park")
        }
        let dir = try TemporaryDirectory()
        _ = try dir.write("hr-offboarding.csv", "user,action\ndana.kim,disable\n")
        _ = try dir.write("leavers.csv", "user,action\nlee.park,disable\n")
        let config = try dir.write(
            "config", "[profile security-ops]\nregion = us-east-1\nendpoint_url = \(moto.endpoint)\n")
        let credentials = try dir.write(
            "credentials",
            "[security-ops]\naws_access_key_id = \(Moto.testCredentials.accessKeyId)\n"
                + "aws_secret_access_key = \(Moto.testCredentials.secretAccessKey)\n")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try FileManager.default.createSymbolicLink(
            atPath: dir.path + "/samples", withDestinationPath: root.appendingPathComponent("samples").path)
        let password = "Readme-Temp-Passw0rd!"
        let environment = CLI.isolatedEnvironment([
            "PATH": CLI.executable.deletingLastPathComponent().path + ":/usr/bin:/bin",
            "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_PROFILE": "security-ops",
            "TEMP_PASSWORD": password,
        ])
        for example in Self.examples {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", example.line + " 2>&1"]
            process.environment = environment
            process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
            let output = Pipe()
            process.standardOutput = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let printed = String(decoding: data, as: UTF8.self)
            if let transcript = example.transcript {
                // A transcript shows a run whose exit status is its point (1: invalid rows).
                #expect(
                    printed == transcript.joined(separator: "\n") + "\n",
                    "README: `\(example.line)` printed:\n\(printed)")
                #expect(process.terminationStatus <= 1, "README: `\(example.line)`")
            } else {
                #expect(
                    process.terminationStatus == 0,
                    "README: `\(example.line)` exited \(process.terminationStatus):\n\(printed)")
            }
            #expect(!printed.contains(password))
        }
        // What the examples did, in IAM: dana.kim offboarded, ana.silva onboarded.
        try await Moto.withSession(endpoint: moto.endpoint) { session, _, _ in
            #expect((try? await session.iam.getLoginProfile(userName: "dana.kim")) == nil)
            let keys = try await session.iam.listAccessKeys(userName: "dana.kim").value
            #expect(!keys.isEmpty && keys.allSatisfy { $0.status == .inactive })
            #expect((try? await session.iam.getLoginProfile(userName: "ana.silva")) != nil)
            // lee.park offboarded with --revoke, then restored from the emitted file.
            #expect((try? await session.iam.getLoginProfile(userName: "lee.park")) != nil)
            #expect(try await session.iam.listAccessKeys(userName: "lee.park").value.map(\.status) == [.active])
        }
    }
}
