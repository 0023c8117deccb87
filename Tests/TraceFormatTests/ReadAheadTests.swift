import Foundation
import Testing
@testable import TraceFormat

/// A compressed file opened by path is decompressed on a thread of its own
/// (``ReadAheadSource``); what the reader gives must not change.
@Suite("Decompressing a file ahead of the reading")
struct ReadAheadTests {
    /// A trace of `count` stores, several read-ahead buffers long.
    static func text(stores count: Int) -> String {
        var text = "hitless-trace 1\n"
        for i in 0..<count { text += "store addr=\(hex(i * 8)) size=8 value=\(hex(i)) t=\(i)\n" }
        return text
    }

    func file(_ bytes: [UInt8]) throws -> (path: String, dir: URL) {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("trace.zst").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, dir)
    }

    @Test func aFileReadsAsTheSameBytesInMemory() throws {
        let bytes = try zstdFrame(Self.text(stores: 60_000))  // 3 MB of text: a dozen buffers
        let (path, dir) = try file(bytes)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fromFile = try TraceReader(path: path)
        let fromMemory = try TraceReader(bytes: bytes, name: path)
        #expect(try fromFile.readAll() == fromMemory.readAll())
        #expect(fromFile.lines == fromMemory.lines)
        #expect(fromFile.textBytes == fromMemory.textBytes)
        #expect(fromFile.fileBytes == UInt64(bytes.count))
    }

    @Test func damageIsMetAfterEveryEventBeforeItWithTheSameError() throws {
        let good = try zstdFrame(Self.text(stores: 30_000))
        var bad = try zstdFrame("wait\nwait\n")
        bad[bad.count - 1] ^= 0xff  // the checksum
        let bytes = good + bad
        let (path, dir) = try file(bytes)
        defer { try? FileManager.default.removeItem(at: dir) }
        func readUntilError(_ reader: TraceReader) -> (events: Int, error: TraceError?) {
            var events = 0
            do {
                while try reader.next() != nil { events += 1 }
                return (events, nil)
            } catch { return (events, error) }
        }
        let fromFile = readUntilError(try TraceReader(path: path))
        let fromMemory = readUntilError(try TraceReader(bytes: bytes, name: path))
        #expect(fromFile.events == 30_000)
        #expect(fromFile.events == fromMemory.events)
        #expect(fromFile.error != nil)
        #expect(fromFile.error == fromMemory.error)
    }

    @Test func closingBeforeTheEndStopsTheThread() throws {
        let bytes = try zstdFrame(Self.text(stores: 60_000))
        let (path, dir) = try file(bytes)
        defer { try? FileManager.default.removeItem(at: dir) }
        for _ in 0..<20 {
            let reader = try TraceReader(path: path)
            #expect(try reader.next()?.kind == .store)
            // The reader goes here, with the thread blocked on full buffers.
        }
    }

    @Test func bytesComeOutInOrderWhateverTheReadSizes() throws {
        let data = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let source = ReadAheadSource(input: MemorySource(bytes: data, name: "m"))
        var out: [UInt8] = []
        var size = 1
        var buffer = [UInt8](repeating: 0, count: 75_000)
        while true {
            let n = try buffer.withUnsafeMutableBytes { raw in
                try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]))
            }
            if n == 0 { break }
            out += buffer[0..<n]
            size = size % 69_997 + 4093
        }
        source.close()
        #expect(out == data)
    }
}
