import AWSQuery
import Foundation
import NIOConcurrencyHelpers

/// What moto (5.2) lacks, answered in front of it: IAM's service-specific credentials
/// (`ListServiceSpecificCredentials`, `UpdateServiceSpecificCredential`), which moto answers with
/// a 500. A `RecordingProxy` rewrite: those two calls are answered from the credentials seeded
/// here, in IAM's documented XML (statuses change on update); any other answer passes unchanged.
/// With nothing seeded, every user has none, as for most users in IAM.
public final class ServiceCredentialFront: Sendable {
    public struct Credential: Sendable, Equatable {
        public var userName: String
        public var id: String
        public var serviceName: String
        public var status: String
    }

    private let credentials = NIOLockedValueBox<[Credential]>([])

    public init() {}

    /// Gives `user` a credential for `serviceName` (`Active`); returns its id.
    @discardableResult
    public func add(_ user: String, serviceName: String = "codecommit.amazonaws.com") -> String {
        let id = "ACCA" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(17).uppercased()
        credentials.withLockedValue {
            $0.append(Credential(userName: user, id: id, serviceName: serviceName, status: "Active"))
        }
        return id
    }

    /// The statuses of `user`'s credentials, in the order they were added.
    public func statuses(_ user: String) -> [String] {
        credentials.withLockedValue { $0.filter { $0.userName == user }.map(\.status) }
    }

    /// The rewrite to give `RecordingProxy.start`; `then` (when given) runs on every other answer.
    public func rewrite(then: RecordingProxy.ResponseRewrite? = nil) -> RecordingProxy.ResponseRewrite {
        { request, response in
            switch request.formParameters["Action"] {
            case "ListServiceSpecificCredentials": return self.list(request.formParameters["UserName"] ?? "")
            case "UpdateServiceSpecificCredential": return self.update(request.formParameters)
            default: return then?(request, response) ?? response
            }
        }
    }

    private func list(_ user: String) -> HTTPResponseData {
        let members = credentials.withLockedValue { $0.filter { $0.userName == user } }.map {
            "<member><UserName>\($0.userName)</UserName><Status>\($0.status)</Status>"
                + "<ServiceUserName>\($0.userName)-at-123456789012</ServiceUserName>"
                + "<CreateDate>2026-01-02T03:04:05Z</CreateDate>"
                + "<ServiceSpecificCredentialId>\($0.id)</ServiceSpecificCredentialId>"
                + "<ServiceName>\($0.serviceName)</ServiceName></member>"
        }.joined()
        return Self.answer(
            "ListServiceSpecificCredentials",
            "<ServiceSpecificCredentials>\(members)</ServiceSpecificCredentials><IsTruncated>false</IsTruncated>")
    }

    private func update(_ form: [String: String]) -> HTTPResponseData {
        let (user, id, status) = (
            form["UserName"] ?? "", form["ServiceSpecificCredentialId"] ?? "", form["Status"] ?? ""
        )
        let found = credentials.withLockedValue { credentials -> Bool in
            guard let index = credentials.firstIndex(where: { $0.userName == user && $0.id == id }) else {
                return false
            }
            credentials[index].status = status
            return true
        }
        guard found else {
            let body =
                "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
                + "<Message>The Service Specific Credential with id \(id) cannot be found.</Message></Error>"
                + "<RequestId>front</RequestId></ErrorResponse>"
            return HTTPResponseData(status: 404, headers: [("Content-Type", "text/xml")], body: Array(body.utf8))
        }
        return Self.answer("UpdateServiceSpecificCredential", nil)
    }

    private static func answer(_ action: String, _ result: String?) -> HTTPResponseData {
        let body =
            "<\(action)Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
            + (result.map { "<\(action)Result>\($0)</\(action)Result>" } ?? "")
            + "<ResponseMetadata><RequestId>front-\(UUID().uuidString.lowercased())</RequestId></ResponseMetadata>"
            + "</\(action)Response>"
        return HTTPResponseData(status: 200, headers: [("Content-Type", "text/xml")], body: Array(body.utf8))
    }
}
