import ArgumentParser
import Reports
import TraceFormat

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count a trace's events by kind, its units, tables, CPUs and time span."
    )

    @Argument(help: "Trace files (text or binary, plain or zstd); - reads standard input.")
    var traces: [String]

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
    var output: String?

    func validate() throws {
        try validateStandardInputOnce(traces)
    }

    func run() throws {
        var all: [TraceStatistics] = []
        let progress = Progress()
        for path in traces {
            let reader = try TraceReader(path: path)
            all.append(try TraceStatistics(reading: reader, progress: progress.isEnabled ? { events in
                progress.show(bytes: reader.fileBytes, events: events)
            } : nil))
        }
        progress.finish()
        try emit(format == .json ? StatsReport.json(all) : StatsReport.text(all), to: output)
    }
}
