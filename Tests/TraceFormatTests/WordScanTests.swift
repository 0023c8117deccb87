import Testing
@testable import TraceFormat
import struct TraceGenerator.SplitMix64

/// The word-at-a-time scans and number parsing must agree with the plain
/// byte-at-a-time definitions on every input: random strings over the bytes
/// that matter (digits, letters on both sides of `a`...`f`, blanks, `=`,
/// control characters, bytes above 0x7f), at every length and offset.
@Suite struct WordScanTests {
    static let alphabet: [UInt8] = Array("0123456789abcdefABCDEFgG@`/:xX =\t".utf8) + [0x00, 0x01, 0x1f, 0x7f, 0x80, 0xc3, 0xff, 0x10, 0x19]

    static func randomBytes(_ rng: inout SplitMix64, count: Int, from alphabet: [UInt8] = alphabet) -> [UInt8] {
        (0..<count).map { _ in alphabet[rng.below(alphabet.count)] }
    }

    /// `parseUnsigned`'s hexadecimal result, by the definition.
    static func referenceHex(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count > 2, bytes[0] == 0x30, bytes[1] == 0x78 || bytes[1] == 0x58 else { return nil }
        let digits = bytes[2...].drop { $0 == 0x30 }
        guard digits.count <= 16 else { return nil }
        var v: UInt64 = 0
        for b in bytes[2...] {
            guard let d = ASCII.hexValue(b) else { return nil }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    @Test func hexNumbersParseAsDigitByDigit() {
        var rng = SplitMix64(seed: 1)
        let hexish = Array("0123456789abcdefABCDEFgG@`/:x".utf8) + [0x10, 0x19, 0x80]
        for _ in 0..<50_000 {
            let digits = 1 + rng.below(16)
            var bytes = Array("0x".utf8)
            // Mostly valid digits, now and then one that is not.
            bytes += rng.below(4) == 0 ? Self.randomBytes(&rng, count: digits, from: hexish)
                                       : Self.randomBytes(&rng, count: digits, from: Array("0123456789abcdefABCDEF".utf8))
            let parsed = bytes.withUnsafeBufferPointer { try? $0.parseUnsigned() }
            #expect(parsed == Self.referenceHex(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func eightDigitsAtOnceMatchTheirValue() {
        var rng = SplitMix64(seed: 2)
        for _ in 0..<20_000 {
            let value = UInt32(truncatingIfNeeded: rng.next())
            let text = String(value, radix: 16, uppercase: rng.below(2) == 0)
            let padded = String(repeating: "0", count: 8 - text.count) + text
            let word = Array(padded.utf8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64($1.offset * 8) }
            #expect(WordScan.hex8(word) == value)
        }
    }

    @Test func theFirstByteThatIsNoDigitIsFoundInAWord() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<50_000 {
            let bytes = Self.randomBytes(&rng, count: 8)
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64($1.offset * 8) }
            let firstNonHex = bytes.firstIndex { ASCII.hexValue($0) == nil } ?? 8
            let firstNonDecimal = bytes.firstIndex { !ASCII.isDigit($0) } ?? 8
            let hexStop = WordScan.nonHexDigits(word), decimalStop = WordScan.nonDecimalDigits(word)
            #expect((hexStop == 0 ? 8 : hexStop.trailingZeroBitCount >> 3) == firstNonHex, "\(bytes)")
            #expect((decimalStop == 0 ? 8 : decimalStop.trailingZeroBitCount >> 3) == firstNonDecimal, "\(bytes)")
        }
    }

    @Test func theFirstDigitsOfAWordReadAsTheirDecimalValue() {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<50_000 {
            let count = 1 + rng.below(8)
            // The digits, then anything: only the first `count` bytes count.
            let bytes = Self.randomBytes(&rng, count: count, from: Array("0123456789".utf8)) + Self.randomBytes(&rng, count: 8 - count)
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64($1.offset * 8) }
            let expected = bytes.prefix(count).reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
            #expect(WordScan.decimal(word, count: count) == expected, "\(bytes)")
        }
    }

    @Test func hexNibblesOfAWordAreItsDigitsFirstHighest() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let bytes = Self.randomBytes(&rng, count: 8, from: Array("0123456789abcdefABCDEF".utf8))
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64($1.offset * 8) }
            let expected = bytes.reduce(UInt64(0)) { $0 << 4 | UInt64(ASCII.hexValue($1)!) }
            #expect(WordScan.hexNibbles(word) == expected)
        }
    }

    @Test func powersOf10UpToEleven() {
        for n in 0...11 { #expect(WordScan.powerOf10(n) == (0..<n).reduce(UInt64(1)) { p, _ in p * 10 }) }
    }

    @Test func tokenAndKeyEndsAreTheFirstBlankOrEquals() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20_000 {
            let bytes = Self.randomBytes(&rng, count: rng.below(40), from: Array("abc=  \t01".utf8) + Array(repeating: 0x61, count: 20))
            let from = bytes.isEmpty ? 0 : rng.below(bytes.count + 1)
            let token = bytes[from...].firstIndex { $0 == 0x20 || $0 == 0x09 } ?? bytes.count
            let key = bytes[from...].firstIndex { $0 == 0x20 || $0 == 0x09 || $0 == 0x3d } ?? bytes.count
            bytes.withUnsafeBufferPointer { buffer in
                #expect(buffer.endOfToken(from: from) == token)
                #expect(buffer.endOfKey(from: from) == key)
            }
        }
    }

    @Test func controlCharactersAreFoundWhereverTheyAre() {
        var rng = SplitMix64(seed: 4)
        for _ in 0..<20_000 {
            let bytes = Self.randomBytes(&rng, count: rng.below(40), from: Array("abcdefgh_+.".utf8) + [0x09, 0x01, 0x1f, 0x7f, 0x20, 0xc3])
            let expected = bytes.firstIndex { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f }
            #expect(bytes.withUnsafeBufferPointer { $0.firstControlCharacter() } == expected)
        }
    }
}

extension WordScanTests {
    @Test func everyKeyIsFoundByItsNameAndOnlyByIt() {
        for key in EventKey.allCases {
            let name = Array(UnsafeBufferPointer(start: key.name.utf8Start, count: key.name.utf8CodeUnitCount))
            // At the end of a line and in the middle of one (the word is
            // then loaded whole and masked).
            for line in [name, name + Array("=1 t=2".utf8)] {
                line.withUnsafeBufferPointer { #expect(EventKey.lookup(in: $0, from: 0, to: name.count) == key) }
            }
            for other in [name.dropLast() + [], name + [0x73], name + [0x00], [0x00] + name] where !other.isEmpty {
                let bytes = Array(other) + Array("=1".utf8)
                bytes.withUnsafeBufferPointer {
                    let found = EventKey.lookup(in: $0, from: 0, to: other.count)
                    #expect(found == nil || found?.name.utf8CodeUnitCount == other.count, "\(other)")
                }
            }
        }
    }
}
