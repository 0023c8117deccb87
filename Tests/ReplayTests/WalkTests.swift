import Testing
import TraceFormat
@testable import Replay

/// Replays a trace given as text to its end.
func replay(_ text: String, keepHistory: Bool = false) throws -> Replayer {
    try Replayer.run(TraceReader(text: text, name: "t.trace"), keepHistory: keepHistory)
}

@Suite("The VT-d walk")
struct WalkTests {
    @Test func aStoreToALinkedPasidEntryIsAttributedToItsIdentity() throws {
        let r = try replay("""
            iommu id=dmar0
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 unit=dmar0
            store addr=0x10140 size=8 value=0x49 unit=dmar0
            """)
        #expect(r.entries.map(\.identity.description) == ["dmar0 pasid 00:02.0/5"])
    }
}
