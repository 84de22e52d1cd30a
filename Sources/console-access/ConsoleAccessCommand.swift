import ArgumentParser

@main
struct ConsoleAccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-access",
        abstract: "Turn HR and access-review CSV files into AWS IAM console-access changes.",
        subcommands: [ValidateCommand.self]
    )
}
