/// The tool's version: `console-access --version`, and the `tool_version` of an evidence pack's
/// manifest. Change it here only.
public enum ToolVersion {
    public static let number = "0.9.0"
    /// `console-access 0.9.0`.
    public static let name = "console-access \(number)"
}
