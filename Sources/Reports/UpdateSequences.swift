import Checks
import Replay
import TraceFormat

/// One thing software did to, or for, one entry: a store to its words, a
/// barrier after such a store, a cache flush of it, an invalidation that
/// may cover it, or the wait that completed one.
///
/// Two steps are the same when their ``action``s are: lines, event numbers,
/// sites, addresses and times differ from run to run and are kept only to
/// show where a step is.
public struct UpdateStep: Sendable, Equatable {
    /// What was done, without where or when.
    public var action: UpdateAction
    /// The event (1-based) in its trace.
    public var event: Int
    /// The event's line.
    public var line: UInt64
    /// The event's `at=` site, if any.
    public var site: String?
}

/// What an ``UpdateStep`` did, in the terms a diff compares.
public enum UpdateAction: Sendable, Hashable {
    /// A store covering `bytes` of the entry; `words` are the values of the
    /// 64-bit words it covered, after it.
    case store(bytes: Range<Int>, words: [UInt64])
    /// A barrier on the CPU that stored to the entry, the first after that
    /// store.
    case fence(FenceKind)
    /// A cache flush covering the entry.
    case flush(FlushKind)
    /// An invalidation request that may cover the entry.
    case inval(Invalidation)
    /// A wait that completed an invalidation that may cover the entry.
    case wait

    /// The step as a person reads it: `store val[1] = 0x6`,
    /// `fence dma_wmb`, `inval type=pasid gran=pasid did=5 pasid=1`.
    public func text(kind: EntryKind) -> String {
        switch self {
        case .store(let bytes, let words):
            guard !bytes.isEmpty else { return "store (no bytes)" }
            let first = bytes.lowerBound / 8
            let names = words.indices.map { Self.wordName(first + $0, kind: kind) }
            var text = "store "
            if bytes.lowerBound % 8 != 0 || bytes.upperBound % 8 != 0 {
                text += "bytes \(bytes.lowerBound)..<\(bytes.upperBound): "
            }
            return text + zip(names, words).map { "\($0) = \(hex($1))" }.joined(separator: ", ")
        case .fence(let kind): return "fence \(kind.name)"
        case .flush(let kind): return "flush \(kind.name)"
        case .wait: return "wait"
        case .inval(let inv):
            var text = "inval type=\(inv.type.name) gran=\(inv.granularity.name)"
            if let did = inv.did { text += " did=\(did)" }
            if let sid = inv.sid { text += " sid=\(formatSourceID(sid))" }
            if let pasid = inv.pasid { text += " pasid=\(pasid)" }
            if let addr = inv.addr { text += " addr=\(hex(addr))" }
            if let am = inv.am { text += " am=\(am)" }
            if let fm = inv.fm { text += " fm=\(fm)" }
            return text
        }
    }

    /// The kind of event: `store`, `fence`, `flush`, `inval`, `wait`.
    public var kind: String {
        switch self {
        case .store: "store"
        case .fence: "fence"
        case .flush: "flush"
        case .inval: "inval"
        case .wait: "wait"
        }
    }

    /// Linux's names for an entry's words: `lo`/`hi` for root and legacy
    /// context entries, `val[i]` for the others.
    static func wordName(_ i: Int, kind: EntryKind) -> String {
        switch kind {
        case .root, .context: i == 0 ? "lo" : i == 1 ? "hi" : "val[\(i)]"
        default: "val[\(i)]"
        }
    }
}

/// The steps of one entry, as much as is kept, and a digest of all of them.
public struct EntrySequence: Sendable {
    /// The entry.
    public var identity: EntryIdentity
    /// The first steps, at most ``UpdateSequences/keptSteps``.
    public var steps: [UpdateStep] = []
    /// Steps in all.
    public var count = 0
    /// A hash chained over every step's action, so that sequences longer
    /// than what is kept still compare. Swift's `Hasher` is seeded per
    /// process, which is enough: both sides of a diff are hashed in the same
    /// process, and the digest is never written out.
    public var digest: Int = 0

    mutating func append(_ step: UpdateStep) {
        count += 1
        var hasher = Hasher()
        hasher.combine(digest)
        hasher.combine(step.action)
        digest = hasher.finalize()
        if steps.count < UpdateSequences.keptSteps { steps.append(step) }
    }
}

/// Records, per entry identity, the sequence of stores, barriers, flushes,
/// invalidations and waits that concerned the entry: what `hitless diff`
/// compares between two runs.
///
/// Which events concern an entry:
/// - a store or flush whose bytes hit it;
/// - a barrier on a CPU that stored to it since that CPU's previous barrier
///   (of any kind: a diff then shows `fence smp_wmb` where `fence dma_wmb`
///   was, and the set of entries a barrier is charged to stays small);
/// - an invalidation on its unit, of a cache that may hold it, whose source
///   id, PASID and domain id (old or new; where both sides have one) match,
///   issued while the entry
///   is pending: from a store to it until two waits pass with no such
///   invalidation in between, or four such invalidations were waited for
///   (so that an entry stops collecting the unit's traffic);
/// - a wait that completed such an invalidation.
///
/// `begin`, `end`, `mark` and recorded fetches are not steps: they say
/// nothing about the order software used.
public struct UpdateSequences: Sendable {
    /// Steps kept per entry for display; longer sequences still compare by
    /// digest.
    public static let keptSteps = 256

    /// Waits completing invalidations that may cover an entry, after which
    /// it stops collecting them until it is stored to again: the guidance
    /// of VT-d 6.5 needs at most three (a cache of entries, the IOTLB, the
    /// device TLB), and without a bound an entry that every request may
    /// cover (a root entry) would collect the unit's whole queue.
    static let maxWaitsPerStore = 4

    /// Sequences by replay entry index.
    var sequences: [EntrySequence?] = []
    /// Entries stored to by each CPU since its last barrier.
    var unordered: [UInt32: Set<Int>] = [:]
    /// Entries pending invalidation, per unit index.
    var pending: [Int: [Int: PendingState]] = [:]

    struct PendingState {
        var invalidatedSinceWait = false
        var idleWaits = 0
        var completedWaits = 0
        /// The entry's domain ids while pending: before its first store and
        /// after its latest one (a cached copy carries the old one; Linux
        /// under caching mode invalidates with the new one).
        var dids: (UInt16?, UInt16?) = (nil, nil)
    }

    /// No sequences yet.
    public init() {}

    /// Takes one replayed event; `replay` has applied it.
    public mutating func observe(_ step: ReplayStep, replay: Replayer, symbols: SymbolTable) {
        let event = step.event
        let site = event.site.map { symbols[$0] }
        func record(_ e: Int, _ action: UpdateAction) {
            let entry = replay.entries[e]
            if sequences.count <= e { sequences.append(contentsOf: repeatElement(nil, count: e + 1 - sequences.count)) }
            if sequences[e] == nil { sequences[e] = EntrySequence(identity: entry.identity) }
            sequences[e]!.append(UpdateStep(action: action, event: step.index, line: event.line, site: site))
        }
        switch event.payload {
        case .store:
            for touch in step.touches {
                let first = touch.bytes.lowerBound / 8, last = max(first, (touch.bytes.upperBound - 1) / 8)
                record(touch.entry, .store(bytes: touch.bytes, words: (first...last).map { touch.after[$0] }))
                unordered[event.cpu, default: []].insert(touch.entry)
                becomePending(touch.entry, before: touch.before, after: touch.after, replay)
            }
        case .flush(let flush):
            for touch in step.touches {
                record(touch.entry, .flush(flush.kind))
                becomePending(touch.entry, before: touch.device, after: touch.device, replay)
            }
        case .fence(let kind):
            guard let entries = unordered.removeValue(forKey: event.cpu) else { break }
            for e in entries.sorted() { record(e, .fence(kind)) }
        case .inval(let inv):
            guard let unit = replay.unitIndex(of: event.unit), let entries = pending[unit] else { break }
            for (e, state) in entries.sorted(by: { $0.key < $1.key })
            where Self.mayCover(inv, replay.entries[e].identity, dids: state.dids) {
                record(e, .inval(inv))
                pending[unit]![e]!.invalidatedSinceWait = true
            }
        case .wait:
            guard let unit = replay.unitIndex(of: event.unit), let entries = pending[unit] else { break }
            for (e, state) in entries.sorted(by: { $0.key < $1.key }) {
                if state.invalidatedSinceWait {
                    record(e, .wait)
                    if state.completedWaits + 1 >= Self.maxWaitsPerStore {
                        pending[unit]![e] = nil
                    } else {
                        pending[unit]![e]!.invalidatedSinceWait = false
                        pending[unit]![e]!.idleWaits = 0
                        pending[unit]![e]!.completedWaits += 1
                    }
                } else if state.idleWaits >= 1 {
                    pending[unit]![e] = nil
                } else {
                    pending[unit]![e]!.idleWaits += 1
                }
            }
        default:
            break
        }
    }

    /// Entry `e` was stored to or flushed: it waits for invalidations again.
    mutating func becomePending(_ e: Int, before: EntryValue, after: EntryValue, _ replay: Replayer) {
        let record = replay.entries[e]
        let kind = record.kind
        let old = pending[record.unit]?[e]?.dids.0 ?? Layout.domainID(kind, before)
        var state = PendingState()
        state.dids = (old, Layout.domainID(kind, after))
        pending[record.unit, default: [:]][e] = state
    }

    /// The sequences, by identity.
    public func byIdentity() -> [EntryIdentity: EntrySequence] {
        var out: [EntryIdentity: EntrySequence] = [:]
        for case let sequence? in sequences {
            // An identity reached again at a new address continues its
            // record (the replay keeps one record per identity), but be
            // safe if it ever does not.
            if var known = out[sequence.identity] {
                for step in sequence.steps { known.append(step) }
                out[sequence.identity] = known
            } else {
                out[sequence.identity] = sequence
            }
        }
        return out
    }

    /// Whether `inv` may invalidate a cached copy of the entry `identity`:
    /// a cache that holds its kind (VT-d 6.5: context entries live in the
    /// context cache, PASID and PASID-directory entries in the PASID cache,
    /// and the TLBs hold translations built from both), and the same source
    /// id and PASID where the request and the entry both name one.
    static func mayCover(_ inv: Invalidation, _ identity: EntryIdentity, dids: (UInt16?, UInt16?) = (nil, nil)) -> Bool {
        let types: Set<InvalidationType>
        switch identity.kind {
        case .root: types = [.context, .iotlb, .devtlb, .pasid, .piotlb, .pdevtlb]
        case .context: types = [.context, .iotlb, .devtlb]
        case .smContext: types = [.context, .iotlb, .devtlb, .pasid, .piotlb, .pdevtlb]
        case .pasidDirectory, .pasid: types = [.pasid, .piotlb, .pdevtlb, .iotlb, .devtlb]
        case .generic: return true
        }
        guard types.contains(inv.type) else { return false }
        if identity.kind == .root, let sid = inv.sid, let bus = identity.bus, UInt8(sid >> 8) != bus { return false }
        if inv.granularity == .device || inv.granularity == .page || inv.type == .devtlb || inv.type == .pdevtlb,
           let sid = inv.sid, let own = identity.sid, sid != own {
            return false
        }
        // A domain-tagged request for another domain cannot be for this
        // entry; one for its old or its new domain may be (so a diff still
        // shows which of the two a change used).
        if inv.granularity != .global, let did = inv.did, dids.0 != nil || dids.1 != nil, did != dids.0, did != dids.1 {
            return false
        }
        if inv.granularity == .pasid, let pasid = inv.pasid, let own = identity.pasid {
            switch identity.kind {
            case .pasid: if pasid != own { return false }
            case .pasidDirectory: if pasid >> 6 != own >> 6 { return false }
            default: break
            }
        }
        return true
    }
}
