import Foundation

// The credentials an IAM user holds besides the console password and access keys: SSH public
// keys (CodeCommit), X.509 signing certificates, and service-specific credentials (CodeCommit
// Git, Keyspaces, Bedrock API keys). Each can be set Inactive and Active again, which is what
// makes offboarding reversible. MFA devices are `MFADevice` (IAMModels.swift).

extension AccessKeyStatus {
    /// A credential's status as IAM lists it. `Expired` (a service-specific credential past its
    /// expiration date) grants nothing, so it reads as inactive. A missing or unknown status reads
    /// as active: offboarding then deactivates what it cannot show to be inactive.
    init(listed text: String?) {
        switch text {
        case "Inactive", "Expired": self = .inactive
        default: self = .active
        }
    }
}

public struct SSHPublicKeyMetadata: Sendable, Equatable {
    public let userName: String
    public let sshPublicKeyId: String
    public let status: AccessKeyStatus
    public let uploadDate: Date?

    public init(userName: String, sshPublicKeyId: String, status: AccessKeyStatus, uploadDate: Date?) {
        self.userName = userName
        self.sshPublicKeyId = sshPublicKeyId
        self.status = status
        self.uploadDate = uploadDate
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        sshPublicKeyId = node.string("SSHPublicKeyId") ?? ""
        status = AccessKeyStatus(listed: node.string("Status"))
        uploadDate = node.string("UploadDate").flatMap(ISO8601.parse)
    }
}

/// A signing certificate's metadata; the certificate body IAM sends along is not kept.
public struct SigningCertificate: Sendable, Equatable {
    public let userName: String
    public let certificateId: String
    public let status: AccessKeyStatus
    public let uploadDate: Date?

    public init(userName: String, certificateId: String, status: AccessKeyStatus, uploadDate: Date?) {
        self.userName = userName
        self.certificateId = certificateId
        self.status = status
        self.uploadDate = uploadDate
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        certificateId = node.string("CertificateId") ?? ""
        status = AccessKeyStatus(listed: node.string("Status"))
        uploadDate = node.string("UploadDate").flatMap(ISO8601.parse)
    }
}

public struct ServiceSpecificCredentialMetadata: Sendable, Equatable {
    public let userName: String
    public let serviceSpecificCredentialId: String
    /// The service it is for (`codecommit.amazonaws.com`, `cassandra.amazonaws.com`, ...).
    public let serviceName: String
    /// The generated user name for the service (`jane-at-123456789012`); nil when IAM sends none
    /// (API keys carry an alias instead).
    public let serviceUserName: String?
    public let status: AccessKeyStatus
    public let createDate: Date?

    public init(
        userName: String, serviceSpecificCredentialId: String, serviceName: String, serviceUserName: String?,
        status: AccessKeyStatus, createDate: Date?
    ) {
        self.userName = userName
        self.serviceSpecificCredentialId = serviceSpecificCredentialId
        self.serviceName = serviceName
        self.serviceUserName = serviceUserName
        self.status = status
        self.createDate = createDate
    }

    init(_ node: XMLTree) {
        userName = node.string("UserName") ?? ""
        serviceSpecificCredentialId = node.string("ServiceSpecificCredentialId") ?? ""
        serviceName = node.string("ServiceName") ?? ""
        serviceUserName = node.string("ServiceUserName").flatMap { $0.isEmpty ? nil : $0 }
        status = AccessKeyStatus(listed: node.string("Status"))
        createDate = node.string("CreateDate").flatMap(ISO8601.parse)
    }
}
