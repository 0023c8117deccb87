import Foundation
import Testing
import TestSupport

@Suite("hitless analyze, as CI runs it")
struct AnalyzeCLITests {
    @Test func aRaceExitsWithStatusOneAndEndsWithTheSummary() throws {
        let run = try hitless(["analyze", "Samples/pasid-teardown-before.trace.zst"])
        #expect(run.status == 1)
        #expect(run.stdout.hasSuffix("1 finding: 1 warning in 1 trace\n"))
        #expect(run.stdout.contains("warning[ownership-handshake]"))
    }

    @Test func aCorrectTraceExitsWithStatusZero() throws {
        let run = try hitless(["analyze", "--memory-model", "weak", "Samples/pasid-teardown-after.trace.zst"])
        #expect(run.status == 0)
        #expect(run.stdout == "0 findings in 1 trace\n")
    }

    @Test func failOnErrorIgnoresWarnings() throws {
        let run = try hitless(["analyze", "--fail-on", "error", "Samples/pasid-teardown-before.trace.zst"])
        #expect(run.status == 0)
    }

    @Test func anUnknownRuleIsAUsageError() throws {
        let run = try hitless(["analyze", "--rules", "torn-windw", "Samples/pasid-setup-ok.trace.zst"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("torn-windw"))
    }

    @Test func aMalformedTraceExitsWithStatusTwo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.trace")
        try Data("store addr=0x10 size=3 value=0x1\n".utf8).write(to: bad)
        let run = try hitless(["analyze", bad.path])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix(bad.path + ":1:"))
    }

    @Test func pastTheEntryLimitIsAnErrorThatNamesTheOption() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("many.trace")
        let text = "table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0\n"
            + (0..<3).map { "store addr=0x\(String(0x10000 + $0 * 64, radix: 16)) size=8 value=0\n" }.joined()
        try Data(text.utf8).write(to: trace)
        let run = try hitless(["analyze", "--max-entries", "2", trace.path])
        #expect(run.status == 2)
        #expect(run.stderr == "\(trace.path):4:1: error: more than 2 table entries tracked (raise the limit with --max-entries)\n")
        #expect(try hitless(["analyze", "--max-entries", "3", trace.path]).status == 0)
        #expect(try hitless(["entries", "--max-entries", "2", trace.path]).status == 2)
    }

    @Test func pastTheFindingLimitIsAnErrorThatNamesTheOption() throws {
        let sample = "Samples/pasid-replace-fetched.trace.zst"
        let run = try hitless(["analyze", "--max-findings", "1", sample])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix(sample + ":"))
        #expect(run.stderr.hasSuffix(": error: more than 1 finding (raise the limit with --max-findings)\n"))
        #expect(try hitless(["analyze", "--max-findings", "2", sample]).status == 1)
    }

    @Test func jobsKeepTheReportInArgumentOrder() throws {
        let traces = ["Samples/pasid-replace-before.trace.zst", "Samples/pasid-setup-ok.trace.zst",
                      "Samples/context-teardown-before.trace.zst"]
        let serial = try hitless(["analyze", "--format", "json"] + traces)
        let parallel = try hitless(["analyze", "--format", "json", "--jobs", "3"] + traces)
        #expect(parallel.status == serial.status)
        #expect(parallel.stdout == serial.stdout)
    }

    @Test func noProgressLineWhenStandardErrorIsNotATerminal() throws {
        let run = try hitless(["analyze", "Samples/pasid-replace-before.trace.zst"])
        #expect(run.stderr.isEmpty)
    }
}
