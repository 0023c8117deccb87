import Testing
@testable import TraceFormat
import struct TraceGenerator.SplitMix64

/// Damaged input must end in an error or a clean read: never a crash, a hang
/// or memory that grows with the damage.
@Suite("Damaged input never crashes the reader")
struct DamageTests {
    static let base: [UInt8] = {
        let every = (try? String(contentsOfFile: samplePath("every-kind.trace"), encoding: .utf8)) ?? "wait\n"
        let kernel = (try? String(contentsOfFile: samplePath("kernel-trace.txt"), encoding: .utf8)) ?? ""
        return Array((every + kernel).utf8)
    }()

    /// Bytes that matter to the parser, to make damage likely to hit a branch.
    static let interesting: [UInt8] = Array(" \t=\r\n#:.[]0x9fFX-é".utf8) + [0x00, 0x80, 0xc3, 0xed, 0xf4, 0xff]

    static func damaged(_ input: [UInt8], seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var bytes = input
        for _ in 0..<(1 + rng.next() % 8) {
            guard !bytes.isEmpty else { break }
            let at = Int(rng.next() % UInt64(bytes.count))
            let byte = rng.next() % 2 == 0 ? interesting[Int(rng.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: rng.next())
            switch rng.next() % 4 {
            case 0: bytes[at] = byte
            case 1: bytes.insert(byte, at: at)
            case 2: bytes.remove(at: at)
            default:
                // Repeat a slice: long tokens, long lines, many keys.
                let end = min(bytes.count, at + Int(rng.next() % 64))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            }
        }
        return bytes
    }

    static func readToTheEnd(_ bytes: [UInt8]) {
        do {
            let reader = try TraceReader(bytes: bytes, name: "damaged")
            while try reader.next() != nil {}
        } catch {
            // An error is a fine outcome; it must still say where.
            #expect(!error.message.isEmpty)
        }
    }

    @Test(arguments: Array(UInt64(1)...400))
    func damagedTextEndsInAnErrorOrACleanRead(seed: UInt64) {
        Self.readToTheEnd(Self.damaged(Self.base, seed: seed))
    }

    @Test func damagedZstdEndsInAnErrorOrACleanRead() throws {
        let frame = try zstdFrame(String(decoding: Self.base, as: UTF8.self))
        for seed in UInt64(1)...200 {
            var rng = SplitMix64(seed: seed)
            var bytes = frame
            for _ in 0..<(1 + rng.next() % 4) {
                bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            Self.readToTheEnd(bytes)
            Self.readToTheEnd(Array(frame.prefix(Int(rng.next() % UInt64(frame.count)))))
        }
    }

    @Test func extremeKernelTimestampsAreNotTimes() throws {
        let (e, _) = try event("  a-1 [000] 99999999999.999999: f: hitless: wait")
        #expect(e.time == nil)
        let (f, _) = try event("  a-1 [000] 18446744073.709551615: f: hitless: wait")
        #expect(f.time == .max)
        let (o, _) = try event("  a-1 [000] 18446744073.709551616: f: hitless: wait")
        #expect(o.time == nil)
        let (g, _) = try event("  a-1 [000] 18446744073.709551: f: hitless: wait")
        #expect(g.time == 18_446_744_073_709_551_000)
        let (h, _) = try event("  a-1 [99999999999] 1.0: f: hitless: wait")
        #expect(h.time == 1_000_000_000)
        #expect(h.cpu == 0, "a CPU number of eleven digits is no CPU")
    }
}
