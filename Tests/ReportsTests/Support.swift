import Checks
import Foundation
import Reports
import Testing
import TraceFormat
import TestSupport

/// docs/report.schema.json: the JSON report contract.
let reportSchema = packageRoot.appendingPathComponent("docs/report.schema.json").path

/// The official SARIF 2.1.0 schema (OASIS), kept in the repository so that
/// tests do not depend on anything outside it.
let sarifSchema = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Resources/sarif-schema-2.1.0.json").path

/// The race samples of Samples/, by name without `.trace.zst`.
let sampleNames = [
    "pasid-teardown-before", "pasid-teardown-after", "context-teardown-before", "context-teardown-after",
    "pasid-replace-before", "pasid-replace-after", "pasid-replace-fetched", "pasid-setup-ok",
    "pasid-setup-no-barrier", "pasid-setup-smp-wmb", "pasid-did-change-new-did", "pasid-setup-unflushed",
    "pasid-setup-unaligned",
]

/// A sample under a memory model, for parameterized tests.
struct SampleRun: Sendable, CustomStringConvertible {
    var name: String
    var model: MemoryModel
    var description: String { "\(name) (\(model.rawValue))" }
}

let sampleRuns = sampleNames.flatMap { name in MemoryModel.allCases.map { SampleRun(name: name, model: $0) } }

/// Every trace in Samples/ (all but its README and the script that writes
/// them), by file name, found on disk so that no new sample is left out.
let sampleFiles: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Samples").path)) ?? []
    return names.filter { $0 != "README.md" && !$0.hasSuffix(".py") }.sorted()
}()

/// Every trace in Samples/ under each memory model; `name` is the file name.
let sampleFileRuns = sampleFiles.flatMap { file in MemoryModel.allCases.map { SampleRun(name: file, model: $0) } }

/// Analyzes the file `Samples/FILE`.
func analyzeSampleFile(_ file: String, model: MemoryModel = .tso) throws -> AnalysisResult {
    try Analysis.run(TraceReader(path: packageRoot.appendingPathComponent("Samples").appendingPathComponent(file).path),
                     options: AnalysisOptions(memoryModel: model))
}

/// A before/after pair of samples: the race the 2026 fix removed, under
/// `tso`.
struct SamplePair: Sendable, CustomStringConvertible {
    var name: String
    var race: [String]
    var description: String { name }
    var before: String { samplePath(name + "-before") }
    var after: String { samplePath(name + "-after") }
}

let samplePairs = [
    SamplePair(name: "pasid-teardown", race: ["ownership-handshake"]),
    SamplePair(name: "context-teardown", race: ["ownership-handshake"]),
    SamplePair(name: "pasid-replace", race: ["torn-window"]),
]

/// The path of a sample, relative to the package root (as the CLI tests run
/// there, reports name it so).
func samplePath(_ name: String) -> String { "Samples/\(name).trace.zst" }

/// Analyzes a sample.
func analyzeSample(_ name: String, model: MemoryModel = .tso) throws -> AnalysisResult {
    try Analysis.run(TraceReader(path: packageRoot.appendingPathComponent(samplePath(name)).path),
                     options: AnalysisOptions(memoryModel: model))
}

/// Analyzes a trace given as text.
func analyzeText(_ text: String, name: String = "t.trace", model: MemoryModel = .tso) throws -> AnalysisResult {
    try Analysis.run(TraceReader(text: text, name: name), options: AnalysisOptions(memoryModel: model))
}

/// Diffs two traces given as text.
func diffTexts(_ base: String, _ new: String, model: MemoryModel = .tso) throws -> TraceDiff {
    try TraceDiff.run(base: TraceReader(text: base, name: "base.trace"), new: TraceReader(text: new, name: "new.trace"),
                      options: AnalysisOptions(memoryModel: model))
}

/// Diffs two samples.
func diffSamples(_ base: String, _ new: String, model: MemoryModel = .tso) throws -> TraceDiff {
    try TraceDiff.run(base: TraceReader(path: packageRoot.appendingPathComponent(base).path),
                      new: TraceReader(path: packageRoot.appendingPathComponent(new).path),
                      options: AnalysisOptions(memoryModel: model))
}

/// A PASID teardown done the old way (the live entry zeroed word by word,
/// then only the PASID cache invalidated): an ownership-handshake and a
/// missing-invalidation race. The PASID table sits at `table`, times start
/// at `time`, and `padding` comment lines shift every line number, so two
/// calls differ in everything but what software did and where in the code.
func teardownTrace(table: UInt64, time: UInt64, padding: Int = 0) -> String {
    let entry = table + 0x40
    func h(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
    var lines = ["hitless-trace 1"] + Array(repeating: "# run notes", count: padding)
    lines += [
        "iommu id=dmar0 coherent=1",
        "table addr=\(h(table)) kind=pasid sid=00:02.0 pasid-base=0 unit=dmar0",
        "init addr=\(h(entry)) size=16 value=0x50000000000000041",
        "init addr=\(h(entry + 16)) size=8 value=0x200000",
        "store addr=\(h(entry)) size=8 value=0x0 t=\(time) cpu=1 at=pasid.c:412",
        "store addr=\(h(entry + 8)) size=8 value=0x0 t=\(time + 10) cpu=1 at=pasid.c:412",
        "store addr=\(h(entry + 16)) size=8 value=0x0 t=\(time + 20) cpu=1 at=pasid.c:412",
        "inval type=pasid gran=pasid did=5 pasid=1 unit=dmar0 t=\(time + 30) cpu=1 at=pasid.c:430",
        "wait unit=dmar0 t=\(time + 40) cpu=1 at=qi.c:77",
    ]
    return lines.joined(separator: "\n") + "\n"
}

/// Decodes a JSON document into loose objects, for looking at fields.
func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

// MARK: - Schema validation

/// Validates JSON documents against a JSON Schema with python3's
/// `jsonschema` (the validator class the schema's `$schema` names, format
/// checks on), all in one python process. Returns the violations of each
/// document by its key, one line each; empty when it is valid.
func schemaViolations(_ documents: [String: String], schema: String) throws -> [String: [String]] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hitless-schema-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let keys = documents.keys.sorted()
    var paths: [String] = []
    for (k, key) in keys.enumerated() {
        let path = dir.appendingPathComponent("\(k).json").path
        try Data(documents[key]!.utf8).write(to: URL(fileURLWithPath: path))
        paths.append(path)
    }
    let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("python3 has no jsonschema module: pip install jsonschema"); sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        for k, path in enumerate(sys.argv[2:]):
            for e in sorted(validator.iter_errors(json.load(open(path))), key=str):
                print(str(k) + "\\t/" + "/".join(map(str, e.absolute_path)) + ": " + e.message[:400].replace("\\n", " "))
        """
    let run = try runProcess("/usr/bin/env", ["python3", "-c", script, schema] + paths)
    try #require(run.status == 0, "the schema validator failed: \(run.stdout) \(run.stderr)")
    var out = Dictionary(uniqueKeysWithValues: keys.map { ($0, [String]()) })
    for line in run.stdout.split(separator: "\n") {
        let parts = line.split(separator: "\t", maxSplits: 1)
        guard parts.count == 2, let k = Int(parts[0]), k < keys.count else { continue }
        out[keys[k], default: []].append(String(parts[1]))
    }
    return out
}

/// The violations of one document.
func schemaViolations(_ document: String, schema: String) throws -> [String] {
    try schemaViolations(["document": document], schema: schema)["document"] ?? []
}

/// Every sample's JSON and SARIF report under both models, validated in one
/// python run per schema (a run costs most of a second; one per sample
/// would dominate the suite). Keyed by ``SampleRun/description``.
let sampleReportViolations: Result<(json: [String: [String]], sarif: [String: [String]]), any Error> = Result {
    var json: [String: String] = [:], sarif: [String: String] = [:]
    for run in sampleFileRuns {
        let result = try analyzeSampleFile(run.name, model: run.model)
        json[run.description] = try AnalysisReport.json([result], memoryModel: run.model)
        sarif[run.description] = try SARIFReport.sarif([result], memoryModel: run.model)
    }
    return (try schemaViolations(json, schema: reportSchema), try schemaViolations(sarif, schema: sarifSchema))
}
