import Checks
import Foundation
import Reports
import Testing
import TestSupport

@Suite("analyze --baseline")
struct BaselineTests {
    /// A JSON report of `sample` saved to a temporary file.
    func savedReport(_ sample: String) throws -> String {
        let run = try hitless(["analyze", "--format", "json", samplePath(sample)])
        return try temporaryFile(run.stdout)
    }

    @Test func findingsInTheBaselineDoNotCountTowardTheExitStatus() throws {
        let report = try savedReport("pasid-teardown-before")
        defer { try? FileManager.default.removeItem(atPath: report) }
        #expect(try hitless(["analyze", samplePath("pasid-teardown-before")]).status == 1)
        #expect(try hitless(["analyze", "--baseline", report, samplePath("pasid-teardown-before")]).status == 0)
    }

    @Test func findingsNotInTheBaselineStillCount() throws {
        let report = try savedReport("pasid-teardown-before")
        defer { try? FileManager.default.removeItem(atPath: report) }
        let run = try hitless(["analyze", "--baseline", report, samplePath("pasid-teardown-before"), samplePath("pasid-replace-before")])
        #expect(run.status == 1)
    }

    @Test func baselineFindingsAreStillPrintedAndMarked() throws {
        let report = try savedReport("pasid-teardown-before")
        defer { try? FileManager.default.removeItem(atPath: report) }
        let run = try hitless(["analyze", "--baseline", report, samplePath("pasid-teardown-before")])
        #expect(run.stdout.contains("warning[ownership-handshake] [baseline]:"))
        #expect(run.stdout.hasSuffix("1 finding: 1 warning in 1 trace; 1 in the baseline\n"))
    }

    @Test func theJSONReportGivesEachFindingItsBaselineState() throws {
        let known = try analyzeSample("pasid-teardown-before")
        let json = try AnalysisReport.json([known, try analyzeSample("pasid-replace-before")], memoryModel: .tso,
                                           baseline: Baseline(findings: known.findings))
        let findings = try #require(try jsonObject(json)["findings"] as? [[String: Any]])
        #expect(findings.compactMap { $0["baselineState"] as? String } == ["unchanged", "new"])
    }

    @Test func aReportReadsBackAsABaselineOfItsFingerprints() throws {
        let analysis = try analyzeSample("pasid-replace-fetched")
        let json = try AnalysisReport.json([analysis], memoryModel: .tso)
        let baseline = try Baseline(reportJSON: Data(json.utf8))
        #expect(baseline.fingerprints == Set(analysis.findings.map(\.fingerprint)))
    }

    @Test func aBaselineThatIsNoReportExitsTwo() throws {
        let bogus = try temporaryFile("{\"hello\": 1}")
        defer { try? FileManager.default.removeItem(atPath: bogus) }
        let run = try hitless(["analyze", "--baseline", bogus, samplePath("pasid-teardown-before")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("not a hitless JSON report"))
    }

    @Test func aMissingBaselineExitsTwo() throws {
        #expect(try hitless(["analyze", "--baseline", "no-such-report.json", samplePath("pasid-teardown-after")]).status == 2)
    }

    @Test func theSARIFReportMarksBaselineFindingsUnchanged() throws {
        let report = try savedReport("pasid-teardown-before")
        defer { try? FileManager.default.removeItem(atPath: report) }
        let run = try hitless(["analyze", "--format", "sarif", "--baseline", report, samplePath("pasid-teardown-before")])
        #expect(run.status == 0)
        let results = try #require((try jsonObject(run.stdout)["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        #expect(results.compactMap { $0["baselineState"] as? String } == ["unchanged"])
    }
}
