import Checks
import Foundation
import TraceFormat

/// Analyzes a trace given as text.
func analyze(_ text: String, model: MemoryModel = .tso, rules: Set<Rule> = Set(Rule.allCases)) throws -> [Finding] {
    try Analysis.run(TraceReader(text: text, name: "t.trace"),
                     options: AnalysisOptions(memoryModel: model, rules: rules)).findings
}

/// The rule ids of `findings`, in report order.
func rules(_ findings: [Finding]) -> [String] { findings.map(\.rule.rawValue) }

/// A declared PASID table of device 00:02.0 on the default unit, holding a
/// live first-stage entry for PASID 1 at 0x10040: val[0] = P | PGTT 1,
/// val[1] = DID 5, val[2] = first-stage page table 0x200000.
let livePasidEntry = """
    table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0
    init addr=0x10040 size=16 value=0x50000000000000041
    init addr=0x10050 size=8 value=0x200000

    """

/// The same table with PASID 1 not present and zero.
let emptyPasidEntry = """
    table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0

    """

/// The PASID-cache and PASID-based IOTLB invalidations of PASID 1 with
/// domain `did`, each waited for.
func pasidInvalidations(did: Int) -> String {
    """

    inval type=pasid gran=pasid did=\(did) pasid=1
    wait
    inval type=piotlb gran=pasid did=\(did) pasid=1
    wait

    """
}

/// The repository's Samples folder.
let samplesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Samples")

/// Analyzes a sample of Samples/.
func analyzeSample(_ name: String, model: MemoryModel) throws -> [Finding] {
    try Analysis.run(TraceReader(path: samplesFolder.appendingPathComponent(name).path),
                     options: AnalysisOptions(memoryModel: model)).findings
}
