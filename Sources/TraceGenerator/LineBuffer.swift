import TraceFormat

/// Trace text built as bytes: no `String` per line, no allocation per event.
struct LineBuffer {
    private(set) var bytes: [UInt8] = []
    /// Bytes at which the owner should drain the buffer.
    static let drainAt = 1 << 16

    init() { bytes.reserveCapacity(Self.drainAt + 4096) }

    var count: Int { bytes.count }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always) mutating func put(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always) mutating func put(_ s: [UInt8]) { bytes.append(contentsOf: s) }

    @inline(__always) mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// `0x` and lower-case hex digits, no leading zeros.
    mutating func hex(_ v: UInt64) {
        put("0x")
        hexDigits(v, minimum: 1)
    }

    /// A 128-bit value in the same form.
    mutating func hex(_ hi: UInt64, _ lo: UInt64) {
        put("0x")
        if hi == 0 { hexDigits(lo, minimum: 1) } else {
            hexDigits(hi, minimum: 1)
            hexDigits(lo, minimum: 16)
        }
    }

    private mutating func hexDigits(_ v: UInt64, minimum: Int) {
        let significant = v == 0 ? 1 : (64 - v.leadingZeroBitCount + 3) / 4
        let n = max(significant, minimum)
        var shift = (n - 1) * 4
        while shift >= 0 {
            let d = UInt8(truncatingIfNeeded: v >> UInt64(shift)) & 0xf
            bytes.append(d < 10 ? 0x30 + d : 0x57 + d)
            shift -= 4
        }
    }

    /// Unsigned decimal.
    mutating func decimal(_ v: UInt64) {
        if v < 10 {
            bytes.append(0x30 + UInt8(v))
            return
        }
        var tmp = v
        var buf: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &buf) { raw in
            while tmp > 0 {
                raw[n] = 0x30 + UInt8(tmp % 10)
                tmp /= 10
                n += 1
            }
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(raw[i]) }
        }
    }

    /// `BB:DD.F` in hex.
    mutating func sourceID(_ sid: UInt16) {
        twoHex(UInt8(sid >> 8))
        byte(0x3a)
        twoHex(UInt8(sid >> 3 & 0x1f))
        byte(0x2e)
        byte(0x30 + UInt8(sid & 7))
    }

    private mutating func twoHex(_ v: UInt8) {
        let hi = v >> 4, lo = v & 0xf
        bytes.append(hi < 10 ? 0x30 + hi : 0x57 + hi)
        bytes.append(lo < 10 ? 0x30 + lo : 0x57 + lo)
    }
}

/// SplitMix64: small, fast and the same on every platform, so a seed always
/// gives the same trace (tests build their own random traces with it too).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    /// A generator whose sequence `seed` fixes.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in `0 ..< n` (n > 0).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Uniform in `[0, 1)`.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
}
