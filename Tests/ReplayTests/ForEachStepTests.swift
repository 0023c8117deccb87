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

    @Test func everyStepIsTheStepOfAnUnpipelinedReplay() throws {
        let bytes = try trace(events: 30_000)
        var expected: [(Int, UInt64, Int)] = []
        var serial = Replayer(fileName: "t")
        let reader = try TraceReader(bytes: bytes, name: "t")
        while let event = try reader.next() {
            let step = try serial.apply(event, symbols: reader.symbols)
            expected.append((step.index, step.event.line, step.touches.count))
        }
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
