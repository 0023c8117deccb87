import Replay
import TraceFormat

/// One race (or risk) found in a trace: what CHECKS.md says every finding
/// carries.
public struct Finding: Sendable, Codable, Equatable {
    /// The rule's stable id.
    public var rule: Rule
    /// The rule's severity.
    public var severity: Severity
    /// One line saying what happened.
    public var message: String
    /// The trace the finding is in.
    public var trace: String
    /// The unit's name.
    public var unit: String
    /// The entry.
    public var entry: EntryReference
    /// The events involved, in trace order.
    public var events: [InvolvedEvent]
    /// The entry's old value, the exposed or observed state, and the new
    /// value, as 64-bit words.
    public var words: Words
    /// The safe sequence for this old and new value.
    public var fix: String
    /// Set when the enumeration bound was reached, so the search was not
    /// exhaustive.
    public var boundReached: Bool?
    /// What stays the same across runs: rule, entry identity and the sites
    /// of the involved events, hashed (see ``Finding/fingerprint(rule:identity:events:)``).
    public var fingerprint: String

    /// The entry a finding names.
    public struct EntryReference: Sendable, Codable, Equatable {
        /// `dmar0 pasid 00:02.0/5`.
        public var identity: String
        /// `pasid`, `context`, ...
        public var kind: String
        /// The entry's address, hex.
        public var addr: String
        /// Bytes in the entry.
        public var size: Int
        /// `BB:DD.F`, where one applies.
        public var sid: String?
        /// The PASID, where one applies.
        public var pasid: UInt32?
        /// The bus, for root entries.
        public var bus: UInt8?
    }

    /// One event a finding involves.
    public struct InvolvedEvent: Sendable, Codable, Equatable {
        /// The event's 1-based position in the trace.
        public var index: Int
        /// Its line in the trace file.
        public var line: UInt64
        /// Its kind (`store`, `fence`, `inval`, ...).
        public var kind: String
        /// Its `at=` site.
        public var site: String?
        /// What the event is to the finding: `store`, `clears Present`,
        /// `barrier that does not order device stores`, `invalidation`,
        /// `fetch`, ...
        public var role: String
        /// The event in canonical text form.
        public var text: String
    }

    /// Old, exposed and new values as 64-bit words, with the bits that
    /// differ between old and new.
    public struct Words: Sendable, Codable, Equatable {
        /// The value before the update (O).
        public var old: [String]
        /// The torn, observed or stale state, where the rule has one.
        public var exposed: [String]?
        /// The value the update meant (N).
        public var new: [String]
        /// Bits that differ between old and new.
        public var changed: [String]
        /// Bits that differ between the exposed state and both old and new
        /// (used bits only), where there is an exposed state.
        public var torn: [String]?
    }
}

extension Finding {
    /// A fingerprint that stays the same from run to run: rule, entry
    /// identity and the sites of the involved events; never addresses,
    /// times or event numbers.
    public static func fingerprint(rule: Rule, identity: String, events: [InvolvedEvent]) -> String {
        let sites = events.compactMap(\.site)
        var seen = Set<String>()
        let distinct = sites.filter { seen.insert($0).inserted }
        var text = rule.rawValue + "|" + identity + "|" + distinct.joined(separator: ",")
        if distinct.isEmpty { text += "|" + events.map(\.role).joined(separator: ",") }
        return FNV.hex(text)
    }
}

/// FNV-1a, 64 bits: a stable hash for fingerprints (Swift's `Hasher` is
/// seeded per process).
public enum FNV {
    /// The hash of `text`'s UTF-8 bytes, as 16 hex digits.
    public static func hex(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let digits = String(h, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
