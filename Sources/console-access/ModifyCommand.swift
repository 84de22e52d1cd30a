import AWSQuery
import ArgumentParser
import ConsoleAccess
import Foundation

struct ModifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modify",
        abstract: "Enable, reset or disable one IAM user's console access.",
        discussion: """
            --enable creates the user's login profile with a password that must be changed at first \
            sign-in, and attaches the AWS managed policy IAMUserChangePassword so the user can change \
            it. A user who already has a login profile keeps their password (unchanged; the policy is \
            still ensured) unless --reset-existing is given. --reset sets a new temporary password on \
            an existing login profile and never creates one. --disable deletes the login profile.

            Before any change, sts:GetCallerIdentity confirms who is acting.

            Exit codes: 0 changed or already as asked; 1 the change failed or the user does not exist; \
            2 usage or input error; 3 credentials or authorization failure.
            """)

    @Option(help: "The IAM user name.")
    var user: String

    @Flag(help: "Enable console access (needs a password).")
    var enable = false

    @Flag(help: "Disable console access.")
    var disable = false

    @Flag(help: "Set a new temporary password on an existing login profile (needs a password).")
    var reset = false

    @OptionGroup var change: ChangeOptions

    @OptionGroup var passwordOptions: PasswordOptions

    @OptionGroup var revoke: RevokeOptions

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Result format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard [enable, disable, reset].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --enable, --reset or --disable")
        }
        if (enable || reset) && passwordOptions.sourceCount == 0 {
            throw ValidationError(
                "--\(enable ? "enable" : "reset") needs a password: --password-stdin, --password-env VAR or --password")
        }
        if passwordOptions.sourceCount > 1 {
            throw ValidationError("give the password one way only: --password, --password-stdin or --password-env")
        }
        if disable && passwordOptions.sourceCount > 0 {
            throw ValidationError("--disable takes no password")
        }
        if revoke.given && !disable {
            throw ValidationError(
                "--\(revoke.deactivateAccessKeys ? "deactivate-access-keys" : "revoke") goes with --disable")
        }
        if change.resetExisting && !enable {
            throw ValidationError("--reset-existing goes with --enable (--reset always sets the password)")
        }
        if change.waitForUser.duration > .zero && disable {
            throw ValidationError("--wait-for-user goes with --enable or --reset (disable never waits)")
        }
    }

    func run() async throws {
        let logger = connection.makeLogger()
        let password = try passwordOptions.resolve()
        let request = ModifyRequest(
            user: user, action: enable ? .enable : reset ? .reset : .disable, password: password,
            revoke: revoke.kinds, resetExisting: change.resetExisting,
            waitForUser: change.userWait, aws: try connection.awsConfiguration(logger: logger))
        let result = await ConsoleAccessAPI.modify(request)
        for note in result.notes { printError("note: \(note)") }
        switch output {
        case .text:
            if let error = result.setupError {
                printError("error: \(error.message)")
            } else {
                print(OutcomeText.line(result.outcome))
            }
        case .json:
            print(jsonLine(ModifyJSON(result)))
        }
        let status = result.exitStatus
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

enum OutcomeText {
    static func line(_ outcome: Outcome) -> String {
        var text = "\(outcome.action.rawValue) \(outcome.user): \(outcome.status.rawValue)"
        if !outcome.detail.isEmpty { text += " (\(outcome.detail))" }
        if outcome.status == .failed, let message = outcome.message { text += ": \(message)" }
        if let requestId = outcome.requestId { text += " [request id \(requestId)]" }
        return text
    }
}

struct ModifyJSON: Encodable {
    let user: String
    let action: String
    let status: String
    let changes: [String]
    let detail: String
    let errorCode: String?
    let message: String?
    let requestId: String?
    let attempts: Int
    let deactivatedKeys: [String]
    let revoked: [RevokedCredential]
    let callerArn: String?
    let notes: [String]
    let exitCode: Int32

    init(_ result: ModifyResult) {
        let outcome = result.outcome
        user = outcome.user
        action = outcome.action.rawValue
        status = result.setupError == nil ? outcome.status.rawValue : "failed"
        changes = outcome.changes.map(\.rawValue)
        detail = outcome.detail
        errorCode = result.setupError?.errorCode ?? outcome.errorCode
        message = result.setupError?.message ?? outcome.message
        requestId = result.setupError?.requestId ?? outcome.requestId
        attempts = outcome.attempts
        deactivatedKeys = outcome.deactivatedKeys
        revoked = outcome.revoked
        callerArn = result.caller?.arn
        notes = result.notes
        exitCode = result.exitStatus.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case user, action, status, changes, detail, message, attempts, notes, revoked
        case errorCode = "error_code"
        case requestId = "request_id"
        case deactivatedKeys = "deactivated_keys"
        case callerArn = "caller_arn"
        case exitCode = "exit_code"
    }
}
