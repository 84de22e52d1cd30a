import Foundation
import Logging

/// What one call has learnt so far, for its log line and `CallRecord`.
struct CallTrace {
    var status: Int?
    var errorCode: String?
    var requestId: String?
}

/// What every AWS protocol client (`QueryClient`, `JSONProtocolClient`) does around one
/// exchange, written once: the SigV4 headers from the current credentials, the exchange with
/// transport failures typed, and the call's debug log line and `CallRecord`.
struct AWSCallSupport: Sendable {
    let endpoint: ServiceEndpoint
    let credentials: (any CredentialProvider)?
    let transport: any HTTPTransport
    let logger: Logger
    let timeout: Duration
    let clock: @Sendable () -> Date
    let observer: (@Sendable (CallRecord) -> Void)?

    /// `headers` with the SigV4 headers added, signed with the current credentials.
    func signed(
        _ headers: [(name: String, value: String)], path: String, body: [UInt8], trace: inout CallTrace
    ) async throws -> [(name: String, value: String)] {
        guard let credentials else {
            trace.errorCode = "NoCredentials"
            throw CredentialError.noCredentials(tried: ["no credential provider was configured"])
        }
        let creds: AWSCredentials
        do {
            creds = try await credentials.credentials()
        } catch {
            trace.errorCode = "NoCredentials"
            throw error
        }
        let signer = SigV4Signer(credentials: creds, region: endpoint.signingRegion, service: endpoint.signingName)
        let request = SignableRequest(method: "POST", path: path, headers: headers, body: body)
        return signer.sign(request, date: clock()).signedRequest.headers
    }

    /// One exchange on the transport; a transport failure becomes an `AWSClientError` (or a
    /// `CancellationError` when the task was cancelled).
    func send(
        _ request: HTTPRequestData, action: String, bodyFilter: (any HTTPResponseBodyFilter)? = nil,
        trace: inout CallTrace
    ) async throws -> HTTPResponseData {
        do {
            let response =
                if let bodyFilter {
                    try await transport.send(request, timeout: timeout, bodyFilter: bodyFilter)
                } else {
                    try await transport.send(request, timeout: timeout)
                }
            trace.status = response.status
            return response
        } catch is CancellationError {
            trace.errorCode = "Cancelled"
            throw CancellationError()
        } catch {
            let mapped = TransportErrors.map(error, action: action)
            if Task.isCancelled {
                trace.errorCode = "Cancelled"
                throw CancellationError()
            }
            trace.errorCode = mapped.code
            throw mapped
        }
    }

    /// The call's log line (at debug) and its `CallRecord` for the observer.
    func record(_ trace: CallTrace, action: String, userName: String?, started: Date, elapsed: Duration) {
        if logger.logLevel <= .debug {
            var metadata: Logger.Metadata = [
                "service": "\(endpoint.signingName)", "action": "\(action)",
                "status": "\(trace.status.map(String.init) ?? "-")", "ms": "\(Self.milliseconds(elapsed))",
            ]
            if let userName { metadata["user"] = "\(userName)" }
            if let requestId = trace.requestId { metadata["request_id"] = "\(requestId)" }
            if let errorCode = trace.errorCode { metadata["error"] = "\(errorCode)" }
            if CallContext.attempt > 1 { metadata["attempt"] = "\(CallContext.attempt)" }
            logger.debug("aws call", metadata: metadata)
        }
        observer?(
            CallRecord(
                service: endpoint.signingName, action: action, userName: userName, startedAt: started,
                duration: elapsed, httpStatus: trace.status, errorCode: trace.errorCode, requestId: trace.requestId,
                attempt: CallContext.attempt))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
