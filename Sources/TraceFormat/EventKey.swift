/// The keys of trace format version 1 (TRACE-FORMAT.md), and which event
/// kinds take which.
enum EventKey: Int, CaseIterable {
    case t, cpu, unit, at
    case id, arch, coherent, cachingMode
    case addr, mode, kind, count, sid, pasidBase, bus, entry, fetch, presentBit, name
    case size, value
    case type, gran, did, pasid, am, fm
    case text, target

    var name: StaticString {
        switch self {
        case .t: "t"
        case .cpu: "cpu"
        case .unit: "unit"
        case .at: "at"
        case .id: "id"
        case .arch: "arch"
        case .coherent: "coherent"
        case .cachingMode: "caching-mode"
        case .addr: "addr"
        case .mode: "mode"
        case .kind: "kind"
        case .count: "count"
        case .sid: "sid"
        case .pasidBase: "pasid-base"
        case .bus: "bus"
        case .entry: "entry"
        case .fetch: "fetch"
        case .presentBit: "present-bit"
        case .name: "name"
        case .size: "size"
        case .value: "value"
        case .type: "type"
        case .gran: "gran"
        case .did: "did"
        case .pasid: "pasid"
        case .am: "am"
        case .fm: "fm"
        case .text: "text"
        case .target: "target"
        }
    }

    var bit: UInt32 { 1 << UInt32(rawValue) }

    /// The key spelled by `bytes`, or nil.
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> EventKey? {
        lookup(in: bytes, from: 0, to: bytes.count)
    }

    /// The key spelled by `line[from..<to]`, or nil. The token's first
    /// eight bytes, as one little-endian word, select the key: one switch
    /// over constants rather than a comparison of names.
    @inline(__always) static func lookup(in line: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> EventKey? {
        let length = to - from
        guard length >= 1 && length <= 12 else { return nil }
        let word = line.littleEndianWord(at: from, length: min(length, 8))
        // A zero byte in the token would otherwise pass for the padding.
        guard word >> UInt64((min(length, 8) - 1) * 8) != 0 else { return nil }
        let key: EventKey
        switch word {
        case 0x74: key = .t  // "t"
        case 0x757063: key = .cpu  // "cpu"
        case 0x74696e75: key = .unit  // "unit"
        case 0x7461: key = .at  // "at"
        case 0x6469: key = .id  // "id"
        case 0x68637261: key = .arch  // "arch"
        case 0x746e657265686f63: key = .coherent  // "coherent"
        case 0x2d676e6968636163: key = .cachingMode  // "caching-" of "caching-mode"
        case 0x72646461: key = .addr  // "addr"
        case 0x65646f6d: key = .mode  // "mode"
        case 0x646e696b: key = .kind  // "kind"
        case 0x746e756f63: key = .count  // "count"
        case 0x646973: key = .sid  // "sid"
        case 0x61622d6469736170: key = .pasidBase  // "pasid-ba" of "pasid-base"
        case 0x737562: key = .bus  // "bus"
        case 0x7972746e65: key = .entry  // "entry"
        case 0x6863746566: key = .fetch  // "fetch"
        case 0x2d746e6573657270: key = .presentBit  // "present-" of "present-bit"
        case 0x656d616e: key = .name  // "name"
        case 0x657a6973: key = .size  // "size"
        case 0x65756c6176: key = .value  // "value"
        case 0x65707974: key = .type  // "type"
        case 0x6e617267: key = .gran  // "gran"
        case 0x646964: key = .did  // "did"
        case 0x6469736170: key = .pasid  // "pasid"
        case 0x6d61: key = .am  // "am"
        case 0x6d66: key = .fm  // "fm"
        case 0x74786574: key = .text  // "text"
        case 0x746567726174: key = .target  // "target"
        default: return nil
        }
        // Keys of a word or more (`coherent`, `caching-mode`, ...) compare in full.
        guard length >= 8 else { return key }
        return UnsafeBufferPointer(rebasing: line[from..<to]).equals(key.name) ? key : nil
    }
}

extension EventKind {
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> EventKind? {
        switch bytes.count {
        case 3: return bytes.equals("end") ? .end : nil
        case 4:
            if bytes.equals("root") { return .root }
            if bytes.equals("init") { return .`init` }
            if bytes.equals("wait") { return .wait }
            if bytes.equals("mark") { return .mark }
            return nil
        case 5:
            if bytes.equals("store") { return .store }
            if bytes.equals("fence") { return .fence }
            if bytes.equals("flush") { return .flush }
            if bytes.equals("fetch") { return .fetch }
            if bytes.equals("inval") { return .inval }
            if bytes.equals("iommu") { return .iommu }
            if bytes.equals("table") { return .table }
            if bytes.equals("begin") { return .begin }
            return nil
        default: return nil
        }
    }

    /// Keys this kind requires, beyond those any event may carry.
    var requiredKeys: [EventKey] {
        switch self {
        case .iommu: [.id]
        case .root: [.addr]
        case .table: [.addr, .kind]
        case .`init`, .store: [.addr, .size, .value]
        case .fence: [.kind]
        case .flush: [.addr]
        case .fetch: [.addr, .size]
        case .inval: [.type, .gran]
        case .wait: []
        case .begin, .end: [.addr]
        case .mark: [.text]
        }
    }

    /// Every key this kind takes, as a bit set of ``EventKey/bit``.
    var allowedKeys: UInt32 {
        let common: [EventKey] = [.t, .cpu, .unit, .at]
        let own: [EventKey]
        switch self {
        case .iommu: own = [.id, .arch, .coherent, .cachingMode]
        case .root: own = [.addr, .mode]
        case .table: own = [.addr, .kind, .count, .sid, .pasidBase, .bus, .entry, .fetch, .presentBit, .name]
        case .`init`, .store: own = [.addr, .size, .value]
        case .fence: own = [.kind]
        case .flush: own = [.addr, .size, .kind]
        case .fetch: own = [.addr, .size, .value]
        case .inval: own = [.type, .gran, .did, .sid, .pasid, .addr, .am, .fm]
        case .wait: own = []
        case .begin: own = [.addr, .target]
        case .end: own = [.addr]
        case .mark: own = [.text]
        }
        return (common + own).reduce(0) { $0 | $1.bit }
    }
}
