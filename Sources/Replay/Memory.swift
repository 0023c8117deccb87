import TraceFormat

/// Sparse, page-granular, little-endian memory: only pages that an `init` or
/// a `store` touched exist; every other byte reads as zero.
public struct SparseMemory: Sendable {
    /// Bytes per page.
    public static let pageSize = 4096
    private var pageSlots: [UInt64: Int] = [:]
    private var storage: [UInt8] = []
    // The last page looked up: stores cluster, so most lookups hit it.
    private var lastPage: UInt64 = .max
    private var lastSlot = 0

    /// An empty memory.
    public init() {}

    /// Number of pages that exist.
    public var pageCount: Int { pageSlots.count }

    /// True when the page holding `addr` exists.
    public func hasPage(_ addr: UInt64) -> Bool { pageSlots[addr >> 12] != nil }

    private mutating func slot(forPage page: UInt64) -> Int {
        if page == lastPage { return lastSlot }
        let slot: Int
        if let existing = pageSlots[page] {
            slot = existing
        } else {
            slot = storage.count
            storage.append(contentsOf: repeatElement(0, count: Self.pageSize))
            pageSlots[page] = slot
        }
        lastPage = page
        lastSlot = slot
        return slot
    }

    /// Reads byte `addr`.
    public func byte(_ addr: UInt64) -> UInt8 {
        if addr >> 12 == lastPage { return storage[lastSlot + Int(addr & 0xfff)] }
        guard let slot = pageSlots[addr >> 12] else { return 0 }
        return storage[slot + Int(addr & 0xfff)]
    }

    /// Writes `size` bytes of `value`, least significant byte at `addr`.
    public mutating func write(addr: UInt64, size: Int, value: UInt128) {
        var v = value
        var a = addr
        var remaining = size
        while remaining > 0 {
            let s = slot(forPage: a >> 12)
            let offset = Int(a & 0xfff)
            let n = min(remaining, Self.pageSize - offset)
            for i in 0..<n {
                storage[s + offset + i] = UInt8(truncatingIfNeeded: v)
                v >>= 8
            }
            remaining -= n
            a &+= UInt64(n)
        }
    }

    /// Reads `size` bytes (at most 16) as a little-endian integer.
    public func read(addr: UInt64, size: Int) -> UInt128 {
        var v: UInt128 = 0
        for i in stride(from: size - 1, through: 0, by: -1) {
            v = v << 8 | UInt128(byte(addr &+ UInt64(i)))
        }
        return v
    }

    /// Reads an entry of `size` bytes (at most 64) at `addr`.
    public func entry(addr: UInt64, size: Int) -> EntryValue {
        var value = EntryValue()
        if addr & 7 == 0, addr >> 12 == (addr &+ UInt64(size - 1)) >> 12, let slot = pageSlots[addr >> 12] {
            // Aligned and within a page: whole words.
            let base = slot + Int(addr & 0xfff)
            storage.withUnsafeBytes { raw in
                for w in 0..<(size + 7) / 8 {
                    var word: UInt64 = 0
                    let bytes = min(8, size - w * 8)
                    for b in 0..<bytes { word |= UInt64(raw[base + w * 8 + b]) << UInt64(b * 8) }
                    value[w] = word
                }
            }
            return value
        }
        for i in 0..<size { value.setByte(i, byte(addr &+ UInt64(i))) }
        return value
    }

    /// Copies bytes `addr ..< addr + size` from `other`.
    public mutating func copy(from other: SparseMemory, addr: UInt64, size: Int) {
        for i in 0..<size {
            let a = addr &+ UInt64(i)
            let b = other.byte(a)
            if b != 0 || hasPage(a) { write(addr: a, size: 1, value: UInt128(b)) }
        }
    }
}
