import Foundation
import Testing
@testable import TraceFormat

/// Text a source lends (``LendingByteSource``) is parsed where it lies; a
/// line split between two regions is put together in the reader's buffer.
/// Wherever the splits fall, the reader gives what it gives for a file.
@Suite("Lines split between lent regions")
struct SplitLineTests {
    /// Lends `bytes` in regions of the given sizes, taken in turn.
    final class SlicedSource: LendingByteSource {
        static let regionsKept = 1
        let name = "sliced"
        private let bytes: [UInt8]
        private let sizes: [Int]
        private var offset = 0
        private var turn = 0
        private var region: UnsafeMutableRawBufferPointer

        init(_ bytes: [UInt8], sizes: [Int]) {
            self.bytes = bytes
            self.sizes = sizes
            region = .allocate(byteCount: sizes.max() ?? 1, alignment: 1)
        }

        deinit { region.deallocate() }

        var bytesRead: UInt64 { UInt64(offset) }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
            let lent = try nextRegion()
            buffer.copyMemory(from: lent)
            return lent.count
        }

        func nextRegion() throws(TraceError) -> UnsafeRawBufferPointer {
            // The region lent before is overwritten, as a ring would: the
            // reader must have copied what it still needs.
            region.initializeMemory(as: UInt8.self, repeating: 0xee)
            let n = min(sizes[turn % sizes.count], bytes.count - offset)
            turn += 1
            bytes.withUnsafeBytes { region.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return UnsafeRawBufferPointer(rebasing: region[..<n])
        }

        func close() {}
    }

    /// What reading `text` gives: the events, or the error.
    struct Outcome: Equatable {
        var events: [TraceEvent] = []
        var error: TraceError?
        var lines: UInt64 = 0
        var textBytes: UInt64 = 0
    }

    static func outcome(_ make: () throws(TraceError) -> TraceReader) -> Outcome {
        var outcome = Outcome()
        do {
            let reader = try make()
            do {
                while let event = try reader.next() { outcome.events.append(event) }
            } catch { outcome.error = error }
            outcome.lines = reader.lines
            // Read ahead of an error, the count depends on how the text
            // came; at the end it is all of it.
            outcome.textBytes = outcome.error == nil ? reader.textBytes : 0
        } catch { outcome.error = error }
        return outcome
    }

    /// Reading `text` from a file, which the reader copies into its buffer.
    static func fromFile(_ text: String) throws -> Outcome {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.trace").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        var outcome = outcome { () throws(TraceError) in try TraceReader(path: path) }
        if let error = outcome.error { outcome.error = TraceError(file: "sliced", location: error.location, message: error.message, found: error.found) }
        return outcome
    }

    static func fromRegions(_ text: String, sizes: [Int]) -> Outcome {
        outcome { () throws(TraceError) in
            try TraceReader(name: "sliced", source: SlicedSource(Array(text.utf8), sizes: sizes), compressed: false)
        }
    }

    static let sizes: [[Int]] = [[1], [2], [3], [7], [5, 1, 13], [64], [1000], [1 << 16]]

    static let lines = """
        hitless-trace 1
        iommu id=dmar0 coherent=1
        store addr=0x1000 size=8 value=0x1 t=1 cpu=0 at=intel_pasid_setup+0x10
        fence kind=wmb t=2 cpu=0
        store addr=0x1008 size=8 value=0xffffffffffffffff t=3 cpu=1 at=a
        mark text=between t=4
        wait t=5

        """

    @Test(arguments: sizes) func everySplitReadsAsTheFileDoes(sizes: [Int]) throws {
        let expected = try Self.fromFile(Self.lines)
        #expect(expected.error == nil && expected.events.count == 6)
        #expect(Self.fromRegions(Self.lines, sizes: sizes) == expected)
    }

    @Test(arguments: sizes) func everyKindReadsAsTheFileDoes(sizes: [Int]) throws {
        let text = try String(contentsOfFile: samplePath("every-kind.trace"), encoding: .utf8)
        let expected = try Self.fromFile(text)
        #expect(expected.error == nil && expected.events.count > 10)
        #expect(Self.fromRegions(text, sizes: sizes) == expected)
    }

    @Test(arguments: sizes) func aCRLFSplitBetweenRegionsIsOneLineEnd(sizes: [Int]) throws {
        let text = Self.lines.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(Self.fromRegions(text, sizes: sizes) == (try Self.fromFile(text)))
    }

    @Test(arguments: sizes) func aLineLongerThanARegionReadsWhole(sizes: [Int]) throws {
        let text = "hitless-trace 1\nmark text=\(String(repeating: "x", count: 9000)) t=1\nwait t=2\n"
        let expected = try Self.fromFile(text)
        #expect(expected.events.count == 2)
        #expect(Self.fromRegions(text, sizes: sizes) == expected)
    }

    @Test(arguments: sizes) func anErrorOnASplitLineIsPlacedAsInAFile(sizes: [Int]) throws {
        let text = "hitless-trace 1\nwait t=1\nstore addr=0x10 size=8 valeu=1\nwait t=3\n"
        let expected = try Self.fromFile(text)
        #expect(expected.error != nil)
        #expect(Self.fromRegions(text, sizes: sizes) == expected)
    }

    @Test(arguments: [[1000], [4096], [5, 1, 13, 1 << 16]])
    func aLineTooLongSplitBetweenRegionsIsStoppedAsInAFile(sizes: [Int]) throws {
        let text = "hitless-trace 1\nmark text=\(String(repeating: "y", count: TraceLimits.maxLineLength + 100))\n"
        let expected = try Self.fromFile(text)
        #expect(expected.error?.message == "line longer than \(TraceLimits.maxLineLength) bytes")
        #expect(Self.fromRegions(text, sizes: sizes) == expected)
    }

    @Test func aLastLineWithoutALineEndReads() throws {
        let text = "hitless-trace 1\nwait t=1\nwait t=2"
        #expect(Self.fromRegions(text, sizes: [3]) == (try Self.fromFile(text)))
    }
}
