import AWSQuery
import BatchEngine
import ConsoleAccess
import Foundation

/// `--detail`: per-user calls for only what the credential report lacks — `GetLoginProfile`
/// (PasswordResetRequired; users with a console password only), `ListAttachedUserPolicies`
/// (IAMUserChangePassword), `ListMFADevices` (serials; users the report shows with MFA only)
/// and `ListAccessKeys` (key ids, for reasons and the review; users with keys only). Bounded
/// concurrency, each call through `RetryingIAM` on the shared executor.
struct UserDetailReader: Sendable {
    var iam: RetryingIAM
    var changePasswordPolicyArn: String

    init(iam: any IAMOperations, executor: CallExecutor, partition: Partition) {
        self.iam = RetryingIAM(iam, executor: executor)
        changePasswordPolicyArn =
            "arn:\(partition.rawValue):iam::aws:policy/\(ConsoleAccessService.changePasswordPolicyName)"
    }

    /// Adds detail to every review, or only to the flagged ones; re-judges each with its key ids
    /// so the reasons name them.
    func addDetail(
        to reviews: [ReportUserReview], flaggedOnly: Bool, rule: ReportInactivityRule, concurrency: Int
    ) async -> [ReportUserReview] {
        var result = reviews
        let targets = reviews.indices.filter { !flaggedOnly || reviews[$0].isFlagged }
        let reader = self
        let details = await BoundedConcurrency.map(targets, limit: concurrency) { _, index in
            await reader.detail(reviews[index].entry)
        }
        for (target, detail) in zip(targets, details) {
            if let detail { result[target] = rule.review(reviews[target].entry, detail: detail) }
        }
        return result
    }

    /// Never throws: a failure goes into `error`, with what was read before it.
    func detail(_ entry: CredentialReportEntry) async -> UserDetail {
        var detail = UserDetail()
        let name = entry.user
        var step = "iam:GetLoginProfile"
        do {
            if entry.passwordEnabled {
                do {
                    detail.passwordResetRequired = try await iam.getLoginProfile(userName: name).value
                        .passwordResetRequired
                } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
                    detail.passwordResetRequired = nil  // removed since the report was made
                }
            }
            step = "iam:ListAttachedUserPolicies"
            let policies = try await iam.listAttachedUserPolicies(userName: name).value
            detail.changePasswordPolicyAttached = policies.contains { $0.policyArn == changePasswordPolicyArn }
            if entry.mfaActive {
                step = "iam:ListMFADevices"
                detail.mfaSerials = try await iam.listMFADevices(userName: name).value.map(\.serialNumber)
            }
            if entry.accessKeys.contains(where: \.exists) {
                step = "iam:ListAccessKeys"
                let keys = try await iam.listAccessKeys(userName: name).value
                detail.accessKeyIds = keys.sorted {
                    ($0.createDate ?? .distantPast, $0.accessKeyId) < ($1.createDate ?? .distantPast, $1.accessKeyId)
                }.map(\.accessKeyId)
            }
        } catch {
            detail.error = "\(step): \(error)"
        }
        return detail
    }
}
