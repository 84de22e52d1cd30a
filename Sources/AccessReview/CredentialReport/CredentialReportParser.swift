import AWSQuery
import CSVStream
import Foundation

/// Why a credential report could not be read.
public struct CredentialReportFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { "the credential report cannot be read: \(message)" }
}

/// Reads the credential report's CSV through `CSVReader`, one record at a time, by column name:
/// columns are found by the header (their order may change), unknown columns are ignored, a
/// missing required column is an error naming it.
public struct CredentialReportParser {
    /// The columns the review cannot do without.
    public static let requiredColumns = [
        "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
        "mfa_active", "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
        "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    ]
    /// The largest single record accepted (a report row is a few hundred bytes).
    public static let maxRecordBytes = 64 * 1024

    private let reader: CSVReader
    private let columns: [String: Int]
    private let width: Int

    /// Reads the report's header from its file (the report is then read a chunk at a time).
    public init(file: SpooledFile) throws {
        try self.init(.path(file.path))
    }

    /// Reads the header. Throws when it is missing a required column.
    public init(csv: [UInt8]) throws {
        try self.init(.bytes(csv))
    }

    init(_ input: CSVInput) throws {
        reader = try CSVReader(input, options: CSVReaderOptions(maxRecordBytes: Self.maxRecordBytes))
        guard let header = try reader.next() else {
            throw CredentialReportFormatError(message: "it is empty (no header line)")
        }
        var columns: [String: Int] = [:]
        for (index, name) in header.fields.enumerated() where columns[name] == nil {
            columns[name] = index
        }
        let missing = Self.requiredColumns.filter { columns[$0] == nil }
        if !missing.isEmpty {
            throw CredentialReportFormatError(
                message: "required column\(missing.count == 1 ? "" : "s") missing: \(missing.joined(separator: ", "))")
        }
        self.columns = columns
        self.width = header.fields.count
    }

    /// The next user's row, nil at the end. A row with a different number of cells than the
    /// header is an error (the report would be damaged).
    public mutating func next() throws -> CredentialReportEntry? {
        guard let record = try reader.next() else { return nil }
        guard record.fields.count == width else {
            throw CredentialReportFormatError(
                message: "line \(record.line) has \(record.fields.count) cells, the header \(width)")
        }
        return entry(record.fields, line: record.line)
    }

    func entry(_ fields: [String], line: Int) -> CredentialReportEntry {
        func cell(_ name: String) -> String { columns[name].map { fields[$0] } ?? "" }
        func flag(_ name: String) -> Bool { cell(name).lowercased() == "true" }
        func time(_ name: String) -> ReportTime {
            columns[name] == nil ? .notApplicable : ReportTime(cell(name))
        }
        func optional(_ name: String) -> String? {
            let value = cell(name)
            return value.isEmpty || value == "N/A" ? nil : value
        }
        let keys = (1...2).map { n in
            ReportAccessKey(
                slot: n, active: flag("access_key_\(n)_active"), lastRotated: time("access_key_\(n)_last_rotated"),
                lastUsed: time("access_key_\(n)_last_used_date"),
                lastUsedService: optional("access_key_\(n)_last_used_service"),
                lastUsedRegion: optional("access_key_\(n)_last_used_region"))
        }
        return CredentialReportEntry(
            user: cell("user"), arn: cell("arn"), userCreated: ISO8601.parse(cell("user_creation_time")),
            passwordEnabled: flag("password_enabled"), passwordLastUsed: time("password_last_used"),
            passwordLastChanged: time("password_last_changed"), passwordNextRotation: time("password_next_rotation"),
            mfaActive: flag("mfa_active"), accessKeys: keys,
            certificatesActive: (1...2).map { flag("cert_\($0)_active") },
            certificatesLastRotated: (1...2).map { time("cert_\($0)_last_rotated") },
            certificatesReported: columns["cert_1_active"] != nil && columns["cert_2_active"] != nil, line: line)
    }
}
