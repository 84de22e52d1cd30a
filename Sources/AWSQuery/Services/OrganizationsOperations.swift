/// One account of an AWS organization, as `organizations:ListAccounts` lists it.
public struct OrganizationAccount: Sendable, Equatable {
    /// The 12-digit account id.
    public var id: String
    public var name: String
    /// `ACTIVE`, `SUSPENDED` or `PENDING_CLOSURE` (only `ACTIVE` accounts are worked on).
    public var status: String

    public init(id: String, name: String, status: String) {
        self.id = id
        self.name = name
        self.status = status
    }

    public var isActive: Bool { status == "ACTIVE" }
}

/// One page of `ListAccounts`: the accounts, and the token for the next page (nil at the end).
public struct OrganizationAccountPage: Sendable, Equatable {
    public var accounts: [OrganizationAccount]
    public var nextToken: String?

    public init(accounts: [OrganizationAccount], nextToken: String?) {
        self.accounts = accounts
        self.nextToken = nextToken
    }
}

/// The AWS Organizations calls a multi-account run makes (from the organization's management
/// account, or a delegated administrator).
public protocol OrganizationsOperations: Sendable {
    /// `organizations:ListAccounts`, one page.
    func listAccounts(nextToken: String?) async throws -> AWSResult<OrganizationAccountPage>
}
