import AWSQuery

extension PasswordPolicy {
    /// The symbols IAM counts for `RequireSymbols`.
    public static let symbols: Set<Character> = [
        "!", "@", "#", "$", "%", "^", "&", "*", "(", ")", "_", "+", "-", "=", "[", "]", "{", "}", "|", "'",
    ]

    /// Every rule of this policy the password breaks, as readable sentences; empty when it
    /// complies. The password itself never appears in them.
    public func violations(of password: Password) -> [String] {
        let value = password.revealed
        var problems: [String] = []
        let length = value.unicodeScalars.count
        if length < minimumPasswordLength {
            problems.append(
                "the account password policy requires at least \(minimumPasswordLength) characters (this one has \(length))"
            )
        }
        if requireUppercaseCharacters && !value.contains(where: { $0.isASCII && $0.isUppercase }) {
            problems.append("the account password policy requires an uppercase letter (A–Z)")
        }
        if requireLowercaseCharacters && !value.contains(where: { $0.isASCII && $0.isLowercase }) {
            problems.append("the account password policy requires a lowercase letter (a–z)")
        }
        if requireNumbers && !value.contains(where: { $0.isASCII && $0.isNumber }) {
            problems.append("the account password policy requires a number (0–9)")
        }
        if requireSymbols && !value.contains(where: { Self.symbols.contains($0) }) {
            problems.append(
                "the account password policy requires a symbol (one of ! @ # $ % ^ & * ( ) _ + - = [ ] { } | ')")
        }
        return problems
    }
}
