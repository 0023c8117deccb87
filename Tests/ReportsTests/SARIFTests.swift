import Checks
import Foundation
import Reports
import Testing
import TestSupport

/// The SARIF log of `text`'s findings, decoded loosely.
private func sarifLog(_ results: [AnalysisResult], baseline: Baseline? = nil) throws -> [String: Any] {
    try jsonObject(try SARIFReport.sarif(results, memoryModel: .tso, baseline: baseline))
}

private func run(_ log: [String: Any]) throws -> [String: Any] {
    let runs = try #require(log["runs"] as? [[String: Any]])
    try #require(runs.count == 1)
    return runs[0]
}

private func results(_ log: [String: Any]) throws -> [[String: Any]] {
    try #require(try run(log)["results"] as? [[String: Any]])
}

private func primaryPhysical(_ result: [String: Any]) throws -> [String: Any] {
    let locations = try #require(result["locations"] as? [[String: Any]])
    return try #require(locations.first?["physicalLocation"] as? [String: Any])
}

@Suite("SARIF output")
struct SARIFTests {
    @Test func theLogIsVersion210WithOneRunByHitless() throws {
        let log = try sarifLog([try analyzeSample("pasid-teardown-before")])
        #expect(log["version"] as? String == "2.1.0")
        let driver = try #require((try run(log)["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "hitless")
        #expect(driver["version"] as? String == toolVersion)
    }

    @Test func theDriverListsEveryRuleWithDescriptionsLevelAndHelp() throws {
        let log = try sarifLog([])
        let driver = try #require((try run(log)["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.compactMap { $0["id"] as? String } == Rule.allCases.map(\.rawValue))
        for (rule, descriptor) in zip(Rule.allCases, rules) {
            #expect((descriptor["shortDescription"] as? [String: Any])?["text"] as? String == rule.summary)
            #expect(((descriptor["fullDescription"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            #expect((descriptor["defaultConfiguration"] as? [String: Any])?["level"] as? String == rule.severity.rawValue)
            #expect((descriptor["help"] as? [String: Any])?["text"] as? String == rule.help)
        }
    }

    @Test func eachResultNamesItsRuleByIdAndIndexWithItsLevel() throws {
        let log = try sarifLog([try analyzeSample("pasid-teardown-before", model: .weak)])
        let found = try results(log)
        #expect(found.compactMap { $0["ruleId"] as? String } == ["missing-barrier", "ownership-handshake"])
        #expect(found.compactMap { $0["ruleIndex"] as? Int } == [Rule.missingBarrier, .ownershipHandshake].map { Rule.allCases.firstIndex(of: $0)! })
        #expect(found.compactMap { $0["level"] as? String } == ["error", "warning"])
    }

    @Test func aFileAndLineSiteBecomesTheSourceLocation() throws {
        let result = try #require(try results(try sarifLog([try analyzeText(teardownTrace(table: 0x10000, time: 100))])).first)
        let physical = try primaryPhysical(result)
        let artifact = try #require(physical["artifactLocation"] as? [String: Any])
        #expect(artifact["uri"] as? String == "pasid.c")
        #expect(artifact["uriBaseId"] as? String == SARIFReport.sourceRoot)
        #expect((physical["region"] as? [String: Any])?["startLine"] as? Int == 412)
    }

    @Test func withoutAFileAndLineSiteTheEntryMemoryAtTheStoresTraceLineIsThePrimaryLocation() throws {
        let analyzed = try analyzeSample("pasid-teardown-before")
        let store = try #require(analyzed.findings.first?.events.first { $0.kind == "store" })
        let result = try #require(try results(try sarifLog([analyzed])).first)
        let physical = try primaryPhysical(result)
        let artifact = try #require(physical["artifactLocation"] as? [String: Any])
        #expect((artifact["uri"] as? String)?.hasSuffix("/Samples/pasid-teardown-before.trace.zst") == true)
        #expect(artifact["uriBaseId"] == nil)
        #expect((physical["region"] as? [String: Any])?["startLine"] as? Int == Int(store.line))
        let address = try #require(physical["address"] as? [String: Any])
        #expect(address["absoluteAddress"] as? Int == 0x103040)
        #expect(address["length"] as? Int == 64)
        #expect(address["fullyQualifiedName"] as? String == "dmar0 pasid 00:02.0/1")
    }

    @Test func aSymbolSiteNamesItsFunctionAtThePrimaryLocation() throws {
        let result = try #require(try results(try sarifLog([try analyzeSample("pasid-teardown-before")])).first)
        let logical = try #require((result["locations"] as? [[String: Any]])?.first?["logicalLocations"] as? [[String: Any]])
        #expect(logical.contains { $0["kind"] as? String == "function" && $0["name"] as? String == "pasid_clear_entry" })
    }

    @Test func theEntryIdentityIsAnObjectLogicalLocation() throws {
        let result = try #require(try results(try sarifLog([try analyzeSample("pasid-teardown-before")])).first)
        let logical = try #require((result["locations"] as? [[String: Any]])?.first?["logicalLocations"] as? [[String: Any]])
        #expect(logical.first?["fullyQualifiedName"] as? String == "dmar0 pasid 00:02.0/1")
        #expect(logical.first?["kind"] as? String == "object")
    }

    @Test func withASourceLocationTheEntryMemoryIsTheFirstRelatedLocation() throws {
        let result = try #require(try results(try sarifLog([try analyzeText(teardownTrace(table: 0x10000, time: 100))])).first)
        let related = try #require(result["relatedLocations"] as? [[String: Any]])
        #expect(related.first?["id"] as? Int == 0)
        let address = try #require((related.first?["physicalLocation"] as? [String: Any])?["address"] as? [String: Any])
        #expect(address["absoluteAddress"] as? Int == 0x10040)
        #expect(address["length"] as? Int == 64)
    }

    @Test func withASourceLocationTheOtherInvolvedEventsAreRelatedLocations() throws {
        let analysis = try analyzeText(teardownTrace(table: 0x10000, time: 100))
        let result = try #require(try results(try sarifLog([analysis])).first)
        let related = try #require(result["relatedLocations"] as? [[String: Any]])
        #expect(related.compactMap { $0["id"] as? Int } == Array(0...analysis.findings[0].events.count).filter { $0 != 1 })
    }

    @Test func withoutASourceLocationEveryInvolvedEventIsRelatedAtItsTraceLine() throws {
        let analysis = try analyzeSample("pasid-teardown-before")
        let result = try #require(try results(try sarifLog([analysis])).first)
        let related = try #require(result["relatedLocations"] as? [[String: Any]])
        let lines = related.compactMap { (($0["physicalLocation"] as? [String: Any])?["region"] as? [String: Any])?["startLine"] as? Int }
        #expect(lines == analysis.findings[0].events.map { Int($0.line) })
        let uris = related.compactMap { (($0["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any])?["uri"] as? String }
        #expect(uris.allSatisfy { $0.hasSuffix(samplePath("pasid-teardown-before")) })
    }

    @Test func theCodeFlowListsEveryInvolvedEventInOrder() throws {
        let analysis = try analyzeSample("pasid-replace-fetched")
        for (finding, result) in zip(analysis.findings, try results(try sarifLog([analysis]))) {
            let flows = try #require(result["codeFlows"] as? [[String: Any]])
            let threads = try #require(flows.first?["threadFlows"] as? [[String: Any]])
            #expect(flows.count == 1 && threads.count == 1)
            let steps = try #require(threads[0]["locations"] as? [[String: Any]])
            #expect(steps.compactMap { $0["executionOrder"] as? Int } == Array(1...finding.events.count))
            let lines = steps.compactMap { ((($0["location"] as? [String: Any])?["physicalLocation"] as? [String: Any])?["region"] as? [String: Any])?["startLine"] as? Int }
            #expect(lines == finding.events.map { Int($0.line) })
        }
    }

    @Test func partialFingerprintsCarryTheFindingFingerprint() throws {
        let analysis = try analyzeSample("pasid-teardown-before")
        let result = try #require(try results(try sarifLog([analysis])).first)
        #expect(result["partialFingerprints"] as? [String: String] == [SARIFReport.fingerprintKey: analysis.findings[0].fingerprint])
    }

    @Test func withABaselineKnownResultsAreUnchangedAndOthersNew() throws {
        let known = try analyzeSample("pasid-teardown-before")
        let other = try analyzeSample("pasid-replace-before")
        let log = try sarifLog([known, other], baseline: Baseline(findings: known.findings))
        #expect(try results(log).compactMap { $0["baselineState"] as? String } == ["unchanged", "new"])
    }

    @Test func withoutABaselineResultsHaveNoBaselineState() throws {
        let log = try sarifLog([try analyzeSample("pasid-teardown-before")])
        #expect(try results(log).allSatisfy { $0["baselineState"] == nil })
    }

    @Test func problemsWithTheTraceAreToolNotificationsAtTheirLine() throws {
        let trace = """
            hitless-trace 1
            iommu id=dmar0 coherent=1
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 unit=dmar0
            init addr=0x10040 size=16 value=0x50000000000000041
            fetch addr=0x10040 size=16 value=0x1234 unit=dmar0

            """
        let sarif = try SARIFReport.sarif([try analyzeText(trace)], memoryModel: .tso)
        let invocation = try #require((try run(try jsonObject(sarif))["invocations"] as? [[String: Any]])?.first)
        let notes = try #require(invocation["toolExecutionNotifications"] as? [[String: Any]])
        #expect(notes.count == 1)
        let location = try #require((notes.first?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((location["region"] as? [String: Any])?["startLine"] as? Int == 5)
        #expect(try schemaViolations(sarif, schema: sarifSchema) == [])
    }

    @Test func sitesParseAsFileAndLineOnlyWhenTheyNameBoth() {
        #expect(SARIFReport.sourceLine("pasid.c:412")! == ("pasid.c", 412, nil))
        #expect(SARIFReport.sourceLine("drivers/iommu/intel/pasid.c:412:9")! == ("drivers/iommu/intel/pasid.c", 412, 9))
        #expect(SARIFReport.sourceLine("pasid_clear_entry+0x14") == nil)
        #expect(SARIFReport.sourceLine("pasid.c") == nil)
        #expect(SARIFReport.sourceLine(":12") == nil)
    }

    @Test func pathsBecomeURIReferences() {
        #expect(SARIFReport.uriReference("Samples/a b.trace") == "Samples/a%20b.trace")
        #expect(SARIFReport.uriReference("c:x#1") == "c%3Ax%231")
        #expect(SARIFReport.uriReference("/tmp/t.trace") == "file:///tmp/t.trace")
    }
}
