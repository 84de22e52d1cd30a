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
}

/// The end of a credential-report review, passed from step to step: what was written, and what
/// to tell the user.
struct ReportFinishState {
    let outcome: ReportReviewOutcome
    let configuration: ReviewConfiguration
    let now: Date
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
    }

    var tally: ReportReviewTally { outcome.tally }
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

    /// An error for each user a `--detail` read failed for (the first `maxErrors` by name).
    mutating func reportDetailFailures() {
        errors += tally.detailErrors
        let unnamed = tally.detailFailures - tally.detailErrors.count
        if unnamed > 0 {
            errors.append(
                "--detail could not read \(unnamed) more user\(unnamed == 1 ? "" : "s") (the review's error column says why for each)"
            )
        }
        let denied = tally.deniedReads.sorted()
        if !denied.isEmpty {
            notes.append(
                "--detail not allowed: \(denied.joined(separator: ", ")) (AccessDenied): those counts are empty; grant them (README, IAM policy) to see every credential --revoke would deactivate"
            )
        }
    }

    /// The review, to standard output or `--output` (replaced atomically).
    mutating func writeReview() {
        do {
            try NewFile.output(.file(outcome.files.review), to: configuration.output)
        } catch {
            errors.append("the review could not be written: \(error)")
        }
    }

    /// The emitted batch (made with `--inactive-days`), written to `--emit-batch`.
    mutating func writeBatch() {
        guard let path = configuration.emitBatch, let batch = outcome.files.batch else { return }
        do {
            try NewFile.write(.file(batch), to: path)
            emitted = path
        } catch {
            errors.append("--emit-batch: \(error)")
        }
    }

    /// `--evidence`: the review, the report, the batch and a manifest, in a new directory.
    mutating func writeEvidence() {
        guard let directory = configuration.evidence else { return }
        var files = [EvidencePack.File(name: "credential-report.csv", content: .file(outcome.report))]
        if let csv = outcome.files.reviewCSV {
            files.insert(EvidencePack.File(name: "review.csv", content: .file(csv)), at: 0)
        }
        if configuration.format == .json {
            files.append(EvidencePack.File(name: "review.json", content: .file(outcome.files.review)))
        }
        if let batch = outcome.files.batch { files.append(EvidencePack.File(name: "batch.csv", content: .file(batch))) }
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
            counts: tally.manifestCounts,
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
        return failedOutput || tally.detailFailures > 0 ? .failure : .success
    }

    /// The exit status, a note on stale keys, the summary and the result.
    mutating func finish(calls: CallCounter, began: ContinuousClock.Instant) -> ReviewResult {
        let status = exitStatus()
        if configuration.includeKeys, emitted != nil, tally.flaggedWithStaleKeys {
            notes.append(
                "the emitted batch's revoke column asks for keys where keys are stale: batch then deactivates every active access key of those users"
            )
        }
        var summary = ReviewSummary(
            users: tally.users, consoleAccess: tally.consoleAccess,
            inactive: configuration.inactiveDays == nil ? nil : tally.flagged, inactiveDays: configuration.inactiveDays,
            unreadable: tally.detailFailures,
            output: configuration.output == "-" ? "standard output" : configuration.output, emittedBatch: emitted,
            elapsedSeconds: (ContinuousClock.now - began).inSeconds, apiCalls: calls.total,
            throttledCalls: calls.throttled, exitCode: status.rawValue)
        summary.source = ReviewSource.report.rawValue
        summary.reportGenerated = outcome.generatedTime
        summary.reportReused = outcome.reused
        summary.states = tally.states
        summary.evidence = evidence
        var result = ReviewResult(
            summary: summary, exitStatus: status, reviews: [], inactiveUsers: [], errors: errors, notes: notes)
        result.report = outcome
        return result
    }
}
