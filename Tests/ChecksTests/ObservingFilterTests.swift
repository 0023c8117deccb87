import Checks
import Replay
import Testing
import TraceFormat
import TraceGenerator

/// `Analysis.run` does not build steps for the events `Analysis.observes`
/// refuses (marks, declarations, `init`, and barriers the memory model does
/// not follow). That filter must agree with what `observe` does with each
/// event: an analysis handed every step finds exactly the same.
@Suite("Steps the analysis skips")
struct ObservingFilterTests {
    /// Findings of an analysis that is handed every step, none filtered.
    func findingsObservingEverything(_ reader: TraceReader, model: MemoryModel) throws -> [Finding] {
        var analysis = Analysis(traceName: reader.fileName, options: AnalysisOptions(memoryModel: model))
        let replay = try Replayer.forEachStep(reader, skippingQuietStores: true) { step, replay throws(TraceError) in
            try analysis.observe(step, replay: &replay)
        }
        return try analysis.finish(replay: replay, symbols: reader.symbols)
    }

    /// PASID 1 set up by a CPU that puts `kind` between the entry's words
    /// and the word with Present, and again before it marks the trace.
    static func setup(separatedBy kind: FenceKind) -> String {
        emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x5 cpu=1
            store addr=0x10050 size=8 value=0x200000 cpu=1
            fence kind=\(kind.name) cpu=1
            store addr=0x10040 size=8 value=0x41 cpu=1
            fence kind=\(kind.name) cpu=1
            mark text=done cpu=1

            """
    }

    @Test(arguments: FenceKind.allCases, [MemoryModel.tso, .weak])
    func everyBarrierKindFindsTheSameFiltered(_ kind: FenceKind, _ model: MemoryModel) throws {
        let text = Self.setup(separatedBy: kind)
        #expect(try analyze(text, model: model) == findingsObservingEverything(TraceReader(text: text, name: "t.trace"), model: model))
    }

    @Test(arguments: [MemoryModel.tso, .weak])
    func aGeneratedTraceWithRacesFindsTheSameFiltered(_ model: MemoryModel) throws {
        let (text, _) = TraceGenerator.text(GeneratorOptions(events: 40_000, seed: 5, buggyRate: 0.2))
        let filtered = try analyze(text, model: model)
        let everything = try findingsObservingEverything(TraceReader(text: text, name: "t.trace"), model: model)
        #expect(!filtered.isEmpty)
        #expect(filtered == everything)
    }

    @Test(arguments: sampleExpectations.map { $0.name + ".trace.zst" } + readerSampleExpectations.map(\.name),
          [MemoryModel.tso, .weak])
    func everySampleFindsTheSameFiltered(_ name: String, _ model: MemoryModel) throws {
        let path = samplesFolder.appendingPathComponent(name).path
        #expect(try analyzeSample(name, model: model) == findingsObservingEverything(TraceReader(path: path), model: model))
    }
}
