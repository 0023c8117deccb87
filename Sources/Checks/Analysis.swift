import Replay
import TraceFormat

/// How to analyze a trace.
public struct AnalysisOptions: Sendable {
    /// Which reorderings of stores to assume.
    public var memoryModel: MemoryModel
    /// Which rules to run.
    public var rules: Set<Rule>
    /// What the replay may hold.
    public var limits: ReplayLimits
    /// Most findings in one trace; past it the analysis stops with an error.
    /// Findings grow with the trace, and reports of them take memory (SARIF
    /// about 40 KB a finding while it is written), so a short hostile trace
    /// must not make thousands. A driver with more races than this has one
    /// bug many times over; raise it (`--max-findings`) to see them all.
    public var maxFindings: Int

    /// The defaults: `tso`, every rule, the standard limits, 1000 findings.
    public init(memoryModel: MemoryModel = .tso, rules: Set<Rule> = Set(Rule.allCases),
                limits: ReplayLimits = .standard, maxFindings: Int = 1000) {
        self.memoryModel = memoryModel
        self.rules = rules
        self.limits = limits
        self.maxFindings = maxFindings
    }
}

/// What analyzing one trace gave.
public struct AnalysisResult: Sendable {
    /// The trace's name as given.
    public var trace: String
    /// Findings, ordered by their first event, then rule and entry.
    public var findings: [Finding]
    /// Problems with the trace itself (recorded fetches that disagree with
    /// replayed memory).
    public var diagnostics: [ReplayDiagnostic]
    /// Events read.
    public var events: Int
    /// Entries tracked.
    public var entries: Int
}

/// Runs every rule of CHECKS.md over one replay pass.
///
/// Feed it each ``ReplayStep`` with ``observe(_:replay:)``, then call
/// ``finish(replay:symbols:)``. The driver here follows each entry's updates
/// (CHECKS.md, "Update"); the rule analyzers, one per file named after its
/// rule, hook into it.
///
/// ```swift
/// let result = try Analysis.run(TraceReader(path: "trace.zst"))
/// for finding in result.findings { print(finding.rule, finding.message) }
/// ```
public struct Analysis {
    /// Most changes kept per update; past it the last one is replaced and
    /// findings say the bound was reached.
    public static let maxChangesPerUpdate = 64
    /// Most epochs waiting, per entry, for their updates to end.
    static let maxPendingPerEntry = 8
    /// Most consecutive updates of one entry whose exposed states are
    /// searched together (``UpdateChain``): their O and N must fit the
    /// torn-state search's ``TornSearch/maxMeant``.
    static let maxChainedUpdates = 4

    let options: AnalysisOptions
    /// ``AnalysisOptions/rules`` as bits, for the hot path.
    let enabledRules: UInt32
    let traceName: String
    var tracks: [EntryTrack] = []
    var findings: [PendingFinding] = []
    /// Device write barriers seen, per CPU: a store's epoch is its CPU and
    /// this count.
    var fenceGeneration: [UInt32: Int] = [:]
    /// Recent barriers that do not order stores for a device, per CPU.
    var weakBarriers: [UInt32: [EventRef]] = [:]
    /// Entries whose current weak-model epoch is on each CPU, so that a
    /// device write barrier closes (and frees) them at once.
    var openEpochs: [UInt32: Set<Int>] = [:]
    /// The last requirements computed for each entry with pending
    /// invalidation work (at most two), with what they were computed from.
    /// (Per entry, by index: a dictionary cost a hash on every visit.)
    var requirementMemo: [[RequirementMemo]] = []
    /// Which entries each invalidation and wait must visit.
    var interest = InvalidationInterest()
    /// Entries visited by invalidations and waits so far: tests check that
    /// requests concerning nothing pending cost nothing.
    var invalidationVisits = 0
    /// Per unit: entries changed since its last invalidation or wait.
    /// (By unit index; each list is emptied in place, its storage kept for
    /// the next changes.)
    var awaitingReindex: [[Int]] = []
    /// Findings (indices into ``findings``) raised before the update whose
    /// N they name had ended, with its entry and serial: the N is filled in
    /// when it ends (``HandshakeAnalyzer``).
    var findingsAwaitingNew: [(finding: Int, entry: Int, serial: Int)] = []
    /// Per unit (by replay index): waits seen so far. A chain of updates
    /// compares counts to learn whether a wait completed an invalidation.
    var waitsPerUnit: [Int] = []
    /// Emptied change lists of ended updates, for the updates that follow:
    /// most updates have one to three changes, and a list grown from
    /// empty reallocated on most of them.
    var spareChangeLists: [[Change]] = []
    /// The storage of the last list of entries an invalidation or wait
    /// visited, for the next one's (``takeVisitList()``).
    var visitList: [Int] = []

    /// An analysis of the trace named `traceName`.
    public init(traceName: String, options: AnalysisOptions = AnalysisOptions()) {
        self.traceName = traceName
        self.options = options
        enabledRules = options.rules.reduce(0) { $0 | $1.bit }
    }

    /// Reads, replays and analyzes every event of `reader` in one pass; the
    /// reading runs on a second thread unless `pipelined` is false. `progress`, when given, hears after
    /// every few thousand events how many were analyzed, the bytes taken from
    /// the file and the findings so far.
    public static func run(_ reader: TraceReader, options: AnalysisOptions = AnalysisOptions(), pipelined: Bool = true,
                           progress: ((_ events: Int, _ fileBytes: UInt64, _ findings: Int) -> Void)? = nil)
        throws(TraceError) -> AnalysisResult {
        var analysis = Analysis(traceName: reader.fileName, options: options)
        let weakModel = options.memoryModel == .weak
        let replay = try Replayer.forEachStep(reader, limits: options.limits, pipelined: pipelined, skippingQuietStores: true,
                                              observing: { Analysis.observes($0, weakModel: weakModel) }, afterBatch: { events, fileBytes in
            progress?(events, fileBytes, analysis.findings.count)
        }) { (step, replay) throws(TraceError) in
            try analysis.observe(step, replay: &replay)
        }
        let findings = try analysis.finish(replay: replay, symbols: reader.symbols)
        return AnalysisResult(trace: reader.fileName, findings: findings, diagnostics: replay.diagnostics,
                              events: replay.eventCount, entries: replay.entries.count)
    }

    func enabled(_ rule: Rule) -> Bool { enabledRules & rule.bit != 0 }

    /// Whether ``observe(_:replay:)`` does anything with `event`, a store
    /// or not: it ignores marks, declarations and `init`, and a barrier
    /// unless, under the weak model, it orders stores for a device or is a
    /// write barrier (as `observeEvent`'s cases do; the two must agree).
    /// `run` does not build steps for the others: every barrier under `tso`.
    static func observes(_ event: TraceEvent, weakModel: Bool) -> Bool {
        switch event.payload {
        case .fence(let kind): weakModel && (kind.ordersDeviceStores || kind.isWriteBarrier)
        case .mark, .iommu, .root, .table, .initialize: false
        case .store, .flush, .fetch, .inval, .wait, .begin, .end: true
        }
    }

    /// Takes one replayed event.
    ///
    /// - Throws: ``TraceError`` when the event brings the findings past
    ///   ``AnalysisOptions/maxFindings``.
    public mutating func observe(_ step: ReplayStep, replay: inout Replayer) throws(TraceError) {
        try observeEvent(step, replay: &replay)
        if findings.count > options.maxFindings {
            throw tooManyFindings(at: .line(step.event.line, column: 1))
        }
    }

    private func tooManyFindings(at location: TraceLocation) -> TraceError {
        TraceError(file: traceName, location: location,
                   message: "more than \(options.maxFindings) \(options.maxFindings == 1 ? "finding" : "findings") (raise the limit with --max-findings)")
    }

    private mutating func observeEvent(_ step: ReplayStep, replay: inout Replayer) throws(TraceError) {
        // Read in place and built where used: copied out at the start, the
        // event (80 bytes) was copied three times for every step, most of
        // which (a store that changes nothing) never use it.
        var event: TraceEvent { step.event }
        var ref: EventRef { EventRef(index: step.index, event: step.event) }
        switch step.event.payload {
        case .store(let write):
            // By index, reading fields of the touch in place: a copy of a
            // touch is three entry values (216 bytes) on every store.
            let touches = step.touches
            for i in touches.indices {
                let entry = touches[i].entry
                // Fields, not the record: copying one retains its identity and history.
                let fetchSize = replay.entries[entry].fetchSize
                let e = prepare(entry, touches[i].before)
                // Tested here, not only in the analyzer: the call copies the touch.
                let atomic = isSingleCopyAtomic(write, fetchSize: fetchSize)
                if !atomic { checkAlignment(write, touches[i], fetchSize: fetchSize, ref, replay) }
                if replay.units[replay.entries[entry].unit].coherent {
                    guard touches[i].after != touches[i].before else { continue }
                    var change = Change(ref: ref, before: touches[i].before, after: touches[i].after, bytes: touches[i].bytes)
                    change.splits = !atomic
                    deviceChanged(e, change, replay)
                } else {
                    noteUnflushedStore(e, touches[i], ref)
                }
                reindexIfNeeded(e, replay)
            }
        case .flush:
            for touch in step.touches {
                guard !replay.units[replay.entries[touch.entry].unit].coherent else { continue }
                let e = prepare(touch.entry, touch.device)
                noteFlush(e, touch)
                let before = tracks[e].device
                if touch.device != before {
                    deviceChanged(e, Change(ref: ref, before: before, after: touch.device, bytes: differingBytes(before, touch.device)),
                                  replay)
                }
                reindexIfNeeded(e, replay)
            }
        case .fetch:
            for touch in step.touches {
                let e = prepare(touch.entry, touch.device)
                observeFetch(e, touch, ref, replay)
                reindexIfNeeded(e, replay)
            }
        case .fence(let kind):
            // Only the weak model follows barriers: under `tso` no epoch is
            // kept (``noteEpochStore(_:_:_:)``), so there is none to close
            // and no generation to count.
            guard options.memoryModel == .weak else { break }
            if kind.ordersDeviceStores {
                fenceGeneration[event.cpu, default: 0] += 1
                closeEpochs(cpu: event.cpu, replay)
            } else if kind.isWriteBarrier {
                // Taken out and put back so the array is never copied.
                var recent = weakBarriers.removeValue(forKey: event.cpu) ?? []
                recent.append(ref)
                if recent.count > 16 { recent.removeFirst(8) }
                weakBarriers[event.cpu] = recent
            }
        case .inval(let request):
            // One VT-d does not define covers nothing (the replay notes it).
            guard request.isDefinedByVTd, let unit = replay.unitIndex(of: event.unit) else { break }
            // The unit ignores the fields the request's granularity does not use.
            let canonical = InterestKey.canonical(request)
            let inv = canonical ?? request
            reindexChanged(unit: unit, replay)
            var entries = takeVisitList()
            defer { visitList = entries }
            interest.entries(concernedBy: inv, unit: unit, isCanonical: canonical != nil, into: &entries)
            invalidationVisits += entries.count
            // Indexed, an entry's keys are rebuilt only when the visit
            // changed what they come from; unindexed, bringing its pending
            // state up to date costs less than comparing.
            let indexed = interest.isIndexed(unit)
            for e in entries {
                let before = indexed ? interestState(e, replay) : nil
                invalidationIssued(e, inv, ref, replay)
                if before == nil || interestState(e, replay) != before { reindex(e, replay) }
            }
        case .wait:
            guard let unit = replay.unitIndex(of: event.unit) else { break }
            while waitsPerUnit.count <= unit { waitsPerUnit.append(0) }
            waitsPerUnit[unit] += 1
            if options.memoryModel == .weak {
                // The unit completes a wait only after it read the requests
                // before it, which Linux submits with writel (a device write
                // barrier), and the CPU stores nothing until it has seen the
                // completion: the wait orders its CPU's stores like a barrier.
                fenceGeneration[event.cpu, default: 0] += 1
                closeEpochs(cpu: event.cpu, replay)
            }
            reindexChanged(unit: unit, replay)
            var entries = takeVisitList()
            defer { visitList = entries }
            interest.takeAwaiting(unit: unit, into: &entries)
            invalidationVisits += entries.count
            for e in entries {
                waitCompleted(e, ref, replay)
                reindex(e, replay)
            }
        case .begin(let addr):
            for entry in try replay.entries(startingAt: addr, event: event) {
                let value = replay.deviceValue(of: entry)
                let e = prepare(entry, value)
                if tracks[e].hasOpenUpdate { endUpdate(e, new: tracks[e].device, replay) }
                startUpdate(e, old: tracks[e].device, explicit: true, replay)
                reindexIfNeeded(e, replay)
            }
        case .end(let addr):
            for entry in try replay.entries(startingAt: addr, event: event) {
                let e = prepare(entry, replay.deviceValue(of: entry))
                guard tracks[e].openIsExplicit == true else { continue }
                endUpdate(e, new: replay.cpuValue(of: entry), replay)
                reindexIfNeeded(e, replay)
            }
        default:
            break
        }
    }

    /// The visit list's storage, taken out so that the visits may change
    /// the analysis while they walk it.
    mutating func takeVisitList() -> [Int] {
        var list: [Int] = []
        swap(&list, &visitList)
        return list
    }

    /// Makes sure entry `e` has a track; `value` is its device-visible value
    /// when first seen.
    /// Inlined for an entry seen before (nearly every call), which only
    /// tests its track; the first sight is a call. `value` is read only
    /// then: passed as a value, it was copied out of the touch every time.
    @inline(__always) mutating func prepare(_ e: Int, _ value: @autoclosure () -> EntryValue) -> Int {
        if e < tracks.count && tracks[e].known { return e }
        return prepareFirstSight(e, value())
    }

    @inline(never) private mutating func prepareFirstSight(_ e: Int, _ value: EntryValue) -> Int {
        while tracks.count <= e { tracks.append(EntryTrack()) }
        tracks[e].known = true
        tracks[e].device = value
        return e
    }

    /// Notes that an event changed `e`, so that its registration for
    /// invalidations is brought up to date before its unit's next
    /// invalidation or wait (once, however many stores come first); nearly
    /// free for an entry with nothing pending.
    @inline(__always) mutating func reindexIfNeeded(_ e: Int, _ replay: Replayer) {
        guard !tracks[e].awaitsReindex, tracks[e].isPending || hasPendingInvalidationWork(e, replay) else { return }
        tracks[e].awaitsReindex = true
        let unit = replay.entries[e].unit
        while awaitingReindex.count <= unit { awaitingReindex.append([]) }
        awaitingReindex[unit].append(e)
    }

    /// Registers the entries of `unit` changed since its last invalidation
    /// or wait.
    mutating func reindexChanged(unit: Int, _ replay: Replayer) {
        if unit < awaitingReindex.count && !awaitingReindex[unit].isEmpty {
            // Taken out while reindexing, and put back empty for its
            // storage unless reindexing added to it.
            var changed: [Int] = []
            swap(&changed, &awaitingReindex[unit])
            for e in changed {
                tracks[e].awaitsReindex = false
                reindex(e, replay)
            }
            if awaitingReindex[unit].isEmpty {
                changed.removeAll(keepingCapacity: true)
                swap(&changed, &awaitingReindex[unit])
            }
        }
        if interest.shouldStartIndexing(unit: unit) {
            for e in interest.pendingEntries(unit: unit) { reindex(e, replay) }
        } else {
            interest.stopIndexingIfSparse(unit: unit)
        }
    }

    /// Ends the analysis: closes open updates and reports what was left
    /// undone. Findings come ordered by their first event, then rule and
    /// entry, so the same trace always gives the same report.
    ///
    /// - Throws: ``TraceError`` when the findings made at the end pass
    ///   ``AnalysisOptions/maxFindings``.
    public mutating func finish(replay: Replayer, symbols: SymbolTable) throws(TraceError) -> [Finding] {
        for e in tracks.indices where tracks[e].known {
            if tracks[e].hasOpenUpdate { endUpdate(e, new: tracks[e].device, replay) }
            closeEpoch(e, replay)
            analyzePendingEpochs(e, replay, force: true)
            closeObservation(e)
            analyzePendingObservations(e, replay, force: true)
            checkObligationAtEnd(e, replay)
            checkUnflushedAtEnd(e, replay)
        }
        if findings.count > options.maxFindings { throw tooManyFindings(at: .file) }
        return findings.sorted { a, b in
            (a.events.first?.ref.index ?? 0, a.rule, a.entry) < (b.events.first?.ref.index ?? 0, b.rule, b.entry)
        }.map { $0.finding(traceName: traceName, replay: replay, symbols: symbols) }
    }

    // MARK: - Updates

    /// A change of what the unit sees of an entry starts, extends or ends
    /// updates (CHECKS.md, "Update") and feeds every analyzer.
    mutating func deviceChanged(_ e: Int, _ change: Change, _ replay: Replayer) {
        let shape = EntryShape(replay.entries[e])
        let usedChanged = (change.before ^ change.after) & (shape.usedBits(change.before) | shape.usedBits(change.after)) != EntryValue()
        let wasPresent = shape.isPresent(change.before)
        let isPresent = shape.isPresent(change.after)
        tracks[e].device = change.after

        checkHandshake(e, change, wasPresent: wasPresent, isPresent: isPresent, replay)

        if !tracks[e].hasOpenUpdate && (usedChanged || !wasPresent) {
            // A live entry's update starts at the first change of its used
            // bits; a non-present entry's setup at its first change.
            startUpdate(e, old: change.before, explicit: false, replay)
        }
        if tracks[e].hasRareState && tracks[e].hasChain { noteChainCut(e, replay) }
        // The change as part of the open update, if one is open (its
        // serial read from the update's fields, not a copy of it). A
        // constant: each call below copied a variable change (240 bytes).
        let openSerial = tracks[e].openSerial
        let kept = change.inUpdate(openSerial)
        if openSerial != nil { appendChange(e, kept) }
        if usedChanged { invalidationOnChange(e, kept, replay) }
        noteEpochStore(e, kept, replay)
        if wasPresent && !isPresent { startHandshake(e, kept, replay) }

        if tracks[e].openIsExplicit == false, wasPresent != isPresent {
            // Clearing Present ends a live entry's update; setting it ends a
            // setup, with this value as N.
            endUpdate(e, new: change.after, replay)
        }
    }

    mutating func startUpdate(_ e: Int, old: EntryValue, explicit: Bool, _ replay: Replayer) {
        tracks[e].serial += 1
        // A fresh list grows from empty: an update that stays open (its
        // invalidation never comes) keeps its list, and most hold one change.
        let changes = spareChangeLists.popLast() ?? []
        tracks[e].open = Update(serial: tracks[e].serial, old: old, changes: changes, explicit: explicit)
        if tracks[e].hasRareState && tracks[e].hasChain { linkChain(e, old: old, replay) }
    }

    mutating func appendChange(_ e: Int, _ change: Change) {
        guard tracks[e].hasOpenUpdate else { return }
        if tracks[e].open!.changes.count < Self.maxChangesPerUpdate {
            tracks[e].open!.changes.append(change)
        } else {
            tracks[e].open!.truncated = true
            tracks[e].open!.changes[Self.maxChangesPerUpdate - 1] = change
        }
    }

    /// Keeps `changes`' storage for a later update, unless there are
    /// enough spare lists or it grew large.
    private mutating func recycle(_ changes: inout [Change]) {
        guard spareChangeLists.count < 32, changes.capacity <= 16 else { return }
        var spare: [Change] = []
        swap(&spare, &changes)
        spare.removeAll(keepingCapacity: true)
        spareChangeLists.append(spare)
    }

    /// Ends the open update of `e` with N = `new` and hands it to the
    /// analyzers that judge whole updates.
    mutating func endUpdate(_ e: Int, new: EntryValue, _ replay: Replayer) {
        // Moved out, not copied and cleared: a copy retained its lists.
        guard var update = tracks[e].open.take() else { return }
        defer { recycle(&update.changes) }
        // Read first: writing the box checks it is unique, every update.
        if tracks[e].hasRareState && tracks[e].cachedSinceWait != nil { tracks[e].cachedSinceWait = nil }
        if tracks[e].ended.count == 8 { tracks[e].ended.removeFirst() }
        tracks[e].ended.append(EndedUpdate(serial: update.serial, old: update.old, new: new))
        if !findingsAwaitingNew.isEmpty { fillInNew(e, serial: update.serial, new: new, replay) }
        analyzeTornWindow(e, update, new: new, replay)
        extendChain(e, update, new: new, replay)
        analyzePendingEpochs(e, replay, force: false)
        analyzePendingObservations(e, replay, force: false)
    }

    // MARK: - Helpers

    /// A store is single-copy atomic when naturally aligned and within one
    /// chunk (CHECKS.md, "Chunk").
    @inline(__always) func isSingleCopyAtomic(_ write: MemoryWrite, fetchSize: Int) -> Bool {
        let chunk = UInt64(max(1, fetchSize))
        return write.isNaturallyAligned && write.addr / chunk == (write.addr &+ UInt64(write.size) &- 1) / chunk
    }

    /// The smallest byte range holding every byte that differs.
    func differingBytes(_ a: EntryValue, _ b: EntryValue) -> Range<Int> {
        let diff = a ^ b
        var lo = 64, hi = 0
        // A word at a time: its lowest and highest nonzero bytes.
        for w in 0..<8 {
            let x = diff[w]
            guard x != 0 else { continue }
            lo = min(lo, w * 8 + x.trailingZeroBitCount / 8)
            hi = w * 8 + 8 - x.leadingZeroBitCount / 8
        }
        return lo < hi ? lo..<hi : 0..<0
    }
}
