/// An AWS account id: exactly 12 ASCII digits (leading zeros are part of it).
public enum AccountID {
    /// Why `text` is not an account id, or nil when it is one. Never quotes a value that may be
    /// a secret typed into the wrong cell (`Validation.isSafeToShow`).
    public static func problem(_ text: String) -> String? {
        let digits = text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        if digits && text.utf8.count == 12 { return nil }
        if text.isEmpty { return "it is empty; an AWS account id is 12 digits" }
        let shown =
            digits || Validation.isSafeToShow(text) ? "'\(text)'" : "the value (not shown, \(text.count) characters)"
        if digits {
            return "\(shown) has \(text.utf8.count) digits; an AWS account id has exactly 12 (keep its leading zeros)"
        }
        return "\(shown) is not an AWS account id (12 digits)"
    }

    /// The role to assume in `account`: `arn:PARTITION:iam::ACCOUNT:role/NAME` (a name may carry
    /// a path: `path/name`).
    public static func roleArn(account: String, roleName: String, partition: String = "aws") -> String {
        "arn:\(partition):iam::\(account):role/\(roleName)"
    }
}
