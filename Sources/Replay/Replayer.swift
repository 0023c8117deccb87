import TraceFormat

/// A remapping unit as the replay knows it.
public struct UnitState: Sendable {
    /// The unit's name (`dmar0`).
    public var name: String
    /// The unit's symbol in the trace's table.
    public var symbol: Symbol
    /// The unit snoops CPU caches: stores reach it without `flush`.
    public var coherent = true
    /// The unit may cache non-present entries (`cap.CM`).
    public var cachingMode = false
    /// The root-table pointer, once set.
    public var root: UInt64?
    /// Legacy or scalable mode, from the last `root` event.
    public var mode: TranslationMode = .scalable
    var rootInstance: Int?
    /// The line of the `iommu` event that declared the unit; nil for a unit
    /// only named (the default `iommu0` of a trace with no `iommu` line).
    public var declaredAt: UInt64?
}

/// One entry the replay has seen touched while reachable.
public struct EntryRecord: Sendable {
    /// Unit, kind, source id, PASID.
    public var identity: EntryIdentity
    /// Index of the unit in ``Replayer/units``.
    public var unit: Int
    /// The entry's address (the latest, if its table moved).
    public var addr: UInt64
    /// Bytes in the entry.
    public var size: Int
    /// Bytes the unit reads atomically.
    public var fetchSize: Int
    /// Bit index of Present.
    public var presentBit: Int
    /// The unit's mode when the entry was reached (decides root layouts).
    public var mode: TranslationMode
    /// Stores that changed the entry's value.
    public var changes = 0
    /// First and last event (1-based) that touched the entry.
    public var firstEvent: Int
    /// See ``firstEvent``.
    public var lastEvent: Int
    /// The event that unlinked the entry's table, while no reachable table
    /// gives the entry (``Replayer/lastVisibleValue(of:)`` is then what the
    /// unit saw last).
    public internal(set) var unlinkedAt: Int?
    /// Every change, when the replayer was asked to keep history.
    public internal(set) var history = EntryHistory()

    /// Whether the entry's table is reachable now.
    public var reachable: Bool { unlinkedAt == nil }

    /// The entry's kind.
    public var kind: EntryKind { identity.kind }
}

/// What one event did to one entry.
public struct EntryTouch: Sendable {
    /// Index of the entry in ``Replayer/entries``.
    public var entry: Int
    /// The bytes of the entry the event covered.
    public var bytes: Range<Int>
    /// The entry as the CPU sees it, before and after the event.
    public var before: EntryValue
    /// See ``before``.
    public var after: EntryValue
    /// The entry as the unit sees it after the event: the CPU's value on a
    /// coherent unit, the last flushed one otherwise.
    public var device: EntryValue
}

/// Something the replay noticed that is a fault of the trace, not a race: a
/// recorded fetch that disagrees with replayed memory.
public struct ReplayDiagnostic: Sendable, Equatable {
    /// The event (1-based).
    public var event: Int
    /// Its line.
    public var line: UInt64
    /// What was wrong.
    public var message: String
}

/// What one event did, for the checks.
public struct ReplayStep: Sendable {
    /// The event's 1-based position in the trace.
    public var index: Int
    /// The event.
    public var event: TraceEvent
    /// The reachable entries the event's bytes hit (stores, flushes,
    /// fetches); a store that straddles two entries hits both.
    public var touches: [EntryTouch]
}

/// A table with no names, for events that name nothing.
let noSymbols = SymbolTable()

/// What one replay may hold, so that no trace, however hostile, makes it
/// use unbounded memory. The defaults keep a replay with its checks under
/// 64 MiB; a trace of a machine with more live entries than that needs
/// `entries` raised (`--max-entries`).
public struct ReplayLimits: Sendable, Equatable {
    /// Most entries tracked (about 400 bytes each with the checks' state).
    /// The generated 20-million-event benchmark trace tracks 6870.
    public var entries: Int
    /// Most tables reachable at once.
    public var tables: Int
    /// Most pages of memory (``SparseMemory/pageSize``, 256 bytes) that
    /// stores and `init` may write. Every page written is kept, table or
    /// not (a table filled before it is linked shows at linking what it held
    /// then), so a trace of stores to distinct pages would otherwise grow
    /// memory with its length. A page costs about 300 bytes (256 and its
    /// slots in the page map), twice that when a non-coherent unit keeps its
    /// own copy: at the limit, 32768 pages of such a unit peak at 39 MiB
    /// (`hitless analyze`). The generated benchmark traces write about 13000
    /// (13002 at 2 million events, 13037 at 5 million: the generator's
    /// address ranges are fixed, so more events write no more pages), and
    /// analyzing them peaks at 45 MiB: with the pages raised to the limit,
    /// about 57 MiB.
    public var pages: Int
    /// Most table entries one `fetch` or `flush` may touch: a 4 KiB read of
    /// 1-byte entries. Without it a 1 MiB fetch over a table of 1-byte
    /// entries would make a million entry records out of one short line.
    public var touchesPerEvent: Int

    /// Most table entries one `store` or `init` may touch: a 16-byte store
    /// over a table of 1-byte entries, or an entry shared by sixteen
    /// overlapping tables (VT-d tables overlap at most twice: a shared PASID
    /// table, a table being moved). Without it, tables declared many times
    /// over the same bytes make every store touch them all (10000 tables and
    /// 8000 stores, 1 MB of text, ran for minutes).
    public var touchesPerStore: Int

    /// The default limits.
    public static let standard = ReplayLimits()

    /// Limits; each defaults to the standard one.
    public init(entries: Int = 65_536, tables: Int = 65_536, pages: Int = 32_768, touchesPerEvent: Int = 4096,
                touchesPerStore: Int = 16) {
        self.entries = entries
        self.tables = tables
        self.pages = pages
        self.touchesPerEvent = touchesPerEvent
        self.touchesPerStore = touchesPerStore
    }
}

/// Rebuilds table memory and the unit's walk, event by event.
///
/// One pass; state is kept only for touched pages and reachable tables. Feed
/// it every event in order with ``apply(_:symbols:)``.
public struct Replayer: Sendable {
    /// What this replay may hold; past a limit it stops with an error.
    public var limits: ReplayLimits {
        get { shelf.book.limits }
        set { book.limits = newValue }
    }

    /// The units, in order of first appearance.
    public private(set) var units: [UnitState] = []
    /// Entries seen touched while reachable, in order of first touch.
    public private(set) var entries: [EntryRecord] = []
    /// Problems with the trace itself (the first 1000).
    public var diagnostics: [ReplayDiagnostic] { shelf.book.diagnostics }
    /// Events applied so far.
    public private(set) var eventCount = 0
    /// Keep every change of every entry in ``EntryRecord/history``.
    public var keepHistory: Bool

    /// Memory as the CPU sees it.
    public private(set) var memory = SparseMemory()
    private var anyNonCoherent = false
    /// Some `iommu` event has declared a unit: from then on, events may
    /// name declared units only.
    private var anyUnitDeclared = false
    /// The table entries the current event's bytes cover (``findHits(_:_:)``).
    /// Read by index, in place: nothing an event calls while it walks them
    /// finds hits again, and a copy to walk would be retained and released.
    private var hits: [(table: Int, index: Int)] = []
    // Values of the entries hit, before the event: reused, so an event
    // allocates nothing.
    private var beforeValues: [EntryValue] = []
    private var cpuBeforeValues: [EntryValue] = []
    private var touches: [EntryTouch] = []

    /// Everything else, out of line: what most events only read (tables,
    /// the pages they lie on, limits) and what only some change (the device
    /// view, records by table). Swift copies a replayer whenever a mutating
    /// method, or an analysis holding it `inout`, passes it to a function
    /// that is not inlined: with these fields out of line (and memory's
    /// pages in its own box) such a copy is 104 bytes, not 528. Read them in
    /// place, through `shelf.book`; change them through `book`.
    private var shelf: Shelf

    /// The out-of-line state, for changes: a shelf another replayer shares
    /// is copied first. (Its getter copies the whole book; reads go to
    /// `shelf.book` instead.)
    private var book: Book {
        get { shelf.book }
        _modify {
            if !isKnownUniquelyReferenced(&shelf) { shelf = Shelf(shelf.book) }
            yield &shelf.book
        }
    }

    /// What ``Replayer`` keeps out of line (see `shelf`).
    private struct Book {
        var limits: ReplayLimits
        var fileName: String
        var diagnostics: [ReplayDiagnostic] = []
        /// Memory as non-coherent units see it: only pages stored to since a
        /// non-coherent unit was declared; other pages read from ``memory``.
        var deviceMemory = SparseMemory()

        /// Per symbol (by its index), the index plus one of the unit it
        /// names, 0 for none: a unit is looked up on every fetch,
        /// invalidation and wait, and hashing the symbol for a dictionary
        /// cost more than the rest of the lookup. As long as the largest
        /// symbol naming a unit, so within the symbol table's size.
        var unitOfSymbol: [UInt16] = []
        // Tables by id; the ids of unlinked tables are reused, so these arrays
        // grow with the tables reachable at once, not with the events.
        var tables: [TableInstance?] = []
        /// Per table id, what every store, flush and fetch reads of its table:
        /// plain values, so reading them copies no label (a copy of a
        /// `TableInstance?` retains its label string, several times a store).
        var geometry: [TableGeometry] = []
        var freeTableIDs: [Int] = []
        var unlinkedTableIDs: [Int] = []
        var tableRefs: [Int] = []
        var tableChildren: [[Int: [Int]]] = []
        /// Per table: entry index -> record, for the entries touched so far.
        var tableEntryRecords: [PageMap] = []
        var liveTables: [TableInstance.Key: Int] = [:]
        var liveSlots: [TableInstance.Slot: [Int]] = [:]
        var liveTableCount = 0
        // The tables on each page: page -> index into `pageTableLists`.
        var pageTableIndex = PageMap()
        var pageTableLists: [[Int]] = []
        var freePageLists: [Int] = []
        var largeTables: [Int] = []
        var recordOfKey: [EntryKey: Int32] = [:]
        // Entries no reachable table gives, by record: what the unit could read
        // at each just before its table was unlinked, and where the table was
        // (kept for these alone, not in every record). By slot and index, so
        // that a table linked again finds the entries it makes reachable again.
        var unlinked: [Int: (slot: TableInstance.Slot, index: Int, value: EntryValue)] = [:]
        var unlinkedBySlot: [TableInstance.Slot: [Int: Int]] = [:]
        /// Generic table labels, numbered for ``EntryKey``.
        var labelNumbers: [String: UInt32] = [:]
    }

    /// The box of a ``Book``, shared by copies of a replayer until one
    /// changes it.
    private final class Shelf: @unchecked Sendable {
        // Unchecked: a class's stored property is otherwise checked for
        // overlapping access at run time on every read and write; a shelf
        // is only changed through its replayer's `book`, which copies it
        // first when another replayer shares it.
        @exclusivity(unchecked) var book: Book
        init(_ book: Book) { self.book = book }
    }

    /// A replayer with no units, tables or memory. `fileName` names the
    /// trace in errors.
    public init(fileName: String = "<trace>", keepHistory: Bool = false, limits: ReplayLimits = .standard) {
        self.keepHistory = keepHistory
        shelf = Shelf(Book(limits: limits, fileName: fileName))
    }

    /// Applies one event. `symbols` is the reader's table (it names units).
    public mutating func apply(_ event: TraceEvent, symbols: SymbolTable) throws(TraceError) -> ReplayStep {
        try applyEvent(event, symbols)
        return ReplayStep(index: eventCount, event: event, touches: touches)
    }

    /// ``apply(_:symbols:)``, whose step takes the touches' storage instead
    /// of sharing it: a shared array is retained for the step, released
    /// after it, and checked for sharing when the next event empties it.
    /// Give the storage back with ``returnTouches(of:)`` once done with the
    /// step.
    mutating func applyLendingTouches(_ event: TraceEvent, symbols: SymbolTable) throws(TraceError) -> ReplayStep {
        try applyEvent(event, symbols)
        var lent: [EntryTouch] = []
        swap(&lent, &touches)
        return ReplayStep(index: eventCount, event: event, touches: lent)
    }

    /// Takes back the touches' storage lent to `step` by
    /// ``applyLendingTouches(_:symbols:)``.
    mutating func returnTouches(of step: consuming ReplayStep) {
        touches = step.touches
    }

    /// Applies `write`, a store, and returns true when it touches no
    /// reachable entry: most stores of a trace, whose step would be empty.
    /// When it touches one, does nothing and returns false; ``apply(_:symbols:)``
    /// then replays it.
    @inline(__always) mutating func applyQuietStore(_ write: MemoryWrite, _ event: TraceEvent) throws(TraceError) -> Bool {
        // Within one memory page (and so one 4 KiB page) and on no table.
        guard Int(write.addr & UInt64(SparseMemory.pageSize - 1)) + Int(write.size) <= SparseMemory.pageSize,
              shelf.book.largeTables.isEmpty else { return false }
        // One lookup finds the page, whether it lies in a frame holding a
        // table, and whether the device view has its own copy yet
        // (``preserveDeviceView(_:_:)``, which marks the pages it copies).
        // A page made here for a store that is not quiet is made by that
        // store anyway.
        let page = memory.page(holding: write.addr)
        guard !page.onTable else { return false }
        beginEvent()
        if anyNonCoherent && !page.marked {
            copyPageToDeviceView(write.addr & ~UInt64(SparseMemory.pageSize - 1))
            memory.mark(page: page.base)
        }
        memory.write(inPage: page.base, addr: write.addr, size: Int(write.size), value: write.value)
        try checkPages(event)
        return true
    }

    /// Applies one event without building its step. `symbols` names units
    /// and tables: memory events (`store`, `init`, `flush`, `fence`) never
    /// read it, so ``noSymbols`` will do for them.
    mutating func applyEvent(_ event: TraceEvent, _ symbols: SymbolTable) throws(TraceError) {
        beginEvent()
        switch event.payload {
        case .iommu(let declaration):
            let u = try unit(declaration.id, symbols, event, declaring: true)
            if let line = units[u].declaredAt {
                // A unit that changed its capabilities mid-trace would
                // silently change what earlier updates needed: a second
                // recording pasted on, or a typo, never the hardware.
                guard units[u].coherent == declaration.coherent, units[u].cachingMode == declaration.cachingMode else {
                    throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                                     message: "unit \(units[u].name) is declared again with other capabilities "
                                         + "(line \(line) declared coherent=\(units[u].coherent ? 1 : 0) "
                                         + "caching-mode=\(units[u].cachingMode ? 1 : 0))")
                }
            }
            units[u].declaredAt = event.line
            anyUnitDeclared = true
            units[u].coherent = declaration.coherent
            units[u].cachingMode = declaration.cachingMode
            if !declaration.coherent { anyNonCoherent = true }
        case .root(let addr, let mode):
            let u = try unit(event.unit, symbols, event)
            if let old = units[u].rootInstance { unlink(old) }
            units[u].root = addr
            units[u].mode = mode
            let root = TableInstance(unit: u, kind: .root, base: addr, count: 256, entrySize: 16,
                                     fetchSize: Layout.vtdChunk, presentBit: 0)
            units[u].rootInstance = try link(root, event)
        case .table(let declaration):
            let u = try unit(event.unit, symbols, event)
            let label = declaration.name.map { symbols[$0] }
            _ = try link(TableInstance(declaration: declaration, unit: u, label: label), event)
        case .initialize(let write):
            try applyInit(write, event)
        case .store(let write):
            try applyStore(write, event)
        case .flush(let flush):
            try applyFlush(flush, event)
        case .fetch(let read):
            try applyFetch(read, event, symbols)
        case .inval(let request):
            _ = try unit(event.unit, symbols, event)
            if !request.isDefinedByVTd { noteUndefined(request, event) }
        case .wait:
            _ = try unit(event.unit, symbols, event)
        case .begin, .end, .mark, .fence:
            break
        }
    }

    /// Counts the event and clears what the last one left: its touches, and
    /// the ids of tables it unlinked, free from now on.
    @inline(__always) private mutating func beginEvent() {
        eventCount += 1
        touches.empty()
        if !shelf.book.unlinkedTableIDs.isEmpty {
            book.freeTableIDs.append(contentsOf: shelf.book.unlinkedTableIDs)
            book.unlinkedTableIDs.removeAll(keepingCapacity: true)
        }
    }

    /// A request VT-d does not define, which the trace format reads: a
    /// diagnostic, since it covers nothing.
    @inline(never) private mutating func noteUndefined(_ request: Invalidation, _ event: TraceEvent) {
        guard let why = request.undefinedByVTd, shelf.book.diagnostics.count < 1000 else { return }
        book.diagnostics.append(ReplayDiagnostic(event: eventCount, line: event.line, message: why))
    }

    // MARK: - Units

    /// The index of the unit `symbol` names, made on its first use.
    ///
    /// Once the trace has declared a unit, an event may name only declared
    /// ones: a misspelt `unit=` (or a missing one, which names `iommu0`)
    /// would otherwise make a coherent unit of its own, and the
    /// invalidations sent to it would silently cover nothing.
    private mutating func unit(_ symbol: Symbol, _ symbols: SymbolTable, _ event: TraceEvent,
                               declaring: Bool = false) throws(TraceError) -> Int {
        if let u = unitIndex(of: symbol) {
            if declaring || !anyUnitDeclared || units[u].declaredAt != nil { return u }
        } else if declaring || !anyUnitDeclared {
            return try addUnit(symbol, symbols, event)
        }
        let declared = units.filter { $0.declaredAt != nil }.map(\.name).joined(separator: ", ")
        let named = symbol == .defaultUnit ? "unit \(symbols[symbol]) (the default `unit=`)" : "unit \(symbols[symbol])"
        throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                         message: "\(named) is not declared by an `iommu` line (declared: \(declared))")
    }

    private mutating func addUnit(_ symbol: Symbol, _ symbols: SymbolTable, _ event: TraceEvent) throws(TraceError) -> Int {
        guard units.count < TraceLimits.maxUnits else {
            throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                             message: "more than \(TraceLimits.maxUnits) units")
        }
        units.append(UnitState(name: symbols[symbol], symbol: symbol))
        let i = Int(symbol.index)
        let known = shelf.book.unitOfSymbol.count
        if known <= i { book.unitOfSymbol.append(contentsOf: repeatElement(0, count: i + 1 - known)) }
        book.unitOfSymbol[i] = UInt16(units.count)
        return units.count - 1
    }

    /// The index of the unit named by `symbol`, if the trace has used it.
    public func unitIndex(of symbol: Symbol) -> Int? {
        let i = Int(symbol.index)
        guard i < shelf.book.unitOfSymbol.count, shelf.book.unitOfSymbol[i] != 0 else { return nil }
        return Int(shelf.book.unitOfSymbol[i]) - 1
    }

    // MARK: - Memory events

    /// Memory before the trace: exposes nothing (no touch), but a pointer it
    /// writes into a reachable table links what it points to.
    private mutating func applyInit(_ write: MemoryWrite, _ event: TraceEvent) throws(TraceError) {
        findHits(write.addr, UInt64(write.size))
        try checkStoreHits(event)
        if hits.isEmpty {
            initialize(write)
            try checkPages(event)
            return
        }
        beforeValues.empty()
        for hit in hits { beforeValues.append(deviceEntry(hit.table, hit.index)) }
        if keepHistory {
            cpuBeforeValues.empty()
            for hit in hits { cpuBeforeValues.append(cpuEntry(hit.table, hit.index)) }
        }
        initialize(write)
        try checkPages(event)
        // An entry already seen changes for the CPU and the unit alike.
        if keepHistory {
            for k in hits.indices {
                let hit = hits[k]
                guard let record = shelf.book.tableEntryRecords[hit.table].get(UInt64(hit.index)) else { continue }
                note(.cpu, record, cpuBefore: cpuBeforeValues[k], deviceBefore: beforeValues[k],
                     cpu: cpuEntry(hit.table, hit.index), device: deviceEntry(hit.table, hit.index))
            }
        }
        for k in hits.indices {
            let hit = hits[k]
            let before = beforeValues[k]
            try relink(hit.table, hit.index, before, deviceEntry(hit.table, hit.index), event)
        }
    }

    /// Writes memory as it was before the trace, for the CPU and the units
    /// alike. A device page that does not exist reads from CPU memory, so only
    /// existing ones need the bytes.
    private mutating func initialize(_ write: MemoryWrite) {
        memory.write(addr: write.addr, size: Int(write.size), value: write.value)
        guard anyNonCoherent else { return }
        var v = write.value
        for i in 0..<UInt64(write.size) {
            let a = write.addr &+ i
            if shelf.book.deviceMemory.hasPage(a) { book.deviceMemory.write(addr: a, size: 1, value: v & 0xff) }
            v >>= 8
        }
    }

    private mutating func applyStore(_ write: MemoryWrite, _ event: TraceEvent) throws(TraceError) {
        // A store within one page (nearly all): one lookup of the page, as
        // for quiet stores, says whether the device view has its copy yet
        // (its mark), and serves the reads before the store (the last page
        // looked up) and the write.
        var pageBase: Int?
        if Int(write.addr & UInt64(SparseMemory.pageSize - 1)) + Int(write.size) <= SparseMemory.pageSize {
            let page = memory.page(holding: write.addr)
            if anyNonCoherent && !page.marked { preserveDeviceView(write.addr, UInt64(write.size)) }
            pageBase = page.base
        } else if anyNonCoherent {
            preserveDeviceView(write.addr, UInt64(write.size))
        }
        findHits(write.addr, UInt64(write.size))
        if hits.isEmpty {
            storeBytes(write, inPage: pageBase)
            try checkPages(event)
            return
        }
        try checkStoreHits(event)
        // Every hit is of a live table (nothing has unlinked one since
        // `findHits`) and makes one touch: made here with the value before
        // the store, completed in place after it. Kept in separate values
        // and copied into the touch, the entry values were moved between
        // registers and the stack several times over.
        for k in hits.indices {
            let before = cpuEntry(hits[k].table, hits[k].index)
            touches.append(EntryTouch(entry: 0, bytes: 0..<0, before: before, after: before, device: before))
        }
        storeBytes(write, inPage: pageBase)
        try checkPages(event)
        for k in hits.indices {
            let hit = hits[k]
            let table = shelf.book.geometry[hit.table]
            let record = try entryRecord(hit.table, hit.index, event)
            entries[record].lastEvent = eventCount
            let coherent = units[table.unit].coherent
            touches[k].entry = record
            touches[k].bytes = byteRange(table, hit.index, write.addr, UInt64(write.size))
            touches[k].after = cpuEntry(hit.table, hit.index)
            touches[k].device = coherent ? touches[k].after : deviceEntry(hit.table, hit.index)
            if touches[k].after != touches[k].before {
                entries[record].changes += 1
                if keepHistory {
                    note(.cpu, record, cpuBefore: touches[k].before,
                         deviceBefore: coherent ? touches[k].before : touches[k].device,
                         cpu: touches[k].after, device: touches[k].device)
                }
            }
        }
        // Relink after attributing: the store hit every entry it covers, even
        // one whose table its own pointer change unlinks.
        for k in hits.indices {
            let hit = hits[k]
            // An earlier hit's relink may have unlinked this table.
            let table = shelf.book.geometry[hit.table]
            guard table.live, units[table.unit].coherent, table.isPointerTable else { continue }
            try relink(hit.table, hit.index, touches[k].before, cpuEntry(hit.table, hit.index), event)
        }
    }

    /// Writes the bytes of `write` to CPU memory; `base` is the storage
    /// offset of its page when the store lies within one.
    @inline(__always) private mutating func storeBytes(_ write: MemoryWrite, inPage base: Int?) {
        if let base {
            memory.write(inPage: base, addr: write.addr, size: Int(write.size), value: write.value)
        } else {
            memory.write(addr: write.addr, size: Int(write.size), value: write.value)
        }
    }

    private mutating func applyFlush(_ flush: CacheFlush, _ event: TraceEvent) throws(TraceError) {
        // Whole 64-byte lines reach memory.
        let first = flush.addr & ~63
        let last = (flush.addr &+ max(flush.size, 1) &- 1) | 63
        let size = last &- first &+ 1
        guard anyNonCoherent else {
            findHits(first, size)
            try touchForRead(event, unitFilter: nil, nonCoherentOnly: false)
            return
        }
        findHits(first, size)
        beforeValues.empty()
        for k in hits.indices { beforeValues.append(deviceEntry(hits[k].table, hits[k].index)) }
        let copied = Int(min(size, TraceLimits.maxAccessSize + 128))
        book.deviceMemory.copy(from: memory, addr: first, size: copied)
        // The copy made a device page wherever CPU memory has one.
        var page = first & ~UInt64(SparseMemory.pageSize - 1)
        while page < first &+ UInt64(copied) && page >= first & ~UInt64(SparseMemory.pageSize - 1) {
            memory.markIfPresent(page)
            page &+= UInt64(SparseMemory.pageSize)
        }
        for k in hits.indices {
            let hit = hits[k]
            let table = shelf.book.geometry[hit.table]
            guard table.live else { continue }
            let record = try entryRecord(hit.table, hit.index, event)
            entries[record].lastEvent = eventCount
            let cpu = cpuEntry(hit.table, hit.index)
            // Coherent units' entries are reported too: a flush is harmless there.
            let coherent = units[table.unit].coherent
            let device = coherent ? cpu : deviceEntry(hit.table, hit.index)
            if keepHistory { note(.device, record, cpuBefore: cpu, deviceBefore: beforeValues[k], cpu: cpu, device: device) }
            touches.append(EntryTouch(entry: record, bytes: byteRange(table, hit.index, first, size),
                                      before: cpu, after: cpu, device: device))
        }
        for k in hits.indices {
            let hit = hits[k]
            let table = shelf.book.geometry[hit.table]
            guard table.live, !units[table.unit].coherent, table.isPointerTable else { continue }
            let before = beforeValues[k]
            try relink(hit.table, hit.index, before, deviceEntry(hit.table, hit.index), event)
        }
    }

    private mutating func applyFetch(_ read: MemoryRead, _ event: TraceEvent, _ symbols: SymbolTable) throws(TraceError) {
        let u = try unit(event.unit, symbols, event)
        if let recorded = read.value {
            let seen = units[u].coherent ? memory.read(addr: read.addr, size: Int(read.size)) : deviceRead(read.addr, Int(read.size))
            if seen != recorded && shelf.book.diagnostics.count < 1000 {
                book.diagnostics.append(ReplayDiagnostic(
                    event: eventCount, line: event.line,
                    message: "fetch at \(hex(read.addr)) recorded \(hex(recorded)) but replayed memory holds \(hex(seen)): the trace lost a store, or the recorder is wrong"))
            }
        }
        findHits(read.addr, read.size)
        try touchForRead(event, unitFilter: u, nonCoherentOnly: false)
    }

    /// Stops the replay once stores have written more pages than the limit.
    /// Only CPU memory is counted: a non-coherent unit's copy holds a page
    /// only where CPU memory has one.
    @inline(__always) private func checkPages(_ event: TraceEvent) throws(TraceError) {
        guard memory.pageCount <= shelf.book.limits.pages else {
            throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                             message: "more than \(shelf.book.limits.pages) memory pages of \(SparseMemory.pageSize) bytes written (raise the limit with --max-pages)")
        }
    }

    @inline(__always) private func checkStoreHits(_ event: TraceEvent) throws(TraceError) {
        guard hits.count <= shelf.book.limits.touchesPerStore else {
            throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                             message: "one \(event.kind.name) touches more than \(shelf.book.limits.touchesPerStore) table entries (tables overlap here)")
        }
    }

    private mutating func touchForRead(_ event: TraceEvent, unitFilter: Int?, nonCoherentOnly: Bool) throws(TraceError) {
        guard hits.count <= shelf.book.limits.touchesPerEvent else {
            throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                             message: "one \(event.kind.name) touches more than \(shelf.book.limits.touchesPerEvent) table entries")
        }
        for k in hits.indices {
            let hit = hits[k]
            let table = shelf.book.geometry[hit.table]
            guard table.live else { continue }
            if let unitFilter, table.unit != unitFilter { continue }
            let record = try entryRecord(hit.table, hit.index, event)
            entries[record].lastEvent = eventCount
            let cpu = cpuEntry(hit.table, hit.index)
            let device = units[table.unit].coherent ? cpu : deviceEntry(hit.table, hit.index)
            let bytes: Range<Int>
            switch event.payload {
            case .fetch(let r): bytes = byteRange(table, hit.index, r.addr, r.size)
            case .flush(let f):
                let first = f.addr & ~63
                bytes = byteRange(table, hit.index, first, ((f.addr &+ max(f.size, 1) &- 1) | 63) &- first &+ 1)
            default: bytes = 0..<table.entrySize
            }
            touches.append(EntryTouch(entry: record, bytes: bytes, before: cpu, after: cpu, device: device))
        }
    }

    /// Before the first store to a page, the device view keeps the page as
    /// it was.
    private mutating func preserveDeviceView(_ addr: UInt64, _ size: UInt64) {
        var page = addr >> SparseMemory.pageShift
        let last = (addr &+ size &- 1) >> SparseMemory.pageShift
        while true {
            let base = page << SparseMemory.pageShift
            if !shelf.book.deviceMemory.hasPage(base) {
                copyPageToDeviceView(base)
                // The CPU page too (the store makes it next): its mark says
                // the device page exists, for the quiet stores' one lookup.
                memory.mark(page: memory.page(holding: base).base)
            }
            if page == last { break }
            page &+= 1
        }
    }

    /// Gives the device view its own copy of the page at `base`, as CPU
    /// memory holds it now.
    private mutating func copyPageToDeviceView(_ base: UInt64) {
        book.deviceMemory.write(addr: base, size: 1, value: 0)  // creates the page
        book.deviceMemory.copy(from: memory, addr: base, size: SparseMemory.pageSize)
    }

    /// `size` bytes at `addr` as a non-coherent unit reads them, least
    /// significant first (see ``SparseMemory/read(addr:size:)``).
    private func deviceRead(_ addr: UInt64, _ size: Int) -> UInt128 {
        if Int(addr & UInt64(SparseMemory.pageSize - 1)) + size <= SparseMemory.pageSize {
            // Within one page: all from the device view's page, if it has one.
            let view = shelf.book.deviceMemory.hasPage(addr) ? shelf.book.deviceMemory : memory
            return view.read(addr: addr, size: size)
        }
        var v: UInt128 = 0
        for i in stride(from: size - 1, through: 0, by: -1) { v = v << 8 | UInt128(deviceByte(addr &+ UInt64(i))) }
        return v
    }

    private func deviceByte(_ a: UInt64) -> UInt8 {
        shelf.book.deviceMemory.hasPage(a) ? shelf.book.deviceMemory.byte(a) : memory.byte(a)
    }

    // MARK: - Entries

    @inline(__always) private func cpuEntry(_ table: Int, _ index: Int) -> EntryValue {
        let t = shelf.book.geometry[table]
        guard t.live else { return EntryValue() }
        return memory.entry(addr: t.entryAddress(index), size: min(t.entrySize, EntryValue.maxSize))
    }

    @inline(__always) private func deviceEntry(_ table: Int, _ index: Int) -> EntryValue {
        let t = shelf.book.geometry[table]
        guard t.live else { return EntryValue() }
        if units[t.unit].coherent { return cpuEntry(table, index) }
        let addr = t.entryAddress(index)
        if addr >> SparseMemory.pageShift == (addr &+ UInt64(t.entrySize - 1)) >> SparseMemory.pageShift {
            // Within one page (every VT-d entry): the device view's page if
            // it has one, else every byte is CPU memory's.
            let size = min(t.entrySize, EntryValue.maxSize)
            return shelf.book.deviceMemory.entryIfPresent(inPage: addr, size: size) ?? memory.entry(addr: addr, size: size)
        }
        return deviceEntryAcrossPages(t, addr)
    }

    /// ``deviceEntry(_:_:)`` of an entry on two pages, out of line so that
    /// the common case inlines.
    @inline(never) private func deviceEntryAcrossPages(_ t: TableGeometry, _ addr: UInt64) -> EntryValue {
        if shelf.book.deviceMemory.hasPage(addr) && shelf.book.deviceMemory.hasPage(addr &+ UInt64(t.entrySize - 1)) {
            return shelf.book.deviceMemory.entry(addr: addr, size: min(t.entrySize, EntryValue.maxSize))
        }
        var value = EntryValue()
        for i in 0..<min(t.entrySize, EntryValue.maxSize) { value.setByte(i, deviceByte(addr &+ UInt64(i))) }
        return value
    }

    /// The value the unit would read for entry `record` now.
    public func deviceValue(of record: Int) -> EntryValue {
        let r = entries[record]
        let size = min(r.size, EntryValue.maxSize)
        if units[r.unit].coherent { return memory.entry(addr: r.addr, size: size) }
        var value = EntryValue()
        for i in 0..<size { value.setByte(i, deviceByte(r.addr &+ UInt64(i))) }
        return value
    }

    /// What the unit sees at entry `record`: its value now while it is
    /// reachable, else the last value it could read before its table was
    /// unlinked (stores to those bytes afterwards are not the entry's).
    public func lastVisibleValue(of record: Int) -> EntryValue {
        entries[record].reachable ? deviceValue(of: record) : shelf.book.unlinked[record]?.value ?? EntryValue()
    }

    /// The entry with `identity` as the unit would read it now, from the
    /// reachable table that gives it, whether or not anything touched it;
    /// nil when no reachable table gives it.
    public func reachableEntry(_ identity: EntryIdentity)
        -> (addr: UInt64, value: EntryValue, size: Int, mode: TranslationMode)? {
        for (id, table) in shelf.book.tables.enumerated() {
            guard let table, units[table.unit].name == identity.unit, let index = table.index(of: identity) else { continue }
            return (table.entryAddress(index), deviceEntry(id, index), table.entrySize, units[table.unit].mode)
        }
        return nil
    }

    /// The value the CPU has written to entry `record` by now.
    public func cpuValue(of record: Int) -> EntryValue {
        let r = entries[record]
        return memory.entry(addr: r.addr, size: min(r.size, EntryValue.maxSize))
    }

    @inline(__always) private func byteRange(_ table: TableGeometry, _ index: Int, _ addr: UInt64, _ size: UInt64) -> Range<Int> {
        let entryStart = table.entryAddress(index)
        let entryEnd = entryStart &+ UInt64(table.entrySize)
        let lo = max(addr, entryStart)
        let hi = min(addr &+ size, entryEnd)
        guard hi > lo else { return 0..<0 }
        return Int(lo - entryStart)..<Int(hi - entryStart)
    }

    /// The record of entry `index` of `table`, made if the replay has not
    /// seen the entry there yet. The lookup is inlined: as a call, every
    /// entry value the caller held was saved and reloaded around it.
    @inline(__always) private mutating func entryRecord(_ table: Int, _ index: Int, _ event: TraceEvent) throws(TraceError) -> Int {
        if let r = shelf.book.tableEntryRecords[table].get(UInt64(index)) { return r }
        return try newEntryRecord(table, index, event)
    }

    /// ``entryRecord(_:_:_:)`` of an entry not seen in `table` before.
    @inline(never) private mutating func newEntryRecord(_ table: Int, _ index: Int, _ event: TraceEvent) throws(TraceError) -> Int {
        guard let t = shelf.book.tables[table] else { return 0 }
        var label: UInt32 = 0
        if t.kind == .generic, let name = t.label { label = labelNumber(name) }
        let key = t.entryKey(index, label: label)
        let record: Int
        if let existing = shelf.book.recordOfKey[key] {
            // Seen from another table that gives the same identity.
            record = Int(existing)
            if entries[record].reachable {
                entries[record].addr = t.entryAddress(index)
            } else {
                reattach(record, table, index)
            }
        } else {
            guard entries.count < shelf.book.limits.entries else {
                throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                                 message: "more than \(shelf.book.limits.entries) table entries tracked (raise the limit with --max-entries)")
            }
            record = entries.count
            entries.append(EntryRecord(identity: t.identity(index, unitName: units[t.unit].name), unit: t.unit, addr: t.entryAddress(index), size: t.entrySize,
                                       fetchSize: t.fetchSize, presentBit: t.presentBit, mode: units[t.unit].mode,
                                       firstEvent: eventCount, lastEvent: eventCount))
            book.recordOfKey[key] = Int32(record)
        }
        book.tableEntryRecords[table].set(UInt64(index), record)
        return record
    }

    /// Makes entry `record`, unlinked until now, reachable again as entry
    /// `index` of `table`: its address is there, and what the unit sees at
    /// its identity is read from there.
    private mutating func reattach(_ record: Int, _ table: Int, _ index: Int) {
        guard let t = shelf.book.tables[table] else { return }
        book.tableEntryRecords[table].set(UInt64(index), record)
        entries[record].addr = t.entryAddress(index)
        entries[record].unlinkedAt = nil
        var last = EntryValue()
        if let gone = book.unlinked.removeValue(forKey: record) {
            last = gone.value
            book.unlinkedBySlot[gone.slot]?[gone.index] = nil
            if shelf.book.unlinkedBySlot[gone.slot]?.isEmpty == true { book.unlinkedBySlot[gone.slot] = nil }
        }
        if keepHistory {
            note(.link, record, cpuBefore: last, deviceBefore: last, cpu: cpuEntry(table, index),
                 device: deviceEntry(table, index), always: true)
        }
    }

    /// Adds a change made by the current event to the history of `record`
    /// (see ``EntryHistory``).
    private mutating func note(_ kind: EntryChangeKind, _ record: Int, cpuBefore: EntryValue, deviceBefore: EntryValue,
                               cpu: EntryValue, device: EntryValue, always: Bool = false) {
        entries[record].history.append(kind, event: eventCount, cpuBefore: cpuBefore, deviceBefore: deviceBefore,
                                       cpu: cpu, device: device, always: always)
    }

    /// The entry with this identity, if the replay has seen it.
    public func entry(identity: EntryIdentity) -> Int? {
        guard let unit = units.firstIndex(where: { $0.name == identity.unit }) else { return nil }
        var key = EntryKey(unit: UInt16(truncatingIfNeeded: unit), kind: identity.kind, bus: identity.bus ?? 0,
                           sid: identity.sid ?? 0, pasid: identity.pasid ?? 0, index: identity.index ?? 0)
        if let table = identity.table {
            guard let label = shelf.book.labelNumbers[table] else { return nil }
            key.label = label
        }
        return shelf.book.recordOfKey[key].map(Int.init)
    }

    private mutating func labelNumber(_ label: String) -> UInt32 {
        if let n = shelf.book.labelNumbers[label] { return n }
        let n = UInt32(shelf.book.labelNumbers.count + 1)
        book.labelNumbers[label] = n
        return n
    }

    /// The reachable entries that start at `addr` (for `begin`/`end`).
    public mutating func entries(startingAt addr: UInt64, event: TraceEvent) throws(TraceError) -> [Int] {
        findHits(addr, 1)
        var result: [Int] = []
        for hit in hits {
            guard let t = shelf.book.tables[hit.table], t.entryAddress(hit.index) == addr else { continue }
            result.append(try entryRecord(hit.table, hit.index, event))
        }
        return result
    }

    // MARK: - Tables and the walk

    @inline(__always) private mutating func findHits(_ addr: UInt64, _ size: UInt64) {
        hits.empty()
        guard size > 0 else { return }
        let end = addr &+ (size - 1)
        var page = addr >> 12
        let lastPage = end >> 12
        if page == lastPage {
            // Nearly every event: one page, looked up once (most hold no
            // table).
            if let li = shelf.book.pageTableIndex.get(page) {
                for j in shelf.book.pageTableLists[li].indices { addHits(shelf.book.pageTableLists[li][j], addr, end) }
            }
            for j in shelf.book.largeTables.indices { addHits(shelf.book.largeTables[j], addr, end) }
            return
        }
        while true {
            if let li = shelf.book.pageTableIndex.get(page) {
                for j in shelf.book.pageTableLists[li].indices {
                    let t = shelf.book.pageTableLists[li][j]
                    // A table on several pages is in each page's list; its
                    // hits are the same from every page.
                    if page != addr >> 12, hits.contains(where: { $0.table == t }) { continue }
                    addHits(t, addr, end)
                }
            }
            if page == lastPage { break }
            page &+= 1
        }
        for j in shelf.book.largeTables.indices { addHits(shelf.book.largeTables[j], addr, end) }
    }

    /// Inlined into `findHits`: called once per table on the event's page,
    /// as a call it cost a fifth of the lookup.
    @inline(__always) private mutating func addHits(_ t: Int, _ addr: UInt64, _ end: UInt64) {
        let table = shelf.book.geometry[t]
        guard table.live else { return }
        let tableEnd = table.base &+ (table.byteCount - 1)
        guard addr <= tableEnd, end >= table.base else { return }
        let lo = max(addr, table.base)
        let hi = min(end, tableEnd)
        let first = Int((lo - table.base) / UInt64(table.entrySize))
        let last = Int((hi - table.base) / UInt64(table.entrySize))
        for index in first...last { hits.append((t, index)) }
    }

    private mutating func link(_ table: TableInstance, _ event: TraceEvent) throws(TraceError) -> Int {
        var table = table
        // A table that would run past the top of the address space ends
        // there: its entries beyond it do not exist (addresses never wrap).
        let room = UInt64.max - table.base
        if table.byteCount - 1 > room {
            let fit = (room + 1) / UInt64(table.entrySize)
            guard fit > 0 else {
                throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                                 message: "table at \(hex(table.base)) has no whole entry below the top of the address space")
            }
            table.count = Int(fit)
            if shelf.book.diagnostics.count < 1000 {
                book.diagnostics.append(ReplayDiagnostic(
                    event: eventCount, line: event.line,
                    message: "table at \(hex(table.base)) runs past the top of the address space: only its first \(fit) entries exist"))
            }
        }
        let key = table.key
        if let existing = shelf.book.liveTables[key] {
            book.tableRefs[existing] += 1
            if table.declared { book.tables[existing]?.declared = true }
            return existing
        }
        guard shelf.book.liveTableCount < shelf.book.limits.tables else {
            throw TraceError(file: shelf.book.fileName, location: .line(event.line, column: 1),
                             message: "more than \(shelf.book.limits.tables) tables reachable at once (raise the limit with --max-tables)")
        }
        let id: Int
        if let free = book.freeTableIDs.popLast() {
            id = free
            book.tables[id] = table
            book.geometry[id] = TableGeometry(table)
            book.tableRefs[id] = 1
        } else {
            id = shelf.book.tables.count
            book.tables.append(table)
            book.geometry.append(TableGeometry(table))
            book.tableRefs.append(1)
            book.tableChildren.append([:])
            book.tableEntryRecords.append(.unallocated)
        }
        book.liveTables[key] = id
        book.liveSlots[table.slot, default: []].append(id)
        book.liveTableCount += 1
        let firstPage = table.base >> 12
        let lastPage = (table.base &+ (table.byteCount - 1)) >> 12
        if lastPage - firstPage >= 64 {
            book.largeTables.append(id)
        } else {
            for page in firstPage...lastPage {
                if let li = shelf.book.pageTableIndex.get(page) {
                    book.pageTableLists[li].append(id)
                    continue
                }
                let li: Int
                if let free = book.freePageLists.popLast() {
                    book.pageTableLists[free] = [id]
                    li = free
                } else {
                    book.pageTableLists.append([id])
                    li = shelf.book.pageTableLists.count - 1
                }
                book.pageTableIndex.set(page, li)
                memory.setHoldsTable(frame: page, true)
            }
        }
        // Entries seen before at this table's identities and unlinked since
        // (a table linked again, a device moved back) are reachable again.
        if !shelf.book.unlinkedBySlot.isEmpty, let known = shelf.book.unlinkedBySlot[table.slot] {
            for (index, record) in known where index < table.count { reattach(record, id, index) }
        }
        // What the table holds at linking is its state from now on: walk it.
        if table.isPointerTable {
            let mode = units[table.unit].mode
            var index = 0
            while index < table.count {
                defer { index += 1 }
                let addr = table.entryAddress(index)
                guard memory.hasPage(addr) else {
                    // Nothing was ever written on this memory page: on to the
                    // first entry of the next (a 16384-entry PASID directory
                    // is walked page by page, not entry by entry).
                    let next = (addr | UInt64(SparseMemory.pageSize - 1)) &+ 1
                    if next == 0 { break }
                    index += Int((next - addr - 1) / UInt64(table.entrySize))
                    continue
                }
                let value = deviceEntry(id, index)
                guard value[0] & 1 == 1 || (table.kind == .root && value[1] & 1 == 1) else { continue }
                var children: [Int] = []
                for child in table.children(of: index, value: value, mode: mode) {
                    children.append(try link(child, event))
                }
                if !children.isEmpty { book.tableChildren[id][index] = children }
            }
        }
        return id
    }

    private mutating func unlink(_ id: Int) {
        guard let table = shelf.book.tables[id], !table.declared else { return }
        book.tableRefs[id] -= 1
        guard shelf.book.tableRefs[id] == 0 else { return }
        book.liveTables[table.key] = nil
        book.liveTableCount -= 1
        let firstPage = table.base >> 12
        let lastPage = (table.base &+ (table.byteCount - 1)) >> 12
        if lastPage - firstPage >= 64 {
            book.largeTables.removeAll { $0 == id }
        } else {
            for page in firstPage...lastPage {
                guard let li = shelf.book.pageTableIndex.get(page) else { continue }
                book.pageTableLists[li].removeAll { $0 == id }
                if shelf.book.pageTableLists[li].isEmpty {
                    book.pageTableIndex.remove(page)
                    memory.setHoldsTable(frame: page, false)
                    book.freePageLists.append(li)
                }
            }
        }
        let slot = table.slot
        book.liveSlots[slot]?.removeAll { $0 == id }
        let others = shelf.book.liveSlots[slot] ?? []
        if others.isEmpty { book.liveSlots[slot] = nil }
        // An entry whose identity another live table still gives (the new
        // table of a device being moved) stays reachable, at its new address.
        // An entry no table gives any more keeps what the unit could read
        // last: its final value, whatever is stored to those bytes later.
        for (key, record) in shelf.book.tableEntryRecords[id].pairs {
            let index = Int(key)
            if let other = others.first(where: { shelf.book.tables[$0].map { index < $0.count } ?? false }), let t = shelf.book.tables[other] {
                book.tableEntryRecords[other].set(key, record)
                entries[record].addr = t.entryAddress(index)
                if keepHistory {
                    note(.link, record, cpuBefore: cpuEntry(id, index), deviceBefore: deviceEntry(id, index),
                         cpu: cpuEntry(other, index), device: deviceEntry(other, index))
                }
            } else {
                let seen = deviceEntry(id, index)
                entries[record].unlinkedAt = eventCount
                book.unlinked[record] = (slot, index, seen)
                book.unlinkedBySlot[slot, default: [:]][index] = record
                if keepHistory {
                    note(.unlink, record, cpuBefore: cpuEntry(id, index), deviceBefore: seen, cpu: cpuEntry(id, index),
                         device: seen, always: true)
                }
            }
        }
        let children = shelf.book.tableChildren[id]
        book.tables[id] = nil
        book.geometry[id] = TableGeometry()
        book.tableChildren[id] = [:]
        book.tableEntryRecords[id] = .unallocated
        // Reused from the next event on: within one event, an id names one table.
        book.unlinkedTableIDs.append(id)
        for list in children.values { for child in list { unlink(child) } }
    }

    private mutating func relink(_ id: Int, _ index: Int, _ before: EntryValue, _ after: EntryValue,
                                 _ event: TraceEvent) throws(TraceError) {
        // The cheap test first: a copy of the table retains its label.
        guard before != after, let table = shelf.book.tables[id], table.isPointerTable else { return }
        let mode = units[table.unit].mode
        let wanted = table.children(of: index, value: after, mode: mode)
        let old = shelf.book.tableChildren[id][index] ?? []
        if wanted.map(\.key) == old.compactMap({ shelf.book.tables[$0]?.key }) { return }
        var linked: [Int] = []
        for child in wanted { linked.append(try link(child, event)) }
        for child in old { unlink(child) }
        book.tableChildren[id][index] = linked.isEmpty ? nil : linked
    }

    /// Pages held for the device view of non-coherent units.
    public var devicePageCount: Int { shelf.book.deviceMemory.pageCount }

    /// Table slots ever allocated (reachable ones and reusable ones): bounded
    /// by the tables reachable at once, not by the events.
    var tableSlotsAllocated: Int { shelf.book.tables.count }

    /// Every reachable table.
    public var reachableTables: [TableInstance] { shelf.book.tables.compactMap { $0 } }

    /// Every reachable entry whose device-visible value is not zero, with its
    /// identity, address and value: what the unit would find now.
    public func visibleEntries() -> [(identity: EntryIdentity, addr: UInt64, value: EntryValue, size: Int, mode: TranslationMode)] {
        var result: [(EntryIdentity, UInt64, EntryValue, Int, TranslationMode)] = []
        for (id, table) in shelf.book.tables.enumerated() {
            guard let table else { continue }
            for index in 0..<table.count {
                let addr = table.entryAddress(index)
                guard memory.hasPage(addr) || shelf.book.deviceMemory.hasPage(addr) else { continue }
                let value = deviceEntry(id, index)
                if value.isZero { continue }
                result.append((table.identity(index, unitName: units[table.unit].name), addr, value,
                               table.entrySize, units[table.unit].mode))
            }
        }
        return result.sorted { $0.0 < $1.0 }
    }
}

/// The parts of a table the replay reads on every store, flush and fetch
/// that touches it (``TableInstance`` without its label).
struct TableGeometry {
    var unit = 0
    var base: UInt64 = 0
    var byteCount: UInt64 = 0
    var entrySize = 1
    /// A table has this id (it is reachable).
    var live = false
    /// Its entries point to tables (root, scalable context, PASID directory):
    /// a change may link or unlink some.
    var isPointerTable = false

    init() {}

    init(_ table: TableInstance) {
        unit = table.unit
        base = table.base
        byteCount = table.byteCount
        entrySize = table.entrySize
        live = true
        isPointerTable = table.isPointerTable
    }

    func entryAddress(_ index: Int) -> UInt64 { base &+ UInt64(index) * UInt64(entrySize) }
}

extension Array {
    /// Removes every element and keeps the storage, for the few-element
    /// arrays reused on every event: `removeAll(keepingCapacity:)` goes
    /// through the general `replaceSubrange` (some 75 instructions), one
    /// `removeLast` per element costs a few.
    @inline(__always) mutating func empty() {
        while !isEmpty { removeLast() }
    }
}
