import TraceFormat

/// The kinds of entry the unit reads (CHECKS.md, "Entry").
public enum EntryKind: UInt8, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// A root-table entry, 16 bytes, indexed by bus.
    case root
    /// A legacy-mode context entry, 16 bytes, indexed by devfn.
    case context
    /// A scalable-mode context entry, 32 bytes, indexed by devfn & 0x7f.
    case smContext
    /// A PASID-directory entry, 8 bytes, indexed by pasid >> 6.
    case pasidDirectory
    /// A PASID-table entry, 64 bytes, indexed by pasid & 63.
    case pasid
    /// An entry of a declared `generic` table.
    case generic

    /// The word hitless writes for the kind.
    public var name: String {
        switch self {
        case .root: "root"
        case .context: "context"
        case .smContext: "sm-context"
        case .pasidDirectory: "pasid-dir"
        case .pasid: "pasid"
        case .generic: "generic"
        }
    }

    /// The kind whose ``name`` is `name`.
    public init?(name: String) {
        guard let kind = EntryKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    public static func < (a: EntryKind, b: EntryKind) -> Bool { a.rawValue < b.rawValue }
}

/// What names an entry from run to run: unit, kind, source id, PASID (or the
/// bus for a root entry). Addresses differ between runs; identities do not.
///
/// Written the same way everywhere: `dmar0 pasid 00:02.0/5`,
/// `dmar0 context 00:1f.3`, `dmar0 sm-context 00:02.0`,
/// `dmar0 pasid-dir 00:02.0/64` (the first PASID it covers), `dmar0 root 00`
/// (the bus), `dmar0 generic ste/12` (table name or address, and index).
public struct EntryIdentity: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The unit's name.
    public var unit: String
    /// The entry's kind.
    public var kind: EntryKind
    /// The source id (bus << 8 | devfn) for context, PASID-directory and
    /// PASID entries.
    public var sid: UInt16?
    /// The PASID (PASID entries) or the first PASID covered (directory
    /// entries).
    public var pasid: UInt32?
    /// The bus of a root entry.
    public var bus: UInt8?
    /// The table of a generic entry: its `name=`, or its address.
    public var table: String?
    /// The index of a generic entry in its table.
    public var index: UInt64?

    /// Creates an identity.
    public init(unit: String, kind: EntryKind, sid: UInt16? = nil, pasid: UInt32? = nil, bus: UInt8? = nil,
                table: String? = nil, index: UInt64? = nil) {
        self.unit = unit
        self.kind = kind
        self.sid = sid
        self.pasid = pasid
        self.bus = bus
        self.table = table
        self.index = index
    }

    public var description: String {
        var text = unit + " " + kind.name
        switch kind {
        case .root:
            let b = String(bus ?? 0, radix: 16)
            text += " " + (b.count == 1 ? "0" + b : b)
        case .context, .smContext:
            text += " " + formatSourceID(sid ?? 0)
        case .pasidDirectory, .pasid:
            text += " " + formatSourceID(sid ?? 0) + "/" + String(pasid ?? 0)
        case .generic:
            text += " " + (table ?? "?") + "/" + String(index ?? 0)
        }
        return text
    }

    /// Parses the form ``description`` writes.
    public init?(parsing text: String) {
        let parts = text.split(separator: " ")
        guard parts.count == 3, let kind = EntryKind(name: String(parts[1])) else { return nil }
        self.init(unit: String(parts[0]), kind: kind)
        let rest = String(parts[2])
        func sid(_ s: Substring) -> UInt16? { parseSourceID(String(s)) }
        switch kind {
        case .root:
            guard let b = UInt8(rest, radix: 16) else { return nil }
            bus = b
        case .context, .smContext:
            guard let s = sid(Substring(rest)) else { return nil }
            self.sid = s
        case .pasidDirectory, .pasid:
            let halves = rest.split(separator: "/")
            guard halves.count == 2, let s = sid(halves[0]), let p = UInt32(halves[1]) else { return nil }
            self.sid = s
            pasid = p
        case .generic:
            let halves = rest.split(separator: "/")
            guard halves.count == 2, let i = UInt64(halves[1]) else { return nil }
            table = String(halves[0])
            index = i
        }
    }

    public static func < (a: EntryIdentity, b: EntryIdentity) -> Bool {
        if a.unit != b.unit { return a.unit < b.unit }
        if a.kind != b.kind { return a.kind < b.kind }
        return (a.bus ?? 0, a.sid ?? 0, a.pasid ?? 0, a.table ?? "", a.index ?? 0)
            < (b.bus ?? 0, b.sid ?? 0, b.pasid ?? 0, b.table ?? "", b.index ?? 0)
    }
}
