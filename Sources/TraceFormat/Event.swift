/// One event of a trace, in the order it happened.
///
/// Events are small value types: strings (unit names, `at=` sites, `mark`
/// text) are interned in the reader's ``SymbolTable`` so that reading an event
/// allocates nothing once the table has warmed up.
public struct TraceEvent: Sendable, Equatable {
    /// What happened.
    public var payload: EventPayload
    /// `t=`: time in nanoseconds, where the trace gives one.
    public var time: UInt64?
    /// `cpu=`: the CPU that did a CPU-side event (default 0).
    public var cpu: UInt32
    /// `unit=`: the remapping unit the event concerns (default `iommu0`).
    public var unit: Symbol
    /// `at=`: the source site, such as `pasid.c:245`.
    public var site: Symbol?
    /// The 1-based line of the trace file the event came from (0 when the
    /// event was built in code).
    public var line: UInt64

    /// Creates an event; the defaults are those of the text format.
    public init(_ payload: EventPayload, time: UInt64? = nil, cpu: UInt32 = 0,
                unit: Symbol = .defaultUnit, site: Symbol? = nil, line: UInt64 = 0) {
        self.payload = payload
        self.time = time
        self.cpu = cpu
        self.unit = unit
        self.site = site
        self.line = line
    }

    /// The event's kind, as written at the start of its line.
    @inlinable public var kind: EventKind { payload.kind }
}

/// The event kinds of trace format version 1.
public enum EventKind: UInt8, CaseIterable, Sendable, Comparable, Codable {
    case iommu, root, table, `init`, store, fence, flush, fetch, inval, wait, begin, end, mark

    /// The word that starts the event's line.
    public var name: String {
        switch self {
        case .iommu: "iommu"
        case .root: "root"
        case .table: "table"
        case .`init`: "init"
        case .store: "store"
        case .fence: "fence"
        case .flush: "flush"
        case .fetch: "fetch"
        case .inval: "inval"
        case .wait: "wait"
        case .begin: "begin"
        case .end: "end"
        case .mark: "mark"
        }
    }

    public static func < (a: EventKind, b: EventKind) -> Bool { a.rawValue < b.rawValue }
}

/// What an event says happened, with the data of its kind.
public enum EventPayload: Sendable, Equatable {
    /// `iommu`: a remapping unit and its capabilities.
    case iommu(UnitDeclaration)
    /// `root`: the unit's root-table pointer was set.
    case root(addr: UInt64, mode: TranslationMode)
    /// `table`: a table that no walk reaches.
    case table(TableDeclaration)
    /// `init`: memory content before the trace begins.
    case initialize(MemoryWrite)
    /// `store`: a CPU store.
    case store(MemoryWrite)
    /// `fence`: a barrier.
    case fence(FenceKind)
    /// `flush`: cache lines written back.
    case flush(CacheFlush)
    /// `fetch`: a recorded hardware read; `value` is what the unit read.
    case fetch(MemoryRead)
    /// `inval`: an invalidation request submitted to the unit.
    case inval(Invalidation)
    /// `wait`: every earlier invalidation of the unit has completed.
    case wait
    /// `begin`: software starts one update of the entry at `addr`.
    case begin(addr: UInt64)
    /// `end`: software has finished the update of the entry at `addr`.
    case end(addr: UInt64)
    /// `mark`: an annotation.
    case mark(Symbol)

    /// The kind of event this payload belongs to.
    @inlinable public var kind: EventKind {
        switch self {
        case .iommu: .iommu
        case .root: .root
        case .table: .table
        case .initialize: .`init`
        case .store: .store
        case .fence: .fence
        case .flush: .flush
        case .fetch: .fetch
        case .inval: .inval
        case .wait: .wait
        case .begin: .begin
        case .end: .end
        case .mark: .mark
        }
    }
}

/// Which translation structures a unit walks from its root pointer.
public enum TranslationMode: UInt8, Sendable, Codable {
    /// Legacy mode: root -> context -> second-stage page table.
    case legacy
    /// Scalable mode: root -> scalable context -> PASID directory -> PASID table.
    case scalable

    /// The word used in `mode=`.
    public var name: String { self == .legacy ? "legacy" : "scalable" }
}

/// An `iommu` line: a remapping unit and the capabilities that matter here.
public struct UnitDeclaration: Sendable, Equatable {
    /// The unit's name, as used in `unit=`.
    public var id: Symbol
    /// `coherent=`: the unit snoops CPU caches (`ecap.C`). When false, stores
    /// reach it only through `flush`.
    public var coherent: Bool
    /// `caching-mode=`: the unit may cache non-present entries (`cap.CM`).
    public var cachingMode: Bool

    /// Creates a declaration; the defaults are those of the text format.
    public init(id: Symbol, coherent: Bool = true, cachingMode: Bool = false) {
        self.id = id
        self.coherent = coherent
        self.cachingMode = cachingMode
    }
}

/// The kinds of table a `table` line may declare.
public enum TableKind: UInt8, Sendable, CaseIterable, Codable {
    case root, context, smContext, pasidDirectory, pasid, generic

    /// The word used in `kind=`.
    public var name: String {
        switch self {
        case .root: "root"
        case .context: "context"
        case .smContext: "sm-context"
        case .pasidDirectory: "pasid-dir"
        case .pasid: "pasid"
        case .generic: "generic"
        }
    }

    /// The kind whose ``name`` is `name`.
    public init?(name: String) {
        guard let kind = TableKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    /// What a `table` line's `entry=`, `fetch=` and `present-bit=` must
    /// say of a VT-d kind, whose layout is fixed (DOMAIN.md): bytes per
    /// entry, bytes the unit reads atomically (one 16-byte chunk) and the
    /// Present bit. Nil for `generic`, whose line gives them.
    public var fixedLayout: (entry: UInt64, fetch: UInt64, presentBit: UInt64)? {
        switch self {
        case .root, .context: (16, 16, 0)
        case .smContext: (32, 16, 0)
        case .pasidDirectory: (8, 16, 0)
        case .pasid: (64, 16, 0)
        case .generic: nil
        }
    }
}

/// A `table` line: a table that no walk reaches, declared by the trace.
///
/// Stored in 32 bytes (absent keys as out-of-range values) so that a
/// ``TraceEvent`` holds it inline and stays a plain 80-byte value that is
/// copied without reference counting. The ranges are those the readers
/// enforce: `count` 1 to 2^20, `entry` and `fetch` 1 to 64, `present-bit`
/// below 512, `pasid-base` below 2^20; a value outside them is a programming
/// error.
public struct TableDeclaration: Sendable, Equatable {
    /// Base address of the table.
    public var addr: UInt64
    private var storedCount: UInt32 = 0
    private var storedPasidBase: UInt32 = .max
    private var storedName: UInt32 = .max
    private var storedSid: UInt16 = 0
    private var hasSid = false
    /// What the table holds.
    public var kind: TableKind
    private var storedBus: UInt16 = .max
    private var storedEntrySize: UInt8 = 0
    private var storedFetchSize: UInt8 = 0
    private var storedPresentBit: UInt16 = .max

    /// `count=`: number of entries (defaults depend on the kind).
    public var count: UInt64? {
        get { storedCount == 0 ? nil : UInt64(storedCount) }
        set {
            precondition(newValue.map { $0 >= 1 && $0 <= TraceLimits.maxTableEntries } ?? true, "count out of range")
            storedCount = newValue.map { UInt32($0) } ?? 0
        }
    }
    /// `sid=`: the source id the table belongs to (context, PASID tables).
    public var sid: UInt16? {
        get { hasSid ? storedSid : nil }
        set {
            hasSid = newValue != nil
            storedSid = newValue ?? 0
        }
    }
    /// `pasid-base=`: the PASID of the table's first entry.
    public var pasidBase: UInt32? {
        get { storedPasidBase == .max ? nil : storedPasidBase }
        set {
            precondition((newValue ?? 0) < .max, "pasid-base out of range")
            storedPasidBase = newValue ?? .max
        }
    }
    /// `bus=`: the bus a context table serves.
    public var bus: UInt8? {
        get { storedBus == .max ? nil : UInt8(truncatingIfNeeded: storedBus) }
        set { storedBus = newValue.map { UInt16($0) } ?? .max }
    }
    /// `entry=`: bytes per entry (generic tables).
    public var entrySize: UInt64? {
        get { storedEntrySize == 0 ? nil : UInt64(storedEntrySize) }
        set {
            precondition(newValue.map { $0 >= 1 && $0 <= TraceLimits.maxEntrySize } ?? true, "entry size out of range")
            storedEntrySize = newValue.map { UInt8($0) } ?? 0
        }
    }
    /// `fetch=`: bytes the unit reads atomically (generic tables).
    public var fetchSize: UInt64? {
        get { storedFetchSize == 0 ? nil : UInt64(storedFetchSize) }
        set {
            precondition(newValue.map { $0 >= 1 && $0 <= TraceLimits.maxEntrySize } ?? true, "fetch size out of range")
            storedFetchSize = newValue.map { UInt8($0) } ?? 0
        }
    }
    /// `present-bit=`: index of the Present bit in an entry (generic tables).
    public var presentBit: UInt64? {
        get { storedPresentBit == .max ? nil : UInt64(storedPresentBit) }
        set {
            precondition(newValue.map { $0 < TraceLimits.maxEntrySize * 8 } ?? true, "present bit out of range")
            storedPresentBit = newValue.map { UInt16($0) } ?? .max
        }
    }
    /// `name=`: a label for reports.
    public var name: Symbol? {
        get { storedName == .max ? nil : Symbol(storedName) }
        set {
            precondition((newValue?.index ?? 0) < .max, "symbol out of range")
            storedName = newValue?.index ?? .max
        }
    }

    /// Creates a declaration with only the required keys.
    public init(addr: UInt64, kind: TableKind) {
        self.addr = addr
        self.kind = kind
    }
}

/// The data of an `init` or `store`: `size` bytes at `addr`, little-endian.
public struct MemoryWrite: Sendable, Equatable {
    /// The first byte written.
    public var addr: UInt64
    /// Bytes written: 1 to 16.
    public var size: UInt8
    /// The data as an unsigned little-endian integer `size` bytes wide.
    public var value: UInt128

    /// Creates a write of `size` bytes of `value` at `addr`.
    public init(addr: UInt64, size: UInt8, value: UInt128) {
        self.addr = addr
        self.size = size
        self.value = value
    }

    /// True when the access is naturally aligned (`addr` a multiple of `size`,
    /// and `size` a power of two).
    public var isNaturallyAligned: Bool {
        size.nonzeroBitCount == 1 && addr & UInt64(size - 1) == 0
    }
}

/// A `fetch`: the unit read `size` bytes at `addr`.
public struct MemoryRead: Sendable, Equatable {
    /// The first byte read.
    public var addr: UInt64
    /// Bytes read.
    public var size: UInt64
    /// What the unit read, when the recorder says (`size` at most 16).
    public var value: UInt128?

    /// Creates a read of `size` bytes at `addr`.
    public init(addr: UInt64, size: UInt64, value: UInt128? = nil) {
        self.addr = addr
        self.size = size
        self.value = value
    }
}

/// A `flush`: the cache lines holding `addr ..< addr + size` are written back.
public struct CacheFlush: Sendable, Equatable {
    /// The first byte to write back.
    public var addr: UInt64
    /// Bytes covered (default 64).
    public var size: UInt64
    /// The instruction used.
    public var kind: FlushKind

    /// Creates a flush; the defaults are those of the text format.
    public init(addr: UInt64, size: UInt64 = 64, kind: FlushKind = .clflush) {
        self.addr = addr
        self.size = size
        self.kind = kind
    }
}

/// The cache write-back instructions a `flush` may name.
public enum FlushKind: UInt8, Sendable, CaseIterable, Codable {
    case clflush, clflushopt, clwb

    /// The word used in `kind=`.
    public var name: String {
        switch self {
        case .clflush: "clflush"
        case .clflushopt: "clflushopt"
        case .clwb: "clwb"
        }
    }
}

/// The barriers a `fence` may name.
public enum FenceKind: UInt8, Sendable, CaseIterable, Codable {
    case mb, wmb, rmb, dmaMB, dmaWMB, dmaRMB, smpMB, smpWMB, smpRMB, barrier, sfence, mfence, lfence

    /// The word used in `kind=`.
    public var name: String {
        switch self {
        case .mb: "mb"
        case .wmb: "wmb"
        case .rmb: "rmb"
        case .dmaMB: "dma_mb"
        case .dmaWMB: "dma_wmb"
        case .dmaRMB: "dma_rmb"
        case .smpMB: "smp_mb"
        case .smpWMB: "smp_wmb"
        case .smpRMB: "smp_rmb"
        case .barrier: "barrier"
        case .sfence: "sfence"
        case .mfence: "mfence"
        case .lfence: "lfence"
        }
    }

    /// True for the barriers that order CPU stores as a device sees them
    /// (`mb`, `wmb`, `dma_mb`, `dma_wmb`, `sfence`, `mfence`). The `smp_*`
    /// barriers only order CPUs against each other, `barrier` only the
    /// compiler, and the read barriers no stores at all (CHECKS.md, "Exposed
    /// state"; Linux Documentation/memory-barriers.txt).
    public var ordersDeviceStores: Bool {
        switch self {
        case .mb, .wmb, .dmaMB, .dmaWMB, .sfence, .mfence: true
        default: false
        }
    }

    /// True for barriers a driver writes to order stores, even if they do
    /// not order them for a device: the ones a finding names when code relied
    /// on them.
    public var isWriteBarrier: Bool {
        switch self {
        case .rmb, .dmaRMB, .smpRMB, .lfence: false
        default: true
        }
    }
}

/// An `inval`: one invalidation request submitted to a unit.
public struct Invalidation: Sendable, Equatable, Hashable {
    /// Which cache the request invalidates.
    public var type: InvalidationType
    /// How much of it.
    public var granularity: InvalidationGranularity
    /// `did=`: the domain id.
    public var did: UInt16?
    /// `sid=`: the source id.
    public var sid: UInt16?
    /// `pasid=`: the PASID (20 bits).
    public var pasid: UInt32?
    /// `addr=`: the address (page granularity).
    public var addr: UInt64?
    /// `am=`: the address mask (2^am pages).
    public var am: UInt8?
    /// `fm=`: the function mask (device granularity of the context cache).
    public var fm: UInt8?

    /// Creates a request; the keys that do not apply stay nil.
    public init(type: InvalidationType, granularity: InvalidationGranularity,
                did: UInt16? = nil, sid: UInt16? = nil, pasid: UInt32? = nil,
                addr: UInt64? = nil, am: UInt8? = nil, fm: UInt8? = nil) {
        self.type = type
        self.granularity = granularity
        self.did = did
        self.sid = sid
        self.pasid = pasid
        self.addr = addr
        self.am = am
        self.fm = fm
    }
}

/// The caches an invalidation request may target (`type=`).
public enum InvalidationType: UInt8, Sendable, CaseIterable, Codable, Hashable {
    case context, pasid, iotlb, piotlb, devtlb, pdevtlb, iec

    /// The word used in `type=`.
    public var name: String {
        switch self {
        case .context: "context"
        case .pasid: "pasid"
        case .iotlb: "iotlb"
        case .piotlb: "piotlb"
        case .devtlb: "devtlb"
        case .pdevtlb: "pdevtlb"
        case .iec: "iec"
        }
    }

    /// What a person calls this cache.
    public var title: String {
        switch self {
        case .context: "context-cache"
        case .pasid: "PASID-cache"
        case .iotlb: "IOTLB"
        case .piotlb: "PASID-based IOTLB"
        case .devtlb: "device-TLB"
        case .pdevtlb: "PASID-based device-TLB"
        case .iec: "interrupt-entry-cache"
        }
    }

    /// The granularities VT-d defines for this type (spec 6.5.2; Linux
    /// iommu.h `QI_*_GRAN*`): those ``Invalidation/vtdFields(_:_:)`` has.
    public var validGranularities: Set<InvalidationGranularity> {
        Set(InvalidationGranularity.allCases.filter { Invalidation.vtdFields(self, $0) != nil })
    }
}

extension Invalidation {
    /// Why VT-d defines no such request, or nil when it does.
    ///
    /// The contract (TRACE-FORMAT.md, `inval`) reads any type with any
    /// granularity that carries the granularity's keys; VT-d pairs each
    /// type with some granularities only, and a device-TLB request names a
    /// device. A request it does not define reads, and covers nothing.
    public var undefinedByVTd: String? {
        switch vtdProblem {
        case nil:
            return nil
        case .undefinedPair:
            let taken = InvalidationGranularity.allCases.filter(type.validGranularities.contains).map(\.name)
            return "VT-d defines no \(type.title) invalidation of granularity \(granularity.name) "
                + "(type=\(type.name) takes gran=\(taken.joined(separator: ", "))), so it covers nothing"
        case .missing(let key):
            return "a \(type.title) invalidation of granularity \(granularity.name) needs `\(key.name)=` "
                + "to name what it covers, so it covers nothing"
        }
    }

    /// What keeps VT-d from defining a request.
    enum VTdProblem: Equatable {
        /// VT-d pairs the type with other granularities only.
        case undefinedPair
        /// A key that makes the scope definite is missing (the first).
        case missing(EventKey)
    }

    /// Why VT-d does not define the request, or nil when it does.
    var vtdProblem: VTdProblem? {
        guard let required = Self.vtdFields(type, granularity) else { return .undefinedPair }
        guard let key = Self.fieldKeys.first(where: { required & Self.fieldBit($0) != 0 && !holds($0) }) else { return nil }
        return .missing(key)
    }

    /// Why a reader refuses the request, or nil when it reads: what VT-d
    /// defines reads, and so does what the contract allows (any type with
    /// its granularity's ``contractKeys(_:)``). The text and binary readers
    /// both ask this.
    var readingProblem: VTdProblem? {
        guard !isDefinedByVTd, !Self.contractKeys(granularity).allSatisfy(holds) else { return nil }
        return vtdProblem
    }

    /// ``undefinedByVTd`` is nil, without building its text: asked of
    /// every request.
    public var isDefinedByVTd: Bool {
        guard let required = Self.vtdFields(type, granularity) else { return false }
        return fields & required == required
    }

    /// The fields (``fieldBit(_:)`` bits) VT-d needs of a request of this
    /// type and granularity to make its scope definite, or nil when it
    /// defines no such pair: the one table of them, from which
    /// ``InvalidationType/validGranularities`` and
    /// LineParser.requiredInvalidationKeys(_:_:) are read. Code, not a
    /// table: a table is a global, checked for initialization on every
    /// read, and this is asked of every request. The device-TLB types name
    /// a device, not a domain; an index-selective `iec` request's `addr` is
    /// the interrupt index and `am` the index mask (VT-d 6.5.2.7).
    static func vtdFields(_ type: InvalidationType, _ granularity: InvalidationGranularity) -> UInt8? {
        let did: UInt8 = 1, sid: UInt8 = 2, pasid: UInt8 = 4, addr: UInt8 = 8, am: UInt8 = 16
        switch (type, granularity) {
        case (.context, .global), (.pasid, .global), (.iotlb, .global), (.iec, .global): return 0
        case (.context, .domain), (.pasid, .domain), (.iotlb, .domain): return did
        case (.context, .device), (.devtlb, .device), (.pdevtlb, .device): return sid
        case (.pasid, .pasid), (.piotlb, .pasid): return did | pasid
        case (.pdevtlb, .pasid): return sid | pasid
        case (.iotlb, .page), (.piotlb, .page): return did | addr | am
        case (.devtlb, .page): return sid | addr
        case (.pdevtlb, .page): return sid | pasid | addr
        case (.iec, .page): return addr | am
        default: return nil
        }
    }

    /// The keys the request holds, as ``fieldBit(_:)`` bits.
    var fields: UInt8 {
        (did != nil ? 1 : 0) | (sid != nil ? 2 : 0) | (pasid != nil ? 4 : 0) | (addr != nil ? 8 : 0) | (am != nil ? 16 : 0)
    }

    func holds(_ key: EventKey) -> Bool { fields & Self.fieldBit(key) == Self.fieldBit(key) }

    /// The keys ``fieldBit(_:)`` gives bits, in the order messages name them.
    static let fieldKeys: [EventKey] = [.did, .sid, .pasid, .addr, .am]

    static func fieldBit(_ key: EventKey) -> UInt8 {
        switch key {
        case .did: 1
        case .sid: 2
        case .pasid: 4
        case .addr: 8
        case .am: 16
        default: 0
        }
    }

    /// The keys TRACE-FORMAT.md's contract requires of a granularity,
    /// whatever the type: `domain` a `did`, `device` a `sid`, `pasid` a
    /// `did` and `pasid`, `page` a `did`, `addr` and `am`.
    static func contractKeys(_ granularity: InvalidationGranularity) -> [EventKey] {
        switch granularity {
        case .global: []
        case .domain: [.did]
        case .device: [.sid]
        case .pasid: [.did, .pasid]
        case .page: [.did, .addr, .am]
        }
    }
}

/// How much of a cache a request invalidates (`gran=`).
public enum InvalidationGranularity: UInt8, Sendable, CaseIterable, Codable, Hashable {
    case global, domain, device, pasid, page

    /// The word used in `gran=`.
    public var name: String {
        switch self {
        case .global: "global"
        case .domain: "domain"
        case .device: "device"
        case .pasid: "pasid"
        case .page: "page"
        }
    }
}
