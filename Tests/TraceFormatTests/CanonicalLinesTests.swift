import Testing
@testable import TraceFormat
import TraceGenerator

/// The fast paths for canonical `store` and `fence` lines must read every
/// line exactly as the general parser does: the same events, the same
/// names, the same error. These tests read each input both ways and compare.
@Suite struct CanonicalLinesTests {
    /// What reading `text` gives: the events and names, or the error.
    struct Outcome: Equatable {
        var events: [TraceEvent] = []
        var names: [String] = []
        var error: TraceError?
    }

    static func readBytes(_ bytes: [UInt8], fastPath: Bool) -> Outcome {
        var outcome = Outcome()
        do {
            let reader = try TraceReader(bytes: bytes, name: "t.trace")
            reader.canonicalFastPath = fastPath
            while let event = try reader.next() { outcome.events.append(event) }
            outcome.names = reader.symbols.allStrings
        } catch {
            outcome.error = error
        }
        return outcome
    }

    static func read(_ text: String, fastPath: Bool) -> Outcome { readBytes(Array(text.utf8), fastPath: fastPath) }

    static func expectSameBothWays(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = read(text, fastPath: true)
        let general = read(text, fastPath: false)
        #expect(fast == general, "\(text.debugDescription)", sourceLocation: sourceLocation)
    }

    @Test func sitesThatDifferInOneByteAreDifferentNames() {
        // Names of 1 to 24 bytes are remembered by their first, middle and
        // last words: a change of any one byte, at any length, is another name.
        var text = "hitless-trace 1\n"
        for length in 1...26 {
            let base = Array(repeating: UInt8(ascii: "s"), count: length)
            for position in 0..<length {
                var site = base
                site[position] = UInt8(ascii: "t")
                for name in [base, site, base] {
                    text += "store addr=0x10 size=8 value=0x1 at=\(String(decoding: name, as: UTF8.self))\n"
                    text += "store addr=0x18 size=8 value=0x1 unit=\(String(decoding: name, as: UTF8.self))\n"
                }
            }
        }
        Self.expectSameBothWays(text)
        let outcome = Self.read(text, fastPath: true)
        let sites = outcome.events.compactMap(\.site)
        #expect(Set(sites).count == Set(outcome.names).count - 1, "every distinct site has its own symbol")
    }

    @Test func aSiteMetBeforeReadsTheSameWhateverFollowsIt() {
        // A site met lately that runs to the line's end is taken from the
        // recent names without reading its bytes; anything after it, or a
        // site that only starts or ends like it, must still read as the
        // general parser reads it.
        let store = "store addr=0x10 size=8 value=0x1 t=5 cpu=1"
        for site in ["f", "kmem_cache_free+0x15a", "a_site_of_24_bytes_long!"] {
            for variant in [site, site + " ", site + "\t", site + "\u{7f}", site + "x", String(site.dropLast()),
                            "x" + site, site + "\r", site + " unit=dmar0"] {
                Self.expectSameBothWays("hitless-trace 1\n\(store) at=\(site)\n\(store) at=\(variant)\n\(store) at=\(site)\n")
            }
            // A unit of the same name is the same name.
            Self.expectSameBothWays("hitless-trace 1\n\(store) unit=\(site) at=x\n\(store) at=\(site)\n")
        }
    }

    @Test func namesWithAByteThatIsNotPrintableReadTheSameBothWays() {
        // At every length and position, at the line's end and before another key.
        for length in 1...20 {
            for position in 0..<length {
                for bad: UInt8 in [0x01, 0x09, 0x20, 0x7f, 0x80, 0xc3] {
                    var name = Array(repeating: UInt8(ascii: "n"), count: length)
                    name[position] = bad
                    let head = Array("hitless-trace 1\nstore addr=0x10 size=8 value=0x1 ".utf8)
                    for line in [head + Array("at=".utf8) + name, head + Array("unit=".utf8) + name + Array(" at=x".utf8)] {
                        let bytes = line + [0x0a]
                        #expect(Self.readBytes(bytes, fastPath: true) == Self.readBytes(bytes, fastPath: false),
                                "\(length) \(position) \(bad)")
                    }
                }
            }
        }
    }

    @Test func aCanonicalStoreReadsAsTheGeneralParserReadsIt() {
        let text = "hitless-trace 1\nstore addr=0x1000 size=8 value=0xdeadbeef00000001 t=10 cpu=3 unit=dmar0 at=f+0x1\n"
        Self.expectSameBothWays(text)
        let event = Self.read(text, fastPath: true).events.first
        #expect(event?.payload == .store(MemoryWrite(addr: 0x1000, size: 8, value: 0xdead_beef_0000_0001)))
        #expect(event?.time == 10)
        #expect(event?.cpu == 3)
    }

    @Test func everyOptionalKeyMayBeLeftOut() {
        for tail in ["", " t=1", " cpu=2", " unit=u", " at=s", " t=1 at=s", " cpu=0 unit=u"] {
            Self.expectSameBothWays("hitless-trace 1\nstore addr=0x40 size=4 value=0x1\(tail)\n")
        }
    }

    @Test func numbersOfEveryLengthAndCase() {
        for digits in 1...16 {
            let hex = String(repeating: "f", count: digits - 1) + "A"
            Self.expectSameBothWays("hitless-trace 1\nstore addr=0x\(hex) size=8 value=0x\(hex) t=\(String(repeating: "9", count: min(digits, 19)))\n")
        }
    }

    @Test func numbersOfEveryLengthFollowedByMoreOfTheLine() {
        // Sixteen bytes or more after a number: read a word at a time.
        let tail = " cpu=12 unit=dmar0 at=intel_pasid_setup_first_level+0x1c4"
        for digits in 1...17 {
            let hex = String(repeating: "e", count: digits - 1) + "F"
            let decimal = String(repeating: "9", count: digits)
            Self.expectSameBothWays("hitless-trace 1\nstore addr=0x\(hex) size=8 value=0x\(hex) t=\(decimal)\(tail)\n")
            Self.expectSameBothWays("hitless-trace 1\nstore addr=0x\(hex)\t size=8 value=0x0\(hex) t=0\(decimal)\(tail)\n")
        }
    }

    @Test func everyBarrierKindReadsAsTheGeneralParserReadsIt() {
        for kind in FenceKind.allCases {
            for tail in ["", " t=7", " t=7 cpu=3", " cpu=1 unit=dmar0 at=intel_pasid_setup_first_level+0x1c4", " at=f"] {
                Self.expectSameBothWays("hitless-trace 1\nfence kind=\(kind.name)\(tail)\n")
            }
        }
        let fast = Self.read("hitless-trace 1\nfence kind=dma_wmb t=5 cpu=2\n", fastPath: true)
        #expect(fast.events.map(\.payload) == [.fence(.dmaWMB)])
    }

    @Test func fenceLinesTheFastPathDoesNotTakeReadTheSameBothWays() {
        let lines = [
            "fence kind=mb\u{0}",  // a name with a NUL after it
            "fence kind=smp_wmbx",  // a longer word
            "fence kind=wm",  // a shorter one
            "fence kind=barriers t=1",  // more than eight bytes
            "fence kind= t=1",  // empty
            "fence t=1 kind=mb",  // key order
            "fence kind=mb\tt=1",  // tab
            "fence kind=MB",  // case
            "fence kind=mb t=1 t=2",  // twice
            "fence kind=mb addr=0x10",  // a key fences do not take
        ]
        for line in lines { Self.expectSameBothWays("hitless-trace 1\n" + line + "\n") }
    }

    @Test func badLinesFailWithTheGeneralParsersError() {
        let bad = [
            "store addr=0x10 size=3 value=0x1",  // size
            "store addr=0x10 size=1 value=0x100",  // value too wide for size
            "store addr=0xffffffffffffffff size=2 value=0x1",  // past the address space
            "store addr=0x1g size=8 value=0x1",  // not hex
            "store addr=0x10 size=8 value=0x1 t=5\nstore addr=0x10 size=8 value=0x1 t=4",  // time backwards
            "store addr=0x10 size=8 value=0x1 cpu=4294967296",  // cpu too wide
            "store addr=0x10 size=8 value=0x1 at=a\u{7f}b",  // control character
            "store addr=0x10 size=8 value=0x1 at=",  // no value
            "store addr=0x10 size=8 value=0x1 t=1 t=2",  // twice
            "store addr=0x10 size=8 value=0x1 bogus=1",  // unknown key
        ]
        for line in bad {
            let text = "hitless-trace 1\n" + line + "\n"
            #expect(Self.read(text, fastPath: false).error != nil, "\(line)")
            Self.expectSameBothWays(text)
        }
    }

    @Test func otherSpellingsOfAStoreTakeTheGeneralParser() {
        let other = [
            "store size=8 addr=0x10 value=0x1",  // key order
            "store  addr=0x10 size=8 value=0x1",  // two spaces
            "store\taddr=0x10 size=8 value=0x1",  // tab
            "store addr=0x10 size=8 value=0x1 ",  // trailing blank
            "store addr=16 size=8 value=1",  // decimal
            "store addr=0X10 size=8 value=0x1",  // upper-case X
            "store addr=0x10 size=16 value=0x112233445566778899aabbccddeeff00",  // 128 bits
            "store addr=0x10 size=8 value=0x1 at=café",  // UTF-8 site
            "store addr=0x0000000000000000010 size=8 value=0x1",  // 17 digits
        ]
        for line in other { Self.expectSameBothWays("hitless-trace 1\n" + line + "\n") }
    }

    /// Canonical lines from the generator, each damaged at random: a byte
    /// replaced, removed or doubled, or a piece moved.
    @Test func damagedCanonicalLinesReadTheSameBothWays() {
        let trace = TraceGenerator.text(GeneratorOptions(events: 3000, seed: 7)).0
        let lines = trace.split(separator: "\n")
        let stores = lines.filter { $0.hasPrefix("store ") }.map { Array($0.utf8) }
            + lines.filter { $0.hasPrefix("fence ") }.map { Array($0.utf8) }.prefix(500)
        #expect(stores.count > 1500)
        let alphabet = Array(" \t=x0X9afgAF-.:_+\u{01}\u{7f}".utf8) + [0xc3, 0xa9, 0xff]
        var rng = SplitMix64(seed: 2026)
        for round in 0..<4000 {
            var line = stores[rng.below(stores.count)]
            for _ in 0..<(1 + rng.below(2)) {
                let at = rng.below(line.count)
                switch rng.below(4) {
                case 0: line[at] = alphabet[rng.below(alphabet.count)]
                case 1: line.remove(at: at)
                case 2: line.insert(line[at], at: at)
                default:
                    let to = rng.below(line.count)
                    let byte = line.remove(at: at)
                    line.insert(byte, at: min(to, line.count))
                }
            }
            let earlier = "store addr=0x8 size=8 value=0x0 t=\(rng.below(2) == 0 ? 1 : 2_000_000_000_000)\n"
            let text = "hitless-trace 1\n" + earlier + String(decoding: line, as: UTF8.self) + "\n"
            if round % 2 == 0 {
                Self.expectSameBothWays(text)
            } else {
                // Raw bytes too (not every damaged line is UTF-8).
                let bytes = Array("hitless-trace 1\n".utf8) + line + [0x0a]
                #expect(Self.readBytes(bytes, fastPath: true) == Self.readBytes(bytes, fastPath: false))
            }
        }
    }

    @Test func aWholeGeneratedTraceReadsTheSameBothWays() {
        let trace = TraceGenerator.text(GeneratorOptions(events: 5000, seed: 11, buggyRate: 0.1)).0
        let fast = Self.read(trace, fastPath: true)
        #expect(fast.error == nil)
        #expect(fast == Self.read(trace, fastPath: false))
    }
}

extension CanonicalLinesTests {
    @Test func theFixedTextsAreSpelledAsTheirWords() {
        #expect(CanonicalCursor.word(" addr=0x") == CanonicalCursor.addrWord)
        #expect(CanonicalCursor.word(" size=") == CanonicalCursor.sizeWord)
        #expect(CanonicalCursor.word(" value=0") == CanonicalCursor.valueWord)
        #expect(CanonicalCursor.word(" t=") == CanonicalCursor.tWord)
        #expect(CanonicalCursor.word(" cpu=") == CanonicalCursor.cpuWord)
        #expect(CanonicalCursor.word(" unit=") == CanonicalCursor.unitWord)
        #expect(CanonicalCursor.word(" at=") == CanonicalCursor.atWord)
        #expect(CanonicalCursor.word(" kind=") == CanonicalCursor.kindWord)
        #expect(CanonicalCursor.word("store ") == LineParser.storeWord)
        #expect(CanonicalCursor.word("fence ") == LineParser.fenceWord)
    }
}
