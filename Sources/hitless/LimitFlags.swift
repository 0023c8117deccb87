import ArgumentParser
import Replay

/// The replay's limits, for every command that replays a trace. The
/// defaults keep memory under 64 MiB whatever the trace; a machine with more
/// live table entries than that needs them raised.
struct LimitFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Most table entries tracked.", valueName: "n"))
    var maxEntries: Int = ReplayLimits.standard.entries

    @Option(help: ArgumentHelp("Most tables reachable at once.", valueName: "n"))
    var maxTables: Int = ReplayLimits.standard.tables

    @Option(help: ArgumentHelp("Most 256-byte memory pages stores may write.", valueName: "n"))
    var maxPages: Int = ReplayLimits.standard.pages

    func validate() throws {
        guard maxEntries >= 1 else { throw ValidationError("--max-entries takes a number from 1") }
        guard maxTables >= 1 else { throw ValidationError("--max-tables takes a number from 1") }
        guard maxPages >= 1 else { throw ValidationError("--max-pages takes a number from 1") }
    }

    var limits: ReplayLimits { ReplayLimits(entries: maxEntries, tables: maxTables, pages: maxPages) }
}
