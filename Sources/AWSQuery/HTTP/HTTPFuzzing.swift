import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The response path as the client sees it, for the fuzz target `fuzz-http` (`Fuzz/`): bytes
/// from the server go through the connection's own pipeline (NIOHTTP1's decoder with the
/// client's limits, the client handler), and a completed answer through `QueryClient` (status,
/// XML, error mapping, scrubbing). Not an API for programs.
@_spi(Fuzzing) public enum HTTPFuzzing {
    /// What the client made of the server's bytes.
    public enum Ending: Sendable {
        case answered(QueryResponse)
        case failed(String)
        case noAnswer
    }

    /// Sends one request on a fresh in-memory connection, delivers `bytes` as the server's
    /// answer (in two reads, split at `split`), closes the connection, and decodes whatever
    /// response completed as an IAM call would.
    /// For a plain thread (the fuzz driver): blocks until the answer is decoded. Never call it
    /// from Swift Concurrency's pool; tests use `exchangeAsync`.
    public static func exchange(_ bytes: [UInt8], split: Int, maxResponseBytes: Int = 64 * 1024) -> Ending {
        let ending = NIOLockedValueBox<Ending>(.noAnswer)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result = await exchangeAsync(bytes, split: split, maxResponseBytes: maxResponseBytes)
            ending.withLockedValue { $0 = result }
            done.signal()
        }
        done.wait()
        return ending.withLockedValue { $0 }
    }

    /// The same, without blocking a thread.
    public static func exchangeAsync(_ bytes: [UInt8], split: Int, maxResponseBytes: Int = 64 * 1024) async
        -> Ending
    {
        let channel = EmbeddedChannel()
        let answer = NIOLockedValueBox<Result<HTTP1Answer, any Error>?>(nil)
        do {
            let handler = try HTTP1Connection.addHTTPHandlers(to: channel.pipeline.syncOperations)
            // An embedded channel is active once "connected" (the handler sends only on an active one).
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "iam.amazonaws.com")
            headers.add(name: "Content-Length", value: "0")
            handler.send(
                HTTP1Exchange(
                    head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: headers), body: nil,
                    timeout: .seconds(30), maxResponseBytes: maxResponseBytes,
                    complete: { result in answer.withLockedValue { $0 = result } }))
            let cut = min(max(0, split), bytes.count)
            for part in [bytes[..<cut], bytes[cut...]] where !part.isEmpty {
                try? channel.writeInbound(ByteBuffer(bytes: part))
            }
            _ = try? channel.finish()
            // Run what is still scheduled (the exchange's timer) as a real loop would in time.
            channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        } catch {
            return .failed("\(error)")
        }
        switch answer.withLockedValue({ $0 }) {
        case .none: return .noAnswer
        case .failure(let error): return .failed("\(error)")
        case .success(let answer): return await decode(answer.response)
        }
    }

    /// `QueryClient.call` on a transport that returns `response`.
    static func decode(_ response: HTTPResponseData) async -> Ending {
        let client = QueryClient(
            endpoint: ServiceEndpoint(url: "https://iam.amazonaws.com", signingRegion: "us-east-1", signingName: "iam"),
            apiVersion: "2010-05-08", credentials: nil, transport: Fixed(response: response))
        do {
            let answer = try await client.call(
                "CreateLoginProfile", [QueryParameter("Password", "Fuzz&Pass <word> %é", secret: true)], signed: false)
            return .answered(answer)
        } catch {
            return .failed("\(error)")
        }
    }

    struct Fixed: HTTPTransport {
        let response: HTTPResponseData
        func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData { response }
    }
}
