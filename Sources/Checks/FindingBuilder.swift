import Replay
import TraceFormat

/// A finding as the analyzers raise it, before names are resolved: events
/// are kept as events, the entry as its replay index.
struct PendingFinding {
    var rule: Rule
    var entry: Int
    var message: String
    var events: [(ref: EventRef, role: String)]
    var old: EntryValue
    var exposed: EntryValue?
    var new: EntryValue
    var steps: [RequiredInvalidation]
    var boundReached: Bool

    /// The finding with names, sites and the fix filled in.
    func finding(traceName: String, replay: Replayer, symbols: SymbolTable) -> Finding {
        let record = replay.entries[entry]
        let unit = replay.units[record.unit]
        let size = min(record.size, EntryValue.maxSize)
        let wordCount = max(1, (size + 7) / 8)
        func words(_ v: EntryValue) -> [String] { (0..<wordCount).map { hex(v[$0]) } }
        var torn: [String]?
        if let exposed {
            let used = Layout.usedBits(record.kind, exposed, mode: record.mode)
            torn = words((exposed ^ old) & (exposed ^ new) & used)
        }
        var cachingModeSteps: [RequiredInvalidation] = []
        if unit.cachingMode, !Layout.isPresent(record.kind, old), Layout.isPresent(record.kind, new) {
            cachingModeSteps = InvalidationRequirements.required(for: record.identity, old: old, new: new,
                                                                 deviceTLB: false, cachingModeSetup: true)
        }
        let fix = FixAdvisor.sequence(kind: record.kind, old: old, new: new, size: size, chunk: record.fetchSize,
                                      mode: record.mode, coherent: unit.coherent, cachingMode: unit.cachingMode,
                                      steps: steps, cachingModeSteps: cachingModeSteps)
        let involved = events.map { e in
            Finding.InvolvedEvent(index: e.ref.index, line: e.ref.event.line, kind: e.ref.event.kind.name,
                                  site: e.ref.event.site.map { symbols[$0] }, role: e.role,
                                  text: String(TraceWriter.line(for: e.ref.event, symbols: symbols).dropLast()))
        }
        let identity = record.identity
        return Finding(
            rule: rule, severity: rule.severity, message: message, trace: traceName, unit: unit.name,
            entry: Finding.EntryReference(identity: identity.description, kind: identity.kind.name, addr: hex(record.addr),
                                          size: record.size, sid: identity.sid.map(formatSourceID),
                                          pasid: identity.kind == .pasid || identity.kind == .pasidDirectory ? identity.pasid : nil,
                                          bus: identity.bus),
            events: involved,
            words: Finding.Words(old: words(old), exposed: exposed.map(words), new: words(new), changed: words(old ^ new), torn: torn),
            fix: fix, boundReached: boundReached ? true : nil,
            fingerprint: Finding.fingerprint(rule: rule, identity: identity.description, events: involved))
    }
}

extension Analysis {
    /// Raises a finding, once per rule, entry and update.
    mutating func report(_ rule: Rule, entry e: Int, serial: Int, message: String,
                         events: [(ref: EventRef?, role: String)], old: EntryValue, exposed: EntryValue? = nil,
                         new: EntryValue, steps: [RequiredInvalidation] = [], bound: Bool = false) {
        guard enabled(rule) else { return }
        guard !tracks[e].hasReported(rule, serial: serial) else { return }
        tracks[e].reported.append(EntryTrack.reportKey(rule, serial: serial))
        var seen = Set<Int>()
        let ordered = events.compactMap { e in e.ref.map { ($0, e.role) } }
            .sorted { $0.0.index < $1.0.index }
            .filter { seen.insert($0.0.index).inserted }
        findings.append(PendingFinding(rule: rule, entry: e, message: message, events: ordered, old: old, exposed: exposed,
                                       new: new, steps: steps, boundReached: bound))
    }

    /// `val[1]` or `val[0..3]` for the bytes a store wrote.
    func wordsText(_ bytes: Range<Int>, kind: EntryKind) -> String {
        guard !bytes.isEmpty else { return "no bytes" }
        let first = bytes.lowerBound / 8, last = (bytes.upperBound - 1) / 8
        let a = FixAdvisor.wordName(first, kind: kind)
        return first == last ? a : a + ".." + FixAdvisor.wordName(last, kind: kind)
    }

    /// The kind of entry as a person says it, with its identity.
    func entryName(_ record: EntryRecord) -> String {
        let noun: String
        switch record.kind {
        case .root: noun = "root entry"
        case .context: noun = "context entry"
        case .smContext: noun = "scalable-mode context entry"
        case .pasidDirectory: noun = "PASID-directory entry"
        case .pasid: noun = "PASID entry"
        case .generic: noun = "entry"
        }
        return noun + " " + record.identity.description
    }
}
