import TraceFormat

extension Replayer {
    /// Replays every event of `reader`, stopping after event `stopAfter`
    /// (1-based) when given. Returns the replayer, ready to be queried.
    public static func run(_ reader: TraceReader, stopAfter: Int? = nil, keepHistory: Bool = false) throws(TraceError) -> Replayer {
        var replay = Replayer(fileName: reader.fileName, keepHistory: keepHistory)
        while replay.eventCount != stopAfter, let event = try reader.next() {
            _ = try replay.apply(event, symbols: reader.symbols)
        }
        return replay
    }
}
