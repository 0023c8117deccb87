import Replay
import TraceFormat

// Rule `missing-invalidation` (CHECKS.md): an update that changed the used
// bits of an entry the unit may hold cached leaves an obligation: every
// invalidation its kind requires (InvalidationRequirements), issued after
// the last change was device-visible, with the cached entry's domain id,
// source id and PASID, and completed by a wait, before the entry's next
// update or the end of the trace.
extension Analysis {
    /// The invalidations a change of entry `e` from `old` to `new` requires.
    /// `deviceTLB` overrides whether the device has ATS enabled.
    func requirements(_ e: Int, old: EntryValue, new: EntryValue, _ replay: Replayer,
                      cachingModeSetup: Bool = false, deviceTLB: Bool? = nil) -> [RequiredInvalidation] {
        // Which domain id each step takes (the cached entry's old one; under
        // caching mode the new one, or 0) is the table's business. (Fields,
        // not the record: a copy of one retains its strings and history.)
        return InvalidationRequirements.required(kind: replay.entries[e].identity.kind, sid: replay.entries[e].identity.sid,
                                                 pasid: replay.entries[e].identity.pasid, old: old, new: new,
                                                 deviceTLB: deviceTLB ?? deviceTLBEnabled(e, old: old, new: new, replay),
                                                 cachingModeSetup: cachingModeSetup)
    }

    /// The first of ``requirements(_:old:new:_:cachingModeSetup:deviceTLB:)``,
    /// without building the others.
    func firstRequirement(_ e: Int, old: EntryValue, new: EntryValue, _ replay: Replayer) -> RequiredInvalidation? {
        InvalidationRequirements.firstRequired(kind: replay.entries[e].identity.kind, sid: replay.entries[e].identity.sid,
                                               pasid: replay.entries[e].identity.pasid, old: old, new: new,
                                               deviceTLB: deviceTLBEnabled(e, old: old, new: new, replay),
                                               cachingModeSetup: false)
    }

    /// ``requirements(_:old:new:_:cachingModeSetup:deviceTLB:)``, remembered
    /// per entry with pending work: invalidations visit such entries again
    /// and again, and building the requirements allocates. Two per entry, because a visit
    /// may ask twice: for the cached value (what the unit holds) and for the
    /// device-visible one (an unflushed store).
    mutating func cachedRequirements(_ e: Int, old: EntryValue, new: EntryValue, _ replay: Replayer) -> [RequiredInvalidation] {
        let deviceTLB = deviceTLBEnabled(e, old: old, new: new, replay)
        while requirementMemo.count <= e { requirementMemo.append([]) }
        if let memo = requirementMemo[e].first(where: { $0.old == old && $0.new == new && $0.deviceTLB == deviceTLB }) {
            return memo.steps
        }
        let steps = requirements(e, old: old, new: new, replay)
        if requirementMemo[e].count == 2 { requirementMemo[e].removeLast() }
        requirementMemo[e].insert(RequirementMemo(old: old, new: new, deviceTLB: deviceTLB, steps: steps), at: 0)
        return steps
    }

    /// The device may hold translations in its own TLB (ATS): legacy context
    /// TT = 01b, scalable context DTE, and for a PASID entry its device's
    /// scalable context entry's DTE, read by the walk.
    func deviceTLBEnabled(_ e: Int, old: EntryValue, new: EntryValue, _ replay: Replayer) -> Bool {
        switch replay.entries[e].kind {
        case .context: return old[0] >> 2 & 3 == 1 || new[0] >> 2 & 3 == 1
        case .smContext: return (old[0] | new[0]) & 4 != 0
        case .pasid:
            guard let sid = replay.entries[e].identity.sid else { return false }
            let u = replay.entries[e].unit
            guard let root = replay.units[u].root, replay.units[u].mode == .scalable else { return false }
            let bus = UInt64(sid >> 8), devfn = UInt64(sid & 0xff)
            let rootWord = UInt64(truncatingIfNeeded: replay.memory.read(addr: root &+ bus * 16 &+ (devfn >= 128 ? 8 : 0), size: 8))
            guard rootWord & 1 == 1 else { return false }
            let context = (rootWord & Layout.pointerMask) &+ (devfn & 0x7f) * 32
            let lo = UInt64(truncatingIfNeeded: replay.memory.read(addr: context, size: 8))
            return lo & 1 == 1 && lo & 4 != 0
        default: return false
        }
    }

    /// A change of used bits: opens, extends or fails an obligation.
    mutating func invalidationOnChange(_ e: Int, _ change: Change, _ replay: Replayer) {
        if let serial = tracks[e].readObligation({ $0.serial }), serial != change.serial {
            if let obligation = tracks[e].obligation { reportMissingInvalidation(e, obligation, replay, cutShortBy: change) }
            tracks[e].obligation = nil
        }
        if tracks[e].hasObligation {
            // Invalidations must come after the last store is visible.
            var setupOld: EntryValue?
            tracks[e].modifyObligation { obligation in
                for i in obligation.steps.indices {
                    if let early = obligation.issued[i], obligation.wantsNearMiss(i) {
                        obligation.nearMisses.append((i, early, "the \(obligation.steps[i].name) invalidation at line \(early.event.line) came before the store at line \(change.ref.event.line)"))
                    }
                    obligation.issued[i] = nil
                    obligation.completed[i] = false
                }
                obligation.lastChange = change
                if obligation.cachingModeSetup { setupOld = obligation.old }
            }
            if let setupOld {
                let steps = requirements(e, old: setupOld, new: change.after, replay, cachingModeSetup: true)
                tracks[e].modifyObligation { $0.steps = steps }
            }
            return
        }
        guard let old = tracks[e].cachedSinceWait ?? tracks[e].openOld else { return }
        let cachingMode = replay.units[replay.entries[e].unit].cachingMode
        let wasPresent = EntryShape(replay.entries[e]).isPresent(old)
        guard wasPresent || tracks[e].fetchedPresent || cachingMode else { return }
        let cachingModeSetup = !wasPresent && cachingMode
        let steps = requirements(e, old: old, new: change.after, replay, cachingModeSetup: cachingModeSetup)
        guard !steps.isEmpty else { return }
        tracks[e].openObligation(Obligation(serial: change.serial, old: old, cachingModeSetup: cachingModeSetup,
                                          steps: steps, firstChange: change, lastChange: change,
                                          issued: Array(filledWith: nil, count: steps.count),
                                          completed: StepFlags(count: steps.count)))
    }

    /// An invalidation request on the entry's unit.
    mutating func invalidationIssued(_ e: Int, _ inv: Invalidation, _ ref: EventRef, _ replay: Replayer) {
        checkFlushBeforeInvalidation(e, inv, ref, replay)
        handshakeInvalidation(e, inv, ref)
        let kind = replay.entries[e].kind
        tracks[e].modifyObligation { obligation in
            for i in obligation.steps.indices where !obligation.completed[i] && obligation.issued[i] == nil {
                let newDID = Layout.domainID(kind, obligation.lastChange.after)
                switch obligation.steps[i].match(inv, newDID: newDID) {
                case .covers:
                    // The caches are invalidated outermost first: one
                    // invalidated before the cache it is filled from may be
                    // refilled from its stale entry at once.
                    if let j = obligation.steps.indices.prefix(i).first(where: { !obligation.completed[$0] && obligation.issued[$0] == nil }) {
                        if obligation.wantsNearMiss(i) {
                            let (name, before) = (obligation.steps[i].name, obligation.steps[j].name)
                            obligation.nearMisses.append((i, ref, "the \(name) invalidation at line \(ref.event.line) came before any \(before) invalidation, "
                                + "so the \(name) may be refilled from the stale \(before) entry (it must follow it)"))
                        }
                    } else {
                        obligation.issued[i] = ref
                    }
                case .wrongScope(let why):
                    if obligation.wantsNearMiss(i) {
                        obligation.nearMisses.append((i, ref, "the \(obligation.steps[i].name) invalidation at line \(ref.event.line) has \(why)"))
                    }
                case .unrelated: break
                }
            }
        }
        // A covering invalidation ends a live entry's in-place update, and
        // the unit no longer holds what it fetched before.
        // Judge against what the unit may hold: the value before a pending
        // change, else the current one.
        let device = tracks[e].device
        let liveUpdate = isLiveUpdate(e, replay)
        guard liveUpdate || tracks[e].fetchedPresent else { return }
        let cached = tracks[e].cachedBeforeChange ?? device
        if let first = cachedRequirements(e, old: cached, new: device, replay).first, first.match(inv) == .covers {
            tracks[e].fetchedPresent = false
            if liveUpdate { endUpdate(e, new: device, replay) }
        }
    }

    /// A wait completes every invalidation issued before it.
    mutating func waitCompleted(_ e: Int, _ ref: EventRef, _ replay: Replayer) {
        handshakeWait(e)
        var satisfied = false
        tracks[e].modifyObligation { obligation in
            for i in obligation.steps.indices where obligation.issued[i] != nil { obligation.completed[i] = true }
            satisfied = obligation.isSatisfied
        }
        if satisfied {
            tracks[e].obligation = nil
            tracks[e].fetchedPresent = false
            if tracks[e].hasOpenUpdate { tracks[e].cachedSinceWait = tracks[e].device }
        }
        if tracks[e].hasRareState && tracks[e].hasChain { chainWaitCompleted(e, replay) }
    }

    mutating func checkObligationAtEnd(_ e: Int, _ replay: Replayer) {
        guard let obligation = tracks[e].obligation else { return }
        tracks[e].obligation = nil
        reportMissingInvalidation(e, obligation, replay, cutShortBy: nil)
    }

    private mutating func reportMissingInvalidation(_ e: Int, _ obligation: Obligation, _ replay: Replayer, cutShortBy next: Change?) {
        let record = replay.entries[e]
        var missing: [String] = []
        var events: [(ref: EventRef?, role: String)] = [(obligation.firstChange.ref, "changes used bits of a cached entry")]
        if obligation.lastChange.ref.index != obligation.firstChange.ref.index {
            events.append((obligation.lastChange.ref, "last change of the update"))
        }
        for (i, step) in obligation.steps.enumerated() where !obligation.completed[i] {
            let near = obligation.nearMisses.filter { $0.step == i }
            if let issued = obligation.issued[i] {
                missing.append("the \(step.name) invalidation at line \(issued.event.line) is never waited for")
                events.append((issued, "invalidation never waited for"))
            } else if !near.isEmpty {
                missing += near.map(\.reason)
                events += near.map { ($0.ref, "does not cover the entry") }
            } else {
                missing.append("no \(step.name) invalidation (`\(step.suggestion)`)")
            }
        }
        let until = next.map { "before its next update at line \($0.ref.event.line)" } ?? "before the end of the trace"
        if let next { events.append((next.ref, "next update")) }
        let cached = obligation.cachingModeSetup ? "under caching mode the unit may cache it non-present"
            : "the unit may hold it cached"
        let message = "\(entryName(record)) changed at line \(obligation.firstChange.ref.event.line) and \(cached), but \(until): " + missing.joined(separator: "; ")
        report(.missingInvalidation, entry: e, serial: obligation.serial, message: message, events: events,
               old: obligation.old, new: obligation.lastChange.after, steps: obligation.steps)
    }
}
