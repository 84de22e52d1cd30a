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
