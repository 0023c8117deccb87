import Checks
import Foundation
import Replay
import Testing
import TestSupport
import TraceFormat

/// Reads `text` to its end; the error, if reading stops.
func readError(_ text: String) -> TraceError? {
    readError(bytes: Array(text.utf8))
}

func readError(bytes: [UInt8]) -> TraceError? {
    do {
        let reader = try TraceReader(bytes: bytes, name: "t.trace")
        while try reader.next() != nil {}
        return nil
    } catch {
        return error
    }
}

/// Replays `text` with a replayer set up by `configure`; the error, if any.
func replayError(_ text: String, _ configure: (inout Replayer) -> Void = { _ in }) -> TraceError? {
    do {
        let reader = try TraceReader(text: text, name: "t.trace")
        var replay = Replayer(fileName: "t.trace")
        configure(&replay)
        while let event = try reader.next() { _ = try replay.apply(event, symbols: reader.symbols) }
        return nil
    } catch {
        return error
    }
}

/// A zstd frame made by hand: no content size, a window of 2^`windowLog`
/// bytes, one raw block holding `payload`.
func handMadeFrame(windowLog: Int, payload: [UInt8]) -> [UInt8] {
    let header: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, UInt8((windowLog - 10) << 3)]
    let block = payload.count << 3 | 1
    return header + [UInt8(block & 0xff), UInt8(block >> 8 & 0xff), UInt8(block >> 16 & 0xff)] + payload
}

@Suite("Limits: past each one, a clear error naming the line (or a finding that says so)")
struct LimitsTests {
    @Test func aLineOfTheLongestLengthReadsAndOneByteMoreStops() throws {
        let longest = "mark text=" + String(repeating: "a", count: TraceLimits.maxLineLength - 10)
        #expect(readError(longest + "\n") == nil)
        let error = try #require(readError("wait\n" + longest + "a\n"))
        #expect(error.line == 2)
        #expect(error.column == TraceLimits.maxLineLength + 1)
        #expect(error.message == "line longer than 16384 bytes")
    }

    @Test func aLineWithoutEndStopsAtTheLimitNotAtTheEndOfTheFile() throws {
        let error = try #require(readError(bytes: Array("mark text=".utf8) + Array(repeating: 0x62, count: 1 << 20)))
        #expect(error.location == .line(1, column: 16385))
    }

    @Test func keysPerLineAreBoundedAndNoKindCanReachTheBound() throws {
        // Each key may appear once and no kind has 32 keys: a 33rd key is
        // always a repeat (or unknown), caught at its own column.
        #expect(TraceLimits.maxKeysPerLine == 32)
        let line = "wait " + (0..<33).map { "t=\($0)" }.joined(separator: " ")
        let error = try #require(readError(line + "\n"))
        #expect(error.location == .line(1, column: 10))
        #expect(error.message == "key `t` given twice")
    }

    @Test(arguments: ["0", "1048577", "9223372036854775808", "0xffffffffffffffff"])
    func aDeclaredTableSizeOutsideOneToTheLimitStops(_ count: String) throws {
        let error = try #require(readError("table addr=0x1000 kind=generic count=\(count) entry=8 fetch=8 present-bit=0\n"))
        #expect(error.location == .line(1, column: 38))
        #expect(error.message == "count must be 1 to 1048576")
        #expect(error.found == "count=\(count)")
        #expect(readError("table addr=0x1000 kind=generic count=1048576 entry=8 fetch=8 present-bit=0\n") == nil)
    }

    @Test func theUnitsOfATraceAreBounded() throws {
        let units = (0..<TraceLimits.maxUnits).map { "iommu id=u\($0)\n" }.joined()
        #expect(replayError(units) == nil)
        let error = try #require(replayError(units + "iommu id=one-more\n"))
        #expect(error.location == .line(UInt64(TraceLimits.maxUnits + 1), column: 1))
        #expect(error.message == "more than 1024 units")
    }

    @Test func entriesTrackedAreBounded() throws {
        #expect(ReplayLimits.standard.entries == 65_536)
        let text = "table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0\n"
            + (0..<11).map { "store addr=\(hex(0x10000 + $0 * 64)) size=8 value=1\n" }.joined()
        #expect(replayError(text) { $0.limits.entries = 11 } == nil)
        let error = try #require(replayError(text) { $0.limits.entries = 10 })
        #expect(error.location == .line(12, column: 1))
        #expect(error.message == "more than 10 table entries tracked (raise the limit with --max-entries)")
    }

    @Test func oneStoreTouchesABoundedNumberOfEntries() throws {
        #expect(ReplayLimits.standard.touchesPerStore == 16)
        let tables = (1...3).map { "table addr=0x1000 kind=generic count=\($0) entry=8 fetch=8 present-bit=0\n" }.joined()
        #expect(replayError(tables + "store addr=0x1000 size=8 value=1\n") { $0.limits.touchesPerStore = 3 } == nil)
        for kind in ["store", "init"] {
            let error = try #require(replayError(tables + "\(kind) addr=0x1000 size=8 value=1\n") { $0.limits.touchesPerStore = 2 })
            #expect(error.location == .line(4, column: 1))
            #expect(error.message == "one \(kind) touches more than 2 table entries (tables overlap here)")
        }
    }

    @Test func tablesReachableAtOnceAreBounded() throws {
        #expect(ReplayLimits.standard.tables == 65_536)
        let text = (0..<5).map { "table addr=\(hex(0x10000 + $0 * 0x1000)) kind=pasid sid=\($0) pasid-base=0\n" }.joined()
        #expect(replayError(text) { $0.limits.tables = 5 } == nil)
        let error = try #require(replayError(text) { $0.limits.tables = 4 })
        #expect(error.location == .line(5, column: 1))
        #expect(error.message == "more than 4 tables reachable at once (raise the limit with --max-tables)")
    }

    @Test func oneFetchOrFlushTouchesABoundedNumberOfEntries() throws {
        let table = "table addr=0x0 kind=generic count=1048576 entry=1 fetch=1 present-bit=0\n"
        #expect(replayError(table + "fetch addr=0x0 size=4096\nflush addr=0x1000 size=4096\n") == nil)
        for kind in ["fetch", "flush"] {
            let error = try #require(replayError(table + "wait\n\(kind) addr=0x0 size=1048576\n"))
            #expect(error.location == .line(3, column: 1))
            #expect(error.message == "one \(kind) touches more than 4096 table entries")
        }
    }

    @Test func findingsPerTraceAreBounded() throws {
        #expect(AnalysisOptions().maxFindings == 1000)
        // Three live entries, each rewritten in place by two stores between
        // `begin` and `end`: three torn windows, the third at its `end`, on
        // line 16.
        let text = "table addr=0x10000 kind=generic count=16 entry=16 fetch=8 present-bit=0\n"
            + (0..<3).map { i in
                let a = hex(0x10000 + i * 16)
                return "init addr=\(a) size=16 value=0x11000000000000001\nbegin addr=\(a)\n"
                    + "store addr=\(hex(0x10008 + i * 16)) size=8 value=0x2\nstore addr=\(a) size=8 value=0x3\nend addr=\(a)\n"
            }.joined()
        func run(_ max: Int) throws(TraceError) -> [Finding] {
            try Analysis.run(TraceReader(text: text, name: "t.trace"), options: AnalysisOptions(maxFindings: max)).findings
        }
        #expect(try run(3).count == 3)
        do {
            _ = try run(2)
            Issue.record("no error past the limit")
        } catch {
            #expect(error.location == .line(16, column: 1))
            #expect(error.message == "more than 2 findings (raise the limit with --max-findings)")
        }
    }

    @Test func pastTheEnumerationBoundAFindingSaysSo() throws {
        func findings(stores: Int) throws -> [Finding] {
            let text = "table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0\n"
                + (1...stores).map { "store addr=0x10048 size=8 value=\($0)\n" }.joined()
                + "store addr=0x10040 size=8 value=0x41\n"
            return try Analysis.run(TraceReader(text: text), options: AnalysisOptions(memoryModel: .weak)).findings
        }
        let within = try findings(stores: 10)
        #expect(within.map(\.rule) == [.missingBarrier])
        #expect(within[0].boundReached == nil)
        let past = try findings(stores: 14)
        #expect(past.map(\.rule) == [.missingBarrier])
        #expect(past[0].boundReached == true)
    }

    @Test(arguments: [26, 27, 31])
    func aZstdFrameAskingForAWindowOverTwoToThe25StopsWithoutAllocatingIt(_ windowLog: Int) throws {
        let error = try #require(readError(bytes: handMadeFrame(windowLog: windowLog, payload: Array("wait\n".utf8))))
        #expect(error.message == "zstd frame at byte 0 needs a window larger than the 32 MiB limit (made with --long or --ultra?); recompress it with zstd -19 or lower")
        #expect(readError(bytes: handMadeFrame(windowLog: 25, payload: Array("wait\n".utf8))) == nil)
    }
}
