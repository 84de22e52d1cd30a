/// An AWS error code: the codes console-access acts on are cases, any other code is kept as
/// sent (`unknown`). The only place AWS error codes are spelled; everything else compares cases.
public enum AWSErrorCode: Sendable, Hashable, CustomStringConvertible {
    // The entity codes IAM answers the calls console-access makes with.
    case noSuchEntity
    case entityAlreadyExists
    case limitExceeded
    case deleteConflict
    case entityTemporarilyUnmodifiable
    case passwordPolicyViolation
    // The credential report's states.
    case reportInProgress
    case reportNotPresent
    case reportExpired
    // Throttling.
    case throttling
    case throttlingException
    case throttledException
    case requestThrottledException
    case tooManyRequestsException
    case provisionedThroughputExceededException
    case transactionInProgressException
    case requestLimitExceeded
    case bandwidthLimitExceeded
    case requestThrottled
    case slowDown
    case priorRequestNotComplete
    case ec2ThrottledException
    // Transient faults.
    case requestTimeout
    case requestTimeoutException
    case serviceFailure
    case serviceUnavailable
    case serviceUnavailableException
    case internalFailure
    case internalError
    // Who we are, or what we may do.
    case accessDenied
    case accessDeniedException
    case invalidClientTokenId
    case signatureDoesNotMatch
    case invalidSignatureException
    case unrecognizedClientException
    case expiredToken
    case expiredTokenException
    case invalidAccessKeyId
    case incompleteSignature
    case missingAuthenticationToken
    case requestExpired
    case authFailure
    case unauthorizedOperation
    case notAuthorized
    case invalidToken
    /// Any other code, as the service sent it.
    case unknown(String)

    /// The known codes, by their wire spelling.
    private static let byName: [String: AWSErrorCode] = {
        let known: [AWSErrorCode] = [
            .noSuchEntity, .entityAlreadyExists, .limitExceeded, .deleteConflict, .entityTemporarilyUnmodifiable,
            .passwordPolicyViolation, .reportInProgress, .reportNotPresent, .reportExpired, .throttling,
            .throttlingException, .throttledException, .requestThrottledException, .tooManyRequestsException,
            .provisionedThroughputExceededException, .transactionInProgressException, .requestLimitExceeded,
            .bandwidthLimitExceeded, .requestThrottled, .slowDown, .priorRequestNotComplete, .ec2ThrottledException,
            .requestTimeout, .requestTimeoutException, .serviceFailure, .serviceUnavailable,
            .serviceUnavailableException, .internalFailure, .internalError, .accessDenied, .accessDeniedException,
            .invalidClientTokenId, .signatureDoesNotMatch, .invalidSignatureException, .unrecognizedClientException,
            .expiredToken, .expiredTokenException, .invalidAccessKeyId, .incompleteSignature,
            .missingAuthenticationToken, .requestExpired, .authFailure, .unauthorizedOperation, .notAuthorized,
            .invalidToken,
        ]
        return Dictionary(uniqueKeysWithValues: known.map { ($0.rawValue, $0) })
    }()

    /// The code for a wire spelling: a case when known, else `unknown` with the text.
    public init(_ rawValue: String) {
        self = Self.byName[rawValue] ?? .unknown(rawValue)
    }

    /// The code as AWS spells it.
    public var rawValue: String {
        switch self {
        case .noSuchEntity: "NoSuchEntity"
        case .entityAlreadyExists: "EntityAlreadyExists"
        case .limitExceeded: "LimitExceeded"
        case .deleteConflict: "DeleteConflict"
        case .entityTemporarilyUnmodifiable: "EntityTemporarilyUnmodifiable"
        case .passwordPolicyViolation: "PasswordPolicyViolation"
        case .reportInProgress: "ReportInProgress"
        case .reportNotPresent: "ReportNotPresent"
        case .reportExpired: "ReportExpired"
        case .throttling: "Throttling"
        case .throttlingException: "ThrottlingException"
        case .throttledException: "ThrottledException"
        case .requestThrottledException: "RequestThrottledException"
        case .tooManyRequestsException: "TooManyRequestsException"
        case .provisionedThroughputExceededException: "ProvisionedThroughputExceededException"
        case .transactionInProgressException: "TransactionInProgressException"
        case .requestLimitExceeded: "RequestLimitExceeded"
        case .bandwidthLimitExceeded: "BandwidthLimitExceeded"
        case .requestThrottled: "RequestThrottled"
        case .slowDown: "SlowDown"
        case .priorRequestNotComplete: "PriorRequestNotComplete"
        case .ec2ThrottledException: "EC2ThrottledException"
        case .requestTimeout: "RequestTimeout"
        case .requestTimeoutException: "RequestTimeoutException"
        case .serviceFailure: "ServiceFailure"
        case .serviceUnavailable: "ServiceUnavailable"
        case .serviceUnavailableException: "ServiceUnavailableException"
        case .internalFailure: "InternalFailure"
        case .internalError: "InternalError"
        case .accessDenied: "AccessDenied"
        case .accessDeniedException: "AccessDeniedException"
        case .invalidClientTokenId: "InvalidClientTokenId"
        case .signatureDoesNotMatch: "SignatureDoesNotMatch"
        case .invalidSignatureException: "InvalidSignatureException"
        case .unrecognizedClientException: "UnrecognizedClientException"
        case .expiredToken: "ExpiredToken"
        case .expiredTokenException: "ExpiredTokenException"
        case .invalidAccessKeyId: "InvalidAccessKeyId"
        case .incompleteSignature: "IncompleteSignature"
        case .missingAuthenticationToken: "MissingAuthenticationToken"
        case .requestExpired: "RequestExpired"
        case .authFailure: "AuthFailure"
        case .unauthorizedOperation: "UnauthorizedOperation"
        case .notAuthorized: "NotAuthorized"
        case .invalidToken: "InvalidToken"
        case .unknown(let text): text
        }
    }

    public var description: String { rawValue }

    /// The service asked us to slow down.
    public var isThrottling: Bool {
        switch self {
        case .throttling, .throttlingException, .throttledException, .requestThrottledException,
            .tooManyRequestsException, .provisionedThroughputExceededException, .transactionInProgressException,
            .requestLimitExceeded, .bandwidthLimitExceeded, .requestThrottled, .slowDown, .priorRequestNotComplete,
            .ec2ThrottledException:
            true
        default: false
        }
    }

    /// A fault worth retrying whatever the HTTP status.
    public var isTransient: Bool {
        switch self {
        case .requestTimeout, .requestTimeoutException, .serviceFailure, .serviceUnavailable, .internalFailure,
            .internalError, .entityTemporarilyUnmodifiable, .serviceUnavailableException:
            true
        default: false
        }
    }

    /// "Who you are or what you may do" is the problem (exit code 3).
    public var isAuthorization: Bool {
        isAccessDenied || isCredentials
    }

    /// The caller is known but not allowed this action: a narrower grant may still allow others
    /// (the credential report's per-user fallback).
    public var isAccessDenied: Bool {
        switch self {
        case .accessDenied, .accessDeniedException, .unauthorizedOperation, .notAuthorized: true
        default: false
        }
    }

    /// The credentials themselves are refused (unknown, expired, badly signed).
    public var isCredentials: Bool {
        switch self {
        case .invalidClientTokenId, .signatureDoesNotMatch, .unrecognizedClientException, .expiredToken,
            .expiredTokenException, .invalidAccessKeyId, .incompleteSignature, .missingAuthenticationToken,
            .requestExpired, .authFailure, .invalidToken:
            true
        default: false
        }
    }

    /// The retry class of an answer with this code and HTTP status.
    public func retryClass(httpStatus: Int) -> RetryClass {
        if isThrottling { return .throttling }
        if isTransient { return .transient }
        if !rawValue.isEmpty, httpStatus < 500 { return .never }
        switch httpStatus {
        case 429: return .throttling
        case 500, 502, 503, 504: return .transient
        default: return rawValue.isEmpty && httpStatus >= 500 ? .transient : .never
        }
    }
}
