import Checks
import Foundation
import Replay
import Testing
import TestSupport
import TraceFormat

/// Replays and analyzes `text` under both memory models; the replay of the
/// last model, for its diagnostics and entries.
@discardableResult
func analyzeBoth(_ text: String) throws -> (findings: [Finding], replay: Replayer) {
    var findings: [Finding] = []
    for model in MemoryModel.allCases {
        findings = try Analysis.run(TraceReader(text: text, name: "t.trace"), options: AnalysisOptions(memoryModel: model)).findings
    }
    let replay = try Replayer.run(TraceReader(text: text, name: "t.trace"))
    return (findings, replay)
}

@Suite("Adversarial tables: cycles, overlaps, the edges of the address space")
struct AdversarialTableTests {
    @Test func aContextTablePointerToTheRootTableEndsTheWalk() throws {
        // Legacy mode: root entry 0 points its context table at the root
        // table itself, then the entry is rewritten and fetched.
        try analyzeBoth("""
            root addr=0x1000 mode=legacy
            store addr=0x1000 size=8 value=0x1001
            store addr=0x1000 size=16 value=0x1001
            fetch addr=0x1000 size=16
            store addr=0x1000 size=8 value=0x0
            store addr=0x1000 size=8 value=0x1001

            """)
    }

    @Test func aPasidDirectoryPointingAtItselfEndsTheWalk() throws {
        let (_, replay) = try analyzeBoth("""
            root addr=0x1000
            init addr=0x2000 size=8 value=0x2001
            store addr=0x1000 size=8 value=0x2001
            store addr=0x2000 size=8 value=0x2001
            fetch addr=0x2000 size=64
            store addr=0x2000 size=8 value=0x0
            store addr=0x2000 size=8 value=0x2001

            """)
        #expect(!replay.entries.isEmpty)
    }

    @Test func aDirectoryPointingBackAtTheRootTableEndsTheWalk() throws {
        try analyzeBoth("""
            root addr=0x1000
            init addr=0x2000 size=8 value=0x1001
            store addr=0x1000 size=8 value=0x2001
            store addr=0x1008 size=8 value=0x2001
            store addr=0x1000 size=16 value=0x0

            """)
    }

    @Test func twoOverlappingTablesBothSeeAStore() throws {
        let (_, replay) = try analyzeBoth("""
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0
            table addr=0x10020 kind=pasid sid=00:03.0 pasid-base=0
            store addr=0x10040 size=8 value=0x41
            store addr=0x10048 size=8 value=0x5

            """)
        // Bytes 0x10040..0x1004f are in entry 1 of the first table and in
        // entry 0 of the second (0x10020..0x1005f).
        #expect(replay.entries.count == 2)
    }

    @Test func aTableAtAddressZero() throws {
        let (_, replay) = try analyzeBoth("""
            root addr=0x0
            table addr=0x0 kind=pasid sid=00:02.0 pasid-base=0
            store addr=0x0 size=8 value=0x1

            """)
        #expect(replay.entries.count == 2)
    }

    @Test func aTableRunningPastTheTopOfTheAddressSpaceEndsThere() throws {
        // Trapped (arithmetic overflow in Replayer.link) before the fix.
        let (_, replay) = try analyzeBoth("""
            table addr=0xffffffffffffffc0 kind=pasid sid=00:02.0 pasid-base=0
            store addr=0xfffffffffffffff8 size=8 value=0x1

            """)
        #expect(replay.entries.count == 1)
        #expect(replay.diagnostics.map(\.message) == [
            "table at 0xffffffffffffffc0 runs past the top of the address space: only its first 1 entries exist",
        ])
    }

    @Test func aPasidDirectoryOfTheLargestSizeAtTheTopOfTheAddressSpace() throws {
        // PDTS 7: 16384 eight-byte entries from the last page on: one page of
        // them exists.
        let (_, replay) = try analyzeBoth("""
            root addr=0x1000
            init addr=0x2000 size=8 value=0xfffffffffffffe01
            store addr=0x1000 size=8 value=0x2001
            store addr=0xfffffffffffff000 size=8 value=0x200001
            store addr=0xfffffffffffffff8 size=8 value=0x300001

            """)
        #expect(replay.diagnostics.count == 1)
    }

    @Test func aRootTableOnTheLastPage() throws {
        try analyzeBoth("""
            root addr=0xfffffffffffff000
            store addr=0xfffffffffffffff8 size=8 value=0x1
            store addr=0xfffffffffffff000 size=16 value=0x2001

            """)
    }

    @Test func aStoreThatStraddlesAPageOrTwoTables() throws {
        let page = try analyzeBoth("""
            table addr=0xfc0 kind=pasid sid=00:02.0 pasid-base=0 count=2
            store addr=0xffc size=8 value=0x4100000000

            """)
        #expect(page.replay.entries.count == 2)
        let tables = try analyzeBoth("""
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 count=1
            table addr=0x10040 kind=pasid sid=00:03.0 pasid-base=0 count=1
            store addr=0x10038 size=16 value=0x410000000000000000

            """)
        #expect(tables.replay.entries.count == 2)
    }

    @Test func aStoreThatWouldWrapAroundTheAddressSpaceIsAnError() throws {
        let error = try #require(readError("store addr=0xfffffffffffffffc size=8 value=0x1\n"))
        #expect(error.location == .line(1, column: 12))
        #expect(error.message == "addr+size passes the end of the 64-bit address space")
    }

    @Test func aCountOfTwoToThe63IsAnError() throws {
        let error = try #require(readError("table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 count=9223372036854775808\n"))
        #expect(error.location == .line(1, column: 62))
        #expect(error.message == "count must be 1 to 1048576")
    }

    @Test func aLargestPasidDirectoryFullOfPresentEntriesSwitchedOnAndOff() throws {
        // PDTS 7 (16384 entries); every eighth entry present, each pointing
        // at its own PASID table; the context entry is switched off and on.
        var text = "root addr=0x1000\n"
        for i in stride(from: 0, to: 16384, by: 8) {
            text += "init addr=\(hex(0x100000 + i * 8)) size=8 value=\(hex(0x1000000 + i * 0x1000 + 1))\n"
        }
        text += "init addr=0x2000 size=8 value=0x100e01\nstore addr=0x1000 size=8 value=0x2001\n"
        for _ in 0..<20 {
            text += "store addr=0x2000 size=8 value=0x0\nstore addr=0x2000 size=8 value=0x100e01\n"
        }
        let replay = try Replayer.run(TraceReader(text: text))
        #expect(replay.diagnostics.isEmpty)
    }

    @Test func manyPasidDirectorySwitchesOverEmptyMemory() throws {
        var text = "root addr=0x1000\nstore addr=0x1000 size=8 value=0x2001\n"
        for _ in 0..<500 {
            text += "store addr=0x2000 size=8 value=0x100e01\nstore addr=0x2000 size=8 value=0x100001\n"
        }
        try analyzeBoth(text)
    }
}
