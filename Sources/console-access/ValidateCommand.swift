import ArgumentParser
import BatchEngine
import CSVStream
import Foundation

/// A field delimiter given on the command line: one ASCII character, or a name.
struct DelimiterArgument: ExpressibleByArgument, Sendable {
    let byte: UInt8

    init(byte: UInt8) {
        self.byte = byte
    }

    init?(argument: String) {
        switch argument.lowercased() {
        case "tab", "\\t", "\t": byte = 0x09
        case "comma": byte = UInt8(ascii: ",")
        case "semicolon": byte = UInt8(ascii: ";")
        case "pipe": byte = UInt8(ascii: "|")
        default:
            let utf8 = Array(argument.utf8)
            guard utf8.count == 1, (try? CSVReaderOptions.checkDelimiter(utf8[0])) != nil else { return nil }
            byte = utf8[0]
        }
    }

    static let comma = DelimiterArgument(byte: UInt8(ascii: ","))

    var defaultValueDescription: String { "comma" }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a batch input file without touching AWS (no credentials needed).",
        discussion: """
            Reads the whole file and checks every row: the header names the columns user \
            (or username, user_name), action and password; user names and passwords follow IAM's \
            rules; action is enable, disable or reset (or onboard/offboard/reset-password). Passwords \
            are never printed.

            Exit status: 0 every row is valid; 1 some rows are invalid (each is listed with its \
            line); 2 the file itself is broken (unreadable, not CSV, missing column), with the \
            reason on standard error.
            """
    )

    @Argument(help: "The batch input file, or - for standard input.")
    var file: String

    @Option(
        help: ArgumentHelp(
            "The field delimiter: one character, or tab, comma, semicolon, pipe.", valueName: "char"))
    var delimiter: DelimiterArgument = .comma

    @Option(help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let options = BatchInputOptions(delimiter: delimiter.byte)
        let input = CSVInput.argument(file)
        var out = BufferedStandardOutput()
        let report: InputValidationReport
        switch output {
        case .text:
            report = InputValidationReport.validate(input, options: options, collect: false) { row in
                switch row {
                case .valid(let line, _, let warnings):
                    for warning in warnings { out.write("line \(line): warning: \(warning)\n") }
                case .invalid(let error):
                    out.write("\(error)\n")
                }
            }
            if let fileError = report.fileError {
                out.flush()
                FileHandle.standardError.write(Data("error: \(fileError.message)\n".utf8))
            } else {
                out.write(ValidateCommand.summaryLine(report) + "\n")
            }
        case .json:
            report = InputValidationReport.validate(input, options: options, collect: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(report)
            out.write(String(decoding: data, as: UTF8.self) + "\n")
            if let fileError = report.fileError {
                out.flush()
                FileHandle.standardError.write(Data("error: \(fileError.message)\n".utf8))
            }
        }
        out.flush()
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    static func summaryLine(_ report: InputValidationReport) -> String {
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        var line =
            "\(report.file): \(plural(report.rows, "row")), \(report.valid) valid, \(report.invalid) invalid"
            + " (valid: \(report.byAction.enable) enable, \(report.byAction.disable) disable"
            + (report.byAction.reset > 0 ? ", \(report.byAction.reset) reset" : "")
            + (report.byAction.restore > 0 ? ", \(report.byAction.restore) restore)" : ")")
        if report.warningCount > 0 { line += ", \(plural(report.warningCount, "warning"))" }
        if report.emptyRowsSkipped > 0 { line += ", \(plural(report.emptyRowsSkipped, "empty row")) skipped" }
        return line
    }
}

/// Standard output through one buffer, written in large pieces.
struct BufferedStandardOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
