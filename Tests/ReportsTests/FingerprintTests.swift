import Checks
import Foundation
import Reports
import Testing
import TestSupport
import TraceFormat
import TraceGenerator

@Suite("Fingerprints")
struct FingerprintTests {
    let first = teardownTrace(table: 0x10000, time: 100)
    let second = teardownTrace(table: 0x7f000, time: 9_000_000, padding: 5)

    @Test func theSameRaceInTwoRunsWithOtherAddressesAndTimesHasTheSameFingerprints() throws {
        let a = try analyzeText(first).findings
        let b = try analyzeText(second).findings
        #expect(a.map(\.rule) == [.ownershipHandshake, .missingInvalidation])
        #expect(a.map(\.entry.addr) != b.map(\.entry.addr))
        #expect(a.map { $0.events.map(\.line) } != b.map { $0.events.map(\.line) })
        #expect(a.map(\.fingerprint) == b.map(\.fingerprint))
    }

    @Test func twoGeneratedRunsOfTheSameRacesAtOtherAddressesAndTimesHaveTheSameFingerprints() throws {
        let options = GeneratorOptions(events: 30_000, seed: 4, buggyRate: 0.3)
        var moved = options
        moved.addressOffset = 0x4_2000_0000
        moved.startTime = 7_000_000_000_000
        let (first, second) = (TraceGenerator.text(options).0, TraceGenerator.text(moved).0)
        let a = try analyzeText(first).findings
        let b = try analyzeText(second).findings
        #expect(a.count >= 10)
        #expect(Set(a.map(\.rule)).count >= 2)
        #expect(a.count == b.count && zip(a, b).allSatisfy { $0.entry.addr != $1.entry.addr })
        #expect(try firstTime(first) != firstTime(second))
        #expect(a.map(\.fingerprint) == b.map(\.fingerprint))
    }

    @Test func theSARIFPartialFingerprintsOfTheTwoRunsAreEqual() throws {
        func fingerprints(_ text: String) throws -> [[String: String]] {
            let log = try jsonObject(try SARIFReport.sarif([try analyzeText(text)], memoryModel: .tso))
            let results = try #require((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
            return results.compactMap { $0["partialFingerprints"] as? [String: String] }
        }
        let a = try fingerprints(first)
        #expect(a.count == 2)
        #expect(a == (try fingerprints(second)))
    }

    @Test func diffingTheTwoRunsFindsEveryRaceUnchanged() throws {
        let diff = try diffTexts(first, second)
        #expect(diff.unchanged.count == 2)
        #expect(diff.introduced.isEmpty && diff.fixed.isEmpty)
    }

    @Test func anotherSiteGivesAnotherFingerprint() throws {
        let moved = first.replacingOccurrences(of: "pasid.c:412", with: "pasid.c:415")
        let a = try analyzeText(first).findings
        let b = try analyzeText(moved).findings
        #expect(a[0].fingerprint != b[0].fingerprint)
    }
}

/// The time of the first event of `text` that has one.
private func firstTime(_ text: String) throws -> UInt64? {
    let reader = try TraceReader(text: text, name: "generated.trace")
    while let event = try reader.next() {
        if let time = event.time { return time }
    }
    return nil
}
