import ArgumentParser
import Reports
import TraceFormat

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Rewrite a trace in the canonical text form or the binary form, plain or zstd-compressed.",
        discussion: """
            Kernel trace output becomes plain events; comments and foreign lines are dropped. \
            The output is binary with --to binary or when OUT ends in .htb or .htb.zst \
            (docs/BINARY-FORMAT.md), text otherwise; zstd-compressed when OUT ends in .zst or with --zstd.
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case text, binary
    }

    @Argument(help: "The trace to read (text, binary, either zstd-compressed); - reads standard input.")
    var input: String

    @Argument(help: "Where to write; - writes standard output. Compressed when it ends in .zst.")
    var output: String

    @Option(help: "Output form: text or binary (default: binary when OUT ends in .htb or .htb.zst, else text).")
    var to: Target?

    @Flag(help: "Compress with zstd whatever the output's name.")
    var zstd = false

    @Option(help: "zstd compression level (1-19).")
    var level: Int32 = 3

    func run() throws {
        let target = to ?? (output.hasSuffix(".htb") || output.hasSuffix(".htb.zst") ? .binary : .text)
        let reader = try TraceReader(path: input)
        let file = try OutputFile(path: output, compress: zstd || output.hasSuffix(".zst"), level: level)
        let progress = Progress()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        var events: UInt64 = 0
        var binary = BinaryTraceWriter()
        buffer.append(contentsOf: target == .binary ? BinaryTraceFormat.header : Array(TraceWriter.header.utf8))
        while let event = try reader.next() {
            if target == .binary {
                binary.append(event, symbols: reader.symbols, to: &buffer)
            } else {
                TraceWriter.append(event, symbols: reader.symbols, to: &buffer)
            }
            events += 1
            if buffer.count >= 1 << 16 {
                try file.write(bytes: buffer)
                buffer.removeAll(keepingCapacity: true)
                if progress.isEnabled { progress.show(bytes: reader.fileBytes, events: events) }
            }
        }
        try file.write(bytes: buffer)
        progress.finish()
        try file.commit()
    }
}
