import Replay
import TraceFormat

// Rule `torn-window` (CHECKS.md): the update exposes a torn state in program
// order. Under `tso` that is the only order; under `weak` it is the order no
// barrier can improve on, so the weak search runs only where this one finds
// nothing (rule `missing-barrier`).
extension Analysis {
    mutating func analyzeTornWindow(_ e: Int, _ update: Update, new: EntryValue, _ replay: Replayer) {
        guard update.changes.count > 0 else { return }
        let record = replay.entries[e]
        let shape = EntryShape(record)
        // Quick answers for the common shapes: one atomic change within the
        // Present chunk exposes only O and N, and a setup whose only present
        // version is its last exposes only N.
        let pcRange = shape.presentChunk * shape.chunk..<(shape.presentChunk + 1) * shape.chunk
        if update.changes.count == 1, !update.changes[0].splits, pcRange.contains(update.changes[0].bytes.lowerBound),
           update.changes[0].bytes.upperBound <= pcRange.upperBound { return }
        if !shape.isPresent(update.old), update.changes.dropLast().allSatisfy({ !shape.isPresent($0.after) }),
           !update.changes.contains(where: \.splits) { return }
        let (versions, endOfChange) = programOrderVersions(update, shape)
        // After an ownership point the unit has finished every fetch it began
        // before: a Present chunk read earlier cannot pair with later chunks.
        let cuts = update.ownershipCuts.map { $0 == 0 ? 0 : endOfChange[$0 - 1] }
        let options = [[EntryValue]](repeating: versions, count: shape.chunkCount)
        guard let witness = TornSearch.find(shape, options: options, meant: [update.old, new], allowed: { p, _, o in
            o >= p && !cuts.contains { p <= $0 && o > $0 }
        }) else { return }
        tracks[e].tornInOrder.append(update.serial)
        if tracks[e].tornInOrder.count > 8 { tracks[e].tornInOrder.removeFirst() }

        let first = update.changes[0]
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
