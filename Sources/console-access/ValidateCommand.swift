import ArgumentParser

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a batch input file without touching AWS (not implemented yet)."
    )

    func run() async throws {
        throw ExitCode(2)
    }
}
