import Foundation
import Replay
import TraceFormat

/// Renders what `hitless entries` and `hitless state` print.
public enum EntriesReport {
    /// One decoded entry, as both commands print it.
    public struct Row: Codable, Sendable, Equatable {
        /// `dmar0 pasid 00:02.0/5`.
        public var identity: String
        /// The entry's kind.
        public var kind: String
        /// The unit.
        public var unit: String
        /// `BB:DD.F`, where one applies.
        public var sid: String?
        /// The PASID, where one applies.
        public var pasid: UInt32?
        /// The entry's address, hex.
        public var addr: String
        /// Number of stores that changed it (entries only).
        public var updates: Int?
        /// Whether a reachable table gives the entry at the end (entries
        /// only; `state` shows reachable entries alone).
        public var reachable: Bool?
        /// The event that unlinked its table, when it is not reachable at the
        /// end: its value is then the last the unit could read.
        public var unlinkedAt: Int?
        /// The value, as 64-bit words in hex.
        public var words: [String]
        /// Decoded fields.
        public var fields: [String: UInt64]
        /// Fields in order, as one line.
        public var summary: String
    }

    static func row(identity: EntryIdentity, addr: UInt64, value: EntryValue, size: Int, mode: TranslationMode,
                    updates: Int? = nil, reachable: Bool? = nil, unlinkedAt: Int? = nil) -> Row {
        let fields = EntryFields.decode(identity.kind, value, mode: mode, size: size)
        return Row(identity: identity.description, kind: identity.kind.name, unit: identity.unit,
                   sid: identity.sid.map(formatSourceID), pasid: identity.kind == .pasid ? identity.pasid : nil,
                   addr: hex(addr), updates: updates, reachable: reachable, unlinkedAt: unlinkedAt,
                   words: value.words(size: size).map { hex($0) },
                   fields: Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                   summary: EntryFields.summary(identity.kind, value, mode: mode, size: size))
    }

    /// Every entry that was reachable and touched, sorted by identity, with
    /// its number of updates and its final value as the unit sees it. An
    /// entry whose table was unlinked shows the value the unit could read
    /// last, before the unlinking, and says so: what was stored to those
    /// bytes afterwards was never the entry's.
    public static func entryRows(_ replay: Replayer) -> [Row] {
        replay.entries.indices.sorted { replay.entries[$0].identity < replay.entries[$1].identity }.map { i in
            let e = replay.entries[i]
            return row(identity: e.identity, addr: e.addr, value: replay.lastVisibleValue(of: i), size: e.size,
                       mode: e.mode, updates: e.changes, reachable: e.reachable, unlinkedAt: e.unlinkedAt)
        }
    }

    /// Every reachable non-zero entry as the unit would see it now; or, with
    /// `identity`, that entry alone, decoded from memory whether or not
    /// anything touched it (even when it is zero), and nothing when no
    /// reachable table gives it.
    public static func stateRows(_ replay: Replayer, identity: EntryIdentity? = nil) -> [Row] {
        if let identity {
            guard let e = replay.reachableEntry(identity) else { return [] }
            return [row(identity: identity, addr: e.addr, value: e.value, size: e.size, mode: e.mode)]
        }
        return replay.visibleEntries().map {
            row(identity: $0.identity, addr: $0.addr, value: $0.value, size: $0.size, mode: $0.mode)
        }
    }

    /// What a replay kept, in one line: events, entries, reachable tables,
    /// memory pages, trace diagnostics.
    public static func summary(_ replay: Replayer) -> String {
        "events \(replay.eventCount) entries \(replay.entries.count) tables \(replay.reachableTables.count) "
            + "pages \(replay.memory.pageCount)+\(replay.devicePageCount) diagnostics \(replay.diagnostics.count)\n"
    }

    /// One line per entry: identity, address, updates, words, fields.
    public static func text(_ rows: [Row]) -> String {
        var out = ""
        for r in rows {
            out += r.identity + "  @" + r.addr
            if let u = r.updates { out += "  \(u) update\(u == 1 ? "" : "s")" }
            if let event = r.unlinkedAt { out += "  unlinked at event \(event) (the value it had then)" }
            out += "\n    " + r.words.joined(separator: " ") + "\n    " + r.summary + "\n"
        }
        return out
    }

    /// `{"version": 1, "entries": [...]}`.
    public static func json(_ rows: [Row], event: Int? = nil) throws -> String {
        struct Document: Encodable {
            var version = 1
            var event: Int?
            var entries: [Row]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Document(event: event, entries: rows)), as: UTF8.self) + "\n"
    }
}
