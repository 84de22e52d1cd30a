import AWSQuery
import ConsoleAccess
import Foundation

/// `--max-disable` across the accounts of a run: it counts users to disable in all accounts
/// together. A fanned-out row names a user that exists in few of the accounts, so when the
/// upper bound (every row in every account) passes the limit, the users are looked up first —
/// one `GetUser` per account and user, in each account's own session — and those not there are
/// `absent` (decided now, never run). An account that cannot be read counts in full.
extension BatchRunState {
    mutating func checkBlastRadiusAcrossAccounts(
        _ plan: AccountPlan, run: RunContext, sink: ReportSink, stop: StopController
    ) async -> Bool {
        let limit = configuration.maxDisable
        var disables = Set(jobs.filter { $0.action == .disable }.map(Self.disableKey))
        if disables.count > limit && jobs.contains(where: { $0.fannedOut && $0.action == .disable }) {
            let absent = await absentUsers(plan, run: run, stop: stop)
            // Stopped during the look-ups: no verdict; the caller reports every row not-run.
            if stop.isStopping { return true }
            decideAbsent(absent, sink: sink)
            disables.subtract(absent)
        }
        guard disables.count > limit else { return true }
        let accounts = Set(disables.map { $0.account }).count
        if configuration.options.dryRun {
            notes.append(
                "this run would disable \(disables.count) users in \(accounts) account(s), more than --max-disable \(limit); a real run would stop before any change"
            )
            return true
        }
        refuse(
            error: Refusal.blastRadius(disables: disables.count, limit: limit).description
                + " (counted across \(accounts) account(s))",
            notRun: "not run: the run would disable \(disables.count) users (> --max-disable \(limit))",
            status: .usage, sink: sink)
        return false
    }

    struct UserInAccount: Hashable, Sendable {
        var account: String
        var user: String
    }

    static func disableKey(_ job: BatchJob) -> UserInAccount {
        UserInAccount(account: job.account ?? "", user: job.user.lowercased())
    }

    /// The fanned-out disable rows' users that do not exist in their account (`NoSuchEntity` on
    /// `GetUser`); any other answer, or an account that cannot be reached, counts as existing.
    /// A stop (SIGINT, SIGTERM) ends the look-ups at once: what was not looked up counts as existing.
    func absentUsers(_ plan: AccountPlan, run: RunContext, stop: StopController) async -> Set<UserInAccount> {
        let groups = AccountPlan.byAccount(jobs.filter { $0.fannedOut && $0.action == .disable })
        let (options, concurrency) = (configuration.accounts, configuration.options.concurrency)
        let atOnce = min(options.concurrency, concurrency, groups.count)
        let found = await BoundedConcurrency.map(groups, limit: atOnce) { _, group -> Set<UserInAccount> in
            let account = group.account
            // One look-up per user (names compared ignoring case, as IAM does), made with the
            // row's own spelling.
            var names: [String: String] = [:]
            for job in group.jobs where names[job.user.lowercased()] == nil {
                names[job.user.lowercased()] = job.user
            }
            let users = Array(names.values)
            let role = options.role(in: account, callerAccount: plan.callerAccount, partition: plan.partition)
            guard !stop.isStopping else { return [] }
            do {
                return try await run.withSession(role: role) { session in
                    guard session.identity.account == account else { return [] }
                    let iam = RetryingIAM(session.iam, executor: session.executor)
                    let missing = await BoundedConcurrency.map(users, limit: max(1, concurrency / atOnce)) { _, user in
                        guard !stop.isStopping else { return false }
                        do {
                            _ = try await iam.getUser(userName: user)
                            return false
                        } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                            return true
                        } catch {
                            return false
                        }
                    }
                    return Set(
                        zip(users, missing).filter { $0.1 == true }.map {
                            UserInAccount(account: account, user: $0.0.lowercased())
                        })
                }
            } catch {
                return []
            }
        }
        return found.compactMap { $0 }.reduce(into: Set<UserInAccount>()) { $0.formUnion($1) }
    }

    /// The fanned-out disable rows of users not in their account: `absent` now (counted; written
    /// with `--report-absent`), and not run.
    mutating func decideAbsent(_ absent: Set<UserInAccount>, sink: ReportSink) {
        guard !absent.isEmpty else { return }
        let reportAbsent = configuration.accounts.reportAbsent
        jobs = jobs.filter { job in
            guard job.fannedOut, job.action == .disable, absent.contains(Self.disableKey(job)) else { return true }
            sink.record(
                ReportRow(
                    line: job.line, user: job.user, action: job.action, status: .absent,
                    detail: "no such user in this account (looked up before the run, for --max-disable)",
                    errorCode: AWSErrorCode.noSuchEntity.rawValue, account: job.account ?? ""),
                writing: reportAbsent)
            return false
        }
    }
}
