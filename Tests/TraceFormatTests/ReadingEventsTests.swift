import Testing
@testable import TraceFormat

/// Reads a trace given as text and returns its events and symbol table.
func read(_ text: String) throws -> (events: [TraceEvent], symbols: SymbolTable) {
    let reader = try TraceReader(text: text, name: "t.trace")
    let events = try reader.readAll()
    return (events, reader.symbols)
}

@Suite("Reading the text format")
struct ReadingEventsTests {
    @Test func aStoreCarriesAddressSizeValueAndSite() throws {
        let (events, symbols) = try read("store addr=0x10040 size=8 value=0xb00049 cpu=1 at=pasid.c:412\n")
        #expect(events.count == 1)
        #expect(events[0].payload == .store(MemoryWrite(addr: 0x10040, size: 8, value: 0xb00049)))
        #expect(events[0].cpu == 1)
        #expect(events[0].site.map { symbols[$0] } == "pasid.c:412")
        #expect(events[0].line == 1)
    }

    @Test func markTextRunsToTheEndOfTheLine() throws {
        let (events, symbols) = try read("mark text=phase one t=5\n")
        guard case .mark(let text) = events[0].payload else { Issue.record("not a mark"); return }
        #expect(symbols[text] == "phase one t=5")
        #expect(events[0].time == nil)
    }
}
