import ArgumentParser
import ConsoleAccess
import Foundation

/// Where `modify --enable` gets its password: argv, standard input or an environment variable.
struct PasswordOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The new temporary password. Visible to other users in the process list and kept in shell history: prefer --password-stdin or --password-env.",
            valueName: "password"))
    var password: String?

    @Flag(
        name: .customLong("password-stdin"),
        help: "Read the password from standard input (one trailing newline is dropped).")
    var passwordStdin = false

    @Option(name: .customLong("password-env"), help: "Read the password from this environment variable.")
    var passwordEnv: String?

    var sourceCount: Int { [password != nil, passwordStdin, passwordEnv != nil].filter { $0 }.count }

    /// The password from the one source given, or nil when none was.
    func resolve() throws -> Password? {
        if let password {
            printError(
                "warning: --password puts the password in the process list and shell history; prefer --password-stdin or --password-env"
            )
            return Password(password)
        }
        if passwordStdin {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\r\n") {
                text.removeLast(2)
            } else if text.hasSuffix("\n") {
                text.removeLast()
            }
            guard !text.isEmpty else { throw ValidationError("--password-stdin: standard input is empty") }
            return Password(text)
        }
        if let name = passwordEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ValidationError("--password-env: the environment variable \(name) is not set or empty")
            }
            return Password(value)
        }
        return nil
    }
}
