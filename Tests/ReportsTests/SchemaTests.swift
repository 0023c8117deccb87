import Checks
import Foundation
import Reports
import Testing
import TestSupport

@Suite("Reports validate against their schemas")
struct SchemaTests {
    @Test func theReportSchemaIsAValidDraft202012Schema() throws {
        // Validating no report still checks the schema itself.
        #expect(try schemaViolations([:], schema: reportSchema).isEmpty)
    }

    @Test func theSchemaTestsCoverEveryTraceInSamples() {
        #expect(sampleFiles.count == sampleNames.count + 2)
        #expect(sampleFiles.contains("every-kind.trace") && sampleFiles.contains("kernel-trace.txt"))
    }

    @Test(arguments: sampleFileRuns)
    func everySampleJSONReportMatchesTheReportSchema(_ run: SampleRun) throws {
        #expect(try sampleReportViolations.get().json[run.description] == [])
    }

    @Test(arguments: sampleFileRuns)
    func everySampleSARIFReportMatchesTheOfficialSARIFSchema(_ run: SampleRun) throws {
        #expect(try sampleReportViolations.get().sarif[run.description] == [])
    }

    @Test func aReportOfSeveralTracesWithABaselineMatchesBothSchemas() throws {
        let results = try sampleNames.map { try analyzeSample($0, model: .weak) }
        let baseline = Baseline(findings: try analyzeSample("pasid-teardown-before").findings)
        let json = try AnalysisReport.json(results, memoryModel: .weak, baseline: baseline)
        let sarif = try SARIFReport.sarif(results, memoryModel: .weak, baseline: baseline)
        #expect(try schemaViolations(json, schema: reportSchema) == [])
        #expect(try schemaViolations(sarif, schema: sarifSchema) == [])
    }

    @Test(arguments: samplePairs)
    func diffReportsOfEachPairMatchBothSchemasInBothDirections(_ pair: SamplePair) throws {
        var json: [String: String] = [:], sarif: [String: String] = [:]
        for (base, new) in [(pair.before, pair.after), (pair.after, pair.before)] {
            let diff = try diffSamples(base, new, model: .weak)
            json[base] = try DiffReport.json(diff)
            sarif[base] = try DiffReport.sarif(diff)
        }
        #expect(try schemaViolations(json, schema: reportSchema).values.allSatisfy(\.isEmpty))
        #expect(try schemaViolations(sarif, schema: sarifSchema).values.allSatisfy(\.isEmpty))
    }

    @Test func theSchemaRejectsAReportWithAnUndocumentedField() throws {
        let json = try AnalysisReport.json([try analyzeSample("pasid-teardown-before")], memoryModel: .tso)
        let tampered = json.replacingOccurrences(of: "\"summary\" :", with: "\"extra\" : 1, \"summary\" :")
        #expect(try !schemaViolations(tampered, schema: reportSchema).isEmpty)
    }

    @Test func theSchemaRejectsAFindingWithAnUndocumentedField() throws {
        let json = try AnalysisReport.json([try analyzeSample("pasid-teardown-before")], memoryModel: .tso)
        let tampered = json.replacingOccurrences(of: "\"fingerprint\" :", with: "\"extra\" : 1, \"fingerprint\" :")
        #expect(tampered != json)
        #expect(try !schemaViolations(tampered, schema: reportSchema).isEmpty)
    }

    @Test func theSchemaRejectsAReportOfAnotherVersion() throws {
        let json = try AnalysisReport.json([try analyzeSample("pasid-teardown-before")], memoryModel: .tso)
        let tampered = json.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2")
        #expect(tampered != json)
        #expect(try !schemaViolations(tampered, schema: reportSchema).isEmpty)
    }

    @Test func theJSONReportCarriesVersionOne() throws {
        let json = try AnalysisReport.json([try analyzeSample("pasid-setup-ok")], memoryModel: .tso)
        #expect(try jsonObject(json)["version"] as? Int == 1)
    }

    @Test func theCLIWritesSchemaValidJSONAndSARIF() throws {
        let json = try hitless(["analyze", "--format", "json", samplePath("pasid-replace-fetched")])
        let sarif = try hitless(["analyze", "--format", "sarif", samplePath("pasid-replace-fetched")])
        let diff = try hitless(["diff", "--format", "json", samplePath("pasid-replace-before"), samplePath("pasid-replace-fetched")])
        #expect(try schemaViolations(["analyze": json.stdout, "diff": diff.stdout], schema: reportSchema) == ["analyze": [], "diff": []])
        #expect(try schemaViolations(sarif.stdout, schema: sarifSchema) == [])
    }
}
