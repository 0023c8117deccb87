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

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Find torn entries, missing barriers, invalidations and flushes, and skipped handshakes.",
        discussion: """
            Replays each trace once and runs every rule of the rule book over it: torn-read, \
            torn-window, missing-barrier, ownership-handshake, missing-invalidation, \
            missing-flush, unaligned-store.

            Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 on bad input or usage.
            """
    )

    @Argument(help: "Trace files (plain or zstd); - reads standard input.")
    var traces: [String]

    @Option(help: "Memory model: tso (x86 store order, the default on VT-d) or weak (the portable Linux model).")
    var memoryModel: MemoryModel = .tso

    @Option(help: "Comma-separated rule ids to run (default: all).")
    var rules: String?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(help: "Exit with status 1 when a finding is at or above this severity: error, warning or none.")
    var failOn: FailOn = .warning

    @Option(help: "Colour in text output: auto, always or never (NO_COLOR is honoured).")
    var color: ColorChoice = .auto

    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
    var output: String?

    func validate() throws {
        _ = try selectedRules()
    }

    func selectedRules() throws -> Set<Rule> {
        guard let rules else { return Set(Rule.allCases) }
        var selected = Set<Rule>()
        for name in rules.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let rule = Rule(rawValue: name) else {
                throw ValidationError("--rules: unknown rule '\(name)'; rules are \(Rule.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            selected.insert(rule)
        }
        return selected
    }

    func run() throws {
        let options = AnalysisOptions(memoryModel: memoryModel, rules: try selectedRules())
        var results: [AnalysisResult] = []
        for path in traces {
            results.append(try Analysis.run(TraceReader(path: path), options: options))
        }
        let report: String
        switch format {
        case .json: report = try AnalysisReport.json(results, memoryModel: memoryModel)
        case .text: report = AnalysisReport.text(results, style: color.style(forStandardOutput: output == nil || output == "-"))
        }
        try emit(report, to: output)
        let failing = results.flatMap(\.findings).contains { finding in
            switch failOn {
            case .none: false
            case .error: finding.severity == .error
            case .warning: true
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
