import Testing
import TraceFormat
@testable import Replay

/// The parsing thread hands events to the replaying one in batches, and
/// either side, finding the pipe full or empty, sleeps until half its depth
/// is free or ready (``EventPipe``). Whatever the trace's length, against
/// the batch size and those marks, every event must come through once, in
/// order, and the run must end.
@Suite("Handing batches of events between threads", .timeLimit(.minutes(1)))
struct EventPipeTests {
    /// A trace of `count` stores, each with its index as its value.
    static func stores(_ count: Int) -> [UInt8] {
        var text = "hitless-trace 1\n"
        text.reserveCapacity(16 + count * 40)
        for i in 0..<count { text += "store addr=0x\(String(i * 8, radix: 16)) size=8 value=0x\(String(i, radix: 16))\n" }
        return Array(text.utf8)
    }

    static let depth = EventPipe.depth
    static let batch = EventPipe.batchSize

    /// Batch counts at and around the marks: none, one, either side of half
    /// the depth, the depth, and enough for the parser to wait many times.
    @Test(arguments: [0, 1, depth / 2 - 1, depth / 2, depth / 2 + 1, depth, depth + 1, 3 * depth],
          [0, 1, batch - 1])
    func everyEventComesThroughOnceInOrder(batches: Int, extra: Int) throws {
        let count = batches * Self.batch + extra
        let reader = try TraceReader(bytes: Self.stores(count), name: "t")
        var values: [UInt64] = []
        values.reserveCapacity(count)
        try Replayer.pipelined(reader) { event, _ throws(TraceError) in
            if case .store(let write) = event.payload { values.append(UInt64(write.value)) }
        }
        #expect(values.count == count)
        #expect(values == (0..<UInt64(count)).map { $0 })
    }

    @Test func aMalformedLineAfterManyBatchesStopsAfterEveryEventBeforeIt() throws {
        let good = 2 * Self.depth * Self.batch + 5
        let bytes = Self.stores(good) + Array("store addr=zz size=8 value=0x1\n".utf8) + Self.stores(10).dropFirst(16)
        let reader = try TraceReader(bytes: bytes, name: "t")
        var seen = 0
        #expect(throws: TraceError.self) {
            try Replayer.pipelined(reader) { _, _ throws(TraceError) in seen += 1 }
        }
        #expect(seen == good)
    }

    @Test func aReplayThatStopsEarlyEndsTheParsingThread() throws {
        // The body fails on the first event: the parser, blocked on a full
        // pipe, must be released, or the call would never return.
        let reader = try TraceReader(bytes: Self.stores(4 * Self.depth * Self.batch), name: "t")
        var seen = 0
        #expect(throws: TraceError.self) {
            try Replayer.pipelined(reader) { _, _ throws(TraceError) in
                seen += 1
                if seen == 1 { throw TraceError(file: "t", location: .file, message: "stop") }
            }
        }
        #expect(seen == 1)
    }
}
