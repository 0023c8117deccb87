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
    /// Most distinct strings (unit names, sites, mark text) one trace may hold.
    public static let maxSymbols = 1 << 20
}
