import Checks
import Foundation
import Reports
import Testing
import TestSupport

let escape = "\u{1b}["

@Suite("Text for people")
struct TextTests {
    @Test func colourAlwaysPaintsSeveritiesAndChangedBits() throws {
        let run = try hitless(["analyze", "--color", "always", "--memory-model", "weak", samplePath("pasid-teardown-before")])
        #expect(run.stdout.contains("\u{1b}[1;31merror\u{1b}[0m"))
        #expect(run.stdout.contains("\u{1b}[1;33mwarning\u{1b}[0m"))
        #expect(run.stdout.contains("\u{1b}[7m"))
    }

    @Test func colourNeverWritesNoEscapes() throws {
        let run = try hitless(["analyze", "--color", "never", samplePath("pasid-teardown-before")])
        #expect(!run.stdout.contains(escape))
    }

    @Test func colourAutoWritesNoEscapesIntoAPipe() throws {
        let run = try hitless(["analyze", samplePath("pasid-teardown-before")])
        #expect(!run.stdout.contains(escape))
    }

    /// Runs hitless on a pseudo-terminal (util-linux `script`), so that
    /// `--color auto` sees a terminal.
    func onTerminal(_ arguments: [String], noColor: Bool) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
              let binary = hitlessBinary else { return nil }
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = noColor ? "1" : nil
        let command = ([binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try runProcess("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment).stdout
    }

    @Test func colourAutoPaintsOnATerminal() throws {
        guard let out = try onTerminal(["analyze", samplePath("pasid-teardown-before")], noColor: false) else { return }
        #expect(out.contains(escape))
    }

    @Test func noColorTurnsColourAutoOffOnATerminal() throws {
        guard let out = try onTerminal(["analyze", samplePath("pasid-teardown-before")], noColor: true) else { return }
        #expect(!out.contains(escape))
        #expect(out.contains("warning[ownership-handshake]"))
    }

    /// CHECKS.md: the same trace gives the same report, byte for byte.
    @Test(arguments: sampleRuns)
    func twoAnalysesOfOneTraceWriteTheSameTextByteForByte(_ run: SampleRun) throws {
        let first = AnalysisReport.text([try analyzeSample(run.name, model: run.model)])
        let second = AnalysisReport.text([try analyzeSample(run.name, model: run.model)])
        #expect(Array(first.utf8) == Array(second.utf8))
    }

    @Test func twoRunsOfAnalyzeOnEverySampleWriteTheSameBytes() throws {
        let arguments = ["analyze", "--memory-model", "weak", "--color", "never"] + sampleNames.map(samplePath)
        let first = try hitless(arguments), second = try hitless(arguments)
        #expect(first.status == 1)
        #expect(!first.stdout.isEmpty)
        #expect(Array(first.stdout.utf8) == Array(second.stdout.utf8))
    }

    @Test func changedBitsAreHighlightedDigitByDigit() {
        let text = AnalysisReport.text([try! analyzeSample("pasid-replace-before")], style: .ansi)
        // val[1] goes from 0x5 to 0x6: only its last digit changes.
        #expect(text.contains("0x\u{1b}[7m5\u{1b}[0m"))
    }

    @Test func plainTextIsTheSameWithAndWithoutABaselineButForTheMarks() throws {
        let analysis = try analyzeSample("pasid-teardown-before")
        let plain = AnalysisReport.text([analysis])
        let marked = AnalysisReport.text([analysis], baseline: Baseline(findings: analysis.findings))
        #expect(marked.replacingOccurrences(of: " [baseline]", with: "").replacingOccurrences(of: "; 1 in the baseline", with: "") == plain)
    }

    @Test func findingsAreGroupedByEntry() throws {
        // Two live PASID entries torn down interleaved, then a late
        // unaligned store to the first: by first event the findings run
        // 1, 1, 2, 2, 1; the report keeps entry 1's three together.
        let trace = """
            hitless-trace 1
            iommu id=dmar0 coherent=1
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 unit=dmar0
            init addr=0x10040 size=16 value=0x50000000000000041
            init addr=0x10080 size=16 value=0x60000000000000041
            store addr=0x10040 size=8 value=0x0 cpu=1 at=pasid.c:412
            store addr=0x10080 size=8 value=0x0 cpu=1 at=pasid.c:412
            store addr=0x10048 size=8 value=0x0 cpu=1 at=pasid.c:413
            store addr=0x10088 size=8 value=0x0 cpu=1 at=pasid.c:413
            store addr=0x10044 size=8 value=0x0 cpu=1 at=pasid.c:500

            """
        let result = try analyzeText(trace)
        #expect(result.findings.map(\.entry.pasid) == [1, 1, 2, 2, 1])
        let entries = AnalysisReport.text([result]).split(separator: "\n").filter { $0.hasPrefix("  entry") }
        #expect(entries.map { $0.contains("00:02.0/1 ") ? 1 : 2 } == [1, 1, 1, 2, 2])
    }

    @Test(arguments: sampleNames)
    func theSummaryLineIsAlwaysLast(_ name: String) throws {
        let result = try analyzeSample(name, model: .weak)
        let text = AnalysisReport.text([result])
        #expect(text.split(separator: "\n").last.map(String.init) == AnalysisReport.summary([result]))
    }
}

@Suite("Completions and man page")
struct CompletionTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsCoverTheDiffCommandAndItsOptions(_ shell: String) throws {
        let run = try hitless(["--generate-completion-script", shell])
        #expect(run.status == 0)
        #expect(run.stdout.contains("diff"))
        #expect(run.stdout.contains("baseline"))
        #expect(run.stdout.contains("sarif"))
    }

    /// The man page plugin (`generate-manual`) renders this description of
    /// the commands, so a command or option missing here is missing there.
    @Test func theManPageSourceDescribesEveryCommandAndAnalyzesOptions() throws {
        let run = try hitless(["--experimental-dump-help"])
        #expect(run.status == 0)
        let command = try #require(try jsonObject(run.stdout)["command"] as? [String: Any])
        let subcommands = try #require(command["subcommands"] as? [[String: Any]])
        #expect(subcommands.compactMap { $0["commandName"] as? String }
                == ["analyze", "diff", "stats", "convert", "entries", "state", "generate", "help"])
        let analyze = try #require(subcommands.first { $0["commandName"] as? String == "analyze" })
        let names = (analyze["arguments"] as? [[String: Any]] ?? []).flatMap { argument in
            (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        for option in ["memory-model", "rules", "format", "fail-on", "baseline", "jobs", "color", "output"] {
            #expect(names.contains(option), "analyze --\(option)")
        }
    }
}
