import Foundation
import Testing

@_spi(Fuzzing) @testable import AWSQuery

/// Replays the fuzzing corpora (`Fuzz/corpus/`, seeds and every input a fuzzer ever crashed on)
/// through the code they fuzz: each input must end in a value or a typed error. An input that
/// crashed once crashes this test process again if the fix regresses.
@Suite("Fuzz corpus replay (AWSQuery)")
struct FuzzCorpusTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    static func inputs(_ name: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = corpusRoot.appendingPathComponent(name)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }
        return try names.sorted().map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    @Test("every XML corpus input parses or fails with a parse error; the seeds of real answers parse")
    func xmlCorpus() throws {
        let inputs = try Self.inputs("xml")
        #expect(inputs.count >= 7)
        var parsed: Set<String> = []
        for input in inputs {
            if let root = try? XMLTree.parse(input.bytes) {
                parsed.insert(input.name)
                _ = root.first("Code")
                _ = root == root
            }
        }
        for seed in ["create-login-profile.xml", "error.xml", "errors-wrapped.xml", "list-attached.xml"] {
            #expect(parsed.contains(seed), "\(seed)")
        }
    }

    @Test("every config corpus input parses in both dialects; the seeds give their profiles")
    func configCorpus() throws {
        let inputs = try Self.inputs("config")
        #expect(inputs.count >= 2)
        for input in inputs {
            let text = String(decoding: input.bytes, as: UTF8.self)
            _ = SharedConfig.parse(text, isConfigFile: true)
            _ = SharedConfig.parse(text, isConfigFile: false)
        }
        let config = try #require(inputs.first { $0.name == "config" })
        let profiles = SharedConfig.parse(String(decoding: config.bytes, as: UTF8.self), isConfigFile: true)
        #expect(profiles["admin"]?["source_profile"] == "default")
        #expect(profiles["tabbed"]?["credential_source"] == "Ec2InstanceMetadata")
    }

    @Test("every HTTP corpus input ends in an answer, a typed failure or no answer; the seeds end as they should")
    func httpCorpus() async throws {
        let inputs = try Self.inputs("http")
        #expect(inputs.count >= 6)
        var endings: [String: HTTPFuzzing.Ending] = [:]
        for input in inputs {
            let answer = Array(input.bytes.dropFirst())
            // Split where the fuzz target would, and also byte by byte at the start.
            for split in [Int(input.bytes.first ?? 0) * answer.count / 255, 1, answer.count] {
                endings[input.name] = await HTTPFuzzing.exchangeAsync(answer, split: split)
            }
        }
        guard case .answered(let ok) = endings["ok-length.http"] else {
            Issue.record("ok-length.http: \(String(describing: endings["ok-length.http"]))")
            return
        }
        #expect(ok.requestId == "r")
        guard case .failed(let conflict) = endings["error-chunked.http"] else {
            Issue.record("error-chunked.http: \(String(describing: endings["error-chunked.http"]))")
            return
        }
        #expect(conflict.contains("EntityAlreadyExists"))
        // The echoed password (escaped, cut short) is scrubbed.
        #expect(!conflict.contains("Fuzz&") && !conflict.contains("Pass <word>") && !conflict.contains("&lt;word"))
        for name in ["duplicate-length.http", "continue-html.http", "trailing-garbage.http"] {
            guard case .failed = endings[name] else {
                Issue.record("\(name): \(String(describing: endings[name]))")
                continue
            }
        }
    }

    @Test(
        "every report corpus input decodes within the limit or fails with a typed error; the seeds end as they should")
    func reportCorpus() throws {
        let inputs = try Self.inputs("report")
        #expect(inputs.count >= 10)
        var endings: [String: CredentialReportFuzzing.Ending] = [:]
        for input in inputs {
            let body = Array(input.bytes.dropFirst())
            // The fuzz target's chunk size, and byte by byte, and whole: the same ending.
            let chunk = Int((input.bytes.first ?? 0) % 64) + 1
            let ending = CredentialReportFuzzing.run(body, chunk: chunk)
            for other in [1, body.count] {
                #expect(CredentialReportFuzzing.run(body, chunk: other) == ending, "\(input.name), chunk \(other)")
            }
            endings[input.name] = ending
        }
        for seed in ["ok-one-chunk", "ok-byte-by-byte", "ok-line-breaks"] {
            guard case .decoded(let bytes, let kept) = endings[seed] else {
                Issue.record("\(seed): \(String(describing: endings[seed]))")
                continue
            }
            #expect(bytes > 100, "\(seed)")
            #expect(String(decoding: kept, as: UTF8.self).contains("<Content></Content>"), "\(seed)")
        }
        for seed in [
            "padding-inside", "not-base64", "cut-short", "no-content", "self-closed", "over-limit", "unclosed",
        ] {
            guard case .failed(let why) = endings[seed] else {
                Issue.record("\(seed) decoded: \(String(describing: endings[seed]))")
                continue
            }
            #expect(!why.isEmpty)
        }
        if case .failed(let why) = endings["over-limit"] { #expect(why.contains("larger than")) }
    }
}
