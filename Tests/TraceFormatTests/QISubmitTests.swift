import Testing
@testable import TraceFormat

/// One `intel_iommu:qi_submit` descriptor and what it means.
///
/// Encodings follow the `QI_*` macros of Linux drivers/iommu/intel/iommu.h
/// and the helpers in dmar.c that fill them (`qi_flush_context`,
/// `qi_flush_iotlb`, `qi_flush_dev_iotlb`, `qi_flush_piotlb`,
/// `qi_flush_dev_iotlb_pasid`, `qi_flush_pasid_cache`); the line format is
/// trace.h's `TP_printk("%s %s: 0x%llx 0x%llx 0x%llx 0x%llx", ...)`.
struct Descriptor: Sendable, CustomTestStringConvertible {
    var name: String
    var qw0: UInt64
    var qw1: UInt64
    /// nil: an invalidation wait; `.none` payload is spelled by `skipped`.
    var inval: Invalidation?
    var skipped = false

    var testDescription: String { "\(name) \(hex(qw0)) \(hex(qw1))" }

    /// The body of the line after `qi_submit: `.
    var words: String { "\(name) dmar0: \(hex(qw0)) \(hex(qw1)) 0x0 0x0" }
}

let descriptors: [Descriptor] = [
    // cc_inv: QI_CC_GRAN 5:4 (DMA_CCMD_*_INVL >> 57), QI_CC_DID 31:16, QI_CC_SID 47:32, QI_CC_FM 49:48.
    Descriptor(name: "cc_inv", qw0: 0x11, qw1: 0, inval: Invalidation(type: .context, granularity: .global)),
    Descriptor(name: "cc_inv", qw0: 0x50021, qw1: 0, inval: Invalidation(type: .context, granularity: .domain, did: 5)),
    Descriptor(name: "cc_inv", qw0: 0x18_0000_0031, qw1: 0,
               inval: Invalidation(type: .context, granularity: .device, did: 0, sid: 0x18, fm: 0)),
    Descriptor(name: "cc_inv", qw0: 0x3_0018_0005_0031, qw1: 0,
               inval: Invalidation(type: .context, granularity: .device, did: 5, sid: 0x18, fm: 3)),
    // iotlb_inv: QI_IOTLB_GRAN 5:4, DW 6, DR 7, DID 31:16; qw1 ADDR 63:12, IH 6, AM 5:0.
    Descriptor(name: "iotlb_inv", qw0: 0xd2, qw1: 0, inval: Invalidation(type: .iotlb, granularity: .global)),
    Descriptor(name: "iotlb_inv", qw0: 0x500e2, qw1: 0, inval: Invalidation(type: .iotlb, granularity: .domain, did: 5)),
    Descriptor(name: "iotlb_inv", qw0: 0x50022, qw1: 0, inval: Invalidation(type: .iotlb, granularity: .domain, did: 5)),
    Descriptor(name: "iotlb_inv", qw0: 0x500f2, qw1: 0x7f042,
               inval: Invalidation(type: .iotlb, granularity: .page, did: 5, addr: 0x7f000, am: 2)),
    // dev_tlb_inv: QI_DEV_IOTLB_SID 47:32, QDEP 20:16, PFSID 15:12 and 63:52; qw1 ADDR, S bit 0.
    Descriptor(name: "dev_tlb_inv", qw0: 0x10_0018_001f_8003, qw1: 0x1234_5000,
               inval: Invalidation(type: .devtlb, granularity: .page, sid: 0x18, addr: 0x1234_5000, am: 0)),
    // qi_flush_dev_iotlb with mask 2: addr |= (1 << (12 + 2 - 1)) - 1, then S.
    Descriptor(name: "dev_tlb_inv", qw0: 0x10_0018_001f_8003, qw1: 0x41001,
               inval: Invalidation(type: .devtlb, granularity: .page, sid: 0x18, addr: 0x40000, am: 2)),
    // Whole device: mask MAX_AGAW_PFN_WIDTH.
    Descriptor(name: "dev_tlb_inv", qw0: 0x18_0000_0003, qw1: 0x7fff_ffff_ffff_f001,
               inval: Invalidation(type: .devtlb, granularity: .device, sid: 0x18)),
    // iec_inv: QI_IEC_SELECTIVE bit 4, QI_IEC_IM 31:27, QI_IEC_IIDEX 47:32.
    Descriptor(name: "iec_inv", qw0: 0x4, qw1: 0, inval: Invalidation(type: .iec, granularity: .global)),
    Descriptor(name: "iec_inv", qw0: 0x1f_1000_0014, qw1: 0,
               inval: Invalidation(type: .iec, granularity: .page, addr: 0x1f, am: 2)),
    // inv_wait: QI_IWD_STATUS_DATA(QI_DONE) | STATUS_WRITE | FENCE; qw1 the status address.
    Descriptor(name: "inv_wait", qw0: 0x2_0000_0065, qw1: 0x12340, inval: nil),
    // p_iotlb_inv: QI_EIOTLB_GRAN 5:4 (2 PASID, 3 page), DID 31:16, PASID 51:32; qw1 ADDR, IH, AM.
    Descriptor(name: "p_iotlb_inv", qw0: 0x1_0005_0026, qw1: 0,
               inval: Invalidation(type: .piotlb, granularity: .pasid, did: 5, pasid: 1)),
    Descriptor(name: "p_iotlb_inv", qw0: 0x1_0005_0036, qw1: 0x7f041,
               inval: Invalidation(type: .piotlb, granularity: .page, did: 5, pasid: 1, addr: 0x7f000, am: 1)),
    // pc_inv: QI_PC_GRAN 5:4 (0 all PASIDs of the domain, 1 one PASID, 3 global), DID 31:16, PASID 51:32.
    Descriptor(name: "pc_inv", qw0: 0x50007, qw1: 0, inval: Invalidation(type: .pasid, granularity: .domain, did: 5)),
    Descriptor(name: "pc_inv", qw0: 0x50017, qw1: 0, inval: Invalidation(type: .pasid, granularity: .pasid, did: 5, pasid: 0)),
    Descriptor(name: "pc_inv", qw0: 0xf_ffff_0005_0017, qw1: 0,
               inval: Invalidation(type: .pasid, granularity: .pasid, did: 5, pasid: 0xfffff)),
    Descriptor(name: "pc_inv", qw0: 0x37, qw1: 0, inval: Invalidation(type: .pasid, granularity: .global)),
    // p_dev_tlb_inv: QI_DEV_EIOTLB_SID 31:16, QDEP 8:4, PASID 51:32, PFSID 15:12 and 63:52; qw1 ADDR, S bit 11.
    Descriptor(name: "p_dev_tlb_inv", qw0: 0x10_0001_0010_01f8, qw1: 0x7f000,
               inval: Invalidation(type: .pdevtlb, granularity: .page, sid: 0x10, pasid: 1, addr: 0x7f000, am: 0)),
    // qi_flush_dev_iotlb_pasid with size_order 2: GENMASK(13, 12) set, bit 13 cleared, S set.
    Descriptor(name: "p_dev_tlb_inv", qw0: 0x10_0001_0010_01f8, qw1: 0x7d800,
               inval: Invalidation(type: .pdevtlb, granularity: .page, sid: 0x10, pasid: 1, addr: 0x7c000, am: 2)),
    // Every address of the PASID: size_order 64 - VTD_PAGE_SHIFT.
    Descriptor(name: "p_dev_tlb_inv", qw0: 0x1_0010_0008, qw1: 0x7fff_ffff_ffff_f800,
               inval: Invalidation(type: .pdevtlb, granularity: .pasid, sid: 0x10, pasid: 1)),
    // page_grp_resp: answers a page request; invalidates nothing.
    Descriptor(name: "page_grp_resp", qw0: 0x1_0010_0019, qw1: 0x8, inval: nil, skipped: true),
]

@Suite("Decoding intel_iommu:qi_submit lines")
struct QISubmitTests {
    /// The tracefs `trace` file: `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: TEXT`.
    static func traceFileLine(_ d: Descriptor) -> String {
        "          insmod-1234    [002] d..1.   512.000130: qi_submit: " + d.words
    }

    /// `trace-cmd report`: `TASK-PID [CPU] TIMESTAMP: EVENT:<padding> TEXT`.
    static func traceCmdLine(_ d: Descriptor) -> String {
        "          insmod-1234  [002]   512.000130: qi_submit:            " + d.words
    }

    @Test(arguments: descriptors)
    func aTraceFileLineDecodesToAnInvalThenAWait(_ d: Descriptor) throws {
        try check(d, Self.traceFileLine(d))
    }

    @Test(arguments: descriptors)
    func aTraceCmdReportLineDecodesToAnInvalThenAWait(_ d: Descriptor) throws {
        try check(d, Self.traceCmdLine(d))
    }

    private func check(_ d: Descriptor, _ line: String) throws {
        let reader = try TraceReader(text: line + "\n")
        let events = try reader.readAll()
        let symbols = reader.symbols
        if d.skipped {
            #expect(events.isEmpty)
            #expect(reader.foreignLines == 1)
            return
        }
        if let inval = d.inval {
            // qi_submit_sync appends a wait descriptor and waits for it without
            // tracing it: the traced descriptor is complete when the call returns.
            #expect(events.map(\.payload) == [.inval(inval), .wait])
        } else {
            #expect(events.map(\.payload) == [.wait])
        }
        for e in events {
            #expect(symbols[e.unit] == "dmar0")
            #expect(e.cpu == 2)
            #expect(e.time == 512_000_130_000)
            #expect(e.line == 1)
        }
    }

    @Test(arguments: descriptors)
    func theDecoderAgreesWithTheLine(_ d: Descriptor) throws {
        let decoded = try QISubmit.decode(d.qw0, d.qw1)
        if d.skipped { #expect(decoded == .none) } else if let inval = d.inval { #expect(decoded == .inval(inval)) } else {
            #expect(decoded == .wait)
        }
        #expect(QISubmit.typeNames[d.qw0 & 0xf] == d.name)
    }

    @Test func everyDescriptorTypeIsCovered() {
        #expect(Set(descriptors.map(\.name)) == Set(QISubmit.typeNames.values))
    }

    @Test func theWorkedValuesOfDomainMDDecode() throws {
        #expect(try QISubmit.decode(0x50017, 0) == .inval(Invalidation(type: .pasid, granularity: .pasid, did: 5, pasid: 0)))
        #expect(try QISubmit.decode(0x500e2, 0) == .inval(Invalidation(type: .iotlb, granularity: .domain, did: 5)))
        #expect(try QISubmit.decode(0x50022, 0) == .inval(Invalidation(type: .iotlb, granularity: .domain, did: 5)))
        #expect(try QISubmit.decode(0x18_0000_0031, 0)
                == .inval(Invalidation(type: .context, granularity: .device, did: 0, sid: 0x18, fm: 0)))
        #expect(try QISubmit.decode(0x37, 0) == .inval(Invalidation(type: .pasid, granularity: .global)))
        #expect(try QISubmit.decode(0x100e2, 0) == .inval(Invalidation(type: .iotlb, granularity: .domain, did: 1)))
    }

    @Test func reservedGranularitiesAreErrors() {
        #expect(throws: QISubmit.DecodeError.self) { try QISubmit.decode(0x1, 0) }   // cc_inv gran 0
        #expect(throws: QISubmit.DecodeError.self) { try QISubmit.decode(0x2, 0) }   // iotlb_inv gran 0
        #expect(throws: QISubmit.DecodeError.self) { try QISubmit.decode(0x16, 0) }  // p_iotlb_inv gran 1
        #expect(throws: QISubmit.DecodeError.self) { try QISubmit.decode(0x27, 0) }  // pc_inv gran 2
        #expect(throws: QISubmit.DecodeError.self) { try QISubmit.decode(0xb, 0) }   // no such type
    }

    @Test func aSequenceOfDescriptorsKeepsSubmissionOrderAndUnits() throws {
        let reader = try TraceReader(text: """
            # tracer: nop
                      insmod-1234    [002] d..1.   512.000130: qi_submit: pc_inv dmar0: 0x100050017 0x0 0x0 0x0
                      <idle>-0       [000] d.h1.   512.000131: irq_handler_entry: irq=24 name=ahci
                      insmod-1234    [002] d..1.   512.000140: qi_submit: p_iotlb_inv dmar1: 0x100050026 0x0 0x0 0x0

            """)
        let events = try reader.readAll()
        let symbols = reader.symbols
        #expect(events.map(\.kind) == [.inval, .wait, .inval, .wait])
        #expect(events.map { symbols[$0.unit] } == ["dmar0", "dmar0", "dmar1", "dmar1"])
        #expect(events.map(\.line) == [2, 2, 4, 4])
        #expect(reader.foreignLines == 1)
    }

    @Test func decodedDescriptorsWriteAndReadBackTheSame() throws {
        let text = descriptors.map { Self.traceFileLine($0) }.joined(separator: "\n")
        let reader = try TraceReader(text: text)
        let events = try reader.readAll()
        let written = TraceWriter.header + events.map { TraceWriter.line(for: $0, symbols: reader.symbols) }.joined()
        let (again, _) = try read(written)
        #expect(again.map(\.payload) == events.map(\.payload))
    }
}
