import AWSQuery

/// Why a row, or a whole run, is refused before any change. Each has a stable code (the
/// report's `error_code`) and a readable description that never contains a password.
public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user name breaks IAM's rules.
    case invalidUserName(Validation.UserNameProblem)
    /// An enable or reset row without a password.
    case missingPassword(ConsoleAction)
    /// The password breaks IAM's character set or length.
    case invalidPassword(Validation.PasswordProblem)
    /// The password breaks the account password policy (each violation described).
    case passwordPolicy(violations: [String])
    /// A disable row for the identity running the tool.
    case selfDisable(callerArn: String)
    /// The file would disable more users than `--max-disable` allows.
    case blastRadius(disables: Int, limit: Int)

    /// The report's `error_code` for a row refused this way.
    public var code: String {
        switch self {
        case .invalidUserName: "invalid-user-name"
        case .missingPassword: "missing-password"
        case .invalidPassword: "invalid-password"
        case .passwordPolicy: "password-policy"
        case .selfDisable: "self-disable"
        case .blastRadius: "blast-radius"
        }
    }

    public var description: String {
        switch self {
        case .invalidUserName(let problem): problem.description
        case .missingPassword(let action):
            action == .restore
                ? "restore needs a password to enable console access again (give one, or use --generate-passwords)"
                : "\(action.rawValue) needs a password"
        case .invalidPassword(let problem): problem.description
        case .passwordPolicy(let violations): "password rejected: " + violations.joined(separator: "; ")
        case .selfDisable(let arn): "refusing to disable the console access of the identity running this tool (\(arn))"
        case .blastRadius(let disables, let limit):
            "this file would disable \(disables) users, more than --max-disable \(limit) allows; nothing was changed. Check the file, then rerun with --max-disable \(disables) if it is right"
        }
    }
}

/// What a report row says about the error a row ended with: the one mapping from any error to
/// the row's status, code, message, HTTP status and request id.
public struct RowFailure: Sendable, Equatable {
    /// `invalid` for a refusal, else `failed` (a missing user is decided by the step that knows
    /// the call named the user, not here).
    public var status: OutcomeStatus
    public var code: String
    public var message: String
    public var httpStatus: Int?
    public var requestId: String?

    /// The code of a row stopped by cancellation (a stop signal after the grace period).
    public static let cancelledCode = "Cancelled"
    /// The code of a failure to find credentials.
    public static let noCredentialsCode = "NoCredentials"
    /// The code of an error of no known kind.
    public static let unknownCode = "Error"

    public init(_ error: any Error) {
        status = .failed
        switch error {
        case let refusal as Refusal:
            status = .invalid
            code = refusal.code
            message = refusal.description
        case let error as AWSServiceError:
            code = error.code
            message = error.description
            httpStatus = error.httpStatus
            requestId = error.requestId
        case let error as AWSClientError:
            code = error.code
            message = error.description
            httpStatus = error.httpStatus
        case is CancellationError:
            code = Self.cancelledCode
            message = "stopped before the row finished"
        case let error as CredentialError:
            code = Self.noCredentialsCode
            message = error.description
        case let error as AWSConfigurationError:
            code = "InvalidConfiguration"
            message = error.description
        default:
            code = Self.unknownCode
            message = "\(error)"
        }
    }

    /// True when the failure is about who we are or what we may do (exit code 3).
    public var isCredentialsProblem: Bool {
        Self.isCredentialsProblem(code: code)
    }

    /// The same, for a code already in a report or outcome.
    public static func isCredentialsProblem(code: String) -> Bool {
        code == noCredentialsCode || AWSErrorCode(code).isAuthorization
    }
}
