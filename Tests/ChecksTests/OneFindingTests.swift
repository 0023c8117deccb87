import Checks
import Testing

// CHECKS.md: "One finding per rule, entry and update, never one per
// interleaving." For each rule: two updates of one entry that each break it
// are two findings; one update that breaks it in many ways is one.

@Suite("One finding per rule, entry and update")
struct OneFindingTests {
    // MARK: torn-window

    @Test func twoInPlaceReplacementsAreTwoTornWindows() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x7
            store addr=0x10050 size=8 value=0x600000
            """ + pasidInvalidations(did: 6), rules: [.tornWindow])
        #expect(rules(findings) == ["torn-window", "torn-window"])
    }

    @Test func oneReplacementWithManyTornInterleavingsIsOneTornWindow() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            store addr=0x10048 size=8 value=0x7
            store addr=0x10050 size=8 value=0x600000
            """ + pasidInvalidations(did: 5), rules: [.tornWindow])
        #expect(rules(findings) == ["torn-window"])
    }

    // MARK: torn-read

    @Test func twoUpdatesEachFetchedTornAreTwoTornReads() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fetch addr=0x10040 size=16 value=0x60000000000000041
            fetch addr=0x10050 size=16 value=0x200000
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x7
            fetch addr=0x10040 size=16 value=0x70000000000000041
            fetch addr=0x10050 size=16 value=0x400000
            store addr=0x10050 size=8 value=0x600000
            """ + pasidInvalidations(did: 6), rules: [.tornRead])
        #expect(rules(findings) == ["torn-read", "torn-read"])
    }

    @Test func oneUpdateFetchedTornManyTimesIsOneTornRead() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            fetch addr=0x10040 size=16 value=0x60000000000000041
            fetch addr=0x10050 size=16 value=0x200000
            fetch addr=0x10040 size=16 value=0x60000000000000041
            fetch addr=0x10050 size=16 value=0x200000
            store addr=0x10050 size=8 value=0x400000
            """ + pasidInvalidations(did: 5), rules: [.tornRead])
        #expect(rules(findings) == ["torn-read"])
    }

    // MARK: missing-barrier

    /// A setup of PASID 1 with domain `did` and no barrier before Present.
    func setupWithoutBarrier(did: Int) -> String {
        """
        store addr=0x10048 size=8 value=\(did)
        store addr=0x10050 size=8 value=0x400000
        store addr=0x10040 size=8 value=0x41

        """
    }

    @Test func twoSetupsWithoutABarrierAreTwoMissingBarriers() throws {
        let findings = try analyze(emptyPasidEntry + setupWithoutBarrier(did: 6) + """
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            """ + pasidInvalidations(did: 6) + setupWithoutBarrier(did: 7), model: .weak, rules: [.missingBarrier])
        #expect(rules(findings) == ["missing-barrier", "missing-barrier"])
    }

    @Test func oneSetupWithManyReorderingsIsOneMissingBarrier() throws {
        let findings = try analyze(emptyPasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x400000
            store addr=0x10048 size=8 value=0x7
            store addr=0x10050 size=8 value=0x600000
            store addr=0x10040 size=8 value=0x41
            """, model: .weak, rules: [.missingBarrier])
        #expect(rules(findings) == ["missing-barrier"])
    }

    // MARK: ownership-handshake

    /// Zeroing the live entry from val[0] on, as before the 2026 fix.
    let zeroFirst = """
        store addr=0x10040 size=8 value=0x0
        store addr=0x10048 size=8 value=0x0
        store addr=0x10050 size=8 value=0x0

        """

    @Test func twoTeardownsThatZeroFirstAreTwoOwnershipHandshakes() throws {
        let findings = try analyze(livePasidEntry + zeroFirst + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10050 size=8 value=0x200000
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41

            """ + zeroFirst + pasidInvalidations(did: 6), rules: [.ownershipHandshake])
        #expect(rules(findings) == ["ownership-handshake", "ownership-handshake"])
    }

    @Test func oneTeardownThatRewritesManyWordsEarlyIsOneOwnershipHandshake() throws {
        let findings = try analyze(livePasidEntry + zeroFirst + """
            store addr=0x10058 size=8 value=0x0
            store addr=0x10048 size=8 value=0x1
            store addr=0x10048 size=8 value=0x0
            """ + pasidInvalidations(did: 5), rules: [.ownershipHandshake])
        #expect(rules(findings) == ["ownership-handshake"])
    }

    // MARK: missing-invalidation

    @Test func twoDomainChangesWithoutTheIOTLBAreTwoMissingInvalidations() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            wait
            store addr=0x10048 size=8 value=0x7
            inval type=pasid gran=pasid did=6 pasid=1
            wait
            """, rules: [.missingInvalidation])
        #expect(rules(findings) == ["missing-invalidation", "missing-invalidation"])
    }

    @Test func oneUpdateOfManyStoresWithoutAnInvalidationIsOneMissingInvalidation() throws {
        let findings = try analyze(livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            store addr=0x10048 size=8 value=0x7
            store addr=0x10048 size=8 value=0x8
            """, rules: [.missingInvalidation])
        #expect(rules(findings) == ["missing-invalidation"])
    }

    // MARK: missing-flush

    let nonCoherent = "iommu id=iommu0 coherent=0\n"

    @Test func twoUpdatesUnflushedAtTheirInvalidationsAreTwoMissingFlushes() throws {
        let findings = try analyze(nonCoherent + livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            flush addr=0x10040
            """ + pasidInvalidations(did: 5) + """
            store addr=0x10048 size=8 value=0x7
            inval type=pasid gran=pasid did=6 pasid=1
            flush addr=0x10040
            """ + pasidInvalidations(did: 6), rules: [.missingFlush])
        #expect(rules(findings) == ["missing-flush", "missing-flush"])
    }

    @Test func oneUpdateUnflushedAtManyInvalidationsIsOneMissingFlush() throws {
        let findings = try analyze(nonCoherent + livePasidEntry + """
            store addr=0x10048 size=8 value=0x6
            inval type=pasid gran=pasid did=5 pasid=1
            store addr=0x10050 size=8 value=0x400000
            inval type=piotlb gran=pasid did=5 pasid=1
            wait
            """, rules: [.missingFlush])
        #expect(rules(findings) == ["missing-flush"])
    }

    // MARK: unaligned-store

    @Test func twoSetupsEachWithAnUnalignedStoreAreTwoUnalignedStores() throws {
        let unalignedSetup = """
            store addr=0x10048 size=16 value=0x4000000000000000006
            fence kind=dma_wmb
            store addr=0x10040 size=8 value=0x41

            """
        let findings = try analyze(emptyPasidEntry + unalignedSetup + """
            store addr=0x10040 size=8 value=0x40
            fence kind=dma_wmb
            """ + pasidInvalidations(did: 6) + unalignedSetup, rules: [.unalignedStore])
        #expect(rules(findings) == ["unaligned-store", "unaligned-store"])
    }

    @Test func oneSetupWithManyUnalignedStoresIsOneUnalignedStore() throws {
        let findings = try analyze(emptyPasidEntry + """
            store addr=0x10044 size=8 value=0x6
            store addr=0x1004c size=8 value=0x6
            store addr=0x10054 size=8 value=0x6
            """, rules: [.unalignedStore])
        #expect(rules(findings) == ["unaligned-store"])
    }
}
