import Testing
@testable import TraceFormat

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
