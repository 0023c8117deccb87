import Testing
@testable import TraceFormat

/// Names with control characters could not be written back as they were
/// read (found by the reader fuzz target: a round trip changed the trace).
@Suite("Control characters in names")
struct ControlCharacterTests {
    @Test func aControlCharacterInASiteIsAnError() throws {
        #expect(throws: TraceError.self) { try TraceReader(text: "wait at=pasid.c\u{1}:4\n").readAll() }
    }

    @Test func aControlCharacterInAQISubmitUnitNameIsAnError() throws {
        do {
            _ = try TraceReader(text: "  insmod-1234 [002] d..1. 512.000130: qi_submit: pc_inv dm\u{1}ar0: 0x100050017 0x0 0x0 0x0\n").readAll()
            Issue.record("read without error")
        } catch {
            #expect(error.message == "control character in the unit name of a qi_submit line")
            #expect(error.line == 1)
        }
    }

    /// Found by the reader fuzz target: a binary `id=` string holding 0x0f
    /// was written to text that could not be read back.
    @Test func aControlCharacterInABinaryStringIsAnError() throws {
        let e = try #require(readError(bytes: BinaryTraceFormat.header + [0x0f, 3, 0x61, 0x0f, 0x62]))
        #expect(e.message == "control character in a string")
        #expect(e.location == .byteOffset(13))
        #expect(e.found == "byte 0xf")
    }

    /// Found by the reader fuzz target: `p_iotlb_inv : ...` gave an empty
    /// unit name, written as `unit=`, which does not read back.
    @Test func anEmptyQISubmitUnitNameIsAnError() throws {
        let line = "  insmod-1234 [002] d..1. 512.000130: qi_submit: p_iotlb_inv : 0x100050026 0x0 0x0 0x0\n"
        let e = try #require(readError(line))
        #expect(e.message == "missing unit name in a qi_submit line")
        #expect(e.location == .line(1, column: 62))
    }

    @Test func anErrorPrintsControlCharactersItFoundAsEscapes() throws {
        let e = try #require(readError("wait\n\u{0}\u{1b}[2J\n"))
        #expect(e.found == "\u{0}\u{1b}[2J")
        #expect(e.description == "t.trace:2:1: error: unknown event kind (found: \\x00\\x1b[2J)")
    }

    @Test(arguments: [("\u{A0}", "\\u{A0}"), ("\u{FEFF}", "\\u{FEFF}"), ("\u{200B}", "\\u{200B}"), ("\u{2028}", "\\u{2028}")])
    func anErrorPrintsCharactersThatLookBlankOrEmptyAsEscapes(character: String, escape: String) throws {
        let e = try #require(readError("wait\nstore\(character)addr=0x1000\n"))
        #expect(e.description == "t.trace:2:1: error: unknown event kind (found: store\(escape)addr=0x1000)")
    }

    @Test func anErrorPrintsOtherCharactersAsThemselves() throws {
        let e = try #require(readError("wait\nstöre addr=0x1000\n"))
        #expect(e.description == "t.trace:2:1: error: unknown event kind (found: störe)")
    }
}
