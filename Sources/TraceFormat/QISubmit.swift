/// Decodes lines of the Linux tracepoint `intel_iommu:qi_submit`
/// (drivers/iommu/intel/trace.h), which prints every invalidation
/// descriptor the driver submits:
///
///     qi_submit: iotlb_inv dmar1: 0x100e2 0x0 0x0 0x0
///
/// `TP_printk("%s %s: 0x%llx 0x%llx 0x%llx 0x%llx", __print_symbolic(qw0 &
/// 0xf, ...), iommu name, qw0, qw1, qw2, qw3)`. The field layouts are those of
/// the `QI_*` macros in drivers/iommu/intel/iommu.h and the VT-d
/// specification, section 6.5.2 ("Invalidation descriptors").
public enum QISubmit {
    /// The descriptor types (iommu.h `QI_*_TYPE`) and the names trace.h
    /// prints for them.
    public static let typeNames: [UInt64: String] = [
        1: "cc_inv", 2: "iotlb_inv", 3: "dev_tlb_inv", 4: "iec_inv", 5: "inv_wait",
        6: "p_iotlb_inv", 7: "pc_inv", 8: "p_dev_tlb_inv", 9: "page_grp_resp",
    ]

    /// What one descriptor means for hitless.
    public enum Decoded: Equatable, Sendable {
        /// An invalidation request.
        case inval(Invalidation)
        /// An invalidation wait descriptor.
        case wait
        /// A descriptor that invalidates nothing (a page group or page
        /// stream response); its line is counted with the foreign lines.
        case none
    }

    /// Why a descriptor could not be decoded.
    public struct DecodeError: Error, Equatable, Sendable {
        /// What was wrong.
        public var message: String
    }

    /// Decodes one descriptor from its four 64-bit words.
    public static func decode(_ qw0: UInt64, _ qw1: UInt64, _ qw2: UInt64 = 0, _ qw3: UInt64 = 0) throws(DecodeError) -> Decoded {
        let gran = (qw0 >> 4) & 3
        let did = UInt16(truncatingIfNeeded: qw0 >> 16)
        switch qw0 & 0xf {
        case 1:  // QI_CC_TYPE: QI_CC_GRAN 5:4, QI_CC_DID 31:16, QI_CC_SID 47:32, QI_CC_FM 49:48
            let sid = UInt16(truncatingIfNeeded: qw0 >> 32)
            switch gran {
            case 1: return .inval(Invalidation(type: .context, granularity: .global))
            case 2: return .inval(Invalidation(type: .context, granularity: .domain, did: did))
            case 3: return .inval(Invalidation(type: .context, granularity: .device, did: did, sid: sid,
                                               fm: UInt8(truncatingIfNeeded: (qw0 >> 48) & 3)))
            default: throw DecodeError(message: "context-cache descriptor with reserved granularity 0")
            }
        case 2:  // QI_IOTLB_TYPE: QI_IOTLB_GRAN 5:4, DID 31:16; qw1: AM 5:0, IH 6, ADDR 63:12
            switch gran {
            case 1: return .inval(Invalidation(type: .iotlb, granularity: .global))
            case 2: return .inval(Invalidation(type: .iotlb, granularity: .domain, did: did))
            case 3: return .inval(Invalidation(type: .iotlb, granularity: .page, did: did,
                                               addr: qw1 & ~0xfff, am: UInt8(qw1 & 0x3f)))
            default: throw DecodeError(message: "IOTLB descriptor with reserved granularity 0")
            }
        case 3:  // QI_DIOTLB_TYPE: SID 47:32; qw1: S bit 0, ADDR 63:12
            let sid = UInt16(truncatingIfNeeded: qw0 >> 32)
            return .inval(deviceTLB(type: .devtlb, sid: sid, pasid: nil, qw1: qw1, sizeBit: 0))
        case 4:  // QI_IEC_TYPE: G bit 4 (0 global, 1 index-selective), IM 31:27, IIDX 47:32
            guard qw0 & 0x10 != 0 else { return .inval(Invalidation(type: .iec, granularity: .global)) }
            // Index-selective: hitless writes it as gran=page with the
            // interrupt index in addr= and the index mask in am=
            // (docs/TRACE-FORMAT.md), so that it reads back the same.
            return .inval(Invalidation(type: .iec, granularity: .page,
                                       addr: (qw0 >> 32) & 0xffff, am: UInt8(truncatingIfNeeded: (qw0 >> 27) & 0x1f)))
        case 5:  // QI_IWD_TYPE
            return .wait
        case 6:  // QI_EIOTLB_TYPE: GRAN 5:4 (2 PASID, 3 page), DID 31:16, PASID 51:32
            let pasid = UInt32(truncatingIfNeeded: (qw0 >> 32) & 0xfffff)
            switch gran {
            case 2: return .inval(Invalidation(type: .piotlb, granularity: .pasid, did: did, pasid: pasid))
            case 3: return .inval(Invalidation(type: .piotlb, granularity: .page, did: did, pasid: pasid,
                                               addr: qw1 & ~0xfff, am: UInt8(qw1 & 0x3f)))
            default: throw DecodeError(message: "PASID-based IOTLB descriptor with granularity \(gran); expected 2 (PASID) or 3 (page)")
            }
        case 7:  // QI_PC_TYPE: GRAN 5:4 (0 domain, 1 PASID, 3 global), DID 31:16, PASID 51:32
            let pasid = UInt32(truncatingIfNeeded: (qw0 >> 32) & 0xfffff)
            switch gran {
            case 0: return .inval(Invalidation(type: .pasid, granularity: .domain, did: did))
            case 1: return .inval(Invalidation(type: .pasid, granularity: .pasid, did: did, pasid: pasid))
            case 3: return .inval(Invalidation(type: .pasid, granularity: .global))
            default: throw DecodeError(message: "PASID-cache descriptor with reserved granularity 2")
            }
        case 8:  // QI_DEIOTLB_TYPE: SID 31:16, PASID 51:32; qw1: S bit 11, ADDR 63:12
            let sid = UInt16(truncatingIfNeeded: qw0 >> 16)
            let pasid = UInt32(truncatingIfNeeded: (qw0 >> 32) & 0xfffff)
            return .inval(deviceTLB(type: .pdevtlb, sid: sid, pasid: pasid, qw1: qw1, sizeBit: 11))
        case 9, 10:  // QI_PGRP_RESP_TYPE, QI_PSTRM_RESP_TYPE: answers to page requests
            return .none
        default:
            throw DecodeError(message: "unknown descriptor type \(qw0 & 0xf)")
        }
    }

    /// A device-TLB request: with the size bit set, the number of 1 bits
    /// below the first 0 in ADDR 63:12 gives the size (2^(n+1) pages); all
    /// ones (`0x7ffffffffffff000`, Linux `MAX_AGAW_PFN_WIDTH`) means every
    /// address.
    private static func deviceTLB(type: InvalidationType, sid: UInt16, pasid: UInt32?, qw1: UInt64, sizeBit: UInt64) -> Invalidation {
        let addr = qw1 & ~0xfff
        let sized = qw1 >> sizeBit & 1 == 1
        if sized && addr >= 0x7fff_ffff_ffff_f000 {
            return Invalidation(type: type, granularity: pasid == nil ? .device : .pasid, sid: sid, pasid: pasid)
        }
        var am: UInt8 = 0
        if sized { am = UInt8((~(addr >> 12)).trailingZeroBitCount + 1) }
        let base = sized ? addr & ~((UInt64(1) << (UInt64(am) + 12)) - 1) : addr
        return Invalidation(type: type, granularity: .page, sid: sid, pasid: pasid, addr: base, am: am)
    }

    /// Parses the text after `qi_submit: `. Returns nil for a descriptor that
    /// invalidates nothing.
    static func parse(_ line: UnsafeBufferPointer<UInt8>, from start: Int, number: UInt64,
                      parser: inout LineParser) throws(TraceError) -> (payload: EventPayload, unit: Symbol)? {
        var tokens: [(Int, Int)] = []
        var i = start
        while i < line.count && tokens.count < 7 {
            while i < line.count && ASCII.isBlank(line[i]) { i += 1 }
            let s = i
            i = line.endOfToken(from: i)
            if i > s { tokens.append((s, i)) }
        }
        func token(_ k: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: line[tokens[k].0..<tokens[k].1]) }
        guard tokens.count == 6, token(1).last == ASCII.colon else {
            throw parser.error(number, start, "malformed qi_submit line; expected `qi_submit: TYPE UNIT: QW0 QW1 QW2 QW3`",
                               found: UnsafeBufferPointer(rebasing: line[start...]).text)
        }
        var words: [UInt64] = []
        for k in 2..<6 {
            let w = token(k)
            guard w.count > 2, w[0] == ASCII.zero, w[1] == ASCII.x || w[1] == ASCII.upperX,
                  let value = try? w.parseUnsigned() else {
                throw parser.error(number, tokens[k].0, "qi_submit descriptor word is not a 64-bit hex number", found: w.text)
            }
            words.append(value)
        }
        let printedType = token(0).text
        if let expected = typeNames[words[0] & 0xf], expected != printedType {
            throw parser.error(number, tokens[0].0,
                               "qi_submit type name does not match descriptor type \(words[0] & 0xf) (\(expected))",
                               found: printedType)
        }
        let unitName = UnsafeBufferPointer(rebasing: line[tokens[1].0..<(tokens[1].1 - 1)])
        guard !unitName.isEmpty else {
            throw parser.error(number, tokens[1].0, "missing unit name in a qi_submit line", found: ":")
        }
        let decoded: Decoded
        do { decoded = try decode(words[0], words[1], words[2], words[3]) } catch {
            throw parser.error(number, tokens[2].0, error.message, found: token(2).text)
        }
        if let bad = unitName.firstIndex(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw parser.error(number, tokens[1].0 + bad, "control character in the unit name of a qi_submit line",
                               found: "byte 0x" + String(unitName[bad], radix: 16))
        }
        guard let unit = parser.symbols.internWithinLimits(bytes: unitName) else {
            throw parser.error(number, tokens[1].0, parser.symbols.limitReason, found: unitName.excerpt())
        }
        switch decoded {
        case .inval(let inv): return (.inval(inv), unit)
        case .wait: return (.wait, unit)
        case .none: return nil
        }
    }
}
