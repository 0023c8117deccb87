import Replay
import TraceFormat

// Rule `unaligned-store` (CHECKS.md): a store to an entry that is not
// naturally aligned, or that crosses a chunk, is not single-copy atomic.
extension Analysis {
    mutating func checkAlignment(_ write: MemoryWrite, _ touch: EntryTouch, fetchSize: Int, _ ref: EventRef, _ replay: Replayer) {
        guard enabled(.unalignedStore), !isSingleCopyAtomic(write, fetchSize: fetchSize) else { return }
        let record = replay.entries[touch.entry]
        let why = write.isNaturallyAligned ? "crosses a \(record.fetchSize)-byte chunk boundary" : "is not naturally aligned"
        let e = touch.entry
        let message = "\(entryName(record)): the \(write.size)-byte store to \(wordsText(touch.bytes, kind: record.kind)) at line \(ref.event.line) \(why), so the unit may see it half done"
        report(.unalignedStore, entry: e, serial: tracks[e].openOrNextSerial, message: message,
               events: [(ref, "store that is not single-copy atomic")], old: touch.before, new: touch.after)
    }
}
