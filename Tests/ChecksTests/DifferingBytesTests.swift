import Replay
import Testing
@testable import Checks

/// The bytes a flush changed for the unit: the smallest range holding every
/// byte that differs (Analysis.differingBytes).
@Suite("The bytes two entry values differ in")
struct DifferingBytesTests {
    let analysis = Analysis(traceName: "t")

    func value(_ bytes: [Int: UInt8]) -> EntryValue {
        var v = EntryValue()
        for (i, b) in bytes { v.setByte(i, b) }
        return v
    }

    @Test func equalValuesDifferInNoBytes() {
        #expect(analysis.differingBytes(value([3: 1]), value([3: 1])) == 0..<0)
    }

    @Test func oneByteAtEitherEnd() {
        #expect(analysis.differingBytes(EntryValue(), value([0: 0x80])) == 0..<1)
        #expect(analysis.differingBytes(EntryValue(), value([63: 1])) == 63..<64)
    }

    @Test func theRangeSpansWordsAndGaps() {
        #expect(analysis.differingBytes(value([5: 9]), value([5: 9, 3: 1, 17: 2])) == 3..<18)
        #expect(analysis.differingBytes(value([8: 1]), value([15: 1])) == 8..<16)
    }
}
