/// The limits a reader enforces so that no input, however damaged or
/// hostile, can make it use unbounded memory or time. Each is documented in
/// README.md ("Limits"); past one, reading stops with an error.
public enum TraceLimits {
    /// Longest line, in bytes, without its line end.
    public static let maxLineLength = 16_384
    /// Most `key=value` tokens on one event line.
    public static let maxKeysPerLine = 32
    /// Most entries a declared table may have (`count=`).
    public static let maxTableEntries: UInt64 = 1 << 20
    /// Largest entry of a generic table, in bytes (`entry=`): 64, the size of
    /// a VT-d PASID entry, an SMMUv3 STE or CD, and twice an AMD-Vi DTE.
    public static let maxEntrySize: UInt64 = 64
    /// Largest `fetch` or `flush`, in bytes.
    public static let maxAccessSize: UInt64 = 1 << 20
    /// Most remapping units one trace may declare.
    public static let maxUnits = 1024
    /// Most distinct strings (unit names, sites, mark text) one trace may
    /// hold: 131072, some thirty times the `at=` sites of a kernel's trace.
    /// Each costs about 60 bytes besides its text, and `analyze` may hold a
    /// few snapshots of the table while new names arrive (one per batch in
    /// flight), so this bounds memory where the byte limit alone would not
    /// (a million distinct 8-byte sites peaked at 147 MB).
    public static let maxSymbols = 1 << 17
    /// Most bytes, all together, of those distinct strings: 8 MiB. A
    /// kernel's trace names a few thousand `at=` sites of some 40 bytes
    /// (`%pS`: `intel_pasid_setup_first_level+0x1a3/0x3e0`), a few dozen
    /// units and tables and a few marks, well under 1 MiB; without a bound,
    /// a valid trace of distinct 16 KB `mark` lines would grow the table by
    /// each line's length.
    public static let maxSymbolBytes = 8 << 20
}
