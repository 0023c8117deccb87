/// The value of one table entry: up to 64 bytes as eight little-endian
/// 64-bit words (a PASID entry's `val[0..7]`; a context entry's `lo`, `hi`).
public struct EntryValue: Hashable, Sendable {
    // Eight stored words instead of an array: no heap allocation per value.
    // Usable from inlinable code, so that the operators inline into the
    // analyzers in another module.
    @usableFromInline var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    @usableFromInline var w4: UInt64 = 0, w5: UInt64 = 0, w6: UInt64 = 0, w7: UInt64 = 0

    /// The largest entry, in bytes.
    public static let maxSize = 64

    /// An all-zero value.
    @inlinable public init() {}

    /// A value from its words (at most eight; missing ones are zero).
    public init(words: [UInt64]) {
        for (i, w) in words.prefix(8).enumerated() { self[i] = w }
    }

    /// The first `count` (at most eight) little-endian words at `bytes`;
    /// the rest zero. One load per word, without the subscript's switch:
    /// the replay reads an entry on every store that hits one.
    /// By the entry sizes VT-d has (8, 16 and 64 bytes), so that each is a
    /// run of loads: tested word by word, every word cost a compare and a
    /// branch, on the two reads of every store that hits an entry.
    @inline(__always) init(littleEndianWords bytes: UnsafeRawPointer, count: Int) {
        @inline(__always) func word(_ i: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        }
        switch count {
        case 8:
            w0 = word(0); w1 = word(1); w2 = word(2); w3 = word(3)
            w4 = word(4); w5 = word(5); w6 = word(6); w7 = word(7)
        case 2:
            w0 = word(0); w1 = word(1)
        case 1:
            w0 = word(0)
        default:
            for i in 0..<min(count, 8) { self[i] = word(i) }
        }
    }

    /// Word `i` (0 to 7). Inlinable, like the accessors below: the
    /// analyzers read and set single words and bytes of values on every
    /// change, and from their module each was a call.
    @inlinable public subscript(i: Int) -> UInt64 {
        get {
            switch i {
            case 0: w0
            case 1: w1
            case 2: w2
            case 3: w3
            case 4: w4
            case 5: w5
            case 6: w6
            default: w7
            }
        }
        set {
            switch i {
            case 0: w0 = newValue
            case 1: w1 = newValue
            case 2: w2 = newValue
            case 3: w3 = newValue
            case 4: w4 = newValue
            case 5: w5 = newValue
            case 6: w6 = newValue
            default: w7 = newValue
            }
        }
    }

    /// Byte `i` (0 to 63).
    @inlinable public func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: self[i >> 3] >> UInt64((i & 7) * 8)) }

    /// Sets byte `i` (0 to 63).
    @inlinable public mutating func setByte(_ i: Int, _ value: UInt8) {
        let shift = UInt64((i & 7) * 8)
        self[i >> 3] = self[i >> 3] & ~(0xff << shift) | UInt64(value) << shift
    }

    /// Bit `i`.
    @inlinable public func bit(_ i: Int) -> Bool { self[i >> 6] >> UInt64(i & 63) & 1 == 1 }

    /// The words of an entry of `size` bytes.
    public func words(size: Int) -> [UInt64] { (0..<max(1, (size + 7) / 8)).map { self[$0] } }

    // The operators work word by word on the stored words, not through the
    // subscript: its switch, and from another module a call per word, made
    // one operator hundreds of instructions (the analysis applies several
    // to every change of an entry). They are inlinable: called from the
    // analyzers' module, each was a call that passed both values and the
    // result through memory (some 9 M instructions on the 500k-event trace).

    /// The bitwise AND of two values.
    @inlinable public static func & (a: EntryValue, b: EntryValue) -> EntryValue {
        a.combined(with: b, &)
    }

    /// The bitwise OR of two values.
    @inlinable public static func | (a: EntryValue, b: EntryValue) -> EntryValue {
        a.combined(with: b, |)
    }

    /// The bitwise exclusive OR of two values.
    @inlinable public static func ^ (a: EntryValue, b: EntryValue) -> EntryValue {
        a.combined(with: b, ^)
    }

    /// The bitwise complement.
    @inlinable public static prefix func ~ (a: EntryValue) -> EntryValue {
        a.combined(with: a) { x, _ in ~x }
    }

    /// Equal word by word (the derived `==` compares through `memcmp`).
    @inlinable public static func == (a: EntryValue, b: EntryValue) -> Bool {
        (a ^ b).isZero
    }

    @inlinable @inline(__always) func combined(with other: EntryValue, _ op: (UInt64, UInt64) -> UInt64) -> EntryValue {
        var r = EntryValue()
        r.w0 = op(w0, other.w0); r.w1 = op(w1, other.w1); r.w2 = op(w2, other.w2); r.w3 = op(w3, other.w3)
        r.w4 = op(w4, other.w4); r.w5 = op(w5, other.w5); r.w6 = op(w6, other.w6); r.w7 = op(w7, other.w7)
        return r
    }

    /// True when every word is zero.
    @inlinable public var isZero: Bool { w0 | w1 | w2 | w3 | w4 | w5 | w6 | w7 == 0 }

    /// This value with bytes `range` (relative to the entry) taken from `other`.
    public func replacingBytes(_ range: Range<Int>, from other: EntryValue) -> EntryValue {
        var r = self
        for i in range { r.setByte(i, other.byte(i)) }
        return r
    }
}
