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
    /// `afterBatch`, when given, is called on this thread after every batch
    /// (4096 events) with the events replayed so far and the bytes taken
    /// from the file by then: enough for a progress line, without touching
    /// the reader, which the parsing thread owns until the end.
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
    public static func forEachStep(_ reader: TraceReader, keepHistory: Bool = false, limits: ReplayLimits = .standard,
                                   pipelined: Bool = true,
                                   afterBatch: ((_ events: Int, _ fileBytes: UInt64) -> Void)? = nil,
                                   _ body: (ReplayStep, inout Replayer) throws(TraceError) -> Void) throws(TraceError) -> Replayer {
        var replay = Replayer(fileName: reader.fileName, keepHistory: keepHistory, limits: limits)
        if !pipelined {
            while let event = try reader.next() {
                let step = try replay.apply(event, symbols: event.kind.namesNothing ? noSymbols : reader.symbols)
                try body(step, &replay)
            }
            return replay
        }
        try Self.pipelined(reader, afterBatch: { fileBytes in afterBatch?(replay.eventCount, fileBytes) }) {
            (event, symbols) throws(TraceError) in
            let step = try replay.apply(event, symbols: symbols)
            try body(step, &replay)
        }
        return replay
    }

    /// Calls `body` with every event of `reader`, in order, and the names it
    /// may refer to, while a second thread parses the batches that follow;
    /// `afterBatch` hears the file bytes read after each batch. The first
    /// malformed event stops the run after every event before it.
    static func pipelined(_ reader: TraceReader, afterBatch: ((_ fileBytes: UInt64) -> Void)? = nil,
                          _ body: (TraceEvent, SymbolTable) throws(TraceError) -> Void) throws(TraceError) {
        let pipe = EventPipe(reader)
        let parser = Thread { pipe.produce() }
        parser.stackSize = 1 << 20
        parser.start()
        defer { pipe.cancel() }
        while let batch = pipe.take() {
            for i in batch.events.indices {
                // The names (a copy of several arrays) only for events that
                // refer to some.
                try body(batch.events[i], batch.events[i].kind.namesNothing ? noSymbols : batch.symbols)
            }
            let fileBytes = batch.fileBytes
            pipe.recycle(batch.events)
            afterBatch?(fileBytes)
        }
        if let error = pipe.failure { throw error }
    }
}
