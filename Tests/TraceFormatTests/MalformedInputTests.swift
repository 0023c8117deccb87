import Foundation
import Testing
import TestSupport
@testable import TraceFormat

/// A malformed input and exactly where and how reading must stop.
struct Malformed: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var line: UInt64
    var column: Int
    var message: String
    var found: String?

    var testDescription: String { name }

    init(_ name: String, _ text: String, line: UInt64, column: Int, _ message: String, found: String?) {
        self.init(name, bytes: Array((text + "\n").utf8), line: line, column: column, message, found: found)
    }

    init(_ name: String, bytes: [UInt8], line: UInt64, column: Int, _ message: String, found: String?) {
        self.name = name
        self.bytes = bytes.last == 0x0a ? bytes : bytes + [0x0a]
        self.line = line
        self.column = column
        self.message = message
        self.found = found
    }
}

let malformedInputs: [Malformed] = [
    Malformed("unknown kind", "stroe addr=0x10 size=8 value=1",
              line: 1, column: 1, "unknown event kind", found: "stroe"),
    Malformed("kind is case sensitive", "Store addr=0x10 size=8 value=1",
              line: 1, column: 1, "unknown event kind", found: "Store"),
    Malformed("unknown key", "store addr=0x10 size=8 value=1 adr=0x1000",
              line: 1, column: 32, "unknown key `adr`", found: "adr=0x1000"),
    Malformed("keys are lower case", "store Addr=0x10 size=8 value=1",
              line: 1, column: 7, "unknown key `Addr`", found: "Addr=0x10"),
    Malformed("key not for that kind", "fence kind=mb addr=0x10",
              line: 1, column: 15, "key `addr` does not apply to `fence`", found: "addr=0x10"),
    Malformed("duplicate key", "store addr=0x10 addr=0x20 size=8 value=1",
              line: 1, column: 17, "key `addr` given twice", found: "addr=0x20"),
    Malformed("duplicate common key", "wait t=1 t=1",
              line: 1, column: 10, "key `t` given twice", found: "t=1"),
    Malformed("missing required key", "store addr=0x10 size=8",
              line: 1, column: 1, "`store` needs `value=`", found: "store"),
    Malformed("iommu without id", "iommu coherent=1",
              line: 1, column: 1, "`iommu` needs `id=`", found: "iommu"),
    Malformed("inval without gran", "inval type=iotlb",
              line: 1, column: 1, "`inval` needs `gran=`", found: "inval"),
    Malformed("token without equals", "wait now",
              line: 1, column: 6, "expected key=value", found: "now"),
    Malformed("key without value", "store addr= size=8 value=1",
              line: 1, column: 12, "key `addr` has no value", found: "addr="),
    Malformed("bad hex digit", "root addr=0x1g",
              line: 1, column: 11, "not a number", found: "addr=0x1g"),
    Malformed("hex prefix alone", "root addr=0x",
              line: 1, column: 11, "not a number", found: "addr=0x"),
    Malformed("decimal with letters", "begin addr=12ab",
              line: 1, column: 12, "not a number", found: "addr=12ab"),
    Malformed("negative number", "end addr=-1",
              line: 1, column: 10, "not a number", found: "addr=-1"),
    Malformed("number too wide hex", "begin addr=0x10000000000000000",
              line: 1, column: 12, "number wider than 64 bits", found: "addr=0x10000000000000000"),
    Malformed("number too wide decimal", "end addr=18446744073709551616",
              line: 1, column: 10, "number wider than 64 bits", found: "addr=18446744073709551616"),
    Malformed("cpu wider than 32 bits", "wait cpu=0x100000000",
              line: 1, column: 10, "number wider than 32 bits", found: "cpu=0x100000000"),
    Malformed("did wider than 16 bits", "inval type=iotlb gran=domain did=0x10000",
              line: 1, column: 34, "number wider than 16 bits", found: "did=0x10000"),
    Malformed("pasid wider than 20 bits", "inval type=pasid gran=pasid did=1 pasid=0x100000",
              line: 1, column: 41, "number wider than 20 bits", found: "pasid=0x100000"),
    Malformed("value wider than 128 bits", "init addr=0 size=16 value=0x100000000000000000000000000000000",
              line: 1, column: 27, "value wider than 128 bits", found: "value=0x100000000000000000000000000000000"),
    Malformed("value wider than size", "store addr=0x10 size=2 value=0x10000",
              line: 1, column: 30, "value does not fit in size=2 bytes", found: "value=0x10000"),
    Malformed("store size 3", "store addr=0x10 size=3 value=1",
              line: 1, column: 22, "store size must be 1, 2, 4, 8 or 16", found: "size=3"),
    Malformed("store size 32", "store addr=0x10 size=32 value=1",
              line: 1, column: 22, "store size must be 1, 2, 4, 8 or 16", found: "size=32"),
    Malformed("init size 0", "init addr=0 size=0 value=0",
              line: 1, column: 18, "init size must be 1 to 16", found: "size=0"),
    Malformed("init size 17", "init addr=0 size=17 value=0",
              line: 1, column: 18, "init size must be 1 to 16", found: "size=17"),
    Malformed("flush size 0", "flush addr=0x1000 size=0",
              line: 1, column: 24, "flush size must be 1 to 1048576", found: "size=0"),
    Malformed("fetch larger than limit", "fetch addr=0 size=0x100001",
              line: 1, column: 19, "fetch size must be 1 to 1048576", found: "size=0x100001"),
    Malformed("fetch value with size over 16", "fetch addr=0 size=32 value=1",
              line: 1, column: 28, "`value=` is allowed only when size is at most 16", found: "value=1"),
    Malformed("store past end of address space", "store addr=0xfffffffffffffffc size=8 value=0",
              line: 1, column: 12, "addr+size passes the end of the 64-bit address space", found: "addr=0xfffffffffffffffc"),
    Malformed("sid device over 31", "inval type=context gran=device sid=00:20.0",
              line: 1, column: 36, "bad source id; expected BB:DD.F in hex, or a 16-bit number", found: "sid=00:20.0"),
    Malformed("sid function over 7", "inval type=context gran=device sid=00:1f.8",
              line: 1, column: 36, "bad source id; expected BB:DD.F in hex, or a 16-bit number", found: "sid=00:1f.8"),
    Malformed("sid bus of three digits", "inval type=context gran=device sid=100:00.0",
              line: 1, column: 36, "bad source id; expected BB:DD.F in hex, or a 16-bit number", found: "sid=100:00.0"),
    Malformed("sid without function", "inval type=context gran=device sid=00:02",
              line: 1, column: 36, "bad source id; expected BB:DD.F in hex, or a 16-bit number", found: "sid=00:02"),
    Malformed("sid number over 16 bits", "inval type=devtlb gran=device sid=0x10000",
              line: 1, column: 35, "bad source id; expected BB:DD.F in hex, or a 16-bit number", found: "sid=0x10000"),
    Malformed("sid not hex", "inval type=devtlb gran=device sid=0g:00.0",
              line: 1, column: 35, "bad source id; expected BB:DD.F in hex, or a 16-bit number", found: "sid=0g:00.0"),
    Malformed("time goes backwards", "wait t=5\nwait t=4",
              line: 2, column: 6, "time goes backwards: t=4 after t=5 on line 1", found: "t=4"),
    Malformed("unsupported header version", "hitless-trace 2",
              line: 1, column: 15, "unsupported trace format version 2; this hitless reads version 1", found: "2"),
    Malformed("header without version", "hitless-trace",
              line: 1, column: 14, "the header has no version; expected `hitless-trace 1`", found: "hitless-trace"),
    Malformed("header with trailing text", "hitless-trace 1 extra",
              line: 1, column: 17, "unexpected text after the header", found: "extra"),
    Malformed("header not first", "wait\nhitless-trace 1",
              line: 2, column: 1, "the header `hitless-trace 1` must be the first event line", found: "hitless-trace"),
    Malformed("bad fence kind", "fence kind=dma_wmbb",
              line: 1, column: 12, "unknown barrier kind", found: "kind=dma_wmbb"),
    Malformed("fence kind in upper case", "fence kind=MB",
              line: 1, column: 12, "unknown barrier kind", found: "kind=MB"),
    Malformed("bad flush kind", "flush addr=0 kind=wbinvd",
              line: 1, column: 19, "unknown flush kind; expected clflush, clflushopt or clwb", found: "kind=wbinvd"),
    Malformed("unknown inval type", "inval type=tlb gran=global",
              line: 1, column: 12, "unknown invalidation type; expected context, pasid, iotlb, piotlb, devtlb, pdevtlb or iec", found: "type=tlb"),
    Malformed("unknown granularity", "inval type=iotlb gran=all",
              line: 1, column: 23, "unknown granularity; expected global, domain, device, pasid or page", found: "gran=all"),
    Malformed("granularity not valid for type, without its keys", "inval type=piotlb gran=domain",
              line: 1, column: 24, "gran=domain is not valid for type=piotlb", found: "gran=domain"),
    Malformed("device granularity of iotlb without sid", "inval type=iotlb gran=device did=1",
              line: 1, column: 23, "gran=device is not valid for type=iotlb", found: "gran=device"),
    Malformed("page inval without am", "inval type=iotlb gran=page did=1 addr=0x1000",
              line: 1, column: 18, "type=iotlb gran=page needs `am=`", found: "gran=page"),
    Malformed("pasid inval without pasid", "inval type=pasid gran=pasid did=1",
              line: 1, column: 18, "type=pasid gran=pasid needs `pasid=`", found: "gran=pasid"),
    Malformed("domain inval without did", "inval type=context gran=domain",
              line: 1, column: 20, "type=context gran=domain needs `did=`", found: "gran=domain"),
    Malformed("device inval without sid", "inval type=context gran=device did=1",
              line: 1, column: 20, "type=context gran=device needs `sid=`", found: "gran=device"),
    Malformed("am over 63", "inval type=iotlb gran=page did=1 addr=0 am=64",
              line: 1, column: 44, "am must be 0 to 63", found: "am=64"),
    Malformed("fm over 3", "inval type=context gran=device sid=1 fm=4",
              line: 1, column: 41, "number wider than 2 bits", found: "fm=4"),
    Malformed("generic table without entry", "table addr=0x1000 kind=generic fetch=8 present-bit=0",
              line: 1, column: 19, "a generic table needs `entry=`, `fetch=` and `present-bit=`", found: "kind=generic"),
    Malformed("entry unlike a pasid table's", "table addr=0x1000 kind=pasid entry=32",
              line: 1, column: 36, "a pasid table has entry=64", found: "entry=32"),
    Malformed("fetch unlike a context table's", "table addr=0x1000 kind=context fetch=8",
              line: 1, column: 38, "a context table has fetch=16", found: "fetch=8"),
    Malformed("present bit unlike a root table's", "table addr=0x1000 kind=root present-bit=1",
              line: 1, column: 41, "a root table has present-bit=0", found: "present-bit=1"),
    Malformed("generic fetch larger than entry", "table addr=0x1000 kind=generic entry=8 fetch=16 present-bit=0",
              line: 1, column: 46, "fetch size must be a power of two no larger than the entry", found: "fetch=16"),
    Malformed("generic present bit outside entry", "table addr=0x1000 kind=generic entry=8 fetch=8 present-bit=64",
              line: 1, column: 60, "present bit lies outside the entry", found: "present-bit=64"),
    Malformed("unknown table kind", "table addr=0x1000 kind=page",
              line: 1, column: 24, "unknown table kind; expected root, context, sm-context, pasid-dir, pasid or generic", found: "kind=page"),
    Malformed("table count zero", "table addr=0x1000 kind=pasid count=0",
              line: 1, column: 36, "count must be 1 to 1048576", found: "count=0"),
    Malformed("bad root mode", "root addr=0x1000 mode=nested",
              line: 1, column: 23, "`mode=` must be `scalable` or `legacy`", found: "mode=nested"),
    Malformed("arch other than vtd", "iommu id=amd0 arch=amdvi",
              line: 1, column: 20, "unsupported architecture; version 1 knows `vtd`", found: "arch=amdvi"),
    Malformed("coherent not a flag", "iommu id=dmar0 coherent=yes",
              line: 1, column: 25, "`coherent=` must be 0 or 1", found: "coherent=yes"),
    Malformed("iommu unit differs from id", "iommu id=dmar0 unit=dmar1",
              line: 1, column: 21, "`unit=` differs from `id=` on an `iommu` line", found: "unit=dmar1"),
    Malformed("invalid UTF-8 in a value", bytes: [0x73, 0x74, 0x6f, 0x72, 0x65, 0x20, 0x61, 0x64, 0x64, 0x72, 0x3d, 0x30, 0x78, 0x31, 0x30, 0x20, 0x73, 0x69, 0x7a, 0x65, 0x3d, 0x38, 0x20, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x3d, 0xff],
              line: 1, column: 30, "invalid UTF-8", found: "byte 0xff"),
    Malformed("truncated UTF-8 in mark text", bytes: [0x6d, 0x61, 0x72, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x3d, 0x63, 0x61, 0x66, 0xc3],
              line: 1, column: 14, "invalid UTF-8", found: "byte 0xc3"),
    Malformed("overlong UTF-8", bytes: [0x77, 0x61, 0x69, 0x74, 0x20, 0x61, 0x74, 0x3d, 0xc0, 0xaf],
              line: 1, column: 9, "invalid UTF-8", found: "byte 0xc0"),
    Malformed("UTF-16 surrogate in UTF-8", bytes: [0x77, 0x61, 0x69, 0x74, 0x20, 0x61, 0x74, 0x3d, 0xed, 0xa0, 0x80],
              line: 1, column: 9, "invalid UTF-8", found: "byte 0xed"),
    Malformed("unknown kind after hitless marker", "  a-1 [000] 1.0: f: hitless: stor addr=0",
              line: 1, column: 30, "unknown event kind", found: "stor"),
    Malformed("nothing after hitless marker", "  a-1 [000] 1.0: f: hitless: ",
              line: 1, column: 30, "missing event after `hitless: `", found: nil),
    Malformed("qi_submit with three words", "  a-1 [000] 1.0: qi_submit: iotlb_inv dmar0: 0x500e2 0x0 0x0",
              line: 1, column: 29, "malformed qi_submit line; expected `qi_submit: TYPE UNIT: QW0 QW1 QW2 QW3`", found: "iotlb_inv dmar0: 0x500e2 0x0 0x0"),
    Malformed("qi_submit word not hex", "  a-1 [000] 1.0: qi_submit: iotlb_inv dmar0: 0x500e2 12 0x0 0x0",
              line: 1, column: 54, "qi_submit descriptor word is not a 64-bit hex number", found: "12"),
    Malformed("qi_submit name does not match type", "  a-1 [000] 1.0: qi_submit: cc_inv dmar0: 0x500e2 0x0 0x0 0x0",
              line: 1, column: 29, "qi_submit type name does not match descriptor type 2 (iotlb_inv)", found: "cc_inv"),
    Malformed("qi_submit reserved granularity", "  a-1 [000] 1.0: qi_submit: cc_inv dmar0: 0x1 0x0 0x0 0x0",
              line: 1, column: 43, "context-cache descriptor with reserved granularity 0", found: "0x1"),
    Malformed("qi_submit unknown type", "  a-1 [000] 1.0: qi_submit: 0xb dmar0: 0xb 0x0 0x0 0x0",
              line: 1, column: 40, "unknown descriptor type 11", found: "0xb"),
]

@Suite("Malformed input stops the read at the exact place")
struct MalformedInputTests {
    @Test(arguments: malformedInputs)
    func readingStopsWithLineColumnAndMessage(_ bad: Malformed) throws {
        let error = try #require(readError(bytes: bad.bytes), "\(bad.name) was read without an error")
        #expect(error.file == "t.trace")
        #expect(error.line == bad.line)
        #expect(error.column == bad.column)
        #expect(error.message == bad.message)
        #expect(error.found == bad.found)
        let place = "t.trace:\(bad.line):\(bad.column): error: \(bad.message)"
        #expect(error.description == place + (bad.found.map { " (found: \($0))" } ?? ""))
    }

    @Test(arguments: malformedInputs)
    func theCommandLineExitsTwoAndPrintsTheErrorLine(_ bad: Malformed) throws {
        let path = try temporaryFile(bytes: bad.bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try hitless(["stats", path])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        let place = "\(path):\(bad.line):\(bad.column): error: \(bad.message)"
        #expect(run.stderr == place + (bad.found.map { " (found: \($0))" } ?? "") + "\n")
    }

    @Test(arguments: malformedInputs)
    func theSameDamageAfterGoodLinesIsFoundOnItsOwnLine(_ bad: Malformed) throws {
        // Kernel trace output switches the reader into skipping foreign
        // lines, and a header must come first: neither may precede those cases.
        let text = String(decoding: bad.bytes, as: UTF8.self)
        guard !text.contains("hitless: "), !text.contains("qi_submit: "), !text.hasPrefix("hitless-trace") else { return }
        let good = Array("# a comment\n\nwait t=1\r\n".utf8)
        let error = try #require(readError(bytes: good + bad.bytes))
        #expect(error.line == bad.line + 3)
        #expect(error.column == bad.column)
        // A message that names an earlier line names it as moved, too.
        let moved = bad.message.replacingOccurrences(of: "on line \(bad.line - 1)", with: "on line \(bad.line + 2)")
        #expect(error.message == moved)
    }

    @Test func theCollectionHoldsAtLeastThirtyCases() {
        #expect(malformedInputs.count >= 30)
        #expect(Set(malformedInputs.map(\.name)).count == malformedInputs.count)
    }

    @Test func aLineLongerThanTheLimitStopsAtTheLimit() throws {
        let text = "wait\n" + "mark text=" + String(repeating: "y", count: TraceLimits.maxLineLength) + "\nwait\n"
        let error = try #require(readError(text))
        #expect(error.line == 2)
        #expect(error.column == TraceLimits.maxLineLength + 1)
        #expect(error.message == "line longer than 16384 bytes")
    }

    @Test func aLineTooLongShowsHowItStarts() throws {
        let text = "wait\n" + "mark text=" + String(repeating: "y", count: TraceLimits.maxLineLength) + "\n"
        let error = try #require(readError(text))
        #expect(error.found == "mark text=" + String(repeating: "y", count: 22) + "...")
        #expect(error.description == "t.trace:2:16385: error: line longer than 16384 bytes (found: mark text=yyyyyyyyyyyyyyyyyyyyyy...)")
    }

    @Test func aLineTooLongIsCutBeforeACharacterThatDoesNotFit() throws {
        // 11 bytes, then two-byte characters: the 11th would straddle byte 32.
        let text = "mark text=a" + String(repeating: "é", count: TraceLimits.maxLineLength) + "\n"
        let error = try #require(readError(text))
        #expect(error.found == "mark text=a" + String(repeating: "é", count: 10) + "...")
    }

    @Test func aLineTooLongShowsBytesThatAreNotUTF8AsEscapes() throws {
        let bytes = Array("mark text=".utf8) + [0xff, 0xc3] + Array(repeating: 0x7a, count: TraceLimits.maxLineLength)
        let error = try #require(readError(bytes: bytes + [0x0a]))
        #expect(error.found == "mark text=\\xff\\xc3" + String(repeating: "z", count: 20) + "...")
    }

    @Test func theFoundTextOfALongLineIsAtMost32BytesAndThreeDots() throws {
        let error = try #require(readError(String(repeating: "é", count: 9000) + "\n"))
        #expect(error.found == String(repeating: "é", count: 16) + "...")
        #expect(error.found?.utf8.count == 35)
    }

    @Test func aKeyPastTheBoundStopsAtThatKey() throws {
        // No kind takes 33 keys: the bound is lowered to show its error.
        let reader = try TraceReader(text: "flush addr=0x0 size=64 kind=clwb\n", name: "t.trace")
        reader.maxKeysPerLine = 2
        do {
            _ = try reader.readAll()
            Issue.record("read without an error")
        } catch {
            #expect(error.description == "t.trace:1:24: error: more than 2 keys on one line (found: kind=clwb)")
        }
    }

    @Test func aKeyPastTheBoundShowsAtMost32BytesOfIt() throws {
        let reader = try TraceReader(text: "wait t=1 at=" + String(repeating: "s", count: 100) + "\n", name: "t.trace")
        reader.maxKeysPerLine = 1
        do {
            _ = try reader.readAll()
            Issue.record("read without an error")
        } catch {
            #expect(error.location == .line(1, column: 10))
            #expect(error.message == "more than 1 keys on one line")
            #expect(error.found == "at=" + String(repeating: "s", count: 29) + "...")
        }
    }

    @Test func aLongLineWithoutALineEndAtTheEndOfTheFileIsAlsoTooLong() throws {
        let error = try #require(readError(String(repeating: "z", count: 100_000)))
        #expect(error.line == 1)
        #expect(error.column == TraceLimits.maxLineLength + 1)
        #expect(error.message == "line longer than 16384 bytes")
    }

    @Test func aHugeLineIsRefusedWithoutReadingItWhole() throws {
        // Two megabytes without a line end: the reader must stop at the limit
        // instead of growing its buffer.
        let bytes = [UInt8](repeating: 0x61, count: 2 << 20)
        let reader = try TraceReader(bytes: bytes)
        #expect(throws: TraceError.self) { try reader.next() }
        #expect(reader.textBytes < UInt64(TraceReader.chunkSize + TraceLimits.maxLineLength + 2))
    }

    @Test func readingStopsAtTheFirstError() throws {
        let reader = try TraceReader(text: "wait\nbogus\nwait\n")
        #expect(try reader.next()?.kind == .wait)
        #expect(throws: TraceError.self) { try reader.next() }
        #expect(reader.lines == 2)
    }

    @Test func aMissingFileIsAnErrorAboutTheFile() {
        do {
            _ = try TraceReader(path: "/nonexistent/trace.zst")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.location == .file)
            #expect(error.description == "/nonexistent/trace.zst: error: cannot open: No such file or directory")
        }
    }

    @Test func aDirectoryIsNotATrace() {
        #expect(throws: TraceError(file: "/tmp", location: .file, message: "is a directory")) {
            try TraceReader(path: "/tmp")
        }
    }
}
