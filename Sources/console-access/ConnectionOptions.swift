import AWSQuery
import ArgumentParser
import ConsoleAccess
import Foundation
import Logging

/// How to reach AWS: shared by every command that calls it.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Use this profile from the shared config/credentials files (else AWS_PROFILE, else default).")
    var profile: String?

    @Option(help: "Region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1). Picks the partition.")
    var region: String?

    @Option(
        name: .customLong("role-arn"),
        help: "Assume this IAM role (sts:AssumeRole) on top of the credentials found, and act as it.")
    var roleArn: String?

    @Option(
        name: .customLong("endpoint-url"),
        help:
            "Send IAM and STS calls to this URL instead (e.g. a local emulator). Else AWS_ENDPOINT_URL_IAM/_STS, AWS_ENDPOINT_URL, the profile's endpoint_url."
    )
    var endpointURL: String?

    @Option(
        name: .customLong("ca-bundle"),
        help: ArgumentHelp(
            "Trust the CA certificates in this PEM file for HTTPS (a TLS-inspecting proxy, a private endpoint). Else AWS_CA_BUNDLE, the profile's ca_bundle.",
            valueName: "file"))
    var caBundle: String?

    @Flag(help: "Log each AWS call (action, user, HTTP status, request id, timing) to stderr. Never logs passwords.")
    var debug = false

    @Option(
        name: .customLong("audit-log"),
        help:
            "Append one JSON line per AWS call made (time, action, user, result, request id, attempt, duration) to this file."
    )
    var auditLog: String?

    /// The AWS settings, with the audit log (when asked for) receiving every call.
    func awsConfiguration(logger: Logger) throws -> AWSConfiguration {
        var configuration = AWSConfiguration(
            profile: profile, region: region, endpointURL: endpointURL, roleArn: roleArn, logger: logger)
        configuration.roleSessionName = "console-access-\(Int(Date().timeIntervalSince1970))"
        // A bad region (flag, environment or profile) is a usage error: refused before any work.
        do {
            _ = try configuration.resolveRegion()
        } catch let error as AWSConfigurationError {
            // An unreadable config file is reported where the session is set up, as before.
            if case .invalidRegion = error { throw ValidationError(error.description) }
        }
        if let caBundle, !caBundle.isEmpty {
            configuration.http.caBundlePath = caBundle
            configuration.http.caBundleSource = "--ca-bundle"
        }
        if let auditLog {
            let log: AuditLog
            do {
                log = try AuditLog(path: auditLog)
            } catch {
                throw ValidationError("\(error)")
            }
            configuration.observer = { log.record($0) }
        }
        return configuration
    }

    /// Sets up swift-log on stderr: warnings and up, or everything with `--debug`.
    func makeLogger() -> Logger {
        LogSetup.bootstrap(debug: debug)
        var logger = Logger(label: "console-access")
        logger.logLevel = debug ? .debug : .warning
        return logger
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
}

enum LogSetup {
    // Safe because only `bootstrap` touches it, called from `makeLogger`, which a command calls
    // once at the start of its `run`, before it starts any concurrent work.
    nonisolated(unsafe) private static var done = false

    static func bootstrap(debug: Bool) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = debug ? .debug : .warning
            return handler
        }
    }
}

/// Writes to stderr (messages for people; stdout carries results).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Encodes a value as one line of JSON with sorted keys.
func jsonLine<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
