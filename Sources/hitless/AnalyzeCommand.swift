import ArgumentParser
import Checks
import Foundation
import Reports
import TraceFormat

extension MemoryModel: ExpressibleByArgument {}

/// The lowest severity that makes `analyze` exit with status 1.
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case error, warning, none
}

/// Report formats of `analyze` and `diff`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

/// The options `analyze` and `diff` share: how to analyze a trace.
struct AnalysisFlags: ParsableArguments {
    @Option(help: "Memory model: tso (x86 store order, the default on VT-d) or weak (the portable Linux model).")
    var memoryModel: MemoryModel = .tso

    @Option(help: "Comma-separated rule ids to run (default: all).")
    var rules: String?

    @OptionGroup var limits: LimitFlags

    @Option(help: ArgumentHelp("Most findings in one trace; past it the analysis stops with an error.", valueName: "n"))
    var maxFindings: Int = AnalysisOptions().maxFindings

    func validate() throws {
        guard maxFindings >= 0 else { throw ValidationError("--max-findings takes a number from 0") }
        _ = try options()
    }

    func options() throws -> AnalysisOptions {
        var selected = Set(Rule.allCases)
        if let rules {
            do { selected = try Rule.selection(parsing: rules) } catch { throw ValidationError("--rules: \(error)") }
        }
        return AnalysisOptions(memoryModel: memoryModel, rules: selected, limits: limits.limits, maxFindings: maxFindings)
    }
}

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Find torn entries, missing barriers, invalidations and flushes, and skipped handshakes.",
        discussion: """
            Replays each trace once and runs every rule of the rule book over it: torn-read, \
            torn-window, missing-barrier, ownership-handshake, missing-invalidation, \
            missing-flush, unaligned-store.

            --format json writes the versioned report of docs/report.schema.json; --format sarif \
            writes SARIF 2.1.0 for code-scanning tools. With --baseline, findings whose \
            fingerprint is in the saved JSON report are still reported (marked [baseline]; in \
            SARIF baselineState "unchanged") but do not count toward the exit status.

            Exit status: 0 when no new finding is at or above --fail-on, 1 when one is, 2 on bad input or usage.
            """
    )

    @Argument(help: "Trace files (plain or zstd); - reads standard input.")
    var traces: [String]

    @OptionGroup var analysis: AnalysisFlags

    @Option(help: "Output format: text, json or sarif.")
    var format: ReportFormat = .text

    @Option(name: [.customShort("j"), .long],
            help: "Analyze this many traces at a time; the report keeps the order of the arguments.")
    var jobs: Int = 1

    @Option(help: "Exit with status 1 when a finding is at or above this severity: error, warning or none.")
    var failOn: FailOn = .warning

    @Option(help: ArgumentHelp("A JSON report saved earlier: its findings do not count toward the exit status.",
                               valueName: "report.json"),
            completion: .file(extensions: ["json"]))
    var baseline: String?

    @Option(help: "Colour in text output: auto, always or never (NO_COLOR is honoured).")
    var color: ColorChoice = .auto

    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
    var output: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs takes a number from 1") }
        try validateStandardInputOnce(traces)
    }

    func run() throws {
        let options = try analysis.options()
        let known = try baseline.map { path in try Baseline(contentsOf: path) }
        let progress = Progress()
        let tally = ProgressTally(progress, traces: traces.count)
        var onProgress: (@Sendable (Int, Int, UInt64, Int) -> Void)?
        if progress.isEnabled {
            onProgress = { trace, events, fileBytes, findings in
                tally.update(trace: trace, events: events, fileBytes: fileBytes, findings: findings)
            }
        }
        let results = try Analysis.run(paths: traces, options: options, jobs: jobs, progress: onProgress)
        progress.finish()
        let report: String
        switch format {
        case .json: report = try AnalysisReport.json(results, memoryModel: options.memoryModel, baseline: known)
        case .sarif: report = try SARIFReport.sarif(results, memoryModel: options.memoryModel, baseline: known)
        case .text:
            report = AnalysisReport.text(results, style: color.style(forStandardOutput: output == nil || output == "-"),
                                         baseline: known)
        }
        try emit(report, to: output)
        let failing = results.flatMap(\.findings).contains { finding in
            if known?.contains(finding) == true { return false }
            switch failOn {
            case .none: return false
            case .error: return finding.severity == .error
            case .warning: return true
            }
        }
        if failing { throw ExitCode(1) }
    }
}

/// `--color`: when text output is coloured.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    /// Colour only on a terminal, and never when NO_COLOR is set
    /// (no-color.org).
    func style(forStandardOutput: Bool) -> TextStyle {
        switch self {
        case .always: return .ansi
        case .never: return .plain
        case .auto:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            return forStandardOutput && !noColor && isatty(1) == 1 ? .ansi : .plain
        }
    }
}
