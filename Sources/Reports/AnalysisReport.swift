import Checks
import Foundation
import Replay
import TraceFormat

/// Renders the findings of `hitless analyze` as text for people or as the
/// versioned JSON contract for tools.
public enum AnalysisReport {
    /// The version of the JSON report. Fields are only ever added, in a new
    /// version.
    public static let jsonVersion = 1

    /// `3 findings: 2 errors, 1 warning in 1 trace`: the line that always
    /// ends a text report. With a baseline, `; 2 in the baseline` follows.
    public static func summary(_ results: [AnalysisResult], baseline: Baseline? = nil) -> String {
        let findings = results.flatMap(\.findings)
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.count - errors
        let traces = "in \(results.count) \(results.count == 1 ? "trace" : "traces")"
        guard !findings.isEmpty else { return "0 findings \(traces)" }
        var parts: [String] = []
        if errors > 0 { parts.append("\(errors) \(errors == 1 ? "error" : "errors")") }
        if warnings > 0 { parts.append("\(warnings) \(warnings == 1 ? "warning" : "warnings")") }
        var line = "\(findings.count) \(findings.count == 1 ? "finding" : "findings"): \(parts.joined(separator: ", ")) \(traces)"
        if let baseline { line += "; \(findings.filter(baseline.contains).count) in the baseline" }
        return line
    }

    /// One block per finding, grouped by entry within each trace, then the
    /// summary line. Findings in `baseline` are marked `[baseline]`.
    public static func text(_ results: [AnalysisResult], style: TextStyle = .plain, baseline: Baseline? = nil) -> String {
        var out = ""
        for result in results {
            for diagnostic in result.diagnostics {
                out += "\(result.trace):\(diagnostic.line): \(style.note("trace")): \(diagnostic.message)\n"
            }
            for group in groupedByEntry(result.findings) {
                for finding in group { out += block(finding, style: style, inBaseline: baseline?.contains(finding) ?? false) + "\n" }
            }
        }
        out += summary(results, baseline: baseline) + "\n"
        return out
    }

    /// Findings grouped by entry identity, the groups in the order of their
    /// first finding, so that the races of one entry read together.
    public static func groupedByEntry(_ findings: [Finding]) -> [[Finding]] {
        var order: [String] = []
        var byEntry: [String: [Finding]] = [:]
        for finding in findings {
            if byEntry[finding.entry.identity] == nil { order.append(finding.entry.identity) }
            byEntry[finding.entry.identity, default: []].append(finding)
        }
        return order.map { byEntry[$0] ?? [] }
    }

    /// `trace:12: error[rule]: message`, the first line of a finding.
    static func headline(_ f: Finding, style: TextStyle, inBaseline: Bool = false) -> String {
        let line = f.events.first.map { ":\($0.line)" } ?? ""
        let severity = f.severity == .error ? style.error("error") : style.warning("warning")
        let mark = inBaseline ? " " + style.note("[baseline]") : ""
        return "\(f.trace)\(line): \(severity)[\(f.rule.rawValue)]\(mark): \(f.message)"
    }

    static func block(_ f: Finding, style: TextStyle, inBaseline: Bool = false) -> String {
        var out = headline(f, style: style, inBaseline: inBaseline) + "\n"
        out += "  entry    \(f.entry.identity) at \(f.entry.addr) (\(f.entry.size) bytes)\n"
        for (k, e) in f.events.enumerated() {
            let site = e.site.map { "  \($0)" } ?? ""
            out += (k == 0 ? "  events   " : "           ") + "line \(e.line)  \(e.kind)\(site)  \(e.role)\n"
        }
        let changed = f.words.changed
        out += "  old      \(words(f.words.old, marked: changed, style: style))\n"
        if let exposed = f.words.exposed {
            out += "  exposed  \(words(exposed, marked: f.words.torn ?? changed, style: style))\n"
        }
        out += "  new      \(words(f.words.new, marked: changed, style: style))\n"
        out += "  changed  \(f.words.changed.joined(separator: " "))\n"
        if f.boundReached == true {
            out += "  note     the enumeration bound was reached: the search was not exhaustive\n"
        }
        out += "  fix      \(f.fix)\n"
        return out
    }

    /// Words side by side, the hex digits holding marked bits highlighted.
    static func words(_ values: [String], marked: [String], style: TextStyle) -> String {
        values.enumerated().map { i, v in
            i < marked.count ? highlightDigits(v, mask: marked[i], style: style) : v
        }.joined(separator: " ")
    }

    /// `value` (`0x...`) with the hex digits where `mask` has bits set
    /// highlighted. In colour the value is zero-padded to the mask's width,
    /// so that a bit set in the mask is always on a visible digit; plain
    /// text is left as it is.
    static func highlightDigits(_ value: String, mask: String, style: TextStyle) -> String {
        guard style.color, let m = UInt64(mask.dropFirst(2), radix: 16), m != 0,
              value.hasPrefix("0x") else { return value }
        var digits = Array(value.dropFirst(2))
        let width = (64 - m.leadingZeroBitCount + 3) / 4
        if digits.count < width { digits = Array(repeating: "0", count: width - digits.count) + digits }
        var out = "0x"
        var run = ""
        for (k, digit) in digits.enumerated() {
            let nibble = digits.count - 1 - k
            if nibble < 16, (m >> UInt64(nibble * 4)) & 0xf != 0 {
                run.append(digit)
            } else {
                if !run.isEmpty { out += style.highlight(run); run = "" }
                out.append(digit)
            }
        }
        if !run.isEmpty { out += style.highlight(run) }
        return out
    }

    /// The JSON report: `version`, `tool`, `memoryModel`, `traces`,
    /// `findings` and `summary` (docs/report.schema.json). With a baseline,
    /// each finding also carries `baselineState` (`new` or `unchanged`).
    public static func json(_ results: [AnalysisResult], memoryModel: MemoryModel, baseline: Baseline? = nil) throws -> String {
        let report = JSONReport(
            version: jsonVersion, tool: .current, memoryModel: memoryModel.rawValue,
            traces: results.map(JSONReport.Trace.init),
            findings: results.flatMap(\.findings).map { finding in
                ReportedFinding(finding, baselineState: baseline.map { $0.contains(finding) ? .unchanged : .new })
            },
            summary: summary(results, baseline: baseline))
        return try encodeJSON(report)
    }

    /// Pretty, key-sorted JSON ending in a newline: the same input always
    /// gives the same bytes.
    static func encodeJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// The shape of the JSON report (docs/report.schema.json).
    public struct JSONReport: Codable, Sendable {
        /// ``AnalysisReport/jsonVersion``.
        public var version: Int
        /// The program that wrote the report.
        public var tool: Tool
        /// `tso` or `weak`.
        public var memoryModel: String
        /// The traces analyzed, in the order given.
        public var traces: [Trace]
        /// Every finding of every trace, trace by trace.
        public var findings: [ReportedFinding]
        /// The text report's summary line.
        public var summary: String

        /// The program that wrote the report.
        public struct Tool: Codable, Sendable, Equatable {
            /// `hitless`.
            public var name: String
            /// ``toolVersion``.
            public var version: String

            /// This program.
            public static let current = Tool(name: "hitless", version: toolVersion)
        }

        /// One analyzed trace.
        public struct Trace: Codable, Sendable {
            /// The trace's name as given.
            public var file: String
            /// Events read.
            public var events: Int
            /// Entries tracked.
            public var entries: Int
            /// Findings in this trace.
            public var findings: Int
            /// Problems with the trace itself.
            public var diagnostics: [Diagnostic]

            /// The summary of `result`.
            public init(_ result: AnalysisResult) {
                file = result.trace
                events = result.events
                entries = result.entries
                findings = result.findings.count
                diagnostics = result.diagnostics.map { .init(line: $0.line, event: $0.event, message: $0.message) }
            }
        }

        /// A problem with the trace itself.
        public struct Diagnostic: Codable, Sendable {
            /// The event's line.
            public var line: UInt64
            /// The event (1-based).
            public var event: Int
            /// What was wrong.
            public var message: String
        }
    }
}

/// A finding as the JSON report writes it: the finding's own fields, and,
/// when there is a baseline, where it stands against it.
public struct ReportedFinding: Codable, Sendable, Equatable {
    /// The finding.
    public var finding: Finding
    /// `new` or `unchanged` against the baseline; nil without one.
    public var baselineState: BaselineState?

    /// Wraps `finding`.
    public init(_ finding: Finding, baselineState: BaselineState? = nil) {
        self.finding = finding
        self.baselineState = baselineState
    }

    enum CodingKeys: String, CodingKey { case baselineState }

    // The finding's fields sit at the top level of the object, beside
    // `baselineState`, so the JSON stays flat (and version 1 readers that
    // decode a plain `Finding` still can).
    public init(from decoder: any Decoder) throws {
        finding = try Finding(from: decoder)
        baselineState = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(BaselineState.self, forKey: .baselineState)
    }

    public func encode(to encoder: any Encoder) throws {
        try finding.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(baselineState, forKey: .baselineState)
    }
}

/// hitless's version, as reports print it.
public let toolVersion = "0.1.0"

/// How text output marks severities and changed bits: plain, or with ANSI
/// colours for a terminal.
public struct TextStyle: Sendable {
    /// Use ANSI colours.
    public var color: Bool

    /// No colours.
    public static let plain = TextStyle(color: false)
    /// ANSI colours.
    public static let ansi = TextStyle(color: true)

    func paint(_ code: String, _ text: String) -> String { color ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text }
    func error(_ text: String) -> String { paint("1;31", text) }
    func warning(_ text: String) -> String { paint("1;33", text) }
    func note(_ text: String) -> String { paint("1;36", text) }
    func highlight(_ text: String) -> String { paint("7", text) }
    func heading(_ text: String) -> String { paint("1", text) }
}
