import ArgumentParser
import Replay
import Reports
import TraceFormat

struct EntriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entries",
        abstract: "List every table entry that was reachable and touched, with its updates and final value."
    )

    @Argument(help: "The trace (plain or zstd); - reads standard input.")
    var trace: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @OptionGroup var limits: LimitFlags

    @Flag(help: ArgumentHelp("Replay only and print counts (a diagnostic, for benchmarks).", visibility: .hidden))
    var summary = false

    @Flag(help: ArgumentHelp("Parse and replay on one thread (a diagnostic, for benchmarks).", visibility: .hidden))
    var singleThread = false

    func run() throws {
        let replay = try Replayer.run(TraceReader(path: trace), pipelined: !singleThread, limits: limits.limits)
        if summary {
            try emit(EntriesReport.summary(replay), to: output)
            return
        }
        let rows = EntriesReport.entryRows(replay)
        try emit(format == .json ? EntriesReport.json(rows) : EntriesReport.text(rows), to: output)
    }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Print the decoded entries as the unit would see them just after an event."
    )

    @Argument(help: "The trace (plain or zstd); - reads standard input.")
    var trace: String

    @Option(help: "The event (1-based, as reports number them) after which to stop.")
    var at: Int

    @Option(help: "Only this entry, e.g. 'dmar0 pasid 00:02.0/5', decoded from memory whether or not it was touched; an error when it is not reachable.")
    var entry: String?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @OptionGroup var limits: LimitFlags

    func validate() throws {
        guard at >= 1 else { throw ValidationError("--at takes an event number from 1") }
        if let entry, EntryIdentity(parsing: entry) == nil {
            throw ValidationError("--entry: cannot read '\(entry)'; write it as 'dmar0 pasid 00:02.0/5' or 'dmar0 context 00:1f.3'")
        }
    }

    func run() throws {
        let replay = try Replayer.run(TraceReader(path: trace), stopAfter: at, limits: limits.limits)
        guard replay.eventCount == at else {
            throw ValidationError("--at \(at): the trace has only \(replay.eventCount) events")
        }
        let identity = entry.flatMap(EntryIdentity.init(parsing:))
        let rows = EntriesReport.stateRows(replay, identity: identity)
        if let identity, rows.isEmpty {
            throw ValidationError("--entry '\(identity)': no reachable table gives this entry just after event \(at)")
        }
        try emit(format == .json ? EntriesReport.json(rows, event: at) : EntriesReport.text(rows), to: output)
    }
}
