import Foundation
import Testing
@testable import Checks
import Replay
import TraceFormat
import TraceGenerator

// Invalidations and waits visit only the entries the index names once many
// entries are pending on a unit (InvalidationInterest). The index must never
// miss an entry a request concerns: analysing with it must give exactly the
// findings of visiting every pending entry on every request.

/// The analysis of `trace` after its last event, and the replay.
private func analysis(of trace: String, indexThreshold: Int, model: MemoryModel = .tso) throws -> (Analysis, Replayer, SymbolTable) {
    var analysis = Analysis(traceName: "t.trace", options: AnalysisOptions(memoryModel: model, maxFindings: .max))
    analysis.interest.indexThreshold = indexThreshold
    let reader = try TraceReader(text: trace, name: "t.trace")
    let replay = try Replayer.forEachStep(reader, pipelined: false) { (step, replay) throws(TraceError) in
        try analysis.observe(step, replay: &replay)
    }
    return (analysis, replay, reader.symbols)
}

/// Findings of `trace`, with the index used from the first pending entry
/// (`threshold` 0) or never (`Int.max`), as comparable text.
private func findings(_ trace: String, indexThreshold: Int, model: MemoryModel = .tso) throws -> [String] {
    var (analysis, replay, symbols) = try analysis(of: trace, indexThreshold: indexThreshold, model: model)
    return try analysis.finish(replay: replay, symbols: symbols).map {
        "\($0.rule.rawValue) \($0.events.map(\.index)) \($0.message)"
    }
}

/// A random trace that updates PASID, legacy and scalable context entries of
/// several devices and issues invalidations of every type, granularity and
/// scope, with and without the optional keys: the requests the index must
/// sort into concerned and unconcerned.
private func randomInvalidationTrace(seed: UInt64, events: Int = 400) -> String {
    var rng = SplitMix64(seed: seed)
    func pick<T>(_ values: [T]) -> T { values[rng.below(values.count)] }
    let dids = [0, 1, 2, 5, 7, 9]
    let sids = ["00:02.0", "00:03.0", "00:01.0", "00:01.1", "00:01.5", "01:00.0", "01:03.0"]
    let pasids = [0, 1, 2, 3, 5]
    var lines = ["iommu id=iommu0 coherent=\(rng.chance(0.3) ? 0 : 1) caching-mode=\(rng.chance(0.3) ? 1 : 0)",
                 "table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0",
                 "table addr=0x20000 kind=pasid sid=00:03.0 pasid-base=0",
                 "table addr=0x30000 kind=context bus=0",
                 "table addr=0x40000 kind=sm-context bus=1"]
    // Entry addresses: PASID entries 0...5 of both tables, legacy context
    // entries of devfn 8, 9 and 13 (00:01.0, 00:01.1, 00:01.5), scalable
    // context entries of 01:00.0 and 01:03.0.
    let pasidEntries = [0x10000, 0x20000].flatMap { base in (0..<6).map { base + $0 * 64 } }
    let contextEntries = [8, 9, 13].map { 0x30000 + $0 * 16 }
    let smContextEntries = [0, 24].map { 0x40000 + $0 * 32 }
    for addr in pasidEntries where rng.chance(0.7) {
        lines.append("init addr=\(hex(addr)) size=16 value=0x\(String(pick(dids), radix: 16))00000000000000\(pick(["41", "01", "101"]))")
    }
    for addr in contextEntries where rng.chance(0.7) {
        lines.append("init addr=\(hex(addr)) size=16 value=0x\(String(pick(dids), radix: 16))020000000000030000\(pick(["1", "5"]))")
    }
    for addr in smContextEntries where rng.chance(0.7) {
        lines.append("init addr=\(hex(addr)) size=16 value=0x5000\(pick(["1", "5"]))")
    }
    let entries = pasidEntries + contextEntries + smContextEntries
    for _ in 0..<events {
        switch rng.below(12) {
        case 0, 1, 2:
            let addr = pick(entries) + 8 * rng.below(2)
            let value = pick(["0x0", "0x1", "0x41", "0x101", "0x5", "0x300001", "0x300005"] + dids.map { "0x\(String($0, radix: 16))02" })
            lines.append("store addr=\(hex(addr)) size=8 value=\(value)")
        case 3: lines.append("fence kind=\(pick(["dma_wmb", "wmb", "smp_wmb"]))")
        case 4: lines.append("fetch addr=\(hex(pick(entries))) size=16")
        case 5: lines.append("flush addr=\(hex(pick(entries)))")
        case 6, 7, 8, 9:
            lines.append(randomInvalidation(&rng, dids: dids, sids: sids, pasids: pasids))
        default: lines.append("wait")
        }
    }
    return lines.joined(separator: "\n") + "\n"
}

/// An invalidation of a random type and granularity VT-d defines, with the
/// keys it requires and, at random, others.
private func randomInvalidation(_ rng: inout SplitMix64, dids: [Int], sids: [String], pasids: [Int]) -> String {
    let type = InvalidationType.allCases.filter { $0 != .iec }[rng.below(6)]
    let grans = InvalidationGranularity.allCases.filter { type.validGranularities.contains($0) }
    let gran = grans[rng.below(grans.count)]
    var line = "inval type=\(type.name) gran=\(gran.name)"
    let devTLB = type == .devtlb || type == .pdevtlb
    let needsDID = !devTLB && gran != .global
    let needsSID = devTLB || gran == .device
    let needsPASID = gran == .pasid || (type == .pdevtlb && gran == .page)
    if needsDID || rng.chance(0.1) { line += " did=\(dids[rng.below(dids.count)])" }
    if needsSID || rng.chance(0.1) { line += " sid=\(sids[rng.below(sids.count)])" }
    if needsPASID || rng.chance(0.1) { line += " pasid=\(pasids[rng.below(pasids.count)])" }
    if gran == .page { line += " addr=0x1000" + (devTLB ? "" : " am=0") }
    if type == .context && gran == .device && rng.chance(0.4) { line += " fm=\(rng.below(4))" }
    return line
}

private func hex(_ value: Int) -> String { "0x" + String(value, radix: 16) }

@Suite("Invalidations visit the entries they concern")
struct InvalidationIndexTests {
    @Test(arguments: 0..<60)
    func theIndexFindsWhatVisitingEveryPendingEntryFinds(seed: Int) throws {
        let trace = randomInvalidationTrace(seed: UInt64(seed))
        for model in [MemoryModel.tso, .weak] {
            let indexed = try findings(trace, indexThreshold: 0, model: model)
            let exhaustive = try findings(trace, indexThreshold: .max, model: model)
            #expect(indexed == exhaustive, "seed \(seed), \(model)")
        }
    }

    @Test func theRandomTracesRaiseInvalidationFindingsAtAll() throws {
        // Guards the test above against traces that exercise nothing.
        var rules = Set<String>()
        for seed in 0..<60 {
            for finding in try findings(randomInvalidationTrace(seed: UInt64(seed)), indexThreshold: 0) {
                rules.insert(String(finding.prefix { $0 != " " }))
            }
        }
        #expect(rules.isSuperset(of: ["missing-invalidation", "missing-flush", "ownership-handshake"]))
    }

    /// `tables` PASID tables of 64 live entries, each fetched and changed,
    /// so that all of them wait for an invalidation; then `invalidations`
    /// requests for a PASID none of them has.
    private func pendingEntries(tables: Int, invalidations: Int) -> String {
        var lines: [String] = []
        for t in 0..<tables {
            let base = 0x100_0000 + t * 0x1000
            lines.append("table addr=\(hex(base)) kind=pasid sid=\(t) pasid-base=0")
            for i in 0..<64 { lines.append("init addr=\(hex(base + i * 64)) size=16 value=0x50000000000000041") }
            lines.append("fetch addr=\(hex(base)) size=4096")
            for i in 0..<64 { lines.append("store addr=\(hex(base + i * 64 + 8)) size=8 value=0x6") }
        }
        lines += Array(repeating: "inval type=pasid gran=pasid did=9 pasid=100", count: invalidations)
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func requestsThatConcernNoPendingEntryVisitNone() throws {
        let (analysis, _, _) = try analysis(of: pendingEntries(tables: 20, invalidations: 500), indexThreshold: 64)
        #expect(analysis.invalidationVisits == 0)
    }

    @Test func withFewEntriesPendingEveryRequestVisitsThemAll() throws {
        // Below the threshold a request visits every pending entry: with
        // one table, 64 entries times 10 requests.
        let (analysis, _, _) = try analysis(of: pendingEntries(tables: 1, invalidations: 10), indexThreshold: 64)
        #expect(analysis.invalidationVisits == 640)
    }

    @Test func aGeneratedTraceGivesTheSameFindingsWithAndWithoutTheIndex() throws {
        let (text, _) = TraceGenerator.text(GeneratorOptions(events: 20_000, seed: 11, buggyRate: 0.2))
        #expect(try findings(text, indexThreshold: 0) == findings(text, indexThreshold: .max))
    }
}

@Suite("Invalidation requests are judged by the fields their granularity uses")
struct CanonicalRequestTests {
    /// PASID 1's domain id changes from 5 to 6.
    let changedDomain = livePasidEntry + "store addr=0x10048 size=8 value=0x6\n"

    @Test func aDomainSelectiveRequestCoversEveryPASIDOfTheDomainWhateverPASIDItNames() throws {
        let findings = try analyze(changedDomain + """
            inval type=pasid gran=domain did=5 pasid=3
            inval type=piotlb gran=pasid did=5 pasid=1
            wait

            """)
        #expect(findings.isEmpty)
    }

    @Test func aPASIDSelectiveRequestForAnotherPASIDCoversNothing() throws {
        let findings = try analyze(changedDomain + """
            inval type=pasid gran=pasid did=5 pasid=3
            inval type=piotlb gran=pasid did=5 pasid=1
            wait

            """)
        #expect(rules(findings) == ["missing-invalidation"])
    }

    @Test func nearMissesAreKeptTwoPerRequirement() throws {
        let findings = try analyze(changedDomain + String(repeating: "inval type=pasid gran=pasid did=6 pasid=1\n", count: 5) + """
            inval type=piotlb gran=pasid did=5 pasid=1
            wait

            """)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings.first?.message.components(separatedBy: "has domain id 6").count == 3)
    }
}
