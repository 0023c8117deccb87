import Foundation
import Testing
import TestSupport

@Suite("convert to and from the binary format")
struct BinaryCLITests {
    func temporary() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hitless-bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func textBinaryTextGivesTheCanonicalTextPlainAndZstd() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let canonical = dir.appendingPathComponent("c.trace").path
        #expect(try hitless(["convert", "Samples/every-kind.trace", canonical]).status == 0)
        let expected = try String(contentsOfFile: canonical, encoding: .utf8)
        for name in ["t.htb", "t.htb.zst"] {
            let binary = dir.appendingPathComponent(name).path
            let back = dir.appendingPathComponent(name + ".trace").path
            #expect(try hitless(["convert", "Samples/every-kind.trace", binary]).status == 0)
            let head = try Data(contentsOf: URL(fileURLWithPath: binary)).prefix(4)
            #expect(Array(head) == (name.hasSuffix(".zst") ? [0x28, 0xb5, 0x2f, 0xfd] : [0x89, 0x48, 0x54, 0x42]))
            #expect(try hitless(["convert", binary, back]).status == 0)
            #expect(try String(contentsOfFile: back, encoding: .utf8) == expected)
            // Binary -> text -> binary: the same bytes.
            let again = dir.appendingPathComponent("again-" + name).path
            #expect(try hitless(["convert", back, again]).status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == Data(contentsOf: URL(fileURLWithPath: binary)))
        }
        // --to binary whatever the name, and on standard input.
        let named = dir.appendingPathComponent("x.bin").path
        #expect(try hitless(["convert", "--to", "binary", "Samples/every-kind.trace", named]).status == 0)
        let piped = try hitless(["convert", "-", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: named)))
        #expect(piped.status == 0)
        #expect(piped.stdout == expected)
    }

    @Test func analyzeAndStatsReadBinaryTraces() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("t.htb.zst").path
        #expect(try hitless(["convert", "Samples/every-kind.trace", binary]).status == 0)
        let text = try hitless(["stats", "--format", "json", "Samples/every-kind.trace"])
        let stats = try hitless(["stats", "--format", "json", binary])
        #expect(stats.status == 0)
        // The same counts but for the file's name, size and form.
        func counts(_ json: String) -> [String] {
            json.split(separator: "\n").map(String.init).filter { line in
                !["file", "compressed", "Bytes", "lines"].contains { line.contains($0) }
            }
        }
        #expect(counts(text.stdout) == counts(stats.stdout))
        let a = try hitless(["analyze", "--format", "json", "Samples/every-kind.trace"])
        let b = try hitless(["analyze", "--format", "json", binary])
        #expect(a.status == b.status)
        // Progress goes to a terminal only: a pipe gets nothing.
        #expect(stats.stderr.isEmpty)
    }

    @Test func damagedBinaryNamesTheByteAndExitsTwo() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("t.htb").path
        #expect(try hitless(["convert", "Samples/every-kind.trace", binary]).status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: binary))
        let cut = dir.appendingPathComponent("cut.htb").path
        try data.prefix(data.count - 1).write(to: URL(fileURLWithPath: cut))
        let run = try hitless(["stats", cut])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("\(cut): byte "))
        #expect(run.stderr.contains(": error: truncated record"))
    }
}
