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
    /// log2 of the pages in a 4 KiB frame.
    private static let frameShift = UInt64(12) - pageShift
    private static let slabShift = 16
    private static let slabMask = (1 << slabShift) - 1

    /// The pages and what is known of them, in one box that copies of this
    /// memory share until one changes it. A store writes straight into a
    /// page after one check that the box is not shared (slabs held as
    /// arrays took two, of the array of slabs and of the slab), and a copy
    /// of the memory, which the replay makes whenever it passes itself to a
    /// function that is not inlined, is a few words.
    private var storage: Storage
    // The last page looked up: stores cluster, so many lookups hit it. Kept
    // here, not in the box, so that a lookup changes nothing there; what
    // it says holds for every copy (a copy keeps each page where it was).
    private var lastPage: UInt64 = .max
    private var lastBase = 0
    private var lastOnTable = false

    /// What ``SparseMemory`` keeps out of line.
    private final class Storage: @unchecked Sendable {
        // Unchecked: a class's stored property is otherwise checked for
        // overlapping access at run time on every read and write; a storage
        // is only changed through its memory's `makeUnique()`, which copies
        // it first when another memory shares it.

        /// Page number to page index, shifted left by one; the low bit is
        /// set when the page lies in a frame of ``tableFrames``, so one
        /// lookup tells a store both where its bytes go and whether it may
        /// touch a table.
        @exclusivity(unchecked) var pages = PageMap()
        /// 4 KiB frames that hold a table, as the replay declared them
        /// (``SparseMemory/setHoldsTable(frame:_:)``).
        @exclusivity(unchecked) var tableFrames = PageMap.unallocated
        /// The pages, 256 to a 64 KiB slab, zeroed when made and owned
        /// here: memory grows a slab at a time, never by copying everything
        /// into an array twice the size (which, at the moment of growth,
        /// held three times the pages in memory).
        @exclusivity(unchecked) var slabs: [UnsafeMutableRawPointer] = []
        @exclusivity(unchecked) var pagesMade = 0
        /// Per page, in the order pages were made: the replay's mark (a
        /// non-coherent unit keeps its own copy of the page), found by the
        /// same lookup as the page.
        @exclusivity(unchecked) var marks: [Bool] = []

        init() {}

        /// A copy with slabs of its own.
        init(copying other: Storage) {
            pages = other.pages
            tableFrames = other.tableFrames
            pagesMade = other.pagesMade
            marks = other.marks
            for slab in other.slabs {
                let copy = UnsafeMutableRawPointer.allocate(byteCount: 1 << SparseMemory.slabShift, alignment: 16)
                copy.copyMemory(from: slab, byteCount: 1 << SparseMemory.slabShift)
                slabs.append(copy)
            }
        }

        deinit {
            for slab in slabs { slab.deallocate() }
        }

        /// Adds a slab of zeroes.
        func addSlab() {
            let slab = UnsafeMutableRawPointer.allocate(byteCount: 1 << SparseMemory.slabShift, alignment: 16)
            slab.initializeMemory(as: UInt8.self, repeating: 0, count: 1 << SparseMemory.slabShift)
            slabs.append(slab)
        }

        /// The bytes of storage offset `base` (a page's, plus an offset in
        /// the page).
        @inline(__always) func bytes(at base: Int) -> UnsafeMutableRawPointer {
            slabs[base >> SparseMemory.slabShift] + base & SparseMemory.slabMask
        }
    }

    /// An empty memory.
    public init() { storage = Storage() }

    /// Makes the storage this memory's own before a change.
    @inline(__always) private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
    }

    /// Number of pages that exist.
    public var pageCount: Int { storage.pages.count }

    /// True when the page holding `addr` exists.
    @inline(__always) public func hasPage(_ addr: UInt64) -> Bool {
        addr >> Self.pageShift == lastPage || storage.pages.get(addr >> Self.pageShift) != nil
    }

    /// The storage offset (page number << pageShift: its slab and the offset in it) of the page holding `addr`, if it exists.
    @inline(__always) private func base(_ addr: UInt64) -> Int? {
        if addr >> Self.pageShift == lastPage { return lastBase }
        return storage.pages.get(addr >> Self.pageShift).map { ($0 >> 1) << Self.pageShift }
    }

    /// The storage offset of `page`, created (zero) if needed.
    @inline(__always) private mutating func base(forPage page: UInt64) -> Int {
        if page == lastPage { return lastBase }
        let b: Int
        let onTable: Bool
        if let value = storage.pages.get(page) {
            b = (value >> 1) << Self.pageShift
            onTable = value & 1 != 0
        } else {
            makeUnique()
            b = storage.pagesMade << Self.pageShift
            if b >> Self.slabShift == storage.slabs.count { storage.addSlab() }
            storage.pagesMade += 1
            storage.marks.append(false)
            onTable = storage.tableFrames.get(page >> Self.frameShift) != nil
            storage.pages.set(page, (b >> Self.pageShift) << 1 | (onTable ? 1 : 0))
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
        return (b, storage.marks[b >> Self.pageShift], lastOnTable)
    }

    /// Records whether the 4 KiB frame `frame` (an address shifted right by
    /// 12) holds a table, for ``page(holding:)``.
    mutating func setHoldsTable(frame: UInt64, _ holdsTable: Bool) {
        makeUnique()
        if holdsTable { storage.tableFrames.set(frame, 0) } else { storage.tableFrames.remove(frame) }
        let first = frame << Self.frameShift
        for page in first..<first + (1 << Self.frameShift) {
            guard let value = storage.pages.get(page) else { continue }
            storage.pages.set(page, value & ~1 | (holdsTable ? 1 : 0))
            if page == lastPage { lastOnTable = holdsTable }
        }
    }

    /// Marks the page at storage offset `base`.
    mutating func mark(page base: Int) {
        makeUnique()
        storage.marks[base >> Self.pageShift] = true
    }

    /// Marks the page holding `addr`, if it exists.
    mutating func markIfPresent(_ addr: UInt64) {
        guard let b = base(addr) else { return }
        makeUnique()
        storage.marks[b >> Self.pageShift] = true
    }

    /// Writes `size` bytes of `value` at `addr`, least significant first,
    /// which lie within the page at storage offset `base`.
    @inline(__always) mutating func write(inPage base: Int, addr: UInt64, size: Int, value: UInt128) {
        makeUnique()
        let raw = storage.bytes(at: base + Int(addr & Self.pageMask))
        switch size {
        case 8: raw.storeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian, as: UInt64.self)
        case 4: raw.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
        case 2: raw.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, as: UInt16.self)
        case 16:
            raw.storeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian, as: UInt64.self)
            raw.storeBytes(of: UInt64(truncatingIfNeeded: value >> 64).littleEndian, toByteOffset: 8, as: UInt64.self)
        default:
            var v = value
            for i in 0..<size {
                raw.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
                v >>= 8
            }
        }
    }

    /// Reads byte `addr`.
    public func byte(_ addr: UInt64) -> UInt8 {
        guard let b = base(addr) else { return 0 }
        return storage.bytes(at: b + Int(addr & Self.pageMask)).load(as: UInt8.self)
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
            makeUnique()
            let raw = storage.bytes(at: b + off)
            for i in 0..<n {
                raw.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
                v >>= 8
            }
            remaining -= n
            a &+= UInt64(n)
        }
    }

    /// Reads `size` bytes (at most 16) as a little-endian integer.
    public func read(addr: UInt64, size: Int) -> UInt128 {
        // Within one page (the checks read root and context words on every
        // invalidation, the replay every recorded fetch): one lookup, not
        // one per byte.
        if Int(addr & Self.pageMask) + size <= Self.pageSize {
            guard let b = base(addr) else { return 0 }
            let raw = storage.bytes(at: b + Int(addr & Self.pageMask))
            func word(_ offset: Int) -> UInt128 {
                UInt128(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            }
            switch size {
            case 8: return word(0)
            case 16: return word(8) << 64 | word(0)
            default:
                var v: UInt128 = 0
                for i in stride(from: size - 1, through: 0, by: -1) {
                    v = v << 8 | UInt128(raw.load(fromByteOffset: i, as: UInt8.self))
                }
                return v
            }
        }
        var v: UInt128 = 0
        for i in stride(from: size - 1, through: 0, by: -1) {
            v = v << 8 | UInt128(byte(addr &+ UInt64(i)))
        }
        return v
    }

    /// Reads an entry of `size` bytes (at most 64) at `addr`.
    ///
    /// Inlined: the replay reads an entry twice on every store that hits
    /// one, and as a call the value came back through memory and was
    /// copied again.
    @inline(__always) public func entry(addr: UInt64, size: Int) -> EntryValue {
        if addr & 7 == 0, size & 7 == 0, addr >> Self.pageShift == (addr &+ UInt64(size - 1)) >> Self.pageShift {
            // Aligned whole words within a page.
            guard let b = base(addr) else { return EntryValue() }
            return EntryValue(littleEndianWords: storage.bytes(at: b + Int(addr & Self.pageMask)), count: size / 8)
        }
        return bytewiseEntry(addr: addr, size: size)
    }

    /// ``entry(addr:size:)`` of an entry within one page, or nil when that
    /// page does not exist: one lookup, where testing the page first and
    /// then reading took two.
    @inline(__always) func entryIfPresent(inPage addr: UInt64, size: Int) -> EntryValue? {
        guard let b = base(addr) else { return nil }
        if addr & 7 == 0, size & 7 == 0 {
            return EntryValue(littleEndianWords: storage.bytes(at: b + Int(addr & Self.pageMask)), count: size / 8)
        }
        return bytewiseEntry(addr: addr, size: size)
    }

    /// ``entry(addr:size:)`` of an entry unaligned or across pages.
    @inline(never) private func bytewiseEntry(addr: UInt64, size: Int) -> EntryValue {
        var value = EntryValue()
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
                makeUnique()
                storage.bytes(at: dst + off).copyMemory(from: other.storage.bytes(at: src + off), byteCount: n)
            } else if let dst = base(a) {
                makeUnique()
                storage.bytes(at: dst + off).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            }
            remaining -= n
            a &+= UInt64(n)
        }
    }
}
