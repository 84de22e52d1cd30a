import Crypto
import Foundation
import Logging

/// AWS Organizations over the wire (the AWS JSON 1.1 protocol, `JSONProtocolClient`): the calls
/// a multi-account run makes, from the organization's management account or a delegated
/// administrator. One attempt per call; `listAllAccounts(executor:)` pages with retries.
public struct OrganizationsClient: OrganizationsOperations {
    /// The `X-Amz-Target` prefix of every Organizations operation.
    public static let targetPrefix = "AWSOrganizationsV20161128"
    /// `ListAccounts`' largest page (`MaxResults` is 1–20).
    public static let maxPageSize = 20
    /// The longest `NextToken` accepted from an answer (AWS documents 100,000 characters).
    public static let maxNextTokenLength = 100_000

    public let json: JSONProtocolClient
    /// `MaxResults` per `ListAccounts` page (1–20); nil leaves it to the service.
    public var pageSize: Int?

    public var endpoint: ServiceEndpoint { json.endpoint }

    public init(json: JSONProtocolClient, pageSize: Int? = nil) {
        self.json = json
        self.pageSize = pageSize
    }

    public init(
        endpoint: ServiceEndpoint, credentials: (any CredentialProvider)?, transport: any HTTPTransport,
        logger: Logger = Logger(label: "console-access.aws"), timeout: Duration = .seconds(30),
        clock: @escaping @Sendable () -> Date = Date.init, observer: (@Sendable (CallRecord) -> Void)? = nil,
        pageSize: Int? = nil
    ) {
        self.init(
            json: JSONProtocolClient(
                endpoint: endpoint, targetPrefix: Self.targetPrefix, credentials: credentials, transport: transport,
                logger: logger, timeout: timeout, clock: clock, observer: observer),
            pageSize: pageSize)
    }

    /// `organizations:ListAccounts`, one page of `pageSize` accounts.
    public func listAccounts(nextToken: String?) async throws -> AWSResult<OrganizationAccountPage> {
        try await listAccounts(nextToken: nextToken, maxResults: pageSize)
    }

    /// `organizations:ListAccounts`, one page of at most `maxResults` accounts (1–20).
    ///
    /// - Throws: `AWSServiceError` for an error answer; `AWSClientError` for an answer that is not
    ///   an account page (an account id that is not 12 digits, no status) or a `maxResults`
    ///   outside 1–20.
    public func listAccounts(nextToken: String?, maxResults: Int?) async throws
        -> AWSResult<OrganizationAccountPage>
    {
        let action = "ListAccounts"
        if let maxResults, !(1...Self.maxPageSize).contains(maxResults) {
            throw AWSClientError(
                .invalidRequest, action: action, detail: "MaxResults must be 1–\(Self.maxPageSize), not \(maxResults)")
        }
        let request = ListAccountsRequest(
            nextToken: nextToken.flatMap { $0.isEmpty ? nil : $0 }, maxResults: maxResults)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Array(try encoder.encode(request))
        return try await json.call(action, body: body) { response in
            AWSResult(value: try Self.accountPage(response), requestId: response.requestId)
        }
    }

    /// Any Organizations operation with a raw JSON body (tests set up organizations with it).
    public func call(_ operation: String, body: String = "{}") async throws -> JSONProtocolResponse {
        try await json.call(operation, body: Array(body.utf8)) { $0 }
    }

    struct ListAccountsRequest: Encodable {
        var nextToken: String?
        var maxResults: Int?

        enum CodingKeys: String, CodingKey {
            case nextToken = "NextToken"
            case maxResults = "MaxResults"
        }
    }

    /// `{"Accounts": [{"Id", "Name", "Status", "State", ...}], "NextToken": ...}`.
    struct ListAccountsAnswer: Decodable {
        struct Account: Decodable {
            var id: String
            var name: String?
            var status: String?
            var state: String?

            enum CodingKeys: String, CodingKey {
                case id = "Id"
                case name = "Name"
                case status = "Status"
                case state = "State"
            }
        }
        var accounts: [Account]?
        var nextToken: String?

        enum CodingKeys: String, CodingKey {
            case accounts = "Accounts"
            case nextToken = "NextToken"
        }
    }

    /// A `ListAccounts` answer as a page: every account id 12 digits, every account with a status
    /// (`Status`, else the newer `State`), an empty `NextToken` the end.
    static func accountPage(_ response: JSONProtocolResponse) throws -> OrganizationAccountPage {
        func invalid(_ detail: String) -> AWSClientError {
            AWSClientError(.invalidResponse(httpStatus: response.httpStatus), action: "ListAccounts", detail: detail)
        }
        let answer: ListAccountsAnswer
        do {
            answer = try JSONDecoder().decode(ListAccountsAnswer.self, from: Data(response.body))
        } catch {
            throw invalid(
                "the body is not the expected JSON (\(describe(error))): \(Redaction.snippet(response.body, secrets: []))"
            )
        }
        guard let listed = answer.accounts else { throw invalid("the answer has no Accounts list") }
        var accounts: [OrganizationAccount] = []
        accounts.reserveCapacity(listed.count)
        for account in listed {
            guard isAccountID(account.id) else {
                throw invalid(
                    "account id '\(AWSConfigurationError.printable(account.id))' is not an AWS account id (12 digits)")
            }
            guard let status = [account.status, account.state].compactMap({ $0 }).first(where: { !$0.isEmpty })
            else { throw invalid("account \(account.id) has no Status") }
            accounts.append(OrganizationAccount(id: account.id, name: account.name ?? "", status: status))
        }
        let token = answer.nextToken.flatMap { $0.isEmpty ? nil : $0 }
        if let token, token.utf8.count > maxNextTokenLength {
            throw invalid("the NextToken is longer than \(maxNextTokenLength) bytes")
        }
        return OrganizationAccountPage(accounts: accounts, nextToken: token)
    }

    /// Exactly 12 ASCII digits.
    static func isAccountID(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// A decoding error in a line: what was wrong, and where.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        let context: DecodingError.Context
        switch error {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            context = c
        @unknown default:
            return "\(error)"
        }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? context.debugDescription : "\(context.debugDescription) at \(path)"
    }
}

/// Limits on reading an organization's account list.
public enum OrganizationsPaging {
    /// Most `ListAccounts` pages one listing reads (20,000 accounts at 20 a page).
    public static let maxPages = 1000
}

extension OrganizationsOperations {
    /// Every account of the organization, in the order listed (an account listed twice is kept
    /// once), each page a call of its own through `executor` (retries, backoff, the rate
    /// limiter); attempts go to the current task's `CallLedger`.
    ///
    /// - Throws: the error of a page whose retries failed; `AWSClientError` (`invalidResponse`)
    ///   when an answer gives a `NextToken` already seen (the listing would never end), or past
    ///   `maxPages` pages.
    public func listAllAccounts(executor: CallExecutor, maxPages: Int = OrganizationsPaging.maxPages) async throws
        -> [OrganizationAccount]
    {
        var accounts: [OrganizationAccount] = []
        var listed = Set<String>()
        // Digests, not the tokens: a hostile endpoint's 100 KB tokens over 1,000 pages stay small.
        var seenTokens = Set<Data>()
        var token: String?
        var pages = 0
        repeat {
            guard pages < maxPages else {
                throw AWSClientError(
                    .invalidResponse(httpStatus: 0), action: "ListAccounts",
                    detail: "the account list goes on past \(maxPages) pages; stopped")
            }
            pages += 1
            var attempts = 0
            defer { CallLedger.current?.add(attempts: attempts) }
            let page = try await executor.run(attempts: &attempts) { [token] in
                try await listAccounts(nextToken: token)
            }
            for account in page.value.accounts where listed.insert(account.id).inserted {
                accounts.append(account)
            }
            token = page.value.nextToken
            if let token, !seenTokens.insert(Data(SHA256.hash(data: Data(token.utf8)))).inserted {
                throw AWSClientError(
                    .invalidResponse(httpStatus: 200), action: "ListAccounts",
                    detail:
                        "page \(pages) gave a NextToken an earlier page gave (request id \(page.requestId ?? "none")): the listing would never end; stopped"
                )
            }
        } while token != nil
        return accounts
    }
}
