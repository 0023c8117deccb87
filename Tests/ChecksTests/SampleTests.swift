import Checks
import Testing
import TraceFormat

/// What `hitless analyze` must report on each sample, per memory model.
struct SampleExpectation: Sendable, CustomStringConvertible {
    var name: String
    var tso: [String]
    var weak: [String]
    var description: String { name }
}

let sampleExpectations: [SampleExpectation] = [
    .init(name: "pasid-teardown-before", tso: ["ownership-handshake"], weak: ["missing-barrier", "ownership-handshake"]),
    .init(name: "pasid-teardown-after", tso: [], weak: []),
    .init(name: "context-teardown-before", tso: ["ownership-handshake"], weak: ["missing-barrier", "ownership-handshake"]),
    .init(name: "context-teardown-after", tso: [], weak: []),
    .init(name: "pasid-replace-before", tso: ["torn-window"], weak: ["torn-window"]),
    .init(name: "pasid-replace-after", tso: [], weak: []),
    .init(name: "pasid-replace-fetched", tso: ["torn-read", "torn-window"], weak: ["torn-read", "torn-window"]),
    .init(name: "pasid-setup-ok", tso: [], weak: []),
    .init(name: "pasid-setup-no-barrier", tso: [], weak: ["missing-barrier"]),
    .init(name: "pasid-setup-smp-wmb", tso: [], weak: ["missing-barrier"]),
    .init(name: "pasid-did-change-new-did", tso: ["missing-invalidation"], weak: ["missing-invalidation"]),
    .init(name: "pasid-setup-unflushed", tso: ["missing-flush"], weak: ["missing-flush"]),
    .init(name: "pasid-setup-unaligned", tso: ["unaligned-store"], weak: ["unaligned-store"]),
]

/// The plain-text reader samples, by file name.
let readerSampleExpectations: [SampleExpectation] = [
    .init(name: "every-kind.trace", tso: ["missing-flush"], weak: ["missing-flush"]),
    .init(name: "kernel-trace.txt", tso: [], weak: []),
]

@Suite("The samples")
struct SampleTests {
    @Test(arguments: readerSampleExpectations)
    func aReaderSampleReportsWhatItsReadmeSays(_ sample: SampleExpectation) throws {
        #expect(rules(try analyzeSample(sample.name, model: .tso)) == sample.tso)
        #expect(rules(try analyzeSample(sample.name, model: .weak)) == sample.weak)
    }

    @Test(arguments: sampleExpectations)
    func reportsWhatItsReadmeSaysUnderTSO(_ sample: SampleExpectation) throws {
        #expect(rules(try analyzeSample(sample.name + ".trace.zst", model: .tso)) == sample.tso)
    }

    @Test(arguments: sampleExpectations)
    func reportsWhatItsReadmeSaysUnderWeak(_ sample: SampleExpectation) throws {
        #expect(rules(try analyzeSample(sample.name + ".trace.zst", model: .weak)) == sample.weak)
    }

    @Test(arguments: sampleExpectations)
    func aRunOnOneThreadFindsTheSame(_ sample: SampleExpectation) throws {
        let path = samplesFolder.appendingPathComponent(sample.name + ".trace.zst").path
        for model in MemoryModel.allCases {
            let options = AnalysisOptions(memoryModel: model)
            let pipelined = try Analysis.run(TraceReader(path: path), options: options).findings
            let oneThread = try Analysis.run(TraceReader(path: path), options: options, pipelined: false).findings
            #expect(oneThread.map(\.message) == pipelined.map(\.message))
            #expect(oneThread.map(\.fingerprint) == pipelined.map(\.fingerprint))
        }
    }

    /// The torn-state search once kept its witnesses in dictionaries: which
    /// stores a finding named changed with hash order from run to run.
    @Test(arguments: sampleExpectations)
    func theSameTraceGivesTheSameFindingsEveryTime(_ sample: SampleExpectation) throws {
        for model in MemoryModel.allCases {
            let first = try analyzeSample(sample.name + ".trace.zst", model: model)
            for _ in 0..<8 {
                let again = try analyzeSample(sample.name + ".trace.zst", model: model)
                #expect(again.map(\.message) == first.map(\.message))
                #expect(again.map(\.fingerprint) == first.map(\.fingerprint))
            }
        }
    }
}
