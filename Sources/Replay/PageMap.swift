/// A map from page number to a small integer, open-addressed with
/// multiplicative hashing: the replay looks a page up on every store, and
/// `Dictionary`'s seeded SipHash costs more than the rest of the lookup.
struct PageMap: Sendable {
    private var keys: [UInt64]
    private var values: [Int32]
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0
    private static let empty = UInt64.max

    init() {
        keys = [UInt64](repeating: Self.empty, count: 64)
        values = [Int32](repeating: 0, count: 64)
        mask = 63
        shift = 58
    }

    /// A map that allocates nothing until its first ``set(_:_:)``: for maps
    /// kept per table, most of which stay empty or small.
    static var unallocated: PageMap {
        PageMap(keys: [], values: [])
    }

    private init(keys: [UInt64], values: [Int32]) {
        self.keys = keys
        self.values = values
        mask = 0
        shift = 64
    }

    @inline(__always) private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) >> shift)
    }

    /// The value for `key`, or nil.
    @inline(__always) func get(_ key: UInt64) -> Int? {
        if count == 0 { return nil }
        return keys.withUnsafeBufferPointer { k in
            var i = home(key)
            while true {
                let found = k[i]
                if found == key { return Int(values[i]) }
                if found == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }

    /// Sets the value for `key` (`key` must not be `UInt64.max`).
    mutating func set(_ key: UInt64, _ value: Int) {
        if keys.isEmpty {
            keys = [UInt64](repeating: Self.empty, count: 8)
            values = [Int32](repeating: 0, count: 8)
            mask = 7
            shift = 61
        }
        var i = home(key)
        while true {
            let found = keys[i]
            if found == key {
                values[i] = Int32(value)
                return
            }
            if found == Self.empty { break }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = Int32(value)
        count += 1
        if count * 2 > keys.count { grow() }
    }

    /// Removes `key` (backward-shift deletion keeps probes short).
    mutating func remove(_ key: UInt64) {
        if count == 0 { return }
        var i = home(key)
        while true {
            let found = keys[i]
            if found == Self.empty { return }
            if found == key { break }
            i = (i + 1) & mask
        }
        count -= 1
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            let k = keys[j]
            if k == Self.empty { break }
            let h = home(k)
            // Move k into the hole when its home is not cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                keys[hole] = k
                values[hole] = values[j]
                hole = j
            }
        }
        keys[hole] = Self.empty
    }

    /// Every key and its value, in no particular order.
    var pairs: [(key: UInt64, value: Int)] {
        var result: [(key: UInt64, value: Int)] = []
        result.reserveCapacity(count)
        for i in keys.indices where keys[i] != Self.empty { result.append((keys[i], Int(values[i]))) }
        return result
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        let n = oldKeys.count * 2
        keys = [UInt64](repeating: Self.empty, count: n)
        values = [Int32](repeating: 0, count: n)
        mask = n - 1
        shift = UInt64(64 - n.trailingZeroBitCount)
        count = 0
        for (i, k) in oldKeys.enumerated() where k != Self.empty { set(k, Int(oldValues[i])) }
    }
}
