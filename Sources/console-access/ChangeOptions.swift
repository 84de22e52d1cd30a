import ArgumentParser
import ConsoleAccess

/// What enable and reset may do beyond their defaults: shared by `batch` and `modify`.
struct ChangeOptions: ParsableArguments {
    @Flag(
        name: .customLong("reset-existing"),
        help:
            "Enable: a user who already has console access gets the new temporary password too (as reset does). Off by default: an enabled user keeps their password."
    )
    var resetExisting = false

    @Option(
        name: .customLong("wait-for-user"),
        help: ArgumentHelp(
            "Enable/reset: while the user does not exist yet (a user created elsewhere moments ago), keep retrying with backoff for up to this long, e.g. 90s or 2m (max 1h). Disable never waits.",
            valueName: "duration"))
    var waitForUser: WaitDuration = WaitDuration(duration: .zero)

    var userWait: UserWait { UserWait(window: waitForUser.duration) }
}

/// A `--wait-for-user` value: `90s`, `2m`, `1h`, `500ms`, `0`.
struct WaitDuration: ExpressibleByArgument, Sendable {
    var duration: Duration

    init(duration: Duration) { self.duration = duration }

    init?(argument: String) {
        guard let duration = try? UserWait.parseDuration(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { duration == .zero ? "0 (no wait)" : "\(duration)" }
}

/// What disable revokes: `--revoke` and its older spelling `--deactivate-access-keys`, shared by
/// `batch` and `modify`.
struct RevokeOptions: ParsableArguments {
    @Option(
        name: .customLong("revoke"),
        help: ArgumentHelp(
            "Disable: what to revoke, comma-separated from console, keys, ssh, certs, service-credentials, mfa, or all. Credentials are set Inactive (MFA devices deactivated), never deleted; the login profile is deleted. Default: console.",
            valueName: "kinds"))
    var revoke: RevokeArgument?

    @Flag(
        name: .customLong("deactivate-access-keys"),
        help: "Disable: the same as --revoke console,keys.")
    var deactivateAccessKeys = false

    func validate() throws {
        if revoke != nil && deactivateAccessKeys {
            throw ValidationError(
                "give --revoke or --deactivate-access-keys (the same as --revoke console,keys), not both")
        }
    }

    /// True when either option was given.
    var given: Bool { revoke != nil || deactivateAccessKeys }

    var kinds: RevokeKinds {
        if deactivateAccessKeys { return .consoleAndKeys }
        return revoke?.kinds ?? .console
    }
}

/// A `--revoke` value, checked when parsed.
struct RevokeArgument: ExpressibleByArgument, Sendable {
    var kinds: RevokeKinds

    init?(argument: String) {
        guard let kinds = try? RevokeKinds(parsing: argument) else { return nil }
        self.kinds = kinds
    }
}
