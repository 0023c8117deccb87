import ArgumentParser
import TraceFormat

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Rewrite a trace in the canonical text form, plain or zstd-compressed.",
        discussion: "Kernel trace output becomes plain events; comments and foreign lines are dropped."
    )

    @Argument(help: "The trace to read; - reads standard input.")
    var input: String

    @Argument(help: "Where to write; - writes standard output. Compressed when it ends in .zst.")
    var output: String

    @Flag(help: "Compress with zstd whatever the output's name.")
    var zstd = false

    @Option(help: "zstd compression level (1-19).")
    var level: Int32 = 3

    func run() throws {
        let reader = try TraceReader(path: input)
        let file = try OutputFile(path: output, compress: zstd || output.hasSuffix(".zst"), level: level)
        try file.write(TraceWriter.header)
        while let event = try reader.next() {
            try file.write(TraceWriter.line(for: event, symbols: reader.symbols))
        }
        try file.commit()
    }
}
