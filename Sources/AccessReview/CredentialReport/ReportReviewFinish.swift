import AWSQuery
import BatchEngine
import ConsoleAccess
import Foundation

extension ReportReviewRun {
    /// Writes the review (`--output`, CSV or JSON), the emitted batch and the evidence pack, and
    /// makes the summary. Exit 1 when an output could not be written or a `--detail` read failed.
    /// Each step is a method of `ReportFinishState`.
    static func finish(
        _ outcome: ReportReviewOutcome, configuration: ReviewConfiguration, calls: CallCounter,
        began: ContinuousClock.Instant, now: Date
    ) -> ReviewResult {
        var state = ReportFinishState(outcome: outcome, configuration: configuration, now: now)
        state.noteReportAge()
        state.reportDetailFailures()
        state.writeReview()
        state.writeBatch()
        state.writeEvidence()
        return state.finish(calls: calls, began: began)
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

/// The end of a credential-report review, passed from step to step: what was written, and what
/// to tell the user.
struct ReportFinishState {
    let outcome: ReportReviewOutcome
    let configuration: ReviewConfiguration
    let now: Date
    /// The users marked inactive.
    let flagged: [ReportUserReview]
    /// Users per state.
    let states: [String: Int]
    /// The users a `--detail` read failed for.
    let detailFailures: [ReportUserReview]
    /// The review in the asked format (empty when it could not be made).
    var reviewBytes: [UInt8] = []
    /// The emitted batch (`--inactive-days`), for `--emit-batch` and the evidence pack.
    var batchBytes: [UInt8]?
    /// The `--emit-batch` path, once written.
    var emitted: String?
    /// The `--evidence` directory, once written.
    var evidence: String?
    var errors: [String] = []
    var notes: [String] = []

    init(outcome: ReportReviewOutcome, configuration: ReviewConfiguration, now: Date) {
        self.outcome = outcome
        self.configuration = configuration
        self.now = now
        self.flagged = outcome.reviews.filter(\.isFlagged)
        self.states = ReportReviewRun.stateCounts(outcome.reviews)
        self.detailFailures = outcome.reviews.filter { $0.detail?.error != nil }
    }
}

// MARK: - The outputs

extension ReportFinishState {
    /// When the report was generated; with `--fresh-report`, whether IAM made a new one.
    mutating func noteReportAge() {
        guard let generated = outcome.generatedTime else { return }
        notes.append(
            "credential report generated \(ISO8601.format(generated))\(outcome.reused ? " (reused: less than 4 hours old; --fresh-report asks for a new one)" : "")"
        )
        if configuration.freshReport && generated < now.addingTimeInterval(-300) {
            notes.append(
                "--fresh-report: IAM returned a report from \(ISO8601.format(generated)); it makes a new one at most every 4 hours"
            )
        }
    }

    /// An error for each user a `--detail` read failed for.
    mutating func reportDetailFailures() {
        for review in detailFailures {
            errors.append("--detail could not read user \(review.userName): \(review.detail?.error ?? "")")
        }
        let denied = Set(outcome.reviews.flatMap { $0.detail?.deniedReads ?? [] }).sorted()
        if !denied.isEmpty {
            notes.append(
                "--detail not allowed: \(denied.joined(separator: ", ")) (AccessDenied): those counts are empty; grant them (README, IAM policy) to see every credential --revoke would deactivate"
            )
        }
    }

    /// The review, to standard output or `--output`.
    mutating func writeReview() {
        do {
            if configuration.format == .csv {
                // Streamed: the whole review is never in memory as bytes.
                try ReportReviewRun.writeCSV(outcome, to: configuration.output)
                return
            }
            reviewBytes = try ReportReviewRun.reviewBytes(outcome, format: configuration.format)
            try NewFile.output(reviewBytes, to: configuration.output)
        } catch {
            errors.append("the review could not be written: \(error)")
        }
    }

    /// The emitted batch (made with `--inactive-days`), written to `--emit-batch`.
    mutating func writeBatch() {
        if configuration.inactiveDays != nil {
            batchBytes = try? ReportEmittedBatch.bytes(outcome.reviews)
        }
        guard let path = configuration.emitBatch, let batchBytes else { return }
        do {
            try NewFile.write(batchBytes, to: path)
            emitted = path
        } catch {
            errors.append("--emit-batch: \(error)")
        }
    }

    /// `--evidence`: the review, the report, the batch and a manifest, in a new directory.
    mutating func writeEvidence() {
        guard let directory = configuration.evidence else { return }
        var files = [
            EvidencePack.File(
                name: "review.csv",
                bytes: (try? ReportReviewRun.reviewBytes(outcome, format: .csv)) ?? []),
            EvidencePack.File(name: "credential-report.csv", bytes: (try? outcome.report.readAll()) ?? []),
        ]
        if configuration.format == .json {
            files.append(EvidencePack.File(name: "review.json", bytes: reviewBytes))
        }
        if let batchBytes { files.append(EvidencePack.File(name: "batch.csv", bytes: batchBytes)) }
        do {
            try EvidencePack.write(files, manifest: manifest(), to: directory)
            evidence = directory
        } catch {
            errors.append("\(error)")
        }
    }

    /// The evidence pack's manifest (its file list is filled in as the pack is written).
    func manifest() -> EvidencePack.Manifest {
        EvidencePack.Manifest(
            toolVersion: EvidencePack.toolVersion, created: ISO8601.format(now),
            accountId: outcome.caller.account, callerArn: outcome.caller.arn, region: outcome.region,
            partition: (outcome.caller.partition ?? Partition.of(region: outcome.region)).rawValue,
            source: ReviewSource.report.rawValue, reportGenerated: outcome.generatedTime.map(ISO8601.format),
            reportReused: outcome.reused, options: ReportReviewRun.options(configuration),
            counts: states.merging(
                ["users": outcome.reviews.count, "flagged": flagged.count, "detail_errors": detailFailures.count],
                uniquingKeysWith: { a, _ in a }),
            files: [:])
    }
}

// MARK: - The end

extension ReportFinishState {
    /// Exit 1 when an output could not be written or a `--detail` read failed.
    func exitStatus() -> ExitStatus {
        let failedOutput =
            errors.contains { !$0.hasPrefix("--detail") } || (configuration.emitBatch != nil && emitted == nil)
            || (configuration.evidence != nil && evidence == nil)
        return failedOutput || !detailFailures.isEmpty ? .failure : .success
    }

    /// The exit status, a note on stale keys, the summary and the result.
    mutating func finish(calls: CallCounter, began: ContinuousClock.Instant) -> ReviewResult {
        let status = exitStatus()
        if configuration.includeKeys, emitted != nil, flagged.contains(where: { !$0.staleKeySlots.isEmpty }) {
            notes.append(
                "the emitted batch's revoke column asks for keys where keys are stale: batch then deactivates every active access key of those users"
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
}
