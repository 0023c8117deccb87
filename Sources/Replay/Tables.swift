import TraceFormat

/// One table the unit can reach: by its walk from the root pointer, or
/// because a `table` line declared it.
public struct TableInstance: Sendable {
    /// Index of the unit in ``Replayer/units``.
    public var unit: Int
    /// What its entries are.
    public var kind: EntryKind
    /// Base address.
    public var base: UInt64
    /// Number of entries.
    public var count: Int
    /// Bytes per entry.
    public var entrySize: Int
    /// Bytes the unit reads atomically.
    public var fetchSize: Int
    /// Bit index of Present within an entry.
    public var presentBit: Int
    /// Bus, for root-reached context tables.
    public var bus: UInt8 = 0
    /// First devfn of a scalable context table (0 lower, 128 upper half).
    public var devfnBase: Int = 0
    /// Source id, for PASID directories and tables.
    public var sid: UInt16 = 0
    /// PASID of entry 0.
    public var pasidBase: UInt32 = 0
    /// A generic table's name, or its address in hex.
    public var label: String?
    /// True for a `table` line: never unlinked.
    public var declared = false

    /// Bytes the table spans.
    public var byteCount: UInt64 { UInt64(count) * UInt64(entrySize) }

    /// Its entries point to tables (root, scalable context, PASID
    /// directory): a change of one may link or unlink some.
    var isPointerTable: Bool { kind == .root || kind == .smContext || kind == .pasidDirectory }

    /// Address of entry `index`.
    public func entryAddress(_ index: Int) -> UInt64 { base &+ UInt64(index) * UInt64(entrySize) }

    /// What makes two instances the same table: the same memory read as the
    /// same entries with the same identities. The count is part of it: a
    /// PASID directory resized by PDTS is another table.
    struct Key: Hashable {
        var unit: Int, kind: EntryKind, base: UInt64, count: Int, entrySize: Int
        var bus: UInt8, devfnBase: Int, sid: UInt16, pasidBase: UInt32

        /// The small fields packed into one word: hashed one by one, the key
        /// took nine rounds of the hasher on every link.
        func hash(into hasher: inout Hasher) {
            hasher.combine(base)
            hasher.combine(count)
            hasher.combine(entrySize)
            hasher.combine(devfnBase)
            hasher.combine(UInt64(truncatingIfNeeded: unit) | UInt64(kind.rawValue) << 16 | UInt64(bus) << 24
                           | UInt64(sid) << 32)
            hasher.combine(pasidBase)
        }
    }

    var key: Key {
        Key(unit: unit, kind: kind, base: base, count: count, entrySize: entrySize,
            bus: bus, devfnBase: devfnBase, sid: sid, pasidBase: pasidBase)
    }

    /// What the identities of the table's entries depend on: instances with
    /// the same slot (say the old and the new PASID table of a device being
    /// moved) give entry `i` the same identity.
    struct Slot: Hashable {
        var unit: Int, kind: EntryKind, bus: UInt8, devfnBase: Int, sid: UInt16, pasidBase: UInt32, label: String?
    }

    var slot: Slot {
        Slot(unit: unit, kind: kind, bus: bus, devfnBase: devfnBase, sid: sid, pasidBase: pasidBase,
             label: kind == .generic ? (label ?? hex(base)) : nil)
    }

    /// The identity of entry `index` in a few machine words, for the
    /// replay's entry index: a generic table's label is given as a number.
    func entryKey(_ index: Int, label: UInt32) -> EntryKey {
        var key = EntryKey(unit: UInt16(truncatingIfNeeded: unit), kind: kind)
        switch kind {
        case .root:
            key.bus = UInt8(truncatingIfNeeded: index)
        case .context, .smContext:
            key.sid = UInt16(bus) << 8 | UInt16(truncatingIfNeeded: devfnBase + index)
        case .pasidDirectory:
            key.sid = sid
            key.pasid = pasidBase &+ UInt32(truncatingIfNeeded: index) &* 64
        case .pasid:
            key.sid = sid
            key.pasid = pasidBase &+ UInt32(truncatingIfNeeded: index)
        case .generic:
            key.label = label
            key.index = UInt64(index)
        }
        return key
    }

    /// The identity of entry `index`, for a unit named `unitName`.
    public func identity(_ index: Int, unitName: String) -> EntryIdentity {
        switch kind {
        case .root:
            return EntryIdentity(unit: unitName, kind: .root, bus: UInt8(truncatingIfNeeded: index))
        case .context, .smContext:
            return EntryIdentity(unit: unitName, kind: kind, sid: UInt16(bus) << 8 | UInt16(truncatingIfNeeded: devfnBase + index))
        case .pasidDirectory:
            return EntryIdentity(unit: unitName, kind: kind, sid: sid, pasid: pasidBase &+ UInt32(index) * 64)
        case .pasid:
            return EntryIdentity(unit: unitName, kind: kind, sid: sid, pasid: pasidBase &+ UInt32(index))
        case .generic:
            return EntryIdentity(unit: unitName, kind: .generic, table: label ?? hex(base), index: UInt64(index))
        }
    }

    /// The index of the entry with `identity` in this table, if the table
    /// gives it (the unit's name is not compared): the inverse of
    /// ``identity(_:unitName:)``.
    public func index(of identity: EntryIdentity) -> Int? {
        guard identity.kind == kind else { return nil }
        let index: Int
        switch kind {
        case .root:
            index = Int(identity.bus ?? 0)
        case .context, .smContext:
            let sid = identity.sid ?? 0
            guard UInt8(sid >> 8) == bus else { return nil }
            index = Int(sid & 0xff) - devfnBase
        case .pasidDirectory:
            let pasid = identity.pasid ?? 0
            guard identity.sid == sid, pasid >= pasidBase, (pasid - pasidBase) % 64 == 0 else { return nil }
            index = Int((pasid - pasidBase) / 64)
        case .pasid:
            let pasid = identity.pasid ?? 0
            guard identity.sid == sid, pasid >= pasidBase else { return nil }
            index = Int(pasid - pasidBase)
        case .generic:
            guard identity.table == (label ?? hex(base)), let i = identity.index, i < UInt64(count) else { return nil }
            index = Int(i)
        }
        return index >= 0 && index < count ? index : nil
    }

    /// The tables entry `index` points to when it holds `value` (DOMAIN.md,
    /// "Tables and the walk").
    func children(of index: Int, value: EntryValue, mode: TranslationMode) -> [TableInstance] {
        func child(_ kind: EntryKind, _ pointer: UInt64, count: Int) -> TableInstance {
            TableInstance(unit: unit, kind: kind, base: pointer & Layout.pointerMask, count: count,
                          entrySize: Layout.entrySize(kind), fetchSize: Layout.vtdChunk, presentBit: 0)
        }
        switch kind {
        case .root where mode == .legacy:
            guard value[0] & 1 == 1 else { return [] }
            var table = child(.context, value[0], count: 256)
            table.bus = UInt8(truncatingIfNeeded: index)
            return [table]
        case .root:
            var tables: [TableInstance] = []
            if value[0] & 1 == 1 {
                var lower = child(.smContext, value[0], count: 128)
                lower.bus = UInt8(truncatingIfNeeded: index)
                tables.append(lower)
            }
            if value[1] & 1 == 1 {
                var upper = child(.smContext, value[1], count: 128)
                upper.bus = UInt8(truncatingIfNeeded: index)
                upper.devfnBase = 128
                tables.append(upper)
            }
            return tables
        case .smContext:
            guard value[0] & 1 == 1 else { return [] }
            let pdts = Int(value[0] >> 9 & 7)
            var dir = child(.pasidDirectory, value[0], count: 1 << (pdts + 7))
            dir.sid = UInt16(bus) << 8 | UInt16(truncatingIfNeeded: devfnBase + index)
            return [dir]
        case .pasidDirectory:
            guard value[0] & 1 == 1 else { return [] }
            var table = child(.pasid, value[0], count: 64)
            table.sid = sid
            table.pasidBase = pasidBase &+ UInt32(index) * 64
            return [table]
        default:
            return []
        }
    }
}

extension TableInstance {
    /// The instance a `table` line declares, with the defaults of each kind.
    init(declaration d: TableDeclaration, unit: Int, label: String?) {
        let kind: EntryKind
        switch d.kind {
        case .root: kind = .root
        case .context: kind = .context
        case .smContext: kind = .smContext
        case .pasidDirectory: kind = .pasidDirectory
        case .pasid: kind = .pasid
        case .generic: kind = .generic
        }
        let defaultCount: UInt64
        switch kind {
        case .root, .context: defaultCount = 256
        case .smContext, .pasidDirectory: defaultCount = 128
        case .pasid: defaultCount = 64
        case .generic: defaultCount = 1
        }
        self.init(unit: unit, kind: kind, base: d.addr, count: Int(d.count ?? defaultCount),
                  entrySize: kind == .generic ? Int(d.entrySize ?? 64) : Layout.entrySize(kind),
                  fetchSize: kind == .generic ? Int(d.fetchSize ?? 16) : Layout.vtdChunk,
                  presentBit: Int(d.presentBit ?? 0))
        declared = true
        let sid = d.sid ?? UInt16(d.bus ?? 0) << 8
        bus = d.bus ?? UInt8(sid >> 8)
        self.sid = sid
        devfnBase = kind == .smContext ? Int(sid & 0x80) : 0
        pasidBase = d.pasidBase ?? 0
        self.label = kind == .generic ? (label ?? hex(d.addr)) : label
    }
}

/// An ``EntryIdentity`` as the replay indexes it: the unit by its index, a
/// generic table's label by a number. 24 bytes instead of 64 and no
/// strings, so that tracking many entries costs little memory and hashing.
struct EntryKey: Hashable {
    var unit: UInt16
    var kind: EntryKind
    var bus: UInt8 = 0
    var sid: UInt16 = 0
    var pasid: UInt32 = 0
    var label: UInt32 = 0
    var index: UInt64 = 0

    /// The fields packed into three words: hashed one by one, the key took
    /// seven rounds of the hasher on every first touch of an entry in a
    /// table.
    func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(unit) | UInt64(kind.rawValue) << 16 | UInt64(bus) << 24 | UInt64(sid) << 32)
        hasher.combine(UInt64(pasid) | UInt64(label) << 32)
        hasher.combine(index)
    }
}
