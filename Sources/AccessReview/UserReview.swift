import AWSQuery
import ConsoleAccess
import Foundation

/// One access key as the review shows it: never its secret (IAM never returns it after creation).
public struct ReviewedAccessKey: Sendable, Equatable {
    public var accessKeyId: String
    public var status: AccessKeyStatus?
    public var created: Date?
    /// nil when the key has never been used.
    public var lastUsed: Date?

    public init(accessKeyId: String, status: AccessKeyStatus?, created: Date?, lastUsed: Date?) {
        self.accessKeyId = accessKeyId
        self.status = status
        self.created = created
        self.lastUsed = lastUsed
    }
}

/// What the review found about one IAM user.
public struct UserReview: Sendable, Equatable {
    /// As `ListUsers` returned it (name, ARN, path, created, password last used).
    public var user: IAMUser
    /// The login profile (console password), or nil when the user has no console access.
    public var loginProfile: LoginProfile?
    public var mfaDevices: Int
    /// Sorted by creation date, then id.
    public var accessKeys: [ReviewedAccessKey]
    public var changePasswordPolicyAttached: Bool
    /// How many of the user's SSH public keys (CodeCommit), X.509 signing certificates and
    /// service-specific credentials are `Active`: what `disable --revoke` deactivates besides the
    /// password, the access keys and the MFA devices. Nil when the caller may not list them
    /// (the action is then in `deniedReads`).
    public var activeSSHPublicKeys: Int?
    public var activeSigningCertificates: Int?
    public var activeServiceSpecificCredentials: Int?
    /// The listings the caller was not allowed (`AccessDenied`): their counts are unknown, the
    /// rest of the user was read. A policy written before these columns existed lacks them.
    public var deniedReads: [String] = []
    /// Why the user could not be read completely; nil when it was. The other fields then hold
    /// only what was read before the failure.
    public var error: String?
    /// The failed call's error code (e.g. `AccessDenied`), when there was one.
    public var errorCode: String?

    public init(
        user: IAMUser, loginProfile: LoginProfile? = nil, mfaDevices: Int = 0, accessKeys: [ReviewedAccessKey] = [],
        changePasswordPolicyAttached: Bool = false, activeSSHPublicKeys: Int? = 0,
        activeSigningCertificates: Int? = 0, activeServiceSpecificCredentials: Int? = 0, error: String? = nil,
        errorCode: String? = nil
    ) {
        self.user = user
        self.loginProfile = loginProfile
        self.mfaDevices = mfaDevices
        self.accessKeys = accessKeys
        self.changePasswordPolicyAttached = changePasswordPolicyAttached
        self.activeSSHPublicKeys = activeSSHPublicKeys
        self.activeSigningCertificates = activeSigningCertificates
        self.activeServiceSpecificCredentials = activeServiceSpecificCredentials
        self.error = error
        self.errorCode = errorCode
    }

    public var userName: String { user.userName }
    public var hasConsoleAccess: Bool { loginProfile != nil }
    public var failed: Bool { error != nil }
    public var activeAccessKeys: Int { accessKeys.filter { $0.status == .active }.count }

    /// The latest sign of console life: when the password was last used or the login profile
    /// was created, whichever is later; the user's creation date when neither is known.
    /// nil without console access.
    public var lastConsoleActivity: Date? {
        guard let loginProfile else { return nil }
        let candidates = [user.passwordLastUsed, loginProfile.createDate].compactMap { $0 }
        return candidates.max() ?? user.createDate
    }
}

/// Who is inactive: a user with console access whose password was last used more than `days`
/// days before `now`, or never used and whose login profile was created more than `days` days
/// before `now` (the user's creation date when the profile's is unknown). A profile created
/// after the last use (console access re-enabled) counts from its creation, so a user
/// onboarded again yesterday is never marked. Users without console access, and users the
/// review could not read completely, are never inactive.
public struct InactivityRule: Sendable, Equatable {
    public var days: Int
    public var now: Date

    public init(days: Int, now: Date) {
        self.days = days
        self.now = now
    }

    public func isInactive(_ review: UserReview) -> Bool {
        guard !review.failed, let last = review.lastConsoleActivity else { return false }
        return now.timeIntervalSince(last) > Double(days) * 86_400
    }
}

/// Reads one user's console and key state: login profile, MFA devices, access keys (each
/// with its last use), whether `IAMUserChangePassword` is attached, and how many SSH public
/// keys, signing certificates and service-specific credentials are active. Each call goes
/// through `RetryingIAM` on the shared `CallExecutor` (retries, rate limiter).
public struct UserReviewer: Sendable {
    public var iam: RetryingIAM
    /// `arn:<partition>:iam::aws:policy/IAMUserChangePassword` for the caller's partition.
    public var changePasswordPolicyArn: String

    public init(iam: any IAMOperations, executor: CallExecutor, partition: Partition) {
        self.iam = RetryingIAM(iam, executor: executor)
        self.changePasswordPolicyArn =
            "arn:\(partition.rawValue):iam::aws:policy/\(ConsoleAccessService.changePasswordPolicyName)"
    }

    /// Never throws: a failure is recorded in the result's `error` (cancellation included).
    public func review(_ user: IAMUser) async -> UserReview {
        var review = UserReview(user: user)
        var step = "iam:GetLoginProfile"
        do {
            try await readConsoleAndKeys(user.userName, into: &review, step: &step)
            try await readOtherCredentials(user.userName, into: &review, step: &step)
        } catch {
            // The code is a row's (`RowFailure`, one mapping for every report); the message names the step.
            review.errorCode = RowFailure(error).code
            switch error {
            case let error as AWSServiceError where error.errorCode == .noSuchEntity:
                review.error = "\(step): the user no longer exists (deleted during the review?): \(error)"
            case is CancellationError:
                review.error = "\(step): cancelled"
            default:
                review.error = "\(step): \(error)"
            }
        }
        return review
    }

    /// The login profile, MFA devices, access keys (with their last use) and the attached
    /// policy; `step` names the call in flight when one throws.
    func readConsoleAndKeys(_ name: String, into review: inout UserReview, step: inout String) async throws {
        step = "iam:GetLoginProfile"
        do {
            review.loginProfile = try await iam.getLoginProfile(userName: name).value
        } catch let error as AWSServiceError where error.errorCode == .noSuchEntity {
            review.loginProfile = nil  // no console password (a missing user shows at the next call)
        }
        step = "iam:ListMFADevices"
        review.mfaDevices = try await iam.listMFADevices(userName: name).value.count
        step = "iam:ListAccessKeys"
        let keys = try await iam.listAccessKeys(userName: name).value
        step = "iam:GetAccessKeyLastUsed"
        var reviewed: [ReviewedAccessKey] = []
        for key in keys {
            let lastUsed = try await iam.getAccessKeyLastUsed(accessKeyId: key.accessKeyId).value
            reviewed.append(
                ReviewedAccessKey(
                    accessKeyId: key.accessKeyId, status: key.status, created: key.createDate,
                    lastUsed: lastUsed.lastUsedDate))
        }
        review.accessKeys = reviewed.sorted {
            ($0.created ?? .distantPast, $0.accessKeyId) < ($1.created ?? .distantPast, $1.accessKeyId)
        }
        step = "iam:ListAttachedUserPolicies"
        let policies = try await iam.listAttachedUserPolicies(userName: name).value
        review.changePasswordPolicyAttached = policies.contains { $0.policyArn == changePasswordPolicyArn }
    }

    /// How many SSH public keys, signing certificates and service-specific credentials are
    /// active (every page of each list). A listing the caller may not make leaves its count
    /// unknown and is noted in `deniedReads`; any other failure throws.
    func readOtherCredentials(_ name: String, into review: inout UserReview, step: inout String) async throws {
        step = "iam:ListSSHPublicKeys"
        review.activeSSHPublicKeys = try await Self.countIfAllowed(step, denied: &review.deniedReads) {
            try await iam.listSSHPublicKeys(userName: name).value.filter { $0.status == .active }.count
        }
        step = "iam:ListSigningCertificates"
        review.activeSigningCertificates = try await Self.countIfAllowed(step, denied: &review.deniedReads) {
            try await iam.listSigningCertificates(userName: name).value.filter { $0.status == .active }.count
        }
        step = "iam:ListServiceSpecificCredentials"
        review.activeServiceSpecificCredentials = try await Self.countIfAllowed(step, denied: &review.deniedReads) {
            try await iam.listServiceSpecificCredentials(userName: name).value.filter { $0.status == .active }.count
        }
    }

    /// `read`'s count, or nil (noting `action` in `denied`) when the caller is not allowed to
    /// make the call: a policy written before the count columns existed lacks these list actions.
    /// The per-user review and the report's `--detail` both count this way.
    static func countIfAllowed(_ action: String, denied: inout [String], _ read: () async throws -> Int)
        async throws -> Int?
    {
        do {
            return try await read()
        } catch let error as AWSServiceError where error.errorCode.isAccessDenied {
            denied.append(action)
            return nil
        }
    }
}
