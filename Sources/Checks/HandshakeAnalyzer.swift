import Replay
import TraceFormat

// Rule `ownership-handshake` (CHECKS.md): after Present is cleared on a live
// entry the unit may still hold it, or be in the middle of fetching it.
// Software owns the entry only once a covering invalidation has been issued
// and waited for; rewriting the other words before that is the race the 2026
// Linux teardown fixes closed.
extension Analysis {
    mutating func startHandshake(_ e: Int, _ change: Change, _ replay: Replayer) {
        let covering = firstRequirement(e, old: change.before, new: change.after, replay)
        tracks[e].handshake = Handshake(clear: change, serial: change.serial, covering: covering)
    }

    /// Judges a change made while a handshake is in progress.
    mutating func checkHandshake(_ e: Int, _ change: Change, wasPresent: Bool, isPresent: Bool, _ replay: Replayer) {
        guard let handshake = tracks[e].handshake else { return }
        if isPresent {
            // Present is set again: the handshake was abandoned; whatever
            // invalidation is still owed is `missing-invalidation`'s business.
            tracks[e].handshake = nil
            return
        }
        let record = replay.entries[e]
        let shape = EntryShape(record)
        let presentWord = shape.byteMask((shape.presentBit / 64) * 8..<(shape.presentBit / 64) * 8 + 8)
        guard (change.before ^ change.after) & ~presentWord != EntryValue() else { return }
        tracks[e].handshake = nil
        let what = handshake.covering.map { "a covering \($0.name) invalidation" } ?? "a covering invalidation"
        let state = handshake.invalidation == nil ? "before \(what) was issued and waited for"
            : "after the invalidation at line \(handshake.invalidation!.event.line) but before a wait completed it"
        let message = "\(entryName(record)): \(wordsText(change.bytes, kind: record.kind)) is rewritten at line \(change.ref.event.line) after Present was cleared at line \(handshake.clear.ref.event.line), \(state); the unit may still hold or be fetching the entry"
        let raised = findings.count
        report(.ownershipHandshake, entry: e, serial: handshake.serial, message: message,
               events: [(handshake.clear.ref, "clears Present"), (handshake.invalidation, "invalidation not yet waited for"),
                        (change.ref, "rewrites \(wordsText(change.bytes, kind: record.kind)) too early")],
               old: handshake.clear.before, new: change.after,
               steps: requirements(e, old: handshake.clear.before, new: change.after, replay))
        // N is where the rewriting ends (the zeroed entry of a teardown, the
        // new one of a replacement): the update this change belongs to,
        // which only begins with it.
        if findings.count > raised {
            findingsAwaitingNew.append((raised, e, tracks[e].openOrNextSerial))
        }
    }

    /// Update `serial` of `e` ended at `new`: the findings that waited for
    /// its N get it, and the invalidations and fix that go with it.
    mutating func fillInNew(_ e: Int, serial: Int, new: EntryValue, _ replay: Replayer) {
        var waiting: [(finding: Int, entry: Int, serial: Int)] = []
        for item in findingsAwaitingNew {
            guard item.entry == e && item.serial == serial else {
                waiting.append(item)
                continue
            }
            findings[item.finding].new = new
            findings[item.finding].steps = requirements(e, old: findings[item.finding].old, new: new, replay)
        }
        findingsAwaitingNew = waiting
    }

    mutating func handshakeInvalidation(_ e: Int, _ inv: Invalidation, _ ref: EventRef) {
        // In place: every invalidation visiting the entry asks.
        tracks[e].modifyHandshake { handshake in
            guard handshake.invalidation == nil else { return }
            if let covering = handshake.covering, covering.match(inv) != .covers { return }
            handshake.invalidation = ref
        }
    }

    /// A wait after the covering invalidation hands the entry to software.
    mutating func handshakeWait(_ e: Int) {
        guard let handshake = tracks[e].handshake, handshake.invalidation != nil else { return }
        tracks[e].handshake = nil
        if let count = tracks[e].openChangeCount { tracks[e].open?.ownershipCuts.append(count) }
    }
}
