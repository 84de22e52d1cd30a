import AWSQuery
import Foundation

/// IAM in memory, with IAM's semantics for the calls console-access makes: user names unique
/// ignoring case, `NoSuchEntity` (404) for a missing user, profile or key, `EntityAlreadyExists`
/// (409) for a second login profile, `LimitExceeded` (409) past 10 managed policies per user,
/// `PasswordPolicyViolation` (400) for a password the account policy refuses, `MaxItems`
/// paging (one recorded call per page), the credential report's generate/poll states, and the
/// other credentials (SSH keys, signing certificates, service-specific credentials, MFA devices:
/// InMemoryIAMCredentials.swift), `NoSuchEntity` for an id the user does not hold.
///
/// For tests: faults are injected per call (`inject`), every call is recorded (`calls`), and
/// each call can take `latency` on a clock the test controls (`sleep`). The contract suite runs
/// the same cases against this and against moto, so the two cannot drift.
public actor InMemoryIAM: IAMOperations {
    /// What one call was: its action and the user it named, in order.
    public struct Call: Sendable, Equatable {
        public let action: String
        public let userName: String?
    }

    /// A fault injected into a call.
    public enum Fault: Sendable {
        /// IAM answers this error; nothing is applied.
        case error(AWSErrorCode, httpStatus: Int, message: String = "injected")
        /// The call is applied, but its answer never arrives (a client timeout).
        case answerLost
        /// The connection drops before the request arrives; nothing is applied.
        case connectionDropped

        /// `Throttling` (HTTP 400), as IAM throttles.
        public static let throttle = Fault.error(.throttling, httpStatus: 400, message: "Rate exceeded")
    }

    struct UserRecord {
        var name: String
        var id: String
        var path: String
        var created: Date
        var passwordLastUsed: Date?
        var profile: (created: Date, resetRequired: Bool)?
        var policies: [String] = []
        var keys: [(id: String, status: AccessKeyStatus, created: Date, lastUsed: Date?)] = []
        /// Serial numbers of the MFA devices bound to the user.
        var mfa: [String] = []
        var sshKeys: [Credential] = []
        var certificates: [Credential] = []
        var serviceCredentials: [Credential] = []
    }

    /// An SSH public key, signing certificate or service-specific credential.
    struct Credential {
        var id: String
        var status: AccessKeyStatus
        var created: Date
        var serviceName: String? = nil
        var serviceUserName: String? = nil
    }

    /// IAM's default quota of managed policies attached to one user.
    public static let managedPoliciesPerUser = 10

    public let accountId: String
    // Not private where InMemoryIAMOperations.swift (the IAM calls) uses it.
    var users: [String: UserRecord] = [:]
    var passwordPolicy: PasswordPolicy?
    var reportGenerated: Date?
    var reportGenerating = false
    /// Every MFA device's serial in the account, bound to a user or not.
    var accountMFASerials: Set<String> = []
    /// Items per page of the credential lists (IAM's default `MaxItems`): each page is one call.
    public var listPageSize = 100
    private var faults: [(action: String, user: String?, fault: Fault, remaining: Int)] = []
    private var log: [Call] = []
    private var observer: (@Sendable (CallRecord) -> Void)?
    private var nextId = 0
    let now: @Sendable () -> Date
    /// How long each call takes, slept through `sleep` (a test clock, or `Task.sleep`).
    public var latency: Duration = .zero
    private let sleep: @Sendable (Duration) async throws -> Void

    public init(
        accountId: String = "123456789012", now: @escaping @Sendable () -> Date = Date.init,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.accountId = accountId
        self.now = now
        self.sleep = sleep
    }

    // MARK: Test control

    /// Every call made so far, in order (a paged list records one per page).
    public var calls: [Call] { log }

    /// Sees every call's answer, as `AWSConfiguration.observer` sees the Query client's.
    public func setObserver(_ observer: (@Sendable (CallRecord) -> Void)?) { self.observer = observer }

    /// How many calls of `action` were made.
    public func count(_ action: String) -> Int { log.filter { $0.action == action }.count }

    /// Makes the next `times` calls of `action` (naming `user`, when given) fail with `fault`.
    public func inject(_ fault: Fault, on action: String, user: String? = nil, times: Int = 1) {
        faults.append((action, user?.lowercased(), fault, times))
    }

    public func setLatency(_ latency: Duration) { self.latency = latency }

    @discardableResult
    public func addUser(_ name: String, path: String = "/", created: Date? = nil) -> IAMUser {
        nextId += 1
        let record = UserRecord(
            name: name, id: "AIDA\(String(format: "%016d", nextId))", path: path, created: created ?? now())
        users[name.lowercased()] = record
        return user(record)
    }

    public func removeUser(_ name: String) { users[name.lowercased()] = nil }

    public func addLoginProfile(_ name: String, created: Date? = nil, resetRequired: Bool = false) {
        users[name.lowercased()]?.profile = (created ?? now(), resetRequired)
    }

    public func setPasswordLastUsed(_ name: String, _ date: Date?) {
        users[name.lowercased()]?.passwordLastUsed = date
    }

    /// Adds an access key; returns its id.
    @discardableResult
    public func addAccessKey(_ name: String, status: AccessKeyStatus = .active, lastUsed: Date? = nil) -> String {
        nextId += 1
        let id = "AKIA\(String(format: "%016d", nextId))"
        users[name.lowercased()]?.keys.append((id, status, now(), lastUsed))
        return id
    }

    /// Binds a new virtual MFA device (named `device`, else after the user) to the user; returns
    /// its serial number.
    @discardableResult
    public func addMFADevice(_ name: String, device: String? = nil) -> String {
        let base = "arn:aws:iam::\(accountId):mfa/\(device ?? name)"
        var serial = base
        var suffix = 1
        while accountMFASerials.contains(serial) {
            suffix += 1
            serial = "\(base)-\(suffix)"
        }
        accountMFASerials.insert(serial)
        users[name.lowercased()]?.mfa.append(serial)
        return serial
    }

    /// Adds an active (unless told) SSH public key; returns its id.
    @discardableResult
    public func addSSHPublicKey(_ name: String, status: AccessKeyStatus = .active) -> String {
        let id = newId("APKA", digits: 16)
        users[name.lowercased()]?.sshKeys.append(Credential(id: id, status: status, created: now()))
        return id
    }

    /// Adds a signing certificate (no body is kept); returns its id.
    @discardableResult
    public func addSigningCertificate(_ name: String, status: AccessKeyStatus = .active) -> String {
        let id = newId("", digits: 32)
        users[name.lowercased()]?.certificates.append(Credential(id: id, status: status, created: now()))
        return id
    }

    /// Adds a service-specific credential for `serviceName`; returns its id.
    @discardableResult
    public func addServiceSpecificCredential(
        _ name: String, serviceName: String = "codecommit.amazonaws.com", status: AccessKeyStatus = .active
    ) -> String {
        let id = newId("ACCA", digits: 17)
        let credential = Credential(
            id: id, status: status, created: now(), serviceName: serviceName,
            serviceUserName: "\(users[name.lowercased()]?.name ?? name)-at-\(accountId)")
        users[name.lowercased()]?.serviceCredentials.append(credential)
        return id
    }

    public func setListPageSize(_ size: Int) { listPageSize = max(1, size) }

    private func newId(_ prefix: String, digits: Int) -> String {
        nextId += 1
        let number = String(nextId)
        return prefix + String(repeating: "0", count: max(0, digits - number.count)) + number
    }

    public func attach(_ name: String, policyArn: String) {
        if users[name.lowercased()]?.policies.contains(policyArn) == false {
            users[name.lowercased()]?.policies.append(policyArn)
        }
    }

    public func setPasswordPolicy(_ policy: PasswordPolicy?) { passwordPolicy = policy }

    /// The user's login profile as IAM holds it (nil: none, or no such user).
    public func loginProfile(_ name: String) -> LoginProfile? {
        guard let record = users[name.lowercased()], let profile = record.profile else { return nil }
        return LoginProfile(
            userName: record.name, createDate: profile.created, passwordResetRequired: profile.resetRequired)
    }

    public func attachedPolicies(_ name: String) -> [String] { users[name.lowercased()]?.policies ?? [] }

    public func accessKeyStatuses(_ name: String) -> [AccessKeyStatus] {
        users[name.lowercased()]?.keys.map(\.status) ?? []
    }

    public func sshKeyStatuses(_ name: String) -> [AccessKeyStatus] {
        users[name.lowercased()]?.sshKeys.map(\.status) ?? []
    }

    public func certificateStatuses(_ name: String) -> [AccessKeyStatus] {
        users[name.lowercased()]?.certificates.map(\.status) ?? []
    }

    public func serviceCredentialStatuses(_ name: String) -> [AccessKeyStatus] {
        users[name.lowercased()]?.serviceCredentials.map(\.status) ?? []
    }

    /// The serial numbers of the MFA devices bound to the user.
    public func mfaSerials(_ name: String) -> [String] { users[name.lowercased()]?.mfa ?? [] }

    /// Every MFA device in the account, bound or not (deactivating a device keeps it here).
    public func accountMFADevices() -> [String] { accountMFASerials.sorted() }

    // MARK: The call machinery

    /// One call: records it (once per page), sleeps its latency, applies an injected fault, then
    /// runs `body` (IAM's semantics). An `answerLost` fault lets the call apply and then loses
    /// whatever it answered, success or error, as a client timeout.
    func perform<T: Sendable>(
        _ action: String, user: String? = nil, pages: Int = 1, _ body: () throws -> T
    ) async throws -> AWSResult<T> {
        var lost = false
        for page in 0..<max(1, pages) {
            log.append(Call(action: action, userName: user))
            if latency > .zero { try await sleep(latency) }
            if let fault = takeFault(action, user: user) {
                switch fault {
                case .error(let code, let status, let message):
                    observe(action, user, status: status, error: code.rawValue)
                    throw serviceError(code, status, message, action: action)
                case .connectionDropped:
                    let error = AWSClientError(
                        .connection, action: action, detail: "connection reset by peer (injected)")
                    observe(action, user, status: nil, error: error.code)
                    throw error
                case .answerLost:
                    lost = true
                }
            }
            if page < pages - 1 { observe(action, user, status: 200, error: nil) }
        }
        let result = Result { try body() }
        if lost {
            let error = AWSClientError(.timeout, action: action, detail: "no answer within the timeout (injected)")
            observe(action, user, status: nil, error: error.code)
            throw error
        }
        switch result {
        case .success: observe(action, user, status: 200, error: nil)
        case .failure(let error as AWSServiceError): observe(action, user, status: error.httpStatus, error: error.code)
        case .failure: observe(action, user, status: nil, error: nil)
        }
        return AWSResult(value: try result.get(), requestId: UUID().uuidString.lowercased())
    }

    /// Tells the observer (a run's call counter, as the Query client would) about one answer.
    private func observe(_ action: String, _ user: String?, status: Int?, error: String?) {
        observer?(
            CallRecord(
                service: "iam", action: action, userName: user, startedAt: now(), duration: latency,
                httpStatus: status, errorCode: error, requestId: nil, attempt: CallContext.attempt))
    }

    private func takeFault(_ action: String, user: String?) -> Fault? {
        guard
            let index = faults.firstIndex(where: {
                $0.action == action && $0.remaining > 0 && ($0.user == nil || $0.user == user?.lowercased())
            })
        else { return nil }
        faults[index].remaining -= 1
        let fault = faults[index].fault
        if faults[index].remaining == 0 { faults.remove(at: index) }
        return fault
    }

    func serviceError(_ code: AWSErrorCode, _ status: Int, _ message: String, action: String)
        -> AWSServiceError
    {
        AWSServiceError(
            code: code.rawValue, message: message, httpStatus: status, requestId: UUID().uuidString.lowercased(),
            fault: .sender, action: action, serverDate: now(), localDate: now())
    }

    func existing(_ name: String, _ action: String) throws -> UserRecord {
        guard let record = users[name.lowercased()] else {
            throw serviceError(.noSuchEntity, 404, "The user with name \(name) cannot be found.", action: action)
        }
        return record
    }

    func noProfile(_ record: UserRecord, _ action: String) -> AWSServiceError {
        serviceError(.noSuchEntity, 404, "Login Profile for User \(record.name) cannot be found.", action: action)
    }

    func user(_ record: UserRecord) -> IAMUser {
        IAMUser(
            userName: record.name, userId: record.id, arn: "arn:aws:iam::\(accountId):user\(record.path)\(record.name)",
            path: record.path, createDate: record.created, passwordLastUsed: record.passwordLastUsed)
    }
}
