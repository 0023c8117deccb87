/// Writes events in the canonical text form: the header, then one line per
/// event with its keys in a fixed order, numbers in the form that reads back
/// the same, and default-valued keys left out.
///
/// Reading what the writer wrote gives the same events as the original (less
/// their line numbers).
public struct TraceWriter {
    /// The header line every canonical trace starts with.
    public static let header = "hitless-trace 1\n"

    /// The canonical line for one event, with its line end.
    public static func line(for event: TraceEvent, symbols: SymbolTable) -> String {
        var out = event.kind.name
        func key(_ name: String, _ value: String) {
            out += " "
            out += name
            out += "="
            out += value
        }
        switch event.payload {
        case .iommu(let unit):
            key("id", symbols[unit.id])
            key("arch", "vtd")
            key("coherent", unit.coherent ? "1" : "0")
            key("caching-mode", unit.cachingMode ? "1" : "0")
        case .root(let addr, let mode):
            key("addr", hex(addr))
            key("mode", mode.name)
        case .table(let table):
            key("addr", hex(table.addr))
            key("kind", table.kind.name)
            if let v = table.count { key("count", String(v)) }
            if let v = table.sid { key("sid", formatSourceID(v)) }
            if let v = table.pasidBase { key("pasid-base", String(v)) }
            if let v = table.bus { key("bus", hex(v)) }
            if let v = table.entrySize { key("entry", String(v)) }
            if let v = table.fetchSize { key("fetch", String(v)) }
            if let v = table.presentBit { key("present-bit", String(v)) }
            if let v = table.name { key("name", symbols[v]) }
        case .initialize(let write), .store(let write):
            key("addr", hex(write.addr))
            key("size", String(write.size))
            key("value", hex(write.value))
        case .fence(let kind):
            key("kind", kind.name)
        case .flush(let flush):
            key("addr", hex(flush.addr))
            key("size", String(flush.size))
            key("kind", flush.kind.name)
        case .fetch(let read):
            key("addr", hex(read.addr))
            key("size", String(read.size))
            if let v = read.value { key("value", hex(v)) }
        case .inval(let inv):
            key("type", inv.type.name)
            key("gran", inv.granularity.name)
            if let v = inv.did { key("did", String(v)) }
            if let v = inv.sid { key("sid", formatSourceID(v)) }
            if let v = inv.pasid { key("pasid", String(v)) }
            if let v = inv.addr { key("addr", hex(v)) }
            if let v = inv.am { key("am", String(v)) }
            if let v = inv.fm { key("fm", String(v)) }
        case .wait:
            break
        case .begin(let addr), .end(let addr):
            key("addr", hex(addr))
        case .mark:
            break
        }
        if let t = event.time { key("t", String(t)) }
        if event.cpu != 0 { key("cpu", String(event.cpu)) }
        if event.unit != .defaultUnit, event.kind != .iommu { key("unit", symbols[event.unit]) }
        if let site = event.site { key("at", symbols[site]) }
        if case .mark(let text) = event.payload {
            // Last: `text=` runs to the end of the line.
            key("text", symbols[text])
        }
        out += "\n"
        return out
    }
}
