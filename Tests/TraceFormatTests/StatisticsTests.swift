import Foundation
import Testing
@testable import TraceFormat

@Suite("Counting a trace for `hitless stats`")
struct StatisticsTests {
    @Test func theEveryKindSampleCountsEachKindUnitTableAndCPU() throws {
        let stats = try TraceStatistics(reading: TraceReader(path: samplePath("every-kind.trace")))
        #expect(stats.events == 28)
        #expect(stats.eventsByKind == [
            "iommu": 2, "root": 2, "table": 3, "init": 2, "store": 3, "fence": 1, "flush": 1,
            "fetch": 2, "inval": 7, "wait": 2, "begin": 1, "end": 1, "mark": 1,
        ])
        #expect(stats.units == ["dmar0", "dmar1"])
        #expect(stats.declaredTables == ["pasid": 1, "context": 1, "generic": 1])
        #expect(stats.cpus == [0, 1])
        #expect(stats.firstTime == 100)
        #expect(stats.lastTime == 320)
        #expect(stats.lines == 33)
        #expect(stats.foreignLines == 0)
        #expect(!stats.compressed)
        #expect(stats.fileBytes == stats.textBytes)
    }

    @Test func theEveryKindSampleUsesEveryKeyOfTheFormat() throws {
        let text = try String(contentsOfFile: samplePath("every-kind.trace"), encoding: .utf8)
        let used = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .compactMap { token -> String? in
                guard let eq = token.firstIndex(of: "=") else { return nil }
                return String(token[..<eq])
            })
        for key in EventKey.allCases {
            #expect(used.contains(key.name.description), "every-kind.trace lacks \(key.name)=")
        }
    }

    @Test func theKernelTraceSampleCountsEventsAndForeignLines() throws {
        let stats = try TraceStatistics(reading: TraceReader(path: samplePath("kernel-trace.txt")))
        #expect(stats.events == 13)
        #expect(stats.eventsByKind.filter { $0.value > 0 } == [
            "store": 3, "fence": 1, "flush": 2, "inval": 3, "wait": 3, "mark": 1,
        ])
        #expect(stats.units == ["dmar0"])
        #expect(stats.declaredTables.isEmpty)
        #expect(stats.cpus == [2])
        #expect(stats.firstTime == 512_000_100_000)
        #expect(stats.lastTime == 512_000_180_000)
        #expect(stats.lines == 25)
        #expect(stats.foreignLines == 3)
    }

    @Test func aTraceWithoutTimesHasNoSpanAndTheDefaultUnit() throws {
        let stats = try TraceStatistics(reading: TraceReader(text: "wait\nfence kind=mb cpu=4\n"))
        #expect(stats.firstTime == nil && stats.lastTime == nil)
        #expect(stats.units == ["iommu0"])
        #expect(stats.cpus == [0, 4])
        #expect(stats.eventsByKind.count == EventKind.allCases.count, "every kind is present, zero or not")
    }

    @Test func aCompressedTraceCountsFileAndTextBytesApart() throws {
        let text = String(repeating: "wait\n", count: 1000)
        let stats = try TraceStatistics(reading: TraceReader(bytes: try zstdFrame(text)))
        #expect(stats.compressed)
        #expect(stats.textBytes == 5000)
        #expect(stats.fileBytes < 200)
        #expect(stats.events == 1000)
    }

    /// Every trace in Samples/, whoever wrote it.
    static let samples: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: samplePath(""))) ?? []
        return names.filter { $0.hasSuffix(".trace") || $0.hasSuffix(".zst") || $0.hasSuffix(".txt") }.sorted()
    }()

    @Test func thereAreSamples() {
        #expect(Self.samples.contains("every-kind.trace"))
        #expect(Self.samples.contains("kernel-trace.txt"))
    }

    @Test(arguments: samples)
    func everySampleReadsCleanlyAndItsCountsAddUp(name: String) throws {
        let reader = try TraceReader(path: samplePath(name))
        let stats = try TraceStatistics(reading: reader)
        #expect(stats.events > 0)
        #expect(stats.eventsByKind.values.reduce(0, +) == stats.events)
        #expect(stats.compressed == name.hasSuffix(".zst"))
        #expect(stats.fileBytes == UInt64(try Data(contentsOf: URL(fileURLWithPath: samplePath(name))).count))
        if let first = stats.firstTime, let last = stats.lastTime { #expect(first <= last) }
    }

    @Test(arguments: samples)
    func everySampleReadsBackTheSameFromItsCanonicalForm(name: String) throws {
        let reader = try TraceReader(path: samplePath(name))
        let events = try reader.readAll()
        let text = TraceWriter.header + events.map { TraceWriter.line(for: $0, symbols: reader.symbols) }.joined()
        let (again, symbols) = try read(text)
        #expect(again.map { ComparableEvent($0, symbols) } == events.map { ComparableEvent($0, reader.symbols) })
    }

    /// The decompressed text of a sample, through libzstd alone (not the
    /// line parser), for an oracle that shares no code with the reader's.
    static func text(of name: String) throws -> String {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: samplePath(name))))
        guard startsZstdData(bytes) else { return String(decoding: bytes, as: UTF8.self) }
        let source = try ZstdSource(input: MemorySource(bytes: bytes, name: name))
        defer { source.close() }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            out += chunk[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Counts a plain trace the naive way: first word per line, `key=value`
    /// tokens split on blanks.
    struct Oracle {
        var byKind: [String: UInt64] = [:]
        var units: [String] = []
        var cpus = Set<UInt32>()
        var tables: [String: UInt64] = [:]
        var times: [UInt64] = []

        init?(_ text: String) {
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
                let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard let first = tokens.first, !first.hasPrefix("#"), first != "hitless-trace" else { continue }
                // Only plain traces: a kernel trace's prefix needs the real parser.
                guard EventKind.allCases.contains(where: { $0.name == first }) else { return nil }
                byKind[String(first), default: 0] += 1
                var keys: [String: String] = [:]
                for token in tokens.dropFirst() {
                    guard let eq = token.firstIndex(of: "=") else { continue }
                    let key = String(token[..<eq])
                    if key == "text" { break }
                    keys[key] = String(token[token.index(after: eq)...])
                }
                let unit = first == "iommu" ? keys["id"] ?? "?" : keys["unit"] ?? "iommu0"
                if !units.contains(unit) { units.append(unit) }
                cpus.insert(keys["cpu"].flatMap(parseUnsignedInteger).map { UInt32($0) } ?? 0)
                if first == "table", let kind = keys["kind"] { tables[kind, default: 0] += 1 }
                if let t = keys["t"].flatMap(parseUnsignedInteger) { times.append(t) }
            }
        }
    }

    @Test(arguments: samples)
    func statsCountsEveryPlainSampleAsANaiveCountDoes(name: String) throws {
        guard let oracle = Oracle(try Self.text(of: name)) else { return }  // kernel trace output
        let stats = try TraceStatistics(reading: TraceReader(path: samplePath(name)))
        #expect(stats.eventsByKind.filter { $0.value > 0 } == oracle.byKind)
        #expect(stats.events == oracle.byKind.values.reduce(0, +))
        #expect(stats.units == oracle.units)
        #expect(stats.cpus == oracle.cpus.sorted())
        #expect(stats.declaredTables == oracle.tables)
        #expect(stats.firstTime == oracle.times.first)
        #expect(stats.lastTime == oracle.times.last)
        #expect(stats.textBytes == UInt64(try Self.text(of: name).utf8.count))
    }

    @Test func theNaiveCountCoversTheCompressedAndHandWrittenSamples() throws {
        for name in Self.samples where name.hasSuffix(".zst") || name == "every-kind.trace" {
            #expect(Oracle(try Self.text(of: name)) != nil, "\(name)")
        }
        #expect(Oracle(try Self.text(of: "kernel-trace.txt")) == nil)
    }
}
