import AWSQuery

/// Makes temporary console passwords with the system's cryptographically secure generator
/// (`SystemRandomNumberGenerator`: getrandom(2) on Linux). Every password has at least one
/// uppercase letter, lowercase letter, digit and IAM symbol, and is as long as the account
/// password policy demands, at least `defaultLength`.
public struct PasswordGenerator: Sendable {
    public static let defaultLength = 20
    static let uppercase = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
    static let lowercase = Array("abcdefghijkmnopqrstuvwxyz")
    static let digits = Array("23456789")
    /// IAM's symbols, less the quote (awkward in shells and spreadsheets).
    static let symbols = Array("!@#$%^&*()_+-=[]{}|")

    public var length: Int

    public init(policy: PasswordPolicy?, length: Int = PasswordGenerator.defaultLength) {
        self.length = min(max(length, policy?.minimumPasswordLength ?? 0, 8), Validation.maxPasswordLength)
    }

    public func generate() -> Password {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    public func generate<R: RandomNumberGenerator>(using rng: inout R) -> Password {
        let all = Self.uppercase + Self.lowercase + Self.digits + Self.symbols
        var characters: [Character] = [
            Self.uppercase.randomElement(using: &rng)!, Self.lowercase.randomElement(using: &rng)!,
            Self.digits.randomElement(using: &rng)!, Self.symbols.randomElement(using: &rng)!,
        ]
        while characters.count < length { characters.append(all.randomElement(using: &rng)!) }
        characters.shuffle(using: &rng)
        return Password(String(characters))
    }
}
