import AWSQuery
import ConsoleAccess
import Foundation
import NIOConcurrencyHelpers

/// How the jobs of a batch run.
public struct RunOptions: Sendable {
    /// At most this many users in flight at once (1...64).
    public var concurrency: Int
    /// Read state and report what would change; change nothing.
    public var dryRun: Bool
    /// With disable rows: what to revoke (`--revoke`; default the console password only).
    public var revoke: RevokeKinds
    /// True when `--revoke` (or `--deactivate-access-keys`) was given: a row's own `revoke`
    /// cell then adds to it, never narrows it. Without it, a row's cell is what the row revokes.
    public var revokeGiven: Bool
    /// After a stop is requested, how long in-flight rows may take before they are cancelled.
    public var stopGrace: Duration
    /// `--reset-existing`: enable rows whose user already has a login profile set its password too.
    public var resetExisting: Bool
    /// `--wait-for-user`: enable and reset rows keep retrying while their user does not exist yet.
    public var waitForUser: UserWait

    public init(
        concurrency: Int = 4, dryRun: Bool = false, revoke: RevokeKinds = .console, revokeGiven: Bool = false,
        stopGrace: Duration = .seconds(15), resetExisting: Bool = false, waitForUser: UserWait = .none
    ) {
        self.concurrency = min(max(concurrency, 1), 64)
        self.dryRun = dryRun
        self.revoke = revoke
        self.revokeGiven = revokeGiven
        self.stopGrace = stopGrace
        self.resetExisting = resetExisting
        self.waitForUser = waitForUser
    }
}

/// The jobs of one IAM user, in file order. IAM user names are case-insensitive, so `Alice`
/// and `alice` share a lane.
struct Lane: Sendable {
    var jobs: [BatchJob]
}

/// Runs valid jobs: users in parallel (at most `concurrency` at once, structured concurrency,
/// no task per row), each user's rows in file order, one after another. Each finished row is
/// handed to `record` at once (the report is written and flushed per row).
public struct BatchRunner: Sendable {
    public let service: ConsoleAccessService
    public let options: RunOptions
    public let stop: StopController
    /// Where generated passwords go (`--generate-passwords`); enable jobs without a password get one.
    public let passwordFile: PasswordFile?

    public init(
        service: ConsoleAccessService, options: RunOptions, stop: StopController = StopController(),
        passwordFile: PasswordFile? = nil
    ) {
        self.service = service
        self.options = options
        self.stop = stop
        self.passwordFile = passwordFile
    }

    /// Groups jobs into per-user lanes, ordered by each user's first row.
    static func lanes(_ jobs: [BatchJob]) -> [Lane] {
        var order: [String] = []
        var byUser: [String: [BatchJob]] = [:]
        for job in jobs {
            let key = job.user.lowercased()
            if byUser[key] == nil { order.append(key) }
            byUser[key, default: []].append(job)
        }
        return order.map { Lane(jobs: byUser[$0]!) }
    }

    /// Notes for users listed with conflicting actions: by line, the detail to add.
    static func conflictNotes(_ jobs: [BatchJob]) -> [Int: String] {
        var notes: [Int: String] = [:]
        for lane in lanes(jobs) where Set(lane.jobs.map(\.action)).count > 1 {
            for job in lane.jobs {
                let others = lane.jobs.filter { $0.line != job.line && $0.action != job.action }.map { String($0.line) }
                notes[job.line] =
                    "conflict: this user also appears with a different action on line\(others.count == 1 ? "" : "s") \(others.joined(separator: ", ")); rows run in file order"
            }
        }
        return notes
    }

    /// Runs every job; returns the rows (line, account) that were started (the rest are `not-run`).
    func run(_ jobs: [BatchJob], record: @escaping @Sendable (BatchJob, Outcome, Date, Duration) -> Void) async
        -> Set<RowKey>
    {
        let lanes = Self.lanes(jobs)
        let started = NIOLockedValueBox(Set<RowKey>())
        let runner = self

        await withTaskGroup(of: Bool.self) { group in
            // `concurrency` workers take the next user's lane until none is left; a lane stops
            // between rows once a stop is asked for. No task per row or per user.
            group.addTask {
                await BoundedConcurrency.forEach(lanes, limit: runner.options.concurrency) { _, lane in
                    await runner.runLane(lane, started: started, record: record)
                }
                return true
            }
            // Watches for a stop: after the grace period, cancels whatever is still in flight.
            group.addTask {
                await runner.stop.waitForStop()
                guard !Task.isCancelled else { return false }
                try? await Task.sleep(for: runner.options.stopGrace)
                return false
            }
            while let lanesDone = await group.next() {
                if lanesDone { break }
                // Grace period over: cancel in-flight rows (their calls stop, their rows say so).
                if runner.stop.isStopping { group.cancelAll() }
            }
            group.cancelAll()
        }
        return started.withLockedValue { $0 }
    }

    func runLane(
        _ lane: Lane, started: NIOLockedValueBox<Set<RowKey>>,
        record: @escaping @Sendable (BatchJob, Outcome, Date, Duration) -> Void
    ) async {
        for job in lane.jobs {
            if stop.isStopping || Task.isCancelled { return }
            started.withLockedValue { _ = $0.insert(job.key) }
            let startedAt = Date()
            let clock = ContinuousClock.now
            // A job that sets a password but has none exists only with --generate-passwords.
            let generate = job.setsPassword && job.password == nil
            let outcome: Outcome
            if options.dryRun {
                outcome = await service.plan(
                    user: job.user, action: job.action, password: job.password,
                    revoke: options.revoke(for: job), restore: job.restore, passwordWillBeGenerated: generate,
                    resetExisting: options.resetExisting)
            } else if generate, let passwordFile {
                outcome = await withGeneratedPassword(job, file: passwordFile)
            } else {
                outcome = await perform(job, password: job.password)
            }
            record(job, outcome, startedAt, ContinuousClock.now - clock)
        }
    }

    /// `--wait-for-user` for this job: never for a row run in each of many accounts (a user
    /// missing from an account is the common case there, not one still being created).
    func wait(_ job: BatchJob) -> UserWait {
        job.fannedOut ? .none : options.waitForUser
    }

    /// Runs one job with `password`.
    func perform(_ job: BatchJob, password: Password?) async -> Outcome {
        switch job.action {
        case .enable:
            return await service.enable(
                user: job.user, password: password ?? Password(""), resetExisting: options.resetExisting,
                waitForUser: wait(job))
        case .reset:
            return await service.reset(
                user: job.user, password: password ?? Password(""), waitForUser: wait(job))
        case .disable:
            return await service.disable(user: job.user, revoke: options.revoke(for: job))
        case .restore:
            return await service.restore(
                user: job.user, list: job.restore ?? RestoreList(console: false, credentials: []), password: password)
        }
    }

    /// Generates a password that meets the account policy and sends it; writes it to the password
    /// file only once IAM has set it (a new profile, or a reset). An enable row whose user already
    /// had console access keeps their password: nothing is written for it. A password that cannot
    /// be written makes the row `failed`, saying so: the user then has a password nobody knows,
    /// and a reset sets a new one.
    func withGeneratedPassword(_ job: BatchJob, file: PasswordFile) async -> Outcome {
        let password = PasswordGenerator(policy: service.passwordPolicy).generate()
        var outcome = await perform(job, password: password)
        guard outcome.passwordWasSet else { return outcome }
        do {
            try file.write(user: job.user, password: password, line: job.line, account: job.account)
            outcome.detail += "; password generated, written to \(file.path)"
        } catch {
            outcome.status = .failed
            outcome.errorCode = "PasswordFileWriteFailed"
            outcome.message =
                "the generated password was set but could not be written to \(file.path): \(error); reset the user to set a new one"
        }
        return outcome
    }
}

extension RunOptions {
    /// What a disable row revokes: its own `revoke` cell (as `review --emit-batch` writes it),
    /// joined with `--revoke` when that was given; else the run's `--revoke`.
    func revoke(for job: BatchJob) -> RevokeKinds {
        guard let own = job.revoke else { return revoke }
        return revokeGiven ? RevokeKinds(own.kinds.union(revoke.kinds)) : own
    }
}
