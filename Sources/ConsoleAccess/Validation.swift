/// Local validation of IAM user names and console passwords, done before any request is sent.
///
/// The rules are IAM's own: a user name is 1–64 characters of `[A-Za-z0-9_+=,.@-]`; a password
/// is 1–128 characters from U+0020–U+00FF plus tab, line feed and carriage return.
public enum Validation {
    /// The longest user name IAM accepts.
    public static let maxUserNameLength = 64
    /// The longest password IAM accepts.
    public static let maxPasswordLength = 128

    /// Why a user name was rejected.
    public enum UserNameProblem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case tooLong(length: Int)
        /// `position` is 1-based and counts characters (not bytes).
        case invalidCharacter(Character, position: Int)

        public var description: String {
            switch self {
            case .empty:
                return "user name is empty"
            case .tooLong(let length):
                return "user name is \(length) characters long; IAM allows at most \(Validation.maxUserNameLength)"
            case .invalidCharacter(let character, let position):
                return
                    "user name has an invalid character \(Validation.describe(character)) at position \(position); allowed are letters, digits and _+=,.@-"
            }
        }
    }

    /// Why a password was rejected. The password itself is never part of the message.
    public enum PasswordProblem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case tooLong(length: Int)
        /// `position` is 1-based. The character itself is not kept, so no part of the password
        /// can reach a message.
        case invalidCharacter(position: Int)

        public var description: String {
            switch self {
            case .empty:
                return "password is empty"
            case .tooLong(let length):
                return "password is \(length) characters long; IAM allows at most \(Validation.maxPasswordLength)"
            case .invalidCharacter(let position):
                return
                    "password has a character outside the allowed set (U+0020–U+00FF, tab, LF, CR) at position \(position)"
            }
        }
    }

    /// Why a row would be refused before any call, from IAM's own rules alone (no account
    /// policy, no caller): the user name, and for enable and reset the password.
    public static func refusal(user: String, action: ConsoleAction, password: Password?) -> Refusal? {
        if let problem = checkUserName(user) { return .invalidUserName(problem) }
        guard action.takesPassword else { return nil }
        guard let password, !password.isEmpty else { return .missingPassword(action) }
        return password.problem.map(Refusal.invalidPassword)
    }

    /// Whether a cell that failed to parse may be quoted in a message: only when it cannot be a
    /// misplaced password (at most 24 characters of ASCII letters, spaces, `-` and `_`). Cells come
    /// from files other people write; a password typed one column off must not reach a report.
    public static func isSafeToShow(_ text: String) -> Bool {
        text.utf8.count <= 24
            && text.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x20 || byte == 0x2D
                    || byte == 0x5F
            }
    }

    /// Checks a user name against IAM's rules.
    public static func checkUserName(_ name: String) -> UserNameProblem? {
        if name.isEmpty { return .empty }
        var position = 0
        for character in name {
            position += 1
            if !isUserNameCharacter(character) {
                return .invalidCharacter(character, position: position)
            }
        }
        if position > maxUserNameLength { return .tooLong(length: position) }
        return nil
    }

    /// Checks a password against IAM's character set and length.
    public static func checkPassword(_ password: String) -> PasswordProblem? {
        if password.isEmpty { return .empty }
        var position = 0
        for scalar in password.unicodeScalars {
            position += 1
            if !isPasswordScalar(scalar) {
                return .invalidCharacter(position: position)
            }
        }
        if position > maxPasswordLength { return .tooLong(length: position) }
        return nil
    }

    static func isUserNameCharacter(_ character: Character) -> Bool {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first else {
            return false
        }
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "+", "=", ",", ".", "@", "-": return true
        default: return false
        }
    }

    static func isPasswordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0xFF, 0x09, 0x0A, 0x0D: return true
        default: return false
        }
    }

    /// A printable, unambiguous name for a character in an error message.
    static func describe(_ character: Character) -> String {
        let scalars = character.unicodeScalars
        if scalars.count == 1, let scalar = scalars.first, scalar.value >= 0x21, scalar.value < 0x7F {
            return "'\(character)'"
        }
        return scalars.map { codePointName($0.value) }.joined(separator: " ")
    }

    static func codePointName(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        let names: [UInt32: String] = [0x20: "space", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return"]
        if let name = names[value] { return "U+\(padded) (\(name))" }
        return "U+\(padded)"
    }
}
