#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A string interned in a ``SymbolTable``: unit names, `at=` sites, `mark`
/// text and table names.
public struct Symbol: Hashable, Sendable, Comparable {
    /// Index into the table that made it.
    public var index: UInt32

    /// The symbol for an index.
    public init(_ index: UInt32) { self.index = index }

    /// `iommu0`, the unit of a trace that declares none; every table has it
    /// first.
    public static let defaultUnit = Symbol(0)

    public static func < (a: Symbol, b: Symbol) -> Bool { a.index < b.index }
}

/// Interns byte strings so that events can carry them as small integers.
///
/// Lookups work on raw bytes (FNV-1a into an open-addressed table) so that the
/// parser's hot loop never builds a `String` for a name it has seen before.
///
/// Each string is held twice: its bytes, side by side, for lookups, and the
/// `String` that ``subscript(_:)`` returns, because reports look a site up
/// for every event. Holding only the `String`s made parsing 3% slower
/// (comparing through `String.utf8` retains and releases it); holding only
/// the bytes would build a `String` per event in `hitless diff`. Both are
/// bounded by ``TraceLimits/maxSymbolBytes``.
public struct SymbolTable: Sendable {
    private var strings: [String] = []
    private var bytes: [UInt8] = []
    private var spans: [(start: Int, count: Int)] = []
    private var slots: [UInt32]  // index + 1; 0 means empty
    private var mask: Int
    /// The most bytes a new string may have within the limits; -1 when the
    /// table may take no new string. Kept up to date so that the parser's
    /// check costs one comparison.
    private var room = TraceLimits.maxSymbolBytes

    /// A table that holds only ``Symbol/defaultUnit``.
    public init() {
        slots = [UInt32](repeating: 0, count: 64)
        mask = 63
        _ = intern("iommu0")
    }

    /// Number of distinct strings.
    public var count: Int { strings.count }

    /// Total UTF-8 bytes of the distinct strings, which
    /// ``internWithinLimits(bytes:)`` keeps within ``TraceLimits/maxSymbolBytes``.
    public var byteCount: Int { bytes.count }

    /// The string of a symbol made by this table.
    public subscript(symbol: Symbol) -> String { strings[Int(symbol.index)] }

    /// Every string, in order of first appearance.
    public var allStrings: [String] { strings }

    /// Interns a string.
    public mutating func intern(_ string: String) -> Symbol {
        var copy = string
        return copy.withUTF8 { intern(bytes: $0) }
    }

    /// Interns the UTF-8 bytes of a string (they must be valid UTF-8).
    public mutating func intern(bytes name: UnsafeBufferPointer<UInt8>) -> Symbol {
        let hash = Self.hash(name)
        var slot = hash & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let index = Int(entry - 1)
            if equal(index, name) { return Symbol(UInt32(index)) }
            slot = (slot + 1) & mask
        }
        let index = strings.count
        spans.append((bytes.count, name.count))
        bytes.append(contentsOf: name)
        strings.append(String(decoding: name, as: UTF8.self))
        room = strings.count < TraceLimits.maxSymbols ? max(-1, TraceLimits.maxSymbolBytes - bytes.count) : -1
        slots[slot] = UInt32(index + 1)
        if strings.count * 2 > slots.count { grow() }
        return Symbol(UInt32(index))
    }

    /// Interns the bytes of a string read from a trace, unless they are new
    /// and would take the table past ``TraceLimits/maxSymbols`` strings or
    /// ``TraceLimits/maxSymbolBytes`` bytes: then nil, and the reader stops
    /// with an error. A string seen before is always found.
    public mutating func internWithinLimits(bytes name: UnsafeBufferPointer<UInt8>) -> Symbol? {
        hasRoom(forNew: name.count) ? intern(bytes: name) : existing(name)
    }

    /// Why ``internWithinLimits(bytes:)`` refuses a new string now: the
    /// limit it would pass, for the reader's error.
    var limitReason: String {
        strings.count >= TraceLimits.maxSymbols
            ? "more than \(TraceLimits.maxSymbols) distinct names and sites in one trace"
            : "more than \(TraceLimits.maxSymbolBytes) bytes of distinct names, sites and mark text in one trace"
    }

    /// Whether a new string of `length` bytes would fit within the limits:
    /// when it would, ``intern(bytes:)`` is safe whether or not the string
    /// is new. The canonical store's parser asks this, not
    /// ``internWithinLimits(bytes:)``, whose optional result cost that
    /// parser 0.7% more instructions on the 200k-event trace.
    @inline(__always)
    func hasRoom(forNew length: Int) -> Bool { length <= room }

    /// The symbol of `name` when the table already has it. The same probe
    /// as ``intern(bytes:)``'s, written out again: one probe for both (as a
    /// tuple of symbol and slot, or as a slot) made parsing 0.3% to 0.5%
    /// dearer (callgrind, `stats` of the 200k-event trace).
    private func existing(_ name: UnsafeBufferPointer<UInt8>) -> Symbol? {
        var slot = Self.hash(name) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            let index = Int(entry - 1)
            if equal(index, name) { return Symbol(UInt32(index)) }
            slot = (slot + 1) & mask
        }
    }

    private func equal(_ index: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[index]
        guard span.count == name.count else { return false }
        guard let theirs = name.baseAddress, span.count > 0 else { return true }
        return bytes.withUnsafeBufferPointer { ours in
            guard let ours = ours.baseAddress else { return false }
            return memcmp(ours + span.start, theirs, span.count) == 0
        }
    }

    private mutating func grow() {
        let newCount = slots.count * 2
        slots = [UInt32](repeating: 0, count: newCount)
        mask = newCount - 1
        for index in 0..<spans.count {
            let span = spans[index]
            let hash = bytes.withUnsafeBufferPointer {
                Self.hash(UnsafeBufferPointer(rebasing: $0[span.start..<span.start + span.count]))
            }
            var slot = hash & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
    }

    /// Eight bytes at a time: names (`at=` sites above all) are hashed for
    /// every line that has one.
    private static func hash(_ name: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(name.count)
        guard let base = name.baseAddress else { return Int(truncatingIfNeeded: h) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= name.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9e37_79b9_7f4a_7c15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        if i < name.count && name.count >= 8 {
            // The last bytes as the word that ends the name, shifted down.
            tail = raw.loadUnaligned(fromByteOffset: name.count - 8, as: UInt64.self) >> UInt64((8 - (name.count - i)) * 8)
        } else {
            var shift: UInt64 = 0
            while i < name.count {
                tail |= UInt64(name[i]) << shift
                shift += 8
                i += 1
            }
        }
        h = (h ^ tail) &* 0x9e37_79b9_7f4a_7c15
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}
