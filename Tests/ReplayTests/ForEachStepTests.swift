import Foundation
import Replay
import Testing
import TraceFormat
import TraceGenerator

@Suite("Pipelined replay driver")
struct ForEachStepTests {
    /// A generated trace as text.
    func trace(events: Int) throws -> [UInt8] {
        Array(TraceGenerator.text(GeneratorOptions(events: events, seed: 7, buggyRate: 0.1)).0.utf8)
    }

    /// The (index, line, touch count) of each step of an unpipelined
    /// replay of `bytes` whose event `keep` accepts, and the replay.
    func serialSteps(_ bytes: [UInt8], keep: (TraceEvent) -> Bool = { _ in true })
        throws -> (steps: [(Int, UInt64, Int)], replay: Replayer) {
        var steps: [(Int, UInt64, Int)] = []
        var serial = Replayer(fileName: "t")
        let reader = try TraceReader(bytes: bytes, name: "t")
        while let event = try reader.next() {
            let step = try serial.apply(event, symbols: reader.symbols)
            if keep(event) { steps.append((step.index, step.event.line, step.touches.count)) }
        }
        return (steps, serial)
    }

    @Test func everyStepIsTheStepOfAnUnpipelinedReplay() throws {
        let bytes = try trace(events: 30_000)
        let (expected, serial) = try serialSteps(bytes)
        var seen: [(Int, UInt64, Int)] = []
        let pipelined = try TraceReader(bytes: bytes, name: "t")
        let replay = try Replayer.forEachStep(pipelined) { step, replay throws(TraceError) in
            #expect(replay.eventCount == step.index)
            seen.append((step.index, step.event.line, step.touches.count))
        }
        #expect(seen.count == expected.count)
        #expect(seen.elementsEqual(expected) { $0 == $1 })
        #expect(replay.eventCount == serial.eventCount)
        #expect(replay.entries.count == serial.entries.count)
    }

    @Test func skippingQuietStoresHandsOverEveryOtherStepUnchanged() throws {
        let bytes = try trace(events: 30_000)
        var expected: [(Int, UInt64, Int)] = []
        _ = try Replayer.forEachStep(try TraceReader(bytes: bytes, name: "t")) { step, _ throws(TraceError) in
            if step.event.kind != .store || !step.touches.isEmpty {
                expected.append((step.index, step.event.line, step.touches.count))
            }
        }
        for pipelined in [true, false] {
            var seen: [(Int, UInt64, Int)] = []
            let replay = try Replayer.forEachStep(try TraceReader(bytes: bytes, name: "t"), pipelined: pipelined,
                                                  skippingQuietStores: true) { step, replay throws(TraceError) in
                #expect(replay.eventCount == step.index)
                seen.append((step.index, step.event.line, step.touches.count))
            }
            #expect(seen.count < 30_000 / 2, "most stores of a trace touch no entry")
            #expect(seen.elementsEqual(expected) { $0 == $1 })
            #expect(replay.eventCount == 30_000)
        }
    }

    @Test func anEventRefusedByObservingIsReplayedButNotHandedOver() throws {
        let bytes = try trace(events: 30_000)
        let (expected, serial) = try serialSteps(bytes) { event in
            if case .fence = event.payload { return false }
            return true
        }
        for pipelined in [true, false] {
            var seen: [(Int, UInt64, Int)] = []
            // Stores are handed over whatever `observing` says.
            let replay = try Replayer.forEachStep(try TraceReader(bytes: bytes, name: "t"), pipelined: pipelined, observing: { event in
                if case .fence = event.payload { return false }
                if case .store = event.payload { Issue.record("asked about a store") }
                return true
            }) { step, replay throws(TraceError) in
                #expect(replay.eventCount == step.index)
                seen.append((step.index, step.event.line, step.touches.count))
            }
            #expect(expected.count < 30_000, "the trace has barriers")
            #expect(seen.elementsEqual(expected) { $0 == $1 })
            #expect(replay.eventCount == serial.eventCount)
            #expect(replay.entries.count == serial.entries.count)
        }
    }

    /// The stores of `text` that a replay skipping quiet stores hands over, and the replay.
    func storesHandedOver(_ text: String) throws -> ([MemoryWrite], Replayer) {
        var handed: [MemoryWrite] = []
        let replay = try Replayer.forEachStep(try TraceReader(text: text), skippingQuietStores: true) { step, _ throws(TraceError) in
            if case .store(let write) = step.event.payload { handed.append(write) }
        }
        return (handed, replay)
    }

    @Test func aQuietStoreIsStillReplayed() throws {
        let text = """
            hitless-trace 1
            iommu id=iommu0 coherent=1
            root addr=0x1000 mode=legacy
            store addr=0x9000 size=8 value=0x2a
            store addr=0x1000 size=8 value=0x9001
            """
        let (handed, replay) = try storesHandedOver(text)
        // The store to 0x9000 touched no entry then, but the context table
        // the root entry links afterwards shows what it wrote.
        #expect(handed.map(\.addr) == [0x1000])
        #expect(replay.memory.read(addr: 0x9000, size: 8) == 0x2a)
        #expect(replay.eventCount == 4)
    }

    @Test func aStoreToATableLinkedAfterItsPageWasWrittenIsNotQuiet() throws {
        let text = """
            hitless-trace 1
            iommu id=iommu0 coherent=1
            root addr=0x1000 mode=legacy
            store addr=0x2100 size=8 value=0x2a
            store addr=0x1000 size=8 value=0x2001
            store addr=0x2100 size=8 value=0x5001
            store addr=0x1000 size=8 value=0
            store addr=0x2100 size=8 value=0
            """
        let (handed, _) = try storesHandedOver(text)
        // The first store to 0x2100 made its page before the root entry
        // linked the context table there; the second lands on the table;
        // the last, after the table is unlinked, is quiet again.
        #expect(handed.map(\.addr) == [0x1000, 0x2100, 0x1000])
        #expect(handed[1].value == 0x5001)
    }

    @Test func aMalformedLineStopsAfterEveryEventBeforeIt() throws {
        var bytes = try trace(events: 20_000)
        bytes += Array("store addr=0x10 size=3 value=0\n".utf8)
        let reader = try TraceReader(bytes: bytes, name: "t")
        var steps = 0
        do {
            _ = try Replayer.forEachStep(reader) { _, _ throws(TraceError) in steps += 1 }
            Issue.record("no error")
        } catch {
            #expect(error.message == "store size must be 1, 2, 4, 8 or 16")
            #expect(steps == 20_000)
        }
    }
}

@Suite("Pipelined replay driver, progress")
struct ForEachStepProgressTests {
    @Test func afterBatchSeesEventsAndBytesGrow() throws {
        let bytes = Array(TraceGenerator.text(GeneratorOptions(events: 20_000, seed: 3)).0.utf8)
        let reader = try TraceReader(bytes: bytes, name: "t")
        var calls: [(Int, UInt64)] = []
        let replay = try Replayer.forEachStep(reader, afterBatch: { events, fileBytes in calls.append((events, fileBytes)) }) { _, _ throws(TraceError) in }
        #expect(calls.count == 5)  // four batches of 4096 and the rest
        #expect(calls.map(\.0) == [4096, 8192, 12288, 16384, 20_000])
        #expect(calls.last?.0 == replay.eventCount)
        #expect(zip(calls, calls.dropFirst()).allSatisfy { $0.1 <= $1.1 })
        #expect(calls.last?.1 == UInt64(bytes.count))
    }
}

@Suite("Pipelined replay driver, thread priorities")
struct ForEachStepPriorityTests {
    /// The nice value of a thread, from its /proc stat line (field 19,
    /// counted after the parenthesized command name).
    static func nice(_ statPath: String) -> Int? {
        guard let stat = try? String(contentsOfFile: statPath, encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    static func threadNices() -> [Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { nice("/proc/self/task/\($0)/stat") }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/thread-self/stat")))
    func theParserYieldsToTheReplayAndTheReplayKeepsItsPriority() throws {
        let bytes = Array(TraceGenerator.text(GeneratorOptions(events: 50_000, seed: 3)).0.utf8)
        let before = Self.nice("/proc/thread-self/stat")
        var during: Int?
        var feeders = 0
        _ = try Replayer.forEachStep(try TraceReader(bytes: bytes, name: "t")) { step, _ throws(TraceError) in
            guard step.index == 20_000 else { return }
            during = Self.nice("/proc/thread-self/stat")
            feeders = Self.threadNices().filter { $0 == (before ?? 0) + 5 }.count
        }
        #expect(during != nil && during == before, "the replaying thread keeps its priority")
        #expect(feeders >= 1, "the parsing thread runs at nice +5")
    }
}
