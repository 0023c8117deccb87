import Testing
import TraceFormat
@testable import Replay

/// Replays a trace given as text to its end.
func replay(_ text: String, keepHistory: Bool = false) throws -> Replayer {
    try Replayer.run(TraceReader(text: text, name: "t.trace"), keepHistory: keepHistory)
}

/// The trace with `unit=dmar0` on every event line that names no unit.
func onDmar0(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        let t = line.trimmingCharacters(in: .whitespaces)
        if t.isEmpty || t.hasPrefix("#") || t.hasPrefix("iommu") || t.hasPrefix("mark") || t.contains("unit=") {
            return String(line)
        }
        return line + " unit=dmar0"
    }.joined(separator: "\n")
}

/// Replays `text` on unit dmar0 (declared first, coherent unless told).
func replayOnDmar0(_ text: String, coherent: Bool = true, keepHistory: Bool = false) throws -> Replayer {
    try replay("iommu id=dmar0 coherent=\(coherent ? 1 : 0)\n" + onDmar0(text), keepHistory: keepHistory)
}

/// Identities of the entries a replay saw touched, in order of first touch.
func touched(_ r: Replayer) -> [String] { r.entries.map(\.identity.description) }

/// The entries the replay knows, by identity text.
func record(_ r: Replayer, _ identity: String) -> EntryRecord? {
    r.entries.first { $0.identity.description == identity }
}

/// Identities of the entries one event touched.
func touchedBy(_ text: String, event: Int, coherent: Bool = true) throws -> [String] {
    let reader = try TraceReader(text: "iommu id=dmar0 coherent=\(coherent ? 1 : 0)\n" + onDmar0(text))
    var r = Replayer()
    var result: [String] = []
    while let e = try reader.next() {
        let step = try r.apply(e, symbols: reader.symbols)
        if step.index == event + 1 { result = step.touches.map { r.entries[$0.entry].identity.description } }
    }
    return result
}

// A scalable-mode layout used throughout: root table 0x1000; bus 0's lower
// context table 0x2000 and upper one 0x5000; 00:02.0's PASID directory
// 0x3000 (PDTS 0, 128 entries); PASID table of PASIDs 0-63 at 0x4000.
enum SM {
    static let root = "root addr=0x1000 mode=scalable"
    static let rootLower = "store addr=0x1000 size=8 value=0x2001"
    static let rootUpper = "store addr=0x1008 size=8 value=0x5001"
    /// 00:02.0 (devfn 0x10): PASID directory 0x3000, P, PDTS 0.
    static let context = "store addr=0x2200 size=8 value=0x3001"
    static let directory = "store addr=0x3000 size=8 value=0x4001"
    /// PASID 5, val[0]: second-stage table 0xa000, PGTT 2, AW 2, P.
    static let pasid5 = "store addr=0x4140 size=8 value=0xa089"
    static let pasid5DID = "store addr=0x4148 size=8 value=0x5"
    static let linkedTopDown = [root, rootLower, context, directory].joined(separator: "\n")
}

@Suite("The VT-d walk, scalable mode")
struct ScalableWalkTests {
    @Test func aStoreToALinkedPasidEntryIsAttributedToItsIdentity() throws {
        let r = try replay("""
            iommu id=dmar0
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 unit=dmar0
            store addr=0x10140 size=8 value=0x49 unit=dmar0
            """)
        #expect(touched(r) == ["dmar0 pasid 00:02.0/5"])
    }

    @Test func tablesLinkedBeforeTheyAreFilledAttributeEveryLevel() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, SM.pasid5DID].joined(separator: "\n"))
        #expect(touched(r) == ["dmar0 root 00", "dmar0 sm-context 00:02.0", "dmar0 pasid-dir 00:02.0/0",
                               "dmar0 pasid 00:02.0/5"])
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(pasid.addr == 0x4140)
        #expect(pasid.changes == 2)
        #expect(r.deviceValue(of: r.entries.firstIndex { $0.addr == 0x4140 }!) == EntryValue(words: [0xa089, 5]))
    }

    @Test func tablesFilledBeforeLinkingExposeNothingUntilLinked() throws {
        // Bottom-up, as a driver builds a device's tables before publishing
        // them: only the root entry's store is seen.
        let r = try replayOnDmar0([SM.root, SM.pasid5, SM.pasid5DID, SM.directory, SM.context, SM.rootLower]
            .joined(separator: "\n"))
        #expect(touched(r) == ["dmar0 root 00"])
        // Linking made the whole chain reachable with what it held.
        let state = r.visibleEntries().map(\.identity.description)
        #expect(state == ["dmar0 root 00", "dmar0 sm-context 00:02.0", "dmar0 pasid-dir 00:02.0/0",
                          "dmar0 pasid 00:02.0/5"])
    }

    @Test func aStoreAfterLinkingIsAttributedAndTheContentAtLinkingIsItsState() throws {
        let r = try replayOnDmar0([SM.root, SM.pasid5, SM.directory, SM.context, SM.rootLower, SM.pasid5DID]
            .joined(separator: "\n"), keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(pasid.history.count == 1)
        #expect(pasid.history.first?.before == EntryValue(words: [0xa089]))
        #expect(pasid.history.first?.after == EntryValue(words: [0xa089, 5]))
    }

    @Test func aStoreToATableNotYetLinkedTouchesNothing() throws {
        #expect(try touchedBy([SM.root, SM.pasid5].joined(separator: "\n"), event: 2).isEmpty)
    }

    @Test func relinkingADirectoryEntryMovesThePasidToTheNewTable() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5,
                                   "store addr=0x6140 size=8 value=0xb089",
                                   "store addr=0x3000 size=8 value=0x6001",
                                   // The old table is no longer read: this exposes nothing.
                                   "store addr=0x4148 size=8 value=0x7",
                                   "store addr=0x6148 size=8 value=0x9"].joined(separator: "\n"))
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(pasid.addr == 0x6140)
        #expect(pasid.reachable)
        #expect(pasid.changes == 2)  // the store to 0x4140, then the one to 0x6148
        let i = try #require(r.entry(identity: pasid.identity))
        #expect(r.deviceValue(of: i) == EntryValue(words: [0xb089, 9]))
    }

    @Test func aStoreToTheOldTableAfterRelinkingTouchesNothing() throws {
        let text = [SM.linkedTopDown, "store addr=0x3000 size=8 value=0x6001", "store addr=0x4148 size=8 value=0x7"]
            .joined(separator: "\n")
        #expect(try touchedBy(text, event: 6).isEmpty)
    }

    @Test func clearingADirectoryEntryUnlinksItsPasidTable() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "store addr=0x3000 size=8 value=0x4000",
                                   "store addr=0x4148 size=8 value=0x7"].joined(separator: "\n"))
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(!pasid.reachable)
        #expect(pasid.changes == 1)
        #expect(!r.visibleEntries().contains { $0.identity.kind == .pasid })
    }

    @Test func clearingTheContextEntryUnlinksTheDirectoryAndItsTables() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "store addr=0x2200 size=8 value=0x0",
                                   "store addr=0x3000 size=8 value=0x0"].joined(separator: "\n"))
        #expect(record(r, "dmar0 pasid-dir 00:02.0/0")?.reachable == false)
        #expect(record(r, "dmar0 pasid 00:02.0/5")?.reachable == false)
        #expect(record(r, "dmar0 pasid-dir 00:02.0/0")?.changes == 1)  // the store after unlinking is not one
    }

    @Test func aDeviceMovedToAnotherPasidDirectoryKeepsItsIdentities() throws {
        // 00:02.0's context entry is re-pointed at directory 0x7000, whose
        // entry 0 points at PASID table 0x8000.
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5,
                                   "store addr=0x7000 size=8 value=0x8001",
                                   "store addr=0x8140 size=8 value=0xc089",
                                   "store addr=0x2200 size=8 value=0x7001",
                                   "store addr=0x8148 size=8 value=0x3"].joined(separator: "\n"))
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(pasid.addr == 0x8140 && pasid.reachable)
        // The directory entry too: the same identity, now in the new directory.
        let dir = try #require(record(r, "dmar0 pasid-dir 00:02.0/0"))
        #expect(dir.addr == 0x7000 && dir.reachable)
        #expect(r.visibleEntries().first { $0.identity.kind == .pasid }?.value == EntryValue(words: [0xc089, 3]))
    }

    @Test func twoDevicesSharingOnePasidTableSeeEveryStore() throws {
        // 00:03.0 (devfn 0x18, context entry 0x2300) has directory 0x7000,
        // whose entry 0 points at 00:02.0's PASID table 0x4000.
        let text = [SM.linkedTopDown, "store addr=0x7000 size=8 value=0x4001",
                    "store addr=0x2300 size=8 value=0x7001", SM.pasid5].joined(separator: "\n")
        #expect(try touchedBy(text, event: 7) == ["dmar0 pasid 00:02.0/5", "dmar0 pasid 00:03.0/5"])
    }

    @Test func unlinkingOneSharerKeepsTheTableReachableForTheOther() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, "store addr=0x7000 size=8 value=0x4001",
                                   "store addr=0x2300 size=8 value=0x7001", "store addr=0x2300 size=8 value=0x0",
                                   SM.pasid5].joined(separator: "\n"))
        #expect(touched(r).filter { $0.contains(" pasid ") } == ["dmar0 pasid 00:02.0/5"])
    }

    @Test func aDirectoryPointingAtItselfIsWalkedOnce() throws {
        // Directory entry 0 points at the directory: its 64 bytes are also
        // read as PASID entries 0.
        let text = [SM.root, SM.rootLower, SM.context, "store addr=0x3000 size=8 value=0x3001",
                    "store addr=0x3008 size=8 value=0x1"].joined(separator: "\n")
        #expect(try touchedBy(text, event: 5) == ["dmar0 pasid-dir 00:02.0/64", "dmar0 pasid 00:02.0/0"])
    }

    @Test func theUpperRootHalfServesDevfn128AndAbove() throws {
        // 00:10.0 is devfn 0x80: entry 0 of the upper table at 0x5000.
        let text = [SM.root, SM.rootLower, SM.rootUpper, "store addr=0x5000 size=8 value=0x3001",
                    "store addr=0x2000 size=8 value=0x3001"].joined(separator: "\n")
        #expect(try touchedBy(text, event: 4) == ["dmar0 sm-context 00:10.0"])
        #expect(try touchedBy(text, event: 5) == ["dmar0 sm-context 00:00.0"])
    }

    @Test func clearingUpperPresentKeepsTheLowerHalf() throws {
        let r = try replayOnDmar0([SM.root, SM.rootLower, SM.rootUpper, "store addr=0x1008 size=8 value=0x5000",
                                   "store addr=0x5000 size=8 value=0x3001", SM.context].joined(separator: "\n"))
        #expect(touched(r) == ["dmar0 root 00", "dmar0 sm-context 00:02.0"])
    }

    @Test func pdtsSizesThePasidDirectory() throws {
        // PDTS 0: 128 entries (PASIDs up to 8191); entry 128 is outside.
        let small = [SM.root, SM.rootLower, SM.context, "store addr=0x33f8 size=8 value=0x4001",
                     "store addr=0x3400 size=8 value=0x4001"].joined(separator: "\n")
        #expect(try touchedBy(small, event: 4) == ["dmar0 pasid-dir 00:02.0/8128"])
        #expect(try touchedBy(small, event: 5).isEmpty)
        // PDTS 1 (bits 11:9 = 1): 256 entries.
        let large = [SM.root, SM.rootLower, "store addr=0x2200 size=8 value=0x3201",
                     "store addr=0x3400 size=8 value=0x4001"].joined(separator: "\n")
        #expect(try touchedBy(large, event: 4) == ["dmar0 pasid-dir 00:02.0/8192"])
    }

    @Test func changingPdtsInPlaceResizesTheDirectory() throws {
        let text = [SM.root, SM.rootLower, SM.context, "store addr=0x2200 size=8 value=0x3201",
                    "store addr=0x3400 size=8 value=0x4001", "store addr=0x4000 size=8 value=0x1"].joined(separator: "\n")
        #expect(try touchedBy(text, event: 5) == ["dmar0 pasid-dir 00:02.0/8192"])
        #expect(try touchedBy(text, event: 6) == ["dmar0 pasid 00:02.0/8192"])
    }

    @Test func aNewRootPointerUnlinksTheOldTables() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "root addr=0x9000 mode=scalable",
                                   "store addr=0x4148 size=8 value=0x7"].joined(separator: "\n"))
        #expect(record(r, "dmar0 pasid 00:02.0/5")?.reachable == false)
        #expect(record(r, "dmar0 pasid 00:02.0/5")?.changes == 1)
        #expect(r.units.first?.root == 0x9000)
    }

    @Test func aRootEntrysLowerPointerRepointedMovesTheDevicesToTheNewContextTable() throws {
        // Context table 0x7000 gives 00:02.0 (entry 0x7200) the same
        // directory; the root's LCTP is re-pointed to it.
        let text = [SM.linkedTopDown, SM.pasid5, "store addr=0x7200 size=8 value=0x3001",
                    "store addr=0x1000 size=8 value=0x7001", "store addr=0x7208 size=8 value=0x5",
                    "store addr=0x2208 size=8 value=0x6", "store addr=0x4148 size=8 value=0x7"].joined(separator: "\n")
        #expect(try touchedBy(text, event: 6) == [])
        #expect(try touchedBy(text, event: 7) == ["dmar0 root 00"])
        #expect(try touchedBy(text, event: 8) == ["dmar0 sm-context 00:02.0"])
        #expect(try touchedBy(text, event: 9) == [])  // the old context table
        #expect(try touchedBy(text, event: 10) == ["dmar0 pasid 00:02.0/5"])
        let r = try replayOnDmar0(text)
        #expect(touched(r) == ["dmar0 root 00", "dmar0 sm-context 00:02.0", "dmar0 pasid-dir 00:02.0/0",
                               "dmar0 pasid 00:02.0/5"])
        let context = try #require(record(r, "dmar0 sm-context 00:02.0"))
        #expect(context.addr == 0x7200 && context.reachable)
        #expect(r.deviceValue(of: try #require(r.entry(identity: context.identity))) == EntryValue(words: [0x3001, 5]))
        #expect(record(r, "dmar0 pasid 00:02.0/5")?.reachable == true)
    }

    @Test func aRootEntrysUpperPointerRepointedMovesDevfn128AndAboveToTheNewTable() throws {
        // 00:10.0 (devfn 0x80) is entry 0 of the upper table: 0x5000, then 0x8000.
        let text = [SM.root, SM.rootLower, SM.rootUpper, "store addr=0x5000 size=8 value=0x3001",
                    "store addr=0x8000 size=8 value=0x6001", "store addr=0x1008 size=8 value=0x8001",
                    "store addr=0x5008 size=8 value=0x1", "store addr=0x8008 size=8 value=0x2",
                    SM.context].joined(separator: "\n")
        #expect(try touchedBy(text, event: 4) == ["dmar0 sm-context 00:10.0"])
        #expect(try touchedBy(text, event: 5) == [])
        #expect(try touchedBy(text, event: 7) == [])
        #expect(try touchedBy(text, event: 8) == ["dmar0 sm-context 00:10.0"])
        #expect(try touchedBy(text, event: 9) == ["dmar0 sm-context 00:02.0"])  // the lower half is untouched
        let r = try replayOnDmar0(text)
        let upper = try #require(record(r, "dmar0 sm-context 00:10.0"))
        #expect(upper.addr == 0x8000 && upper.reachable)
        #expect(r.deviceValue(of: try #require(r.entry(identity: upper.identity))) == EntryValue(words: [0x6001, 2]))
        #expect(r.visibleEntries().map(\.identity.description).contains("dmar0 pasid-dir 00:10.0/0") == false)
    }

    @Test func theUpperContextTableFilledBeforeLinkingExposesNothingUntilLinked() throws {
        // 00:10.0's chain under the upper half, built bottom-up: directory
        // 0x6000 -> PASID table 0x8000, PASID 7 (0x81c0).
        let text = [SM.root, SM.rootLower, "store addr=0x81c0 size=8 value=0xd089", "store addr=0x6000 size=8 value=0x8001",
                    "store addr=0x5000 size=8 value=0x6001", SM.rootUpper,
                    "store addr=0x81c8 size=8 value=0x4"].joined(separator: "\n")
        for event in 3...5 { #expect(try touchedBy(text, event: event) == [], "event \(event)") }
        #expect(try touchedBy(text, event: 6) == ["dmar0 root 00"])
        #expect(try touchedBy(text, event: 7) == ["dmar0 pasid 00:10.0/7"])
        let r = try replayOnDmar0(text)
        #expect(touched(r) == ["dmar0 root 00", "dmar0 pasid 00:10.0/7"])
        #expect(r.visibleEntries().map(\.identity.description)
            == ["dmar0 root 00", "dmar0 sm-context 00:10.0", "dmar0 pasid-dir 00:10.0/0", "dmar0 pasid 00:10.0/7"])
        #expect(r.visibleEntries().last?.value == EntryValue(words: [0xd089, 4]))
    }

    @Test func relinkingAToBAndBackToAAttributesEachStoreToTheTableLinkedThen() throws {
        // The directory entry points at PASID table A (0x4000), B (0x6000), A.
        let text = [SM.linkedTopDown, SM.pasid5, "store addr=0x6140 size=8 value=0xb089",
                    "store addr=0x3000 size=8 value=0x6001", "store addr=0x6148 size=8 value=0x9",
                    "store addr=0x4148 size=8 value=0x7", "store addr=0x3000 size=8 value=0x4001",
                    "store addr=0x4148 size=8 value=0x8", "store addr=0x6148 size=8 value=0xa"].joined(separator: "\n")
        let expected: [Int: [String]] = [
            4: ["dmar0 pasid-dir 00:02.0/0"], 5: ["dmar0 pasid 00:02.0/5"], 6: [],
            7: ["dmar0 pasid-dir 00:02.0/0"], 8: ["dmar0 pasid 00:02.0/5"], 9: [],
            10: ["dmar0 pasid-dir 00:02.0/0"], 11: ["dmar0 pasid 00:02.0/5"], 12: [],
        ]
        for (event, identities) in expected {
            #expect(try touchedBy(text, event: event) == identities, "event \(event)")
        }
        let r = try replayOnDmar0(text)
        #expect(touched(r) == ["dmar0 root 00", "dmar0 sm-context 00:02.0", "dmar0 pasid-dir 00:02.0/0",
                               "dmar0 pasid 00:02.0/5"])
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(pasid.addr == 0x4140 && pasid.reachable && pasid.changes == 3)
        // A holds the store made while B was linked (0x7), then 0x8.
        #expect(r.deviceValue(of: try #require(r.entry(identity: pasid.identity))) == EntryValue(words: [0xa089, 8]))
        #expect(r.reachableTables.count == 4)
    }

    @Test func onANonCoherentUnitARelinkBelowTheRootHappensAtTheFlushOfThePointer() throws {
        let text = [SM.root, SM.rootLower, "flush addr=0x1000", SM.context, "flush addr=0x2200", SM.directory,
                    "flush addr=0x3000", SM.pasid5, "store addr=0x6140 size=8 value=0xb089", "flush addr=0x6140",
                    "store addr=0x3000 size=8 value=0x6001", "store addr=0x6148 size=8 value=0x9",
                    "store addr=0x4148 size=8 value=0x7", "flush addr=0x3000",
                    "store addr=0x6148 size=8 value=0xa", "store addr=0x4148 size=8 value=0x8"].joined(separator: "\n")
        // Until the flush the unit reads the old pointer: table A is linked.
        #expect(try touchedBy(text, event: 11, coherent: false) == ["dmar0 pasid-dir 00:02.0/0"])
        #expect(try touchedBy(text, event: 12, coherent: false) == [])
        #expect(try touchedBy(text, event: 13, coherent: false) == ["dmar0 pasid 00:02.0/5"])
        // The flush of the pointer's line touches its eight directory entries.
        #expect(try touchedBy(text, event: 14, coherent: false) == (0..<8).map { "dmar0 pasid-dir 00:02.0/\($0 * 64)" })
        // From the flush on, table B.
        #expect(try touchedBy(text, event: 15, coherent: false) == ["dmar0 pasid 00:02.0/5"])
        #expect(try touchedBy(text, event: 16, coherent: false) == [])
        let r = try replayOnDmar0(text, coherent: false)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(pasid.addr == 0x6140 && pasid.reachable)
        // What the unit sees: B as flushed (val[1] = 0xa is not flushed).
        #expect(r.deviceValue(of: try #require(r.entry(identity: pasid.identity))) == EntryValue(words: [0xb089]))
    }

    @Test func pointerChurnKeepsTheTableCountBounded() throws {
        var lines = [SM.linkedTopDown]
        for i in 0..<2000 { lines.append("store addr=0x3000 size=8 value=\(i % 2 == 0 ? "0x6001" : "0x4001")") }
        let r = try replayOnDmar0(lines.joined(separator: "\n"))
        #expect(r.reachableTables.count == 4)
        #expect(r.tableSlotsAllocated <= 6)
    }

    @Test func aCopyOfAReplayerIsIndependent() throws {
        // The tables are kept out of line and shared by copies until one
        // changes them: unlinking in the copy leaves the original intact.
        let reader = try TraceReader(text: "iommu id=dmar0 coherent=1\n" + onDmar0(SM.linkedTopDown + "\n" + SM.pasid5))
        var original = Replayer()
        while let e = try reader.next() { _ = try original.apply(e, symbols: reader.symbols) }
        var copy = original
        let unlink = try #require(try TraceReader(text: "store addr=0x2200 size=8 value=0").next())
        _ = try copy.apply(unlink, symbols: reader.symbols)
        #expect(copy.reachableTables.count == 2 && original.reachableTables.count == 4)
        #expect(original.entries.allSatisfy(\.reachable) && !copy.entries.allSatisfy(\.reachable))
        #expect(original.limits == copy.limits)
        copy.limits.entries = 1
        #expect(original.limits.entries == ReplayLimits.standard.entries)
    }
}

@Suite("The VT-d walk, legacy mode")
struct LegacyWalkTests {
    static let setup = """
        root addr=0x1000 mode=legacy
        store addr=0x1000 size=8 value=0x2001
        """

    @Test func aContextEntryIsNamedByBusAndDevfn() throws {
        // 00:1f.3 is devfn 0xfb: context entry at 0x2000 + 0xfb * 16.
        let text = Self.setup + "\nstore addr=0x2fb8 size=8 value=0x50102\nstore addr=0x2fb0 size=8 value=0xa001"
        #expect(try touchedBy(text, event: 3) == ["dmar0 context 00:1f.3"])
        let r = try replayOnDmar0(text)
        let i = try #require(r.entry(identity: EntryIdentity(parsing: "dmar0 context 00:1f.3")!))
        #expect(Layout.domainID(.context, r.deviceValue(of: i)) == 0x501)
    }

    @Test func aRootEntryOfAnotherBusLinksThatBusContextTable() throws {
        let text = Self.setup + "\nstore addr=0x1010 size=8 value=0x3001\nstore addr=0x3100 size=8 value=0x1"
        #expect(try touchedBy(text, event: 4) == ["dmar0 context 01:02.0"])
    }

    @Test func legacyRootsIgnoreTheUpperWord() throws {
        let text = Self.setup + "\nstore addr=0x1008 size=8 value=0x5001\nstore addr=0x5000 size=8 value=0x1"
        #expect(try touchedBy(text, event: 4).isEmpty)
    }

    @Test func aContextTablePointerToTheRootTableIsWalkedWithoutLooping() throws {
        // Bus 0's context table is the root table itself: root entry 1 is
        // also context entry 00:00.1.
        let text = "root addr=0x1000 mode=legacy\nstore addr=0x1000 size=8 value=0x1001\nstore addr=0x1010 size=8 value=0x1001"
        #expect(try touchedBy(text, event: 3) == ["dmar0 root 01", "dmar0 context 00:00.1"])
    }

    @Test func aContextTableFilledBeforeItIsLinkedExposesNothingUntilLinked() throws {
        // 00:1f.3's context entry (0x2fb0) is written before the root entry
        // that links its table.
        let text = """
            root addr=0x1000 mode=legacy
            store addr=0x2fb8 size=8 value=0x50102
            store addr=0x2fb0 size=8 value=0xa001
            store addr=0x1000 size=8 value=0x2001
            store addr=0x2fb8 size=8 value=0x60102
            """
        #expect(try touchedBy(text, event: 2) == [])
        #expect(try touchedBy(text, event: 3) == [])
        #expect(try touchedBy(text, event: 4) == ["dmar0 root 00"])
        #expect(try touchedBy(text, event: 5) == ["dmar0 context 00:1f.3"])
        let r = try replayOnDmar0(text)
        #expect(touched(r) == ["dmar0 root 00", "dmar0 context 00:1f.3"])
        #expect(record(r, "dmar0 context 00:1f.3")?.changes == 1)
        #expect(r.visibleEntries().map(\.identity.description) == ["dmar0 root 00", "dmar0 context 00:1f.3"])
        #expect(r.visibleEntries().last?.value == EntryValue(words: [0xa001, 0x60102]))
    }

    @Test func aRootEntryRepointedToAnotherContextTableMovesTheBusDevices() throws {
        // Bus 0: context table 0x2000, then 0x3000; 00:00.1 is entry 1 (+0x10).
        let text = Self.setup + "\n" + """
            store addr=0x2010 size=8 value=0xa001
            store addr=0x3010 size=8 value=0xb001
            store addr=0x1000 size=8 value=0x3001
            store addr=0x2018 size=8 value=0x102
            store addr=0x3018 size=8 value=0x202
            """
        #expect(try touchedBy(text, event: 3) == ["dmar0 context 00:00.1"])
        #expect(try touchedBy(text, event: 4) == [])
        #expect(try touchedBy(text, event: 5) == ["dmar0 root 00"])
        #expect(try touchedBy(text, event: 6) == [])
        #expect(try touchedBy(text, event: 7) == ["dmar0 context 00:00.1"])
        let r = try replayOnDmar0(text)
        #expect(touched(r) == ["dmar0 root 00", "dmar0 context 00:00.1"])
        let context = try #require(record(r, "dmar0 context 00:00.1"))
        #expect(context.addr == 0x3010 && context.reachable)
        let i = try #require(r.entry(identity: context.identity))
        #expect(r.deviceValue(of: i) == EntryValue(words: [0xb001, 0x202]))
        #expect(Layout.domainID(.context, r.deviceValue(of: i)) == 2)
    }

    @Test func clearingPresentInTheRootUnlinksTheContextTable() throws {
        let text = Self.setup + "\nstore addr=0x1000 size=8 value=0x2000\nstore addr=0x2010 size=8 value=0x1"
        #expect(try touchedBy(text, event: 4).isEmpty)
    }
}

@Suite("Entry identities of a table")
struct TableIdentityTests {
    /// One table of each kind, as the walk or a `table` line makes them.
    static let tables: [TableInstance] = {
        var context = TableInstance(unit: 0, kind: .context, base: 0x2000, count: 256, entrySize: 16, fetchSize: 16, presentBit: 0)
        context.bus = 3
        var upper = TableInstance(unit: 0, kind: .smContext, base: 0x5000, count: 128, entrySize: 32, fetchSize: 16, presentBit: 0)
        upper.bus = 1
        upper.devfnBase = 128
        var directory = TableInstance(unit: 0, kind: .pasidDirectory, base: 0x3000, count: 256, entrySize: 8, fetchSize: 16, presentBit: 0)
        directory.sid = 0x0210
        var pasid = TableInstance(unit: 0, kind: .pasid, base: 0x4000, count: 64, entrySize: 64, fetchSize: 16, presentBit: 0)
        pasid.sid = 0x0210
        pasid.pasidBase = 128
        var generic = TableInstance(unit: 0, kind: .generic, base: 0x9000, count: 10, entrySize: 8, fetchSize: 8, presentBit: 0)
        generic.label = "ste"
        return [TableInstance(unit: 0, kind: .root, base: 0x1000, count: 256, entrySize: 16, fetchSize: 16, presentBit: 0),
                context, upper, directory, pasid, generic]
    }()

    @Test(arguments: tables)
    func everyEntrysIdentityNamesItsIndex(_ table: TableInstance) {
        for index in 0..<table.count {
            #expect(table.index(of: table.identity(index, unitName: "dmar0")) == index)
        }
    }

    @Test func identitiesATableDoesNotGiveHaveNoIndex() throws {
        let others = ["dmar0 context 02:00.0", "dmar0 sm-context 01:0f.7", "dmar0 pasid-dir 02:02.0/65",
                      "dmar0 pasid-dir 02:03.0/0", "dmar0 pasid 02:02.0/127", "dmar0 pasid 02:02.0/192",
                      "dmar0 generic ste/10", "dmar0 generic other/0", "dmar0 pasid 03:00.0/5"]
        for text in others {
            let identity = try #require(EntryIdentity(parsing: text))
            #expect(Self.tables.allSatisfy { $0.index(of: identity) == nil }, "\(text)")
        }
    }
}
