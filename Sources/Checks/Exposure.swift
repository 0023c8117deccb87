import Replay
import TraceFormat

/// What the exposure search needs to know about an entry: its kind, size,
/// the unit's atomic read size and where Present sits.
struct EntryShape {
    var kind: EntryKind
    var size: Int
    /// Bytes the unit reads single-copy atomically (16 on VT-d).
    var chunk: Int
    var presentBit: Int
    var mode: TranslationMode

    init(_ record: EntryRecord) {
        kind = record.kind
        size = min(record.size, EntryValue.maxSize)
        chunk = max(1, min(record.fetchSize, size))
        presentBit = record.presentBit
        mode = record.mode
    }

    var chunkCount: Int { (size + chunk - 1) / chunk }
    /// The chunk the unit reads first: the one holding Present.
    var presentChunk: Int { min(chunkCount - 1, presentBit / 8 / chunk) }

    func isPresent(_ v: EntryValue) -> Bool { Layout.isPresent(kind, v, presentBit: presentBit) }
    func usedBits(_ v: EntryValue) -> EntryValue { Layout.usedBits(kind, v, mode: mode) }

    /// 0xff in every byte of chunk `c`.
    func chunkMask(_ c: Int) -> EntryValue {
        var mask = EntryValue()
        for i in c * chunk..<min((c + 1) * chunk, size) { mask.setByte(i, 0xff) }
        return mask
    }

    /// 0xff in every byte of `bytes` (within the entry).
    func byteMask(_ bytes: Range<Int>) -> EntryValue {
        // A word at a time: byte by byte, every fetch and every store an
        // analyzer looks at set up to 64 bytes one call each.
        var mask = EntryValue()
        let lo = max(bytes.lowerBound, 0), hi = min(bytes.upperBound, size)
        guard lo < hi else { return mask }
        for w in lo / 8...(hi - 1) / 8 {
            let first = max(lo - w * 8, 0), last = min(hi - w * 8, 8)
            let ones: UInt64 = last - first == 8 ? .max : (1 << UInt64((last - first) * 8)) - 1
            mask[w] = ones << UInt64(first * 8)
        }
        return mask
    }

    /// True when a present state `value` has used bits equal to those of one
    /// of `meant`, looking only at the bytes in `seen`.
    func matchesMeant(_ value: EntryValue, _ meant: [EntryValue], seen: EntryValue? = nil) -> Bool {
        var mask = usedBits(value)
        if let seen { mask = mask & seen }
        return meant.contains { (value ^ $0) & mask == EntryValue() }
    }
}

/// A torn state the unit could read, and where each chunk came from.
struct TornWitness {
    /// The whole entry as the unit could read it.
    var value: EntryValue
    /// For each chunk, the option index it was taken from (a version for the
    /// program-order search, a subset for the weak search).
    var choice: [Int]
}

/// Finds torn exposed states (CHECKS.md, "Exposed state", "Torn").
///
/// Both memory models reduce to the same question: every chunk can hold one
/// of a few values when the unit reads it, the chunk holding Present is read
/// first; is there a combination that is present and whose used bits equal
/// those of no meant value? Chunks are independent once the Present chunk
/// is fixed, so instead of enumerating the product the search keeps, for each
/// set of meant values the partial state still matches, one witness: the
/// cost is the sum of the options times the number of distinct match sets.
enum TornSearch {
    /// At most this many meant values take part (the match sets are bytes).
    static let maxMeant = 8

    /// Searches `options[c]` (the values chunk `c` may hold). `allowed(p, c)`
    /// says which options of chunk `c` may be combined with option `p` of
    /// the Present chunk (program order: the same version or a later one).
    /// Only options of the Present chunk in `presentRange` are tried, when
    /// given.
    static func find(_ shape: EntryShape, options: [[EntryValue]], meant rawMeant: [EntryValue],
                     presentRange: Range<Int>? = nil, allowed: (Int, Int, Int) -> Bool) -> TornWitness? {
        let meant = Array(rawMeant.filter(shape.isPresent).prefix(maxMeant))
        let pc = shape.presentChunk
        let masks = (0..<shape.chunkCount).map(shape.chunkMask)
        for (p, presentValue) in options[pc].enumerated() where presentRange?.contains(p) ?? true {
            // The configuration (PGTT, Present) lives in the Present chunk on
            // VT-d, so it decides which bits the unit uses.
            guard shape.isPresent(presentValue) else { continue }
            let used = shape.usedBits(presentValue)
            func matchSet(_ v: EntryValue, _ c: Int) -> UInt8 {
                var set: UInt8 = 0
                let m = used & masks[c]
                for (j, value) in meant.enumerated() where (v ^ value) & m == EntryValue() { set |= 1 << UInt8(j) }
                return set
            }
            var choice = [Int](repeating: 0, count: shape.chunkCount)
            choice[pc] = p
            // Arrays in the order found, not dictionaries: the witness must
            // not depend on hash order, or a finding would name other stores
            // from run to run (and its fingerprint would change).
            var reachable: [(set: UInt8, value: EntryValue, choice: [Int])] = [
                (matchSet(presentValue, pc), presentValue & masks[pc], choice),
            ]
            for c in 0..<shape.chunkCount where c != pc {
                var optionSets: [(set: UInt8, option: Int)] = []
                var setSeen = [Bool](repeating: false, count: 256)
                for (o, v) in options[c].enumerated() where allowed(p, c, o) {
                    let set = matchSet(v, c)
                    if !setSeen[Int(set)] {
                        setSeen[Int(set)] = true
                        optionSets.append((set, o))
                    }
                }
                var next: [(set: UInt8, value: EntryValue, choice: [Int])] = []
                var combinedSeen = [Bool](repeating: false, count: 256)
                for partial in reachable {
                    for (optionSet, o) in optionSets {
                        let combined = partial.set & optionSet
                        guard !combinedSeen[Int(combined)] else { continue }
                        combinedSeen[Int(combined)] = true
                        var picked = partial.choice
                        picked[c] = o
                        next.append((combined, partial.value | (options[c][o] & masks[c]), picked))
                    }
                }
                reachable = next
            }
            if let torn = reachable.first(where: { $0.set == 0 }) { return TornWitness(value: torn.value, choice: torn.choice) }
        }
        return nil
    }

    /// Program order (`tso`, and any unit whose visible values change one
    /// event at a time): `versions` are the device-visible values after each
    /// change, `versions[0]` the value before the first. The unit reads the
    /// Present chunk at some version and every other chunk at the same
    /// version or a later one.
    static func inProgramOrder(_ shape: EntryShape, versions: [EntryValue], meant: [EntryValue]) -> TornWitness? {
        guard versions.count > 2 || (versions.count == 2 && shape.chunkCount > 1) else { return nil }
        let options = [[EntryValue]](repeating: versions, count: shape.chunkCount)
        return find(shape, options: options, meant: meant) { p, _, o in o >= p }
    }
}

/// One store of a weak-model epoch, in the entry's coordinates.
struct EpochStore {
    /// The bytes of the entry it wrote.
    var bytes: Range<Int>
    /// Its data, at those bytes.
    var data: EntryValue
    /// Index into the epoch's changes (for reports).
    var change: Int
}

extension TornSearch {
    /// Most stores to one chunk in one epoch that are enumerated exactly;
    /// beyond it only the last ones are, and findings say the bound was hit.
    static let maxStoresPerChunk = 12

    /// The weak model: every subset of the epoch's stores, applied on top of
    /// `base`, may be what the unit sees; stores to the same bytes stay in
    /// order. Returns the torn witness, the stores visible in it, and whether
    /// the enumeration bound was reached.
    static func underWeakOrdering(_ shape: EntryShape, base: EntryValue, stores: [EpochStore],
                                  meant: [EntryValue]) -> (witness: TornWitness, visible: [Int])? {
        var options: [[EntryValue]] = []
        var subsets: [[UInt32]] = []
        for c in 0..<shape.chunkCount {
            let range = c * shape.chunk..<min((c + 1) * shape.chunk, shape.size)
            var mine = stores.indices.filter { stores[$0].bytes.overlaps(range) }
            var chunkBase = base
            if mine.count > maxStoresPerChunk {
                // Past the bound the earliest stores are taken as visible.
                for i in mine.prefix(mine.count - maxStoresPerChunk) {
                    let m = shape.byteMask(stores[i].bytes)
                    chunkBase = (chunkBase & ~m) | (stores[i].data & m)
                }
                mine = Array(mine.suffix(maxStoresPerChunk))
            }
            // A later store to overlapping bytes is visible only with every
            // earlier one it overlaps: coherence keeps same-address order.
            var requires = [UInt32](repeating: 0, count: mine.count)
            for (a, i) in mine.enumerated() {
                for (b, j) in mine.enumerated() where b < a && stores[i].bytes.overlaps(stores[j].bytes) {
                    requires[a] |= 1 << UInt32(b)
                }
            }
            var values: [EntryValue] = []
            var sets: [UInt32] = []
            var seen = Set<EntryValue>()
            for subset in 0..<(UInt32(1) << UInt32(mine.count)) {
                var closed = true
                for a in 0..<mine.count where subset >> UInt32(a) & 1 == 1 && requires[a] & ~subset != 0 { closed = false }
                guard closed else { continue }
                var v = chunkBase
                for a in 0..<mine.count where subset >> UInt32(a) & 1 == 1 {
                    let s = stores[mine[a]]
                    let m = shape.byteMask(s.bytes)
                    v = (v & ~m) | (s.data & m)
                }
                let chunkValue = v & shape.chunkMask(c)
                if seen.insert(chunkValue).inserted {
                    values.append(v)
                    sets.append(mine.enumerated().reduce(0) { acc, e in
                        subset >> UInt32(e.offset) & 1 == 1 ? acc | 1 << UInt32(e.element) : acc
                    })
                }
            }
            options.append(values)
            subsets.append(sets)
        }
        guard let witness = find(shape, options: options, meant: meant, allowed: { _, _, _ in true }) else { return nil }
        var visible: UInt32 = 0
        for (c, o) in witness.choice.enumerated() { visible |= subsets[c][o] }
        return (witness, (0..<stores.count).filter { visible >> UInt32($0) & 1 == 1 })
    }

    /// True when some chunk had more stores in the epoch than are enumerated.
    static func boundReached(_ shape: EntryShape, stores: [EpochStore]) -> Bool {
        (0..<shape.chunkCount).contains { c in
            let range = c * shape.chunk..<min((c + 1) * shape.chunk, shape.size)
            return stores.filter { $0.bytes.overlaps(range) }.count > maxStoresPerChunk
        }
    }
}
