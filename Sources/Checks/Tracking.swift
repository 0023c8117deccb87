import Replay
import TraceFormat

/// An event as the analyzers remember it: its position and the event.
struct EventRef {
    /// The event's 1-based position in the trace.
    var index: Int
    var event: TraceEvent
}

/// A change of what the unit sees of an entry: a store on a coherent unit, a
/// flush on a non-coherent one.
struct Change {
    var ref: EventRef
    /// The entry before and after, as the unit sees it.
    var before: EntryValue
    var after: EntryValue
    /// The bytes of the entry the event wrote.
    var bytes: Range<Int>
    /// The update the change belongs to (0: none, an unused-bits change of a
    /// live entry).
    var serial = 0
    /// The store was not single-copy atomic (unaligned or crossing a chunk).
    var splits = false

    /// This change as part of update `serial`, if there is one.
    func inUpdate(_ serial: Int?) -> Change {
        var change = self
        if let serial { change.serial = serial }
        return change
    }
}

/// One update of one entry, from O to N (CHECKS.md, "Update").
struct Update {
    /// Serial number of the update within its entry, from 1.
    var serial: Int
    /// O: the value before the first change.
    var old: EntryValue
    /// The device-visible changes, in order (at most
    /// ``Analysis/maxChangesPerUpdate``; later ones replace the last).
    var changes: [Change] = []
    /// True when a `begin` opened it: only `end` closes it.
    var explicit: Bool
    /// More changes happened than are kept.
    var truncated = false
    /// Indices into ``changes`` after which the unit cannot be in the middle
    /// of an earlier fetch: Present was clear and a covering invalidation
    /// completed (the ownership point of the handshake).
    var ownershipCuts: [Int] = []
}

/// Requirements of an entry and the values (and device-TLB state) they
/// were computed from.
struct RequirementMemo {
    var old: EntryValue
    var new: EntryValue
    var deviceTLB: Bool
    var steps: [RequiredInvalidation]
}

/// O and N of an update that has ended.
struct EndedUpdate {
    var serial: Int
    var old: EntryValue
    var new: EntryValue
}

/// One ended live in-place update of an entry's ``UpdateChain``.
struct ChainMember {
    var update: Update
    /// N: the value the update ended at.
    var new: EntryValue
    /// The covering invalidation issued after the update's last change that
    /// no wait had completed when the next update began.
    var unwaited: EventRef?
}

/// Live in-place updates of one entry that nothing completed between
/// (docs/RULES.md, "Consecutive updates"). An inferred update ends when a
/// covering invalidation is issued, but until a wait completes it the unit
/// may still be in the middle of a fetch begun before: it can read the
/// Present chunk during one update and the other chunks during the next. So
/// the exposed states of such updates are searched together, each judged
/// against the O and N of the updates its stores belong to.
struct UpdateChain {
    /// Ended updates, oldest first (at most ``Analysis/maxChainedUpdates``
    /// less one).
    var members: [ChainMember] = []
    /// An update is open and continues the chain.
    var linked = false
    /// The unit's count of waits when the open update began, if a covering
    /// invalidation of the last member was issued by then: the next wait
    /// completes it.
    var waitsAtLink: Int?
    /// The open update's changes made before that wait: a fetch begun
    /// during a member pairs only with these.
    var cut: Int?
}

/// Stores to one entry between two device write barriers of one CPU: under
/// the weak model they may reach the unit in any order.
struct Epoch {
    var cpu: UInt32
    var generation: Int
    /// The device-visible value before the epoch's first store.
    var base: EntryValue
    var changes: [Change] = []
}

/// A recorded fetch sequence: the chunk holding Present, then others.
struct Observation {
    /// What the unit read, in the bytes of ``seen``.
    var value = EntryValue()
    var seen = EntryValue()
    var fetches: [EventRef] = []
    /// The stores (flushes on a non-coherent unit) of the updates under
    /// way whose bytes the fetches read: what the torn read combines.
    var stores: [EventRef] = []
    /// The first and last update the fetches may have overlapped.
    var firstSerial: Int
    var lastSerial: Int
}

/// Present was cleared on a live entry: until a covering invalidation has
/// been issued and waited for, the unit may still be fetching it.
struct Handshake {
    var clear: Change
    var serial: Int
    /// The requirement whose invalidation hands the entry to software.
    var covering: RequiredInvalidation?
    var invalidation: EventRef?
}

/// What an update of a cached entry leaves to do: the invalidations its kind
/// requires, each issued after the last change and completed by a wait.
struct Obligation {
    var serial: Int
    var old: EntryValue
    var cachingModeSetup: Bool
    var steps: [RequiredInvalidation]
    /// The first change of the update that changed used bits, and the last.
    var firstChange: Change
    var lastChange: Change
    /// Per step: the covering invalidation issued after the last change.
    var issued: [EventRef?]
    /// Per step: a wait followed it.
    var completed: StepFlags
    /// Invalidations that nearly covered a step, with the reason they did
    /// not (wrong domain, issued before the store, never waited for).
    var nearMisses: [(step: Int, ref: EventRef, reason: String)] = []

    /// Most near misses kept per step: enough to show the mistake, and a
    /// trace of thousands of them costs no more.
    static let nearMissesPerStep = 2

    /// Step `i` has room for another near miss.
    func wantsNearMiss(_ i: Int) -> Bool {
        var count = 0
        for miss in nearMisses where miss.step == i { count += 1 }
        return count < Self.nearMissesPerStep
    }

    var isSatisfied: Bool { completed.allSet }
}

/// One flag per step of an obligation, as bits: an obligation is opened for
/// every update of a cached entry, and an array of flags was one more
/// allocation (and free) each time. A kind requires at most a few steps.
struct StepFlags {
    /// Bit `1 << i` for each step `i` whose flag is set.
    private var bits: UInt64 = 0
    /// The number of steps.
    let count: Int

    /// `count` flags, all clear.
    init(count: Int) {
        precondition(count <= 64, "an obligation has at most 64 steps")
        self.count = count
    }

    subscript(i: Int) -> Bool {
        get { bits >> UInt64(i) & 1 != 0 }
        set { if newValue { bits |= 1 << UInt64(i) } else { bits &= ~(1 << UInt64(i)) } }
    }

    /// The first step's flag, nil when there are no steps.
    var first: Bool? { count > 0 ? self[0] : nil }

    /// Every step's flag is set (true when there are none).
    var allSet: Bool { count == 64 ? bits == .max : bits == (1 << UInt64(count)) - 1 }
}

/// What few entries hold at a time, kept out of line so that every track
/// stays small. The large parts are boxed again, so that an entry with only
/// a weak-model epoch open (every entry a run of stores touches) holds a
/// few hundred bytes, not the size of every state at once.
struct RareState {
    var epoch: Epoch?
    var pendingEpochs: [Epoch] = []
    var observation: OutOfLine<Observation>?
    var pendingObservations: [Observation] = []
    var handshake: OutOfLine<Handshake>?
    var obligation: OutOfLine<Obligation>?
    /// Held here, not boxed: an entry of a non-coherent unit sets it on a
    /// store and clears it on the flush, and a box of its own was allocated
    /// and freed each time.
    var dirty: EventRef?
    var chain: OutOfLine<UpdateChain>?
    /// The device-visible value when a wait completed every invalidation
    /// an open `begin`/`end` update required so far: what the unit may
    /// have cached since, and so the domain id a later change's
    /// invalidations need (O, the value at `begin`, is no longer cached).
    var cachedSinceWait: EntryValue?

    var isEmpty: Bool {
        epoch == nil && pendingEpochs.isEmpty && observation == nil && pendingObservations.isEmpty
            && handshake == nil && obligation == nil && dirty == nil && chain == nil && cachedSinceWait == nil
    }
}

extension Optional {
    /// Sets a boxed state: into its box when there is one (no allocation:
    /// an analyzer reads a state out, changes it and writes it back on
    /// every event that concerns it), else in a new box.
    mutating func replace<Value>(with value: consuming Value?) where Wrapped == OutOfLine<Value> {
        guard let value else { self = nil; return }
        if self != nil { self!.set(value) } else { self = OutOfLine(value) }
    }
}

/// Out-of-line storage with value semantics: copied on write.
struct OutOfLine<Value> {
    private final class Storage {
        // Unchecked: a class's stored property is otherwise checked for
        // overlapping access at run time on every read and write (some 80
        // instructions); a storage object is only reached through its
        // one `OutOfLine`, on one thread.
        @exclusivity(unchecked) var value: Value
        init(_ value: consuming Value) { self.value = value }
    }
    private var storage: Storage

    init(_ value: consuming Value) { storage = Storage(value) }

    /// Replaces the value, in the same storage when no copy shares it.
    mutating func set(_ value: consuming Value) {
        if isKnownUniquelyReferenced(&storage) { storage.value = value } else { storage = Storage(value) }
    }

    var value: Value {
        // Borrowed, not copied: reading one field copies only that field.
        _read { yield storage.value }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.value) }
            yield &storage.value
        }
    }
}

/// Everything the analyzers keep about one entry. Kept small: most entries
/// hold nothing but their last device-visible value.
struct EntryTrack {
    /// The unit's view of the entry after the last event.
    var device = EntryValue()
    var known = false
    /// Changed since it was last registered for invalidations
    /// (``Analysis/reindexIfNeeded(_:_:)``).
    var awaitsReindex = false
    /// Has pending invalidation work, as its unit's
    /// ``InvalidationInterest`` last heard.
    var isPending = false
    /// The unit fetched the entry while present since the last covering
    /// invalidation (CHECKS.md, "may be cached").
    var fetchedPresent = false
    /// Updates started so far.
    var serial = 0
    var open: Update?
    /// The last few ended updates, newest last.
    var ended: [EndedUpdate] = []
    /// Updates found torn in program order (recent ones).
    var tornInOrder: [Int] = []
    /// (rule, update) pairs already reported, as ``reportKey(_:serial:)``:
    /// one finding per rule, entry
    /// and update.
    var reported: [Int] = []
    private var rare: OutOfLine<RareState>?

    // The out-of-line state is allocated on the first write that leaves
    // something in it. Once allocated it is kept, empty or not: an entry of
    // a non-coherent unit gains and loses its unflushed store on every
    // store and flush, and freeing the state each time made an allocation
    // and a free of it per store. The setters write its fields directly:
    // key paths copied the whole state on every read, and a closure that
    // captured the new value copied it (retaining its lists, copying its
    // changes) to store it and destroyed the original.

    /// The current weak-model epoch.
    var epoch: Epoch? {
        get { rare?.value.epoch }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.epoch = newValue
        }
    }
    /// Closed epochs waiting for their updates to end.
    var pendingEpochs: [Epoch] {
        get { rare?.value.pendingEpochs ?? [] }
        set {
            guard rare != nil || !newValue.isEmpty else { return }
            allocateRareIfNeeded()
            rare!.value.pendingEpochs = newValue
        }
    }
    /// The current recorded fetch sequence.
    var observation: Observation? {
        get { rare?.value.observation?.value }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.observation.replace(with: newValue)
        }
    }
    /// Closed fetch sequences waiting for their updates to end.
    var pendingObservations: [Observation] {
        get { rare?.value.pendingObservations ?? [] }
        set {
            guard rare != nil || !newValue.isEmpty else { return }
            allocateRareIfNeeded()
            rare!.value.pendingObservations = newValue
        }
    }
    var handshake: Handshake? {
        get { rare?.value.handshake?.value }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.handshake.replace(with: newValue)
        }
    }
    var obligation: Obligation? {
        get { rare?.value.obligation?.value }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.obligation.replace(with: newValue)
        }
    }

    /// Opens `obligation`, moved into its box (a copy retains its lists and
    /// copies its changes).
    mutating func openObligation(_ obligation: consuming Obligation) {
        allocateRareIfNeeded()
        rare!.value.obligation.replace(with: obligation)
    }

    /// Allocates the out-of-line state, empty, before a first write that
    /// leaves something in it.
    @inline(__always) private mutating func allocateRareIfNeeded() {
        if rare == nil { rare = OutOfLine(RareState()) }
    }
    /// The first store not yet flushed (non-coherent units).
    var dirty: EventRef? {
        get { rare?.value.dirty }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.dirty = newValue
        }
    }
    /// See ``RareState/cachedSinceWait``.
    var cachedSinceWait: EntryValue? {
        get { rare?.value.cachedSinceWait }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.cachedSinceWait = newValue
        }
    }
    /// The ended updates a fetch begun earlier may still straddle.
    var chain: UpdateChain? {
        get { rare?.value.chain?.value }
        set {
            guard rare != nil || newValue != nil else { return }
            allocateRareIfNeeded()
            rare!.value.chain.replace(with: newValue)
        }
    }
    // Fields read through these, not `tracks[e].open?.serial` at the call
    // site: optional chaining on an array element copies the whole track
    // (retaining each of its arrays) before reading one field.
    /// An update is open.
    var hasOpenUpdate: Bool { open != nil }
    /// The open update's serial.
    var openSerial: Int? { open?.serial }
    /// Whether the open update was opened by `begin`.
    var openIsExplicit: Bool? { open?.explicit }
    /// The open update's O.
    var openOld: EntryValue? { open?.old }
    /// The open update's changes (a retained array, not a copy of the update).
    var openChanges: [Change]? { open?.changes }
    /// The number of changes the open update keeps.
    var openChangeCount: Int? { open?.changes.count }
    /// What the unit may hold cached: O of the open obligation, else the
    /// value before Present was cleared, else nil (read in place).
    var cachedBeforeChange: EntryValue? {
        rare?.value.obligation?.value.old ?? rare?.value.handshake?.value.clear.before
    }

    /// Changes the open obligation where it is kept, if there is one (a
    /// copy of it retains its arrays and copies its changes).
    mutating func modifyObligation(_ body: (inout Obligation) -> Void) {
        guard rare?.value.obligation != nil else { return }
        body(&rare!.value.obligation!.value)
    }

    /// Changes the handshake in progress where it is kept, if there is one
    /// (a copy of it copies its change and retains its requirement).
    mutating func modifyHandshake(_ body: (inout Handshake) -> Void) {
        guard rare?.value.handshake != nil else { return }
        body(&rare!.value.handshake!.value)
    }

    /// Changes the current fetch sequence where it is kept, if there is one.
    mutating func modifyObservation(_ body: (inout Observation) -> Void) {
        guard rare?.value.observation != nil else { return }
        body(&rare!.value.observation!.value)
    }

    /// The bytes the current fetch sequence has read so far.
    var observationSeen: EntryValue? { rare?.value.observation?.value.seen }

    /// Reads the open obligation where it is kept, if there is one.
    func readObligation<R>(_ body: (Obligation) -> R) -> R? {
        guard let box = rare?.value.obligation else { return nil }
        return body(box.value)
    }

    /// The key of `rule`'s finding about update `serial` in ``reported``.
    static func reportKey(_ rule: Rule, serial: Int) -> Int { serial << 3 | rule.ordinal }

    /// `rule` has raised its finding about update `serial`.
    func hasReported(_ rule: Rule, serial: Int) -> Bool { reported.contains(Self.reportKey(rule, serial: serial)) }

    /// The open update, else the one the next change will start: what a
    /// finding about a store not yet part of an ended update belongs to.
    var openOrNextSerial: Int { open?.serial ?? serial + 1 }

    /// Some rarely held state was ever set (it may be empty now): when
    /// false, none is.
    var hasRareState: Bool { rare != nil }
    /// A handshake is in progress (without copying it out).
    var hasHandshake: Bool { rare?.value.handshake != nil }
    /// A store is waiting for its flush (without copying it out).
    var hasDirty: Bool { rare?.value.dirty != nil }
    /// An obligation is open (without copying it out).
    var hasObligation: Bool { rare?.value.obligation != nil }
    /// An update chain is kept (without copying it out).
    var hasChain: Bool { rare?.value.chain != nil }
    /// The update a new finding about the current state belongs to.
    var currentSerial: Int { open?.serial ?? max(serial, 1) }

    func endedUpdate(_ serial: Int) -> EndedUpdate? { ended.last { $0.serial == serial } }

    /// O and N of updates `first...last`: the values the software meant.
    func meantValues(_ first: Int, _ last: Int) -> [EntryValue] {
        var values: [EntryValue] = []
        for u in ended where u.serial >= first && u.serial <= last {
            values.append(u.old)
            values.append(u.new)
        }
        if let open, open.serial >= first, open.serial <= last {
            values.append(open.old)
            values.append(device)
        }
        return values
    }

    /// True when every update up to `serial` has ended.
    func hasEnded(_ serial: Int) -> Bool { open.map { $0.serial > serial } ?? true }
}

extension Array {
    /// `count` copies of `value`. `Array(repeating:count:)` allocates
    /// through a standard-library function that is never specialized: it
    /// looks the array's type up at run time, some 700 instructions a call
    /// (worth it only for large arrays, whose filling it does faster).
    init(filledWith value: Element, count: Int) {
        self = []
        reserveCapacity(count)
        append(contentsOf: repeatElement(value, count: count))
    }
}
