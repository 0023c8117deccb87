import Foundation
import Testing
import TestSupport

/// A fresh directory for one test's files.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hitless-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A malformed file and the one line `hitless` must print for it.
struct BadFile: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// `LINE:COLUMN: error: WHAT (found: TOKEN)`, after `FILE:`.
    var expected: String
    var testDescription: String { name }

    init(_ name: String, _ text: String, _ expected: String) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.expected = expected
    }

    init(_ name: String, bytes: [UInt8], _ expected: String) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }
}

let badFiles: [BadFile] = [
    BadFile("unknown key", "hitless-trace 1\nstore addr=0x10 size=8 value=1 adr=0x1000\n",
            "2:32: error: unknown key `adr` (found: adr=0x1000)"),
    BadFile("unknown kind", "stroe addr=0x10 size=8 value=1\n", "1:1: error: unknown event kind (found: stroe)"),
    BadFile("value wider than size", "# c\n\nstore addr=0x10 size=2 value=0x10000\n",
            "3:30: error: value does not fit in size=2 bytes (found: value=0x10000)"),
    BadFile("bad sid", "inval type=context gran=device sid=00:20.0\n",
            "1:36: error: bad source id; expected BB:DD.F in hex, or a 16-bit number (found: sid=00:20.0)"),
    BadFile("time goes backwards", "wait t=5\r\nwait t=4\r\n",
            "2:6: error: time goes backwards: t=4 after t=5 on line 1 (found: t=4)"),
    BadFile("unsupported version", "hitless-trace 2\nwait\n",
            "1:15: error: unsupported trace format version 2; this hitless reads version 1 (found: 2)"),
    BadFile("invalid UTF-8", bytes: Array("wait at=".utf8) + [0xff] + Array("\n".utf8),
            "1:9: error: invalid UTF-8 (found: byte 0xff)"),
    BadFile("kernel line with a bad event", "  a-1 [000] 1.0: f: hitless: store addr=0x10 size=3 value=1\n",
            "1:51: error: store size must be 1, 2, 4, 8 or 16 (found: size=3)"),
]

@Suite("The hitless command line", .serialized)
struct CLITests {
    @Test func theBinaryIsFound() {
        #expect(hitlessBinary != nil)
    }

    @Test(arguments: badFiles)
    func aMalformedFileExitsWithStatusTwoAndOneLocatedError(_ bad: BadFile) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.trace").path
        try Data(bad.bytes).write(to: URL(fileURLWithPath: path))
        let run = try hitless(["stats", path])
        #expect(run.status == 2)
        #expect(run.stderr == "\(path):\(bad.expected)\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func aLineLongerThanTheLimitIsAnErrorAtTheLimit() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("long.trace").path
        try ("wait\nmark text=" + String(repeating: "x", count: 20_000) + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let run = try hitless(["stats", path])
        #expect(run.status == 2)
        #expect(run.stderr == "\(path):2:16385: error: line longer than 16384 bytes (found: mark text=xxxxxxxxxxxxxxxxxxxxxx...)\n")
    }

    @Test func aTruncatedZstdFileNamesTheByteOffset() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = dir.appendingPathComponent("whole.trace.zst").path
        #expect(try hitless(["convert", "Samples/every-kind.trace", whole]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = dir.appendingPathComponent("cut.zst").path
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: cut))
        let run = try hitless(["stats", cut])
        #expect(run.status == 2)
        // The one block lacks its last byte: none of its text came out.
        #expect(run.stderr == "\(cut):1:1: error: truncated zstd frame: the file ends inside a frame at byte \(bytes.count - 5) (found: end of file)\n")
    }

    @Test func aZstdFileWithAWrongChecksumNamesTheFrameAndTheLastByte() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("corrupt.zst").path
        #expect(try hitless(["convert", "Samples/every-kind.trace", path]).status == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 1] ^= 0xff  // the content checksum's last byte
        try bytes.write(to: URL(fileURLWithPath: path))
        let run = try hitless(["stats", path])
        #expect(run.status == 2)
        #expect(run.stderr == "\(path):1:1: error: corrupt zstd frame at byte 0 (error found by byte \(bytes.count - 1)): Restored data doesn't match checksum (found: ZSTD_error_checksum_wrong)\n")
    }

    @Test func damageInTheSecondFrameOfAZstdFileNamesWhereThatFrameStarts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first.zst").path
        let second = dir.appendingPathComponent("second.zst").path
        try "hitless-trace 1\nwait\nwait\n".write(toFile: dir.appendingPathComponent("first.trace").path, atomically: false, encoding: .utf8)
        #expect(try hitless(["convert", dir.appendingPathComponent("first.trace").path, first]).status == 0)
        #expect(try hitless(["convert", "Samples/every-kind.trace", second]).status == 0)
        let head = try Data(contentsOf: URL(fileURLWithPath: first))
        var tail = try Data(contentsOf: URL(fileURLWithPath: second))
        // Damage the middle of the second frame's one block: its checksum,
        // if not its decoder, catches it.
        tail[tail.count / 2] ^= 0x5a
        let path = dir.appendingPathComponent("two.zst").path
        try (head + tail).write(to: URL(fileURLWithPath: path))
        let run = try hitless(["stats", path])
        #expect(run.status == 2)
        let end = head.count + tail.count - 1
        let place = "\(path):4:1: error: corrupt zstd frame at byte \(head.count) (error found by byte \(end)): "
        #expect(run.stderr == place + "Restored data doesn't match checksum (found: ZSTD_error_checksum_wrong)\n"
            || run.stderr == place + "Data corruption detected (found: ZSTD_error_corruption_detected)\n", "\(run.stderr)")
    }

    @Test func aMissingFileIsAnError() throws {
        let run = try hitless(["stats", "/nonexistent/trace"])
        #expect(run.status == 2)
        #expect(run.stderr == "/nonexistent/trace: error: cannot open: No such file or directory\n")
    }

    @Test func statsPrintsTheEveryKindSampleCounts() throws {
        let run = try hitless(["stats", "Samples/every-kind.trace"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdout == """
            Samples/every-kind.trace
              events        28
                iommu     2
                root      2
                table     3
                init      2
                store     3
                fence     1
                flush     1
                fetch     2
                inval     7
                wait      2
                begin     1
                end       1
                mark      1
              units         dmar0 dmar1
              tables        context 1, pasid 1, generic 1
              cpus          0 1
              time          100 .. 320 ns (220 ns)
              lines         33 (0 foreign skipped)
              bytes         \(try fileSize("Samples/every-kind.trace")) read, \(try fileSize("Samples/every-kind.trace")) text

            """)
    }

    @Test func statsAsJSONGivesTheSameCounts() throws {
        let run = try hitless(["stats", "--format", "json", "Samples/every-kind.trace", "Samples/kernel-trace.txt"])
        #expect(run.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(document["version"] as? Int == 1)
        let traces = try #require(document["traces"] as? [[String: Any]])
        #expect(traces.count == 2)
        let every = traces[0]
        #expect(every["file"] as? String == "Samples/every-kind.trace")
        #expect(every["events"] as? Int == 28)
        #expect(every["eventsByKind"] as? [String: Int] == [
            "iommu": 2, "root": 2, "table": 3, "init": 2, "store": 3, "fence": 1, "flush": 1,
            "fetch": 2, "inval": 7, "wait": 2, "begin": 1, "end": 1, "mark": 1,
        ])
        #expect(every["units"] as? [String] == ["dmar0", "dmar1"])
        #expect(every["declaredTables"] as? [String: Int] == ["pasid": 1, "context": 1, "generic": 1])
        #expect(every["cpus"] as? [Int] == [0, 1])
        #expect(every["firstTime"] as? Int == 100)
        #expect(every["lastTime"] as? Int == 320)
        #expect(every["lines"] as? Int == 33)
        #expect(every["foreignLines"] as? Int == 0)
        #expect(every["compressed"] as? Bool == false)
        let kernel = traces[1]
        #expect(kernel["events"] as? Int == 13)
        #expect((kernel["eventsByKind"] as? [String: Int])?.filter { $0.value > 0 } == [
            "store": 3, "fence": 1, "flush": 2, "inval": 3, "wait": 3, "mark": 1,
        ])
        #expect(kernel["cpus"] as? [Int] == [2])
        #expect(kernel["units"] as? [String] == ["dmar0"])
        #expect(kernel["foreignLines"] as? Int == 3)
        #expect(kernel["lines"] as? Int == 25)
        #expect(kernel["firstTime"] as? Int == 512_000_100_000)
        #expect(kernel["lastTime"] as? Int == 512_000_180_000)
    }

    @Test func statsReadsStandardInput() throws {
        let run = try hitless(["stats", "--format", "json", "-"], stdin: Data("wait\nwait cpu=3\n".utf8))
        #expect(run.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let trace = try #require((document["traces"] as? [[String: Any]])?.first)
        #expect(trace["file"] as? String == "-")
        #expect(trace["events"] as? Int == 2)
        #expect(trace["cpus"] as? [Int] == [0, 3])
    }

    @Test func statsReadsStandardInputOnlyOnce() throws {
        let run = try hitless(["stats", "-", "-"], stdin: Data("wait\n".utf8))
        #expect(run.status == 2)
        #expect(run.stderr.contains("standard input (-) can be read only once"))
    }

    @Test func statsReadsZstdFromStandardInputByItsMagic() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let packed = dir.appendingPathComponent("every.zst").path
        #expect(try hitless(["convert", "Samples/every-kind.trace", packed]).status == 0)
        let run = try hitless(["stats", "--format", "json", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: packed)))
        #expect(run.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let trace = try #require((document["traces"] as? [[String: Any]])?.first)
        #expect(trace["compressed"] as? Bool == true)
        #expect(trace["events"] as? Int == 28)
    }

    @Test func convertWritesCanonicalTextThatReadsBackTheSame() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for sample in ["Samples/every-kind.trace", "Samples/kernel-trace.txt"] {
            let plain = dir.appendingPathComponent("plain.trace").path
            let byName = dir.appendingPathComponent("named.trace.zst").path
            let byFlag = dir.appendingPathComponent("flagged.trace").path
            #expect(try hitless(["convert", sample, plain]).status == 0)
            #expect(try hitless(["convert", sample, byName]).status == 0)
            #expect(try hitless(["convert", "--zstd", sample, byFlag]).status == 0)
            for file in [byName, byFlag] {
                let head = try Data(contentsOf: URL(fileURLWithPath: file)).prefix(4)
                #expect(Array(head) == [0x28, 0xb5, 0x2f, 0xfd], "\(file) is zstd")
            }
            // The canonical form is a fixed point, and zstd holds the same text.
            let again = dir.appendingPathComponent("again.trace").path
            let unpacked = dir.appendingPathComponent("unpacked.trace").path
            #expect(try hitless(["convert", plain, again]).status == 0)
            #expect(try hitless(["convert", byFlag, unpacked]).status == 0)
            let canonical = try Data(contentsOf: URL(fileURLWithPath: plain))
            #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == canonical)
            #expect(try Data(contentsOf: URL(fileURLWithPath: unpacked)) == canonical)
            // And counts the same events.
            let original = try hitless(["stats", "--format", "json", sample]).stdout
            let converted = try hitless(["stats", "--format", "json", byName]).stdout
            #expect(try eventCounts(original) == eventCounts(converted))
        }
    }

    @Test func convertToStandardOutputWritesText() throws {
        let run = try hitless(["convert", "-", "-"], stdin: Data("# c\nstore size=8 value=0X1F addr=16\n".utf8))
        #expect(run.status == 0)
        #expect(run.stdout == "hitless-trace 1\nstore addr=0x10 size=8 value=0x1f\n")
    }

    @Test func readingNeverModifiesTheInput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("input.trace")
        let packed = dir.appendingPathComponent("input.trace.zst")
        let bad = dir.appendingPathComponent("bad.trace")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Samples/every-kind.trace"), to: plain)
        #expect(try hitless(["convert", plain.path, packed.path]).status == 0)
        try Data("wait\nwait t=oops\n".utf8).write(to: bad)
        // An old modification time, so any write would show.
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        var before: [URL: (Data, Date)] = [:]
        for file in [plain, packed, bad] {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
            before[file] = (try Data(contentsOf: file), try modificationDate(file))
        }
        let out = dir.appendingPathComponent("out.trace").path
        _ = try hitless(["stats", plain.path, packed.path])
        _ = try hitless(["stats", "--format", "json", bad.path])
        _ = try hitless(["convert", plain.path, out])
        _ = try hitless(["convert", packed.path, out])
        _ = try hitless(["convert", bad.path, out])
        for file in [plain, packed, bad] {
            let (bytes, date) = try #require(before[file])
            #expect(try Data(contentsOf: file) == bytes, "\(file.lastPathComponent) bytes")
            #expect(try modificationDate(file) == date, "\(file.lastPathComponent) mtime")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
                == ["bad.trace", "input.trace", "input.trace.zst", "out.trace"], "no temporary file is left behind")
    }

    @Test func aFailedConvertLeavesTheOutputAsItWas() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.trace").path
        let out = dir.appendingPathComponent("out.trace").path
        try "wait\nstroe\n".write(toFile: bad, atomically: false, encoding: .utf8)
        try "previous\n".write(toFile: out, atomically: false, encoding: .utf8)
        let run = try hitless(["convert", bad, out])
        #expect(run.status == 2)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "previous\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["bad.trace", "out.trace"])
    }

    /// A FIFO stands in for `/dev/null` and other devices, which a test
    /// must not risk replacing: none is a regular file.
    @Test func convertWritesIntoANamedPipeAndLeavesItAPipe() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Opened first and without blocking, so that hitless's open finds a
        // reader; the output (under 2 KB) fits in the pipe's buffer.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let run = try hitless(["convert", "Samples/every-kind.trace", fifo])
        #expect(run.status == 0)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        #expect(String(decoding: bytes, as: UTF8.self) == (try hitless(["convert", "Samples/every-kind.trace", "-"])).stdout)
        var status = stat()
        #expect(lstat(fifo, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["pipe"])
    }

    @Test func convertWritesThroughASymbolicLinkAndKeepsTheLink() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.trace").path
        let link = dir.appendingPathComponent("link.trace").path
        try "previous\n".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(try hitless(["convert", "Samples/every-kind.trace", link]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8)
                == (try hitless(["convert", "Samples/every-kind.trace", "-"])).stdout)
    }

    @Test func aUsageErrorExitsWithStatusTwo() throws {
        #expect(try hitless(["stats"]).status == 2)
        #expect(try hitless(["stats", "--format", "yaml", "Samples/every-kind.trace"]).status == 2)
    }
}

func fileSize(_ relative: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: packageRoot.appendingPathComponent(relative).path)
    return (attributes[.size] as? NSNumber)?.intValue ?? -1
}

func modificationDate(_ url: URL) throws -> Date {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return attributes[.modificationDate] as? Date ?? .distantPast
}

func eventCounts(_ json: String) throws -> [String: Int] {
    let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    let trace = (document?["traces"] as? [[String: Any]])?.first
    return trace?["eventsByKind"] as? [String: Int] ?? [:]
}
