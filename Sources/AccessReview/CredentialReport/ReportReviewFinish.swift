import AWSQuery
import BatchEngine
import ConsoleAccess
import Foundation

extension ReportReviewRun {
    /// Writes the review (`--output`, CSV or JSON), the emitted batch and the evidence pack, and
    /// makes the summary. Exit 1 when an output could not be written or a `--detail` read failed.
    static func finish(
        _ outcome: ReportReviewOutcome, configuration: ReviewConfiguration, calls: CallCounter,
        began: ContinuousClock.Instant, now: Date
    ) -> ReviewResult {
        var errors: [String] = []
        var notes: [String] = []
        if let generated = outcome.generatedTime {
            notes.append(
                "credential report generated \(ISO8601.format(generated))\(outcome.reused ? " (reused: less than 4 hours old; --fresh-report asks for a new one)" : "")"
            )
            if configuration.freshReport && generated < now.addingTimeInterval(-300) {
                notes.append(
                    "--fresh-report: IAM returned a report from \(ISO8601.format(generated)); it makes a new one at most every 4 hours"
                )
            }
        }
        let detailFailures = outcome.reviews.filter { $0.detail?.error != nil }
        for review in detailFailures {
            errors.append("--detail could not read user \(review.userName): \(review.detail?.error ?? "")")
        }

        var reviewBytes: [UInt8] = []
        var emitted: String?
        var batchBytes: [UInt8]?
        do {
            reviewBytes = try Self.reviewBytes(outcome, format: configuration.format)
            if configuration.output == "-" {
                FileHandle.standardOutput.write(Data(reviewBytes))
            } else {
                try NewFile.replace(reviewBytes, at: configuration.output)
            }
        } catch {
            errors.append("the review could not be written: \(error)")
        }
        if configuration.inactiveDays != nil {
            batchBytes = try? ReportEmittedBatch.bytes(outcome.reviews)
        }
        if let path = configuration.emitBatch, let batchBytes {
            do {
                try NewFile.write(batchBytes, to: path)
                emitted = path
            } catch {
                errors.append("--emit-batch: \(error)")
            }
        }

        let flagged = outcome.reviews.filter(\.isFlagged)
        let states = stateCounts(outcome.reviews)
        var evidence: String?
        if let directory = configuration.evidence {
            var files = [
                EvidencePack.File(
                    name: "review.csv",
                    bytes: (try? Self.reviewBytes(outcome, format: .csv)) ?? []),
                EvidencePack.File(name: "credential-report.csv", bytes: outcome.report),
            ]
            if configuration.format == .json {
                files.append(EvidencePack.File(name: "review.json", bytes: reviewBytes))
            }
            if let batchBytes { files.append(EvidencePack.File(name: "batch.csv", bytes: batchBytes)) }
            let manifest = EvidencePack.Manifest(
                toolVersion: EvidencePack.toolVersion, created: ISO8601.format(now),
                accountId: outcome.caller.account, callerArn: outcome.caller.arn, region: outcome.region,
                partition: (outcome.caller.partition ?? Partition.of(region: outcome.region)).rawValue,
                source: ReviewSource.report.rawValue, reportGenerated: outcome.generatedTime.map(ISO8601.format),
                reportReused: outcome.reused, options: options(configuration),
                counts: states.merging(
                    ["users": outcome.reviews.count, "flagged": flagged.count, "detail_errors": detailFailures.count],
                    uniquingKeysWith: { a, _ in a }),
                files: [:])
            do {
                try EvidencePack.write(files, manifest: manifest, to: directory)
                evidence = directory
            } catch {
                errors.append("\(error)")
            }
        }

        let failedOutput =
            errors.contains { !$0.hasPrefix("--detail") } || (configuration.emitBatch != nil && emitted == nil)
            || (configuration.evidence != nil && evidence == nil)
        let status: ExitStatus = failedOutput || !detailFailures.isEmpty ? .failure : .success
        if configuration.includeKeys, emitted != nil, flagged.contains(where: { !$0.staleKeySlots.isEmpty }) {
            notes.append(
                "run the emitted batch with --deactivate-access-keys to deactivate the stale keys (it deactivates every access key of each listed user)"
            )
        }
        var summary = ReviewSummary(
            users: outcome.reviews.count, consoleAccess: outcome.reviews.filter(\.entry.passwordEnabled).count,
            inactive: configuration.inactiveDays == nil ? nil : flagged.count, inactiveDays: configuration.inactiveDays,
            unreadable: detailFailures.count,
            output: configuration.output == "-" ? "standard output" : configuration.output, emittedBatch: emitted,
            elapsedSeconds: (ContinuousClock.now - began).inSeconds, apiCalls: calls.total,
            throttledCalls: calls.throttled, exitCode: status.rawValue)
        summary.source = ReviewSource.report.rawValue
        summary.reportGenerated = outcome.generatedTime
        summary.reportReused = outcome.reused
        summary.states = states
        summary.evidence = evidence
        var result = ReviewResult(
            summary: summary, exitStatus: status, reviews: [], inactiveUsers: flagged.map(\.userName), errors: errors,
            notes: notes)
        result.report = outcome
        return result
    }

    /// The options as the manifest records them (no secret is ever an option).
    static func options(_ configuration: ReviewConfiguration) -> [String: String] {
        var options: [String: String] = [
            "source": configuration.source.rawValue, "format": configuration.format.rawValue,
            "detail": configuration.detail.rawValue, "include_keys": String(configuration.includeKeys),
            "fresh_report": String(configuration.freshReport),
        ]
        options["inactive_days"] = configuration.inactiveDays.map(String.init)
        options["user_regex"] = configuration.userRegex
        options["path_prefix"] = configuration.pathPrefix
        options["output"] = configuration.output
        options["emit_batch"] = configuration.emitBatch
        return options
    }
}
