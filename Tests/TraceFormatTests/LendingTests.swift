import Foundation
import Testing
@testable import TraceFormat

/// ``ZstdSource`` decodes into a ring and lends each block's text where it
/// was decoded; the read-ahead thread and the reader rely on a region
/// staying as it was while ``ZstdSource/regionsKept`` more are lent.
@Suite("Lending decompressed text")
struct LendingTests {
    /// Text that compresses into many blocks: lines that differ, with
    /// times from `start` on.
    static func text(lines: Int, seed: UInt64, start: Int) -> String {
        var state = seed
        var text = ""
        for i in 0..<lines {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            text += "store addr=\(hex(i * 8)) size=8 value=\(hex(Int(truncatingIfNeeded: state >> 20))) t=\(start + i)\n"
        }
        return text
    }

    /// A frame that stores `bytes` as they are, in raw blocks of at most
    /// 128 KiB (RFC 8878 3.1.1.2): no content size, a 128 KiB window, no
    /// checksum.
    static func rawFrame(_ bytes: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]
        var rest = bytes[...]
        repeat {
            let block = rest.prefix(1 << 17)
            rest = rest.dropFirst(block.count)
            let header = UInt32(block.count) << 3 | (rest.isEmpty ? 1 : 0)
            frame += [UInt8(truncatingIfNeeded: header), UInt8(truncatingIfNeeded: header >> 8), UInt8(truncatingIfNeeded: header >> 16)]
            frame += block
        } while !rest.isEmpty
        return frame
    }

    /// Frames whose windows grow and shrink (raw: 128 KiB, the smallest
    /// ring first; level 1: 512 KiB; level 10: 4 MiB), so that the ring is
    /// outgrown while regions of the old one are still out.
    static func frames() throws -> (bytes: [UInt8], text: [UInt8]) {
        let parts: [(String, Int32?)] = [
            (text(lines: 10_000, seed: 4, start: 0), nil),
            (text(lines: 15_000, seed: 1, start: 10_000), 1),
            (text(lines: 60_000, seed: 2, start: 25_000), 10),
            (text(lines: 300, seed: 3, start: 85_000), 1),
            (text(lines: 20_000, seed: 5, start: 85_300), 3),
        ]
        var bytes: [UInt8] = []
        var text: [UInt8] = []
        for (part, level) in parts {
            bytes += try level.map { try zstdFrame(part, level: $0) } ?? rawFrame(Array(part.utf8))
            text += Array(part.utf8)
        }
        return (bytes, text)
    }

    @Test func aRegionStaysAsItWasWhileRegionsKeptMoreAreLent() throws {
        let (bytes, text) = try Self.frames()
        let source = try ZstdSource(input: MemorySource(bytes: bytes, name: "m"))
        var lent: [(region: UnsafeRawBufferPointer, copy: [UInt8])] = []
        var out: [UInt8] = []
        while true {
            let region = try source.nextRegion()
            if region.isEmpty { break }
            out += region
            lent.append((region, Array(region)))
            if lent.count > ZstdSource.regionsKept { lent.removeFirst() }
            for (old, copy) in lent { #expect(old.elementsEqual(copy), "a region of \(copy.count) bytes changed") }
        }
        #expect(out == text)
        source.close()
    }

    @Test func aRegionIsNeverLargerThanABlock() throws {
        let (bytes, _) = try Self.frames()
        let source = try ZstdSource(input: MemorySource(bytes: bytes, name: "m"))
        defer { source.close() }
        var largest = 0
        while true {
            let region = try source.nextRegion()
            if region.isEmpty { break }
            largest = max(largest, region.count)
        }
        #expect(largest > 0 && largest <= ZstdSource.blockSizeMax)
    }

    @Test func framesWhoseWindowsGrowReadTheSameFromAFileAsFromMemory() throws {
        let (bytes, text) = try Self.frames()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("frames.zst").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fromFile = try TraceReader(path: path)
        let fromMemory = try TraceReader(bytes: bytes, name: path)
        let events = try fromFile.readAll()
        #expect(events == (try fromMemory.readAll()))
        #expect(fromFile.textBytes == UInt64(text.count))
    }

    @Test func aRawBlockCutShortGivesItsTextBeforeTheError() throws {
        // Stored (raw) blocks come out as they arrive: a file cut inside one
        // reads up to the cut, then fails at its end.
        let frame = Self.rawFrame(Array(repeating: 0x61, count: 3000))
        let cut = Array(frame.prefix(frame.count - 1000))
        let source = try ZstdSource(input: MemorySource(bytes: cut, name: "m"))
        defer { source.close() }
        var out = 0
        do {
            while true {
                let region = try source.nextRegion()
                if region.isEmpty { break }
                out += region.count
            }
            Issue.record("read without an error")
        } catch {
            #expect(error.message == "truncated zstd frame: the file ends inside a frame at byte \(cut.count)")
        }
        #expect(out == 2000)
    }
}
