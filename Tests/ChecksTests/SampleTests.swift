import Checks
import Testing

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
    .init(name: "pasid-replace-fetched", tso: ["torn-window", "torn-read"], weak: ["torn-window", "torn-read"]),
    .init(name: "pasid-setup-ok", tso: [], weak: []),
    .init(name: "pasid-setup-no-barrier", tso: [], weak: ["missing-barrier"]),
    .init(name: "pasid-setup-smp-wmb", tso: [], weak: ["missing-barrier"]),
    .init(name: "pasid-did-change-new-did", tso: ["missing-invalidation"], weak: ["missing-invalidation"]),
    .init(name: "pasid-setup-unflushed", tso: ["missing-flush"], weak: ["missing-flush"]),
    .init(name: "pasid-setup-unaligned", tso: ["unaligned-store"], weak: ["unaligned-store"]),
]

@Suite("The samples")
struct SampleTests {
    @Test(arguments: sampleExpectations)
    func reportsWhatItsReadmeSaysUnderTSO(_ sample: SampleExpectation) throws {
        #expect(rules(try analyzeSample(sample.name + ".trace.zst", model: .tso)) == sample.tso)
    }

    @Test(arguments: sampleExpectations)
    func reportsWhatItsReadmeSaysUnderWeak(_ sample: SampleExpectation) throws {
        #expect(rules(try analyzeSample(sample.name + ".trace.zst", model: .weak)) == sample.weak)
    }
}
