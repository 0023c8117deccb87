import Foundation
import Testing
import TraceFormat
@testable import Replay

/// The parsing thread hands events to the replaying one in batches, and
/// either side, finding the pipe full or empty, sleeps until half its depth
/// is free or ready (``EventPipe``). Whatever the trace's length, against
/// the batch size and those marks, every event must come through once, in
/// order, and the run must end.
@Suite("Handing batches of events between threads")
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

    /// What a pipelined replay of `reader` handed over (each store's value)
    /// and the error it ended with, the body failing at event `failAt`.
    /// It runs on a thread of its own: nil when it has not ended within 20
    /// seconds (a pipe that never wakes its reader or its parser; the
    /// longest run here takes under one), so that such a bug fails the test
    /// instead of hanging it.
    static func run(_ reader: TraceReader, failAt: Int? = nil) -> (values: [UInt64], error: TraceError?)? {
        final class Outcome: @unchecked Sendable {
            let reader: TraceReader
            var values: [UInt64] = []
            var error: TraceError?
            init(_ reader: TraceReader) { self.reader = reader }
        }
        let outcome = Outcome(reader)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do throws(TraceError) {
                try Replayer.pipelined(outcome.reader) { event, _ throws(TraceError) in
                    if outcome.values.count + 1 == failAt { throw TraceError(file: "t", location: .file, message: "stop") }
                    if case .store(let write) = event.payload { outcome.values.append(UInt64(write.value)) }
                }
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        thread.start()
        guard done.wait(timeout: .now() + 20) == .success else { return nil }
        return (outcome.values, outcome.error)
    }

    /// Batch counts at and around the marks: none, one, either side of half
    /// the depth, the depth, and enough for the parser to wait many times.
    @Test(arguments: [0, 1, depth / 2 - 1, depth / 2, depth / 2 + 1, depth, depth + 1, 3 * depth],
          [0, 1, batch - 1])
    func everyEventComesThroughOnceInOrder(batches: Int, extra: Int) throws {
        let count = batches * Self.batch + extra
        let outcome = try #require(Self.run(TraceReader(bytes: Self.stores(count), name: "t")))
        #expect(outcome.error == nil)
        #expect(outcome.values == (0..<UInt64(count)).map { $0 })
    }

    @Test func aMalformedLineAfterManyBatchesStopsAfterEveryEventBeforeIt() throws {
        let good = 2 * Self.depth * Self.batch + 5
        let bytes = Self.stores(good) + Array("store addr=zz size=8 value=0x1\n".utf8) + Self.stores(10).dropFirst(16)
        let outcome = try #require(Self.run(TraceReader(bytes: bytes, name: "t")))
        #expect(outcome.values.count == good)
        #expect(outcome.error?.line == UInt64(good + 2))
    }

    @Test func aReplayThatStopsEarlyEndsTheParsingThread() throws {
        // The body fails on the first event: the parser, blocked on a full
        // pipe, must be released, or the run would never return.
        let outcome = try #require(Self.run(TraceReader(bytes: Self.stores(4 * Self.depth * Self.batch), name: "t"), failAt: 1))
        #expect(outcome.values.isEmpty)
        #expect(outcome.error?.message == "stop")
    }
}
