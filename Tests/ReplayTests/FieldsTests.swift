import Testing
import TraceFormat
@testable import Replay

/// The decoded fields of a value as name -> value.
func fields(_ kind: EntryKind, _ words: [UInt64], mode: TranslationMode = .scalable) -> [String: UInt64] {
    Dictionary(uniqueKeysWithValues: EntryFields.decode(kind, EntryValue(words: words), mode: mode).map { ($0.name, $0.value) })
}

@Suite("Field decoding (layouts: Linux iommu.h, pasid.h; QEMU intel_iommu_internal.h)")
struct FieldsTests {
    @Test func aLegacyRootEntryHasPresentAndTheContextTablePointer() {
        #expect(fields(.root, [0x1234_5000 | 1], mode: .legacy) == ["P": 1, "CTP": 0x1234_5000])
    }

    @Test func aScalableRootEntryHasLowerAndUpperHalves() {
        #expect(fields(.root, [0x2001, 0x5000]) == ["LP": 1, "LCTP": 0x2000, "UP": 0, "UCTP": 0x5000])
    }

    @Test func aLegacyContextEntryDecodesTtAwAndDid() {
        // lo: SLPTPTR 0xabc000, TT 2 (pass-through), FPD, P; hi: DID 0x1234, AW 2.
        let f = fields(.context, [0xabc000 | 2 << 2 | 2 | 1, 0x1234 << 8 | 2])
        #expect(f == ["P": 1, "FPD": 1, "TT": 2, "SLPTPTR": 0xabc000, "AW": 2, "DID": 0x1234])
    }

    @Test func aScalableContextEntryDecodesDtePasidePrePdtsAndRidPasid() {
        // lo: dir 0x3000, PDTS 5, PRE, PASIDE, DTE, P; hi: RID_PASID 0xfffff.
        let f = fields(.smContext, [0x3000 | 5 << 9 | 1 << 4 | 1 << 3 | 1 << 2 | 1, 0xfffff])
        #expect(f == ["P": 1, "FPD": 0, "DTE": 1, "PASIDE": 1, "PRE": 1, "PDTS": 5, "PASIDDIRPTR": 0x3000,
                      "RID_PASID": 0xfffff])
    }

    @Test func aPasidDirectoryEntryDecodesItsTablePointer() {
        #expect(fields(.pasidDirectory, [0x4003]) == ["P": 1, "FPD": 1, "SMPTBLPTR": 0x4000])
    }

    @Test func aPasidEntryDecodesEveryFieldTheLinuxSettersWrite() {
        let val0: UInt64 = 0xa000 | 1 << 9 | 3 << 6 | 2 << 2 | 1
        let val1: UInt64 = 1 << 24 | 1 << 23 | 0x42
        let val2: UInt64 = 0xfeed_f000 | 1 << 7 | 1 << 4 | 1 << 2 | 1
        let f = fields(.pasid, [val0, val1, val2])
        #expect(f == ["P": 1, "FPD": 0, "AW": 2, "PGTT": 3, "SSADE": 1, "SLPTPTR": 0xa000,
                      "DID": 0x42, "PWSNP": 1, "PGSNP": 1,
                      "SRE": 1, "FLPM": 1, "WPE": 1, "EAFE": 1, "FLPTPTR": 0xfeed_f000])
    }

    @Test func aGenericEntryDecodesToItsWords() {
        let f = EntryFields.decode(.generic, EntryValue(words: [1, 2]), size: 16)
        #expect(f.map(\.name) == ["word0", "word1"] && f.map(\.value) == [1, 2])
    }

    @Test func theSummaryPrintsSmallFieldsInDecimalAndOthersInHex() {
        #expect(EntryFields.summary(.pasidDirectory, EntryValue(words: [0x4001])) == "P=1 FPD=0 SMPTBLPTR=0x4000")
    }

    @Test func firstStageUsedBitsIncludeWpeAndEafe() {
        let mask = Layout.pasidUsedBits(pgtt: 1)
        #expect(mask[2] & (1 << 4) != 0 && mask[2] & (1 << 7) != 0)
        #expect(Layout.pasidUsedBits(pgtt: 2)[2] == 0)
    }

    @Test func identitiesReadBackAsWritten() {
        for text in ["dmar0 pasid 00:02.0/5", "dmar0 context 00:1f.3", "dmar0 sm-context 00:02.0",
                     "dmar0 pasid-dir 00:02.0/64", "dmar0 root 00", "dmar1 root 3a"] {
            #expect(EntryIdentity(parsing: text)?.description == text)
        }
    }
}
