import Foundation
import TraceFormat

/// Renders ``TraceStatistics`` for `hitless stats`.
public enum StatsReport {
    /// One block per trace, aligned for reading.
    public static func text(_ all: [TraceStatistics]) -> String {
        var out = ""
        for stats in all {
            out += "\(stats.file)\(stats.compressed ? " (zstd)" : "")\n"
            out += "  events        \(stats.events)\n"
            for kind in EventKind.allCases {
                let n = stats.eventsByKind[kind.name] ?? 0
                if n > 0 { out += "    \(kind.name.padding(toLength: 10, withPad: " ", startingAt: 0))\(n)\n" }
            }
            out += "  units         \(stats.units.isEmpty ? "-" : stats.units.joined(separator: " "))\n"
            let tables = TableKind.allCases.compactMap { kind in stats.declaredTables[kind.name].map { "\(kind.name) \($0)" } }
            out += "  tables        \(tables.isEmpty ? "-" : tables.joined(separator: ", "))\n"
            out += "  cpus          \(stats.cpus.isEmpty ? "-" : stats.cpus.map(String.init).joined(separator: " "))\n"
            if let first = stats.firstTime, let last = stats.lastTime {
                out += "  time          \(first) .. \(last) ns (\(last - first) ns)\n"
            } else {
                out += "  time          -\n"
            }
            out += "  lines         \(stats.lines) (\(stats.foreignLines) foreign skipped)\n"
            out += "  bytes         \(stats.fileBytes) read, \(stats.textBytes) text\n"
        }
        return out
    }

    /// `{"version": 1, "traces": [...]}` with sorted keys.
    public static func json(_ all: [TraceStatistics]) throws -> String {
        struct Document: Encodable {
            var version = 1
            var traces: [TraceStatistics]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Document(traces: all)), as: UTF8.self) + "\n"
    }
}
