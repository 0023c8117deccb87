import Testing
@testable import Checks
@testable import Replay

/// The mask of a byte range of an entry (EntryShape.byteMask), built a word
/// at a time: the same as setting each byte of the range that lies in the
/// entry.
@Suite("The mask of an entry's bytes")
struct ByteMaskTests {
    func shape(size: Int) -> EntryShape {
        EntryShape(EntryRecord(identity: EntryIdentity(unit: "u", kind: .generic), unit: 0, addr: 0, size: size,
                               fetchSize: 16, presentBit: 0, mode: .scalable, firstEvent: 1, lastEvent: 1))
    }

    @Test func everyRangeIsItsBytes() {
        for size in [1, 8, 12, 16, 32, 64] {
            let shape = shape(size: size)
            for lo in 0...64 {
                for hi in lo...64 {
                    var expected = EntryValue()
                    for i in lo..<hi where i < size { expected.setByte(i, 0xff) }
                    #expect(shape.byteMask(lo..<hi) == expected, "size \(size), bytes \(lo)..<\(hi)")
                }
            }
        }
    }
}
