import Foundation
import TraceFormat

extension Replayer {
    /// Reads and replays every event of `reader`, handing each step to
    /// `body` with the replayer, and parses on a second thread: one thread
    /// reads (decompresses, parses or decodes) batches of events while this
    /// one replays them and runs `body`. Memory stays bounded (a few batches
    /// of 4096 events, reused). Errors come in trace order: a malformed
    /// event stops the run after every event before it was replayed and
    /// observed. Returns the replayer; `reader.symbols` is complete then.
    ///
    /// `afterBatch` is called on this thread after every batch (4096
    /// events) with the events replayed so far and the bytes taken from the
    /// file by then: enough for a progress line, without touching the
    /// reader, which the parsing thread owns until the end. It does not
    /// escape, so that what it and `body` capture stays on the stack: a
    /// captured variable boxed for an escaping closure costs a runtime
    /// exclusivity check on every access, twice an event.
    ///
    /// ```swift
    /// var analysis = Analysis(traceName: reader.fileName, options: options)
    /// let replay = try Replayer.forEachStep(reader) { step, replay throws(TraceError) in
    ///     try analysis.observe(step, replay: &replay)
    /// }
    /// let findings = try analysis.finish(replay: replay, symbols: reader.symbols)
    /// ```
    ///
    /// With `pipelined` false, everything runs on this thread (for fuzzing,
    /// where a thread per input costs more than the input).
    ///
    /// With `skippingQuietStores`, a store that touches no reachable entry
    /// (most stores of a trace) is replayed but not handed to `body`: its
    /// step would have no touches, and building and passing it cost more
    /// than replaying the store.
    ///
    /// `observing` says, of every event but a store, whether `body` hears
    /// of it; one it refuses is replayed all the same. A caller that ignores
    /// some events (the checks ignore marks, and most barriers under `tso`)
    /// saves building and passing their steps.
    public static func forEachStep(_ reader: TraceReader, keepHistory: Bool = false, limits: ReplayLimits = .standard,
                                   pipelined: Bool = true, skippingQuietStores: Bool = false,
                                   observing: (TraceEvent) -> Bool = { _ in true },
                                   afterBatch: (_ events: Int, _ fileBytes: UInt64) -> Void = { _, _ in },
                                   _ body: (ReplayStep, inout Replayer) throws(TraceError) -> Void) throws(TraceError) -> Replayer {
        var replay = Replayer(fileName: reader.fileName, keepHistory: keepHistory, limits: limits)
        if !pipelined {
            while let event = try reader.next() {
                let symbols = event.kind.namesNothing ? noSymbols : reader.symbols
                if case .store(let write) = event.payload {
                    if skippingQuietStores, try replay.applyQuietStore(write, event) { continue }
                } else if !observing(event) {
                    try replay.applyEvent(event, symbols)
                    continue
                }
                let step = try replay.applyLendingTouches(event, symbols: symbols)
                try body(step, &replay)
                replay.returnTouches(of: consume step)
            }
            return replay
        }
        try Self.pipelined(reader, afterBatch: afterBatch) { (event, symbols) throws(TraceError) in
            if case .store(let write) = event.payload {
                if skippingQuietStores, try replay.applyQuietStore(write, event) { return }
            } else if !observing(event) {
                try replay.applyEvent(event, symbols)
                return
            }
            try replay.applyAndObserve(event, symbols, body)
        }
        return replay
    }

    /// Replays `event` and hands its step to `body`. A call of its own, so
    /// that a quiet store, which needs no step, does not pay for making
    /// room for one (a copy of the event on every event).
    @inline(never) private mutating func applyAndObserve(_ event: TraceEvent, _ symbols: SymbolTable,
                                                         _ body: (ReplayStep, inout Replayer) throws(TraceError) -> Void) throws(TraceError) {
        let step = try applyLendingTouches(event, symbols: symbols)
        try body(step, &self)
        returnTouches(of: consume step)
    }

    /// Calls `body` with every event of `reader`, in order, and the names it
    /// may refer to, while a second thread parses the batches that follow;
    /// `afterBatch` hears the events handed over so far and the file bytes
    /// read after each batch. The first malformed event stops the run after
    /// every event before it.
    static func pipelined(_ reader: TraceReader, afterBatch: (_ events: Int, _ fileBytes: UInt64) -> Void = { _, _ in },
                          _ body: (TraceEvent, SymbolTable) throws(TraceError) -> Void) throws(TraceError) {
        let pipe = EventPipe(reader)
        let parser = Thread {
            yieldToConsumer()
            pipe.produce()
        }
        parser.stackSize = 1 << 20
        parser.start()
        defer { pipe.cancel() }
        var events = 0
        // Read once: each read of a global checks that it was initialized
        // (a call into the runtime), and most events name nothing.
        let none = noSymbols
        while let batch = pipe.take() {
            for i in batch.events.indices {
                // The names only for events that refer to some, passed
                // straight from the batch (a conditional expression would
                // make a copy: a retain and release of each of its arrays).
                if batch.events[i].kind.namesNothing {
                    try body(batch.events[i], none)
                } else {
                    try body(batch.events[i], batch.symbols)
                }
            }
            let fileBytes = batch.fileBytes
            events += batch.events.count
            pipe.recycle(batch.events)
            afterBatch(events, fileBytes)
        }
        if let error = pipe.failure { throw error }
    }
}
