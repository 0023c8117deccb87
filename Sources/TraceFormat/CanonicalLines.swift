/// The fast paths for the lines most traces are made of: a `store` and a
/// `fence` written the way ``TraceWriter`` (and so `hitless convert` and
/// `hitless generate`) writes them,
///
///     store addr=0x... size=N value=0x... [t=N] [cpu=N] [unit=NAME] [at=SITE]
///     fence kind=KIND [t=N] [cpu=N] [unit=NAME] [at=SITE]
///
/// with single spaces, ASCII names and numbers of at most 64 bits. They read
/// the keys in that order as fixed text instead of looking each one up, and
/// parse each number as they go.
///
/// They accept only lines on which the general parser would succeed, and
/// give the same event: anything else (another key order, tabs, an odd
/// number form, any error) returns nil before changing any state but the
/// symbol table, and the general parser reads the line again and reports
/// what is wrong. Tests compare the two on every kind of line.
extension LineParser {
    mutating func parseCanonicalStore(_ line: UnsafeBufferPointer<UInt8>, kindEnd: Int,
                                      number: UInt64) throws(TraceError) -> TraceEvent? {
        guard let base = line.baseAddress else { return nil }
        var cursor = CanonicalCursor(raw: UnsafeRawPointer(base), count: line.count, at: kindEnd)
        guard cursor.skip(" addr=0x", CanonicalCursor.addrWord, 8), let addr = cursor.hex(),
              cursor.skip(" size=", CanonicalCursor.sizeWord, 6), let size = cursor.decimal(maxDigits: 2),
              size == 1 || size == 2 || size == 4 || size == 8 || size == 16,
              cursor.skip(" value=0", CanonicalCursor.valueWord, 8), cursor.skip("x", 0x78, 1), let value = cursor.hex(),
              size >= 8 || value >> (size * 8) == 0,
              addr <= UInt64.max - (size - 1)
        else { return nil }
        var event = TraceEvent(.store(MemoryWrite(addr: addr, size: UInt8(size), value: UInt128(value))), line: number)
        return try canonicalTail(line, &cursor, &event, number: number) ? event : nil
    }

    mutating func parseCanonicalFence(_ line: UnsafeBufferPointer<UInt8>, kindEnd: Int,
                                      number: UInt64) throws(TraceError) -> TraceEvent? {
        guard let base = line.baseAddress else { return nil }
        var cursor = CanonicalCursor(raw: UnsafeRawPointer(base), count: line.count, at: kindEnd)
        guard cursor.skip(" kind=", CanonicalCursor.kindWord, 6), let kind = cursor.fenceKind() else { return nil }
        var event = TraceEvent(.fence(kind), line: number)
        return try canonicalTail(line, &cursor, &event, number: number) ? event : nil
    }

    /// The keys every kind may end with, in the writer's order, then the
    /// line's end, into `event`; false when the line is not canonical.
    @inline(__always) private mutating func canonicalTail(_ line: UnsafeBufferPointer<UInt8>, _ cursor: inout CanonicalCursor,
                                                          _ event: inout TraceEvent, number: UInt64) throws(TraceError) -> Bool {
        var time: UInt64?
        var timeColumn = 0
        if cursor.skip(" t=", CanonicalCursor.tWord, 3) {
            timeColumn = cursor.at - 1  // of the `t`, 1-based
            guard let t = cursor.decimal(maxDigits: 19) else { return false }
            time = t
        }
        if cursor.skip(" cpu=", CanonicalCursor.cpuWord, 5) {
            guard let cpu = cursor.decimal(maxDigits: 10), cpu <= UInt64(UInt32.max) else { return false }
            event.cpu = UInt32(cpu)
        }
        if cursor.skip(" unit=", CanonicalCursor.unitWord, 6) {
            guard let name = cursor.name(), symbols.hasRoom(forNew: name.count) else { return false }
            event.unit = recentNames.intern(line, name, into: &symbols)
        }
        if cursor.skip(" at=", CanonicalCursor.atWord, 4) {
            // The site ends most lines: a site met lately, running to the
            // line's end, is taken without reading its bytes one by one.
            if let site = recentNames.cached(line, cursor.at..<line.count) {
                event.site = site
                cursor.at = line.count
            } else {
                guard let name = cursor.name(), symbols.hasRoom(forNew: name.count) else { return false }
                event.site = recentNames.intern(line, name, into: &symbols)
            }
        }
        guard cursor.at == line.count else { return false }
        try setTime(&event, time, number: number, column: timeColumn)
        sawHeaderOrEvent = true
        return true
    }
}

/// A position in a line for ``LineParser/parseCanonicalStore(_:kindEnd:number:)``
/// and ``LineParser/parseCanonicalFence(_:kindEnd:number:)``.
struct CanonicalCursor {
    let raw: UnsafeRawPointer
    let count: Int
    var at: Int

    // The fixed texts as little-endian words, written out: a `static let`
    // costs a lazy-initialization check on every use. The tests read each
    // spelling back (CanonicalLinesTests).
    static let addrWord: UInt64 = 0x7830_3d72_6464_6120  // " addr=0x"
    static let sizeWord: UInt64 = 0x3d65_7a69_7320  // " size="
    static let valueWord: UInt64 = 0x303d_6575_6c61_7620  // " value=0"
    static let tWord: UInt64 = 0x3d74_20  // " t="
    static let cpuWord: UInt64 = 0x3d_7570_6320  // " cpu="
    static let unitWord: UInt64 = 0x3d74_696e_7520  // " unit="
    static let atWord: UInt64 = 0x3d74_6120  // " at="
    static let kindWord: UInt64 = 0x3d64_6e69_6b20  // " kind="
    /// Each barrier kind's name as a little-endian word (every one fits)
    /// and its length: by its word alone, `mb` followed by a NUL would read
    /// as `mb`.
    static let fenceWords: [(word: UInt64, length: Int, kind: FenceKind)] = FenceKind.allCases.map { kind in
        (word(kind.staticName), kind.staticName.utf8CodeUnitCount, kind)
    }

    /// `text` as a little-endian word (at most eight bytes).
    static func word(_ text: StaticString) -> UInt64 {
        UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
            .littleEndianWord(at: 0, length: text.utf8CodeUnitCount)
    }

    @inline(__always) private func byte(_ i: Int) -> UInt8 { raw.load(fromByteOffset: i, as: UInt8.self) }

    /// Steps over `text` (given also as `word` of `length` bytes, at most
    /// 8, which is what is compared) when the line continues with it.
    @inline(__always) mutating func skip(_ text: StaticString, _ word: UInt64, _ length: Int) -> Bool {
        assert(Self.word(text) == word && text.utf8CodeUnitCount == length, "\(text) is not spelled by its word")
        guard at + length <= count, bytes.littleEndianWord(at: at, length: length) == word else { return false }
        at += length
        return true
    }

    /// The line.
    @inline(__always) private var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: raw.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// The end of the token at the cursor: the next space, tab or the line's end.
    @inline(__always) private func tokenEnd() -> Int { bytes.endOfToken(from: at) }

    /// 1 to 16 hexadecimal digits (the `0x` already skipped).
    @inline(__always) mutating func hex() -> UInt64? {
        // Sixteen bytes at once where the line has them: the digits run to
        // the first byte that is not one, which must end the token.
        if at + 16 < count {
            let first = WordScan.load(raw, at), second = WordScan.load(raw, at + 8)
            let digits = WordScan.unflaggedCount(WordScan.nonHexDigits(first), WordScan.nonHexDigits(second))
            if digits >= 1 && digits <= 16 && byte(at + digits) == ASCII.space {
                let all = WordScan.hexNibbles(first) << 32 | WordScan.hexNibbles(second)
                at += digits
                return all >> UInt64(64 - 4 * digits)
            }
        }
        return hexByToken()
    }

    /// ``hex()`` by finding the token's end first: near the line's end, and
    /// for whatever the word-wide reading does not take.
    private mutating func hexByToken() -> UInt64? {
        let end = tokenEnd()
        let digits = end - at
        guard digits >= 1 && digits <= 16 else { return nil }
        // Eight digits per word where the `0x` and earlier bytes allow a
        // whole word: parseLongHex wants its buffer to start at `0x`.
        let token = UnsafeBufferPointer(rebasing: bytes[at - 2..<end])
        // Few numbers are that short: the general parser's function.
        guard let v = digits >= 6 ? token.parseLongHex() : try? token.parseUnsigned() else { return nil }
        at = end
        return v
    }

    /// A barrier kind's name, up to the next blank or the line's end.
    @inline(__always) mutating func fenceKind() -> FenceKind? {
        let end = tokenEnd()
        guard end - at >= 1 && end - at <= 8 else { return nil }
        let word = bytes.littleEndianWord(at: at, length: end - at)
        for known in Self.fenceWords where known.word == word && known.length == end - at {
            at = end
            return known.kind
        }
        return nil
    }

    /// 1 to `maxDigits` (at most 19) decimal digits.
    @inline(__always) mutating func decimal(maxDigits: Int) -> UInt64? {
        // As ``hex()``: up to fifteen digits at once where the line has
        // sixteen bytes left.
        if at + 16 < count {
            let first = WordScan.load(raw, at), second = WordScan.load(raw, at + 8)
            let digits = WordScan.unflaggedCount(WordScan.nonDecimalDigits(first), WordScan.nonDecimalDigits(second))
            if digits >= 1 && digits <= maxDigits && digits < 16 && byte(at + digits) == ASCII.space {
                at += digits
                if digits <= 8 { return WordScan.decimal(first, count: digits) }
                return WordScan.decimal(first, count: 8) &* WordScan.powerOf10(digits - 8)
                    &+ WordScan.decimal(second, count: digits - 8)
            }
        }
        return decimalByByte(maxDigits: maxDigits)
    }

    /// ``decimal(maxDigits:)`` a byte at a time.
    private mutating func decimalByByte(maxDigits: Int) -> UInt64? {
        var v: UInt64 = 0
        var i = at
        while i < count {
            let b = byte(i)
            guard ASCII.isDigit(b) else { break }
            v = v &* 10 &+ UInt64(b &- ASCII.zero)
            i += 1
        }
        guard i > at, i - at <= maxDigits, i == count || byte(i) == ASCII.space else { return nil }
        at = i
        return v
    }

    /// A name of printable ASCII, up to the next space or the line's end.
    @inline(__always) mutating func name() -> Range<Int>? {
        // A word at a time, finding the name's end and checking its bytes in
        // one pass: the first byte that is a blank or not printable ASCII
        // (each mask exact for its lowest byte, and so their union) ends the
        // name if it is a blank or the line's end, and spoils it otherwise.
        guard count >= 8 else { return nameByByte() }
        var i = at
        while i < count {
            let w = i + 8 <= count ? WordScan.load(raw, i)
                : WordScan.load(raw, count - 8) >> UInt64((i - (count - 8)) * 8)  // zeros above the line's end
            let stops = WordScan.blanks(w) | w & WordScan.highs
                | WordScan.bytes(w, below: 0x20) | WordScan.bytes(w, equalTo: 0x7f)
            if stops != 0 {
                let stop = i + stops.trailingZeroBitCount >> 3
                if stop < count && !ASCII.isBlank(byte(stop)) { return nil }
                let end = min(stop, count)
                guard end > at else { return nil }
                defer { at = end }
                return at..<end
            }
            i += 8
        }
        guard count > at else { return nil }
        defer { at = count }
        return at..<count
    }

    /// ``name()`` a byte at a time, for lines shorter than a word.
    private mutating func nameByByte() -> Range<Int>? {
        let end = tokenEnd()
        guard end > at else { return nil }
        var i = at
        while i + 8 <= end {
            let w = WordScan.load(raw, i)
            guard w & WordScan.highs == 0,
                  WordScan.bytes(w, below: 0x20) | WordScan.bytes(w, equalTo: 0x7f) == 0 else { return nil }
            i += 8
        }
        while i < end {
            let b = byte(i)
            guard b >= 0x20 && b < 0x7f else { return nil }
            i += 1
        }
        defer { at = end }
        return at..<end
    }
}

/// The names of 1 to 24 bytes that canonical stores named lately, by their
/// bytes: a trace repeats a handful of `at=` sites and units, and finding one
/// here (three words compared) costs a fifth of hashing it and looking it up
/// in the symbol table. A symbol never changes once made, so an entry stays
/// right for as long as the table lives.
struct RecentNames {
    private struct Slot {
        var count = 0
        var symbol = Symbol.defaultUnit
        var first: UInt64 = 0
        var middle: UInt64 = 0
        var last: UInt64 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 64)

    /// A name's slot and the words that identify it.
    private struct Key {
        var index: Int
        var count: Int
        var first: UInt64
        var middle: UInt64
        var last: UInt64
    }

    /// The key of `line[name]`, or nil when the name is not 1 to 24 bytes
    /// or the line holds fewer than eight bytes up to its end.
    @inline(__always) private static func key(_ line: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Key? {
        let n = name.count
        guard n >= 1 && n <= 24, name.upperBound >= 8, let base = line.baseAddress else { return nil }
        // The first, middle and last eight bytes cover every byte of a name
        // of 8 to 24: equal words and length are equal names. A shorter
        // name is the top of the word that ends it (the line holds eight
        // bytes before its end), the bytes before it shifted out.
        let raw = UnsafeRawPointer(base)
        let ending = WordScan.load(raw, name.upperBound - 8)
        let last = n >= 8 ? ending : ending >> UInt64((8 - n) * 8)
        let first = n >= 8 ? WordScan.load(raw, name.lowerBound) : last
        let middle = n > 16 ? WordScan.load(raw, name.lowerBound + 8) : 0
        let mixed = (first ^ (last &* 0x9e37_79b9_7f4a_7c15)) ^ UInt64(n)
        let i = Int(truncatingIfNeeded: (mixed &* 0xff51_afd7_ed55_8ccd) >> 58)
        return Key(index: i, count: n, first: first, middle: middle, last: last)
    }

    @inline(__always) private func symbol(at key: Key) -> Symbol? {
        let slot = slots[key.index]
        guard slot.count == key.count && slot.first == key.first && slot.last == key.last && slot.middle == key.middle
        else { return nil }
        return slot.symbol
    }

    /// The symbol of `line[name]` when it is a name interned here lately,
    /// else nil. A hit needs no check of the bytes: they equal those of a
    /// name that passed ``CanonicalCursor/name()`` (printable, no blank).
    @inline(__always) func cached(_ line: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Symbol? {
        guard let key = Self.key(line, name) else { return nil }
        return symbol(at: key)
    }

    /// The symbol of `line[name]`, interned in `symbols` if it is new (the
    /// caller has checked that the table has room).
    @inline(__always) mutating func intern(_ line: UnsafeBufferPointer<UInt8>, _ name: Range<Int>,
                                           into symbols: inout SymbolTable) -> Symbol {
        guard let key = Self.key(line, name) else {
            return symbols.intern(bytes: UnsafeBufferPointer(rebasing: line[name]))
        }
        if let symbol = symbol(at: key) { return symbol }
        let symbol = symbols.intern(bytes: UnsafeBufferPointer(rebasing: line[name]))
        slots[key.index] = Slot(count: key.count, symbol: symbol, first: key.first, middle: key.middle, last: key.last)
        return symbol
    }
}
