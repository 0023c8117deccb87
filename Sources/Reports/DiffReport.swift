import Checks
import Foundation
import Replay
import TraceFormat

/// One trace of a diff, analyzed, with the update sequence of every entry.
public struct DiffSide: Sendable {
    /// The trace's name as given.
    public var trace: String
    /// Its findings, in report order.
    public var findings: [Finding]
    /// Problems with the trace itself.
    public var diagnostics: [ReplayDiagnostic]
    /// Events read.
    public var events: Int
    /// Entries tracked.
    public var entries: Int
    /// What software did to each entry, by identity.
    public var sequences: [EntryIdentity: EntrySequence]

    /// Reads, replays, analyzes and records `reader` in one pass (so that
    /// standard input works too).
    public static func analyze(_ reader: TraceReader, options: AnalysisOptions = AnalysisOptions()) throws(TraceError) -> DiffSide {
        var replay = Replayer(fileName: reader.fileName, limits: options.limits)
        var analysis = Analysis(traceName: reader.fileName, options: options)
        var sequences = UpdateSequences()
        while let event = try reader.next() {
            let step = try replay.apply(event, symbols: reader.symbols)
            sequences.observe(step, replay: replay, symbols: reader.symbols)
            try analysis.observe(step, replay: &replay)
        }
        let findings = try analysis.finish(replay: replay, symbols: reader.symbols)
        return DiffSide(trace: reader.fileName, findings: findings, diagnostics: replay.diagnostics,
                        events: replay.eventCount, entries: replay.entries.count, sequences: sequences.byIdentity())
    }
}

/// What changed from one trace (BASE) to another (NEW): findings matched by
/// fingerprint, entries matched by identity (never by address), and for each
/// matched entry whose update sequence differs, the first difference.
///
/// ```swift
/// let diff = try TraceDiff.run(base: TraceReader(path: "before.zst"), new: TraceReader(path: "after.zst"))
/// print(diff.fixed.map(\.rule), diff.introduced.map(\.rule))
/// ```
public struct TraceDiff: Sendable {
    /// The memory model both traces were analyzed under.
    public var memoryModel: MemoryModel
    /// The earlier trace.
    public var base: DiffSide
    /// The later trace.
    public var new: DiffSide
    /// NEW's findings whose fingerprint BASE does not have.
    public var introduced: [Finding]
    /// BASE's findings whose fingerprint NEW does not have.
    public var fixed: [Finding]
    /// NEW's findings whose fingerprint BASE has too.
    public var unchanged: [Finding]
    /// How the entries compare.
    public var entries: EntryComparison

    /// Analyzes both traces with `options` and compares them.
    public static func run(base: TraceReader, new: TraceReader, options: AnalysisOptions = AnalysisOptions()) throws(TraceError) -> TraceDiff {
        let b = try DiffSide.analyze(base, options: options)
        let n = try DiffSide.analyze(new, options: options)
        return TraceDiff(base: b, new: n, memoryModel: options.memoryModel)
    }

    /// Compares two analyzed traces. Findings match by fingerprint as sets,
    /// as ``Baseline`` does: a race on the same entry from the same sites is
    /// the same race however often the path ran.
    public init(base: DiffSide, new: DiffSide, memoryModel: MemoryModel) {
        self.memoryModel = memoryModel
        self.base = base
        self.new = new
        let before = Set(base.findings.map(\.fingerprint))
        let after = Set(new.findings.map(\.fingerprint))
        introduced = new.findings.filter { !before.contains($0.fingerprint) }
        unchanged = new.findings.filter { before.contains($0.fingerprint) }
        fixed = base.findings.filter { !after.contains($0.fingerprint) }
        entries = EntryComparison(base: base.sequences, new: new.sequences)
    }

    /// `hitless diff`'s exit status: 1 when NEW introduces a finding, else 0.
    public var exitStatus: Int32 { introduced.isEmpty ? 0 : 1 }

    /// `1 fixed, 0 introduced, 0 unchanged; 1 of 1 matched entries changed`:
    /// the line that ends the text report.
    public var summary: String {
        "\(fixed.count) fixed, \(introduced.count) introduced, \(unchanged.count) unchanged; "
            + "\(entries.changed.count) of \(entries.matched) matched entries changed"
    }
}

/// Entries of two traces, matched by identity.
public struct EntryComparison: Sendable, Codable, Equatable {
    /// Entries that both traces updated.
    public var matched: Int
    /// Matched entries whose sequences differ, by identity.
    public var changed: [EntryDifference]
    /// Identities only BASE updated.
    public var onlyInBase: [String]
    /// Identities only NEW updated.
    public var onlyInNew: [String]

    /// Compares the sequences of the identities both sides have.
    public init(base: [EntryIdentity: EntrySequence], new: [EntryIdentity: EntrySequence]) {
        let common = base.keys.filter { new[$0] != nil }.sorted()
        matched = common.count
        changed = common.compactMap { EntryDifference(base: base[$0]!, new: new[$0]!) }
        onlyInBase = base.keys.filter { new[$0] == nil }.sorted().map(\.description)
        onlyInNew = new.keys.filter { base[$0] == nil }.sorted().map(\.description)
    }
}

/// The first step where two sequences of one entry differ.
public struct EntryDifference: Sendable, Codable, Equatable {
    /// The entry.
    public var identity: String
    /// The first differing step, 1-based.
    public var step: Int
    /// The last step both share, for context; nil when they differ at once.
    public var previous: StepReport?
    /// BASE's step there; nil when BASE's sequence ended before it (or the
    /// difference lies past the steps kept).
    public var base: StepReport?
    /// NEW's step there; see ``base``.
    public var new: StepReport?
    /// Steps in BASE's sequence.
    public var baseSteps: Int
    /// Steps in NEW's sequence.
    public var newSteps: Int

    /// The first difference of `base` and `new`, or nil when they are the
    /// same.
    public init?(base: EntrySequence, new: EntrySequence) {
        guard base.count != new.count || base.digest != new.digest else { return nil }
        let kind = base.identity.kind
        let kept = min(base.steps.count, new.steps.count)
        var k = 0
        while k < kept && base.steps[k].action == new.steps[k].action { k += 1 }
        identity = base.identity.description
        step = k + 1
        previous = k > 0 ? StepReport(new.steps[k - 1], kind: kind) : nil
        self.base = k < base.steps.count ? StepReport(base.steps[k], kind: kind) : nil
        self.new = k < new.steps.count ? StepReport(new.steps[k], kind: kind) : nil
        baseSteps = base.count
        newSteps = new.count
    }
}

/// One step, as reports show it.
public struct StepReport: Sendable, Codable, Equatable {
    /// `store`, `fence`, `flush`, `inval` or `wait`.
    public var kind: String
    /// `store val[0] = 0x40`: what is compared.
    public var text: String
    /// The event (1-based) in its trace.
    public var event: Int
    /// The event's line.
    public var line: UInt64
    /// The event's `at=` site.
    public var site: String?

    /// `step` of an entry of kind `kind`.
    public init(_ step: UpdateStep, kind: EntryKind) {
        self.kind = step.action.kind
        text = step.action.text(kind: kind)
        event = step.event
        line = step.line
        site = step.site
    }
}

/// Renders a ``TraceDiff`` as text, JSON or SARIF.
public enum DiffReport {
    /// Introduced findings in full (they are what a reviewer must act on),
    /// fixed and unchanged ones a line each, the first difference of each
    /// changed entry, then the summary line.
    public static func text(_ diff: TraceDiff, style: TextStyle = .plain) -> String {
        var out = "base \(diff.base.trace) (\(diff.base.findings.count) \(plural(diff.base.findings.count, "finding"))), "
            + "new \(diff.new.trace) (\(diff.new.findings.count) \(plural(diff.new.findings.count, "finding"))), memory model \(diff.memoryModel.rawValue)\n"
        for (side, name) in [(diff.base, "base"), (diff.new, "new")] {
            for d in side.diagnostics { out += "\(side.trace):\(d.line): \(style.note("trace")) (\(name)): \(d.message)\n" }
        }
        out += "\n" + style.heading("introduced") + " \(diff.introduced.count)\n"
        let blocks = AnalysisReport.groupedByEntry(diff.introduced).joined().map { AnalysisReport.block($0, style: style) }
        out += blocks.joined(separator: "\n")
        out += "\n" + style.heading("fixed") + " \(diff.fixed.count)\n"
        for f in diff.fixed { out += "  " + AnalysisReport.headline(f, style: style) + "\n" }
        out += "\n" + style.heading("unchanged") + " \(diff.unchanged.count)\n"
        for f in diff.unchanged { out += "  " + AnalysisReport.headline(f, style: style) + "\n" }

        let e = diff.entries
        out += "\n" + style.heading("entries") + " \(e.matched) matched, \(e.changed.count) changed, "
            + "\(e.onlyInBase.count) only in base, \(e.onlyInNew.count) only in new\n"
        for d in e.changed {
            out += "  \(d.identity): first difference at step \(d.step) (base \(d.baseSteps) \(plural(d.baseSteps, "step")), new \(d.newSteps))\n"
            if let p = d.previous { out += "    after  " + stepLine(p) + "\n" }
            out += "    base   " + (d.base.map(stepLine) ?? ended(d.baseSteps, at: d.step)) + "\n"
            out += "    new    " + (d.new.map(stepLine) ?? ended(d.newSteps, at: d.step)) + "\n"
        }
        for (name, list) in [("only in base", e.onlyInBase), ("only in new", e.onlyInNew)] where !list.isEmpty {
            let shown = list.prefix(10).joined(separator: ", ")
            out += "  \(name): \(shown)\(list.count > 10 ? ", and \(list.count - 10) more" : "")\n"
        }
        out += "\n" + diff.summary + "\n"
        return out
    }

    static func stepLine(_ s: StepReport) -> String {
        "line \(s.line)  \(s.text)" + (s.site.map { "  \($0)" } ?? "")
    }

    static func ended(_ count: Int, at step: Int) -> String {
        count < step ? "(no more steps)" : "(past the \(UpdateSequences.keptSteps) steps kept)"
    }

    static func plural(_ n: Int, _ word: String) -> String { n == 1 ? word : word + "s" }

    /// The diff as JSON (docs/report.schema.json, the diff report).
    public static func json(_ diff: TraceDiff) throws -> String {
        try AnalysisReport.encodeJSON(JSONDiff(
            version: AnalysisReport.jsonVersion, tool: .current, memoryModel: diff.memoryModel.rawValue,
            base: .init(diff.base), new: .init(diff.new),
            introduced: diff.introduced, fixed: diff.fixed, unchanged: diff.unchanged,
            entries: diff.entries, summary: diff.summary))
    }

    /// The diff as SARIF: NEW's findings with `baselineState` `new` or
    /// `unchanged`, and BASE's fixed findings with `absent`.
    public static func sarif(_ diff: TraceDiff) throws -> String {
        let findings = diff.introduced.map { ($0, BaselineState?.some(.new)) }
            + diff.unchanged.map { ($0, BaselineState?.some(.unchanged)) }
            + diff.fixed.map { ($0, BaselineState?.some(.absent)) }
        let diagnostics = [diff.base, diff.new].flatMap { side in side.diagnostics.map { (side.trace, $0) } }
        let log = SARIFReport.makeLog(findings: findings, traces: [diff.base.trace, diff.new.trace],
                                      diagnostics: diagnostics, memoryModel: diff.memoryModel)
        return try AnalysisReport.encodeJSON(log)
    }

    /// The shape of the diff JSON report.
    public struct JSONDiff: Codable, Sendable {
        /// ``AnalysisReport/jsonVersion``.
        public var version: Int
        /// The program that wrote the report.
        public var tool: AnalysisReport.JSONReport.Tool
        /// `tso` or `weak`.
        public var memoryModel: String
        /// The earlier trace.
        public var base: AnalysisReport.JSONReport.Trace
        /// The later trace.
        public var new: AnalysisReport.JSONReport.Trace
        /// NEW's findings BASE does not have.
        public var introduced: [Finding]
        /// BASE's findings NEW does not have.
        public var fixed: [Finding]
        /// NEW's findings BASE has too.
        public var unchanged: [Finding]
        /// Entries matched by identity.
        public var entries: EntryComparison
        /// The text report's summary line.
        public var summary: String
    }
}

extension AnalysisReport.JSONReport.Trace {
    /// The summary of one side of a diff.
    public init(_ side: DiffSide) {
        file = side.trace
        events = side.events
        entries = side.entries
        findings = side.findings.count
        diagnostics = side.diagnostics.map { .init(line: $0.line, event: $0.event, message: $0.message) }
    }
}
