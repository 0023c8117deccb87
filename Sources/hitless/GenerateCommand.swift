import ArgumentParser
import Foundation
import TraceFormat
import TraceGenerator

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a deterministic, realistic VT-d trace (for benchmarks and for testing the checks).",
        discussion: """
            Five units (scalable and legacy, some not coherent, one with caching mode), hundreds \
            of devices and thousands of PASIDs, tables set up by stores walking root -> context -> \
            PASID directory -> PASID table, updates as Linux makes them since the 2026 fixes and, \
            for --buggy of them, the racy way it made them before; invalidations, waits, recorded \
            fetches and mostly unrelated stores from eight CPUs. The same options give the same \
            bytes. The counts of each seeded race go to --manifest (JSON) and to standard error.
            """
    )

    @Option(help: "Events in the trace, exactly.")
    var events: Int

    @Option(help: "The seed.")
    var seed: UInt64 = 1

    @Option(help: "Fraction (0 to 1) of table updates made the racy way.")
    var buggy: Double = 0

    @Option(name: .shortAndLong, help: "The trace file; zstd-compressed when it ends in .zst; - for standard output.")
    var output: String

    @Option(help: "Write the counts of updates, seeded races and fetches to this JSON file.")
    var manifest: String?

    @Option(help: ArgumentHelp("zstd compression level.", visibility: .hidden))
    var level: Int32 = 3

    func validate() throws {
        guard events >= 0 else { throw ValidationError("--events must be 0 or more") }
        guard (0...1).contains(buggy) else { throw ValidationError("--buggy takes a fraction from 0 to 1") }
    }

    func run() throws {
        let file = try OutputFile(path: output, compress: output.hasSuffix(".zst"), level: level)
        let options = GeneratorOptions(events: events, seed: seed, buggyRate: buggy)
        let result = try TraceGenerator.generate(options) { (chunk: UnsafeBufferPointer<UInt8>) throws(TraceError) in
            try file.write(bytes: chunk)
        }
        try file.commit()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let manifest {
            try emit(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n", to: manifest)
        }
        var summary = "generated \(result.events) events, \(result.devices) devices, \(result.pasids) PASIDs, \(result.fetches) fetches\n"
        summary += "  correct: " + result.updates.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        summary += "  racy:    " + result.races.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        // On a unit that reads memory, the clflush that ends a sequence
        // publishes its stores together: the checks see fewer races there.
        let nonCoherent = result.units.filter { $0.contains(" coherent=0") }.compactMap { $0.split(separator: " ").first.map(String.init) }
        for unit in nonCoherent.sorted() {
            guard let races = result.racesByUnit[unit], races.values.contains(where: { $0 > 0 }) else { continue }
            summary += "    of which on \(unit) (coherent=0, one clflush publishes each sequence, so not every one is a finding): "
                + races.sorted { $0.key < $1.key }.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        }
        FileHandle.standardError.write(Data(summary.utf8))
    }
}
