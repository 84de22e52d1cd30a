import Foundation

/// A value with the request id of the call that returned it.
public struct AWSResult<Value: Sendable>: Sendable {
    public let value: Value
    public let requestId: String?

    public init(value: Value, requestId: String?) {
        self.value = value
        self.requestId = requestId
    }
}

public struct LoginProfile: Sendable, Equatable {
    public let userName: String
    public let createDate: Date?
    public let passwordResetRequired: Bool

    public init(userName: String, createDate: Date?, passwordResetRequired: Bool) {
        self.userName = userName
        self.createDate = createDate
        self.passwordResetRequired = passwordResetRequired
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        createDate = node.string("CreateDate").flatMap(ISO8601.parse)
        passwordResetRequired = node.string("PasswordResetRequired") == "true"
    }
}

public struct IAMUser: Sendable, Equatable {
    public let userName: String
    public let userId: String
    public let arn: String
    public let path: String
    public let createDate: Date?
    /// When the console password was last used; nil when never (or not reported).
    public let passwordLastUsed: Date?

    public init(
        userName: String, userId: String, arn: String, path: String = "/", createDate: Date?,
        passwordLastUsed: Date? = nil
    ) {
        self.userName = userName
        self.userId = userId
        self.arn = arn
        self.path = path
        self.createDate = createDate
        self.passwordLastUsed = passwordLastUsed
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        userId = node.string("UserId") ?? ""
        arn = node.string("Arn") ?? ""
        path = node.string("Path") ?? "/"
        createDate = node.string("CreateDate").flatMap(ISO8601.parse)
        passwordLastUsed = node.string("PasswordLastUsed").flatMap(ISO8601.parse)
    }
}

public struct AttachedPolicy: Sendable, Equatable {
    public let policyName: String
    public let policyArn: String

    public init(policyName: String, policyArn: String) {
        self.policyName = policyName
        self.policyArn = policyArn
    }

    init(_ node: XMLTree) {
        policyName = node.string("PolicyName") ?? ""
        policyArn = node.string("PolicyArn") ?? ""
    }
}

public enum AccessKeyStatus: String, Sendable {
    case active = "Active"
    case inactive = "Inactive"
}

public struct AccessKeyMetadata: Sendable, Equatable {
    public let userName: String
    public let accessKeyId: String
    /// nil when the service answered a status we do not know.
    public let status: AccessKeyStatus?
    public let createDate: Date?

    public init(userName: String, accessKeyId: String, status: AccessKeyStatus?, createDate: Date?) {
        self.userName = userName
        self.accessKeyId = accessKeyId
        self.status = status
        self.createDate = createDate
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        accessKeyId = node.string("AccessKeyId") ?? ""
        status = node.string("Status").flatMap(AccessKeyStatus.init(rawValue:))
        createDate = node.string("CreateDate").flatMap(ISO8601.parse)
    }
}

public struct AccessKeyLastUsed: Sendable, Equatable {
    public let lastUsedDate: Date?
    public let serviceName: String?
    public let region: String?

    public init(lastUsedDate: Date?, serviceName: String?, region: String?) {
        self.lastUsedDate = lastUsedDate
        self.serviceName = serviceName
        self.region = region
    }

    init(_ node: XMLTree) {
        lastUsedDate = node.string("LastUsedDate").flatMap(ISO8601.parse)
        serviceName = node.string("ServiceName").flatMap { $0 == "N/A" ? nil : $0 }
        region = node.string("Region").flatMap { $0 == "N/A" ? nil : $0 }
    }
}

public struct MFADevice: Sendable, Equatable {
    public let userName: String
    public let serialNumber: String
    public let enableDate: Date?

    public init(userName: String, serialNumber: String, enableDate: Date?) {
        self.userName = userName
        self.serialNumber = serialNumber
        self.enableDate = enableDate
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        serialNumber = node.string("SerialNumber") ?? ""
        enableDate = node.string("EnableDate").flatMap(ISO8601.parse)
    }
}

/// The account password policy: what IAM will demand of a new password.
public struct PasswordPolicy: Sendable, Equatable {
    public var minimumPasswordLength: Int
    public var requireSymbols: Bool
    public var requireNumbers: Bool
    public var requireUppercaseCharacters: Bool
    public var requireLowercaseCharacters: Bool
    public var allowUsersToChangePassword: Bool
    public var maxPasswordAge: Int?
    public var passwordReusePrevention: Int?
    public var hardExpiry: Bool

    public init(
        minimumPasswordLength: Int = 8, requireSymbols: Bool = false, requireNumbers: Bool = false,
        requireUppercaseCharacters: Bool = false, requireLowercaseCharacters: Bool = false,
        allowUsersToChangePassword: Bool = true, maxPasswordAge: Int? = nil, passwordReusePrevention: Int? = nil,
        hardExpiry: Bool = false
    ) {
        self.minimumPasswordLength = minimumPasswordLength
        self.requireSymbols = requireSymbols
        self.requireNumbers = requireNumbers
        self.requireUppercaseCharacters = requireUppercaseCharacters
        self.requireLowercaseCharacters = requireLowercaseCharacters
        self.allowUsersToChangePassword = allowUsersToChangePassword
        self.maxPasswordAge = maxPasswordAge
        self.passwordReusePrevention = passwordReusePrevention
        self.hardExpiry = hardExpiry
    }

    init(_ node: XMLTree) {
        func flag(_ name: String) -> Bool { node.string(name) == "true" }
        self.init(
            minimumPasswordLength: node.string("MinimumPasswordLength").flatMap { Int($0) } ?? 6,
            requireSymbols: flag("RequireSymbols"), requireNumbers: flag("RequireNumbers"),
            requireUppercaseCharacters: flag("RequireUppercaseCharacters"),
            requireLowercaseCharacters: flag("RequireLowercaseCharacters"),
            allowUsersToChangePassword: flag("AllowUsersToChangePassword"),
            maxPasswordAge: node.string("MaxPasswordAge").flatMap { Int($0) },
            passwordReusePrevention: node.string("PasswordReusePrevention").flatMap { Int($0) },
            hardExpiry: flag("HardExpiry"))
    }
}

/// Who the credentials belong to (STS `GetCallerIdentity`).
public struct CallerIdentity: Sendable, Equatable {
    public let account: String
    public let arn: String
    public let userId: String

    public init(account: String, arn: String, userId: String) {
        self.account = account
        self.arn = arn
        self.userId = userId
    }

    /// The IAM user name when the caller is an IAM user (`arn:aws:iam::123:user/path/name`).
    public var userName: String? {
        guard let resource = arn.split(separator: ":", maxSplits: 5).last, resource.hasPrefix("user/") else {
            return nil
        }
        return resource.split(separator: "/").last.map(String.init)
    }

    public var partition: Partition? { Partition.of(arn: arn) }
}
