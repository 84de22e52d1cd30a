import AWSQuery
import Foundation

/// How a login profile found after a lost `CreateLoginProfile` answer came to be.
enum ProfileOrigin: Sendable, Equatable {
    /// Created at or after this run first sent `CreateLoginProfile`: this run created it.
    case thisRun(Date)
    /// Created before this run sent anything: it was there already.
    case earlier(Date)
    /// IAM gave no creation date.
    case unknown
}

extension ConsoleAccessService {
    /// The margin allowed between IAM's `CreateDate` and the moment this run first sent
    /// `CreateLoginProfile`, on top of the clock skew measured from the server's `Date` header:
    /// both have one-second resolution.
    static let creationDateMargin: TimeInterval = 2

    /// After a lost `CreateLoginProfile` answer and an `EntityAlreadyExists` retry: reads the
    /// profile (`GetLoginProfile`) and compares its `CreateDate` with when this run first sent the
    /// call, in the server's time (the skew measured from `conflict`'s `Date` header).
    func originOfProfile(
        user: String, sentAt: Date, conflict: AWSServiceError, outcome: inout Outcome
    ) async throws -> ProfileOrigin {
        let profile = try await iam.getLoginProfile(userName: user)
        outcome.requestId = profile.requestId
        guard let created = profile.value.createDate else { return .unknown }
        let sentInServerTime = sentAt.addingTimeInterval(-(conflict.clockSkew ?? 0))
        return created.timeIntervalSince(sentInServerTime) >= -Self.creationDateMargin
            ? .thisRun(created) : .earlier(created)
    }
}
