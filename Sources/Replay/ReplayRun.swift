import Foundation
import TraceFormat

extension Replayer {
    /// Replays every event of `reader`, stopping after event `stopAfter`
    /// (1-based) when given. Returns the replayer, ready to be queried.
    ///
    /// A whole-trace replay (no `stopAfter`) is pipelined when `pipelined`:
    /// one thread parses batches of events while this one replays them, so
    /// the wall time is close to the slower of the two rather than their sum.
    /// Errors come in trace order either way: the first malformed line stops
    /// the replay after every event before it.
    public static func run(_ reader: TraceReader, stopAfter: Int? = nil, keepHistory: Bool = false,
                           pipelined: Bool = true, limits: ReplayLimits = .standard) throws(TraceError) -> Replayer {
        var replay = Replayer(fileName: reader.fileName, keepHistory: keepHistory, limits: limits)
        if pipelined && stopAfter == nil {
            // No step is built: nothing but the replayer looks at the events.
            try Self.pipelined(reader) { (event, symbols) throws(TraceError) in try replay.applyEvent(event, symbols) }
            return replay
        }
        while replay.eventCount != stopAfter, let event = try reader.next() {
            // The reader's symbol table (a copy of several arrays) is taken
            // only for events that name something.
            try replay.applyEvent(event, event.kind.namesNothing ? noSymbols : reader.symbols)
        }
        return replay
    }
}

extension EventKind {
    /// Events whose replay needs no names (no unit, no table label).
    var namesNothing: Bool {
        switch self {
        case .store, .`init`, .flush, .fence, .mark, .begin, .end: true
        default: false
        }
    }
}

/// Batches of parsed events handed from the parsing thread to the replaying
/// one. At most `depth` batches are in flight, and their arrays are reused:
/// memory stays bounded and nothing is allocated per event.
final class EventPipe: @unchecked Sendable {
    struct Batch {
        var events: [TraceEvent]
        /// The reader's names as of the batch's last event.
        var symbols: SymbolTable
        /// Bytes taken from the file as of the batch's last event (read on
        /// the parsing thread, so that a progress line need not touch the
        /// reader).
        var fileBytes: UInt64 = 0
    }

    static let batchSize = 4096
    /// Batches in flight. Either thread, finding the pipe full or empty,
    /// sleeps until half of them are free or ready, not one: handing over
    /// a batch at a time made the threads take turns (a wake-up per batch)
    /// and left a core idle while the scheduler caught up.
    static let depth = 8

    private let reader: TraceReader
    private let condition = NSCondition()
    private var full: [Batch] = []
    private var spare: [[TraceEvent]] = []
    private var arrays = 0
    private var finished = false
    private var cancelled = false
    private var producerWaiting = false
    private var consumerWaiting = false
    private(set) var failure: TraceError?

    init(_ reader: TraceReader) { self.reader = reader }

    /// The parsing thread's loop.
    func produce() {
        var events = spareArray()
        do {
            while true {
                try reader.read(into: &events, upTo: Self.batchSize)
                guard events.count == Self.batchSize else { break }
                guard put(Batch(events: events, symbols: reader.symbols, fileBytes: reader.fileBytes)) else { return }
                events = spareArray()
            }
        } catch {
            condition.lock()
            failure = error
            condition.unlock()
        }
        _ = put(Batch(events: events, symbols: reader.symbols, fileBytes: reader.fileBytes))
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func spareArray() -> [TraceEvent] {
        condition.lock()
        defer { condition.unlock() }
        if spare.isEmpty && arrays >= Self.depth {
            producerWaiting = true
            while spare.count < Self.depth / 2 && !cancelled { condition.wait() }
            producerWaiting = false
        }
        if let array = spare.popLast() { return array }
        arrays += 1
        var array: [TraceEvent] = []
        array.reserveCapacity(Self.batchSize)
        return array
    }

    /// Queues a batch; false when the consumer has gone.
    private func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if cancelled { return false }
        if !batch.events.isEmpty { full.append(batch) }
        if consumerWaiting && full.count >= Self.depth / 2 { condition.broadcast() }
        return true
    }

    /// The next batch, or nil at the end (or after a parse error).
    func take() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        if full.isEmpty && !finished {
            consumerWaiting = true
            while full.count < Self.depth / 2 && !finished { condition.wait() }
            consumerWaiting = false
        }
        return full.isEmpty ? nil : full.removeFirst()
    }

    /// Gives a batch's array back for reuse.
    func recycle(_ events: [TraceEvent]) {
        var events = events
        events.removeAll(keepingCapacity: true)
        condition.lock()
        spare.append(events)
        if producerWaiting && spare.count >= Self.depth / 2 { condition.broadcast() }
        condition.unlock()
    }

    /// Stops the parsing thread (the replay failed or is done).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
