import AWSQuery
import ConsoleAccess
import Foundation

/// A multi-account batch: the base session says who we are (and, with `--organization`, lists
/// the accounts); rows are expanded over the accounts; `--max-disable` is checked across them;
/// then each account runs in its own session — the role assumed there, its own identity check,
/// password policy, adaptive rate limiter and retry quota — at most `--accounts-concurrency`
/// accounts at once, `--concurrency` rows in flight in all. An account that cannot be reached
/// fails its own rows, once, and the others go on.
extension BatchRunState {
    mutating func connectAndRunAccounts(
        _ run: RunContext, sink: ReportSink, stop: StopController, passwordFile: PasswordFile?,
        restoreFile: RestoreFile?
    ) async {
        let plan: AccountPlan
        do {
            let accounts = configuration.accounts
            plan = try await run.withSession { session in try await AccountPlan.make(accounts, session: session) }
        } catch RunSetupError.identity(let error) {
            refuseForSetup(error, sink: sink)
            return
        } catch let error as RunSetupError {
            refuse(
                error: "nothing was changed: \(error.setup.message)",
                notRun: "not run: the AWS client could not be set up", status: .credentials, sink: sink)
            return
        } catch {
            let setup = SetupError(error, during: "listing the organization's accounts (organizations:ListAccounts)")
            refuse(
                error: "nothing was changed: \(setup.message)", notRun: "not run: the accounts could not be listed",
                status: setup.isCredentialsProblem ? .credentials : .failure, sink: sink)
            return
        }
        notes += plan.notes
        if plan.fansOut { refuseUnplacedRestores(sink: sink) }
        let expanded = plan.expand(jobs)
        for (job, reason) in expanded.unplaced { sink.write(ReportRow(notRun: job, reason: reason)) }
        jobs = expanded.jobs.filter { done[$0.key] == nil }
        guard !jobs.isEmpty else { return }
        guard await checkBlastRadiusAcrossAccounts(plan, run: run, sink: sink, stop: stop) else { return }
        if stop.isStopping {
            notRunAll("not run: the batch was stopped before this row", sink: sink)
            return
        }

        let groups = AccountPlan.byAccount(jobs)
        let total = jobs.count
        let atOnce = min(configuration.accounts.concurrency, configuration.options.concurrency, groups.count)
        let share = max(1, configuration.options.concurrency / max(atOnce, 1))
        let state = self
        let results = await BoundedConcurrency.map(groups, limit: atOnce) { _, group in
            await state.runAccount(
                group.account, jobs: group.jobs, plan: plan, run: run, concurrency: share, total: total, sink: sink,
                stop: stop, passwordFile: passwordFile, restoreFile: restoreFile)
        }
        for result in results.compactMap({ $0 }) {
            errors += result.errors
            notes += result.notes
            restoreFileFailed = restoreFileFailed || result.restoreFileFailed
        }
        // Accounts never started (the run was cancelled): their rows are `not-run`.
        notRunAll("not run: the batch was stopped before this row", sink: sink)
        reportAbsentEverywhere(plan, sink: sink)
    }

    /// A `restore` row undoes what was done in one account: in a run over many accounts it needs
    /// its `account` cell (`--emit-restore` writes it there), or it would enable console access
    /// wherever a user of that name exists. Such rows are `invalid`.
    mutating func refuseUnplacedRestores(sink: ReportSink) {
        jobs = jobs.filter { job in
            guard job.action == .restore && job.account == nil else { return true }
            sink.write(
                ReportRow(
                    line: job.line, user: job.user, action: job.action, status: .invalid,
                    errorCode: "restore-needs-account",
                    message:
                        "a restore row runs only in the account it came from: give its account cell (batch --emit-restore writes one in a run over many accounts)"
                ))
            return false
        }
    }

    /// A fanned-out row whose user is absent from every account is most likely a misspelt name:
    /// one `not-found` row for it (no account), which makes the exit code 1, as in a
    /// single-account run. A user absent from some accounts only is the common case.
    func reportAbsentEverywhere(_ plan: AccountPlan, sink: ReportSink) {
        guard plan.fansOut, !plan.targets.isEmpty else { return }
        for job in input.jobs where job.account == nil && sink.absentCount(line: job.line) == plan.targets.count {
            sink.write(
                ReportRow(
                    line: job.line, user: job.user, action: job.action, status: .notFound,
                    detail:
                        "no IAM user named \(job.user) in any of the \(plan.targets.count) account(s) (absent from each; a misspelt name?)",
                    errorCode: AWSErrorCode.noSuchEntity.rawValue))
        }
    }

    /// One account: its session (the member role, or the caller's own credentials in its own
    /// account), then the rows. Never throws: what goes wrong is in the rows and the result.
    func runAccount(
        _ account: String, jobs: [BatchJob], plan: AccountPlan, run: RunContext, concurrency: Int, total: Int,
        sink: ReportSink, stop: StopController, passwordFile: PasswordFile?, restoreFile: RestoreFile?
    ) async -> AccountResult {
        var result = AccountResult()
        if stop.isStopping {
            for job in jobs {
                sink.write(ReportRow(notRun: job, reason: "not run: the batch was stopped before this row"))
            }
            return result
        }
        let role = configuration.accounts.role(
            in: account, callerAccount: plan.callerAccount, partition: plan.partition)
        let reach = role.map { "as \($0.roleArn)" } ?? "with the run's own credentials"
        do {
            try await run.withSession(role: role) { session in
                guard session.identity.account == account else {
                    let message =
                        "the session meant for account \(account) acts in account \(session.identity.account) (\(session.identity.arn)); nothing was done there"
                    result.errors.append("account \(account): \(message)")
                    failAll(
                        jobs, code: "WrongAccount", message: message, sink: sink, progress: run.progress, total: total)
                    return
                }
                let service: ConsoleAccessService
                do {
                    let connected = try await ConsoleAccessService.connect(
                        iam: session.iam, executor: session.executor, caller: session.identity,
                        logger: session.logger)
                    service = connected.service
                    result.notes += connected.notes.map { "account \(account): \($0)" }
                } catch let error as SetupError {
                    result.errors.append("account \(account): \(jobs.count) row(s) failed: \(error.message)")
                    failAll(
                        jobs, code: error.errorCode ?? "SetupFailed", message: "account \(account): \(error.message)",
                        sink: sink, progress: run.progress, total: total)
                    return
                }
                let left = dropLocallyRefused(jobs, service: service, sink: sink)
                let work = AccountWork(
                    service: service, jobs: left, account: account, concurrency: concurrency, total: total)
                let failedWrites = await runJobs(
                    work, sink: sink, stop: stop, passwordFile: passwordFile, restoreFile: restoreFile,
                    progress: run.progress)
                result.errors += failedWrites
                result.restoreFileFailed = !failedWrites.isEmpty
            }
        } catch {
            let setup =
                (error as? RunSetupError)?.setup ?? SetupError(error, during: "connecting to account \(account)")
            let message = "cannot work in account \(account) \(reach): \(setup.message)"
            result.errors.append(
                "\(message) (\(jobs.count) row\(jobs.count == 1 ? "" : "s") failed; the other accounts went on)")
            failAll(
                jobs, code: setup.errorCode ?? "AccountUnreachable", message: message, sink: sink,
                progress: run.progress, total: total)
        }
        return result
    }

    /// Every job of an account that could not be worked in: `failed`, with the reason.
    func failAll(
        _ jobs: [BatchJob], code: String, message: String, sink: ReportSink, progress: RunProgress, total: Int
    ) {
        for job in jobs {
            sink.write(
                ReportRow(
                    line: job.line, user: job.user, action: job.action, status: .failed, errorCode: code,
                    message: message, account: job.account ?? ""))
            progress.finished(failed: true, total: total)
        }
    }
}

/// What one account's part of a run adds to the run's messages.
struct AccountResult: Sendable {
    var errors: [String] = []
    var notes: [String] = []
    var restoreFileFailed = false
}

extension AccountPlan {
    /// The caller's account (from the base session), the targets (`--accounts` as given;
    /// `--organization`: every `ACTIVE` account, paged), less `--exclude-accounts`.
    public static func make(_ options: AccountOptions, session: RunSession) async throws -> AccountPlan {
        var targets: [String]
        var notes: [String] = []
        switch options.targets {
        case .caller:
            targets = [session.identity.account]
        case .list(let accounts):
            targets = accounts
        case .organization:
            guard let organizations = session.organizations else {
                throw AccountListError(message: "--organization: AWS Organizations cannot be reached here")
            }
            let accounts = try await organizations.listAllAccounts(executor: session.executor)
            let inactive = accounts.filter { !$0.isActive }
            if !inactive.isEmpty {
                notes.append(
                    "--organization: \(inactive.count) account(s) not ACTIVE skipped: "
                        + inactive.map { "\($0.id) (\($0.status))" }.joined(separator: ", "))
            }
            targets = accounts.filter(\.isActive).map(\.id)
        }
        let excluded = options.exclude
        let skipped = targets.filter { excluded.contains($0) }
        if !skipped.isEmpty {
            notes.append("--exclude-accounts: not worked on: \(skipped.joined(separator: ", "))")
        }
        targets.removeAll { excluded.contains($0) }
        return AccountPlan(
            callerAccount: session.identity.account, targets: targets, excluded: excluded, fansOut: options.fansOut,
            partition: session.partition, notes: notes)
    }
}
