import Replay
import TraceFormat

// Invalidations and waits must not visit every entry with something pending:
// a trace with E entries waiting for an invalidation and I invalidations that
// cover none of them would cost E * I (issue 7; Benchmarks/
// pending-invalidations.py). Each entry instead registers the requirements it
// still waits on under keys that every request able to change its state
// (cover it, be a near miss, or find its store unflushed) looks up.
//
// Requests are first reduced to the fields their type and granularity use
// (InterestKey.canonical), so that each type and granularity has one or two
// shapes: which of sid, PASID and domain id the request carries. An entry
// registers each requirement under the keys those shapes look up. A request
// that carries a source id or PASID the requirement names must equal it; a
// domain id filters only where a wrong one is not a near miss. Every entry a
// request visits is thereby changed by it (covered, or given one of the few
// near misses kept per requirement), or is one of the rare near-miss
// candidates the keys over-approximate, so the visits add up to the work the
// requests do, not to entries times requests.

/// Whether a request must cover a requirement, or may also be a near miss.
enum InterestMode {
    /// Covers, or is a near miss (reported when nothing covers).
    case anyMatch
    /// Only a covering request changes anything.
    case covers
}

/// One bucket of the index: a request of this type and granularity, on this
/// unit, whose fields projected on `mask` are these, may concern the entries
/// registered under it.
struct InterestKey: Hashable, Comparable {
    var unit: Int32
    var type: UInt8
    var granularity: UInt8
    /// The requirement's fields (``sidBit``, ``pasidBit``, ``didBit``) and
    /// whether a wrong domain id is a near miss (``coversBit`` clear).
    var shape: UInt8
    /// The fields the key holds values for.
    var mask: UInt8
    var sid: UInt16 = 0
    var did: UInt16 = 0
    var pasid: UInt32 = 0

    static func < (a: InterestKey, b: InterestKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
    static func == (a: InterestKey, b: InterestKey) -> Bool { a.high == b.high && a.low == b.low }
    func hash(into hasher: inout Hasher) {
        hasher.combine(high)
        hasher.combine(low)
    }
    private var high: UInt64 {
        UInt64(UInt32(bitPattern: unit)) << 32 | UInt64(type) << 24 | UInt64(granularity) << 16 | UInt64(shape) << 8 | UInt64(mask)
    }
    private var low: UInt64 { UInt64(sid) << 48 | UInt64(did) << 32 | UInt64(pasid) }

    static let sidBit: UInt8 = 1, pasidBit: UInt8 = 2, didBit: UInt8 = 4, coversBit: UInt8 = 8
    /// Type and granularity of the key every request looks up: a handshake
    /// whose covering requirement is unknown takes any request.
    static let anyRequest: UInt8 = 0xff

    /// The fields a request of shape `shape` is looked up by, given which of
    /// the requirement's source id and PASID it carries (`strict`) and
    /// whether it carries a domain id.
    static func lookupMask(shape: UInt8, strict: UInt8, hasDID: Bool) -> UInt8 {
        let did = shape & didBit != 0 && hasDID ? didBit : 0
        if shape & coversBit != 0 { return strict | did }
        // A matching source id or PASID makes any domain id a near miss.
        return strict != 0 ? strict : did
    }

    /// The fields (``sidBit``, ``pasidBit``, ``didBit``) a request of this
    /// type and granularity carries, as the reader requires them
    /// (LineParser.requiredInvalidationKeys), and the one it may carry.
    static func requestFields(_ type: InvalidationType, _ granularity: InvalidationGranularity)
        -> (required: UInt8, optional: UInt8) {
        switch (type, granularity) {
        case (.devtlb, .pasid), (.pdevtlb, .pasid), (.pdevtlb, .page): (sidBit | pasidBit, 0)
        case (.devtlb, _), (.pdevtlb, _): (sidBit, 0)
        case (.iec, _), (_, .global): (0, 0)
        case (_, .domain): (didBit, 0)
        // The context-cache device-selective descriptor has a domain id.
        case (_, .device): (sidBit, type == .context ? didBit : 0)
        case (_, .pasid): (didBit | pasidBit, 0)
        case (_, .page): (didBit, pasidBit)
        }
    }

    /// `inv` with only the fields its type and granularity use (the unit
    /// ignores the others: a domain-selective request names no PASID), or
    /// nil when it lacks one they require, which no trace the reader accepts
    /// does.
    static func canonical(_ inv: Invalidation) -> Invalidation? {
        let (required, optional) = requestFields(inv.type, inv.granularity)
        let held = (inv.sid != nil ? sidBit : 0) | (inv.pasid != nil ? pasidBit : 0) | (inv.did != nil ? didBit : 0)
        guard held & required == required else { return nil }
        let kept = held & (required | optional)
        var result = inv
        if kept & sidBit == 0 { result.sid = nil }
        if kept & pasidBit == 0 { result.pasid = nil }
        if kept & didBit == 0 { result.did = nil }
        if !(inv.type == .context && inv.granularity == .device) { result.fm = nil }
        return result
    }

    /// The request's domain id is compared (RequiredInvalidation.match).
    static func usesDID(_ type: InvalidationType, _ granularity: InvalidationGranularity) -> Bool {
        type != .devtlb && type != .pdevtlb && granularity != .global
    }
}

/// A set of entries that rarely holds more than one.
enum EntryBucket {
    case one(Int32)
    case many(Set<Int32>)

    mutating func insert(_ e: Int32) {
        switch self {
        case .one(let only) where only != e: self = .many([only, e])
        case .one: break
        case .many(var set):
            self = .one(e)  // drops the reference, so the set stays unique
            set.insert(e)
            self = .many(set)
        }
    }

    /// Removes `e`; false when the bucket is empty afterwards.
    mutating func remove(_ e: Int32) -> Bool {
        switch self {
        case .one(let only): return only != e
        case .many(var set):
            self = .one(e)
            set.remove(e)
            if set.count == 1, let only = set.first { self = .one(only) } else { self = .many(set) }
            return !set.isEmpty
        }
    }

    func forEach(_ body: (Int32) -> Void) {
        switch self {
        case .one(let only): body(only)
        case .many(let set): set.forEach(body)
        }
    }
}

/// Which entries each invalidation request and each wait must visit.
///
/// Every unit keeps the set of its entries with pending work. While that set
/// is small, a request visits all of it, as cheap as any index. Past
/// ``indexThreshold`` entries the unit switches to an index of the requests
/// each entry waits for, and back once fewer than a quarter of that remain.
struct InvalidationInterest {
    /// Entries pending on a unit before its requests are looked up by key.
    var indexThreshold = 64
    /// Per unit (by replay index, a handful): entries with pending work.
    private var pending: [Set<Int32>] = []
    /// Per unit: its requests are looked up by key.
    private var indexed: [Bool] = []
    private var buckets: [InterestKey: EntryBucket] = [:]
    /// The keys each entry of an indexed unit is registered under, sorted.
    private var registered: [Int32: [InterestKey]] = [:]
    /// Per indexed unit: entries with an invalidation issued and not yet
    /// waited for.
    private var awaiting: [Int: Set<Int32>] = [:]

    /// True when requests on `unit` are looked up by key.
    func isIndexed(_ unit: Int) -> Bool { unit < indexed.count && indexed[unit] }

    private mutating func grow(to unit: Int) {
        while pending.count <= unit { pending.append([]) }
        while indexed.count <= unit { indexed.append(false) }
    }

    /// Records whether `e` has pending work; returns true when its keys are
    /// wanted (its unit is indexed).
    mutating func setPending(_ e: Int, unit: Int, _ isPending: Bool) -> Bool {
        let entry = Int32(truncatingIfNeeded: e)
        grow(to: unit)
        if isPending {
            pending[unit].insert(entry)
        } else {
            pending[unit].remove(entry)
        }
        return indexed[unit]
    }

    /// The unit's pending entries, ascending.
    func pendingEntries(unit: Int) -> [Int] {
        var found: [Int] = []
        pendingEntries(unit: unit, into: &found)
        return found
    }

    /// ``pendingEntries(unit:)``, into `found`'s storage (emptied first):
    /// every invalidation and wait of an unindexed unit asks for them.
    func pendingEntries(unit: Int, into found: inout [Int]) {
        found.removeAll(keepingCapacity: true)
        guard unit < pending.count else { return }
        for e in pending[unit] { found.append(Int(e)) }
        found.sort()
    }

    /// The unit should switch to looking requests up by key (then register
    /// every pending entry).
    mutating func shouldStartIndexing(unit: Int) -> Bool {
        guard !isIndexed(unit), unit < pending.count, pending[unit].count > indexThreshold else { return false }
        indexed[unit] = true
        return true
    }

    /// Stops looking up the requests of `unit` by key once few entries are
    /// pending there, dropping its registrations.
    mutating func stopIndexingIfSparse(unit: Int) {
        guard isIndexed(unit), pending[unit].count < indexThreshold / 4 else { return }
        for e in pending[unit] { update(Int(e), unit: unit, keys: [], awaitingWait: false) }
        awaiting[unit] = nil
        indexed[unit] = false
    }

    /// The keys of requirement `step`, wanted in `mode`; `newDID` is the
    /// entry's new domain id, which makes a request with it a near miss.
    static func keys(for step: RequiredInvalidation, unit: Int, mode: InterestMode, newDID: UInt16?,
                     into keys: inout [InterestKey]) {
        let strictFields = (step.sid != nil ? InterestKey.sidBit : 0) | (step.pasid != nil ? InterestKey.pasidBit : 0)
        var accepts = step.accepted
        if mode == .anyMatch {
            // Types the row names as not covering it are near misses at
            // any granularity.
            for type in InvalidationType.allCases where !accepts.contains(where: { $0.type == type })
                && InvalidationRequirements.hasNotCovering(row: step.row, type: type) {
                accepts.append((type, []))
            }
        }
        for accept in accepts {
            var granularities = accept.granularities
            // A page-granular request with the entry's domain is a near miss.
            if mode == .anyMatch { granularities.insert(.page) }
            if mode == .anyMatch && InvalidationRequirements.hasNotCovering(row: step.row, type: accept.type) {
                for granularity in InvalidationGranularity.allCases { granularities.insert(granularity) }
            }
            for raw in 0..<UInt8(8) where granularities.bits & 1 << raw != 0 {
                guard let granularity = InvalidationGranularity(rawValue: raw) else { continue }
                let nearMissOnly = !accept.granularities.contains(granularity)
                let usesDID = InterestKey.usesDID(accept.type, granularity)
                let covering = mode == .covers || nearMissOnly
                let shape = strictFields | (usesDID && step.did != nil ? InterestKey.didBit : 0)
                    | (covering ? InterestKey.coversBit : 0)
                // Only the fields a request of this type and granularity
                // carries: those the reader requires, with and without the
                // one it allows (InterestKey.requestFields).
                let (required, optional) = InterestKey.requestFields(accept.type, granularity)
                for fields in optional == 0 ? [required] : [required, required | optional] {
                    let mask = InterestKey.lookupMask(shape: shape, strict: strictFields & fields,
                                                      hasDID: fields & InterestKey.didBit != 0)
                    var key = InterestKey(unit: Int32(truncatingIfNeeded: unit), type: accept.type.rawValue,
                                          granularity: raw, shape: shape, mask: mask)
                    if mask & InterestKey.sidBit != 0 { key.sid = step.sid ?? 0 }
                    if mask & InterestKey.pasidBit != 0 { key.pasid = step.pasid ?? 0 }
                    guard mask & InterestKey.didBit != 0 else { keys.append(key); continue }
                    for did in [step.did, covering ? nil : newDID] {
                        guard let did else { continue }
                        key.did = did
                        keys.append(key)
                    }
                }
            }
        }
    }

    /// The key a request of any kind finds.
    static func anyRequestKey(unit: Int) -> InterestKey {
        InterestKey(unit: Int32(truncatingIfNeeded: unit), type: InterestKey.anyRequest, granularity: InterestKey.anyRequest,
                    shape: 0, mask: 0)
    }

    /// Every key `inv` on `unit` looks up.
    static func lookupKeys(for inv: Invalidation, unit: Int) -> [InterestKey] {
        var keys = [anyRequestKey(unit: unit)]
        let held = (inv.sid != nil ? InterestKey.sidBit : 0) | (inv.pasid != nil ? InterestKey.pasidBit : 0)
        let didShapes: [UInt8] = InterestKey.usesDID(inv.type, inv.granularity) ? [0, InterestKey.didBit] : [0]
        // A context-cache request's function mask leaves the low source-id
        // bits unchecked: the source ids it names.
        var sids: [UInt16] = []
        if let sid = inv.sid {
            let fm: UInt16 = inv.type == .context ? [0, 0b100, 0b110, 0b111][Int(inv.fm ?? 0) & 3] : 0
            sids = subsets(of: fm).map { sid & ~fm | $0 }
        }
        for strictFields in [0, InterestKey.sidBit, InterestKey.pasidBit, InterestKey.sidBit | InterestKey.pasidBit] {
            for didShape in didShapes {
                for covers in [0, InterestKey.coversBit] {
                    let shape = strictFields | didShape | covers
                    let mask = InterestKey.lookupMask(shape: shape, strict: held & strictFields, hasDID: inv.did != nil)
                    var key = InterestKey(unit: Int32(truncatingIfNeeded: unit), type: inv.type.rawValue,
                                          granularity: inv.granularity.rawValue, shape: shape, mask: mask)
                    if mask & InterestKey.pasidBit != 0 { key.pasid = inv.pasid ?? 0 }
                    if mask & InterestKey.didBit != 0 { key.did = inv.did ?? 0 }
                    guard mask & InterestKey.sidBit != 0 else { keys.append(key); continue }
                    for sid in sids {
                        key.sid = sid
                        keys.append(key)
                    }
                }
            }
        }
        return keys
    }

    /// Every value made of some of the bits of `bits` (the source ids a
    /// function mask leaves unchecked).
    static func subsets<T: FixedWidthInteger>(of bits: T) -> [T] {
        var result: [T] = [0]
        var bit: T = 1
        while bit != 0 && bit <= bits {
            if bits & bit != 0 { result += result.map { $0 | bit } }
            bit <<= 1
        }
        return result
    }

    /// Registers entry `e` under `keys` (sorted, unique) and, when
    /// `awaitingWait`, for the next wait of `unit`; drops what it had.
    mutating func update(_ e: Int, unit: Int, keys: [InterestKey], awaitingWait: Bool) {
        let entry = Int32(truncatingIfNeeded: e)
        let old = registered[entry] ?? []
        if old != keys {
            // Both sorted: one merge finds what to drop and what to add.
            var i = 0, j = 0
            while i < old.count || j < keys.count {
                if j == keys.count || (i < old.count && old[i] < keys[j]) {
                    if buckets[old[i]]?.remove(entry) == false { buckets[old[i]] = nil }
                    i += 1
                } else if i == old.count || keys[j] < old[i] {
                    buckets[keys[j], default: .one(entry)].insert(entry)
                    j += 1
                } else {
                    i += 1
                    j += 1
                }
            }
            registered[entry] = keys.isEmpty ? nil : keys
        }
        if awaitingWait {
            awaiting[unit, default: []].insert(entry)
        } else if awaiting[unit]?.contains(entry) == true {
            awaiting[unit]?.remove(entry)
        }
    }

    /// The entries `inv` on `unit` may concern, in ascending order: every
    /// pending entry of the unit for a request that lacks a key its
    /// granularity requires (not `isCanonical`: ``InterestKey/canonical(_:)``).
    /// Into `found`'s storage (emptied first), so that a request allocates nothing.
    func entries(concernedBy inv: Invalidation, unit: Int, isCanonical: Bool, into found: inout [Int]) {
        guard isIndexed(unit), isCanonical else { return pendingEntries(unit: unit, into: &found) }
        found.removeAll(keepingCapacity: true)
        for key in Self.lookupKeys(for: inv, unit: unit) {
            buckets[key]?.forEach { found.append(Int($0)) }
        }
        found.sort()
        found.removeAdjacentDuplicates()
    }

    /// The entries the next wait on `unit` completes something for, in
    /// ascending order, into `found`'s storage (emptied first).
    mutating func takeAwaiting(unit: Int, into found: inout [Int]) {
        guard isIndexed(unit) else { return pendingEntries(unit: unit, into: &found) }
        found.removeAll(keepingCapacity: true)
        for e in awaiting.removeValue(forKey: unit) ?? [] { found.append(Int(e)) }
        found.sort()
    }
}

extension Array where Element: Equatable {
    /// Drops each element equal to the one before it, in place: a sorted
    /// array without repeats.
    fileprivate mutating func removeAdjacentDuplicates() {
        var unique = 0
        for i in indices where unique == 0 || self[unique - 1] != self[i] {
            self[unique] = self[i]
            unique += 1
        }
        removeLast(count - unique)
    }
}

extension Analysis {
    /// An entry has something an invalidation or a wait may change: a
    /// handshake, an obligation, unflushed stores, or an in-place update of
    /// a live entry (which a covering invalidation ends).
    @inline(__always) func hasPendingInvalidationWork(_ e: Int, _ replay: Replayer) -> Bool {
        // Field by field: a copy of the whole track retains all it holds.
        if tracks[e].hasRareState && (tracks[e].hasHandshake || tracks[e].hasObligation || tracks[e].hasDirty) { return true }
        return isLiveUpdate(e, replay)
    }

    /// The entry is in an in-place update (not one `begin` opened) of a
    /// live entry, which a covering invalidation ends.
    @inline(__always) func isLiveUpdate(_ e: Int, _ replay: Replayer) -> Bool {
        // Fields, not the update: a copy of it retains its changes.
        guard tracks[e].openIsExplicit == false, let old = tracks[e].openOld else { return false }
        return EntryShape(replay.entries[e]).isPresent(old)
    }

    /// An invalidation may find the entry's store unflushed and be reported
    /// for it (``checkFlushBeforeInvalidation(_:_:_:_:)``): once per update.
    func wantsFlushCheck(_ e: Int) -> Bool {
        tracks[e].hasDirty && enabled(.missingFlush)
            && !tracks[e].hasReported(.missingFlush, serial: tracks[e].openOrNextSerial)
    }

    /// What a visit by an invalidation or a wait may change of the inputs of
    /// ``reindex(_:_:)``: when it stays the same the keys do too (a visit
    /// changes no stored value, so the requirements stay the same).
    struct InterestState: Equatable {
        var obligation: Int = -1
        var issued: UInt64 = 0
        var completed: UInt64 = 0
        var nearMissesFull: UInt64 = 0
        var live = false
        var handshake: Int = 0
        var flushWanted = false
        var cached = false
        var pending = false
    }

    func interestState(_ e: Int, _ replay: Replayer) -> InterestState {
        var state = InterestState()
        state.pending = hasPendingInvalidationWork(e, replay)
        state.cached = tracks[e].fetchedPresent
        state.live = isLiveUpdate(e, replay)
        guard tracks[e].hasRareState else { return state }
        tracks[e].readObligation { obligation in
            state.obligation = obligation.serial
            for i in obligation.steps.indices where i < 64 {
                if obligation.issued[i] != nil { state.issued |= 1 << i }
                if obligation.completed[i] { state.completed |= 1 << i }
                if !obligation.wantsNearMiss(i) { state.nearMissesFull |= 1 << i }
            }
        }
        if let handshake = tracks[e].handshake { state.handshake = handshake.invalidation == nil ? 1 : 2 }
        state.flushWanted = wantsFlushCheck(e)
        return state
    }

    /// The obligation's first requirement is `step` and still unissued: its
    /// keys already find every request that covers `step`.
    private func awaitsFirstStep(of obligation: Obligation?, equalTo step: RequiredInvalidation) -> Bool {
        guard let obligation, obligation.steps.first == step, let issued = obligation.issued.first else { return false }
        return issued == nil && obligation.completed.first == false
    }

    /// Registers entry `e` for the requests and waits that may change its
    /// state, after anything changed it. Mirrors what
    /// ``invalidationIssued(_:_:_:_:)`` and ``waitCompleted(_:_:_:)`` act on.
    mutating func reindex(_ e: Int, _ replay: Replayer) {
        // Fields, not the record: copying one retains its identity and history.
        let unit = replay.entries[e].unit
        let isPending = hasPendingInvalidationWork(e, replay)
        let wasPending = tracks[e].isPending
        guard isPending || wasPending else { return }
        tracks[e].isPending = isPending
        // The track's flag mirrors the unit's set: change the set (a hash)
        // only when the flag changes.
        let wantsKeys = isPending == wasPending ? interest.isIndexed(unit) : interest.setPending(e, unit: unit, isPending)
        if !isPending {
            if wantsKeys { interest.update(e, unit: unit, keys: [], awaitingWait: false) }
            if e < requirementMemo.count { requirementMemo[e] = [] }
            return
        }
        guard wantsKeys else { return }
        var keys: [InterestKey] = []
        var awaitingWait = false
        let device = tracks[e].device
        let kind = replay.entries[e].kind
        tracks[e].readObligation { obligation in
            let newDID = Layout.domainID(kind, obligation.lastChange.after)
            for i in obligation.steps.indices where !obligation.completed[i] {
                if obligation.issued[i] == nil {
                    let mode: InterestMode = obligation.wantsNearMiss(i) ? .anyMatch : .covers
                    InvalidationInterest.keys(for: obligation.steps[i], unit: unit, mode: mode, newDID: newDID, into: &keys)
                } else {
                    awaitingWait = true
                }
            }
        }
        if let handshake = tracks[e].handshake {
            if handshake.invalidation != nil {
                awaitingWait = true
            } else if let covering = handshake.covering {
                InvalidationInterest.keys(for: covering, unit: unit, mode: .covers, newDID: nil, into: &keys)
            } else {
                keys.append(InvalidationInterest.anyRequestKey(unit: unit))
            }
        }
        if wantsFlushCheck(e) {
            // With the device TLB assumed on: whether it is depends on the
            // device's context entry, which may change without touching this one.
            let steps = requirements(e, old: device, new: device, replay, deviceTLB: true)
            for step in steps { InvalidationInterest.keys(for: step, unit: unit, mode: .anyMatch, newDID: nil, into: &keys) }
        }
        if isLiveUpdate(e, replay) || tracks[e].fetchedPresent {
            let cached = tracks[e].cachedBeforeChange ?? device
            if let first = cachedRequirements(e, old: cached, new: device, replay).first,
               !awaitsFirstStep(of: tracks[e].obligation, equalTo: first) {
                InvalidationInterest.keys(for: first, unit: unit, mode: .covers, newDID: nil, into: &keys)
            }
        }
        keys.sort()
        keys.removeAdjacentDuplicates()
        // Kept for as long as the entry is pending: no spare capacity.
        interest.update(e, unit: unit, keys: Array(keys[...]), awaitingWait: awaitingWait)
    }
}
