import TraceFormat

/// The VT-d entry layouts hitless relies on, as data.
///
/// Sources: Intel VT-d specification, chapter 9 ("Translation Structure
/// Formats"): 9.1 root entry, 9.2 scalable-mode root entry, 9.3 context
/// entry, 9.4 scalable-mode context entry, 9.5 scalable-mode PASID directory
/// entry, 9.6 scalable-mode PASID table entry; Linux
/// drivers/iommu/intel/iommu.h (`context_*` helpers, `struct root_entry`,
/// `struct context_entry`) and pasid.h (`pasid_set_*`, `struct pasid_entry`,
/// `struct pasid_dir_entry`); QEMU hw/i386/intel_iommu_internal.h
/// (`VTD_SM_CONTEXT_ENTRY_*`, `VTD_SM_PASID_ENTRY_*`).
public enum Layout {
    /// Bytes the unit reads single-copy atomically from a VT-d table:
    /// 128 bits (DOMAIN.md, "Fetch atomicity").
    public static let vtdChunk = 16

    /// Bytes per entry of a kind (generic tables declare theirs).
    public static func entrySize(_ kind: EntryKind) -> Int {
        switch kind {
        case .root, .context: 16
        case .smContext: 32
        case .pasidDirectory: 8
        case .pasid: 64
        case .generic: 64
        }
    }

    /// Bits 63:12: a 4 KiB-aligned table pointer.
    public static let pointerMask: UInt64 = 0xffff_ffff_ffff_f000

    /// The bits the unit interprets in an entry, given its own configuration
    /// (CHECKS.md, "Used bits"). A non-present entry is ignored but for its
    /// Present bit. Reserved and ignored bits never count.
    public static func usedBits(_ kind: EntryKind, _ value: EntryValue, mode: TranslationMode = .scalable) -> EntryValue {
        var mask = EntryValue()
        switch kind {
        case .root:
            // 9.1: P bit 0, CTP 63:12. 9.2 (scalable): LP bit 0, LCTP 63:12; UP hi bit 0, UCTP hi 63:12.
            mask[0] = value[0] & 1 == 1 ? pointerMask | 1 : 1
            if mode == .scalable { mask[1] = value[1] & 1 == 1 ? pointerMask | 1 : 1 }
        case .context:
            // 9.3: lo P 0, FPD 1, TT 3:2, SLPTPTR 63:12; hi AW 2:0, DID 23:8.
            guard value[0] & 1 == 1 else { mask[0] = 1; break }
            mask[0] = pointerMask | 0xf
            mask[1] = 0xff_ff07
        case .smContext:
            // 9.4: lo P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, PDTS 11:9, PASIDDIRPTR 63:12; hi RID_PASID 19:0.
            guard value[0] & 1 == 1 else { mask[0] = 1; break }
            mask[0] = pointerMask | 0xe1f
            mask[1] = 0xf_ffff
        case .pasidDirectory:
            // 9.5: P 0, FPD 1, SMPTBLPTR 63:12.
            mask[0] = value[0] & 1 == 1 ? pointerMask | 3 : 1
        case .pasid:
            guard value[0] & 1 == 1 else { mask[0] = 1; break }
            mask = pasidUsedBits(pgtt: Int(value[0] >> 6 & 7))
        case .generic:
            for i in 0..<8 { mask[i] = .max }
        }
        return mask
    }

    /// PASID-table entry fields the unit uses for each PASID Granular
    /// Translation Type (9.6, Table "PGTT"; Linux pasid.h setters):
    ///
    /// | PGTT | val[0] | val[1] | val[2] |
    /// | --- | --- | --- | --- |
    /// | 1 first-stage | P, FPD, PGTT | DID, PWSNP, PGSNP | SRE, FLPM, WPE, EAFE, FLPTPTR |
    /// | 2 second-stage | P, FPD, AW, PGTT, SSADE, SLPTPTR | DID, PWSNP, PGSNP | - |
    /// | 3 nested | all of the above | DID, PWSNP, PGSNP | SRE, FLPM, WPE, EAFE, FLPTPTR |
    /// | 4 pass-through | P, FPD, AW, PGTT | DID, PGSNP | - |
    ///
    /// Other PGTT values are reserved: every field counts, so any change is
    /// seen.
    public static func pasidUsedBits(pgtt: Int) -> EntryValue {
        var mask = EntryValue()
        let common0: UInt64 = 0x1 | 0x2 | 0x1c0          // P, FPD, PGTT 8:6
        let aw: UInt64 = 0x1c                             // AW 4:2
        let secondStage: UInt64 = pointerMask | 0x200     // SLPTPTR 63:12, SSADE 9
        let did: UInt64 = 0xffff                          // DID 15:0
        let snoop: UInt64 = 1 << 23 | 1 << 24             // PWSNP 23, PGSNP 24
        // FLPTPTR 63:12, EAFE 7, WPE 4, FLPM 3:2, SRE 0 (pasid.h pasid_set_flptr,
        // pasid_set_eafe, pasid_set_wpe, pasid_set_flpm, pasid_set_sre).
        let firstStage: UInt64 = pointerMask | 1 << 7 | 1 << 4 | 0xc | 0x1
        switch pgtt {
        case 1:
            mask[0] = common0
            mask[1] = did | snoop
            mask[2] = firstStage
        case 2:
            mask[0] = common0 | aw | secondStage
            mask[1] = did | snoop
        case 3:
            mask[0] = common0 | aw | secondStage
            mask[1] = did | snoop
            mask[2] = firstStage
        case 4:
            mask[0] = common0 | aw
            mask[1] = did | 1 << 24
        default:
            for i in 0..<8 { mask[i] = .max }
        }
        return mask
    }

    /// True when the entry's Present bit is set (bit 0 of its first word on
    /// VT-d; `present-bit=` for generic tables).
    public static func isPresent(_ kind: EntryKind, _ value: EntryValue, presentBit: Int = 0) -> Bool {
        kind == .generic ? value.bit(presentBit) : value[0] & 1 == 1
    }

    /// The domain id the unit tags cached translations of this entry with:
    /// PASID entry val[1] 15:0; legacy context entry hi 23:8. Scalable context
    /// entries have none.
    public static func domainID(_ kind: EntryKind, _ value: EntryValue) -> UInt16? {
        switch kind {
        case .pasid: UInt16(truncatingIfNeeded: value[1])
        case .context: UInt16(truncatingIfNeeded: value[1] >> 8)
        default: nil
        }
    }

    /// PASID entry PGTT (val[0] 8:6).
    public static func pgtt(_ value: EntryValue) -> Int { Int(value[0] >> 6 & 7) }
}
