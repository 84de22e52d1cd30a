import ArgumentParser
import BatchEngine
import ConsoleAccess

/// Many accounts: where rows without an `account` cell run, and how each member account is
/// reached. Shared by `batch` and `review`.
struct AccountsOptions: ParsableArguments {
    @Option(
        name: .customLong("accounts"),
        help: ArgumentHelp(
            "Run every row without an account cell in each of these accounts: 12-digit ids separated by commas, or @FILE with one per line (# comments). The caller's own account uses its own credentials; the others, the role --role-name.",
            valueName: "ids|@file"))
    var accounts: String?

    @Flag(
        name: .customLong("organization"),
        help:
            "Run every row without an account cell in each ACTIVE account of the organization (organizations:ListAccounts, from the management account or a delegated administrator)."
    )
    var organization = false

    @Option(
        name: .customLong("exclude-accounts"),
        help: ArgumentHelp(
            "Never work in these accounts (ids or @FILE, as --accounts), whatever names them.", valueName: "ids|@file"))
    var excludeAccounts: String?

    @Option(
        name: .customLong("role-name"),
        help: ArgumentHelp(
            "The role assumed in each other account: arn:aws:iam::ACCOUNT:role/NAME.", valueName: "name"))
    var roleName = AccountOptions.defaultRoleName

    @Option(
        name: .customLong("external-id"),
        help: ArgumentHelp(
            "The external id the member role's trust policy asks for (prefer CONSOLE_ACCESS_EXTERNAL_ID in the environment: argv is visible to other users).",
            valueName: "id"))
    var externalId: String?

    @Option(
        name: .customLong("role-session-name"),
        help: ArgumentHelp("The session name for the member roles (CloudTrail shows it).", valueName: "name"))
    var roleSessionName: String?

    @Option(
        name: .customLong("accounts-concurrency"),
        help:
            "At most this many accounts worked at once (each has its own rate limiter); never more than --concurrency.")
    var accountsConcurrency = 4

    func validate() throws {
        if accounts != nil && organization {
            throw ValidationError("--accounts and --organization both say where rows run: give one")
        }
        if excludeAccounts != nil && accounts == nil && !organization {
            throw ValidationError("--exclude-accounts needs --accounts or --organization")
        }
        guard (1...64).contains(accountsConcurrency) else {
            throw ValidationError("--accounts-concurrency must be 1-64")
        }
        let name = roleName
        guard !name.isEmpty, name.utf8.count <= 512,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-/".contains($0)) }),
            !name.hasPrefix("/"), !name.hasSuffix("/")
        else {
            throw ValidationError(
                "--role-name: not a role name (letters, digits and +=,.@_- with an optional path/, up to 512 characters)"
            )
        }
        if let externalId, let problem = AccountOptions.externalIdProblem(externalId) {
            throw ValidationError("--external-id: \(problem)")
        }
        if let session = roleSessionName {
            guard (2...64).contains(session.count),
                session.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-".contains($0)) })
            else {
                throw ValidationError("--role-session-name: 2-64 characters of letters, digits and +=,.@_-")
            }
        }
    }

    /// The options for the engine; `environment` gives `CONSOLE_ACCESS_EXTERNAL_ID`.
    func options(reportAbsent: Bool, environment: [String: String]) throws -> AccountOptions {
        var targets = AccountOptions.Targets.caller
        do {
            if let accounts { targets = .list(try AccountOptions.parseList(accounts)) }
            if organization { targets = .organization }
            let exclude = try excludeAccounts.map { try AccountOptions.parseList($0, option: "--exclude-accounts") }
            let externalId =
                self.externalId ?? environment["CONSOLE_ACCESS_EXTERNAL_ID"].flatMap { $0.isEmpty ? nil : $0 }
            if let externalId, let problem = AccountOptions.externalIdProblem(externalId) {
                throw ValidationError("CONSOLE_ACCESS_EXTERNAL_ID: \(problem)")
            }
            return AccountOptions(
                targets: targets, exclude: Set(exclude ?? []), roleName: roleName, externalId: externalId,
                sessionName: roleSessionName, concurrency: accountsConcurrency, reportAbsent: reportAbsent)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
