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
    /// ends a text report.
    public static func summary(_ results: [AnalysisResult]) -> String {
        let findings = results.flatMap(\.findings)
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.count - errors
        let traces = "in \(results.count) \(results.count == 1 ? "trace" : "traces")"
        guard !findings.isEmpty else { return "0 findings \(traces)" }
        var parts: [String] = []
        if errors > 0 { parts.append("\(errors) \(errors == 1 ? "error" : "errors")") }
        if warnings > 0 { parts.append("\(warnings) \(warnings == 1 ? "warning" : "warnings")") }
        return "\(findings.count) \(findings.count == 1 ? "finding" : "findings"): \(parts.joined(separator: ", ")) \(traces)"
    }

    /// One block per finding, grouped by entry within each trace, then the
    /// summary line.
    public static func text(_ results: [AnalysisResult], style: TextStyle = .plain) -> String {
        var out = ""
        for result in results {
            for diagnostic in result.diagnostics {
                out += "\(result.trace):\(diagnostic.line): \(style.note("trace")): \(diagnostic.message)\n"
            }
            var order: [String] = []
            var byEntry: [String: [Finding]] = [:]
            for finding in result.findings {
                if byEntry[finding.entry.identity] == nil { order.append(finding.entry.identity) }
                byEntry[finding.entry.identity, default: []].append(finding)
            }
            for identity in order {
                for finding in byEntry[identity] ?? [] { out += block(finding, style: style) + "\n" }
            }
        }
        out += summary(results) + "\n"
        return out
    }

    static func block(_ f: Finding, style: TextStyle) -> String {
        let line = f.events.first.map { ":\($0.line)" } ?? ""
        let severity = f.severity == .error ? style.error("error") : style.warning("warning")
        var out = "\(f.trace)\(line): \(severity)[\(f.rule.rawValue)]: \(f.message)\n"
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

    /// Words side by side, those with marked bits highlighted.
    static func words(_ values: [String], marked: [String], style: TextStyle) -> String {
        values.enumerated().map { i, v in
            i < marked.count && marked[i] != "0x0" ? style.highlight(v) : v
        }.joined(separator: " ")
    }

    /// The JSON report: `version`, `traces` and `findings`.
    public static func json(_ results: [AnalysisResult], memoryModel: MemoryModel) throws -> String {
        let report = JSONReport(
            version: jsonVersion, tool: .init(name: "hitless", version: toolVersion), memoryModel: memoryModel.rawValue,
            traces: results.map { r in
                JSONReport.Trace(file: r.trace, events: r.events, entries: r.entries, findings: r.findings.count,
                                 diagnostics: r.diagnostics.map { .init(line: $0.line, event: $0.event, message: $0.message) })
            },
            findings: results.flatMap(\.findings),
            summary: summary(results))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    /// The shape of the JSON report (docs/report.schema.json).
    public struct JSONReport: Codable, Sendable {
        public var version: Int
        public var tool: Tool
        public var memoryModel: String
        public var traces: [Trace]
        public var findings: [Finding]
        public var summary: String

        /// The program that wrote the report.
        public struct Tool: Codable, Sendable {
            public var name: String
            public var version: String
        }

        /// One analyzed trace.
        public struct Trace: Codable, Sendable {
            public var file: String
            public var events: Int
            public var entries: Int
            public var findings: Int
            public var diagnostics: [Diagnostic]
        }

        /// A problem with the trace itself.
        public struct Diagnostic: Codable, Sendable {
            public var line: UInt64
            public var event: Int
            public var message: String
        }
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
}
