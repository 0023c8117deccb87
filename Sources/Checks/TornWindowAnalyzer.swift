import Replay
import TraceFormat

// Rule `torn-window` (CHECKS.md): the update exposes a torn state in program
// order. Under `tso` that is the only order; under `weak` it is the order no
// barrier can improve on, so the weak search runs only where this one finds
// nothing (rule `missing-barrier`).
extension Analysis {
    /// Judges an update that has ended: alone, then together with the
    /// updates before it that no completed invalidation separates from it.
    mutating func analyzeTornWindow(_ e: Int, _ update: Update, new: EntryValue, _ replay: Replayer) {
        if analyzeUpdateAlone(e, update, new: new, replay) { return }
        if tracks[e].hasRareState, let chain = tracks[e].chain, chain.linked {
            analyzeChain(e, chain, update, new: new, replay)
        }
    }

    /// The torn-state search over one update; true when it found one.
    private mutating func analyzeUpdateAlone(_ e: Int, _ update: Update, new: EntryValue, _ replay: Replayer) -> Bool {
        guard update.changes.count > 0 else { return false }
        let shape = EntryShape(replay.entries[e])
        // Quick answers for the common shapes: one atomic change within the
        // Present chunk exposes only O and N, and a setup whose only present
        // version is its last exposes only N.
        let pcRange = shape.presentChunk * shape.chunk..<(shape.presentChunk + 1) * shape.chunk
        if update.changes.count == 1, !update.changes[0].splits, pcRange.contains(update.changes[0].bytes.lowerBound),
           update.changes[0].bytes.upperBound <= pcRange.upperBound { return false }
        if !shape.isPresent(update.old), update.changes.dropLast().allSatisfy({ !shape.isPresent($0.after) }),
           !update.changes.contains(where: \.splits) { return false }
        let (versions, endOfChange) = programOrderVersions(update, shape)
        // After an ownership point the unit has finished every fetch it began
        // before: a Present chunk read earlier cannot pair with later chunks.
        let cuts = update.ownershipCuts.map { $0 == 0 ? 0 : endOfChange[$0 - 1] }
        let options = [[EntryValue]](repeating: versions, count: shape.chunkCount)
        guard let witness = TornSearch.find(shape, options: options, meant: [update.old, new], allowed: { p, _, o in
            o >= p && !cuts.contains { p <= $0 && o > $0 }
        }) else { return false }
        noteTornInOrder(e, update.serial)

        let first = update.changes[0]
        let record = replay.entries[e]
        let message = "\(entryName(record)) is rewritten in place while present: from line \(first.ref.event.line) the unit can fetch a mix of old and new words"
        var events: [(ref: EventRef?, role: String)] = []
        for (k, change) in update.changes.enumerated() {
            var role = "writes " + wordsText(change.bytes, kind: record.kind)
            if k == witness.choice[shape.presentChunk] - 1 { role += "; the unit may read the Present chunk after it" }
            events.append((change.ref, role))
        }
        report(.tornWindow, entry: e, serial: update.serial, message: message, events: events, old: update.old,
               exposed: witness.value, new: new, steps: requirements(e, old: update.old, new: new, replay),
               bound: update.truncated)
        return true
    }

    /// Update `serial` exposes a torn state in program order: no barrier
    /// can fix it, so `missing-barrier` stays silent about it.
    private mutating func noteTornInOrder(_ e: Int, _ serial: Int) {
        guard !tracks[e].tornInOrder.contains(serial) else { return }
        tracks[e].tornInOrder.append(serial)
        if tracks[e].tornInOrder.count > 8 { tracks[e].tornInOrder.removeFirst() }
    }

    // MARK: - Consecutive updates (UpdateChain)

    /// The ended update `member` of entry `e` has had a covering
    /// invalidation issued after its last change and completed by a wait,
    /// or every invalidation it requires completed: a fetch begun during it
    /// has finished.
    private func isCompleted(_ e: Int, _ member: Update, _ replay: Replayer) -> Bool {
        if let obligation = tracks[e].obligation, obligation.serial == member.serial {
            return obligation.completed.first == true
        }
        // No obligation left: every required invalidation completed, unless
        // the entry's kind requires none (then nothing ever completes).
        return !InvalidationRequirements.requiresNone(replay.entries[e].kind)
    }

    /// A new update of `e` starts at `old`: it continues the entry's chain
    /// when the entry is still present and nothing completed since the
    /// chain's last update; otherwise the chain is dropped.
    mutating func linkChain(_ e: Int, old: EntryValue, _ replay: Replayer) {
        guard var chain = tracks[e].chain, let last = chain.members.last,
              EntryShape(replay.entries[e]).isPresent(old),
              !isCompleted(e, last.update, replay) else {
            tracks[e].chain = nil
            return
        }
        var unwaited: EventRef?
        if let obligation = tracks[e].obligation, obligation.serial == last.update.serial, let issued = obligation.issued.first {
            unwaited = issued
        }
        chain.members[chain.members.count - 1].unwaited = unwaited
        chain.linked = true
        // Not completed, so no wait followed the issued invalidation yet:
        // the next wait on the unit will.
        chain.waitsAtLink = unwaited == nil ? nil : waits(onUnitOf: e, replay)
        chain.cut = nil
        tracks[e].chain = chain
    }

    /// Before a change of a linked update is kept: if a wait completed the
    /// chain's invalidation since, a fetch begun during an earlier update
    /// cannot see this change or any later one.
    mutating func noteChainCut(_ e: Int, _ replay: Replayer) {
        guard let chain = tracks[e].chain, chain.linked, chain.cut == nil, let mark = chain.waitsAtLink,
              waits(onUnitOf: e, replay) > mark, let open = tracks[e].open else { return }
        tracks[e].chain?.cut = open.changes.count
    }

    /// After update `update` of `e` ended at `new`: a live in-place update
    /// whose covering invalidation has not completed joins (or starts) the
    /// chain the next update may continue.
    mutating func extendChain(_ e: Int, _ update: Update, new: EntryValue, _ replay: Replayer) {
        let previous = tracks[e].hasRareState ? tracks[e].chain : nil
        let shape = EntryShape(replay.entries[e])
        guard shape.isPresent(update.old), shape.isPresent(new), !update.changes.isEmpty,
              !isCompleted(e, update, replay) else {
            if previous != nil { tracks[e].chain = nil }
            return
        }
        var members: [ChainMember] = []
        if let previous, previous.linked, previous.cut == nil,
           previous.waitsAtLink.map({ waits(onUnitOf: e, replay) <= $0 }) ?? true {
            members = previous.members
        }
        members.append(ChainMember(update: update, new: new))
        if members.count >= Self.maxChainedUpdates { members.removeFirst(members.count - Self.maxChainedUpdates + 1) }
        tracks[e].chain = UpdateChain(members: members)
    }

    /// A wait completed what `e` waited for: a chain no update continues
    /// is dropped once its last update's covering invalidation completed.
    mutating func chainWaitCompleted(_ e: Int, _ replay: Replayer) {
        guard let chain = tracks[e].chain, !chain.linked, let last = chain.members.last,
              isCompleted(e, last.update, replay) else { return }
        tracks[e].chain = nil
    }

    private func waits(onUnitOf e: Int, _ replay: Replayer) -> Int {
        let unit = replay.entries[e].unit
        return unit < waitsPerUnit.count ? waitsPerUnit[unit] : 0
    }

    /// Searches the exposed states of the updates of `chain` followed by
    /// `update`, which has just ended at `new`. A state whose Present chunk
    /// is read during member `i` and whose other chunks are read up to the
    /// end of `update` is judged against the O and N of updates `i` through
    /// `update`; states within earlier updates were judged when they ended.
    /// The shortest window that exposes a torn state is reported, once.
    private mutating func analyzeChain(_ e: Int, _ chain: UpdateChain, _ update: Update, new: EntryValue, _ replay: Replayer) {
        guard !update.changes.isEmpty else { return }
        let record = replay.entries[e]
        let shape = EntryShape(record)
        var parts = chain.members
        parts.append(ChainMember(update: update, new: new))
        // The versions of every part in program order, end to end.
        var versions: [EntryValue] = []
        var starts: [Int] = []
        var ends: [[Int]] = []
        for part in parts {
            let (v, endOfChange) = programOrderVersions(part.update, shape)
            starts.append(versions.count)
            ends.append(endOfChange.map { $0 + versions.count })
            versions += v
        }
        let last = parts.count - 1
        let lastStart = starts[last]
        // Ownership points of the last update, and the wait that completed
        // the chain's invalidation: no earlier read pairs with later chunks.
        let cuts = update.ownershipCuts.map { $0 == 0 ? lastStart : ends[last][$0 - 1] }
        let chainCut = chain.cut.map { $0 == 0 ? lastStart : ends[last][$0 - 1] }
        let options = [[EntryValue]](repeating: versions, count: shape.chunkCount)
        for i in stride(from: last - 1, through: 0, by: -1) {
            var meant: [EntryValue] = []
            for part in parts[i...] { meant += [part.update.old, part.new] }
            let presentRange = starts[i]..<starts[i + 1]
            guard let witness = TornSearch.find(shape, options: options, meant: meant, presentRange: presentRange,
                                                allowed: { p, _, o in
                o >= p && !cuts.contains { p <= $0 && o > $0 } && !(chainCut.map { o > $0 } ?? false)
            }) else { continue }
            reportChain(e, Array(parts[i...]), versionStarts: Array(starts[i...]), changeEnds: Array(ends[i...]),
                        witness: witness, replay)
            return
        }
    }

    private mutating func reportChain(_ e: Int, _ parts: [ChainMember], versionStarts: [Int], changeEnds: [[Int]],
                                      witness: TornWitness, _ replay: Replayer) {
        let record = replay.entries[e]
        let shape = EntryShape(record)
        let serials = parts.map(\.update.serial)
        for serial in serials { noteTornInOrder(e, serial) }
        guard !serials.contains(where: { tracks[e].hasReported(.tornWindow, serial: $0) }) else { return }
        // The change after which the unit may read the Present chunk: the
        // last one that ends at or before the version read.
        let p = witness.choice[shape.presentChunk]
        var readAfter: (part: Int, change: Int)?
        for (k, changeEnd) in changeEnds.enumerated() {
            for (c, end) in changeEnd.enumerated() where end <= p { readAfter = (k, c) }
        }
        var events: [(ref: EventRef?, role: String)] = []
        for (k, part) in parts.enumerated() {
            for (c, change) in part.update.changes.enumerated() {
                var role = "writes " + wordsText(change.bytes, kind: record.kind)
                if readAfter?.part == k && readAfter?.change == c { role += "; the unit may read the Present chunk after it" }
                events.append((change.ref, role))
            }
            if let unwaited = part.unwaited {
                events.append((unwaited, "invalidation not waited for before the next update"))
            }
        }
        let first = parts[0].update.changes[0]
        let next = parts[1].update.changes[0]
        let gap = parts[0].unwaited.map { "the invalidation at line \($0.event.line) was not waited for before the store at line \(next.ref.event.line)" }
            ?? "no invalidation completed before the store at line \(next.ref.event.line)"
        let message = "\(entryName(record)) is rewritten in place while present, in \(parts.count) updates that nothing completed between (\(gap)): from line \(first.ref.event.line) the unit can fetch a mix of old and new words"
        let old = parts[0].update.old, new = parts[parts.count - 1].new
        report(.tornWindow, entry: e, serial: serials[0], message: message, events: events, old: old,
               exposed: witness.value, new: new, steps: requirements(e, old: old, new: new, replay),
               bound: parts.contains { $0.update.truncated })
        // One finding for the chain: none again for any of its updates.
        for serial in serials.dropFirst() where !tracks[e].hasReported(.tornWindow, serial: serial) {
            tracks[e].reported.append(EntryTrack.reportKey(.tornWindow, serial: serial))
        }
    }

    /// The device-visible values an update passes through, in program order:
    /// the old value, then the value after each change. A store that is not
    /// single-copy atomic lands chunk by chunk. Also returns, per change, the
    /// index of the version it ends at.
    func programOrderVersions(_ update: Update, _ shape: EntryShape) -> ([EntryValue], [Int]) {
        var versions = [update.old]
        var endOfChange: [Int] = []
        var current = update.old
        for change in update.changes {
            if change.splits {
                for c in 0..<shape.chunkCount {
                    let range = c * shape.chunk..<min((c + 1) * shape.chunk, shape.size)
                    let piece = range.clamped(to: change.bytes)
                    guard !piece.isEmpty, piece != change.bytes else { continue }
                    let m = shape.byteMask(piece)
                    current = (current & ~m) | (change.after & m)
                    versions.append(current)
                }
            }
            current = change.after
            versions.append(current)
            endOfChange.append(versions.count - 1)
        }
        return (versions, endOfChange)
    }
}
