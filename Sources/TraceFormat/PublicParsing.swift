/// Parses a source id written `BB:DD.F` (hex), `0x0010` or `16`; nil when
/// it is none of these.
public func parseSourceID(_ text: String) -> UInt16? {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { try? SourceID.parse($0) }
}

/// Parses an unsigned decimal or `0x` hexadecimal integer; nil when it is
/// not one or is wider than 64 bits.
public func parseUnsignedInteger(_ text: String) -> UInt64? {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { try? $0.parseUnsigned() }
}
