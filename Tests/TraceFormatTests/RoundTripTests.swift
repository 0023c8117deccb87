import Foundation
import Testing
@testable import TraceFormat
// SplitMix64: the generator's, so every seed gives the same trace on every machine.
import struct TraceGenerator.SplitMix64

/// Random valid traces that use every event kind, key and number range.
struct RandomEvents {
    var rng: SplitMix64
    var symbols = SymbolTable()
    private var time: UInt64 = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func trace(events count: Int) -> [TraceEvent] {
        (0..<count).map { _ in event() }
    }

    private mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
    private mutating func below(_ n: UInt64) -> UInt64 { rng.next() % n }

    /// Numbers near the edges as often as in the middle.
    private mutating func number(bits: Int) -> UInt64 {
        let mask: UInt64 = bits == 64 ? .max : (1 << bits) - 1
        switch below(4) {
        case 0: return below(16) & mask
        case 1: return mask &- below(4) & mask
        default: return rng.next() & mask
        }
    }

    private mutating func value(bytes: Int) -> UInt128 {
        let wide = UInt128(rng.next()) << 64 | UInt128(rng.next())
        switch below(4) {
        case 0: return 0
        case 1: return bytes == 16 ? .max : (UInt128(1) << (bytes * 8)) - 1
        default: return bytes == 16 ? wide : wide & ((UInt128(1) << (bytes * 8)) - 1)
        }
    }

    private static let words = ["dmar0", "dmar1", "iommu0", "pasid.c:245", "intel_pasid_tear_down_entry+0x5c",
                                "é→", "a=b", "#x", "x#"]

    private mutating func name() -> Symbol {
        if chance(70) { return symbols.intern(Self.words[Int(below(UInt64(Self.words.count)))]) }
        return symbols.intern("n\(below(1000))")
    }

    private mutating func text() -> Symbol {
        let pieces = ["phase", "one", "a = b", "# not a comment", "t=5", "\tx", "réglage", "  lead"]
        var out = ""
        for _ in 0..<below(5) { out += pieces[Int(below(UInt64(pieces.count)))] + (chance(50) ? " " : "\t") }
        // `text=` loses trailing blanks, so a generated text has none.
        while let last = out.last, last == " " || last == "\t" { out.removeLast() }
        return symbols.intern(out)
    }

    private mutating func addr(span: UInt64) -> UInt64 {
        min(number(bits: 64), UInt64.max - (span - 1))
    }

    private mutating func sid() -> UInt16 { UInt16(number(bits: 16)) }

    mutating func event() -> TraceEvent {
        let kind = EventKind.allCases[Int(below(UInt64(EventKind.allCases.count)))]
        var e = TraceEvent(.wait)
        switch kind {
        case .iommu:
            let id = name()
            e.payload = .iommu(UnitDeclaration(id: id, coherent: chance(50), cachingMode: chance(50)))
            e.unit = id
        case .root:
            e.payload = .root(addr: number(bits: 64), mode: chance(50) ? .legacy : .scalable)
        case .table:
            let kind = TableKind.allCases[Int(below(UInt64(TableKind.allCases.count)))]
            var table = TableDeclaration(addr: 0, kind: kind)
            if chance(50) { table.count = 1 + below(TraceLimits.maxTableEntries) }
            if chance(50) { table.sid = sid() }
            if chance(50) { table.pasidBase = UInt32(number(bits: 20)) }
            if chance(50) { table.bus = UInt8(number(bits: 8)) }
            if chance(50) { table.name = name() }
            if kind == .generic {
                let entry = 1 + below(TraceLimits.maxEntrySize)
                table.entrySize = entry
                var fetch: UInt64 = 1
                while fetch * 2 <= entry && chance(60) { fetch *= 2 }
                table.fetchSize = fetch
                table.presentBit = below(entry * 8)
            }
            let bytes = (table.count ?? 1) * (table.entrySize ?? 64)
            table.addr = min(number(bits: 64), UInt64.max - (bytes - 1))
            e.payload = .table(table)
        case .`init`:
            let size = 1 + Int(below(16))
            e.payload = .initialize(MemoryWrite(addr: addr(span: UInt64(size)), size: UInt8(size), value: value(bytes: size)))
        case .store:
            let size = [1, 2, 4, 8, 16][Int(below(5))]
            e.payload = .store(MemoryWrite(addr: addr(span: UInt64(size)), size: UInt8(size), value: value(bytes: size)))
        case .fence:
            e.payload = .fence(FenceKind.allCases[Int(below(UInt64(FenceKind.allCases.count)))])
        case .flush:
            let size = chance(50) ? 64 : 1 + below(TraceLimits.maxAccessSize)
            e.payload = .flush(CacheFlush(addr: addr(span: size), size: size,
                                          kind: FlushKind.allCases[Int(below(3))]))
        case .fetch:
            let size = chance(60) ? 1 + below(16) : 1 + below(TraceLimits.maxAccessSize)
            var read = MemoryRead(addr: addr(span: size), size: size)
            if size <= 16 && chance(60) { read.value = value(bytes: Int(size)) }
            e.payload = .fetch(read)
        case .inval:
            let type = InvalidationType.allCases[Int(below(UInt64(InvalidationType.allCases.count)))]
            let grans = type.validGranularities.sorted { $0.rawValue < $1.rawValue }
            let gran = grans[Int(below(UInt64(grans.count)))]
            var inv = Invalidation(type: type, granularity: gran)
            let required = Set(LineParser.requiredInvalidationKeys(type, gran).map(\.rawValue))
            func wanted(_ key: EventKey) -> Bool { required.contains(key.rawValue) }
            if wanted(.did) || chance(20) { inv.did = UInt16(number(bits: 16)) }
            if wanted(.sid) || chance(20) { inv.sid = sid() }
            if wanted(.pasid) || chance(20) { inv.pasid = UInt32(number(bits: 20)) }
            if wanted(.addr) || chance(20) { inv.addr = number(bits: 64) }
            if wanted(.am) || chance(20) { inv.am = UInt8(below(64)) }
            if chance(20) { inv.fm = UInt8(below(4)) }
            e.payload = .inval(inv)
        case .wait:
            e.payload = .wait
        case .begin:
            e.payload = .begin(addr: number(bits: 64))
        case .end:
            e.payload = .end(addr: number(bits: 64))
        case .mark:
            e.payload = .mark(text())
        }
        if chance(60) {
            time += chance(30) ? 0 : below(1_000_000)
            e.time = time
        }
        if chance(40) { e.cpu = UInt32(number(bits: 32)) }
        if kind != .iommu && chance(50) { e.unit = name() }
        if chance(40) { e.site = name() }
        return e
    }
}

/// An event with its symbols replaced by their strings, and no line number:
/// what must survive writing and reading back.
struct ComparableEvent: Equatable, CustomStringConvertible {
    var event: TraceEvent
    var strings: [String?]

    init(_ e: TraceEvent, _ symbols: SymbolTable) {
        var e = e
        var strings: [String?] = [symbols[e.unit], e.site.map { symbols[$0] }]
        e.line = 0
        e.unit = Symbol(0)
        e.site = e.site.map { _ in Symbol(0) }
        switch e.payload {
        case .iommu(var unit):
            strings.append(symbols[unit.id])
            unit.id = Symbol(0)
            e.payload = .iommu(unit)
        case .table(var table):
            strings.append(table.name.map { symbols[$0] })
            table.name = table.name.map { _ in Symbol(0) }
            e.payload = .table(table)
        case .mark(let text):
            strings.append(symbols[text])
            e.payload = .mark(Symbol(0))
        default:
            break
        }
        self.event = e
        self.strings = strings
    }

    var description: String { "\(event) \(strings)" }
}

@Suite("Writing the canonical form and reading it back")
struct RoundTripTests {
    static let seeds = Array(UInt64(1)...200)

    static func canonicalText(_ events: [TraceEvent], _ symbols: SymbolTable) -> String {
        TraceWriter.header + events.map { TraceWriter.line(for: $0, symbols: symbols) }.joined()
    }

    @Test(arguments: seeds)
    func plainTextReadsBackTheSameEvents(seed: UInt64) throws {
        var generator = RandomEvents(seed: seed)
        let events = generator.trace(events: 60)
        let text = Self.canonicalText(events, generator.symbols)
        let (again, symbols) = try read(text)
        #expect(again.map { ComparableEvent($0, symbols) } == events.map { ComparableEvent($0, generator.symbols) })
        #expect(again.map(\.line) == Array(2...UInt64(events.count + 1)))
        // Canonical text is a fixed point: writing what was read gives the same bytes.
        #expect(Self.canonicalText(again, symbols) == text)
    }

    @Test(arguments: seeds)
    func zstdOutputReadsBackTheSameEvents(seed: UInt64) throws {
        var generator = RandomEvents(seed: seed &* 7919)
        let events = generator.trace(events: 60)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.trace").path
        let out = try OutputFile(path: path, compress: true, level: Int32(1 + seed % 5))
        try out.write(TraceWriter.header)
        for e in events { try out.write(TraceWriter.line(for: e, symbols: generator.symbols)) }
        try out.commit()
        let reader = try TraceReader(path: path)
        let again = try reader.readAll()
        #expect(reader.isCompressed)
        #expect(again.map { ComparableEvent($0, reader.symbols) } == events.map { ComparableEvent($0, generator.symbols) })
    }

    @Test func theGeneratorCoversEveryKindAndEveryInvalidationScope() {
        var generator = RandomEvents(seed: 42)
        var kinds = Set<EventKind>()
        var scopes = Set<String>()
        for seed in Self.seeds {
            generator = RandomEvents(seed: seed)
            for e in generator.trace(events: 60) {
                kinds.insert(e.kind)
                if case .inval(let inv) = e.payload { scopes.insert("\(inv.type.name)/\(inv.granularity.name)") }
            }
        }
        #expect(kinds == Set(EventKind.allCases))
        let all = InvalidationType.allCases.flatMap { t in t.validGranularities.map { "\(t.name)/\($0.name)" } }
        #expect(scopes == Set(all))
    }

    @Test func aLargeOutputIsWrittenInPiecesAndReadsBack() throws {
        var generator = RandomEvents(seed: 9)
        let events = generator.trace(events: 5000)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for compress in [false, true] {
            let path = dir.appendingPathComponent("big-\(compress)").path
            let out = try OutputFile(path: path, compress: compress)
            try out.write(TraceWriter.header)
            for e in events { try out.write(TraceWriter.line(for: e, symbols: generator.symbols)) }
            try out.commit()
            let reader = try TraceReader(path: path)
            let again = try reader.readAll()
            #expect(again.map { ComparableEvent($0, reader.symbols) } == events.map { ComparableEvent($0, generator.symbols) })
        }
    }

    @Test func theCanonicalFormIsFixed() throws {
        let (events, symbols) = try read("""
            iommu coherent=0 id=dmar0
            table kind=pasid addr=65536 sid=0x10 bus=3 count=64 name=t
            store addr=16 size=16 value=0XFF t=5 cpu=2 unit=dmar0 at=a.c:1
            inval fm=1 type=context did=7 gran=device sid=16
            flush addr=0x40
            fetch addr=0x40 size=16 value=0
            wait unit=iommu0 cpu=0
            mark t=6 text=a  b
            """)
        #expect(events.map { TraceWriter.line(for: $0, symbols: symbols) } == [
            "iommu id=dmar0 arch=vtd coherent=0 caching-mode=0\n",
            "table addr=0x10000 kind=pasid count=64 sid=00:02.0 bus=0x3 name=t\n",
            "store addr=0x10 size=16 value=0xff t=5 cpu=2 unit=dmar0 at=a.c:1\n",
            "inval type=context gran=device did=7 sid=00:02.0 fm=1\n",
            "flush addr=0x40 size=64 kind=clflush\n",
            "fetch addr=0x40 size=16 value=0x0\n",
            "wait\n",
            "mark t=6 text=a  b\n",
        ])
        var bytes: [UInt8] = Array("x".utf8)
        TraceWriter.append(events[0], symbols: symbols, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "xiommu id=dmar0 arch=vtd coherent=0 caching-mode=0\n")
    }

    @Test func numbersAndSourceIDsAtTheirEdgesWriteAsTheyRead() throws {
        let (events, symbols) = try read("""
            store addr=0xffffffffffffff00 size=16 value=0xffffffffffffffffffffffffffffffff t=18446744073709551615
            inval type=devtlb gran=device sid=ff:1f.7 cpu=4294967295
            inval type=devtlb gran=device sid=0
            """)
        #expect(events.map { TraceWriter.line(for: $0, symbols: symbols) } == [
            "store addr=0xffffffffffffff00 size=16 value=0xffffffffffffffffffffffffffffffff t=18446744073709551615\n",
            "inval type=devtlb gran=device sid=ff:1f.7 cpu=4294967295\n",
            "inval type=devtlb gran=device sid=00:00.0\n",
        ])
    }

    @Test func anUncommittedOutputLeavesNoFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("never.trace").path
        do {
            let out = try OutputFile(path: path)
            try out.write("wait\n")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
