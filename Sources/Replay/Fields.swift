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

    private static let legacyRoot = [Spec("P", 0, 0, 0), Spec("CTP", 0, 12, 63, pointer: true)]
    private static let scalableRoot = [Spec("LP", 0, 0, 0), Spec("LCTP", 0, 12, 63, pointer: true),
                                       Spec("UP", 1, 0, 0), Spec("UCTP", 1, 12, 63, pointer: true)]
    private static let context = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("TT", 0, 2, 3),
                                  Spec("SLPTPTR", 0, 12, 63, pointer: true), Spec("AW", 1, 0, 2), Spec("DID", 1, 8, 23)]
    private static let smContext = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("DTE", 0, 2, 2),
                                    Spec("PASIDE", 0, 3, 3), Spec("PRE", 0, 4, 4), Spec("PDTS", 0, 9, 11),
                                    Spec("PASIDDIRPTR", 0, 12, 63, pointer: true), Spec("RID_PASID", 1, 0, 19)]
    private static let pasidDirectory = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("SMPTBLPTR", 0, 12, 63, pointer: true)]
    private static let pasid = [Spec("P", 0, 0, 0), Spec("FPD", 0, 1, 1), Spec("AW", 0, 2, 4), Spec("PGTT", 0, 6, 8),
                                Spec("SSADE", 0, 9, 9), Spec("SLPTPTR", 0, 12, 63, pointer: true),
                                Spec("DID", 1, 0, 15), Spec("PWSNP", 1, 23, 23), Spec("PGSNP", 1, 24, 24),
                                Spec("SRE", 2, 0, 0), Spec("FLPM", 2, 2, 3), Spec("FLPTPTR", 2, 12, 63, pointer: true)]

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
