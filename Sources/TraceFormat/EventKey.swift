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

    @inline(__always) static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> EventKey? {
        // Switch on length and first byte first: most lookups compare one name.
        switch (bytes.count, bytes.first ?? 0) {
        case (1, 0x74): return .t
        case (3, 0x63): return bytes.equals("cpu") ? .cpu : nil
        case (4, 0x75): return bytes.equals("unit") ? .unit : nil
        case (2, 0x61): return bytes.equals("at") ? .at : (bytes.equals("am") ? .am : nil)
        case (2, 0x69): return bytes.equals("id") ? .id : nil
        case (4, 0x61): return bytes.equals("arch") ? .arch : (bytes.equals("addr") ? .addr : nil)
        case (8, 0x63): return bytes.equals("coherent") ? .coherent : nil
        case (12, 0x63): return bytes.equals("caching-mode") ? .cachingMode : nil
        case (4, 0x6d): return bytes.equals("mode") ? .mode : nil
        case (4, 0x6b): return bytes.equals("kind") ? .kind : nil
        case (5, 0x63): return bytes.equals("count") ? .count : nil
        case (3, 0x73): return bytes.equals("sid") ? .sid : nil
        case (10, 0x70): return bytes.equals("pasid-base") ? .pasidBase : nil
        case (3, 0x62): return bytes.equals("bus") ? .bus : nil
        case (5, 0x65): return bytes.equals("entry") ? .entry : nil
        case (5, 0x66): return bytes.equals("fetch") ? .fetch : nil
        case (11, 0x70): return bytes.equals("present-bit") ? .presentBit : nil
        case (4, 0x6e): return bytes.equals("name") ? .name : nil
        case (4, 0x73): return bytes.equals("size") ? .size : nil
        case (5, 0x76): return bytes.equals("value") ? .value : nil
        case (4, 0x74): return bytes.equals("type") ? .type : (bytes.equals("text") ? .text : nil)
        case (4, 0x67): return bytes.equals("gran") ? .gran : nil
        case (3, 0x64): return bytes.equals("did") ? .did : nil
        case (5, 0x70): return bytes.equals("pasid") ? .pasid : nil
        case (2, 0x66): return bytes.equals("fm") ? .fm : nil
        case (6, 0x74): return bytes.equals("target") ? .target : nil
        default: return nil
        }
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
