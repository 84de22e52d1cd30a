import AWSQuery
import CSVStream
import Foundation

/// The review CSV: one row per user, fixed columns (see `docs/review.md`). Dates are ISO 8601
/// UTC (`2024-05-01T12:00:00Z`), flags are `true`/`false`, an unknown value is an empty cell.
/// IAM allows two access keys per user, so each has its own four columns a spreadsheet can
/// filter on. The counts of active SSH public keys, signing certificates and service-specific
/// credentials come last (added after the others, so no earlier column moved). No column ever
/// holds a secret.
public enum ReviewCSV {
    /// How many access keys get their own columns (IAM's limit per user).
    public static let accessKeyColumns = 2

    public static let header: [String] =
        [
            "user", "arn", "path", "user_created", "console_access", "login_profile_created",
            "password_reset_required", "password_last_used", "console_idle_days", "mfa_devices", "access_keys",
            "active_access_keys",
        ]
        + (1...accessKeyColumns).flatMap { n in
            ["access_key_\(n)_id", "access_key_\(n)_status", "access_key_\(n)_created", "access_key_\(n)_last_used"]
        }
        + ["change_password_policy_attached", "inactive", "error"]
        + ["ssh_keys_active", "certificates_active", "service_credentials_active"]

    /// One user's row. `rule` nil (no `--inactive-days`) leaves `inactive` empty.
    public static func fields(_ review: UserReview, rule: InactivityRule?, now: Date) -> [String] {
        let failed = review.failed
        func flag(_ value: Bool) -> String { value ? "true" : "false" }
        /// Empty when the user could not be read: false would be a claim the review cannot make.
        func known(_ value: String) -> String { failed ? "" : value }
        let profile = review.loginProfile
        var fields = [
            review.user.userName,
            review.user.arn,
            review.user.path,
            date(review.user.createDate),
            failed && profile == nil ? "" : flag(profile != nil),
            date(profile?.createDate),
            profile.map { flag($0.passwordResetRequired) } ?? "",
            date(review.user.passwordLastUsed),
            idleDays(review, now: now),
            known(String(review.mfaDevices)),
            known(String(review.accessKeys.count)),
            known(String(review.activeAccessKeys)),
        ]
        for index in 0..<accessKeyColumns {
            if index < review.accessKeys.count {
                let key = review.accessKeys[index]
                fields += [key.accessKeyId, key.status?.rawValue ?? "", date(key.created), date(key.lastUsed)]
            } else {
                fields += ["", "", "", ""]
            }
        }
        var error = review.error ?? ""
        if review.accessKeys.count > accessKeyColumns {
            let extra = review.accessKeys[accessKeyColumns...].map(\.accessKeyId).joined(separator: " ")
            error += (error.isEmpty ? "" : "; ") + "more access keys than columns: \(extra)"
        }
        fields += [
            known(flag(review.changePasswordPolicyAttached)),
            rule.map { failed ? "" : flag($0.isInactive(review)) } ?? "",
            error,
            known(review.activeSSHPublicKeys.map(String.init) ?? ""),
            known(review.activeSigningCertificates.map(String.init) ?? ""),
            known(review.activeServiceSpecificCredentials.map(String.init) ?? ""),
        ]
        return fields
    }

    /// The whole review as CSV bytes (the evidence pack's `review.csv`).
    public static func bytes(_ reviews: [UserReview], rule: InactivityRule?, now: Date) throws -> [UInt8] {
        try CSVBytes.make([header] + reviews.map { fields($0, rule: rule, now: now) })
    }

    /// The whole review as JSON (`--format json`).
    public static func json(_ reviews: [UserReview], rule: InactivityRule?, now: Date) throws -> [UInt8] {
        try ReviewJSON.document(
            header: header, rows: reviews.map { fields($0, rule: rule, now: now) }, reportGenerated: nil)
    }

    /// Whole days since the last console activity (see `UserReview.lastConsoleActivity`);
    /// empty without console access.
    static func idleDays(_ review: UserReview, now: Date) -> String {
        guard let last = review.lastConsoleActivity else { return "" }
        return String(max(0, Int((now.timeIntervalSince(last) / 86_400).rounded(.down))))
    }

    static func date(_ date: Date?) -> String {
        date.map(ISO8601.format) ?? ""
    }
}

/// Writes the `--emit-batch` file: a ready-to-run `batch` input.
public enum EmittedBatch {
    public static let header = ["user", "action"]

    /// Writes `user,action` then `<user>,disable` per user into a new file at `path`. The file
    /// appears complete or not at all, and an existing file is never replaced (it is written
    /// beside it, then linked into place, which fails if the name is taken).
    /// The file's bytes (the evidence pack's `batch.csv`).
    public static func bytes(users: [String]) throws -> [UInt8] {
        try CSVBytes.make([header] + users.map { [$0, "disable"] })
    }

    public static func write(users: [String], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).tmp-\(getpid())"
        unlink(temporary)
        defer { unlink(temporary) }
        let writer = try CSVWriter(.path(temporary, .truncate))
        try writer.write(header)
        for user in users { try writer.write([user, "disable"]) }
        try writer.synchronize()
        try writer.close()
        guard link(temporary, path) == 0 else {
            let reason = errno == EEXIST ? "it already exists (never overwritten)" : String(cString: strerror(errno))
            throw EmitError(message: "cannot write \(path): \(reason)")
        }
    }

    public struct EmitError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
