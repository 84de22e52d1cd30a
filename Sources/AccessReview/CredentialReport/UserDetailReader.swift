import AWSQuery
import BatchEngine
import ConsoleAccess
import Foundation

/// `--detail`: per-user calls for only what the credential report lacks — `GetLoginProfile`
/// (PasswordResetRequired; users with a console password only), `ListAttachedUserPolicies`
/// (IAMUserChangePassword), `ListMFADevices` (serials; users the report shows with MFA only),
/// `ListAccessKeys` (key ids, for reasons and the review; users with keys only), and
/// `ListSSHPublicKeys` and `ListServiceSpecificCredentials` (active counts; every user: the
/// report has neither). Bounded concurrency, each call through `RetryingIAM` on the shared
/// executor.
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
        var step = "iam:GetLoginProfile"
        do {
            try await readConsoleAndKeys(entry, into: &detail, step: &step)
            try await readOtherCredentials(entry.user, into: &detail, step: &step)
        } catch {
            detail.error = "\(step): \(error)"
        }
        return detail
    }

    /// The password's reset flag, the attached policy, MFA serials and key ids; `step` names the
    /// call in flight when one throws.
    func readConsoleAndKeys(_ entry: CredentialReportEntry, into detail: inout UserDetail, step: inout String)
        async throws
    {
        let name = entry.user
        if entry.passwordEnabled {
            step = "iam:GetLoginProfile"
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
            detail.mfaDevices = detail.mfaSerials.count
        }
        if entry.accessKeys.contains(where: \.exists) {
            step = "iam:ListAccessKeys"
            let keys = try await iam.listAccessKeys(userName: name).value
            detail.accessKeyIds = keys.sorted {
                ($0.createDate ?? .distantPast, $0.accessKeyId) < ($1.createDate ?? .distantPast, $1.accessKeyId)
            }.map(\.accessKeyId)
        }
    }

    /// The active SSH public keys and service-specific credentials (every page of each list).
    /// Signing certificates are in the report (`cert_1_active`, `cert_2_active`).
    func readOtherCredentials(_ name: String, into detail: inout UserDetail, step: inout String) async throws {
        // AccessDenied leaves a count empty (the run says so once); any other failure is the row's error.
        step = "iam:ListSSHPublicKeys"
        detail.sshKeysActive = try await UserReviewer.countIfAllowed(step, denied: &detail.deniedReads) {
            try await iam.listSSHPublicKeys(userName: name).value.filter { $0.status == .active }.count
        }
        step = "iam:ListServiceSpecificCredentials"
        detail.serviceCredentialsActive = try await UserReviewer.countIfAllowed(step, denied: &detail.deniedReads) {
            try await iam.listServiceSpecificCredentials(userName: name).value.filter { $0.status == .active }.count
        }
    }
}
