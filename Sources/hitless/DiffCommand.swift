import ArgumentParser
import Checks
import Foundation
import Reports
import TraceFormat

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two traces: the findings a change fixed and introduced, and how each entry's updates changed.",
        discussion: """
            Analyzes BASE and NEW with the same options and matches findings by fingerprint (rule, \
            entry identity and sites: never addresses or times) into introduced, fixed and \
            unchanged. Entries are matched by identity (unit, kind, source id, PASID), not by \
            address; for each entry both traces updated whose sequence of stores, barriers, \
            flushes, invalidations and waits differs, the first difference is shown.

            --format json writes the diff report of docs/report.schema.json; --format sarif \
            writes SARIF 2.1.0 with baselineState new, unchanged and absent.

            Exit status: 1 when NEW introduces a finding, 0 otherwise, 2 on bad input or usage.
            """
    )

    @Argument(help: "The earlier trace (plain or zstd); - reads standard input.")
    var base: String

    @Argument(help: "The later trace (plain or zstd); - reads standard input.")
    var new: String

    @OptionGroup var analysis: AnalysisFlags

    @Option(help: "Output format: text, json or sarif.")
    var format: ReportFormat = .text

    @Option(help: "Colour in text output: auto, always or never (NO_COLOR is honoured).")
    var color: ColorChoice = .auto

    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
    var output: String?

    func validate() throws {
        if base == "-" && new == "-" { throw ValidationError("only one of BASE and NEW can be standard input") }
    }

    func run() throws {
        let diff = try TraceDiff.run(base: TraceReader(path: base), new: TraceReader(path: new), options: analysis.options())
        let report: String
        switch format {
        case .json: report = try DiffReport.json(diff)
        case .sarif: report = try DiffReport.sarif(diff)
        case .text: report = DiffReport.text(diff, style: color.style(forStandardOutput: output == nil || output == "-"))
        }
        try emit(report, to: output)
        if diff.exitStatus != 0 { throw ExitCode(diff.exitStatus) }
    }
}
