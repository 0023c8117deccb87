/// Byte-level helpers for the text format. They work on raw bytes so that the
/// parser never builds a `String` for a number or a key.
enum ASCII {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let cr: UInt8 = 0x0d
    static let newline: UInt8 = 0x0a
    static let hash: UInt8 = 0x23
    static let equals: UInt8 = 0x3d
    static let colon: UInt8 = 0x3a
    static let dot: UInt8 = 0x2e
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let x: UInt8 = 0x78
    static let upperX: UInt8 = 0x58

    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { b == space || b == tab }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x61...0x66: b - 0x61 + 10
        case 0x41...0x46: b - 0x41 + 10
        default: nil
        }
    }
}

/// Why a number did not parse.
enum NumberProblem: Error {
    case malformed, tooWide
}

extension UnsafeBufferPointer<UInt8> {
    /// Parses an unsigned decimal or `0x` hexadecimal integer of at most
    /// `bits` bits.
    func parseUnsigned(bits: Int = 64) throws(NumberProblem) -> UInt64 {
        // Most numbers fit 64 bits without overflow checks: up to 16 hex or
        // 19 decimal digits. Anything longer takes the 128-bit path.
        if count > 2 && count <= 18 && self[0] == ASCII.zero && (self[1] == ASCII.x || self[1] == ASCII.upperX) {
            var value: UInt64 = 0
            if count >= 8, let v = parseLongHex() {
                value = v
            } else {
                for i in 2..<count {
                    guard let digit = ASCII.hexValue(self[i]) else { throw .malformed }
                    value = value << 4 | UInt64(digit)
                }
            }
            guard bits == 64 || value >> bits == 0 else { throw .tooWide }
            return value
        }
        if count >= 1 && count <= 19 && ASCII.isDigit(self[0]) && (count == 1 || self[1] != ASCII.x && self[1] != ASCII.upperX) {
            var value: UInt64 = 0
            for byte in self {
                guard ASCII.isDigit(byte) else { throw .malformed }
                value = value &* 10 &+ UInt64(byte - ASCII.zero)
            }
            guard bits == 64 || value >> bits == 0 else { throw .tooWide }
            return value
        }
        let wide = try parseUnsigned128()
        guard wide >> bits == 0 else { throw .tooWide }
        return UInt64(truncatingIfNeeded: wide)
    }

    /// Parses an unsigned decimal or `0x` hexadecimal integer of at most 128
    /// bits.
    func parseUnsigned128() throws(NumberProblem) -> UInt128 {
        guard !isEmpty else { throw .malformed }
        var value: UInt128 = 0
        if count > 2 && self[0] == ASCII.zero && (self[1] == ASCII.x || self[1] == ASCII.upperX) {
            var i = 2
            while i < count && self[i] == ASCII.zero { i += 1 }
            guard count - i <= 32 else {
                for j in i..<count where ASCII.hexValue(self[j]) == nil { throw .malformed }
                throw .tooWide
            }
            while i < count {
                guard let digit = ASCII.hexValue(self[i]) else { throw .malformed }
                value = value << 4 | UInt128(digit)
                i += 1
            }
            return value
        }
        for byte in self {
            guard ASCII.isDigit(byte) else { throw .malformed }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt128(byte - ASCII.zero))
            if o1 || o2 { throw .tooWide }
            value = sum
        }
        return value
    }

    /// True when the bytes equal the ASCII string.
    @inline(__always) func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        for i in 0..<count where self[i] != p[i] { return false }
        return true
    }

    /// Index of the first occurrence of `needle`, or nil.
    func firstRange(of needle: StaticString) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0, count >= n else { return nil }
        let p = needle.utf8Start
        let first = p[0]
        var i = 0
        while i <= count - n {
            if self[i] == first {
                var j = 1
                while j < n && self[i + j] == p[j] { j += 1 }
                if j == n { return i }
            }
            i += 1
        }
        return nil
    }

    /// The bytes as a `String`, for messages.
    var text: String { String(decoding: self, as: UTF8.self) }

    /// At most `limit` bytes of the text, for an error's `found:` when the
    /// whole of it could be a 16 KB line: cut before a character that does
    /// not fit and then marked `...`, with bytes that are not UTF-8 written
    /// `\xNN` (the text need not have been checked yet).
    func excerpt(limit: Int = 32) -> String {
        var n = count
        if n > limit {
            n = limit
            // Back to the start of the character that straddles the cut:
            // at most three continuation bytes.
            var back = n
            while back > n - 3 && back > 0 && self[back] & 0xc0 == 0x80 { back -= 1 }
            if self[back] & 0xc0 != 0x80 { n = back }
        }
        var out = ""
        var rest = UnsafeBufferPointer(rebasing: self[0..<n])
        while let bad = rest.firstInvalidUTF8() {
            out += UnsafeBufferPointer(rebasing: rest[..<bad]).text
            let digits = String(rest[bad], radix: 16)
            out += "\\x" + (digits.count == 1 ? "0" + digits : digits)
            rest = UnsafeBufferPointer(rebasing: rest[(bad + 1)...])
        }
        out += rest.text
        return n < count ? out + "..." : out
    }

    /// Offset of the first byte that is not valid UTF-8, or nil when all is.
    func firstInvalidUTF8() -> Int? {
        var i = 0
        // Trace lines are almost all ASCII: skip eight bytes at a time while
        // none has its top bit set.
        if let base = baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= count && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
        }
        while i < count {
            let b = self[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            var lowest: UInt8 = 0x80, highest: UInt8 = 0xbf
            switch b {
            case 0xc2...0xdf: length = 2
            case 0xe0: length = 3; lowest = 0xa0
            case 0xe1...0xec, 0xee...0xef: length = 3
            case 0xed: length = 3; highest = 0x9f
            case 0xf0: length = 4; lowest = 0x90
            case 0xf1...0xf3: length = 4
            case 0xf4: length = 4; highest = 0x8f
            default: return i
            }
            guard i + length <= count else { return i }
            let second = self[i + 1]
            guard second >= lowest && second <= highest else { return i }
            for k in 2..<length where self[i + k] & 0xc0 != 0x80 { return i }
            i += length
        }
        return nil
    }
}

/// Source ids in text: `0x0010`, `16`, or `BB:DD.F` in hex.
enum SourceID {
    static func parse(_ token: UnsafeBufferPointer<UInt8>) throws(NumberProblem) -> UInt16 {
        if let colon = token.firstIndex(of: ASCII.colon) {
            guard let dot = token.lastIndex(of: ASCII.dot), dot > colon else { throw .malformed }
            let bus = try hex(token, 0, colon, max: 0xff)
            let device = try hex(token, colon + 1, dot, max: 0x1f)
            let function = try hex(token, dot + 1, token.count, max: 7)
            return UInt16(bus << 8 | device << 3 | function)
        }
        return UInt16(try token.parseUnsigned(bits: 16))
    }

    private static func hex(_ token: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, max: Int) throws(NumberProblem) -> Int {
        guard to > from, to - from <= 2 else { throw .malformed }
        var value = 0
        for i in from..<to {
            guard let digit = ASCII.hexValue(token[i]) else { throw .malformed }
            value = value << 4 | Int(digit)
        }
        guard value <= max else { throw .tooWide }
        return value
    }

    /// `BB:DD.F`, the form reports use.
    static func format(_ sid: UInt16) -> String {
        let bus = Int(sid >> 8), device = Int(sid >> 3) & 0x1f, function = Int(sid) & 7
        return hex2(bus) + ":" + hex2(device) + "." + String(function)
    }

    private static func hex2(_ v: Int) -> String {
        let digits = String(v, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}

/// Formats `sid` as `BB:DD.F`, the way hitless writes source ids everywhere.
public func formatSourceID(_ sid: UInt16) -> String { SourceID.format(sid) }

/// Formats a number as `0x` and lower-case hexadecimal digits.
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

/// Eight bytes at a time: the text parser's scans, checks and hexadecimal
/// numbers look at one 64-bit word per step rather than one byte (a trace
/// line is some 90 bytes, and the byte loops were most of its cost).
///
/// The byte masks follow the classic "has a zero byte" trick: the high bit
/// is set in each matching byte, exactly for the lowest match; bytes above
/// it may be flagged falsely, so only the lowest flagged byte is used.
enum WordScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The little-endian word at `offset` (its first byte in the low bits).
    @inline(__always) static func load(_ raw: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// High bit of each zero byte of `w` (exact for the lowest).
    @inline(__always) static func zeroBytes(_ w: UInt64) -> UInt64 { (w &- ones) & ~w & highs }

    /// High bit of each byte of `w` equal to `b` (exact for the lowest).
    @inline(__always) static func bytes(_ w: UInt64, equalTo b: UInt8) -> UInt64 { zeroBytes(w ^ (ones &* UInt64(b))) }

    /// High bit of each byte of `w` below `limit`, at most 0x80 (exact for the lowest).
    @inline(__always) static func bytes(_ w: UInt64, below limit: UInt8) -> UInt64 {
        (w &- (ones &* UInt64(limit))) & ~w & highs
    }

    /// Blanks: spaces and tabs.
    @inline(__always) static func blanks(_ w: UInt64) -> UInt64 {
        bytes(w, equalTo: ASCII.space) | bytes(w, equalTo: ASCII.tab)
    }

    /// The value of eight ASCII hexadecimal digits, the first in the low
    /// byte of `w` and most significant; nil when any byte is not a digit.
    @inline(__always) static func hex8(_ w: UInt64) -> UInt32? {
        guard nonHexDigits(w) == 0 else { return nil }
        return UInt32(truncatingIfNeeded: hexNibbles(w))
    }

    /// High bit of each byte of `w` that is not an ASCII hexadecimal digit
    /// (exact for the lowest: a byte above 0x7f is flagged itself, and its
    /// carry reaches only the bytes after it; below 0x80, adding at most
    /// 0x7f carries into no other byte, so the high bit says "at least" or
    /// "more than").
    @inline(__always) static func nonHexDigits(_ w: UInt64) -> UInt64 {
        let lower = w | (ones &* 0x20)  // 'A'...'F' as 'a'...'f'
        let digit = (w &+ (ones &* (0x80 - 0x30))) & ~(w &+ (ones &* (0x7f - 0x39)))
        let letter = (lower &+ (ones &* (0x80 - 0x61))) & ~(lower &+ (ones &* (0x7f - 0x66)))
        return (~(digit | letter) | w) & highs
    }

    /// High bit of each byte of `w` that is not an ASCII decimal digit
    /// (exact for the lowest, as ``nonHexDigits(_:)``).
    @inline(__always) static func nonDecimalDigits(_ w: UInt64) -> UInt64 {
        let digit = (w &+ (ones &* (0x80 - 0x30))) & ~(w &+ (ones &* (0x7f - 0x39)))
        return (~digit | w) & highs
    }

    /// The 32 bits of eight hexadecimal digits in `w` (first digit in the
    /// low byte, most significant), valid or not: each byte gives its low
    /// nibble, plus 9 for a letter. Only the nibbles of real digits mean
    /// anything; the caller shifts the others out.
    @inline(__always) static func hexNibbles(_ w: UInt64) -> UInt64 {
        // '0'...'9' are 0x30...0x39; letters have bit 6 set and their low
        // nibble is 1...6 for 10...15.
        let v = (w & (ones &* 0x0f)) &+ ((w >> 6) & ones) &* 9
        // Nibble pairs into bytes, bytes into a word, first digit highest.
        let pairs = (v & 0x000f_000f_000f_000f) << 4 | (v & 0x0f00_0f00_0f00_0f00) >> 8
        let quads = (pairs | pairs >> 8) & 0x0000_ffff_0000_ffff
        return UInt64(UInt32(truncatingIfNeeded: quads | quads >> 16).byteSwapped)
    }

    /// The bytes before the first one flagged in `first` and then `second`
    /// (masks of ``nonHexDigits(_:)`` or ``nonDecimalDigits(_:)`` of two
    /// consecutive words): 16 when neither flags any.
    @inline(__always) static func unflaggedCount(_ first: UInt64, _ second: UInt64) -> Int {
        first != 0 ? first.trailingZeroBitCount >> 3 : 8 + second.trailingZeroBitCount >> 3
    }

    /// The value of the first `count` (1 to 8) bytes of `w`, decimal
    /// digits, the first most significant: three multiplications (the
    /// digits moved to the top, zeros below them as leading zeros).
    @inline(__always) static func decimal(_ w: UInt64, count: Int) -> UInt64 {
        var x = (w & (ones &* 0x0f)) << UInt64((8 - count) * 8)
        x = (x &* (10 << 8 + 1)) >> 8 & 0x00ff_00ff_00ff_00ff
        x = (x &* (100 << 16 + 1)) >> 16 & 0x0000_ffff_0000_ffff
        return (x &* (10000 << 32 + 1)) >> 32
    }

    /// 10 to the power `n`, 0...11.
    @inline(__always) static func powerOf10(_ n: Int) -> UInt64 {
        var p: UInt64 = 1
        for _ in 0..<n { p &*= 10 }
        return p
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The `length` bytes at `offset` (1 to 8, within the buffer) as a
    /// little-endian word, zero above them: one load where eight bytes are
    /// left, else byte by byte.
    @inline(__always) func littleEndianWord(at offset: Int, length: Int) -> UInt64 {
        if offset + 8 <= count, let base = baseAddress {
            let w = WordScan.load(UnsafeRawPointer(base), offset)
            return length == 8 ? w : w & ((1 << UInt64(length * 8)) - 1)
        }
        var w: UInt64 = 0
        for i in 0..<length { w |= UInt64(self[offset + i]) << UInt64(i * 8) }
        return w
    }

    /// Index of the first space or tab at or after `from`, or `count`.
    @inline(__always) func endOfToken(from: Int) -> Int {
        firstMatch(from: from, WordScan.blanks) { ASCII.isBlank($0) }
    }

    /// Index of the first space, tab or `=` at or after `from`, or `count`.
    @inline(__always) func endOfKey(from: Int) -> Int {
        firstMatch(from: from, { WordScan.blanks($0) | WordScan.bytes($0, equalTo: ASCII.equals) }) {
            ASCII.isBlank($0) || $0 == ASCII.equals
        }
    }

    /// Index of the first control character (below 0x20 but a tab, or
    /// DEL), or nil.
    func firstControlCharacter() -> Int? {
        let isControl = { (b: UInt8) in (b < 0x20 && b != ASCII.tab) || b == 0x7f }
        var i = 0
        if let base = baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= count {
                let w = WordScan.load(raw, i)
                if WordScan.bytes(w, below: 0x20) | WordScan.bytes(w, equalTo: 0x7f) != 0 {
                    // A tab, or a real control character: look closer.
                    for k in i..<i + 8 where isControl(self[k]) { return k }
                }
                i += 8
            }
        }
        while i < count {
            if isControl(self[i]) { return i }
            i += 1
        }
        return nil
    }

    /// The first byte at or after `from` that `matches` flags in a word
    /// (and `isMatch` accepts alone), or `count`.
    @inline(__always) private func firstMatch(from: Int, _ matches: (UInt64) -> UInt64,
                                              _ isMatch: (UInt8) -> Bool) -> Int {
        var i = from
        guard let base = baseAddress, count >= 8 else {
            while i < count && !isMatch(self[i]) { i += 1 }
            return i
        }
        let raw = UnsafeRawPointer(base)
        while i + 8 <= count {
            let m = matches(WordScan.load(raw, i))
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        if i >= count { return count }
        // The last bytes: the word that ends the buffer, shifted so that it
        // starts at `i` (zero bytes come in at the top and match nothing).
        let m = matches(WordScan.load(raw, count - 8) >> UInt64((i - (count - 8)) * 8))
        return m != 0 ? i + m.trailingZeroBitCount >> 3 : count
    }

    /// The value of `0x` and 6 to 16 hexadecimal digits (the whole buffer),
    /// eight digits at a time; nil when a digit is not one.
    @inline(__always) func parseLongHex() -> UInt64? {
        let digits = count - 2
        guard digits >= 6 && digits <= 16, let base = baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        guard let low = WordScan.hex8(Self.hexWord(raw, end: count, digits: digits)) else { return nil }
        guard digits > 8 else { return UInt64(low) }
        let high: UInt32
        if count >= 16 {
            guard let h = WordScan.hex8(Self.hexWord(raw, end: count - 8, digits: digits - 8)) else { return nil }
            high = h
        } else {
            var h: UInt32 = 0
            for i in 2..<count - 8 {
                guard let d = ASCII.hexValue(self[i]) else { return nil }
                h = h << 4 | UInt32(d)
            }
            high = h
        }
        return UInt64(high) << 32 | UInt64(low)
    }

    /// The word of the last eight bytes before `end` (at least 8), its
    /// bytes before the last `digits` replaced by `0`.
    @inline(__always) private static func hexWord(_ raw: UnsafeRawPointer, end: Int, digits: Int) -> UInt64 {
        let w = WordScan.load(raw, end - 8)
        guard digits < 8 else { return w }
        let pad = UInt64(8 - digits) * 8
        let padMask: UInt64 = (1 << pad) - 1
        return (w & ~padMask) | ((WordScan.ones &* 0x30) & padMask)
    }
}
