import Checks
import Foundation
import Reports
import Testing
import TestSupport
import TraceFormat
import Replay

@Suite("hitless diff")
struct DiffTests {
    @Test(arguments: samplePairs)
    func beforeToAfterListsTheRaceAsFixedAndNothingIntroduced(_ pair: SamplePair) throws {
        let diff = try diffSamples(pair.before, pair.after)
        #expect(diff.fixed.map(\.rule.rawValue) == pair.race)
        #expect(diff.introduced.isEmpty)
        #expect(diff.exitStatus == 0)
    }

    @Test(arguments: samplePairs)
    func afterToBeforeListsTheRaceAsIntroducedAndExitsOne(_ pair: SamplePair) throws {
        let diff = try diffSamples(pair.after, pair.before)
        #expect(diff.introduced.map(\.rule.rawValue) == pair.race)
        #expect(diff.fixed.isEmpty)
        #expect(diff.exitStatus == 1)
    }

    @Test(arguments: samplePairs)
    func theCLIExitsZeroForTheFixAndOneForItsReversal(_ pair: SamplePair) throws {
        let forward = try hitless(["diff", pair.before, pair.after])
        let backward = try hitless(["diff", pair.after, pair.before])
        #expect(forward.status == 0, "\(forward.stderr)")
        #expect(backward.status == 1, "\(backward.stderr)")
        #expect(forward.stdout.hasSuffix("1 fixed, 0 introduced, 0 unchanged; 1 of 1 matched entries changed\n"))
    }

    @Test(arguments: samplePairs)
    func eachPairMatchesItsEntryByIdentityAndShowsTheFirstDifference(_ pair: SamplePair) throws {
        let diff = try diffSamples(pair.before, pair.after)
        #expect(diff.entries.matched == 1)
        let change = try #require(diff.entries.changed.first)
        #expect(change.step == 1)
        #expect(change.base?.kind == "store" && change.new?.kind == "store")
        #expect(change.base?.text != change.new?.text)
    }

    @Test func theTeardownFixShowsPresentClearedAloneInsteadOfTheWholeWordZeroed() throws {
        let diff = try diffSamples(samplePath("pasid-teardown-before"), samplePath("pasid-teardown-after"))
        let change = try #require(diff.entries.changed.first)
        #expect(change.identity == "dmar0 pasid 00:02.0/1")
        #expect(change.base?.text == "store val[0] = 0x0")
        #expect(change.new?.text == "store val[0] = 0x40")
        #expect(change.new?.site == "pasid_clear_present+0xc")
    }

    @Test func aTraceDiffedWithItselfHasOnlyUnchangedFindingsAndNoChangedEntries() throws {
        let diff = try diffSamples(samplePath("pasid-replace-fetched"), samplePath("pasid-replace-fetched"))
        #expect(diff.introduced.isEmpty && diff.fixed.isEmpty)
        #expect(diff.unchanged.map(\.rule.rawValue) == ["torn-read", "torn-window"])
        #expect(diff.entries.changed.isEmpty)
        #expect(diff.exitStatus == 0)
    }

    @Test func entriesMatchByIdentityWhenTheirAddressesDiffer() throws {
        let diff = try diffTexts(teardownTrace(table: 0x10000, time: 100), teardownTrace(table: 0x7f000, time: 5000, padding: 3))
        #expect(diff.entries.matched == 1)
        #expect(diff.entries.onlyInBase.isEmpty && diff.entries.onlyInNew.isEmpty)
        #expect(diff.entries.changed.isEmpty)
    }

    @Test func aRaceWhoseKernelSitesMovedWithinTheirFunctionsIsUnchanged() throws {
        // A fix elsewhere in the function moves every offset after it.
        let base = teardownTrace(table: 0x10000, time: 100)
            .replacingOccurrences(of: "pasid.c:412", with: "pasid_clear_entry+0x14/0x30")
        let new = base.replacingOccurrences(of: "+0x14/0x30", with: "+0x1c/0x38")
        let diff = try diffTexts(base, new)
        #expect(diff.unchanged.map(\.rule) == [.ownershipHandshake, .missingInvalidation])
        #expect(diff.introduced.isEmpty && diff.fixed.isEmpty)
        #expect(diff.exitStatus == 0)
    }

    @Test func aRaceFromAnotherFunctionIsIntroduced() throws {
        let base = teardownTrace(table: 0x10000, time: 100)
            .replacingOccurrences(of: "pasid.c:412", with: "pasid_clear_entry+0x14/0x30")
        let new = base.replacingOccurrences(of: "pasid_clear_entry+0x14", with: "pasid_set_entry+0x14")
        let diff = try diffTexts(base, new)
        #expect(diff.introduced.map(\.rule) == [.ownershipHandshake, .missingInvalidation])
        #expect(diff.fixed.map(\.rule) == [.ownershipHandshake, .missingInvalidation])
    }

    @Test func anInvalidationWithTheWrongDomainShowsAsNoInvalidationOfTheEntry() throws {
        // The entry held domain 5 and now holds 0: a request for domain 6
        // cannot be for it, so NEW's sequence ends after the stores.
        let base = teardownTrace(table: 0x10000, time: 100)
        let new = base.replacingOccurrences(of: "did=5", with: "did=6")
        let change = try #require(try diffTexts(base, new).entries.changed.first)
        #expect(change.step == 4)
        #expect(change.previous?.text == "store val[2] = 0x0")
        #expect(change.base?.text == "inval type=pasid gran=pasid did=5 pasid=1")
        #expect(change.new == nil && change.newSteps == 3)
    }

    @Test func aMissingBarrierIsTheFirstDifference() throws {
        let diff = try diffSamples(samplePath("pasid-setup-ok"), samplePath("pasid-setup-no-barrier"))
        let change = try #require(diff.entries.changed.first)
        #expect(change.base?.text == "fence dma_wmb")
        #expect(change.new?.kind == "store")
    }

    @Test func entriesOnlyOneTraceUpdatesAreListedByIdentity() throws {
        let base = teardownTrace(table: 0x10000, time: 100)
        let new = base.replacingOccurrences(of: "pasid-base=0", with: "pasid-base=64")
        let diff = try diffTexts(base, new)
        #expect(diff.entries.onlyInBase == ["dmar0 pasid 00:02.0/1"])
        #expect(diff.entries.onlyInNew == ["dmar0 pasid 00:02.0/65"])
    }

    @Test func theTextReportEndsWithTheSummaryLine() throws {
        let text = DiffReport.text(try diffSamples(samplePath("pasid-replace-before"), samplePath("pasid-replace-after")))
        #expect(text.split(separator: "\n").last == "1 fixed, 0 introduced, 0 unchanged; 1 of 1 matched entries changed")
    }

    @Test func theSARIFDiffMarksIntroducedNewUnchangedUnchangedAndFixedAbsent() throws {
        let diff = try diffSamples(samplePath("pasid-replace-before"), samplePath("pasid-replace-fetched"))
        let log = try jsonObject(try DiffReport.sarif(diff))
        let results = try #require((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        let states = results.map { "\($0["ruleId"] ?? ""):\($0["baselineState"] ?? "")" }
        #expect(states == ["torn-read:new", "torn-window:unchanged"])
        let reverse = try jsonObject(try DiffReport.sarif(try diffSamples(samplePath("pasid-replace-fetched"), samplePath("pasid-replace-before"))))
        let reversed = try #require((reverse["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        #expect(reversed.map { "\($0["ruleId"] ?? ""):\($0["baselineState"] ?? "")" } == ["torn-window:unchanged", "torn-read:absent"])
    }

    @Test func theJSONDiffListsFindingsByState() throws {
        let diff = try diffSamples(samplePath("pasid-teardown-before"), samplePath("pasid-teardown-after"))
        let json = try jsonObject(try DiffReport.json(diff))
        #expect((json["fixed"] as? [[String: Any]])?.compactMap { $0["rule"] as? String } == ["ownership-handshake"])
        #expect((json["introduced"] as? [Any])?.isEmpty == true)
        #expect((json["unchanged"] as? [Any])?.isEmpty == true)
    }

    @Test func aMissingTraceExitsTwo() throws {
        let run = try hitless(["diff", samplePath("pasid-teardown-before"), "Samples/no-such.trace"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("no-such.trace"))
    }

    @Test func aMalformedTraceExitsTwo() throws {
        let path = try temporaryFile("hitless-trace 1\nstore adr=0x10\n", suffix: ".trace")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try hitless(["diff", path, samplePath("pasid-teardown-after")]).status == 2)
    }

    @Test func anUnknownRuleExitsTwo() throws {
        let run = try hitless(["diff", "--rules", "torn-everything", samplePath("pasid-teardown-before"), samplePath("pasid-teardown-after")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown rule"))
    }

    @Test func theRulesOptionLimitsWhatIsCompared() throws {
        let run = try hitless(["diff", "--rules", "torn-window", samplePath("pasid-teardown-after"), samplePath("pasid-teardown-before")])
        #expect(run.status == 0)
    }

    @Test func theMemoryModelOptionAppliesToBothTraces() throws {
        let run = try hitless(["diff", "--memory-model", "weak", "--format", "json",
                               samplePath("pasid-setup-ok"), samplePath("pasid-setup-no-barrier")])
        #expect(run.status == 1)
        let json = try jsonObject(run.stdout)
        #expect((json["introduced"] as? [[String: Any]])?.compactMap { $0["rule"] as? String } == ["missing-barrier"])
        #expect(json["memoryModel"] as? String == "weak")
    }
}

@Suite("Update sequences")
struct UpdateSequenceTests {
    func steps(_ sample: String, _ identity: String) throws -> [String] {
        let side = try DiffSide.analyze(TraceReader(path: packageRoot.appendingPathComponent(samplePath(sample)).path))
        let id = try #require(EntryIdentity(parsing: identity))
        let sequence = try #require(side.sequences[id])
        return sequence.steps.map { $0.action.text(kind: id.kind) }
    }

    @Test func anEntrySequenceListsItsStoresBarriersInvalidationsAndWaitsInOrder() throws {
        #expect(try steps("pasid-teardown-after", "dmar0 pasid 00:02.0/1") == [
            "store val[0] = 0x40", "fence dma_wmb",
            "inval type=pasid gran=pasid did=5 pasid=1", "wait",
            "inval type=piotlb gran=pasid did=5 pasid=1", "wait",
            "store val[0] = 0x0", "store val[1] = 0x0", "store val[2] = 0x0",
        ])
    }

    @Test func aBarrierIsChargedOnlyToTheStoresBeforeItOnItsCPU() throws {
        let trace = teardownTrace(table: 0x10000, time: 100)
            .replacingOccurrences(of: "wait unit=dmar0", with: "fence kind=dma_wmb cpu=3\nfence kind=smp_wmb cpu=1\nfence kind=dma_wmb cpu=1\nwait unit=dmar0")
        let side = try DiffSide.analyze(TraceReader(text: trace, name: "t.trace"))
        let id = try #require(EntryIdentity(parsing: "dmar0 pasid 00:02.0/1"))
        let texts = try #require(side.sequences[id]).steps.map { $0.action.text(kind: .pasid) }
        #expect(texts.filter { $0.hasPrefix("fence") } == ["fence smp_wmb"])
    }

    @Test func anInvalidationForAnotherDomainOrPASIDIsNoStep() throws {
        let trace = teardownTrace(table: 0x10000, time: 100)
            .replacingOccurrences(of: "wait unit=dmar0", with: """
                inval type=iotlb gran=domain did=9 unit=dmar0
                inval type=pasid gran=pasid did=5 pasid=2 unit=dmar0
                inval type=iotlb gran=domain did=5 unit=dmar0
                wait unit=dmar0
                """)
        let side = try DiffSide.analyze(TraceReader(text: trace, name: "t.trace"))
        let id = try #require(EntryIdentity(parsing: "dmar0 pasid 00:02.0/1"))
        let texts = try #require(side.sequences[id]).steps.map { $0.action.text(kind: .pasid) }
        #expect(texts.filter { $0.hasPrefix("inval") } == ["inval type=pasid gran=pasid did=5 pasid=1", "inval type=iotlb gran=domain did=5"])
    }
}
