import Testing
@testable import TraceFormat
import TraceGenerator

/// `read(into:upTo:)` gives, batch by batch, exactly what `next()` gives
/// event by event: the same events in the same order, a `qi_submit` line's
/// event and its wait split across batches, and an error only after every
/// event before it.
@Suite struct BatchReadingTests {
    static func eventByEvent(_ text: String) -> (events: [TraceEvent], error: TraceError?) {
        var events: [TraceEvent] = []
        do {
            let reader = try TraceReader(text: text)
            while let event = try reader.next() { events.append(event) }
            return (events, nil)
        } catch { return (events, error) }
    }

    static func inBatches(_ text: String, of size: Int) -> (events: [TraceEvent], error: TraceError?) {
        var all: [TraceEvent] = []
        do {
            let reader = try TraceReader(text: text)
            while true {
                var batch: [TraceEvent] = []
                defer { all += batch }
                try reader.read(into: &batch, upTo: size)
                if batch.count < size { break }
            }
            return (all, nil)
        } catch { return (all, error) }
    }

    /// Kernel trace output whose `qi_submit` lines each give an
    /// invalidation and its wait.
    static let kernelTrace = (0..<7).map { i in
        "          insmod-1234    [002] d..1.   512.\(100 + 2 * i): qi_submit: iotlb_inv dmar0: 0x500e2 0x0 0x0 0x0\n"
            + "          insmod-1234    [002] d..1.   512.\(101 + 2 * i): hitless: fence kind=wmb\n"
    }.joined()

    @Test func batchesOfAnySizeGiveTheEventsOneByOneGives() {
        let generated = TraceGenerator.text(GeneratorOptions(events: 2000, seed: 3, buggyRate: 0.1)).0
        for text in [generated, Self.kernelTrace] {
            let expected = Self.eventByEvent(text)
            #expect(expected.error == nil)
            for size in [1, 2, 3, 7, 4096] {
                let batched = Self.inBatches(text, of: size)
                #expect(batched.error == nil)
                #expect(batched.events == expected.events, "batches of \(size)")
            }
        }
    }

    @Test func anErrorComesAfterEveryEventBeforeIt() {
        let text = "hitless-trace 1\n" + (0..<10).map { "store addr=0x\($0 * 8) size=8 value=0x1\n" }.joined()
            + "store addr=0x10 size=3 value=0x1\n"
        let expected = Self.eventByEvent(text)
        #expect(expected.events.count == 10)
        for size in [1, 4, 10, 11, 64] {
            let batched = Self.inBatches(text, of: size)
            #expect(batched.events == expected.events, "batches of \(size)")
            #expect(batched.error == expected.error)
            #expect(batched.error != nil)
        }
    }
}
