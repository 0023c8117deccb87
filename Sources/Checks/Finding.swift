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
    /// times or event numbers. A kernel site's offset into its function
    /// (`pasid_clear_entry+0x14/0x30`) is left out, so that a race in a
    /// function keeps its fingerprint when the function's code changes,
    /// as it does across the very fix `hitless diff` compares.
    public static func fingerprint(rule: Rule, identity: String, events: [InvolvedEvent]) -> String {
        let sites = events.compactMap(\.site).map(stableSite)
        var seen = Set<String>()
        let distinct = sites.filter { seen.insert($0).inserted }
        var text = rule.rawValue + "|" + identity + "|" + distinct.joined(separator: ",")
        if distinct.isEmpty { text += "|" + events.map(\.role).joined(separator: ",") }
        return FNV.hex(text)
    }
}

/// `site` without a `+0x...` offset into a function: the function's name
/// (and anything after the offset, such as a ` [module]`), else `site`.
func stableSite(_ site: String) -> String {
    let bytes = Array(site.utf8)
    var i = 0
    while i + 3 < bytes.count {
        if bytes[i] == UInt8(ascii: "+"), bytes[i + 1] == UInt8(ascii: "0"), bytes[i + 2] | 0x20 == UInt8(ascii: "x"),
           isHexDigit(bytes[i + 3]) {
            var end = i + 3
            // The offset, and the function's length after a slash.
            while end < bytes.count, isHexDigit(bytes[end]) || bytes[end] == UInt8(ascii: "/")
                || bytes[end] | 0x20 == UInt8(ascii: "x") { end += 1 }
            return String(decoding: bytes[..<i] + bytes[end...], as: UTF8.self)
        }
        i += 1
    }
    return site
}

private func isHexDigit(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "f"))
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
