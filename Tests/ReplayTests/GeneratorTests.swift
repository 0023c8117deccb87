import Testing
import TraceFormat
import TraceGenerator
@testable import Replay

@Suite("The trace generator")
struct GeneratorTests {
    @Test func theSameOptionsGiveTheSameBytes() {
        let a = TraceGenerator.text(GeneratorOptions(events: 3000, seed: 7, buggyRate: 0.2))
        let b = TraceGenerator.text(GeneratorOptions(events: 3000, seed: 7, buggyRate: 0.2))
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(TraceGenerator.text(GeneratorOptions(events: 3000, seed: 8, buggyRate: 0.2)).0 != a.0)
    }

    @Test func itWritesExactlyTheEventsAskedFor() throws {
        for n in [0, 3, 11, 500, 4321] {
            let (text, _) = TraceGenerator.text(GeneratorOptions(events: n, seed: 1))
            #expect(try TraceReader(text: text).readAll().count == n)
        }
    }

    @Test func itsFetchesAgreeWithReplayedMemory() throws {
        let (text, manifest) = TraceGenerator.text(GeneratorOptions(events: 100_000, seed: 3, buggyRate: 0.3))
        let r = try replay(text)
        #expect(r.diagnostics.isEmpty)
        #expect(manifest.fetches > 100)
    }

    @Test func timeNeverDecreases() throws {
        let (text, _) = TraceGenerator.text(GeneratorOptions(events: 5000, seed: 4))
        let times = try TraceReader(text: text).readAll().compactMap(\.time)
        #expect(times.count == 5000 && zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func tablesAreSetUpByWalksAcrossUnitsModesAndDevices() throws {
        let (text, manifest) = TraceGenerator.text(GeneratorOptions(events: 150_000, seed: 5))
        let r = try replay(text)
        #expect(r.units.map(\.name) == ["dmar0", "dmar1", "dmar2", "dmar3", "dmar4"])
        #expect(r.units.map(\.coherent) == [true, true, false, true, false])
        let kinds = Set(r.entries.map(\.kind))
        #expect(kinds == [.root, .context, .smContext, .pasidDirectory, .pasid])
        #expect(manifest.devices >= 300)
        #expect(manifest.pasids >= 1000)
        // Most events touch no table.
        #expect(manifest.fillerEvents * 2 > manifest.events)
        #expect(text.contains(" at=intel_pasid_tear_down_entry+0x5c") && text.contains(" cpu=7"))
    }

    @Test func withoutBuggyEveryUpdateIsCorrect() {
        let (_, manifest) = TraceGenerator.text(GeneratorOptions(events: 100_000, seed: 6))
        #expect(manifest.races.values.allSatisfy { $0 == 0 })
        #expect(manifest.updates["pasid-setup"]! > 0 && manifest.updates["pasid-teardown"]! > 0)
        #expect(manifest.updates["pasid-replace"]! > 0 && manifest.updates["context-teardown"]! > 0)
    }

    @Test func buggySeedsEveryRaceKindInProportion() {
        let (_, manifest) = TraceGenerator.text(GeneratorOptions(events: 150_000, seed: 9, buggyRate: 0.25))
        for race in SeededRace.allCases { #expect(manifest.races[race.rawValue]! > 0, "\(race.rawValue)") }
        let racy = manifest.races.values.reduce(0, +)
        let correct = manifest.updates["pasid-teardown"]! + manifest.updates["pasid-replace"]!
            + manifest.updates["pasid-setup"]! + manifest.updates["context-teardown"]!
        let rate = Double(racy) / Double(racy + correct)
        #expect(rate > 0.15 && rate < 0.30)
        #expect(manifest.fetchesDuringRaces > 0)
        for race in SeededRace.allCases {
            #expect(manifest.racesByUnit.values.reduce(0) { $0 + ($1[race.rawValue] ?? 0) } == manifest.races[race.rawValue])
        }
        #expect(manifest.racesByUnit["dmar2"]?["pasid-teardown-zero-first"] ?? 0 > 0)
        #expect(manifest.racesByUnit["dmar4"]?["context-teardown-zero-first"] ?? 0 > 0)
    }

    @Test func aRacyTeardownZeroesBeforeInvalidating() {
        let (text, manifest) = TraceGenerator.text(GeneratorOptions(events: 40_000, seed: 2, buggyRate: 1))
        #expect(manifest.races["pasid-teardown-zero-first"]! > 0)
        #expect(!text.contains("at=intel_pasid_tear_down_entry+0x5c"))
    }
}

@Suite("Replaying a whole trace")
struct PipelinedRunTests {
    @Test func theParsingThreadGivesTheSameReplayAsOneThread() throws {
        let (text, _) = TraceGenerator.text(GeneratorOptions(events: 30_000, seed: 11, buggyRate: 0.2))
        let one = try Replayer.run(TraceReader(text: text), pipelined: false)
        let two = try Replayer.run(TraceReader(text: text), pipelined: true)
        #expect(one.eventCount == 30_000 && two.eventCount == 30_000)
        #expect(one.entries.map(\.identity) == two.entries.map(\.identity))
        #expect(one.entries.map(\.changes) == two.entries.map(\.changes))
        #expect((0..<one.entries.count).allSatisfy { one.deviceValue(of: $0) == two.deviceValue(of: $0) })
    }

    @Test func aMalformedLineStopsTheReplayWithItsErrorAfterTheEventsBeforeIt() throws {
        let (text, _) = TraceGenerator.text(GeneratorOptions(events: 10_000, seed: 12))
        let broken = text + "store addr=0x10 size=3 value=0x1\n"
        #expect(throws: TraceError.self) { try Replayer.run(TraceReader(text: broken), pipelined: true) }
        do {
            _ = try Replayer.run(TraceReader(text: broken), pipelined: true)
        } catch {
            #expect(error.description.contains(":10003:"))
        }
    }
}
