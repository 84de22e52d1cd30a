/// A console password. Its descriptions never show the value: printing, interpolating, dumping
/// or logging a `Password` yields `<redacted>`. Read the value only where a request is built.
public struct Password: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The password itself. Do not log, print or store it.
    public let revealed: String

    public init(_ value: String) {
        self.revealed = value
    }

    public var isEmpty: Bool { revealed.isEmpty }

    /// Local validation against IAM's character set and length.
    public var problem: Validation.PasswordProblem? { Validation.checkPassword(revealed) }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Password(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
