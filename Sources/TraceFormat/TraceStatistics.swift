/// What one trace holds, counted in one pass: the figures `hitless stats`
/// prints.
public struct TraceStatistics: Sendable, Equatable, Codable {
    /// The file's name as given.
    public var file: String
    /// True when the file was zstd-compressed.
    public var compressed: Bool
    /// Number of events.
    public var events: UInt64 = 0
    /// Number of events of each kind, keyed by the kind's name; every kind is
    /// present.
    public var eventsByKind: [String: UInt64]
    /// Units named by the trace, in order of first appearance.
    public var units: [String] = []
    /// Number of `table` lines, keyed by table kind.
    public var declaredTables: [String: UInt64] = [:]
    /// The CPUs of the trace's events, ascending.
    public var cpus: [UInt32] = []
    /// The first and the last `t=`, in nanoseconds, where the trace has any.
    public var firstTime: UInt64?
    /// See ``firstTime``.
    public var lastTime: UInt64?
    /// Lines read, and lines of other tracers skipped in kernel trace output.
    public var lines: UInt64 = 0
    /// See ``lines``.
    public var foreignLines: UInt64 = 0
    /// Bytes taken from the file (compressed when it is) and bytes of text.
    public var fileBytes: UInt64 = 0
    /// See ``fileBytes``.
    public var textBytes: UInt64 = 0

    /// Counts everything `reader` has left. `progress`, when given, is
    /// called with the events counted so far every 65536 events.
    public init(reading reader: TraceReader, progress: ((UInt64) -> Void)? = nil) throws(TraceError) {
        file = reader.fileName
        compressed = reader.isCompressed
        var byKind = [UInt64](repeating: 0, count: EventKind.allCases.count)
        var unitSeen = Set<Symbol>()
        var unitOrder: [Symbol] = []
        var tables = [UInt64](repeating: 0, count: TableKind.allCases.count)
        var cpuSeen = Set<UInt32>()
        var lastCPU: UInt32 = .max
        var lastUnit = Symbol(.max)
        while let event = try reader.next() {
            events += 1
            if events & 0xffff == 0, let progress { progress(events) }
            byKind[Int(event.kind.rawValue)] += 1
            if event.unit != lastUnit {
                lastUnit = event.unit
                if unitSeen.insert(event.unit).inserted { unitOrder.append(event.unit) }
            }
            if event.cpu != lastCPU {
                lastCPU = event.cpu
                cpuSeen.insert(event.cpu)
            }
            if let t = event.time {
                if firstTime == nil { firstTime = t }
                lastTime = t
            }
            if case .table(let table) = event.payload { tables[Int(table.kind.rawValue)] += 1 }
        }
        let symbols = reader.symbols
        eventsByKind = Dictionary(uniqueKeysWithValues: EventKind.allCases.map { ($0.name, byKind[Int($0.rawValue)]) })
        units = unitOrder.map { symbols[$0] }
        for kind in TableKind.allCases where tables[Int(kind.rawValue)] > 0 {
            declaredTables[kind.name] = tables[Int(kind.rawValue)]
        }
        cpus = cpuSeen.sorted()
        lines = reader.lines
        foreignLines = reader.foreignLines
        fileBytes = reader.fileBytes
        textBytes = reader.textBytes
    }
}
