import Foundation

/// The AWS shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`).
public struct SharedConfig: Sendable, Equatable {
    /// Settings by profile name, from the config file (`[default]`, `[profile NAME]`).
    public var configProfiles: [String: [String: String]]
    /// Settings by profile name, from the credentials file (`[NAME]`).
    public var credentialProfiles: [String: [String: String]]
    public var configPath: String
    public var credentialsPath: String

    public init(
        configProfiles: [String: [String: String]] = [:], credentialProfiles: [String: [String: String]] = [:],
        configPath: String = "", credentialsPath: String = ""
    ) {
        self.configProfiles = configProfiles
        self.credentialProfiles = credentialProfiles
        self.configPath = configPath
        self.credentialsPath = credentialsPath
    }

    /// Loads both files from the paths the environment names (`AWS_CONFIG_FILE`,
    /// `AWS_SHARED_CREDENTIALS_FILE`), else from `$HOME/.aws/`. Missing files are empty.
    public static func load(environment: [String: String]) throws -> SharedConfig {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
        return SharedConfig(
            configProfiles: try readProfiles(path: configPath, isConfigFile: true),
            credentialProfiles: try readProfiles(path: credentialsPath, isConfigFile: false),
            configPath: configPath, credentialsPath: credentialsPath)
    }

    /// True when either file has a section for this profile.
    public func hasProfile(_ name: String) -> Bool {
        configProfiles[name] != nil || credentialProfiles[name] != nil
    }

    /// A profile's settings, with the credentials file's keys taking precedence.
    public func profile(_ name: String) -> [String: String]? {
        guard hasProfile(name) else { return nil }
        return (configProfiles[name] ?? [:]).merging(credentialProfiles[name] ?? [:]) { _, credentials in credentials }
    }

    /// The largest config or credentials file read (bytes); real ones are a few kilobytes.
    public static let maximumFileSize = 1024 * 1024

    static func expand(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    static func readProfiles(path: String, isConfigFile: Bool) throws -> [String: [String: String]] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        // FileHandle rather than FileManager.contents: the latter refuses /dev/null, a common
        // way to say "no config file".
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSConfigurationError.invalidSetting(name: path, reason: "cannot be read")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumFileSize + 1)) ?? Data()
        guard data.count <= maximumFileSize else {
            throw AWSConfigurationError.invalidSetting(name: path, reason: "is larger than \(maximumFileSize) bytes")
        }
        return parse(String(decoding: data, as: UTF8.self), isConfigFile: isConfigFile)
    }

    /// Parses the INI dialect the AWS CLI reads. In the config file, `[profile NAME]` names
    /// profile NAME and `[default]` the default one; other sections (`[sso-session x]`,
    /// `[services x]`) are not profiles. Indented lines below a key with an empty value are a
    /// nested block (e.g. per-service settings) and are skipped.
    public static func parse(_ text: String, isConfigFile: Bool) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        var inNestedBlock = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = String(rawLine).replacingOccurrences(of: "\r", with: "")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                inNestedBlock = false
                guard let close = trimmed.firstIndex(of: "]") else {
                    current = nil
                    continue
                }
                let section = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .trimmingCharacters(in: .whitespaces)
                if isConfigFile {
                    if section == "default" {
                        current = "default"
                    } else if section.hasPrefix("profile ") || section.hasPrefix("profile\t") {
                        current = section.dropFirst("profile".count).trimmingCharacters(in: .whitespaces)
                    } else {
                        current = nil
                    }
                } else {
                    current = section
                }
                if let current, profiles[current] == nil { profiles[current] = [:] }
                continue
            }
            guard let profile = current else { continue }
            let indented = line.first == " " || line.first == "\t"
            if indented && inNestedBlock { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let comment = value.range(of: #"\s[#;]"#, options: .regularExpression) {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            if value.isEmpty {
                inNestedBlock = true
                continue
            }
            inNestedBlock = false
            profiles[profile]?[key] = value
        }
        return profiles
    }
}
