import Foundation
import Testing
@testable import TraceFormat

@Suite("Reading zstd-compressed traces")
struct ZstdTests {
    static let text = "hitless-trace 1\nstore addr=0x10 size=8 value=1\nwait\n"

    @Test func compressionIsToldByMagicNotByName() throws {
        let frame = try zstdFrame(Self.text)
        #expect(Array(frame.prefix(4)) == [0x28, 0xb5, 0x2f, 0xfd])
        let reader = try TraceReader(bytes: frame, name: "plain-looking.trace")
        #expect(reader.isCompressed)
        #expect(try reader.readAll().map(\.kind) == [.store, .wait])
        #expect(reader.fileBytes == UInt64(frame.count))
        #expect(reader.textBytes == UInt64(Self.text.utf8.count))
    }

    @Test func aFileNamedZstThatIsPlainTextIsReadAsText() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.zst").path
        try Self.text.write(toFile: path, atomically: false, encoding: .utf8)
        let reader = try TraceReader(path: path)
        #expect(!reader.isCompressed)
        #expect(try reader.readAll().count == 2)
    }

    @Test func severalFramesReadAsOneTrace() throws {
        let bytes = try zstdFrame("wait t=1\nwait t=2\n") + zstdFrame("store addr=0 size=1 value=0 t=3\n") + zstdFrame("mark text=end\n")
        let (events, _) = try read(bytes: bytes)
        #expect(events.map(\.kind) == [.wait, .wait, .store, .mark])
        #expect(events.map(\.line) == [1, 2, 3, 4])
    }

    @Test func aLineMaySpanTwoFrames() throws {
        let bytes = try zstdFrame("store addr=0x10 si") + zstdFrame("ze=8 value=1\n")
        #expect(try read(bytes: bytes).events.first?.payload == .store(MemoryWrite(addr: 0x10, size: 8, value: 1)))
    }

    @Test func skippableFramesAreSkipped() throws {
        let bytes = skippableFrame(Array("not a trace".utf8)) + (try zstdFrame("wait\n")) + skippableFrame([]) + (try zstdFrame("wait\n"))
        #expect(try read(bytes: bytes).events.count == 2)
        #expect(try TraceReader(bytes: bytes).isCompressed, "a file may start with a skippable frame")
    }

    @Test func aLargeTraceStreamsThroughManyBuffers() throws {
        var text = "hitless-trace 1\n"
        for i in 0..<40_000 { text += "store addr=\(hex(i * 8)) size=8 value=\(hex(i)) t=\(i)\n" }
        let reader = try TraceReader(bytes: try zstdFrame(text))
        var count = 0
        while let e = try reader.next() {
            #expect(e.time == UInt64(count))
            count += 1
        }
        #expect(count == 40_000)
    }

    @Test func aTruncatedFrameIsAnErrorWithTheByteOffset() throws {
        let frame = try zstdFrame(Self.text)
        let cut = Array(frame.prefix(frame.count - 3))
        let error = try #require(readError(bytes: cut))
        #expect(error.message == "truncated zstd frame: the file ends inside a frame at byte \(cut.count)")
        #expect(error.found == "end of file")
        #expect(error.line != nil && error.column != nil)
    }

    @Test func aFrameCutAfterItsHeaderIsTruncatedAtTheEnd() throws {
        let frame = try zstdFrame(Self.text)
        let error = try #require(readError(bytes: Array(frame.prefix(6))))
        #expect(error.message == "truncated zstd frame: the file ends inside a frame at byte 6")
        #expect(error.line == 1)
        #expect(error.column == 1)
    }

    @Test func aTruncatedSecondFrameNamesItsOffsetInTheFile() throws {
        let first = try zstdFrame("wait\nwait\n")
        let second = try zstdFrame("mark text=second\n")
        // Only the second frame's header made it: 4 bytes magic, 1 descriptor, 1 size.
        let bytes = first + second.prefix(6)
        let error = try #require(readError(bytes: Array(bytes)))
        #expect(error.message == "truncated zstd frame: the file ends inside a frame at byte \(bytes.count)")
        #expect(error.line == 3, "two whole lines came out of the first frame")
        #expect(error.column == 1)
    }

    @Test func aCorruptFrameHeaderNamesTheFrame() throws {
        var frame = try zstdFrame(Self.text)
        frame[4] |= 0x08  // frame header descriptor: the reserved bit
        let error = try #require(readError(bytes: frame))
        // zstd checks the bit once it has the whole header: magic, this
        // descriptor (single segment) and a one-byte content size.
        #expect(error.message == "corrupt zstd frame at byte 0 (error found by byte 5): Unsupported frame parameter")
        #expect(error.found == "ZSTD_error_frameParameter_unsupported")
        #expect(error.location == .line(1, column: 1))
    }

    @Test func aWrongChecksumNamesTheFrameAndTheLastByte() throws {
        var frame = try zstdFrame(Self.text)
        frame[frame.count - 1] ^= 0xff
        let error = try #require(readError(bytes: frame))
        #expect(error.message == "corrupt zstd frame at byte 0 (error found by byte \(frame.count - 1)): Restored data doesn't match checksum")
        #expect(error.found == "ZSTD_error_checksum_wrong")
        // The frame is one block, checked before any of its text comes out.
        #expect(error.location == .line(1, column: 1))
    }

    @Test func damageInTheSecondFrameNamesTheSecondFramesStart() throws {
        let first = try zstdFrame("wait\nwait\n")
        var second = try zstdFrame("mark text=second\n")
        second[second.count - 1] ^= 0xff
        let bytes = first + second
        let error = try #require(readError(bytes: bytes))
        #expect(error.message == "corrupt zstd frame at byte \(first.count) (error found by byte \(bytes.count - 1)): Restored data doesn't match checksum")
        #expect(error.found == "ZSTD_error_checksum_wrong")
        #expect(error.location == .line(3, column: 1), "two whole lines came out of the first frame")
    }

    @Test func damageInTheSecondFramesBlockNamesTheSecondFramesStart() throws {
        let first = try zstdFrame("wait\nwait\n")
        var second = try zstdFrame(String(repeating: "mark text=second\n", count: 50))
        let damaged = first.count + second.count / 2
        second[second.count / 2] ^= 0x5a
        let bytes = first + second
        let error = try #require(readError(bytes: bytes))
        let prefix = "corrupt zstd frame at byte \(first.count) (error found by byte "
        #expect(error.message.hasPrefix(prefix), "\(error)")
        let by = error.message.dropFirst(prefix.count).prefix { $0 != ")" }
        #expect(UInt64(by).map { $0 >= damaged && $0 < bytes.count } == true, "\(error)")
    }

    @Test func aFileGivesTheSameOffsetsAsTheSameBytesInMemory() throws {
        // A file is sniffed by reading its first 4 bytes apart: zstd takes
        // them in a call of their own.
        let first = try zstdFrame("wait\nwait\n")
        var second = try zstdFrame("mark text=second\n")
        second[second.count - 1] ^= 0xff
        let bytes = first + second
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("two.zst").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try TraceReader(path: path).readAll()
            Issue.record("read without an error")
        } catch {
            let inMemory = try #require(readError(bytes: bytes))
            #expect(error.message == inMemory.message)
            #expect(error.location == inMemory.location)
            #expect(error.found == inMemory.found)
        }
    }

    @Test func corruptBlockDataIsFoundBetweenTheFrameStartAndTheLastByteGiven() throws {
        var text = ""
        for i in 0..<2000 { text += "store addr=\(hex(i * 8)) size=8 value=\(hex(i &* 2654435761)) t=\(i)\n" }
        var frame = try zstdFrame(text)
        // Damage the middle of the compressed data; the checksum or the
        // entropy decoder must catch it, never silently.
        let damaged = frame.count / 2
        for k in stride(from: damaged, to: damaged + 16, by: 1) { frame[k] ^= 0x5a }
        let error = try #require(readError(bytes: frame))
        let prefix = "corrupt zstd frame at byte 0 (error found by byte "
        #expect(error.message.hasPrefix(prefix), "\(error)")
        let by = error.message.dropFirst(prefix.count).prefix { $0 != ")" }
        #expect(UInt64(by).map { $0 >= damaged && $0 < frame.count } == true, "\(error)")
        #expect(error.found == "ZSTD_error_corruption_detected" || error.found == "ZSTD_error_checksum_wrong")
    }

    @Test func garbageAfterAFrameIsACorruptFrameWhereTheGarbageStarts() throws {
        let frame = try zstdFrame("wait\n")
        let bytes = frame + Array("trailing text\n".utf8)
        let error = try #require(readError(bytes: bytes))
        // zstd is given a frame's first five bytes on their own, and knows
        // from the first four that this is no frame.
        #expect(error.message == "corrupt zstd frame at byte \(frame.count) (error found by byte \(frame.count + 4)): Unknown frame descriptor")
        #expect(error.found == "ZSTD_error_prefix_unknown")
        #expect(error.location == .line(2, column: 1))
    }

    @Test func aFrameAskingForAHugeWindowIsRefused() throws {
        // Frame header: magic, descriptor 0x00 (no single-segment, no
        // checksum), window descriptor 0xf8: exponent 31, a 2 GiB window.
        let bytes: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00]
        let error = try #require(readError(bytes: bytes))
        #expect(error.message == "zstd frame at byte 0 needs a window larger than the 32 MiB limit (made with --long or --ultra?); recompress it with zstd -19 or lower")
        #expect(error.found == "ZSTD_error_frameParameter_windowTooLarge")
    }

    @Test func aHugeWindowInTheSecondFrameNamesThatFrame() throws {
        let first = try zstdFrame("wait\n")
        let error = try #require(readError(bytes: first + [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00]))
        #expect(error.message.hasPrefix("zstd frame at byte \(first.count) needs a window larger than the 32 MiB limit"))
        #expect(error.location == .line(2, column: 1))
    }
}
