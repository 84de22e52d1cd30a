import AWSQuery
import Foundation

// InMemoryIAM's answers to the IAM calls (its `IAMOperations` requirements), with IAM's
// semantics, and the credential report it generates. The state, the test controls and the call
// machinery (`perform`) are in InMemoryIAM.swift.
extension InMemoryIAM {
    // MARK: IAMOperations

    public func getUser(userName: String) async throws -> AWSResult<IAMUser> {
        try await perform("GetUser", user: userName) { user(try existing(userName, "GetUser")) }
    }

    public func listUsers(pathPrefix: String?, pageSize: Int?) async throws -> AWSResult<[IAMUser]> {
        let all = users.values.filter { $0.path.hasPrefix(pathPrefix ?? "/") }
            .sorted { $0.name.lowercased() < $1.name.lowercased() }.map(user)
        let size = max(1, pageSize ?? 100)
        return try await perform("ListUsers", pages: (all.count + size - 1) / size) { all }
    }

    public func getLoginProfile(userName: String) async throws -> AWSResult<LoginProfile> {
        let action = "GetLoginProfile"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard let profile = record.profile else { throw noProfile(record, action) }
            return LoginProfile(
                userName: record.name, createDate: profile.created, passwordResetRequired: profile.resetRequired)
        }
    }

    public func createLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<LoginProfile>
    {
        let action = "CreateLoginProfile"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard record.profile == nil else {
                throw serviceError(
                    .entityAlreadyExists, 409, "Login Profile for user \(record.name) already exists.", action: action)
            }
            try checkPolicy(password, action: action)
            let created = now()
            users[userName.lowercased()]?.profile = (created, passwordResetRequired)
            return LoginProfile(
                userName: record.name, createDate: created, passwordResetRequired: passwordResetRequired)
        }
    }

    public func updateLoginProfile(userName: String, password: String, passwordResetRequired: Bool) async throws
        -> AWSResult<Void>
    {
        let action = "UpdateLoginProfile"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard let profile = record.profile else { throw noProfile(record, action) }
            try checkPolicy(password, action: action)
            users[userName.lowercased()]?.profile = (profile.created, passwordResetRequired)
        }
    }

    public func deleteLoginProfile(userName: String) async throws -> AWSResult<Void> {
        let action = "DeleteLoginProfile"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard record.profile != nil else { throw noProfile(record, action) }
            users[userName.lowercased()]?.profile = nil
        }
    }

    public func attachUserPolicy(userName: String, policyArn: String) async throws -> AWSResult<Void> {
        let action = "AttachUserPolicy"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard !record.policies.contains(policyArn) else { return }
            guard record.policies.count < Self.managedPoliciesPerUser else {
                throw serviceError(
                    .limitExceeded, 409, "Cannot exceed quota for PoliciesPerUser: \(Self.managedPoliciesPerUser)",
                    action: action)
            }
            users[userName.lowercased()]?.policies.append(policyArn)
        }
    }

    public func listAttachedUserPolicies(userName: String) async throws -> AWSResult<[AttachedPolicy]> {
        let action = "ListAttachedUserPolicies"
        return try await perform(action, user: userName) {
            try existing(userName, action).policies.map {
                AttachedPolicy(policyName: String($0.split(separator: "/").last ?? ""), policyArn: $0)
            }
        }
    }

    public func listAccessKeys(userName: String) async throws -> AWSResult<[AccessKeyMetadata]> {
        let action = "ListAccessKeys"
        let pages = pageCount(users[userName.lowercased()]?.keys.count ?? 0)
        return try await perform(action, user: userName, pages: pages) {
            let record = try existing(userName, action)
            return record.keys.map {
                AccessKeyMetadata(userName: record.name, accessKeyId: $0.id, status: $0.status, createDate: $0.created)
            }
        }
    }

    public func updateAccessKey(userName: String, accessKeyId: String, status: AccessKeyStatus) async throws
        -> AWSResult<Void>
    {
        let action = "UpdateAccessKey"
        return try await perform(action, user: userName) {
            let record = try existing(userName, action)
            guard let index = record.keys.firstIndex(where: { $0.id == accessKeyId }) else {
                throw serviceError(
                    .noSuchEntity, 404, "The Access Key with id \(accessKeyId) cannot be found", action: action)
            }
            users[userName.lowercased()]?.keys[index].status = status
        }
    }

    public func getAccessKeyLastUsed(accessKeyId: String) async throws -> AWSResult<AccessKeyLastUsed> {
        let action = "GetAccessKeyLastUsed"
        return try await perform(action) {
            for record in users.values {
                if let key = record.keys.first(where: { $0.id == accessKeyId }) {
                    return AccessKeyLastUsed(
                        lastUsedDate: key.lastUsed, serviceName: key.lastUsed == nil ? nil : "iam",
                        region: key.lastUsed == nil ? nil : "us-east-1")
                }
            }
            throw serviceError(.accessDenied, 403, "access key \(accessKeyId) is not in this account", action: action)
        }
    }

    public func listMFADevices(userName: String) async throws -> AWSResult<[MFADevice]> {
        let action = "ListMFADevices"
        let pages = pageCount(users[userName.lowercased()]?.mfa.count ?? 0)
        return try await perform(action, user: userName, pages: pages) {
            let record = try existing(userName, action)
            return record.mfa.map { MFADevice(userName: record.name, serialNumber: $0, enableDate: record.created) }
        }
    }

    public func getAccountPasswordPolicy() async throws -> AWSResult<PasswordPolicy?> {
        try await perform("GetAccountPasswordPolicy") { passwordPolicy }
    }

    public func generateCredentialReport() async throws -> AWSResult<CredentialReportState> {
        try await perform("GenerateCredentialReport") {
            // The first call starts a report, the next finds it complete (IAM takes seconds).
            if reportGenerating {
                reportGenerating = false
                reportGenerated = now()
                return .complete
            }
            if let generated = reportGenerated, now().timeIntervalSince(generated) < 4 * 3600 { return .complete }
            reportGenerating = true
            return .started
        }
    }

    public func getCredentialReport(maxBytes: Int) async throws -> AWSResult<CredentialReportContent> {
        let action = "GetCredentialReport"
        return try await perform(action) {
            if reportGenerating { throw serviceError(.reportInProgress, 404, "Report is in progress", action: action) }
            guard let generated = reportGenerated else {
                throw serviceError(.reportNotPresent, 410, "Credential report not present", action: action)
            }
            let csv = Array(credentialReportCSV().utf8)
            guard csv.count <= maxBytes else {
                throw AWSClientError(
                    .invalidResponse(httpStatus: 200), action: action,
                    detail: "the credential report is larger than \(maxBytes) bytes")
            }
            return CredentialReportContent(
                csv: try SpooledFile.holding(csv, prefix: "credential-report"), generatedTime: generated,
                format: "text/csv")
        }
    }

    /// The report IAM would generate for these users (the columns console-access reads).
    func credentialReportCSV() -> String {
        func date(_ value: Date?) -> String { value.map(ISO8601.format) ?? "N/A" }
        var lines = [
            "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
        ]
        for record in users.values.sorted(by: { $0.name.lowercased() < $1.name.lowercased() }) {
            var fields = [
                record.name, user(record).arn, date(record.created), record.profile == nil ? "false" : "true",
                record.profile == nil ? "N/A" : (record.passwordLastUsed.map(ISO8601.format) ?? "no_information"),
                record.profile.map { ISO8601.format($0.created) } ?? "N/A", "N/A",
                record.mfa.isEmpty ? "false" : "true",
            ]
            for slot in 0..<2 {
                if slot < record.keys.count {
                    let key = record.keys[slot]
                    fields += [
                        key.status == .active ? "true" : "false", ISO8601.format(key.created), date(key.lastUsed),
                        key.lastUsed == nil ? "N/A" : "us-east-1", key.lastUsed == nil ? "N/A" : "iam",
                    ]
                } else {
                    fields += ["false", "N/A", "N/A", "N/A", "N/A"]
                }
            }
            for slot in 0..<2 {
                let certificate = slot < record.certificates.count ? record.certificates[slot] : nil
                fields += [
                    certificate?.status == .active ? "true" : "false",
                    certificate.map { ISO8601.format($0.created) } ?? "N/A",
                ]
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func checkPolicy(_ password: String, action: String) throws {
        guard let policy = passwordPolicy else { return }
        if password.unicodeScalars.count < policy.minimumPasswordLength
            || (policy.requireNumbers && !password.contains(where: \.isNumber))
            || (policy.requireSymbols && !password.contains(where: { $0.isPunctuation || $0.isSymbol }))
            || (policy.requireUppercaseCharacters && !password.contains(where: \.isUppercase))
            || (policy.requireLowercaseCharacters && !password.contains(where: \.isLowercase))
        {
            throw serviceError(
                .passwordPolicyViolation, 400, "Password does not conform to the account password policy.",
                action: action)
        }
    }
}
