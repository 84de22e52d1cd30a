import AWSQuery
import Foundation
import TestSupport
import Testing

/// `RetryingIAM`'s rules for the calls on a user's other credentials: lists and status changes
/// are idempotent and retried; `DeactivateMFADevice` is not, so a lost answer is noted in the
/// `CallLedger`.
@Suite("RetryingIAM: other credentials' calls")
struct RetryingIAMCredentialTests {
    func retrying(_ iam: InMemoryIAM, maxAttempts: Int = 3) -> RetryingIAM {
        RetryingIAM(
            iam, executor: CallExecutor(policy: RetryPolicy(maxAttempts: maxAttempts), sleep: { _ in }))
    }

    @Test("a throttled status change is retried until it applies; attempts are counted, nothing is tracked")
    func throttledUpdateRetried() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        let key = await iam.addSSHPublicKey("jane")
        let certificate = await iam.addSigningCertificate("jane")
        let credential = await iam.addServiceSpecificCredential("jane", serviceName: "codecommit.amazonaws.com")
        for action in ["UpdateSSHPublicKey", "UpdateSigningCertificate", "UpdateServiceSpecificCredential"] {
            await iam.inject(.throttle, on: action, times: 2)
        }
        let ledger = CallLedger()
        let retrying = retrying(iam)
        try await ledger.recording {
            _ = try await retrying.updateSSHPublicKey(userName: "jane", sshPublicKeyId: key, status: .inactive)
            _ = try await retrying.updateSigningCertificate(
                userName: "jane", certificateId: certificate, status: .inactive)
            _ = try await retrying.updateServiceSpecificCredential(
                userName: "jane", serviceSpecificCredentialId: credential, status: .inactive)
        }
        #expect(ledger.attempts == 9)
        #expect(await iam.count("UpdateSSHPublicKey") == 3)
        #expect(await iam.sshKeyStatuses("jane") == [.inactive])
        #expect(await iam.certificateStatuses("jane") == [.inactive])
        #expect(await iam.serviceCredentialStatuses("jane") == [.inactive])
        #expect(ledger.tracking("UpdateSSHPublicKey").firstSentAt == nil)
    }

    @Test("a throttled page makes the list start again and still return everything")
    func throttledListRetried() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        await iam.setListPageSize(1)
        let ids = [await iam.addSSHPublicKey("jane"), await iam.addSSHPublicKey("jane")]
        await iam.inject(.throttle, on: "ListSSHPublicKeys")
        let ledger = CallLedger()
        let keys = try await ledger.recording { try await retrying(iam).listSSHPublicKeys(userName: "jane").value }
        #expect(keys.map(\.sshPublicKeyId) == ids)
        #expect(ledger.attempts == 2)
        #expect(await iam.count("ListSSHPublicKeys") == 3)
    }

    @Test("a DeactivateMFADevice whose answer was lost is noted in the ledger; its retry finds the device unbound")
    func lostMFADeactivation() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        let serial = await iam.addMFADevice("jane")
        await iam.inject(.answerLost, on: "DeactivateMFADevice")
        let ledger = CallLedger()
        let before = Date()
        let error = await #expect(throws: AWSServiceError.self) {
            try await ledger.recording {
                try await retrying(iam).deactivateMFADevice(userName: "jane", serialNumber: serial)
            }
        }
        #expect(error?.errorCode == .noSuchEntity)
        let tracking = ledger.tracking("DeactivateMFADevice")
        #expect(tracking.answerLost)
        let sentAt = try #require(tracking.firstSentAt)
        #expect(sentAt >= before)
        #expect(ledger.attempts == 2)
        #expect(await iam.mfaSerials("jane").isEmpty)
        #expect(await iam.accountMFADevices() == [serial])
    }

    @Test("a DeactivateMFADevice answered at once is tracked as sent, with no lost answer")
    func answeredMFADeactivation() async throws {
        let iam = InMemoryIAM()
        await iam.addUser("jane")
        let serial = await iam.addMFADevice("jane")
        let ledger = CallLedger()
        _ = try await ledger.recording {
            try await retrying(iam).deactivateMFADevice(userName: "jane", serialNumber: serial)
        }
        #expect(ledger.tracking("DeactivateMFADevice").firstSentAt != nil)
        #expect(!ledger.tracking("DeactivateMFADevice").answerLost)
        #expect(ledger.attempts == 1)
    }
}
