import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// A fault the proxy can answer with instead of forwarding.
public enum InjectedFault: Sendable, Equatable {
    /// 400 `Throttling` ("Rate exceeded"), as IAM throttles.
    case throttling
    /// 500 `ServiceFailure`.
    case serviceFailure
    /// 503 with an HTML body, as a load balancer answers.
    case unavailableHTML
    /// Close the connection without answering (the request never reaches moto).
    case dropConnection
    /// Forward the request to moto (so it takes effect), then close the connection without
    /// passing moto's answer on: an answer lost after the request was applied.
    case forwardThenDrop
    /// Any AWS error code and status.
    case error(code: String, status: Int, message: String)
}

/// A recording, fault-injecting HTTP proxy in front of moto, on 127.0.0.1. It records every
/// request it receives (method, headers, body) and, per request, may answer with a fault
/// instead of forwarding. What moto cannot show (wire parameters, throttling, 5xx, dropped
/// connections) is tested through it.
public final class RecordingProxy: Sendable {
    public typealias FaultRule = @Sendable (_ request: ReceivedRequest, _ index: Int) -> InjectedFault?
    /// Rewrites a response moto gave before it goes back to the client (to show what moto
    /// cannot set, such as last-used times).
    public typealias ResponseRewrite =
        @Sendable (_ request: ReceivedRequest, _ response: HTTPResponseData) ->
        HTTPResponseData

    private let server: LocalHTTPServer
    private let client: AWSHTTPClient
    private let state: NIOLockedValueBox<State>

    /// A request moto answered: its action, user and status.
    public struct ForwardedCall: Sendable, Equatable {
        public var action: String
        public var userName: String?
        public var status: Int
    }

    struct State {
        var received: [ReceivedRequest] = []
        var forwarded = 0
        var forwardedCalls: [ForwardedCall] = []
        var faults: [InjectedFault] = []
        var rule: FaultRule?
        var rewrite: ResponseRewrite?
    }

    public var url: String { server.url }

    private init(server: LocalHTTPServer, client: AWSHTTPClient, state: NIOLockedValueBox<State>) {
        self.server = server
        self.client = client
        self.state = state
    }

    /// - Parameters:
    ///   - latency: added before each request is answered (forwarded or faulted), to stand in
    ///     for the network between a client and AWS.
    ///   - rewrite: applied to every forwarded response before it is returned.
    ///   - tls: serve HTTPS with this certificate and key (a TLS front in front of moto).
    public static func start(
        upstream: String, rule: FaultRule? = nil, latency: Duration = .zero, rewrite: ResponseRewrite? = nil,
        tls: (certificatePath: String, keyPath: String)? = nil
    ) async throws -> RecordingProxy {
        let client = try AWSHTTPClient()
        let state = NIOLockedValueBox(State(rule: rule, rewrite: rewrite))
        let server = try await LocalHTTPServer(tls: tls) { request in
            let (index, fault) = state.withLockedValue { state -> (Int, InjectedFault?) in
                state.received.append(request)
                let index = state.received.count - 1
                let fault = state.rule?(request, index)
                if let fault { state.faults.append(fault) }
                return (index, fault)
            }
            _ = index
            if latency > .zero { try? await Task.sleep(for: latency) }
            if let fault, fault != .forwardThenDrop { return Self.reply(for: fault) }
            var headers = request.headers.filter { $0.name.lowercased() != "connection" }
            headers.removeAll { $0.name.lowercased() == "content-length" }
            do {
                let response = try await client.send(
                    HTTPRequestData(
                        url: upstream + request.uri, method: request.method, headers: headers, body: request.body),
                    timeout: .seconds(30))
                let rewrite = state.withLockedValue { state -> ResponseRewrite? in
                    state.forwarded += 1
                    state.forwardedCalls.append(
                        ForwardedCall(
                            action: request.formParameters["Action"] ?? "?",
                            userName: request.formParameters["UserName"], status: response.status))
                    return state.rewrite
                }
                // Rewritten even when dropped: a rewrite may record what moto did.
                let answer = rewrite?(request, response) ?? response
                if fault == .forwardThenDrop { return .dropConnection }
                return .respond(answer)
            } catch {
                return .respond(HTTPResponseData(status: 502, body: Array("proxy: upstream failed: \(error)".utf8)))
            }
        }
        return RecordingProxy(server: server, client: client, state: state)
    }

    public func stop() async {
        await server.stop()
        try? await client.shutdown()
    }

    /// Every request received, in order.
    public var requests: [ReceivedRequest] { state.withLockedValue { $0.received } }
    /// The `Action` of every request received, in order.
    public var actions: [String] { requests.map { $0.formParameters["Action"] ?? "?" } }
    /// How many requests reached moto.
    public var forwardedCount: Int { state.withLockedValue { $0.forwarded } }
    /// The faults injected so far.
    public var injected: [InjectedFault] { state.withLockedValue { $0.faults } }

    /// A rule that throttles like a server allowing `rate` requests per second (a token bucket
    /// holding at most `burst` tokens): requests over the rate get `Throttling`.
    public static func rateLimit(_ rate: Double, burst: Double = 1) -> FaultRule {
        let bucket = NIOLockedValueBox((tokens: burst, last: ContinuousClock.now))
        return { _, _ in
            bucket.withLockedValue { state in
                let now = ContinuousClock.now
                let elapsed = now - state.last
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                state.tokens = min(burst, state.tokens + seconds * rate)
                state.last = now
                if state.tokens >= 1 {
                    state.tokens -= 1
                    return nil
                }
                return .throttling
            }
        }
    }

    /// A rule that applies `fault` to the first request of each user (by `UserName`) whose
    /// `Action` is `action`, and forwards every other request.
    public static func firstPerUser(_ action: String, _ fault: InjectedFault, users: Set<String>? = nil) -> FaultRule {
        let seen = NIOLockedValueBox(Set<String>())
        return { request, _ in
            guard request.formParameters["Action"] == action, let user = request.formParameters["UserName"],
                users?.contains(user) ?? true
            else { return nil }
            return seen.withLockedValue { $0.insert(user).inserted } ? fault : nil
        }
    }

    /// Every request that reached moto, with the HTTP status moto answered (also when the answer
    /// was then dropped): what actually ran.
    public var forwardedCalls: [ForwardedCall] { state.withLockedValue { $0.forwardedCalls } }

    /// The IAM actions that change state.
    public static let writeActions: Set<String> = [
        "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "AttachUserPolicy", "DetachUserPolicy",
        "UpdateAccessKey", "DeleteAccessKey", "CreateUser", "DeleteUser",
    ]

    /// The write actions moto accepted (HTTP 200): the changes that were made through the proxy.
    public var successfulWrites: [ForwardedCall] {
        forwardedCalls.filter { $0.status == 200 && Self.writeActions.contains($0.action) }
    }

    /// A rewrite that makes `GetLoginProfile` answer with the profile's own creation time, as
    /// IAM does (moto answers the user's creation time): the moment moto accepted the user's
    /// `CreateLoginProfile` through this proxy, or 2020-01-02T03:04:05Z for the users in
    /// `createdLongAgo` (profiles made before the test, which moto cannot backdate).
    public static func profileCreationDates(createdLongAgo: Set<String> = []) -> ResponseRewrite {
        let created = NIOLockedValueBox([String: Date]())
        return { request, response in
            guard let user = request.formParameters["UserName"], response.status == 200 else { return response }
            switch request.formParameters["Action"] {
            case "CreateLoginProfile":
                created.withLockedValue { $0[user] = Date() }
                return response
            case "GetLoginProfile":
                let date: String
                if createdLongAgo.contains(user) {
                    date = "2020-01-02T03:04:05Z"
                } else if let when = created.withLockedValue({ $0[user] }) {
                    date = ISO8601.formatWithMilliseconds(when)
                } else {
                    return response
                }
                var response = response
                let text = String(decoding: response.body, as: UTF8.self)
                guard let start = text.range(of: "<CreateDate>"), let end = text.range(of: "</CreateDate>") else {
                    return response
                }
                response.body = Array((text[..<start.upperBound] + date + text[end.lowerBound...]).utf8)
                return response
            default:
                return response
            }
        }
    }

    public func setRule(_ rule: FaultRule?) {
        state.withLockedValue { $0.rule = rule }
    }

    public func setRewrite(_ rewrite: ResponseRewrite?) {
        state.withLockedValue { $0.rewrite = rewrite }
    }

    public func clearRecording() {
        state.withLockedValue {
            $0.received = []
            $0.faults = []
            $0.forwarded = 0
            $0.forwardedCalls = []
        }
    }

    static func reply(for fault: InjectedFault) -> ServerReply {
        switch fault {
        case .throttling:
            return .respond(errorResponse(code: "Throttling", status: 400, message: "Rate exceeded", type: "Sender"))
        case .serviceFailure:
            return .respond(
                errorResponse(code: "ServiceFailure", status: 500, message: "Service failure", type: "Receiver"))
        case .unavailableHTML:
            return .respond(
                HTTPResponseData(
                    status: 503, headers: [(name: "Content-Type", value: "text/html")],
                    body: Array("<html><body><h1>503 Service Unavailable</h1></body></html>".utf8)))
        case .dropConnection, .forwardThenDrop:
            return .dropConnection
        case .error(let code, let status, let message):
            return .respond(
                errorResponse(code: code, status: status, message: message, type: status >= 500 ? "Receiver" : "Sender")
            )
        }
    }

    public static func errorResponse(code: String, status: Int, message: String, type: String) -> HTTPResponseData {
        let body = """
            <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>\(type)</Type>\
            <Code>\(code)</Code><Message>\(message)</Message></Error>\
            <RequestId>fault-\(UUID().uuidString.lowercased())</RequestId></ErrorResponse>
            """
        return HTTPResponseData(
            status: status, headers: [(name: "Content-Type", value: "text/xml")], body: Array(body.utf8))
    }
}
