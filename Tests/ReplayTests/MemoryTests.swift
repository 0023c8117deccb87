import Testing
import TraceFormat
@testable import Replay

/// Every step of a replay of `text` on dmar0.
func steps(_ text: String, coherent: Bool = true) throws -> (Replayer, [ReplayStep]) {
    let reader = try TraceReader(text: "iommu id=dmar0 coherent=\(coherent ? 1 : 0)\n" + onDmar0(text))
    var r = Replayer()
    var all: [ReplayStep] = []
    while let e = try reader.next() { all.append(try r.apply(e, symbols: reader.symbols)) }
    return (r, all)
}

@Suite("Stores, init and flushes")
struct MemoryTests {
    @Test func aStoreStraddlingTwoEntriesIsAttributedToBoth() throws {
        // 8 bytes at 0x417c: the last 4 bytes of PASID 5, the first 4 of PASID 6.
        let (r, all) = try steps([SM.linkedTopDown, "store addr=0x417c size=8 value=0x1111111122222222"]
            .joined(separator: "\n"))
        let touches = try #require(all.last?.touches)
        #expect(touches.map { r.entries[$0.entry].identity.description } == ["dmar0 pasid 00:02.0/5", "dmar0 pasid 00:02.0/6"])
        #expect(touches.map(\.bytes) == [60..<64, 0..<4])
        #expect(touches[0].after[7] == 0x2222_2222_0000_0000)
        #expect(touches[1].after[0] == 0x1111_1111)
    }

    @Test func aStoreReportsTheEntryBeforeAndAfter() throws {
        let (_, all) = try steps([SM.linkedTopDown, SM.pasid5, "store addr=0x4140 size=8 value=0xa088"].joined(separator: "\n"))
        let touch = try #require(all.last?.touches.first)
        #expect(touch.before == EntryValue(words: [0xa089]))
        #expect(touch.after == EntryValue(words: [0xa088]))
        #expect(touch.device == touch.after)
        #expect(touch.bytes == 0..<8)
    }

    @Test func initExposesNothingButIsTheEntryValue() throws {
        let (r, all) = try steps([SM.linkedTopDown, "init addr=0x4140 size=16 value=0x5000000000000a089"]
            .joined(separator: "\n"))
        #expect(all.last?.touches.isEmpty == true)
        #expect(!touched(r).contains("dmar0 pasid 00:02.0/5"))
        let visible = r.visibleEntries().first { $0.identity.kind == .pasid }
        #expect(visible?.value == EntryValue(words: [0xa089, 5]))
    }

    @Test func initOfAPointerLinksTheTableItPointsTo() throws {
        let (_, all) = try steps([SM.root, "init addr=0x1000 size=8 value=0x2001", SM.context].joined(separator: "\n"))
        #expect(all.last?.touches.count == 1)
    }

    @Test func aStoreToMemoryNoTableUsesTouchesNothing() throws {
        let (r, all) = try steps([SM.linkedTopDown, "store addr=0x123456 size=8 value=0x1"].joined(separator: "\n"))
        #expect(all.last?.touches.isEmpty == true)
        #expect(r.memory.read(addr: 0x123456, size: 8) == 1)
    }

    @Test func aFlushOnACoherentUnitTouchesTheEntriesOfItsLine() throws {
        let (r, all) = try steps([SM.linkedTopDown, SM.pasid5, "flush addr=0x4148 size=8"].joined(separator: "\n"))
        let touch = try #require(all.last?.touches.first)
        #expect(r.entries[touch.entry].identity.description == "dmar0 pasid 00:02.0/5")
        #expect(touch.bytes == 0..<64)
    }
}

@Suite("Non-coherent units")
struct NonCoherentTests {
    @Test func theDeviceSeesAStoreOnlyAfterTheFlushOfItsLine() throws {
        let (r, all) = try steps([SM.linkedTopDown, "flush addr=0x1000", "flush addr=0x2200", "flush addr=0x3000",
                                  SM.pasid5, "flush addr=0x4150"].joined(separator: "\n"), coherent: false)
        let store = try #require(all[all.count - 2].touches.first)
        #expect(store.after == EntryValue(words: [0xa089]))
        #expect(store.device.isZero)
        let flush = try #require(all.last?.touches.first)
        #expect(flush.device == EntryValue(words: [0xa089]))
        let i = try #require(r.entry(identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/5")!))
        #expect(r.deviceValue(of: i) == r.cpuValue(of: i))
    }

    @Test func aFlushOfAnotherLineLeavesTheEntryUnseen() throws {
        let (r, _) = try steps([SM.linkedTopDown, "flush addr=0x1000", "flush addr=0x2200", "flush addr=0x3000",
                                SM.pasid5, "flush addr=0x4180"].joined(separator: "\n"), coherent: false)
        let i = try #require(r.entry(identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/5")!))
        #expect(r.deviceValue(of: i).isZero)
        #expect(r.cpuValue(of: i) == EntryValue(words: [0xa089]))
    }

    @Test func anUnflushedPointerLinksNothing() throws {
        let (_, all) = try steps([SM.root, SM.rootLower, SM.context].joined(separator: "\n"), coherent: false)
        #expect(all.last?.touches.isEmpty == true)
    }

    @Test func flushingAPointerLinksItsTable() throws {
        let (r, all) = try steps([SM.root, SM.rootLower, "flush addr=0x1000", SM.context].joined(separator: "\n"),
                                 coherent: false)
        #expect(all.last?.touches.map { r.entries[$0.entry].identity.description } == ["dmar0 sm-context 00:02.0"])
    }

    @Test func aFlushOfAStoreThatClearedAPointerUnlinks() throws {
        let (_, all) = try steps([SM.root, SM.rootLower, "flush addr=0x1000", "store addr=0x1000 size=8 value=0x0",
                                  SM.context, "flush addr=0x1000", SM.context].joined(separator: "\n"), coherent: false)
        #expect(all[all.count - 3].touches.count == 1)  // still linked until the flush
        #expect(all.last?.touches.isEmpty == true)
    }
}

@Suite("Recorded fetches")
struct FetchTests {
    @Test func aFetchThatDisagreesWithMemoryIsADiagnosticNamingBothValues() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "fetch addr=0x4140 size=8 value=0xa088"]
            .joined(separator: "\n"))
        #expect(r.diagnostics.count == 1)
        let message = try #require(r.diagnostics.first?.message)
        #expect(message.contains("0xa088") && message.contains("0xa089"))
        #expect(r.diagnostics.first?.event == 7)
    }

    @Test func aFetchThatAgreesIsNoDiagnostic() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, SM.pasid5DID,
                                   "fetch addr=0x4140 size=16 value=0x5000000000000a089"].joined(separator: "\n"))
        #expect(r.diagnostics.isEmpty)
    }

    @Test func aFetchOnANonCoherentUnitReadsWhatWasFlushed() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "fetch addr=0x4140 size=8 value=0x0",
                                   "flush addr=0x4140", "fetch addr=0x4140 size=8 value=0xa089"].joined(separator: "\n"),
                                  coherent: false)
        #expect(r.diagnostics.isEmpty)
    }

    @Test func aFetchTouchesTheEntriesItReads() throws {
        let (r, all) = try steps([SM.linkedTopDown, "fetch addr=0x4140 size=16"].joined(separator: "\n"))
        #expect(all.last?.touches.map { r.entries[$0.entry].identity.description } == ["dmar0 pasid 00:02.0/5"])
        #expect(all.last?.touches.first?.bytes == 0..<16)
    }
}

@Suite("Page maps and sparse memory")
struct PageMapTests {
    @Test func aPageMapAgreesWithADictionaryUnderInsertsAndRemoves() {
        var map = PageMap()
        var reference: [UInt64: Int] = [:]
        var state: UInt64 = 12345
        for step in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let key = (state >> 33) % 3000
            if state & 3 == 0 {
                map.remove(key)
                reference[key] = nil
            } else {
                map.set(key, step)
                reference[key] = step
            }
        }
        #expect(map.count == reference.count)
        for key in 0..<3000 as Range<UInt64> { #expect(map.get(key) == reference[key]) }
    }

    @Test func memoryCopiesWholeRangesAcrossPages() {
        var a = SparseMemory()
        a.write(addr: 0x1ff8, size: 16, value: 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10)
        var b = SparseMemory()
        b.write(addr: 0x5000, size: 8, value: 0xff)
        b.copy(from: a, addr: 0x1000, size: 0x2000)
        b.copy(from: a, addr: 0x5000, size: 8)  // a has no such page: zeroes
        #expect(b.read(addr: 0x1ff8, size: 16) == 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10)
        #expect(b.read(addr: 0x5000, size: 8) == 0)
        #expect(b.pageCount == 3)
    }

    @Test func aPageInAFrameHoldingATableSaysSoWhetherMadeBeforeOrAfter() {
        var m = SparseMemory()
        m.write(addr: 0x5100, size: 8, value: 1)  // made before the frame holds a table
        m.setHoldsTable(frame: 0x5, true)
        #expect(m.page(holding: 0x5100).onTable)
        #expect(m.page(holding: 0x5f00).onTable)  // made after
        #expect(!m.page(holding: 0x6000).onTable)
        #expect(m.read(addr: 0x5100, size: 8) == 1)
    }

    @Test func aPageLeavesTheTableWhenItsFrameNoLongerHoldsOne() {
        var m = SparseMemory()
        m.setHoldsTable(frame: 0x5, true)
        #expect(m.page(holding: 0x5100).onTable)
        // The page just looked up is remembered; what is remembered changes too.
        m.setHoldsTable(frame: 0x5, false)
        #expect(!m.page(holding: 0x5100).onTable)
        #expect(!m.page(holding: 0x5200).onTable)
    }

    @Test func aCopyOfMemoryIsIndependent() {
        // The pages are kept out of line and shared by copies until one
        // writes: each write lands in its own copy only.
        var a = SparseMemory()
        a.write(addr: 0x1000, size: 8, value: 1)
        var b = a
        b.write(addr: 0x1000, size: 8, value: 2)
        b.write(addr: 0x9000, size: 8, value: 3)
        a.write(addr: 0x1008, size: 8, value: 4)
        #expect(a.read(addr: 0x1000, size: 8) == 1 && b.read(addr: 0x1000, size: 8) == 2)
        #expect(a.read(addr: 0x1008, size: 8) == 4 && b.read(addr: 0x1008, size: 8) == 0)
        #expect(!a.hasPage(0x9000) && a.pageCount == 1 && b.pageCount == 2)
        var c = b
        c.setHoldsTable(frame: 0x9, true)
        #expect(c.page(holding: 0x9000).onTable && !b.page(holding: 0x9000).onTable)
        c.mark(page: c.page(holding: 0x9000).base)
        #expect(c.page(holding: 0x9000).marked && !b.page(holding: 0x9000).marked)
    }

    @Test func unalignedAndOddSizedWritesReadBack() {
        var m = SparseMemory()
        m.write(addr: 0x2ffd, size: 8, value: 0x1122_3344_5566_7788)
        m.write(addr: 0x10, size: 2, value: 0xbeef)
        #expect(m.read(addr: 0x2ffd, size: 8) == 0x1122_3344_5566_7788)
        #expect(m.entry(addr: 0x2ff8, size: 16)[1] == 0x11_2233_4455)
        #expect(m.read(addr: 0x10, size: 2) == 0xbeef)
    }
}
