import Testing
@testable import TraceFormat

/// The lines trace-cmd report and the tracefs `trace` file print that are
/// no event (trace-cmd's trace-read.c and trace-input.c; the kernel's
/// print_trace_line).
let toolLines = [
    "version = 6",
    "cpus=2",
    "CPU 3 is empty",
    "CPU:2 [LOST 12 EVENTS]",
    "CPU:2 [12 EVENTS DROPPED]",
    "CPU:2 [EVENTS DROPPED]",
    "CPU:0 [SUBBUFFER START]",
]

/// Lines that start like one of `toolLines` but are not one.
let nearToolLines = [
    "version 6", "version = six", "cpus=", "cpus=2 more", "cpus=4x", "CPU 3 is full",
    "CPU:2 [LOST EVENTS]", "CPU:2 [LOST 12 EVENTS", "CPU:x [LOST 12 EVENTS]", "CPU:2 [12 EVENTS]",
    "CPU:2 [EVENTS DROPPED] again", "CPU:2 [SUBBUFFER START] [5:0x1000]",
]

/// Lines written the way the kernel's tracefs `trace` file and `trace-cmd
/// report` print a `trace_printk("hitless: ...")`.
@Suite("Reading events embedded in kernel trace output")
struct KernelTraceTests {
    @Test func theTraceFileLineGivesCPUAndTimeFromItsPrefix() throws {
        let (e, symbols) = try event(
            "          insmod-1234    [003] ..... 1234.567890: intel_pasid_tear_down_entry: hitless: store addr=0x10040 size=8 value=0x0 at=pasid.c:245")
        #expect(e.payload == .store(MemoryWrite(addr: 0x10040, size: 8, value: 0)))
        #expect(e.cpu == 3)
        #expect(e.time == 1_234_567_890_000)
        #expect(e.site.map { symbols[$0] } == "pasid.c:245")
    }

    @Test func theTraceCmdReportLineGivesCPUAndTimeFromItsPrefix() throws {
        let (e, _) = try event("          insmod-1234  [001]  98.000001: bprint:               pasid_clear: hitless: fence kind=dma_wmb")
        #expect(e.payload == .fence(.dmaWMB))
        #expect(e.cpu == 1)
        #expect(e.time == 98_000_001_000)
    }

    @Test func aTraceCmdReportLineWithLatencyFieldsAndNanosecondsReads() throws {
        let (e, _) = try event("  kworker/u8:2-77   [012] d..1. 5.123456789: bprint: f: hitless: wait")
        #expect(e.cpu == 12)
        #expect(e.time == 5_123_456_789)
    }

    @Test func theEventsOwnCPUAndTimeWinOverThePrefix() throws {
        let (e, _) = try event("  insmod-1234  [003]  1.000000: bprint: f: hitless: wait cpu=7 t=999")
        #expect(e.cpu == 7)
        #expect(e.time == 999)
    }

    @Test func aPrefixWithoutCPUOrTimeLeavesTheDefaults() throws {
        let (e, _) = try event("something hitless: wait")
        #expect(e.cpu == 0)
        #expect(e.time == nil)
    }

    @Test func onlyTheFirstHitlessMarkerIsThePrefix() throws {
        let (e, symbols) = try event("[000] 1.5: f: hitless: mark text=said hitless: twice")
        guard case .mark(let text) = e.payload else { Issue.record("not a mark"); return }
        #expect(symbols[text] == "said hitless: twice")
    }

    @Test func otherTracersLinesAreSkippedAndCounted() throws {
        let reader = try TraceReader(text: """
            # tracer: nop
            #
            #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
            #              | |         |   |||||     |         |
                      <idle>-0       [000] d.h1.   512.000115: irq_handler_entry: irq=24 name=ahci[0000:00:17.0]
                      insmod-1234    [002] .....   512.000120: f: hitless: flush addr=0x300040
                 kworker/1:2-88      [001] d..2.   512.000155: sched_switch: prev_comm=kworker/1:2 prev_pid=88 ==> next_comm=swapper/1
                      insmod-1234    [002] .....   512.000160: f: hitless: wait

            """)
        let events = try reader.readAll()
        #expect(events.map(\.kind) == [.flush, .wait])
        #expect(events.map(\.line) == [6, 8])
        #expect(reader.foreignLines == 2)
    }

    @Test func traceCmdHeaderAndLostEventLinesAreForeign() throws {
        let reader = try TraceReader(text: """
            version = 6
            cpus=4
            CPU 1 is empty
              insmod-1234  [003]  1.000000: bprint: f: hitless: wait
            CPU:2 [LOST 12 EVENTS]
              insmod-1234  [003]  1.000001: bprint: f: hitless: wait

            """)
        let events = try reader.readAll()
        #expect(events.count == 2)
        #expect(reader.foreignLines == 4)
    }

    @Test(arguments: toolLines)
    func aToolLineIsForeignAsTheFirstLine(_ tool: String) throws {
        let reader = try TraceReader(text: tool + "\n  insmod-1234 [002] ..... 512.000101: bputs: hitless: wait\n")
        let events = try reader.readAll()
        #expect(events.map(\.kind) == [.wait])
        #expect(events.first?.cpu == 2)
        #expect(reader.foreignLines == 1)
        #expect(reader.lines == 2)
    }

    @Test(arguments: toolLines)
    func aToolLineIsForeignBetweenKernelEvents(_ tool: String) throws {
        let reader = try TraceReader(text: "  a-1 [000] 1.0: f: hitless: wait\n" + tool + "\n  a-1 [000] 1.1: f: hitless: wait\n")
        #expect(try reader.readAll().count == 2)
        #expect(reader.foreignLines == 1)
    }

    @Test(arguments: toolLines)
    func aToolLineIsForeignInAPlainTraceToo(_ tool: String) throws {
        let reader = try TraceReader(text: "hitless-trace 1\nwait\n  " + tool + "\nwait\n")
        #expect(try reader.readAll().count == 2)
        #expect(reader.foreignLines == 1)
    }

    @Test(arguments: toolLines)
    func aToolLineDoesNotMakeAPlainTraceAcceptATypo(_ tool: String) throws {
        let error = try #require(readError(tool + "\nwait\nwiat\n"))
        #expect(error.location == .line(3, column: 1))
        #expect(error.message == "unknown event kind")
        #expect(error.found == "wiat")
    }

    @Test(arguments: nearToolLines)
    func aLineThatOnlyStartsLikeAToolLineIsAnError(_ line: String) throws {
        let error = try #require(readError(line + "\n  a-1 [000] 1.0: f: hitless: wait\n"))
        #expect(error.location == .line(1, column: 1))
        #expect(error.message == "unknown event kind")
        #expect(error.found == String(line.prefix { $0 != " " }))
    }

    @Test func statsCountToolLinesAsForeign() throws {
        let stats = try TraceStatistics(reading: TraceReader(text: """
            cpus=2
            CPU 1 is empty
              insmod-1234 [000] ..... 512.000101: bputs: hitless: wait
            CPU:0 [LOST 3 EVENTS]
              insmod-1234 [000] ..... 512.000201: bputs: hitless: wait

            """))
        #expect(stats.events == 2)
        #expect(stats.lines == 5)
        #expect(stats.foreignLines == 3)
    }

    @Test func anotherTracersLineInAFileWithNoMarkerIsAnError() throws {
        let error = try #require(readError("""
            store addr=0x1000 size=8 value=1
              kworker-5 [001] 12.5: foo
            fnece kind=mb

            """))
        #expect(error.location == .line(2, column: 1))
        #expect(error.message.hasPrefix("unknown event kind: the line looks like another tracer's event"))
    }

    @Test func anotherTracersLineBeforeTheFirstMarkerIsForeign() throws {
        let reader = try TraceReader(text: "  kworker-5 [001] 12.5: foo\n  a-1 [000] 13.0: f: hitless: wait\n")
        #expect(try reader.readAll().map(\.kind) == [.wait])
        #expect(reader.foreignLines == 1)
    }

    @Test func inKernelTraceOutputAnyLineWithoutTheMarkerIsForeign() throws {
        let reader = try TraceReader(text: "[000] 1.0: f: hitless: wait\nnot an event at all\n")
        #expect(try reader.readAll().count == 1)
        #expect(reader.foreignLines == 1)
    }

    @Test func aForeignLineMayHoldBytesThatAreNotUTF8() throws {
        let bytes = Array("[000] 1.0: f: hitless: wait\n  a-1 [000] 1.1: x: name=".utf8) + [0xff, 0xfe] + Array("\n".utf8)
        let reader = try TraceReader(bytes: bytes)
        #expect(try reader.readAll().count == 1)
        #expect(reader.foreignLines == 1)
    }

    @Test func plainAndEmbeddedEventsMayShareAFile() throws {
        let (events, _) = try read("hitless-trace 1\niommu id=dmar0\n  a-1 [002] 3.000000: f: hitless: wait unit=dmar0\n")
        #expect(events.map(\.kind) == [.iommu, .wait])
        #expect(events[1].cpu == 2)
    }

    @Test func prefixTimesMustNotGoBackwards() {
        let error = readError("[000] 2.0: f: hitless: wait\n[000] 1.0: f: hitless: wait\n")
        #expect(error?.line == 2)
        #expect(error?.message == "time goes backwards: t=1000000000 after t=2000000000 on line 1")
    }
}
