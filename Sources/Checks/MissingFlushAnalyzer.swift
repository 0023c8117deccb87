import Replay
import TraceFormat

// Rule `missing-flush` (CHECKS.md): a unit with `coherent=0` reads memory,
// not CPU caches. A store to an entry reaches it only when its line is
// flushed; an invalidation issued before that makes the unit refetch the old
// value.
extension Analysis {
    /// Inlined: called on every store to an entry of a non-coherent unit,
    /// the call copied the touch and the event to test two values.
    @inline(__always) mutating func noteUnflushedStore(_ e: Int, _ touch: EntryTouch, _ ref: EventRef) {
        guard touch.after != touch.device, !tracks[e].hasDirty else { return }
        tracks[e].dirty = ref
    }

    mutating func noteFlush(_ e: Int, _ touch: EntryTouch) {
        // Tested first: clearing what is not set still builds and destroys
        // an empty out-of-line state.
        if touch.device == touch.after && tracks[e].hasDirty { tracks[e].dirty = nil }
    }

    /// An invalidation that concerns the entry relies on its stores being
    /// visible.
    mutating func checkFlushBeforeInvalidation(_ e: Int, _ inv: Invalidation, _ ref: EventRef, _ replay: Replayer) {
        guard let dirty = tracks[e].dirty else { return }
        let device = tracks[e].device
        let concerned = cachedRequirements(e, old: device, new: device, replay).contains { $0.match(inv) != .unrelated }
        guard concerned else { return }
        let record = replay.entries[e]
        let message = "\(entryName(record)): the store at line \(dirty.event.line) is not flushed before the invalidation at line \(ref.event.line); the unit (coherent=0) reads memory and may refetch the old value"
        report(.missingFlush, entry: e, serial: tracks[e].openOrNextSerial, message: message,
               events: [(dirty, "store still in the CPU cache"), (ref, "invalidation relies on it")],
               old: device, new: replay.cpuValue(of: e))
    }

    mutating func checkUnflushedAtEnd(_ e: Int, _ replay: Replayer) {
        guard let dirty = tracks[e].dirty else { return }
        let record = replay.entries[e]
        let message = "\(entryName(record)): the store at line \(dirty.event.line) is never flushed; the unit (coherent=0) never sees it"
        report(.missingFlush, entry: e, serial: tracks[e].serial + 1, message: message,
               events: [(dirty, "store never flushed")], old: tracks[e].device, new: replay.cpuValue(of: e))
    }
}
