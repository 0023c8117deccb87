import Foundation
import Testing
@testable import TraceFormat
import struct TraceGenerator.SplitMix64

/// The binary bytes of `events` as `BinaryTraceWriter` writes them.
func binaryBytes(_ events: [TraceEvent], _ symbols: SymbolTable) -> [UInt8] {
    var writer = BinaryTraceWriter()
    var out = BinaryTraceFormat.header
    for e in events { writer.append(e, symbols: symbols, to: &out) }
    return out
}

/// Bytes written through `OutputFile`, zstd-compressed.
func compressed(_ bytes: [UInt8]) throws -> [UInt8] {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("out.htb.zst").path
    let out = try OutputFile(path: path, compress: true)
    try out.write(bytes: bytes)
    try out.commit()
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

@Suite("The binary format")
struct BinaryFormatTests {
    static let seeds = Array(UInt64(1)...200)

    @Test(arguments: seeds)
    func textToBinaryToTextKeepsEveryEventAndBinaryIsAFixedPoint(seed: UInt64) throws {
        var generator = RandomEvents(seed: seed &* 31)
        let events = generator.trace(events: 60)
        let text = RoundTripTests.canonicalText(events, generator.symbols)
        let (fromText, textSymbols) = try read(text)

        let binary = binaryBytes(fromText, textSymbols)
        for bytes in [binary, try compressed(binary)] {
            let reader = try TraceReader(bytes: bytes, name: "t.htb")
            let again = try reader.readAll()
            #expect(reader.isBinary)
            #expect(reader.isCompressed == (bytes != binary))
            #expect(again.map { ComparableEvent($0, reader.symbols) } == events.map { ComparableEvent($0, generator.symbols) })
            // A binary event's line is its ordinal.
            #expect(again.map(\.line) == Array(1...UInt64(events.count)))
            // Binary -> text gives the canonical text; text -> binary the same bytes.
            let textAgain = RoundTripTests.canonicalText(again, reader.symbols)
            #expect(textAgain == text)
            let (reread, rereadSymbols) = try read(textAgain)
            #expect(binaryBytes(reread, rereadSymbols) == binary)
        }
    }

    @Test func formatsAreToldApartByMagic() throws {
        let (events, symbols) = try read(String(decoding: try Data(contentsOf: URL(fileURLWithPath: samplePath("every-kind.trace"))), as: UTF8.self))
        let binary = binaryBytes(events, symbols)
        #expect(Array(binary.prefix(8)) == [0x89, 0x48, 0x54, 0x42, 0x0d, 0x0a, 0x1a, 0x0a])
        let plain = try TraceReader(bytes: binary)
        #expect(plain.isBinary && !plain.isCompressed)
        let zstd = try TraceReader(bytes: try compressed(binary))
        #expect(zstd.isBinary && zstd.isCompressed)
        #expect(try zstd.readAll().count == events.count)
        let text = try TraceReader(bytes: try zstdFrame(TraceWriter.header))
        #expect(!text.isBinary && text.isCompressed)
        // zstd skippable frames before the binary data are skipped.
        let skipped = try TraceReader(bytes: skippableFrame([1, 2, 3]) + (try compressed(binary)))
        #expect(skipped.isBinary)
        #expect(try skipped.readAll().count == events.count)
    }

    @Test func aSecondBinaryTraceAfterTheFirstIsNamedAsConcatenation() throws {
        let one = BinaryTraceFormat.header + [0x09]  // a `wait`
        let e = try #require(readError(bytes: one + one))
        #expect(e.location == .byteOffset(11))
        #expect(e.message.hasPrefix("a second binary trace header: binary traces cannot be concatenated"))
    }

    @Test func aBinaryTraceWhoseLineEndsWereConvertedIsADamagedHeader() throws {
        let converted = [0x89, 0x48, 0x54, 0x42, 0x0a, 0x1a, 0x0a, 1, 0, 0x09] as [UInt8]
        let e = try #require(readError(bytes: converted))
        #expect(e.location == .byteOffset(4))
        #expect(e.message.hasPrefix("damaged binary trace header: its line-end bytes were changed"))
    }

    @Test func textAfterBinaryRecordsIsNamedAsSuch() throws {
        let e = try #require(readError(bytes: BinaryTraceFormat.header + [0x09] + Array("hitless-trace 1\nwait\n".utf8)))
        #expect(e.location == .byteOffset(11))
        #expect(e.message.hasPrefix("text after binary records"))
        #expect(e.found == "hitless-trace 1")
    }

    @Test func anEmptyTraceIsTheHeaderAlone() throws {
        let reader = try TraceReader(bytes: BinaryTraceFormat.header)
        #expect(try reader.next() == nil)
        #expect(reader.lines == 0)
    }

    @Test func errorsNameTheByteOffset() throws {
        func error(_ body: [UInt8]) -> TraceError? { readError(bytes: BinaryTraceFormat.header + body) }
        // A `wait`, then an unknown tag (kind 13).
        var e = try #require(error([0x09, 0x0d]))
        #expect(e.location == .byteOffset(11))
        #expect(e.description.hasPrefix("t.trace: byte 11: error: unknown record tag"))
        // A string used before it is defined.
        e = try #require(error([0x0c, 0x05]))
        #expect(e.message.contains("string 5 is not defined"))
        // A store of 3 bytes.
        e = try #require(error([0x04, 0x03, 0x10, 1, 2, 3]))
        #expect(e.message == "store size must be 1, 2, 4, 8 or 16")
        // A varint of eleven bytes.
        e = try #require(error([0x0b] + [UInt8](repeating: 0xff, count: 10) + [0x01]))
        #expect(e.message.contains("wider than 64 bits"))
        // A unit name with a blank cannot be written as text.
        e = try #require(error([0x0f, 3, 0x61, 0x20, 0x62, 0x49, 1]))
        #expect(e.message.contains("no blanks"))
        // A string longer than a line.
        e = try #require(error([0x0f, 0x81, 0x81, 0x01]))
        #expect(e.message.contains("string longer than"))
        // A header of another version or cut short.
        e = try #require(readError(bytes: BinaryTraceFormat.magic + [2, 0]))
        #expect(e.location == .byteOffset(8))
        e = try #require(readError(bytes: BinaryTraceFormat.magic + [1]))
        #expect(e.message.contains("truncated binary trace header"))
        // Time that passes 2^64.
        e = try #require(error([0x19, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x19, 0x01]))
        #expect(e.location == .byteOffset(21))
    }

    /// LEB128 bytes of `value`, spelled out here rather than taken from the
    /// writer so that the decoder is checked against the format, not itself.
    static func leb128(_ value: UInt64) -> [UInt8] {
        var v = value
        var bytes: [UInt8] = []
        repeat {
            bytes.append(UInt8(v & 0x7f) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v != 0
        return bytes
    }

    /// A `wait` record carrying time `delta`: tag 0x19 is a wait with time.
    static func timedWait(_ delta: [UInt8]) -> [UInt8] { [0x19] + delta }

    /// The decoder takes a varint that has room for ten bytes after it in
    /// one load and one near the end of the data byte by byte; both must
    /// agree for every length, so each value is read in both places.
    @Test(arguments: 0...64)
    func aVarintOfEveryBitLengthDecodesMidDataAndAtTheEnd(bits: Int) throws {
        let value: UInt64 = bits == 0 ? 0 : UInt64.max >> (64 - bits)
        let record = Self.timedWait(Self.leb128(value))
        let padding = [UInt8](repeating: 0x09, count: 12)  // untimed waits
        for body in [record + padding, record] {
            let (events, _) = try read(bytes: BinaryTraceFormat.header + body)
            #expect(events.first?.time == value)
            #expect(events.count == body.count - record.count + 1)
        }
    }

    @Test func aTenByteVarintHoldsBit63AndAnEleventhByteIsAnError() throws {
        let longest = [UInt8](repeating: 0xff, count: 9) + [0x01]
        let padding = [UInt8](repeating: 0x09, count: 12)
        for tail in [padding, []] {
            let (events, _) = try read(bytes: BinaryTraceFormat.header + Self.timedWait(longest) + tail)
            #expect(events.first?.time == UInt64.max)
            // A tenth byte above 1 would need a 65th bit.
            let wide = try #require(readError(bytes: BinaryTraceFormat.header
                                              + Self.timedWait([UInt8](repeating: 0xff, count: 9) + [0x02]) + tail))
            #expect(wide.message.contains("wider than 64 bits"))
            let eleven = try #require(readError(bytes: BinaryTraceFormat.header
                                                + Self.timedWait([UInt8](repeating: 0xff, count: 10) + [0x01]) + tail))
            #expect(eleven.message.contains("wider than 64 bits"))
        }
    }

    /// Found by the reader fuzz target: a zstd frame holding a binary header
    /// of an unknown version freed the decompression context twice (once by
    /// the binary decoder given the source, once by the reader).
    @Test func aBadBinaryHeaderInsideZstdIsAnErrorAndFreesOnce() throws {
        let crash: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0xa9, 0x00, 0x00, 0x89, 0x48, 0x54, 0x42,
                              0x0d, 0x0a, 0x1a, 0x0a, 0x68, 0x69, 0x74, 0x6c, 0x74, 0x0a, 0x86]
        let e = try #require(readError(bytes: crash))
        #expect(e.location == .byteOffset(8))
        #expect(e.message.contains("unsupported binary trace version"))
    }

    @Test func everyTruncationIsAnErrorOrACleanShorterRead() throws {
        var generator = RandomEvents(seed: 5)
        let events = generator.trace(events: 40)
        let binary = binaryBytes(events, generator.symbols)
        for cut in 0..<binary.count {
            let prefix = Array(binary[..<cut])
            do {
                let reader = try TraceReader(bytes: prefix, name: "t.htb")
                let read = try reader.readAll()
                #expect(read.count <= events.count)
            } catch {
                if cut >= 10, case .byteOffset(let offset) = error.location {
                    #expect(offset < UInt64(cut))
                    #expect(error.message.contains("truncated"))
                } else if cut >= 10 {
                    Issue.record("cut \(cut): \(error)")
                }
            }
        }
    }

    @Test func damagedBytesNeverCrash() throws {
        var rng = SplitMix64(seed: 99)
        for seed in UInt64(1)...40 {
            var generator = RandomEvents(seed: seed)
            let binary = binaryBytes(generator.trace(events: 30), generator.symbols)
            for _ in 0..<25 {
                var damaged = binary
                for _ in 0..<(1 + rng.next() % 4) {
                    let at = 10 + Int(rng.next() % UInt64(damaged.count - 10))
                    damaged[at] = UInt8(truncatingIfNeeded: rng.next())
                }
                if let error = readError(bytes: damaged) {
                    #expect(error.description.hasPrefix("t.trace: byte "))
                }
            }
        }
    }
}
