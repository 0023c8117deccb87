import TraceFormat

/// Sparse, page-granular, little-endian memory: only pages that an `init` or
/// a `store` touched exist; every other byte reads as zero.
///
/// Pages are 256 bytes, not 4 KiB: a trace may store anywhere, and each
/// store that lands on a new page makes one. With 4 KiB pages, 1 MB of
/// stores to distinct pages took 134 MB; with 256-byte pages it takes at
/// most 16 times the bytes of the stores' lines. Every VT-d table entry
/// (8 to 64 bytes, naturally aligned) lies within one page.
public struct SparseMemory: Sendable {
    /// Bytes per page.
    public static let pageSize = 1 << pageShift
    /// log2 of ``pageSize``.
    public static let pageShift: UInt64 = 8
    private static let pageMask: UInt64 = (1 << pageShift) - 1
    /// Page number to page index, shifted left by one; the low bit is set
    /// when the page lies in a frame of ``tableFrames``, so one lookup tells a
    /// store both where its bytes go and whether it may touch a table.
    private var pages = PageMap()
    /// 4 KiB frames that hold a table, as the replay declared them
    /// (``setHoldsTable(frame:_:)``).
    private var tableFrames = PageMap.unallocated
    /// log2 of the pages in a 4 KiB frame.
    private static let frameShift = UInt64(12) - pageShift
    /// The pages, 256 to a 64 KiB slab: memory grows a slab at a time,
    /// never by copying everything into an array twice the size (which, at
    /// the moment of growth, held three times the pages in memory).
    private var slabs: [[UInt8]] = []
    private var pagesMade = 0
    private static let slabShift = 16
    private static let slabMask = (1 << slabShift) - 1
    /// Per page, in the order pages were made: the replay's mark (a
    /// non-coherent unit keeps its own copy of the page), found by the
    /// same lookup as the page.
    private var marks: [Bool] = []
    // The last page looked up: stores cluster, so many lookups hit it.
    private var lastPage: UInt64 = .max
    private var lastBase = 0
    private var lastOnTable = false

    /// An empty memory.
    public init() {}

    /// Number of pages that exist.
    public var pageCount: Int { pages.count }

    /// True when the page holding `addr` exists.
    @inline(__always) public func hasPage(_ addr: UInt64) -> Bool {
        addr >> Self.pageShift == lastPage || pages.get(addr >> Self.pageShift) != nil
    }

    /// The storage offset (page number << pageShift: its slab and the offset in it) of the page holding `addr`, if it exists.
    @inline(__always) private func base(_ addr: UInt64) -> Int? {
        if addr >> Self.pageShift == lastPage { return lastBase }
        return pages.get(addr >> Self.pageShift).map { ($0 >> 1) << Self.pageShift }
    }

    /// The storage offset of `page`, created (zero) if needed.
    @inline(__always) private mutating func base(forPage page: UInt64) -> Int {
        if page == lastPage { return lastBase }
        let b: Int
        let onTable: Bool
        if let value = pages.get(page) {
            b = (value >> 1) << Self.pageShift
            onTable = value & 1 != 0
        } else {
            b = pagesMade << Self.pageShift
            if b >> Self.slabShift == slabs.count {
                slabs.append([UInt8](repeating: 0, count: 1 << Self.slabShift))
            }
            pagesMade += 1
            marks.append(false)
            onTable = tableFrames.get(page >> Self.frameShift) != nil
            pages.set(page, (b >> Self.pageShift) << 1 | (onTable ? 1 : 0))
        }
        lastPage = page
        lastBase = b
        lastOnTable = onTable
        return b
    }

    /// The storage offset of the page holding `addr`, created (zero) if
    /// needed; whether the page is marked; and whether it lies in a frame
    /// that holds a table.
    @inline(__always) mutating func page(holding addr: UInt64) -> (base: Int, marked: Bool, onTable: Bool) {
        let b = base(forPage: addr >> Self.pageShift)
        return (b, marks[b >> Self.pageShift], lastOnTable)
    }

    /// Records whether the 4 KiB frame `frame` (an address shifted right by
    /// 12) holds a table, for ``page(holding:)``.
    mutating func setHoldsTable(frame: UInt64, _ holdsTable: Bool) {
        if holdsTable { tableFrames.set(frame, 0) } else { tableFrames.remove(frame) }
        let first = frame << Self.frameShift
        for page in first..<first + (1 << Self.frameShift) {
            guard let value = pages.get(page) else { continue }
            pages.set(page, value & ~1 | (holdsTable ? 1 : 0))
            if page == lastPage { lastOnTable = holdsTable }
        }
    }

    /// Marks the page at storage offset `base`.
    mutating func mark(page base: Int) { marks[base >> Self.pageShift] = true }

    /// Marks the page holding `addr`, if it exists.
    mutating func markIfPresent(_ addr: UInt64) {
        if let b = base(addr) { marks[b >> Self.pageShift] = true }
    }

    /// Writes `size` bytes of `value` at `addr`, least significant first,
    /// which lie within the page at storage offset `base`.
    @inline(__always) mutating func write(inPage base: Int, addr: UInt64, size: Int, value: UInt128) {
        let b = base & Self.slabMask + Int(addr & Self.pageMask)
        slabs[base >> Self.slabShift].withUnsafeMutableBytes { raw in
            switch size {
            case 8: raw.storeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian, toByteOffset: b, as: UInt64.self)
            case 4: raw.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: b, as: UInt32.self)
            case 2: raw.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, toByteOffset: b, as: UInt16.self)
            case 16:
                raw.storeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian, toByteOffset: b, as: UInt64.self)
                raw.storeBytes(of: UInt64(truncatingIfNeeded: value >> 64).littleEndian, toByteOffset: b + 8, as: UInt64.self)
            default:
                var v = value
                for i in 0..<size {
                    raw[b + i] = UInt8(truncatingIfNeeded: v)
                    v >>= 8
                }
            }
        }
    }

    /// Reads byte `addr`.
    public func byte(_ addr: UInt64) -> UInt8 {
        guard let b = base(addr) else { return 0 }
        return slabs[b >> Self.slabShift][b & Self.slabMask + Int(addr & Self.pageMask)]
    }

    /// Writes `size` bytes of `value`, least significant byte at `addr`.
    public mutating func write(addr: UInt64, size: Int, value: UInt128) {
        let offset = Int(addr & Self.pageMask)
        if offset + size <= Self.pageSize {
            write(inPage: base(forPage: addr >> Self.pageShift), addr: addr, size: size, value: value)
            return
        }
        var v = value
        var a = addr
        var remaining = size
        while remaining > 0 {
            let b = base(forPage: a >> Self.pageShift)
            let off = Int(a & Self.pageMask)
            let n = min(remaining, Self.pageSize - off)
            for i in 0..<n {
                slabs[b >> Self.slabShift][b & Self.slabMask + off + i] = UInt8(truncatingIfNeeded: v)
                v >>= 8
            }
            remaining -= n
            a &+= UInt64(n)
        }
    }

    /// Reads `size` bytes (at most 16) as a little-endian integer.
    public func read(addr: UInt64, size: Int) -> UInt128 {
        // A word within one page (the checks read root and context words
        // on every invalidation): one lookup, not one per byte.
        if size == 8, Int(addr & Self.pageMask) + 8 <= Self.pageSize {
            guard let b = base(addr) else { return 0 }
            let offset = b & Self.slabMask + Int(addr & Self.pageMask)
            return slabs[b >> Self.slabShift].withUnsafeBytes { raw in
                UInt128(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            }
        }
        var v: UInt128 = 0
        for i in stride(from: size - 1, through: 0, by: -1) {
            v = v << 8 | UInt128(byte(addr &+ UInt64(i)))
        }
        return v
    }

    /// Reads an entry of `size` bytes (at most 64) at `addr`.
    public func entry(addr: UInt64, size: Int) -> EntryValue {
        var value = EntryValue()
        if addr & 7 == 0, size & 7 == 0, addr >> Self.pageShift == (addr &+ UInt64(size - 1)) >> Self.pageShift {
            // Aligned whole words within a page.
            guard let b = base(addr) else { return value }
            let start = b & Self.slabMask + Int(addr & Self.pageMask)
            return slabs[b >> Self.slabShift].withUnsafeBytes { raw in
                EntryValue(littleEndianWords: raw.baseAddress! + start, count: size / 8)
            }
        }
        for i in 0..<size { value.setByte(i, byte(addr &+ UInt64(i))) }
        return value
    }

    /// Copies bytes `addr ..< addr + size` from `other`. Pages of `other`
    /// that do not exist read as zero; pages here are created only where a
    /// byte is not zero or the page exists already.
    public mutating func copy(from other: SparseMemory, addr: UInt64, size: Int) {
        var a = addr
        var remaining = size
        while remaining > 0 {
            let off = Int(a & Self.pageMask)
            let n = min(remaining, Self.pageSize - off)
            if let src = other.base(a) {
                let dst = base(forPage: a >> Self.pageShift)
                other.slabs[src >> Self.slabShift].withUnsafeBytes { from in
                    slabs[dst >> Self.slabShift].withUnsafeMutableBytes { to in
                        (to.baseAddress! + dst & Self.slabMask + off).copyMemory(from: from.baseAddress! + src & Self.slabMask + off, byteCount: n)
                    }
                }
            } else if let dst = base(a) {
                _ = slabs[dst >> Self.slabShift].withUnsafeMutableBytes { to in
                    (to.baseAddress! + dst & Self.slabMask + off).initializeMemory(as: UInt8.self, repeating: 0, count: n)
                }
            }
            remaining -= n
            a &+= UInt64(n)
        }
    }
}
