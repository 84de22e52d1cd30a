import AWSQuery
import CSVStream
import Foundation

/// The review CSV when the source is the credential report: one row per IAM user (the root
/// user is left out: it has no login profile to disable), in report order. Times are ISO 8601
/// UTC; the report's own words (`N/A`, `no_information`, `not_supported`) are kept as they are.
/// The `--detail` columns are empty without `--detail`. The active-credential counts come last
/// (added after the others, so no earlier column moved): certificates from the report, SSH keys
/// and service-specific credentials only from `--detail` (empty, unknown, without it), MFA
/// devices 0 when the report shows no MFA, else counted by `--detail`.
public enum ReportReviewCSV {
    public static let header: [String] =
        [
            "user", "arn", "path", "user_created", "console_access", "password_last_used", "password_last_changed",
            "console_idle_days", "mfa_active",
        ]
        + (1...2).flatMap { n in
            [
                "access_key_\(n)_active", "access_key_\(n)_last_rotated", "access_key_\(n)_last_used",
                "access_key_\(n)_id",
            ]
        }
        + [
            "cert_1_active", "cert_2_active", "password_reset_required", "change_password_policy_attached",
            "mfa_devices", "state", "reason", "error",
        ]
        + ["ssh_keys_active", "certificates_active", "service_credentials_active", "mfa_device_count"]

    public static func fields(_ review: ReportUserReview) -> [String] {
        let entry = review.entry
        func flag(_ value: Bool?) -> String { value.map { $0 ? "true" : "false" } ?? "" }
        var fields = [
            entry.user, entry.arn, entry.path, entry.userCreated.map(ISO8601.format) ?? "",
            flag(entry.passwordEnabled), text(entry.passwordLastUsed), text(entry.passwordLastChanged),
            review.consoleIdleDays.map(String.init) ?? "", flag(entry.mfaActive),
        ]
        for key in entry.accessKeys {
            let ids = review.detail?.accessKeyIds ?? []
            fields += [
                flag(key.active), text(key.lastRotated), text(key.lastUsed),
                ids.count >= key.slot ? ids[key.slot - 1] : "",
            ]
        }
        fields += entry.certificatesActive.map { flag($0) }
        fields += [
            flag(review.detail?.passwordResetRequired), flag(review.detail?.changePasswordPolicyAttached),
            review.detail.map { $0.mfaSerials.joined(separator: " ") } ?? "",
            review.state.rawValue, review.reasons.joined(separator: "; "), review.detail?.error ?? "",
        ]
        fields += activeCounts(review).map { $0.map(String.init) ?? "" }
        return fields
    }

    /// Active SSH keys, certificates, service-specific credentials and MFA devices; nil where
    /// unknown (never a 0 the review did not see).
    static func activeCounts(_ review: ReportUserReview) -> [Int?] {
        let detail = review.detail
        return [
            detail?.sshKeysActive, review.entry.activeCertificates, detail?.serviceCredentialsActive,
            review.entry.mfaActive ? detail?.mfaDevices : 0,
        ]
    }

    static func text(_ time: ReportTime) -> String {
        switch time {
        case .date(let date): return ISO8601.format(date)
        case .notApplicable: return "N/A"
        case .noInformation: return "no_information"
        case .notSupported: return "not_supported"
        case .unreadable(let cell): return cell
        }
    }
}

/// A review as JSON for machines (`--format json`): `{"users":[{column: value,…}]}` (and the
/// report's generation time when there is a report); every value a string, as in the CSV.
/// Written in pieces (the opening, one user at a time, the closing) so a review can be streamed;
/// `document` puts them together for a review held in memory.
enum ReviewJSON {
    static func document(header: [String], rows: [[String]], reportGenerated: Date?) throws -> [UInt8] {
        var bytes = try opening(reportGenerated: reportGenerated)
        for (index, row) in rows.enumerated() { bytes += try user(header: header, fields: row, first: index == 0) }
        return bytes + closing()
    }

    static func opening(reportGenerated: Date?) throws -> [UInt8] {
        var text = "{\n"
        if let reportGenerated {
            text += "  \"report_generated\" : \(try quoted(ISO8601.format(reportGenerated))),\n"
        }
        return Array((text + "  \"users\" : [\n").utf8)
    }

    /// One user's object (keys sorted), indented as an element of `users`, with the comma
    /// before it unless it is the first.
    static func user(header: [String], fields: [String], first: Bool) throws -> [UInt8] {
        let object = try encoder.encode(Dictionary(zip(header, fields), uniquingKeysWith: { first, _ in first }))
        var bytes: [UInt8] = first ? [] : Array(",\n".utf8)
        bytes.reserveCapacity(object.count + object.count / 8)
        bytes += Array("    ".utf8)
        for byte in object {
            bytes.append(byte)
            if byte == 0x0A { bytes += Array("    ".utf8) }
        }
        return bytes
    }

    static func closing() -> [UInt8] {
        Array("\n  ]\n}".utf8)
    }

    private static func quoted(_ text: String) throws -> String {
        String(decoding: try encoder.encode(text), as: UTF8.self)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}

/// The `--emit-batch` file for the credential-report review: `user,action,revoke,reason`, one
/// `disable` row per marked user, whose `revoke` cell says what is stale: `console`, `keys`
/// (with `--include-keys`), or both. `batch` runs each row with its own kinds (a user whose
/// keys alone are stale keeps console access) and ignores `reason`, which travels with the row.
public enum ReportEmittedBatch {
    public static let header = ["user", "action", "revoke", "reason"]

    /// The user's row; nil when the user is not marked.
    public static func row(_ review: ReportUserReview) -> [String]? {
        guard review.isFlagged else { return nil }
        let kinds = (review.consoleStale ? ["console"] : []) + (review.staleKeySlots.isEmpty ? [] : ["keys"])
        return [review.userName, "disable", kinds.joined(separator: ","), review.reasons.joined(separator: "; ")]
    }
}

/// CSV records as bytes (`CSVWriter.encode` does the quoting).
enum CSVBytes {
    static func make(_ records: [[String]]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for record in records { bytes += try CSVWriter.encode(record) }
        return bytes
    }
}
