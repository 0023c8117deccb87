import Checks
import Testing
import TraceFormat
import TraceGenerator

/// Analyzes a generated trace.
func analyzeGenerated(_ options: GeneratorOptions, model: MemoryModel) throws -> ([Finding], GeneratorManifest) {
    let (text, manifest) = TraceGenerator.text(options)
    let result = try Analysis.run(TraceReader(text: text, name: "generated.trace"), options: AnalysisOptions(memoryModel: model))
    return (result.findings, manifest)
}

/// One buggy generated trace shared by the tests below (generated once).
let buggyOptions = GeneratorOptions(events: 80_000, seed: 3, buggyRate: 0.2)
let buggyUnderTSO = Result { try analyzeGenerated(buggyOptions, model: .tso) }
let buggyUnderWeak = Result { try analyzeGenerated(buggyOptions, model: .weak) }

/// Findings of `rule` on `unit`.
func count(_ findings: [Finding], _ rule: Rule, _ unit: String) -> Int {
    findings.filter { $0.rule == rule && $0.unit == unit }.count
}

@Suite("Generated traces: the seeded races and nothing else")
struct GeneratedTraceTests {
    @Test(arguments: [MemoryModel.tso, .weak])
    func aTraceOfCorrectUpdatesHasNoFinding(_ model: MemoryModel) throws {
        let (findings, manifest) = try analyzeGenerated(GeneratorOptions(events: 30_000, seed: 7), model: model)
        #expect(manifest.updates.values.reduce(0, +) > 200)
        #expect(findings.map { "\($0.rule.rawValue) \($0.entry.identity)" } == [])
    }

    @Test func everySeededTeardownOnACoherentUnitSkipsTheHandshake() throws {
        let (findings, manifest) = try buggyUnderTSO.get()
        for unit in ["dmar0", "dmar1"] {
            let seeded = manifest.racesByUnit[unit]?["pasid-teardown-zero-first"] ?? 0
            #expect(seeded > 0)
            #expect(count(findings, .ownershipHandshake, unit) == seeded)
        }
        #expect(count(findings, .ownershipHandshake, "dmar3") == manifest.racesByUnit["dmar3"]?["context-teardown-zero-first"])
    }

    @Test func underWeakEverySeededMissingBarrierIsFound() throws {
        let (findings, manifest) = try buggyUnderWeak.get()
        for unit in ["dmar0", "dmar1"] {
            let races = manifest.racesByUnit[unit] ?? [:]
            // A teardown that zeroes first is also reorderable before its
            // own Present-clearing store.
            let expected = (races["pasid-setup-missing-barrier"] ?? 0) + (races["pasid-teardown-zero-first"] ?? 0)
            #expect(count(findings, .missingBarrier, unit) == expected)
        }
        #expect(count(findings, .missingBarrier, "dmar3") == manifest.racesByUnit["dmar3"]?["context-teardown-zero-first"])
    }

    @Test func inPlaceReplacementsAreTornAndNothingElseIsReported() throws {
        let (findings, manifest) = try buggyUnderTSO.get()
        let replaced = ["dmar0", "dmar1", "dmar2"].map { manifest.racesByUnit[$0]?["pasid-replace-in-place"] ?? 0 }.reduce(0, +)
        let torn = findings.filter { $0.rule == .tornWindow }
        #expect(torn.count > 0)
        // A replacement that changes one chunk's used bits is atomic, and a
        // zero-first teardown on the non-coherent dmar2 is published by one
        // flush: torn only when it spans chunks.
        #expect(torn.count <= replaced + (manifest.racesByUnit["dmar2"]?["pasid-teardown-zero-first"] ?? 0))
        #expect(findings.filter { $0.rule == .missingInvalidation || $0.rule == .missingFlush }.isEmpty)
        #expect(findings.filter { $0.unit == "dmar4" }.isEmpty)
    }
}
