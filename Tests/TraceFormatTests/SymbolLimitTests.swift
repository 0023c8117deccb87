import Testing
@testable import TraceFormat

/// `mark` lines whose distinct texts, with `iommu0`, hold exactly
/// `TraceLimits.maxSymbolBytes` bytes: 16000-byte texts, then one shorter.
func marksFillingTheSymbolBytes() -> (text: String, lines: UInt64) {
    var room = TraceLimits.maxSymbolBytes - "iommu0".utf8.count
    var text = ""
    var lines: UInt64 = 0
    while room > 0 {
        let length = min(room, 16_000)
        let label = String(lines)
        text += "mark text=" + label + String(repeating: "x", count: length - label.count) + "\n"
        room -= length
        lines += 1
    }
    return (text, lines)
}

@Suite("The distinct strings of one trace are bounded in bytes")
struct SymbolLimitTests {
    /// `wait` lines whose distinct sites, with `iommu0`, make exactly
    /// `TraceLimits.maxSymbols` strings.
    func waitsFillingTheSymbolCount() -> String {
        (1..<TraceLimits.maxSymbols).map { "wait at=s\($0)\n" }.joined()
    }

    @Test func distinctSitesThatFillTheCountExactlyRead() throws {
        let (events, symbols) = try read(waitsFillingTheSymbolCount())
        #expect(events.count == TraceLimits.maxSymbols - 1)
        #expect(symbols.count == TraceLimits.maxSymbols)
    }

    @Test func oneDistinctSitePastTheCountStopsAtItsValue() throws {
        let error = try #require(readError(waitsFillingTheSymbolCount() + "wait at=s1\nwait at=new\n"))
        #expect(error.line == UInt64(TraceLimits.maxSymbols) + 1)
        #expect(error.column == 9)
        #expect(error.message == "more than 131072 distinct names and sites in one trace")
        #expect(error.found == "at=new")
    }

    @Test func distinctTextsThatFillTheLimitExactlyRead() throws {
        let (text, lines) = marksFillingTheSymbolBytes()
        let (events, symbols) = try read(text)
        #expect(events.count == Int(lines))
        #expect(symbols.byteCount == TraceLimits.maxSymbolBytes)
    }

    @Test func oneNewStringPastTheLimitStopsAtItsValue() throws {
        let (text, lines) = marksFillingTheSymbolBytes()
        let error = try #require(readError(text + "wait\nmark text=" + String(repeating: "n", count: 40) + "\n"))
        #expect(error.line == lines + 2)
        #expect(error.column == 11)
        #expect(error.message == "more than 8388608 bytes of distinct names, sites and mark text in one trace")
        #expect(error.found == "text=" + String(repeating: "n", count: 32) + "...")
    }

    @Test func aSingleNewByteIsOneTooMany() throws {
        let (text, lines) = marksFillingTheSymbolBytes()
        let error = try #require(readError(text + "wait at=z\n"))
        #expect(error.location == .line(lines + 1, column: 9))
        #expect(error.found == "at=z")
    }

    @Test func aStringSeenBeforeStillReadsOnceTheTableIsFull() throws {
        let (text, _) = marksFillingTheSymbolBytes()
        let first = text.prefix { $0 != "\n" }
        let (events, _) = try read(text + first + "\nwait unit=iommu0\n")
        #expect(events.last?.kind == .wait)
    }

    @Test func aCanonicalStoreWithANewSiteIsStoppedToo() throws {
        // The store fast path declines, and the general parser reports.
        let (text, lines) = marksFillingTheSymbolBytes()
        let error = try #require(readError(text + "store addr=0x1000 size=8 value=0x1 at=f+0x1\n"))
        #expect(error.location == .line(lines + 1, column: 39))
        #expect(error.message == "more than 8388608 bytes of distinct names, sites and mark text in one trace")
        #expect(error.found == "at=f+0x1")
    }

    @Test func aQISubmitUnitPastTheLimitIsStoppedToo() throws {
        let (text, lines) = marksFillingTheSymbolBytes()
        let error = try #require(readError(text + "  a-1 [000] 1.0: qi_submit: iotlb_inv dmar0: 0xd2 0x0 0x0 0x0\n"))
        #expect(error.location == .line(lines + 1, column: 39))
        #expect(error.found == "dmar0")
    }

    @Test func aBinaryTracePastTheLimitStopsAtTheStringThatPassesIt() throws {
        var symbols = SymbolTable()
        var events: [TraceEvent] = []
        for i in 0..<525 {
            let text = symbols.intern(String(i) + String(repeating: "b", count: 16_000))
            events.append(TraceEvent(.mark(text), line: UInt64(i + 1)))
        }
        #expect(symbols.byteCount > TraceLimits.maxSymbolBytes)
        let error = try #require(readError(bytes: binaryBytes(events, symbols)))
        guard case .byteOffset = error.location else { Issue.record("\(error)"); return }
        #expect(error.message == "more than 8388608 bytes of distinct names, sites and mark text in one trace")
        #expect(error.found == "524" + String(repeating: "b", count: 29) + "...")
    }
}
