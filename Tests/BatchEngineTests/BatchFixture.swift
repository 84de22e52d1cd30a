import AWSQuery
import BatchEngine
import ConsoleAccess
import Foundation
import TestSupport

/// A generated batch against moto: users in known states, a CSV mixing enable/disable rows,
/// repeated users, missing users and invalid rows, and the IAM state the file must produce.
struct BatchFixture: Sendable {
    let prefix: String
    let csv: String
    /// Input lines of valid rows for users that exist, with their final expected console state.
    let expectedEnabled: [String: Bool]
    /// Each user's console state before the batch.
    let initialEnabled: [String: Bool]
    let invalidLines: Set<Int>
    let missingUserLines: Set<Int>
    let totalRows: Int
    let passwords: [String]

    /// - Parameters:
    ///   - users: how many users to create (a third start with a console password).
    ///   - rows: how many data rows to write.
    static func make(users: Int, rows: Int, seed: UInt64 = 42) -> BatchFixture {
        var random = SplitMix64(seed: seed)
        let prefix = "b\(UUID().uuidString.prefix(6).lowercased())"
        var lines = ["user,action,password"]
        var state: [String: Bool] = [:]
        for index in 0..<users { state["\(prefix)-u\(index)"] = index % 3 == 0 }
        let initial = state
        var invalid: Set<Int> = []
        var missing: Set<Int> = []
        var passwords: [String] = []
        for row in 0..<rows {
            let line = row + 2
            let roll = random.next() % 100
            if roll < 4 {
                lines.append("\(prefix) bad\(row),enable,Xx-Passw0rd!\(row)")
                invalid.insert(line)
            } else if roll < 7 {
                lines.append("\(prefix)-ghost\(row),disable,")
                missing.insert(line)
            } else {
                let user = "\(prefix)-u\(Int(random.next() % UInt64(users)))"
                if random.next() % 2 == 0 {
                    let password = "Pw-\(row)-\(random.next() % 1_000_000)-Canary!"
                    passwords.append(password)
                    lines.append("\(user),enable,\(password)")
                    state[user] = true
                } else {
                    lines.append("\(user),disable,")
                    state[user] = false
                }
            }
        }
        return BatchFixture(
            prefix: prefix, csv: lines.joined(separator: "\n") + "\n", expectedEnabled: state,
            initialEnabled: initial, invalidLines: invalid,
            missingUserLines: missing, totalRows: rows, passwords: passwords)
    }

    /// Creates the users (a third with a console password) in moto.
    func setUp(_ admin: MotoAdmin) async throws {
        for (user, enabled) in initialEnabled.sorted(by: { $0.key < $1.key }) {
            try await admin.createUser(user)
            if enabled { try await admin.createLoginProfile(user, password: "Initial-Passw0rd!") }
        }
    }

    /// Checks every user's console state (and, for enabled users, the attached policy) in moto.
    func mismatches(_ admin: MotoAdmin) async throws -> [String] {
        var problems: [String] = []
        for (user, enabled) in expectedEnabled.sorted(by: { $0.key < $1.key }) {
            let hasProfile: Bool
            do {
                _ = try await admin.iam.call("GetLoginProfile", [QueryParameter("UserName", user)])
                hasProfile = true
            } catch let error as AWSServiceError where error.code == "NoSuchEntity" {
                hasProfile = false
            }
            if hasProfile != enabled {
                problems.append(
                    "\(user): console access \(hasProfile ? "enabled" : "disabled"), expected \(enabled ? "enabled" : "disabled")"
                )
            }
        }
        return problems
    }
}
