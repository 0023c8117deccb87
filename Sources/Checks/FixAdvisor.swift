import Replay
import TraceFormat

/// Writes the safe sequence for an update from O to N (CHECKS.md, "Every
/// finding carries": one 16-byte atomic store when only one chunk's used bits
/// change; otherwise the ownership handshake).
enum FixAdvisor {
    /// `lo`/`hi` for 16-byte entries, `val[i]` otherwise (Linux's names).
    static func wordName(_ i: Int, kind: EntryKind) -> String {
        switch kind {
        case .root, .context: i == 0 ? "lo" : "hi"
        default: "val[\(i)]"
        }
    }

    /// Chunks (16 bytes on VT-d) whose used bits differ between `old` and `new`.
    static func changedChunks(kind: EntryKind, old: EntryValue, new: EntryValue, size: Int, chunk: Int,
                              mode: TranslationMode) -> [Int] {
        let used = Layout.usedBits(kind, old, mode: mode) | Layout.usedBits(kind, new, mode: mode)
        let diff = (old ^ new) & used
        let chunks = max(1, size / chunk)
        return (0..<chunks).filter { c in
            var mask = EntryValue()
            for i in c * chunk..<min((c + 1) * chunk, size) { mask.setByte(i, 0xff) }
            return (diff & mask) != EntryValue()
        }
    }

    /// The safe sequence from `old` to `new`. `steps` are the invalidations
    /// a change of the cached entry needs; `cachingModeSteps` those that
    /// announce a not-present entry becoming present under caching mode.
    static func sequence(kind: EntryKind, old: EntryValue, new: EntryValue, size: Int, chunk: Int, mode: TranslationMode,
                         coherent: Bool, cachingMode: Bool, steps: [RequiredInvalidation],
                         cachingModeSteps: [RequiredInvalidation] = []) -> String {
        let words = max(1, (size + 7) / 8)
        let name = { (i: Int) in wordName(i, kind: kind) }
        let flush = coherent ? "" : " clflush the entry;"
        let invalidations = steps.isEmpty ? "invalidate the caches that may hold the entry"
            : steps.map { "`\($0.suggestion)`" }.joined(separator: ", ")
        let oldPresent = Layout.isPresent(kind, old)
        let newPresent = Layout.isPresent(kind, new)
        let changed = changedChunks(kind: kind, old: old, new: new, size: size, chunk: chunk, mode: mode)
        if oldPresent && newPresent && changed.count == 1 && chunk == 16 {
            let c = changed[0]
            let lo = c * 2, hi = min(c * 2 + 1, words - 1)
            return "Only chunk \(c) (\(name(lo))..\(name(hi))) changes used bits: write it with one aligned 16-byte store (cmpxchg16b) of \(hex(new[lo])):\(hex(new[hi])), then\(flush) \(invalidations), and wait."
        }
        var text: [String] = []
        // What memory holds as the sequence goes: every word must end at N.
        var current = old
        if oldPresent {
            current[0] = old[0] & ~1
            text.append("clear Present alone: \(name(0)) = \(hex(current[0]))")
            text.append("dma_wmb()")
            if !coherent { text.append("clflush the entry") }
            text.append("invalidate with the old domain id: \(invalidations); wait for completion")
        }
        // Software owns the entry now: every word that is not yet N, but for
        // the one holding Present when N is present (it is written last).
        let rest = (0..<words).filter { current[$0] != new[$0] && !(newPresent && $0 == 0) }
        if !rest.isEmpty {
            let assignments = rest.map { "\(name($0)) = \(hex(new[$0]))" }.joined(separator: ", ")
            text.append(oldPresent && new == EntryValue() ? "zero the rest of the entry: \(assignments)" : "write \(assignments)")
        }
        if newPresent {
            text.append("dma_wmb()")
            text.append("set Present last: \(name(0)) = \(hex(new[0]))")
            if !coherent { text.append("clflush the entry") }
            if cachingMode && !oldPresent { text.append(cachingModeText(kind: kind, cachingModeSteps)) }
        } else {
            if !coherent && !rest.isEmpty { text.append("clflush the entry") }
            if !oldPresent { text.append("(the entry stays non-present)") }
        }
        return text.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "; ")
    }

    /// Under caching mode the unit may hold the entry cached as not
    /// present: what announces it.
    static func cachingModeText(kind: EntryKind, _ steps: [RequiredInvalidation]) -> String {
        guard !steps.isEmpty else { return "under caching mode, invalidate with the new domain id and wait" }
        let requests = steps.map { "`\($0.suggestion)`" }.joined(separator: ", ")
        switch kind {
        case .context:
            return "under caching mode the unit caches the not-present entry with domain id 0: invalidate the context cache with domain id 0 and the IOTLB with the new one (\(requests)), and wait"
        case .smContext:
            return "under caching mode the unit caches the not-present entry with domain id 0: invalidate the context cache with domain id 0 (\(requests)), and wait"
        default:
            return "under caching mode, invalidate with the new domain id (\(requests)), and wait"
        }
    }
}
