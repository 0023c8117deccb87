import Testing
import TraceFormat
@testable import Replay

/// Replays `text` with at most `pages` pages of memory; the error, if any.
func pageLimitError(_ text: String, pages: Int) -> TraceError? {
    do {
        _ = try Replayer.run(TraceReader(text: text, name: "t.trace"), pipelined: false, limits: ReplayLimits(pages: pages))
        return nil
    } catch {
        return error
    }
}

/// `count` 8-byte stores (or `kind` lines), each to its own 4 KiB page.
func storesToDistinctPages(_ count: Int, kind: String = "store") -> String {
    (0..<count).map { "\(kind) addr=\(hex(0x1_0000_0000 + UInt64($0) * 0x1000)) size=8 value=1\n" }.joined()
}

@Suite("The page limit: memory grows with the pages written, up to a limit")
struct PageLimitTests {
    @Test func theDefaultIs32768Pages() {
        #expect(ReplayLimits.standard.pages == 32_768)
    }

    @Test func aTraceThatWritesAsManyPagesAsTheLimitReplays() throws {
        let r = try Replayer.run(TraceReader(text: storesToDistinctPages(10)), limits: ReplayLimits(pages: 10))
        #expect(r.memory.pageCount == 10)
    }

    @Test func oneStoreToANewPagePastTheLimitIsALocatedErrorNamingTheFlag() throws {
        let error = try #require(pageLimitError("iommu id=dmar0\n" + storesToDistinctPages(11), pages: 10))
        #expect(error.location == .line(12, column: 1))
        #expect(error.message == "more than 10 memory pages of 256 bytes written (raise the limit with --max-pages)")
    }

    @Test func initWritesPagesToo() throws {
        #expect(pageLimitError(storesToDistinctPages(3, kind: "init"), pages: 3) == nil)
        let error = try #require(pageLimitError(storesToDistinctPages(4, kind: "init"), pages: 3))
        #expect(error.location == .line(4, column: 1))
    }

    @Test func storesToPagesAlreadyWrittenCostNothing() throws {
        let text = (0..<1000).map { "store addr=\(hex(0x1000 + UInt64($0 % 32) * 8)) size=8 value=\($0)\n" }.joined()
        #expect(pageLimitError(text, pages: 1) == nil)
    }

    @Test func aStoreStraddlingTwoPagesWritesBoth() throws {
        let text = "store addr=0x10fc size=8 value=0x1122334455667788\n"
        #expect(pageLimitError(text, pages: 2) == nil)
        #expect(pageLimitError(text, pages: 1)?.location == .line(1, column: 1))
    }

    @Test func aStoreThatHitsATableCountsItsPage() throws {
        let text = [SM.root, SM.rootLower, SM.context].joined(separator: "\n")
        #expect(pageLimitError("iommu id=dmar0\n" + onDmar0(text), pages: 2) == nil)
        #expect(pageLimitError("iommu id=dmar0\n" + onDmar0(text), pages: 1)?.location == .line(4, column: 1))
    }

    @Test func aNonCoherentUnitsCopyDoesNotCountAgainstTheLimit() throws {
        // Its view holds a page only where CPU memory has one: at most as
        // many, and so the limit bounds both.
        let r = try Replayer.run(TraceReader(text: "iommu id=dmar0 coherent=0\n" + storesToDistinctPages(10)),
                                 limits: ReplayLimits(pages: 10))
        #expect(r.memory.pageCount == 10 && r.devicePageCount == 10)
    }
}
