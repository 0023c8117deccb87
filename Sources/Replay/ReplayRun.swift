import TraceFormat

extension Replayer {
    /// Replays every event of `reader`, stopping after event `stopAfter`
    /// (1-based) when given. Returns the replayer, ready to be queried.
    public static func run(_ reader: TraceReader, stopAfter: Int? = nil, keepHistory: Bool = false) throws(TraceError) -> Replayer {
        var replay = Replayer(fileName: reader.fileName, keepHistory: keepHistory)
        while replay.eventCount != stopAfter, let event = try reader.next() {
            // No step is built, and the reader's symbol table (a copy of
            // several arrays) is taken only for events that name something.
            switch event.kind {
            case .store, .`init`, .flush, .fence, .mark, .begin, .end: try replay.applyEvent(event, noSymbols)
            default: try replay.applyEvent(event, reader.symbols)
            }
        }
        return replay
    }
}
