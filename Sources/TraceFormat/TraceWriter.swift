/// Writes events in the canonical text form: the header, then one line per
/// event with its keys in a fixed order, numbers in the form that reads back
/// the same, and default-valued keys left out.
///
/// Reading what the writer wrote gives the same events as the original (less
/// their line numbers), and writing that again gives the same bytes.
public struct TraceWriter {
    /// The header line every canonical trace starts with.
    public static let header = "hitless-trace 1\n"

    /// The canonical line for one event, with its line end.
    public static func line(for event: TraceEvent, symbols: SymbolTable) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        append(event, symbols: symbols, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the canonical line for one event, with its line end, to
    /// `out` as UTF-8. Works on bytes: `convert` writes millions of lines,
    /// and building each from `String` pieces cost more than reading it.
    public static func append(_ event: TraceEvent, symbols: SymbolTable, to out: inout [UInt8]) {
        var line = LineBytes(out: out)
        out = []  // `line` owns the storage until the end, so appends do not copy it
        line.text(event.kind.name)
        switch event.payload {
        case .iommu(let unit):
            line.key("id"); line.text(symbols[unit.id])
            line.key("arch"); line.text("vtd")
            line.key("coherent"); line.flag(unit.coherent)
            line.key("caching-mode"); line.flag(unit.cachingMode)
        case .root(let addr, let mode):
            line.key("addr"); line.hex(addr)
            line.key("mode"); line.text(mode.name)
        case .table(let table):
            line.key("addr"); line.hex(table.addr)
            line.key("kind"); line.text(table.kind.name)
            if let v = table.count { line.key("count"); line.decimal(v) }
            if let v = table.sid { line.key("sid"); line.sourceID(v) }
            if let v = table.pasidBase { line.key("pasid-base"); line.decimal(UInt64(v)) }
            if let v = table.bus { line.key("bus"); line.hex(UInt64(v)) }
            if let v = table.entrySize { line.key("entry"); line.decimal(v) }
            if let v = table.fetchSize { line.key("fetch"); line.decimal(v) }
            if let v = table.presentBit { line.key("present-bit"); line.decimal(v) }
            if let v = table.name { line.key("name"); line.text(symbols[v]) }
        case .initialize(let write), .store(let write):
            line.key("addr"); line.hex(write.addr)
            line.key("size"); line.decimal(UInt64(write.size))
            line.key("value"); line.hex(write.value)
        case .fence(let kind):
            line.key("kind"); line.text(kind.name)
        case .flush(let flush):
            line.key("addr"); line.hex(flush.addr)
            line.key("size"); line.decimal(flush.size)
            line.key("kind"); line.text(flush.kind.name)
        case .fetch(let read):
            line.key("addr"); line.hex(read.addr)
            line.key("size"); line.decimal(read.size)
            if let v = read.value { line.key("value"); line.hex(v) }
        case .inval(let inv):
            line.key("type"); line.text(inv.type.name)
            line.key("gran"); line.text(inv.granularity.name)
            if let v = inv.did { line.key("did"); line.decimal(UInt64(v)) }
            if let v = inv.sid { line.key("sid"); line.sourceID(v) }
            if let v = inv.pasid { line.key("pasid"); line.decimal(UInt64(v)) }
            if let v = inv.addr { line.key("addr"); line.hex(v) }
            if let v = inv.am { line.key("am"); line.decimal(UInt64(v)) }
            if let v = inv.fm { line.key("fm"); line.decimal(UInt64(v)) }
        case .wait:
            break
        case .begin(let addr), .end(let addr):
            line.key("addr"); line.hex(addr)
        case .mark:
            break
        }
        if let t = event.time { line.key("t"); line.decimal(t) }
        if event.cpu != 0 { line.key("cpu"); line.decimal(UInt64(event.cpu)) }
        if event.unit != .defaultUnit, event.kind != .iommu { line.key("unit"); line.text(symbols[event.unit]) }
        if let site = event.site { line.key("at"); line.text(symbols[site]) }
        if case .mark(let text) = event.payload {
            // Last: `text=` runs to the end of the line.
            line.key("text"); line.text(symbols[text])
        }
        line.out.append(ASCII.newline)
        out = line.out
    }
}

/// The pieces of a canonical line, appended as bytes.
private struct LineBytes {
    var out: [UInt8]

    mutating func text(_ string: String) {
        out.append(contentsOf: string.utf8)
    }

    /// ` name=`.
    mutating func key(_ name: StaticString) {
        out.append(ASCII.space)
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(ASCII.equals)
    }

    mutating func flag(_ on: Bool) { out.append(on ? 0x31 : ASCII.zero) }

    mutating func decimal(_ value: UInt64) {
        // 20 digits hold any UInt64; written from the end.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var v = value
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = ASCII.zero + UInt8(v % 10)
                v /= 10
            } while v != 0
            out.append(contentsOf: buffer[i...])
        }
    }

    mutating func hex(_ value: UInt64) { hex(UInt128(value)) }

    /// `0x` and lower-case digits, at least one.
    mutating func hex(_ value: UInt128) {
        out.append(ASCII.zero)
        out.append(ASCII.x)
        var shift = max(0, (128 - value.leadingZeroBitCount + 3) / 4 * 4 - 4)
        while true {
            out.append(Self.hexDigits[Int((value >> shift) & 0xf)])
            if shift == 0 { break }
            shift -= 4
        }
    }

    /// `BB:DD.F`, as ``formatSourceID(_:)``.
    mutating func sourceID(_ sid: UInt16) {
        out.append(Self.hexDigits[Int(sid >> 12)])
        out.append(Self.hexDigits[Int(sid >> 8) & 0xf])
        out.append(ASCII.colon)
        out.append(Self.hexDigits[Int(sid >> 7) & 1])
        out.append(Self.hexDigits[Int(sid >> 3) & 0xf])
        out.append(ASCII.dot)
        out.append(ASCII.zero + UInt8(sid & 7))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
