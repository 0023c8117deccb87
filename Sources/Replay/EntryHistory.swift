/// What one change of an entry changed.
public enum EntryChangeKind: UInt8, Sendable, Equatable, CaseIterable {
    /// A store (or `init`) changed what the CPU has written to the entry;
    /// on a coherent unit, also what the unit sees.
    case cpu
    /// A flush made the CPU's stores visible to a non-coherent unit.
    case device
    /// The entry became reachable at a table: linked again after its table
    /// was unlinked, or moved to the new table of its device. What the unit
    /// sees at this identity is read from there from now on.
    case link
    /// The entry's table was unlinked: the unit no longer reads it.
    case unlink
}

/// One change of an entry, as ``EntryHistory`` gives it.
public struct EntryChange: Sendable, Equatable {
    /// The event (1-based) that made it.
    public var event: Int
    /// What changed.
    public var kind: EntryChangeKind
    /// The entry's value before the change: the CPU's value for
    /// ``EntryChangeKind/cpu``, what the unit sees for the others (for
    /// ``EntryChangeKind/unlink``, what it saw last; `after` is the same).
    public var before: EntryValue
    /// See ``before``.
    public var after: EntryValue
}

/// Every change of one entry: each event that changed what the CPU has
/// written to it or what the unit sees, or made it reachable or
/// unreachable. Walk it for each change's event, kind, before and after.
///
/// Kept compactly: per change one word (its event, kind and which of the
/// 64-bit words changed) and the new value of each changed word; the values
/// before and after are derived as the history is walked. A store that
/// changes one word of an entry of a coherent unit costs 16 bytes.
public struct EntryHistory: Sendable, Sequence {
    // Words 0..<8: the CPU's value before the first change, 8..<16 what the
    // unit saw then; 16..<32 the same now, so that a change is compared with
    // them without walking. Then per change a header (see `header`) and the
    // new value of each word it names, CPU words first.
    private var storage: [UInt64] = []
    private static let now = 16
    private static let changes = 32
    /// Events beyond this are stored as this (44 bits: 17 trillion events).
    private static let lastEvent = (1 << 44) - 1

    /// An empty history.
    public init() {}

    /// True when nothing changed (or history was not kept).
    public var isEmpty: Bool { storage.count <= Self.changes }

    /// The number of changes (a walk over the headers).
    public var count: Int {
        var n = 0
        var i = Self.changes
        while i < storage.count {
            n += 1
            i += 1 + (storage[i] & 0xffff).nonzeroBitCount
        }
        return n
    }

    /// Words held, for tests of compactness.
    var storedWords: Int { storage.count }

    /// The first change.
    public var first: EntryChange? {
        var walk = makeIterator()
        return walk.next()
    }

    /// Records a change made by `event`: the entry now holds `cpu` for the
    /// CPU and `device` for the unit. `cpuBefore` and `deviceBefore` are its
    /// values before the event, read only for the first change. Nothing is
    /// kept when neither value changed, unless `always` (a change of
    /// reachability).
    mutating func append(_ kind: EntryChangeKind, event: Int, cpuBefore: EntryValue, deviceBefore: EntryValue,
                         cpu: EntryValue, device: EntryValue, always: Bool = false) {
        if storage.isEmpty {
            storage.reserveCapacity(Self.changes + 4)
            for value in [cpuBefore, deviceBefore, cpuBefore, deviceBefore] {
                for i in 0..<8 { storage.append(value[i]) }
            }
        }
        var cpuMask: UInt64 = 0, deviceMask: UInt64 = 0
        for i in 0..<8 {
            if storage[Self.now + i] != cpu[i] { cpuMask |= 1 << UInt64(i) }
            if storage[Self.now + 8 + i] != device[i] { deviceMask |= 1 << UInt64(i) }
        }
        guard always || cpuMask | deviceMask != 0 else { return }
        // Bits 0-7: CPU words stored; 8-15: device words stored; 16: the unit
        // now sees the CPU's value (no device words stored); 17-19: kind;
        // 20-63: event.
        let same = device == cpu
        var header = UInt64(Swift.min(event, Self.lastEvent)) << 20 | UInt64(kind.rawValue) << 17 | cpuMask
        header |= same ? 1 << 16 : deviceMask << 8
        storage.append(header)
        for i in 0..<8 where cpuMask >> UInt64(i) & 1 == 1 {
            storage.append(cpu[i])
            storage[Self.now + i] = cpu[i]
        }
        for i in 0..<8 {
            if !same && deviceMask >> UInt64(i) & 1 == 1 { storage.append(device[i]) }
            storage[Self.now + 8 + i] = device[i]
        }
    }

    /// Walks the changes in order.
    public struct Iterator: IteratorProtocol {
        let storage: [UInt64]
        var i = EntryHistory.changes
        var cpu = EntryValue()
        var device = EntryValue()

        init(_ storage: [UInt64]) {
            self.storage = storage
            guard storage.count > EntryHistory.changes else { return }
            for w in 0..<8 {
                cpu[w] = storage[w]
                device[w] = storage[8 + w]
            }
        }

        public mutating func next() -> EntryChange? {
            guard i < storage.count else { return nil }
            let header = storage[i]
            i += 1
            let kind = EntryChangeKind(rawValue: UInt8(header >> 17 & 7)) ?? .cpu
            let before = kind == .cpu ? cpu : device
            for w in 0..<8 where header >> UInt64(w) & 1 == 1 {
                cpu[w] = storage[i]
                i += 1
            }
            if header >> 16 & 1 == 1 {
                device = cpu
            } else {
                for w in 0..<8 where header >> UInt64(8 + w) & 1 == 1 {
                    device[w] = storage[i]
                    i += 1
                }
            }
            return EntryChange(event: Int(header >> 20), kind: kind, before: before, after: kind == .cpu ? cpu : device)
        }
    }

    /// A walk from the first change.
    public func makeIterator() -> Iterator { Iterator(storage) }
}
