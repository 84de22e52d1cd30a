import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// An `AWSConnector` with an `InMemoryIAM` behind it: a batch or review runs its whole engine
/// (setup, identity check, limiter, retries, report) without a server. `identityFault`, when
/// set, is what `sts:GetCallerIdentity` throws.
///
/// Many accounts: `members` are the other accounts' IAMs, reached when the configuration asks
/// for a role in them (`AWSConfiguration.accountRole`), as `sts:AssumeRole` would; a role in an
/// account of `deniedAccounts`, or in an account not listed, is refused with `AccessDenied`.
/// `organization` is what `organizations:ListAccounts` lists (nil: no Organizations).
public struct InMemoryConnector: AWSConnector {
    public let iam: InMemoryIAM
    public let identity: CallerIdentity
    public let region: String
    public var identityFault: AWSServiceError?
    public var members: [String: InMemoryIAM] = [:]
    public var deniedAccounts: Set<String> = []
    public var organization: InMemoryOrganization?
    /// The roles asked for, in order (one per connection made with one).
    public let assumedRoles = NIOLockedValueBox<[AssumedRole]>([])

    public init(
        iam: InMemoryIAM,
        identity: CallerIdentity = CallerIdentity(
            account: "123456789012", arn: "arn:aws:iam::123456789012:user/operator", userId: "AIDAOPERATOR"),
        region: String = "us-east-1", identityFault: AWSServiceError? = nil
    ) {
        self.iam = iam
        self.identity = identity
        self.region = region
        self.identityFault = identityFault
    }

    public func withConnection<T: Sendable>(
        _ configuration: AWSConfiguration, _ body: (AWSConnection) async throws -> T
    ) async throws -> T {
        var (iam, identity, fault) = (self.iam, self.identity, identityFault)
        if let role = configuration.accountRole {
            assumedRoles.withLockedValue { $0.append(role) }
            let account = role.account ?? ""
            let allowed = members[account] != nil && !deniedAccounts.contains(account)
            configuration.observer?(
                CallRecord(
                    service: "sts", action: "AssumeRole", userName: nil, startedAt: Date(), duration: .zero,
                    httpStatus: allowed ? 200 : 403, errorCode: allowed ? nil : "AccessDenied", requestId: nil,
                    attempt: 1))
            guard let member = members[account], allowed else {
                throw AWSServiceError(
                    code: "AccessDenied",
                    message:
                        "User: \(self.identity.arn) is not authorized to perform: sts:AssumeRole on resource: \(role.roleArn)",
                    httpStatus: 403, requestId: "in-memory-assume", action: "AssumeRole")
            }
            let roleName = role.roleArn.split(separator: "/").last.map(String.init) ?? "role"
            iam = member
            identity = CallerIdentity(
                account: account,
                arn: "arn:aws:sts::\(account):assumed-role/\(roleName)/\(role.sessionName ?? "console-access")",
                userId: "AROA\(account):\(role.sessionName ?? "console-access")")
            fault = nil
        }
        let observer = configuration.observer
        await iam.setObserver(observer)
        return try await body(
            AWSConnection(iam: iam, region: region, organizations: organization) { [identity, fault] in
                observer?(
                    CallRecord(
                        service: "sts", action: "GetCallerIdentity", userName: nil, startedAt: Date(), duration: .zero,
                        httpStatus: fault?.httpStatus ?? 200, errorCode: fault?.code, requestId: nil,
                        attempt: CallContext.attempt))
                if let fault { throw fault }
                return AWSResult(value: identity, requestId: "in-memory")
            })
    }
}

/// `organizations:ListAccounts` in memory: the accounts, `pageSize` per page; `fault`, when
/// set, is what every call throws.
public struct InMemoryOrganization: OrganizationsOperations {
    public var accounts: [OrganizationAccount]
    public var pageSize: Int
    public var fault: AWSServiceError?
    /// Pages asked for.
    public let calls = NIOLockedValueBox(0)

    public init(accounts: [OrganizationAccount], pageSize: Int = 2, fault: AWSServiceError? = nil) {
        self.accounts = accounts
        self.pageSize = pageSize
        self.fault = fault
    }

    public func listAccounts(nextToken: String?) async throws -> AWSResult<OrganizationAccountPage> {
        calls.withLockedValue { $0 += 1 }
        if let fault { throw fault }
        let start = nextToken.flatMap(Int.init) ?? 0
        let end = min(start + pageSize, accounts.count)
        return AWSResult(
            value: OrganizationAccountPage(
                accounts: Array(accounts[start..<end]), nextToken: end < accounts.count ? String(end) : nil),
            requestId: "in-memory-org")
    }
}
