import Replay
import TraceFormat

// Rule `missing-barrier` (CHECKS.md): under the weak model, stores between
// two device write barriers of one CPU may reach the unit in any order. An
// update that is safe in program order but exposes a torn state once they
// are reordered is missing a barrier between the two stores named.
extension Analysis {
    /// Adds a store to the entry's current epoch (weak model only).
    mutating func noteEpochStore(_ e: Int, _ change: Change, _ replay: Replayer) {
        guard options.memoryModel == .weak, change.ref.event.kind == .store else { return }
        let cpu = change.ref.event.cpu
        let generation = fenceGeneration[cpu] ?? 0
        if let epoch = tracks[e].epoch, epoch.cpu != cpu || epoch.generation != generation {
            closeEpoch(e, replay)
            analyzePendingEpochs(e, replay, force: false)
        }
        if tracks[e].epoch == nil {
            tracks[e].epoch = Epoch(cpu: cpu, generation: generation, base: change.before)
            openEpochs[cpu, default: []].insert(e)
        }
        if tracks[e].epoch!.changes.count < Self.maxChangesPerUpdate { tracks[e].epoch!.changes.append(change) }
    }

    /// A device write barrier on `cpu` ends the epochs of every entry its
    /// stores are in.
    mutating func closeEpochs(cpu: UInt32, _ replay: Replayer) {
        guard let entries = openEpochs.removeValue(forKey: cpu) else { return }
        for e in entries.sorted() {
            closeEpoch(e, replay)
            analyzePendingEpochs(e, replay, force: false)
        }
    }

    /// Ends the entry's current epoch; it waits for its updates to end.
    mutating func closeEpoch(_ e: Int, _ replay: Replayer) {
        guard let epoch = tracks[e].epoch else { return }
        tracks[e].epoch = nil
        openEpochs[epoch.cpu]?.remove(e)
        // One store cannot be reordered with itself, and stores on top of a
        // non-present value that never set Present expose nothing present.
        guard epoch.changes.count > 1 else { return }
        let shape = EntryShape(replay.entries[e])
        guard shape.isPresent(epoch.base) || epoch.changes.contains(where: { shape.isPresent($0.after) }) else { return }
        if tracks[e].pendingEpochs.count == Self.maxPendingPerEntry { tracks[e].pendingEpochs.removeFirst() }
        tracks[e].pendingEpochs.append(epoch)
    }

    /// Judges the closed epochs whose updates have all ended (all of them
    /// when `force`).
    mutating func analyzePendingEpochs(_ e: Int, _ replay: Replayer, force: Bool) {
        while let epoch = tracks[e].pendingEpochs.first {
            let last = epoch.changes.map(\.serial).max() ?? 0
            guard force || tracks[e].hasEnded(last) else { return }
            tracks[e].pendingEpochs.removeFirst()
            analyzeEpoch(e, epoch, replay)
        }
    }

    private mutating func analyzeEpoch(_ e: Int, _ epoch: Epoch, _ replay: Replayer) {
        guard enabled(.missingBarrier) else { return }
        let serials = Set(epoch.changes.map(\.serial).filter { $0 > 0 }).sorted()
        guard let first = serials.first, !serials.contains(where: tracks[e].tornInOrder.contains) else { return }
        let record = replay.entries[e]
        let shape = EntryShape(record)
        var meant: [EntryValue] = []
        for s in serials { meant += tracks[e].meantValues(s, s) }
        let stores = epoch.changes.enumerated().map { EpochStore(bytes: $0.element.bytes, data: $0.element.after, change: $0.offset) }
        guard let (witness, visible) = TornSearch.underWeakOrdering(shape, base: epoch.base, stores: stores, meant: meant)
        else { return }
        // Name the pair a barrier must separate: preferably the store that
        // sets or clears Present and the one that overtakes it or is
        // overtaken by it.
        let presentMask = shape.byteMask(shape.presentBit / 8..<shape.presentBit / 8 + 1)
        func changesPresent(_ i: Int) -> Bool {
            (epoch.changes[i].before ^ epoch.changes[i].after) & presentMask != EntryValue()
                && shape.isPresent(epoch.changes[i].before) != shape.isPresent(epoch.changes[i].after)
        }
        let overtaking = visible.filter { v in (0..<v).contains { !visible.contains($0) } }
        guard let late = overtaking.first(where: changesPresent) ?? overtaking.first else { return }
        let overtaken = (0..<late).filter { !visible.contains($0) }
        guard let early = overtaken.first(where: changesPresent) ?? overtaken.last else { return }
        let a = epoch.changes[early], b = epoch.changes[late]
        let relied = (weakBarriers[epoch.cpu] ?? []).filter { $0.index > a.ref.index && $0.index < b.ref.index }
        var message = "\(entryName(record)): the store to \(wordsText(b.bytes, kind: record.kind)) at line \(b.ref.event.line) may reach the unit before the store to \(wordsText(a.bytes, kind: record.kind)) at line \(a.ref.event.line), exposing a torn entry; a device write barrier (dma_wmb) must separate them"
        if let barrier = relied.first, case .fence(let kind) = barrier.event.payload {
            message += "; the \(kind.name) at line \(barrier.event.line) does not order stores for a device"
        }
        var events: [(ref: EventRef?, role: String)] = [
            (a.ref, "must reach the unit first"), (b.ref, "may overtake it"),
        ]
        events += relied.map { ($0, "does not order stores for a device") }
        // O of the first update the epoch's stores belong to, N of the last:
        // a teardown's N is the zeroed entry, not the value Present was
        // cleared to, so that the fix writes the rest of it too.
        let old = tracks[e].endedUpdate(first)?.old ?? epoch.base
        let new = serials.last.flatMap { tracks[e].endedUpdate($0)?.new } ?? tracks[e].device
        report(.missingBarrier, entry: e, serial: first, message: message, events: events,
               old: old, exposed: witness.value, new: new, steps: requirements(e, old: old, new: new, replay),
               bound: TornSearch.boundReached(shape, stores: stores))
    }
}
