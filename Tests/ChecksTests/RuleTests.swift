import Checks
import Testing

@Suite("torn-window: a live entry rewritten in place")
struct TornWindowTests {
    @Test func twoStoresThatChangeDomainAndPointerOfALiveEntryAreTorn() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6 at=replace:1
            store addr=0x10050 size=8 value=0x400000 at=replace:2
            """ + pasidInvalidations(did: 5))
        #expect(rules(findings) == ["torn-window"])
        #expect(findings[0].words.exposed == ["0x41", "0x5", "0x400000", "0x0", "0x0", "0x0", "0x0", "0x0"])
        #expect(findings[0].events.map(\.line) == [4, 5])
    }

    @Test func oneAlignedSixteenByteStoreThatChangesOneChunkIsNotTorn() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10040 size=16 value=0x60000000000000041
            """ + pasidInvalidations(did: 5))
        #expect(findings.isEmpty)
    }

    @Test func anUpdateThatChangesOnlyUnusedBitsIsNotAnUpdate() throws {
        // val[3] and val[4] are reserved for a first-stage entry.
        let findings = try analyze(livePasidEntry + """
            store addr=0x10058 size=8 value=0x1234
            store addr=0x10060 size=8 value=0x5678
            """)
        #expect(findings.isEmpty)
    }

    @Test func theHandshakeRewritesWithoutExposingATornEntry() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41
            """, model: .weak)
        #expect(findings.isEmpty)
    }

    @Test func explicitBoundsAroundACorrectHandshakeAreNotTorn() throws {
        let findings = try analyze(livePasidEntry + """
            begin addr=0x10040
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x0
            store addr=0x10050 size=8 value=0x0
            end addr=0x10040
            """)
        #expect(findings.isEmpty)
    }

    @Test func eachOfTwoUpdatesOfAnEntryNamesOnlyItsOwnStores() throws {
        let findings = try analyze(livePasidEntry + """
            begin addr=0x10040
            store addr=0x10048 size=8 value=0x6 at=first:1
            store addr=0x10050 size=8 value=0x400000 at=first:2
            end addr=0x10040
            """ + pasidInvalidations(did: 5) + """
            begin addr=0x10040
            store addr=0x10048 size=8 value=0x7 at=second:1
            store addr=0x10050 size=8 value=0x600000 at=second:2
            end addr=0x10040
            """ + pasidInvalidations(did: 6), rules: [.tornWindow])
        #expect(findings.map { $0.events.compactMap(\.site) } == [["first:1", "first:2"], ["second:1", "second:2"]])
    }
}

@Suite("torn-window: consecutive updates that nothing completed between")
struct ConsecutiveUpdateTests {
    /// A live entry's DID changed (one update, ended by the PASID-cache
    /// invalidation), its first-stage pointer changed (the next), and only
    /// then a wait: a fetch begun before the first store can read chunk 1
    /// after the second.
    let unwaitedBetweenStores = livePasidEntry + """
        store addr=0x10048 size=8 value=0x6 at=replace:1
        inval type=pasid gran=pasid did=5 pasid=1
        inval type=piotlb gran=pasid did=5 pasid=1
        store addr=0x10050 size=8 value=0x400000 at=replace:2
        wait
        """ + pasidInvalidations(did: 6)

    @Test(arguments: MemoryModel.allCases)
    func anInvalidationNotWaitedForBetweenTwoStoresLeavesTheEntryTorn(_ model: MemoryModel) throws {
        let findings = try analyze(unwaitedBetweenStores, model: model)
        #expect(rules(findings) == ["torn-window", "missing-invalidation"])
        #expect(findings[0].words.exposed == ["0x41", "0x5", "0x400000", "0x0", "0x0", "0x0", "0x0", "0x0"])
        #expect(findings[0].words.old == ["0x41", "0x5", "0x200000", "0x0", "0x0", "0x0", "0x0", "0x0"])
        #expect(findings[0].words.new == ["0x41", "0x6", "0x400000", "0x0", "0x0", "0x0", "0x0", "0x0"])
        #expect(findings[0].events.map(\.line) == [4, 5, 7])
        #expect(findings[0].events.map(\.kind) == ["store", "inval", "store"])
    }

    @Test(arguments: MemoryModel.allCases)
    func aWaitBeforeTheSecondStoreCompletesTheFirstUpdate(_ model: MemoryModel) throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=piotlb gran=pasid did=5 pasid=1
            wait
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 6), model: model)
        #expect(findings.isEmpty)
    }

    @Test(arguments: MemoryModel.allCases)
    func twoUpdatesThatStoreToTheSameChunkAreNotTorn(_ model: MemoryModel) throws {
        // The second update rewrites chunk 0 (val[0..1]) with one atomic
        // store: whichever version of it the unit reads, chunk 1 is old.
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=piotlb gran=pasid did=5 pasid=1
            store addr=0x10040 size=16 value=0x60000000000000043
            wait
            """ + pasidInvalidations(did: 6), model: model)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("before its next update at line 7"))
    }

    @Test(arguments: MemoryModel.allCases)
    func aWaitAfterTheNextUpdateBeganStillEndsTheWindowAtTheWait(_ model: MemoryModel) throws {
        // The second update is opened by `begin` before the wait, so it
        // continues the first; its store comes after the wait, which a
        // fetch begun during the first update cannot straddle.
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=piotlb gran=pasid did=5 pasid=1
            begin addr=0x10040
            wait
            store addr=0x10050 size=8 value=0x400000
            end addr=0x10040
            """ + pasidInvalidations(did: 6), model: model)
        #expect(findings.isEmpty)
    }

    @Test(arguments: MemoryModel.allCases)
    func theSameStoreBeforeTheWaitIsTorn(_ model: MemoryModel) throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=piotlb gran=pasid did=5 pasid=1
            begin addr=0x10040
            store addr=0x10050 size=8 value=0x400000
            wait
            end addr=0x10040
            """ + pasidInvalidations(did: 6), model: model, rules: [.tornWindow])
        #expect(rules(findings) == ["torn-window"])
    }

    @Test func theChainEndsAtAStoreThatClearsPresent() throws {
        // Clearing Present ends the chain: rewriting the other words then is
        // the handshake's business, not a torn window.
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            store addr=0x10040 size=8 value=0x40
            store addr=0x10050 size=8 value=0x0
            wait
            """, rules: [.tornWindow, .ownershipHandshake])
        #expect(rules(findings) == ["ownership-handshake"])
    }
}

@Suite("torn-read: the unit fetched a torn entry")
struct TornReadTests {
    @Test func fetchingTheTwoChunksBetweenTheStoresSeesATornEntry() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fetch addr=0x10040 size=16 value=0x60000000000000041
            fetch addr=0x10050 size=16 value=0x200000
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 5), rules: [.tornRead])
        #expect(rules(findings) == ["torn-read"])
        #expect(findings[0].words.exposed == ["0x41", "0x6", "0x200000", "0x0", "0x0", "0x0", "0x0", "0x0"])
    }

    @Test func aTornReadNamesTheStoreWhoseValueItCombinedWithTheFetches() throws {
        // The fetch of chunk 0 saw the new DID the store at line 4 wrote;
        // chunk 1 still held the old pointer, which no store wrote.
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6 at=replace:1
            fetch addr=0x10040 size=16 value=0x60000000000000041
            fetch addr=0x10050 size=16 value=0x200000
            store addr=0x10050 size=8 value=0x400000 at=replace:2
            """ + pasidInvalidations(did: 5), rules: [.tornRead])
        #expect(findings[0].events.map(\.line) == [4, 5, 6])
        #expect(findings[0].events.map(\.kind) == ["store", "fetch", "fetch"])
        #expect(findings[0].events[0].site == "replace:1")
    }

    @Test func aTornReadNamesOnlyTheLastStoreToTheBytesItRead() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x7
            store addr=0x10048 size=8 value=0x6
            fetch addr=0x10040 size=16 value=0x60000000000000041
            fetch addr=0x10050 size=16 value=0x200000
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 5), rules: [.tornRead])
        #expect(findings[0].events.map(\.line) == [5, 6, 7])
    }

    @Test func fetchingAfterTheUpdateSeesTheNewEntry() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            fetch addr=0x10040 size=64
            """ + pasidInvalidations(did: 5), rules: [.tornRead])
        #expect(findings.isEmpty)
    }

    /// A legacy root table whose bus 0 entry links the context table at
    /// 0x101000, with device 00:01.0's entry live (DID 7); a second
    /// context table at 0x102000 that no root entry links holds the same
    /// entry. `table` is where the entry is rewritten and fetched half way.
    func rewriteFetchedHalfWay(table: UInt64) -> String {
        let entry = "0x" + String(table + 0x80, radix: 16), hi = "0x" + String(table + 0x88, radix: 16)
        return """
            iommu id=iommu0 coherent=1
            init addr=0x100000 size=16 value=0x101001
            init addr=0x101080 size=16 value=0x7020000000000300001
            init addr=0x102080 size=16 value=0x7020000000000300001
            root addr=0x100000 mode=legacy unit=iommu0
            store addr=\(entry) size=8 value=0x400001
            fetch addr=\(entry) size=16 unit=iommu0
            store addr=\(hi) size=8 value=0x802

            """
    }

    @Test func aFetchOfALinkedContextEntryHalfRewrittenIsTorn() throws {
        #expect(rules(try analyze(rewriteFetchedHalfWay(table: 0x101000), rules: [.tornRead])) == ["torn-read"])
    }

    @Test func aFetchOfAContextTableNoRootEntryLinksTouchesNoEntry() throws {
        #expect(try analyze(rewriteFetchedHalfWay(table: 0x102000)).isEmpty)
    }

    @Test func aFetchOfATableThatIsNotLinkedTouchesNoEntry() throws {
        let findings = try analyze("""
            store addr=0x50048 size=8 value=0x6
            fetch addr=0x50040 size=16
            store addr=0x50050 size=8 value=0x400000
            """)
        #expect(findings.isEmpty)
    }
}

@Suite("missing-barrier: safe in program order, torn when reordered")
struct MissingBarrierTests {
    let setupWithout = emptyPasidEntry + """
        store addr=0x10048 size=8 value=0x6 at=pasid.c:10
        store addr=0x10050 size=8 value=0x400000 at=pasid.c:11
        store addr=0x10040 size=8 value=0x41 at=pasid.c:12
        """

    @Test func aSetupWithoutABarrierBeforePresentIsTornUnderWeak() throws {
        let findings = try analyze(setupWithout, model: .weak)
        #expect(rules(findings) == ["missing-barrier"])
        #expect(findings[0].events.map(\.role) == ["must reach the unit first", "may overtake it"])
        #expect(findings[0].events.last?.site == "pasid.c:12")
    }

    @Test func theSameSetupIsSafeUnderTSO() throws {
        #expect(try analyze(setupWithout, model: .tso).isEmpty)
    }

    @Test func aDeviceWriteBarrierBeforePresentMakesItSafe() throws {
        let findings = try analyze(emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41
            """, model: .weak)
        #expect(findings.isEmpty)
    }

    @Test func aFindingSaysWhenTheEnumerationBoundWasReached() throws {
        let manyStores = (1...14).map { "store addr=0x10048 size=8 value=\($0)" }.joined(separator: "\n")
        let findings = try analyze(emptyPasidEntry + manyStores + "\nstore addr=0x10040 size=8 value=0x41\n", model: .weak)
        #expect(rules(findings) == ["missing-barrier"])
        #expect(findings[0].boundReached == true)
    }

    @Test func aFindingWithinTheBoundSaysNothingOfIt() throws {
        let findings = try analyze(setupWithout, model: .weak)
        #expect(findings[0].boundReached == nil)
    }

    @Test func anSmpWmbIsNamedAsTheBarrierTheCodeReliedOn() throws {
        let findings = try analyze(emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fence kind=smp_wmb
            store addr=0x10040 size=8 value=0x41
            """, model: .weak)
        #expect(rules(findings) == ["missing-barrier"])
        #expect(findings[0].message.contains("the smp_wmb at line 3 does not order stores for a device"))
        #expect(findings[0].events.map(\.kind) == ["store", "fence", "store"])
    }
}

@Suite("ownership-handshake: rewriting before the invalidation completed")
struct OwnershipHandshakeTests {
    @Test func zeroingALiveEntryWordByWordRewritesBeforeInvalidating() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10040 size=8 value=0x0
            store addr=0x10048 size=8 value=0x0
            store addr=0x10050 size=8 value=0x0
            """ + pasidInvalidations(did: 5))
        #expect(rules(findings) == ["ownership-handshake"])
        #expect(findings[0].severity == .warning)
        #expect(findings[0].events.map(\.role) == ["clears Present", "rewrites val[1] too early"])
    }

    @Test func rewritingAfterTheInvalidationButBeforeItsWaitIsTooEarly() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            inval type=pasid gran=pasid did=5 pasid=1
            store addr=0x10048 size=8 value=0x0
            wait
            inval type=piotlb gran=pasid did=5 pasid=1
            wait
            """)
        #expect(rules(findings) == ["ownership-handshake"])
        #expect(findings[0].message.contains("after the invalidation at line 6 but before a wait completed it"))
    }

    @Test func rewritingAfterTheInvalidationAndItsWaitIsSafe() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x0
            """)
        #expect(findings.isEmpty)
    }
}

@Suite("missing-invalidation: a cached entry changed and stayed cached")
struct MissingInvalidationTests {
    let didChange = livePasidEntry + "store addr=0x10048 size=8 value=0x6\n"

    @Test func aChangedLiveEntryWithNoInvalidationIsReported() throws {
        let findings = try analyze(didChange)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("no PASID cache invalidation (`inval type=pasid gran=pasid did=5 pasid=1`)"))
    }

    @Test func invalidatingWithTheOldDomainIdAndWaitingCoversIt() throws {
        #expect(try analyze(didChange + pasidInvalidations(did: 5)).isEmpty)
    }

    @Test func invalidatingWithTheNewDomainIdDoesNotCoverIt() throws {
        let findings = try analyze(didChange + pasidInvalidations(did: 6))
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("has domain id 6, but the cached entry is tagged with domain id 5"))
    }

    @Test func anInvalidationIssuedBeforeTheStoreDoesNotCoverIt() throws {
        let findings = try analyze(livePasidEntry + pasidInvalidations(did: 5) + "store addr=0x10048 size=8 value=0x6\n")
        #expect(rules(findings) == ["missing-invalidation"])
    }

    @Test func anInvalidationNeverWaitedForDoesNotCoverIt() throws {
        let findings = try analyze(didChange + """
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=piotlb gran=pasid did=5 pasid=1
            """)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("is never waited for"))
    }

    @Test func aSecondUpdateBeforeTheInvalidationReportsTheFirst() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10040 size=8 value=0x40
            store addr=0x10040 size=8 value=0x41
            """ + pasidInvalidations(did: 5), rules: [.missingInvalidation])
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("before its next update at line 5"))
    }

    @Test func invalidationsForOtherEntriesAreNotNamedAsNearMisses() throws {
        let findings = try analyze(didChange + """
            inval type=pasid gran=pasid did=9 pasid=7
            inval type=context gran=device did=5 sid=00:03.0
            wait
            """)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].events.map(\.kind) == ["store"])
    }

    @Test func anEntryFetchedThenTornDownAndInvalidatedIsNoLongerCached() throws {
        let findings = try analyze(livePasidEntry + """
            fetch addr=0x10040 size=64
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x6
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41
            """)
        #expect(findings.isEmpty)
    }

    @Test func aSetupOfANonPresentEntryNeedsNoInvalidation() throws {
        let findings = try analyze(emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41
            """)
        #expect(findings.isEmpty)
    }

    @Test func underCachingModeASetupNeedsAnInvalidationWithTheNewDomainId() throws {
        let setup = "iommu id=iommu0 caching-mode=1\n" + emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41

            """
        #expect(rules(try analyze(setup)) == ["missing-invalidation"])
        #expect(try analyze(setup + pasidInvalidations(did: 6)).isEmpty)
    }

    /// A `begin`/`end` update that changes the domain id, invalidates the
    /// old one and waits, then changes another word: the unit may have
    /// cached the entry with the new domain id since that wait.
    func twoStepUpdate(finalDID: Int) -> String {
        livePasidEntry + """
            begin addr=0x10040
            store addr=0x10048 size=8 value=0x6
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10050 size=8 value=0x400000
            end addr=0x10040
            """ + pasidInvalidations(did: finalDID)
    }

    @Test func afterAWaitMidUpdateTheCachedEntryHasTheDomainIdOfThatMoment() throws {
        #expect(try analyze(twoStepUpdate(finalDID: 6), rules: [.missingInvalidation]).isEmpty)
        let findings = try analyze(twoStepUpdate(finalDID: 5), rules: [.missingInvalidation])
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings.first?.message.contains("has domain id 5, but the cached entry is tagged with domain id 6") == true)
    }

    @Test func aDomainSelectiveIOTLBInvalidationDoesNotReachAFirstStageEntry() throws {
        let findings = try analyze(didChange + """
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=iotlb gran=domain did=5
            wait

            """)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains(
            "the PASID-based IOTLB invalidation at line 6 has type iotlb, which does not reach first-stage or pass-through translations"))
        #expect(findings[0].events.map(\.line) == [4, 6])
    }

    @Test func aRequestVTdDoesNotDefineCoversNothing() throws {
        // A PASID-based IOTLB invalidation of no granularity VT-d has.
        let findings = try analyze(didChange + pasidInvalidations(did: 5).replacingOccurrences(
            of: "inval type=piotlb gran=pasid did=5 pasid=1", with: "inval type=piotlb gran=global"))
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("no PASID-based IOTLB invalidation"))
    }

    @Test func aGlobalIOTLBInvalidationReachesAFirstStageEntry() throws {
        #expect(try analyze(didChange + "inval type=pasid gran=pasid did=5 pasid=1\ninval type=iotlb gran=global\nwait\n").isEmpty)
    }

    @Test func anIOTLBInvalidationBeforeThePASIDCacheInvalidationDoesNotCoverIt() throws {
        let findings = try analyze(didChange + """
            inval type=piotlb gran=pasid did=5 pasid=1
            inval type=pasid gran=pasid did=5 pasid=1
            wait

            """)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains(
            "the PASID-based IOTLB invalidation at line 5 came before any PASID cache invalidation"))
    }

    @Test func theIOTLBInvalidatedAgainAfterThePASIDCacheCoversIt() throws {
        #expect(try analyze(didChange + """
            inval type=piotlb gran=pasid did=5 pasid=1
            inval type=pasid gran=pasid did=5 pasid=1
            inval type=piotlb gran=pasid did=5 pasid=1
            wait

            """).isEmpty)
    }

    /// PASID `pasid`'s first-stage entry, DID 5, of device 00:02.0 with ATS
    /// on (scalable context entry DTE), reached by the walk; then its DID
    /// changes to 6 and the PASID cache and IOTLB are invalidated.
    func atsDeviceDIDChange(pasid: Int) -> String {
        let entry = 0x103000 + 64 * pasid
        return """
            init addr=0x100000 size=16 value=0x101001
            init addr=0x101200 size=16 value=0x10200d
            init addr=0x102000 size=8 value=0x103001
            init addr=0x\(String(entry, radix: 16)) size=8 value=0x41
            init addr=0x\(String(entry + 8, radix: 16)) size=8 value=0x5
            root addr=0x100000 mode=scalable
            store addr=0x\(String(entry + 8, radix: 16)) size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=\(pasid)
            inval type=piotlb gran=pasid did=5 pasid=\(pasid)

            """
    }

    @Test func aPASIDsEntryOnAnATSDeviceNeedsAPASIDBasedDeviceTLBInvalidation() throws {
        let legacy = try analyze(atsDeviceDIDChange(pasid: 1) + "inval type=devtlb gran=device sid=00:02.0\nwait\n")
        #expect(rules(legacy) == ["missing-invalidation"])
        #expect(legacy[0].message.contains("the device TLB invalidation at line 10 has type devtlb, which covers only requests without PASID"))
        #expect(try analyze(atsDeviceDIDChange(pasid: 1) + "inval type=pdevtlb gran=pasid sid=00:02.0 pasid=1\nwait\n").isEmpty)
    }

    @Test func pasidZeroOnAnATSDeviceServesRequestsWithoutPASID() throws {
        #expect(try analyze(atsDeviceDIDChange(pasid: 0) + "inval type=devtlb gran=device sid=00:02.0\nwait\n").isEmpty)
        #expect(rules(try analyze(atsDeviceDIDChange(pasid: 0) + "wait\n")) == ["missing-invalidation"])
    }

    @Test func aContextEntryNeedsTheContextCacheAndTheIOTLB() throws {
        let trace = """
            table addr=0x20000 kind=context bus=0
            init addr=0x20080 size=16 value=0x7020000000000300001
            store addr=0x20088 size=8 value=0x802
            inval type=context gran=device did=7 sid=00:01.0
            wait

            """
        let findings = try analyze(trace)
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("no IOTLB invalidation (`inval type=iotlb gran=domain did=7`)"))
        #expect(try analyze(trace + "inval type=iotlb gran=domain did=7\nwait\n").isEmpty)
    }
}

@Suite("missing-invalidation under caching mode: context entries are cached with domain 0")
struct CachingModeContextTests {
    /// A legacy context entry of 00:01.0 set up with DID 8 (hi: AW, DID 8;
    /// lo: page table | P) on a unit with caching mode, then the IOTLB of
    /// its new domain invalidated.
    func legacySetup(contextCacheDID did: Int) -> String {
        """
        iommu id=iommu0 caching-mode=1
        table addr=0x20000 kind=context bus=0
        store addr=0x20088 size=8 value=0x802
        fence kind=dma_wmb
        store addr=0x20080 size=8 value=0x300001
        inval type=context gran=device did=\(did) sid=00:01.0
        wait
        inval type=iotlb gran=domain did=8
        wait

        """
    }

    /// A scalable-mode context entry of 00:00.2 set up (PASID directory |
    /// PASIDE | P) on a unit with caching mode.
    func scalableSetup(contextCacheDID did: Int) -> String {
        """
        iommu id=iommu0 caching-mode=1
        table addr=0x40000 kind=sm-context bus=0
        store addr=0x40040 size=8 value=0x500009
        inval type=context gran=device did=\(did) sid=00:00.2
        wait

        """
    }

    @Test func aLegacyContextCacheInvalidationWithTheNewDomainIdDoesNotCoverTheSetup() throws {
        let findings = try analyze(legacySetup(contextCacheDID: 8))
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("has domain id 8, but the cached entry is tagged with domain id 0"))
    }

    @Test func aLegacyContextCacheInvalidationWithDomainIdZeroCoversTheSetup() throws {
        #expect(try analyze(legacySetup(contextCacheDID: 0)).isEmpty)
    }

    @Test func theFixForALegacySetupNamesDomainIdZeroForTheContextCacheAndTheNewOneForTheIOTLB() throws {
        let finding = try #require(try analyze(legacySetup(contextCacheDID: 8)).first)
        #expect(finding.fix.contains("invalidate the context cache with domain id 0 and the IOTLB with the new one (`inval type=context gran=device did=0 sid=00:01.0`, `inval type=iotlb gran=domain did=8`)"))
    }

    @Test func aScalableContextCacheInvalidationWithADomainIdOtherThanZeroDoesNotCoverTheSetup() throws {
        let findings = try analyze(scalableSetup(contextCacheDID: 8))
        #expect(rules(findings) == ["missing-invalidation"])
        #expect(findings[0].message.contains("has domain id 8, but the cached entry is tagged with domain id 0"))
    }

    @Test func aScalableContextCacheInvalidationWithDomainIdZeroCoversTheSetup() throws {
        #expect(try analyze(scalableSetup(contextCacheDID: 0)).isEmpty)
    }

    @Test func aPasidEntrySetUpUnderCachingModeStillNeedsTheNewDomainId() throws {
        let setup = "iommu id=iommu0 caching-mode=1\n" + emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41

            """
        let withZero = try analyze(setup + pasidInvalidations(did: 0))
        #expect(rules(withZero) == ["missing-invalidation"])
        #expect(withZero[0].message.contains("has domain id 0, but the cached entry is tagged with domain id 6"))
    }
}

@Suite("missing-flush: a non-coherent unit reads memory")
struct MissingFlushTests {
    let nonCoherent = "iommu id=iommu0 coherent=0\n"

    @Test func aStoreNeverFlushedIsReported() throws {
        let findings = try analyze(nonCoherent + emptyPasidEntry + "store addr=0x10048 size=8 value=0x6\n")
        #expect(rules(findings) == ["missing-flush"])
        #expect(findings[0].message.contains("is never flushed"))
    }

    @Test func aFlushBeforeTheInvalidationIsSafe() throws {
        let findings = try analyze(nonCoherent + livePasidEntry + """
            store addr=0x10040 size=8 value=0x40
            flush addr=0x10040
            """ + pasidInvalidations(did: 5))
        #expect(findings.isEmpty)
    }

    @Test func aFlushAfterTheInvalidationIsTooLate() throws {
        let findings = try analyze(nonCoherent + livePasidEntry + """
            store addr=0x10040 size=8 value=0x40
            """ + pasidInvalidations(did: 5) + """
            flush addr=0x10040
            """, rules: [.missingFlush])
        #expect(rules(findings) == ["missing-flush"])
        #expect(findings[0].message.contains("is not flushed before the invalidation at line 6"))
    }
}

@Suite("unaligned-store: stores that are not single-copy atomic")
struct UnalignedStoreTests {
    @Test func aSixteenByteStoreAcrossAChunkIsReported() throws {
        let findings = try analyze(emptyPasidEntry + "store addr=0x10048 size=16 value=0x4000000000000000006\n")
        #expect(rules(findings) == ["unaligned-store"])
    }

    @Test func anEightByteStoreAtAnOddAddressIsReported() throws {
        let findings = try analyze(emptyPasidEntry + "store addr=0x10044 size=8 value=0x6\n")
        #expect(rules(findings) == ["unaligned-store"])
        #expect(findings[0].message.contains("is not naturally aligned"))
    }

    @Test func alignedStoresAreSingleCopyAtomic() throws {
        #expect(try analyze(emptyPasidEntry + "store addr=0x10050 size=16 value=0x400000\n").isEmpty)
    }
}

@Suite("The fix: a safe sequence for this O and N")
struct FixTests {
    /// The live entry zeroed word by word, as pasid_clear_entry did before
    /// the 2026 fix, then invalidated.
    let teardownZeroingFirst = livePasidEntry + """
        store addr=0x10040 size=8 value=0x0
        store addr=0x10048 size=8 value=0x0
        store addr=0x10050 size=8 value=0x0
        """ + pasidInvalidations(did: 5)

    let safeTeardown = "1. clear Present alone: val[0] = 0x40; 2. dma_wmb(); 3. invalidate with the old domain id: `inval type=pasid gran=pasid did=5 pasid=1`, `inval type=piotlb gran=pasid did=5 pasid=1`; wait for completion; 4. zero the rest of the entry: val[0] = 0x0, val[1] = 0x0, val[2] = 0x0"

    @Test(arguments: MemoryModel.allCases)
    func theFixForATeardownClearsPresentInvalidatesAndThenZeroesTheRest(_ model: MemoryModel) throws {
        let findings = try analyze(teardownZeroingFirst, model: model)
        #expect(!findings.isEmpty)
        for finding in findings { #expect(finding.fix == safeTeardown, "\(finding.rule)") }
    }

    @Test func theFixForATeardownOnANonCoherentUnitFlushesBeforeInvalidatingAndAfterZeroing() throws {
        let finding = try #require(try analyze("iommu id=iommu0 coherent=0\n" + livePasidEntry + """
            store addr=0x10040 size=8 value=0x0
            flush addr=0x10040
            store addr=0x10048 size=8 value=0x0
            store addr=0x10050 size=8 value=0x0
            flush addr=0x10040
            """ + pasidInvalidations(did: 5)).first)
        #expect(finding.rule == .ownershipHandshake)
        #expect(finding.fix.hasPrefix("1. clear Present alone: val[0] = 0x40; 2. dma_wmb(); 3. clflush the entry; 4. invalidate"))
        #expect(finding.fix.hasSuffix("5. zero the rest of the entry: val[0] = 0x0, val[1] = 0x0, val[2] = 0x0; 6. clflush the entry"))
    }

    @Test func theFixForAReplacementIsTheHandshakeToTheNewEntry() throws {
        let finding = try #require(try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 5)).first)
        #expect(finding.rule == .tornWindow)
        #expect(finding.fix == "1. clear Present alone: val[0] = 0x40; 2. dma_wmb(); 3. invalidate with the old domain id: `inval type=pasid gran=pasid did=5 pasid=1`, `inval type=piotlb gran=pasid did=5 pasid=1`; wait for completion; 4. write val[1] = 0x6, val[2] = 0x400000; 5. dma_wmb(); 6. set Present last: val[0] = 0x41")
    }

    @Test func theFixForAChangeOfOneChunkIsOneSixteenByteStore() throws {
        let finding = try #require(try analyze(livePasidEntry + "store addr=0x10048 size=8 value=0x6\n").first)
        #expect(finding.fix == "Only chunk 0 (val[0]..val[1]) changes used bits: write it with one aligned 16-byte store (cmpxchg16b) of 0x41:0x6, then `inval type=pasid gran=pasid did=5 pasid=1`, `inval type=piotlb gran=pasid did=5 pasid=1`, and wait.")
    }
}

@Suite("Findings as a whole")
struct FindingsTests {
    @Test func theSameTraceGivesTheSameFindings() throws {
        let trace = livePasidEntry + """
            store addr=0x10040 size=8 value=0x0
            store addr=0x10048 size=8 value=0x0
            store addr=0x10050 size=8 value=0x0
            """
        #expect(try analyze(trace, model: .weak) == analyze(trace, model: .weak))
    }

    @Test func everyFindingCarriesEntryEventsWordsAndFix() throws {
        let finding = try #require(try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6 at=pasid.c:1
            store addr=0x10050 size=8 value=0x400000 at=pasid.c:2
            """ + pasidInvalidations(did: 5)).first)
        #expect(finding.entry.identity == "iommu0 pasid 00:02.0/1")
        #expect(finding.entry.addr == "0x10040")
        #expect(finding.entry.sid == "00:02.0")
        #expect(finding.entry.pasid == 1)
        #expect(finding.events.compactMap(\.site) == ["pasid.c:1", "pasid.c:2"])
        #expect(finding.words.old.count == 8)
        #expect(finding.fix.contains("clear Present alone"))
        #expect(finding.fix.contains("set Present last"))
    }
}
