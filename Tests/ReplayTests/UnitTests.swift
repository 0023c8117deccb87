import Testing
import TraceFormat
@testable import Replay

/// The error a replay of `text` stops with, or nil when it runs through.
private func replayError(_ text: String) -> TraceError? {
    do {
        _ = try replay(text)
        return nil
    } catch {
        return error as? TraceError
    }
}

@Suite("Remapping units")
struct UnitTests {
    @Test func aTraceWithNoIommuLineHasTheDefaultUnit() throws {
        let r = try replay("inval type=pasid gran=pasid did=1 pasid=1\nwait\n")
        #expect(r.units.map(\.name) == ["iommu0"])
        #expect(r.units.first?.declaredAt == nil)
    }

    @Test func aUnitNamedButNotDeclaredWhereOthersAreIsAnErrorAtItsLine() throws {
        let error = try #require(replayError("""
            iommu id=dmar0 coherent=0
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 unit=dmr0
            """))
        #expect(error.description == "t.trace:2:1: error: unit dmr0 is not declared by an `iommu` line (declared: dmar0)")
    }

    @Test func anEventWithNoUnitWhereUnitsAreDeclaredNamesTheDefault() throws {
        let error = try #require(replayError("iommu id=dmar0\ninval type=pasid gran=pasid did=1 pasid=1 unit=dmar0\nwait\n"))
        #expect(error.description
            == "t.trace:3:1: error: unit iommu0 (the default `unit=`) is not declared by an `iommu` line (declared: dmar0)")
    }

    @Test func everyDeclaredUnitMayBeNamed() throws {
        let r = try replay("iommu id=dmar0\niommu id=dmar1 coherent=0\nwait unit=dmar1\nwait unit=dmar0\n")
        #expect(r.units.map(\.name) == ["dmar0", "dmar1"])
        #expect(r.units.map(\.declaredAt) == [1, 2])
    }

    @Test func aUnitDeclaredAgainWithTheSameCapabilitiesIsTheSameUnit() throws {
        let r = try replay("iommu id=dmar0 coherent=0\nwait unit=dmar0\niommu id=dmar0 coherent=0 caching-mode=0\n")
        #expect(r.units.map(\.name) == ["dmar0"])
        #expect(r.units.first?.coherent == false)
    }

    @Test func aUnitDeclaredAgainWithOtherCapabilitiesIsAnError() throws {
        let error = try #require(replayError("iommu id=dmar0 coherent=0\nwait unit=dmar0\niommu id=dmar0 coherent=1\n"))
        #expect(error.description == "t.trace:3:1: error: unit dmar0 is declared again with other capabilities "
            + "(line 1 declared coherent=0 caching-mode=0)")
    }
}

@Suite("Invalidations VT-d does not define")
struct UndefinedInvalidationTests {
    @Test func oneTheContractAllowsIsADiagnosticAtItsLine() throws {
        let r = try replay("wait\ninval type=piotlb gran=global\nwait\n")
        #expect(r.diagnostics.map(\.line) == [2])
        #expect(r.diagnostics.first?.message.hasPrefix("VT-d defines no PASID-based IOTLB invalidation of granularity global") == true)
    }

    @Test func oneVTdDefinesIsNoDiagnostic() throws {
        #expect(try replay("inval type=piotlb gran=pasid did=1 pasid=1\nwait\n").diagnostics.isEmpty)
    }
}
