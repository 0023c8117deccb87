import TraceFormat

/// One named field of an entry, decoded for people and for the checks.
public struct EntryField: Sendable, Equatable, Codable {
    /// The field's name as the VT-d specification and Linux spell it.
    public var name: String
    /// Which word (`val[i]`, or 0 for `lo` and 1 for `hi`).
    public var word: Int
    /// The lowest bit of the field within the word.
    public var lowBit: Int
    /// The highest bit.
    public var highBit: Int
    /// The field's value, shifted down (pointers keep their address form).
    public var value: UInt64
}

/// Decodes every VT-d entry kind into named fields (layouts and sources in
/// ``Layout``).
public enum EntryFields {
    private struct Spec {
        let name: String, word: Int, low: Int, high: Int, isPointer: Bool
        init(_ name: String, _ word: Int, _ low: Int, _ high: Int, pointer: Bool = false) {
            self.name = name; self.word = word; self.low = low; self.high = high; isPointer = pointer
        }
    }

    // Root entries. Legacy: VT-d spec 9.1; Linux iommu.h `struct root_entry`
    // (lo: present bit 0, context-table pointer 63:12). Scalable: spec 9.2;
    // Linux iommu.h `root_entry_lctp`/`root_entry_uctp`; QEMU
    // intel_iommu_internal.h `VTD_ROOT_ENTRY_P`, `VTD_ROOT_ENTRY_CTP`.
    private static let legacyRoot = [Spec("P", 0, 0, 0), Spec("CTP", 0, 12, 63, pointer: true)]
    private static let scalableRoot = [Spec("LP", 0, 0, 0), Spec("LCTP", 0, 12, 63, pointer: true),
                                       Spec("UP", 1, 0, 0), Spec("UCTP", 1, 12, 63, pointer: true)]
    // Legacy context entry: spec 9.3; Linux iommu.h `context_set_present`,
    // `context_set_fault_enable` (FPD bit 1), `context_set_translation_type`
    // (lo 3:2), `context_set_address_root` (lo 63:12),
    // `context_set_address_width` (hi 2:0), `context_set_domain_id`
    // (hi 23:8); QEMU `VTD_CONTEXT_ENTRY_TT`, `VTD_CONTEXT_ENTRY_AW`,
    // `VTD_CONTEXT_ENTRY_DID(hi) ((hi >> 8) & VTD_DOMAIN_ID_MASK)`.
    private static let context = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("TT", 0, 2, 3),
                                  Spec("SLPTPTR", 0, 12, 63, pointer: true), Spec("AW", 1, 0, 2), Spec("DID", 1, 8, 23)]
    // Scalable-mode context entry: spec 9.4; Linux iommu.h
    // `context_set_sm_dte` (lo bit 2), `is_pasid_enabled` (lo bit 3),
    // `context_set_sm_pre` (lo bit 4), `context_pdts` (lo 11:9),
    // `context_set_sm_rid2pasid` (hi 19:0), pasid.h `get_pasid_dir_size`
    // (2^(PDTS+7) entries); QEMU `VTD_SM_CONTEXT_ENTRY_RID2PASID_MASK`.
    private static let smContext = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("DTE", 0, 2, 2),
                                    Spec("PASIDE", 0, 3, 3), Spec("PRE", 0, 4, 4), Spec("PDTS", 0, 9, 11),
                                    Spec("PASIDDIRPTR", 0, 12, 63, pointer: true), Spec("RID_PASID", 1, 0, 19)]
    // PASID directory entry: spec 9.5; Linux pasid.h `struct pasid_dir_entry`,
    // `pasid_pde_is_present` (bit 0), `PDE_PFN_MASK`; QEMU
    // `VTD_PASID_DIR_FPD` (bit 1), `VTD_PASID_TABLE_BASE_ADDR_MASK`.
    private static let pasidDirectory = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("SMPTBLPTR", 0, 12, 63, pointer: true)]
    // PASID table entry: spec 9.6; Linux pasid.h setters, each a
    // read-modify-write of one val[i]: present (val[0] bit 0), FPD (1),
    // address_width (4:2), translation_type (8:6), ssade (9), slptr (63:12);
    // domain_id (val[1] 15:0), page_snoop (PWSNP, 23), pgsnp (24); sre
    // (val[2] bit 0), flpm (3:2), wpe (4), eafe (7), flptr (63:12). QEMU
    // `VTD_SM_PASID_ENTRY_PGTT`, `_DID`, `_SRE`, `_FSPM`, `_FSPTPTR` agree.
    private static let pasid = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("AW", 0, 2, 4), Spec("PGTT", 0, 6, 8),
                                Spec("SSADE", 0, 9, 9), Spec("SLPTPTR", 0, 12, 63, pointer: true),
                                Spec("DID", 1, 0, 15), Spec("PWSNP", 1, 23, 23), Spec("PGSNP", 1, 24, 24),
                                Spec("SRE", 2, 0, 0), Spec("FLPM", 2, 2, 3), Spec("WPE", 2, 4, 4), Spec("EAFE", 2, 7, 7),
                                Spec("FLPTPTR", 2, 12, 63, pointer: true)]

    /// The fields of `value` as an entry of `kind`. Generic entries decode to
    /// their words.
    public static func decode(_ kind: EntryKind, _ value: EntryValue, mode: TranslationMode = .scalable,
                              size: Int = 64) -> [EntryField] {
        let specs: [Spec]
        switch kind {
        case .root: specs = mode == .legacy ? legacyRoot : scalableRoot
        case .context: specs = context
        case .smContext: specs = smContext
        case .pasidDirectory: specs = pasidDirectory
        case .pasid: specs = pasid
        case .generic:
            return (0..<max(1, (size + 7) / 8)).map { EntryField(name: "word\($0)", word: $0, lowBit: 0, highBit: 63, value: value[$0]) }
        }
        return specs.map { spec in
            let width = spec.high - spec.low + 1
            let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
            let raw = value[spec.word] >> UInt64(spec.low) & mask
            return EntryField(name: spec.name, word: spec.word, lowBit: spec.low, highBit: spec.high,
                              value: spec.isPointer ? raw << UInt64(spec.low) : raw)
        }
    }

    /// `P=1 FPD=0 PGTT=1 DID=0x5 ...`: the fields in one line, pointers and
    /// ids in hex.
    public static func summary(_ kind: EntryKind, _ value: EntryValue, mode: TranslationMode = .scalable, size: Int = 64) -> String {
        decode(kind, value, mode: mode, size: size).map { field in
            let width = field.highBit - field.lowBit + 1
            return field.name + "=" + (width <= 3 ? String(field.value) : hex(field.value))
        }.joined(separator: " ")
    }
}
