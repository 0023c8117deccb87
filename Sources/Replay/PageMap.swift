/// A map from page number to a small integer, open-addressed with
/// multiplicative hashing: the replay looks a page up on every store, and
/// `Dictionary`'s seeded SipHash costs more than the rest of the lookup.
///
/// Each slot holds its key and value side by side: the stores of a trace
/// land on pages all over memory, so a lookup usually misses the cache, and
/// one miss per lookup costs half of two.
struct PageMap: Sendable {
    private struct Slot {
        var key: UInt64
        var value: Int32
    }

    private var slots: [Slot]
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0
    private static let empty = UInt64.max

    init() { self.init(capacity: 64) }

    /// A map that allocates nothing until its first ``set(_:_:)``: for maps
    /// kept per table, most of which stay empty or small.
    static var unallocated: PageMap { PageMap(capacity: 0) }

    /// `capacity` is 0 or a power of two.
    private init(capacity: Int) {
        slots = [Slot](repeating: Slot(key: Self.empty, value: 0), count: capacity)
        mask = max(capacity - 1, 0)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    @inline(__always) private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) >> shift)
    }

    /// The value for `key`, or nil.
    @inline(__always) func get(_ key: UInt64) -> Int? {
        if count == 0 { return nil }
        return slots.withUnsafeBufferPointer { s in
            var i = home(key)
            while true {
                let slot = s[i]
                if slot.key == key { return Int(slot.value) }
                if slot.key == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }

    /// Sets the value for `key` (`key` must not be `UInt64.max`).
    mutating func set(_ key: UInt64, _ value: Int) {
        if slots.isEmpty { self = PageMap(capacity: 8) }
        var i = home(key)
        while true {
            let found = slots[i].key
            if found == key {
                slots[i].value = Int32(value)
                return
            }
            if found == Self.empty { break }
            i = (i + 1) & mask
        }
        slots[i] = Slot(key: key, value: Int32(value))
        count += 1
        if count * 2 > slots.count { grow() }
    }

    /// Removes `key` (backward-shift deletion keeps probes short).
    mutating func remove(_ key: UInt64) {
        if count == 0 { return }
        var i = home(key)
        while true {
            let found = slots[i].key
            if found == Self.empty { return }
            if found == key { break }
            i = (i + 1) & mask
        }
        count -= 1
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            let k = slots[j].key
            if k == Self.empty { break }
            let h = home(k)
            // Move k into the hole when its home is not cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                slots[hole] = slots[j]
                hole = j
            }
        }
        slots[hole].key = Self.empty
    }

    /// Every key and its value, in no particular order.
    var pairs: [(key: UInt64, value: Int)] {
        var result: [(key: UInt64, value: Int)] = []
        result.reserveCapacity(count)
        for slot in slots where slot.key != Self.empty { result.append((slot.key, Int(slot.value))) }
        return result
    }

    private mutating func grow() {
        let old = slots
        self = PageMap(capacity: old.count * 2)
        for slot in old where slot.key != Self.empty { set(slot.key, Int(slot.value)) }
    }
}
