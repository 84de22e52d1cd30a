import Foundation
import NIOConcurrencyHelpers

/// Something that can produce AWS credentials: the environment, a profile, a container or
/// instance metadata endpoint, a role to assume.
public protocol CredentialProvider: Sendable {
    /// A short name for messages: `environment`, `shared config profile 'dev'`, `EC2 instance metadata`.
    var name: String { get }
    /// Returns credentials, or throws `CredentialError.notFound` when this source has none,
    /// which lets a chain move on. Any other error stops the chain: the source was configured but failed.
    func credentials() async throws -> AWSCredentials
}

/// Why credentials could not be had.
public enum CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This source is not configured; a chain moves on to the next.
    case notFound(source: String, reason: String)
    /// No source in the chain had credentials. Lists each source tried and why it had none.
    case noCredentials(tried: [String])
    /// A source is configured but its settings are wrong or incomplete.
    case misconfigured(source: String, reason: String)
    /// A source is configured but fetching from it failed.
    case fetchFailed(source: String, reason: String)
    /// A chain stopped at a source that failed (a configured source that fails is not skipped,
    /// so no other identity is used in its place). Lists the sources tried before it and why
    /// each had none, then the failure.
    indirect case chainStopped(tried: [String], failure: CredentialError)

    public var description: String {
        switch self {
        case .notFound(let source, let reason):
            return "\(source): \(reason)"
        case .noCredentials(let tried):
            return "Unable to locate credentials. Tried, in order:\n"
                + tried.map { "  - \($0)" }.joined(separator: "\n")
                + "\nConfigure credentials with environment variables, a profile (--profile / AWS_PROFILE), or run where instance or container credentials are available."
        case .misconfigured(let source, let reason):
            return "credentials from \(source) are misconfigured: \(reason)"
        case .fetchFailed(let source, let reason):
            return "could not get credentials from \(source): \(reason)"
        case .chainStopped(let tried, let failure):
            return "Unable to get credentials. Tried, in order:\n"
                + (tried + ["\(failure) (the search stopped here)"]).map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}

/// Fixed credentials, e.g. given by a program using the library.
public struct StaticCredentialProvider: CredentialProvider {
    public let name: String
    private let value: AWSCredentials

    public init(_ credentials: AWSCredentials, name: String = "explicit credentials") {
        self.value = credentials
        self.name = name
    }

    public func credentials() async throws -> AWSCredentials { value }
}

/// Tries providers in order; the first that has credentials wins.
public struct CredentialProviderChain: CredentialProvider {
    public let providers: [any CredentialProvider]
    public var name: String { "credential chain" }

    public init(_ providers: [any CredentialProvider]) {
        self.providers = providers
    }

    public func credentials() async throws -> AWSCredentials {
        var tried: [String] = []
        for provider in providers {
            try Task.checkCancellation()
            do {
                return try await provider.credentials()
            } catch let CredentialError.notFound(source, reason) {
                tried.append("\(source): \(reason)")
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as CredentialError {
                throw CredentialError.chainStopped(tried: tried, failure: error)
            } catch {
                throw CredentialError.chainStopped(
                    tried: tried, failure: .fetchFailed(source: provider.name, reason: "\(error)"))
            }
        }
        throw CredentialError.noCredentials(tried: tried)
    }
}

/// Caches another provider's credentials and fetches new ones shortly before they expire.
/// Concurrent callers share one refresh.
public actor RefreshingCredentialProvider: CredentialProvider {
    public nonisolated let name: String
    private let base: any CredentialProvider
    private let refreshMargin: TimeInterval
    private let clock: @Sendable () -> Date
    private var refreshing: Task<AWSCredentials, any Error>?

    /// - Parameter refreshMargin: refresh when the credentials expire within this many seconds (default 5 minutes).
    public init(
        _ base: any CredentialProvider, refreshMargin: TimeInterval = 300,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.base = base
        self.name = base.name
        self.refreshMargin = refreshMargin
        self.clock = clock
    }

    /// The cached credentials, readable without entering the actor: every API call asks for
    /// credentials, and a hop onto the actor and back per call is measurable in a batch. Only
    /// the actor writes them.
    private nonisolated let cached = NIOLockedValueBox<AWSCredentials?>(nil)

    /// The cached credentials while they are not about to expire.
    private nonisolated var valid: AWSCredentials? {
        guard let credentials = cached.withLockedValue({ $0 }),
            !credentials.expires(within: refreshMargin, of: clock())
        else { return nil }
        return credentials
    }

    public nonisolated func credentials() async throws -> AWSCredentials {
        if let valid { return valid }
        return try await refreshed()
    }

    private func refreshed() async throws -> AWSCredentials {
        // Another caller may have refreshed them while this one waited for the actor.
        if let valid { return valid }
        if let refreshing {
            return try await refreshing.value
        }
        let task = Task { [base] in try await base.credentials() }
        refreshing = task
        defer { refreshing = nil }
        let fresh = try await task.value
        cached.withLockedValue { $0 = fresh }
        return fresh
    }

    /// Drops the cached credentials so the next call fetches new ones.
    public func invalidate() {
        cached.withLockedValue { $0 = nil }
    }
}
