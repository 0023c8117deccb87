import Testing
import TraceFormat
import TraceGenerator
@testable import Replay

/// The history of the entry named `identity` as (event, kind) pairs.
func changes(_ r: Replayer, _ identity: String) -> [String] {
    (record(r, identity)?.history.map { "\($0.event) \($0.kind)" }) ?? ["no such entry"]
}

/// The PASID table at 0x6000, filled as PASID 5 with other values: a new
/// table for the device (PASIDs 0-63).
let newTable = ["store addr=0x6140 size=8 value=0xb089", "store addr=0x6148 size=8 value=0x9"]

/// Links the layout of ``SM`` on a non-coherent unit, each pointer flushed.
let linkedAndFlushed = [SM.root, SM.rootLower, "flush addr=0x1000", SM.context, "flush addr=0x2200",
                        SM.directory, "flush addr=0x3000"]

@Suite("History: every event that changed what the CPU or the unit sees at an entry")
struct HistoryTests {
    @Test func historyKeepsEveryChangeWithBeforeAndAfter() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, SM.pasid5DID, SM.pasid5DID,
                                   "store addr=0x4140 size=8 value=0x0"].joined(separator: "\n"), keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        // The repeated DID store changes nothing and is not a change.
        #expect(pasid.history.map(\.event) == [6, 7, 9])
        #expect(pasid.history.map(\.kind) == [.cpu, .cpu, .cpu])
        #expect(pasid.history.map(\.before) == [EntryValue(), EntryValue(words: [0xa089]), EntryValue(words: [0xa089, 5])])
        #expect(pasid.history.map(\.after) == [EntryValue(words: [0xa089]), EntryValue(words: [0xa089, 5]),
                                              EntryValue(words: [0, 5])])
        #expect(pasid.changes == 3)
        #expect(pasid.firstEvent == 6 && pasid.lastEvent == 9)
    }

    @Test func withoutHistoryNothingIsKept() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5].joined(separator: "\n"))
        #expect(record(r, "dmar0 pasid 00:02.0/5")?.history.isEmpty == true)
    }

    @Test func onANonCoherentUnitAStoreChangesTheCPUValueAndItsFlushWhatTheUnitSees() throws {
        let r = try replayOnDmar0((linkedAndFlushed + [SM.pasid5, "flush addr=0x4140"]).joined(separator: "\n"),
                                  coherent: false, keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(Array(pasid.history) == [
            EntryChange(event: 9, kind: .cpu, before: EntryValue(), after: EntryValue(words: [0xa089])),
            EntryChange(event: 10, kind: .device, before: EntryValue(), after: EntryValue(words: [0xa089])),
        ])
    }

    @Test func aFlushThatMakesNothingNewVisibleIsNoChange() throws {
        let r = try replayOnDmar0((linkedAndFlushed + [SM.pasid5, "flush addr=0x4140", "flush addr=0x4140"])
            .joined(separator: "\n"), coherent: false, keepHistory: true)
        #expect(changes(r, "dmar0 pasid 00:02.0/5") == ["9 cpu", "10 device"])
    }

    @Test func aFlushOnACoherentUnitIsNoChange() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "flush addr=0x4140"].joined(separator: "\n"),
                                  keepHistory: true)
        #expect(changes(r, "dmar0 pasid 00:02.0/5") == ["6 cpu"])
    }

    @Test func unlinkingItsTableIsAnUnlinkAtTheValueLastSeen() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "store addr=0x3000 size=8 value=0x0",
                                   "store addr=0x4148 size=8 value=0x7"].joined(separator: "\n"), keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(Array(pasid.history).last == EntryChange(event: 7, kind: .unlink, before: EntryValue(words: [0xa089]),
                                                         after: EntryValue(words: [0xa089])))
        #expect(pasid.history.count == 2)  // the store after unlinking is not the entry's
        #expect(pasid.unlinkedAt == 7)
        #expect(r.lastVisibleValue(of: try #require(r.entry(identity: pasid.identity))) == EntryValue(words: [0xa089]))
    }

    @Test func linkingItsTableAgainIsALinkToWhatItHoldsNow() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "store addr=0x3000 size=8 value=0x0",
                                   "store addr=0x4148 size=8 value=0x7", SM.directory].joined(separator: "\n"),
                                  keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(changes(r, "dmar0 pasid 00:02.0/5") == ["6 cpu", "7 unlink", "9 link"])
        #expect(Array(pasid.history).last == EntryChange(event: 9, kind: .link, before: EntryValue(words: [0xa089]),
                                                         after: EntryValue(words: [0xa089, 7])))
        #expect(pasid.reachable && pasid.addr == 0x4140)
    }

    @Test func aDeviceMovedToAnotherPasidTableIsALinkToTheNewTablesValue() throws {
        let r = try replayOnDmar0(([SM.linkedTopDown, SM.pasid5] + newTable + ["store addr=0x3000 size=8 value=0x6001"])
            .joined(separator: "\n"), keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(Array(pasid.history).last == EntryChange(event: 9, kind: .link, before: EntryValue(words: [0xa089]),
                                                         after: EntryValue(words: [0xb089, 9])))
        #expect(pasid.addr == 0x6140 && pasid.reachable)
    }

    @Test func aMoveToATableHoldingTheSameValueIsNoChange() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "store addr=0x6140 size=8 value=0xa089",
                                   "store addr=0x3000 size=8 value=0x6001"].joined(separator: "\n"), keepHistory: true)
        #expect(changes(r, "dmar0 pasid 00:02.0/5") == ["6 cpu"])
        #expect(record(r, "dmar0 pasid 00:02.0/5")?.addr == 0x6140)
    }

    @Test func onANonCoherentUnitTheMoveIsALinkAtTheFlushOfThePointer() throws {
        let r = try replayOnDmar0((linkedAndFlushed + [SM.pasid5, "flush addr=0x4140"] + newTable
                                   + ["flush addr=0x6140", "store addr=0x3000 size=8 value=0x6001", "flush addr=0x3000"])
            .joined(separator: "\n"), coherent: false, keepHistory: true)
        let pasid = try #require(record(r, "dmar0 pasid 00:02.0/5"))
        #expect(changes(r, "dmar0 pasid 00:02.0/5") == ["9 cpu", "10 device", "15 link"])
        #expect(Array(pasid.history).last?.after == EntryValue(words: [0xb089, 9]))
    }

    @Test func anInitOverAnEntryAlreadySeenIsACPUChange() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5, "init addr=0x4148 size=8 value=0x3"].joined(separator: "\n"),
                                  keepHistory: true)
        #expect(Array(try #require(record(r, "dmar0 pasid 00:02.0/5")).history).last
            == EntryChange(event: 7, kind: .cpu, before: EntryValue(words: [0xa089]), after: EntryValue(words: [0xa089, 3])))
    }

    @Test func aChangeKeepsOnlyTheWordsItChanged() throws {
        // 64 stores, each to one word of a coherent unit's entry: a header
        // and one word each, after the entry's first and current values.
        let stores = (1...64).map { "store addr=\(hex(0x4140 + UInt64($0 % 8) * 8)) size=8 value=\($0)" }
        let r = try replayOnDmar0(([SM.linkedTopDown] + stores).joined(separator: "\n"), keepHistory: true)
        let history = try #require(record(r, "dmar0 pasid 00:02.0/5")).history
        #expect(history.count == 64)
        #expect(history.storedWords == 32 + 64 * 2)
    }

    @Test func everyChangeStartsFromTheValueTheLastOneLeft() throws {
        // On a generated trace's coherent units, the unit sees what the CPU
        // wrote: one chain of values, ending at what `entries` reports. On
        // the others, the chain of what the unit sees (the generator never
        // unlinks a table: the tests above cover links).
        let text = TraceGenerator.text(GeneratorOptions(events: 40_000, seed: 5, buggyRate: 0.2)).0
        let r = try Replayer.run(TraceReader(text: text), keepHistory: true)
        var walked = 0
        for (i, e) in r.entries.enumerated() {
            var last: EntryValue?
            for change in e.history {
                if r.units[e.unit].coherent {
                    if let last { #expect(change.before == last, "\(e.identity) at event \(change.event)") }
                    last = change.after
                } else if change.kind != .cpu {
                    if let last { #expect(change.before == last, "\(e.identity) at event \(change.event)") }
                    last = change.after
                }
                walked += 1
            }
            if let last { #expect(last == r.lastVisibleValue(of: i), "\(e.identity)") }
        }
        #expect(walked > 1000)
        #expect(r.entries.contains { $0.history.contains { $0.kind == .device } })
    }
}
