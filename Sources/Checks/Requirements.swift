import Replay
import TraceFormat

/// One invalidation a change of a cached entry requires, and what may
/// satisfy it.
public struct RequiredInvalidation: Sendable, Equatable {
    /// The row of ``InvalidationRequirements/table`` it comes from. Its name
    /// and accepted requests are read from there, not held: a requirement
    /// then holds no reference, and lists of them, kept for every entry
    /// awaiting invalidations and matched against every request, are
    /// copied and destroyed without retaining or releasing anything.
    let row: Int
    /// What a person calls the step (`PASID cache`, `IOTLB`, `device TLB`).
    public var name: String { InvalidationRequirements.table[row].name }
    /// The types and granularities that cover it.
    public var accepted: [(type: InvalidationType, granularities: GranularitySet)] {
        InvalidationRequirements.table[row].accepted
    }
    /// The domain id the request must carry (the cached, old one; under
    /// caching mode the new one, or 0 for a context entry's context cache),
    /// where the accepted granularity names a domain.
    public var did: UInt16?
    /// The source id, for device granularity.
    public var sid: UInt16?
    /// The PASID, for PASID granularity.
    public var pasid: UInt32?
    /// The request that satisfies it, as a fix would issue it.
    public var suggested: Invalidation

    /// The suggested request as a trace line (`inval type=pasid ...`).
    public var suggestion: String {
        String(TraceWriter.line(for: TraceEvent(.inval(suggested)), symbols: SymbolTable()).dropLast())
    }

    public static func == (a: RequiredInvalidation, b: RequiredInvalidation) -> Bool {
        (a.row == b.row || a.name == b.name) && a.did == b.did && a.sid == b.sid && a.pasid == b.pasid
    }

    /// How an invalidation request relates to this requirement.
    public enum Match: Equatable {
        /// It covers the entry.
        case covers
        /// Right type and granularity, wrong scope (domain, source id or
        /// PASID): the message says which.
        case wrongScope(String)
        /// Unrelated.
        case unrelated
    }

    /// Whether `inv` covers this requirement.
    ///
    /// A request that names another device or PASID is simply for another
    /// entry. One that names this entry's device or PASID, or this entry's
    /// new domain id, but carries the wrong domain id or too small a
    /// granularity is a near miss: the classic bug of invalidating with the
    /// new domain id instead of the cached, old one.
    public func match(_ inv: Invalidation, newDID: UInt16? = nil) -> Match {
        // Most requests a requirement hears are of another type: decided
        // before reading any field.
        let acceptedGranularities = InvalidationRequirements.granularities(row: row, accepting: inv.type)
        if acceptedGranularities == nil && !InvalidationRequirements.hasNotCovering(row: row, type: inv.type) { return .unrelated }
        let fm: UInt16 = inv.type == .context ? [0, 0b100, 0b110, 0b111][Int(inv.fm ?? 0) & 3] : 0
        let sidMatches: Bool? = sid.flatMap { sid in inv.sid.map { $0 & ~fm == sid & ~fm } }
        let pasidMatches: Bool? = pasid.flatMap { pasid in inv.pasid.map { $0 == pasid } }
        if sidMatches == false || pasidMatches == false { return .unrelated }
        let usesDID = inv.type != .devtlb && inv.type != .pdevtlb && inv.granularity != .global
        let didMatches = !usesDID || did == nil || inv.did == nil || inv.did == did
        let aimedHere = sidMatches == true || pasidMatches == true || (newDID != nil && inv.did == newDID)
        // A request of a type that looks right but does not reach this
        // cache (a device-TLB invalidation without PASID for a PASID's
        // entry), that would cover it but for its type.
        func notCovering() -> Match {
            guard InvalidationRequirements.hasNotCovering(row: row, type: inv.type),
                  didMatches, sidMatches == true || pasidMatches == true || (usesDID && did != nil && inv.did == did),
                  let why = InvalidationRequirements.table[row].notCovering.first(where: { $0.type == inv.type })?.why
            else { return .unrelated }
            return .wrongScope(why)
        }
        guard let accepted = acceptedGranularities else { return notCovering() }
        guard accepted.contains(inv.granularity) else {
            guard inv.granularity == .page, didMatches, aimedHere || did == inv.did else { return notCovering() }
            return .wrongScope("page granularity, so it does not cover the whole entry")
        }
        if didMatches { return .covers }
        guard aimedHere, let got = inv.did, let did else { return .unrelated }
        return .wrongScope("domain id \(got), but the cached entry is tagged with domain id \(did)")
    }
}

/// A set of invalidation granularities, as bits: requirements are built for
/// every update of a cached entry, and a `Set` would allocate each time.
public struct GranularitySet: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// Bit `1 << granularity.rawValue` for each member.
    public var bits: UInt8

    public init(arrayLiteral granularities: InvalidationGranularity...) {
        bits = 0
        for granularity in granularities { bits |= 1 << granularity.rawValue }
    }

    /// True when `granularity` is a member.
    public func contains(_ granularity: InvalidationGranularity) -> Bool { bits & 1 << granularity.rawValue != 0 }

    /// Adds `granularity`.
    public mutating func insert(_ granularity: InvalidationGranularity) { bits |= 1 << granularity.rawValue }
}

/// Which domain id a required invalidation must carry.
public enum DomainTag: Sendable, Equatable {
    /// The one the unit tagged the cached entry with: the old value's.
    case old
    /// The new value's: under caching mode a not-present PASID entry, or
    /// a legacy context entry's IOTLB, is announced with it.
    case new
    /// Domain 0: under caching mode the unit caches not-present context
    /// entries with it.
    case zero
    /// The unit ignores the request's domain id (a fix names none, or 0
    /// where the request carries one, as Linux passes it).
    case ignored
}

/// One row of ``InvalidationRequirements/table``: an invalidation an entry
/// kind needs in one situation, what satisfies it and where the rule comes
/// from.
public struct InvalidationRow: Sendable {
    /// When a row applies.
    public enum Situation: Sendable, Equatable {
        /// An entry the unit may hold cached changed.
        case cachedEntryChanged
        /// A not-present entry became present on a unit with caching mode
        /// (`cap.CM`), which caches not-present entries too.
        case cachingModeSetup
    }

    /// What else must hold for the row to apply.
    public enum Condition: Sendable, Equatable {
        case always
        /// The device has ATS on, so it keeps its own TLB: legacy context
        /// TT = 01b, scalable context DTE, or for a PASID entry its
        /// device's scalable context DTE.
        case deviceTLB
        /// The device has ATS on and the entry is a PASID's other than 0:
        /// its device TLB entries are tagged with that PASID.
        case deviceTLBWithPASID
        /// The device has ATS on and the entry is PASID 0, which serves
        /// requests without PASID (Linux's `IOMMU_NO_PASID`, RID2PASID).
        case deviceTLBWithoutPASID
        /// The PASID entry's PGTT is first-stage (1) or pass-through (4),
        /// judged on the old value when it is present, else the new one.
        case firstStageOrPassThrough
        /// Any other PGTT: second-stage (2), nested (3) or reserved.
        case otherTranslationType
    }

    public var kind: EntryKind
    public var situation: Situation
    public var condition: Condition
    /// What a person calls the step (`PASID cache`, `IOTLB`, ...).
    public var name: String
    /// The request types and granularities that cover it.
    public var accepted: [(type: InvalidationType, granularities: GranularitySet)]
    /// The domain id a request that uses one must carry.
    public var did: DomainTag
    /// A request that names a source id (or PASID) must name the entry's.
    public var bySourceID: Bool
    public var byPASID: Bool
    /// The request a fix issues.
    public var suggestion: (type: InvalidationType, granularity: InvalidationGranularity)
    /// The VT-d specification section or Linux code the row mirrors.
    public var source: String
    /// Request types that do not cover the row although a driver may
    /// think so, with why: aimed at the entry, one is named in the finding
    /// instead of "no ... invalidation".
    public var notCovering: [(type: InvalidationType, why: String)] = []
}

/// The invalidations each kind of entry needs after a change, as data
/// (CHECKS.md; DOMAIN.md "Invalidations"): ``table``, read by
/// ``required(for:old:new:deviceTLB:cachingModeSetup:)``. Rows of one kind and
/// situation are in the order software issues them; the first is the
/// entry's own cache, the invalidation that hands a live entry to software.
public enum InvalidationRequirements {
    typealias Row = InvalidationRow

    /// Every required invalidation, one row each.
    public static let table: [InvalidationRow] = [
        // Legacy context entry (VT-d 6.5.3.3, "Guidance to Software for Invalidations", Table 25).
        Row(kind: .context, situation: .cachedEntryChanged, condition: .always, name: "context cache",
            accepted: [(.context, [.device, .domain, .global])], did: .old, bySourceID: true, byPASID: false,
            suggestion: (.context, .device),
            source: "VT-d 6.5.3.3: device-selective (or wider) context-cache invalidation with the old DID; Linux iommu.c domain_context_clear_one, pasid.c intel_context_flush_no_pasid"),
        Row(kind: .context, situation: .cachedEntryChanged, condition: .always, name: "IOTLB",
            accepted: [(.iotlb, [.domain, .global])], did: .old, bySourceID: false, byPASID: false,
            suggestion: (.iotlb, .domain),
            source: "VT-d 6.5.3.3: domain-selective IOTLB invalidation; Linux pasid.c intel_context_flush_no_pasid (legacy mode)"),
        Row(kind: .context, situation: .cachedEntryChanged, condition: .deviceTLB, name: "device TLB",
            accepted: [(.devtlb, [.device]), (.pdevtlb, [.device, .pasid])], did: .ignored, bySourceID: true, byPASID: false,
            suggestion: (.devtlb, .device),
            source: "VT-d 6.5.3.3: global device-TLB invalidation when TT = 01b; Linux pasid.c __context_flush_dev_iotlb"),
        Row(kind: .context, situation: .cachingModeSetup, condition: .always, name: "context cache",
            accepted: [(.context, [.device, .domain, .global])], did: .zero, bySourceID: true, byPASID: false,
            suggestion: (.context, .device),
            source: "VT-d 6.1 (caching mode: not-present entries are cached with domain 0); Linux iommu.c context_present_cache_flush"),
        Row(kind: .context, situation: .cachingModeSetup, condition: .always, name: "IOTLB",
            accepted: [(.iotlb, [.domain, .global])], did: .new, bySourceID: false, byPASID: false,
            suggestion: (.iotlb, .domain),
            source: "Linux iommu.c context_present_cache_flush (IOTLB domain-selective with the new DID)"),

        // Scalable-mode context entry (VT-d 6.5.3.3).
        Row(kind: .smContext, situation: .cachedEntryChanged, condition: .always, name: "context cache",
            accepted: [(.context, [.device, .global])], did: .ignored, bySourceID: true, byPASID: false,
            suggestion: (.context, .device),
            source: "VT-d 6.5.3.3: device-selective context-cache invalidation (the unit ignores its DID in scalable mode); Linux pasid.c intel_context_flush_no_pasid"),
        Row(kind: .smContext, situation: .cachedEntryChanged, condition: .always, name: "PASID cache",
            accepted: [(.pasid, [.global, .domain])], did: .ignored, bySourceID: false, byPASID: false,
            suggestion: (.pasid, .global),
            source: "VT-d 6.5.3.3: domain-selective PASID-cache invalidation of the affected domains; Linux pasid.c sm_context_flush_caches"),
        Row(kind: .smContext, situation: .cachedEntryChanged, condition: .always, name: "IOTLB",
            accepted: [(.iotlb, [.global, .domain]), (.piotlb, [.pasid])], did: .ignored, bySourceID: false, byPASID: false,
            suggestion: (.iotlb, .global),
            source: "VT-d 6.5.3.3: domain-selective IOTLB invalidation of the affected domains; Linux pasid.c sm_context_flush_caches"),
        Row(kind: .smContext, situation: .cachedEntryChanged, condition: .deviceTLB, name: "device TLB",
            accepted: [(.devtlb, [.device]), (.pdevtlb, [.device, .pasid])], did: .ignored, bySourceID: true, byPASID: false,
            suggestion: (.devtlb, .device),
            source: "VT-d 6.5.3.3: global device-TLB invalidation when DTE; Linux pasid.c __context_flush_dev_iotlb"),
        Row(kind: .smContext, situation: .cachingModeSetup, condition: .always, name: "context cache",
            accepted: [(.context, [.device, .global])], did: .zero, bySourceID: true, byPASID: false,
            suggestion: (.context, .device),
            source: "VT-d 6.1 (caching mode: not-present entries are cached with domain 0); Linux pasid.c device_pasid_table_setup (context cache device-selective with DID 0; the new entry holds no translations yet, so nothing else)"),

        // PASID-table entry (VT-d 6.5.3.3 for scalable-mode PASID-table entries).
        Row(kind: .pasid, situation: .cachedEntryChanged, condition: .always, name: "PASID cache",
            accepted: [(.pasid, [.pasid, .domain, .global])], did: .old, bySourceID: false, byPASID: true,
            suggestion: (.pasid, .pasid),
            source: "VT-d 6.5.3.3: PASID-selective PASID-cache invalidation with the old DID; Linux pasid.c intel_pasid_tear_down_entry, pasid_cache_invalidation_with_pasid"),
        Row(kind: .pasid, situation: .cachedEntryChanged, condition: .firstStageOrPassThrough, name: "PASID-based IOTLB",
            accepted: [(.piotlb, [.pasid]), (.iotlb, [.global])], did: .old, bySourceID: false, byPASID: true,
            suggestion: (.piotlb, .pasid),
            source: "VT-d 6.5.3.3: PASID-based IOTLB invalidation (first-stage, pass-through); Linux pasid.c intel_pasid_tear_down_entry (qi_flush_piotlb), commit 'iommu/vt-d: Flush iotlb for 1st-level page table' (the spec requires PASID-based IOTLB invalidation for a first-level table)",
            notCovering: [(.iotlb, "type iotlb, which does not reach first-stage or pass-through translations (they need type piotlb)")]),
        Row(kind: .pasid, situation: .cachedEntryChanged, condition: .otherTranslationType, name: "IOTLB",
            accepted: [(.iotlb, [.domain, .global])], did: .old, bySourceID: false, byPASID: true,
            suggestion: (.iotlb, .domain),
            source: "VT-d 6.5.3.3: domain-selective IOTLB invalidation (second-stage, nested); Linux pasid.c intel_pasid_tear_down_entry (flush_iotlb DSI)"),
        Row(kind: .pasid, situation: .cachedEntryChanged, condition: .deviceTLBWithPASID, name: "device TLB",
            accepted: [(.pdevtlb, [.pasid, .device])], did: .ignored, bySourceID: true, byPASID: true,
            suggestion: (.pdevtlb, .pasid),
            source: "VT-d 6.5.3.3: PASID-based device-TLB invalidation when ATS; Linux pasid.c devtlb_invalidation_with_pasid (qi_flush_dev_iotlb_pasid unless the PASID is IOMMU_NO_PASID)",
            notCovering: [(.devtlb, "type devtlb, which covers only requests without PASID (this entry's need type pdevtlb)")]),
        Row(kind: .pasid, situation: .cachedEntryChanged, condition: .deviceTLBWithoutPASID, name: "device TLB",
            accepted: [(.pdevtlb, [.pasid, .device]), (.devtlb, [.device])], did: .ignored, bySourceID: true, byPASID: true,
            suggestion: (.devtlb, .device),
            source: "VT-d 6.5.3.3: device-TLB invalidation when ATS; Linux pasid.c devtlb_invalidation_with_pasid (qi_flush_dev_iotlb for IOMMU_NO_PASID)"),
        Row(kind: .pasid, situation: .cachingModeSetup, condition: .always, name: "PASID cache",
            accepted: [(.pasid, [.pasid, .domain, .global])], did: .new, bySourceID: false, byPASID: true,
            suggestion: (.pasid, .pasid),
            source: "VT-d 6.1 (caching mode); Linux pasid.c pasid_flush_caches (PASID cache with the new DID)"),
        Row(kind: .pasid, situation: .cachingModeSetup, condition: .always, name: "PASID-based IOTLB",
            accepted: [(.piotlb, [.pasid]), (.iotlb, [.domain, .global])], did: .new, bySourceID: false, byPASID: true,
            suggestion: (.piotlb, .pasid),
            source: "Linux pasid.c pasid_flush_caches (qi_flush_piotlb with the new DID whatever the PGTT; no device TLB under caching mode)"),
    ]

    /// Entry kinds that need no invalidation, with the reason.
    public static let neverInvalidated: [(kind: EntryKind, source: String)] = [
        (.root, "set once (pointer | P), never invalidated; Linux iommu.c iommu_context_addr"),
        (.pasidDirectory, "set once (pointer | P), never invalidated; Linux pasid.c intel_pasid_get_entry"),
        (.generic, "a declared table (TRACE-FORMAT.md `table kind=generic`): CHECKS.md names no cache that holds its entries"),
    ]

    /// True when entries of `kind` are never invalidated (set once).
    public static func requiresNone(_ kind: EntryKind) -> Bool { rowIndex[slot(kind, cachingModeSetup: false)].isEmpty }

    /// What building a requirement reads of a row of ``table``, without
    /// its strings and list: reading a row out of the table copied it,
    /// retaining each of them, and destroyed it again.
    struct RowRule {
        var row: Int
        var condition: Row.Condition
        var did: DomainTag
        var bySourceID: Bool
        var byPASID: Bool
        var suggestion: (type: InvalidationType, granularity: InvalidationGranularity)

        /// The row applies to an entry whose device has ATS on
        /// (`deviceTLB`), of PASID `pasid` (nil for other kinds), whose
        /// PGTT is `firstStageOrPassThrough`.
        func applies(deviceTLB: Bool, pasid: UInt32?, firstStageOrPassThrough: Bool) -> Bool {
            switch condition {
            case .always: true
            case .deviceTLB: deviceTLB
            case .deviceTLBWithPASID: deviceTLB && pasid ?? 0 != 0
            case .deviceTLBWithoutPASID: deviceTLB && pasid ?? 0 == 0
            case .firstStageOrPassThrough: firstStageOrPassThrough
            case .otherTranslationType: !firstStageOrPassThrough
            }
        }
    }

    /// The rows of each kind and situation, in table order, at
    /// ``slot(_:cachingModeSetup:)``: requirements are built for every
    /// update of a cached entry, and going through every row (copying
    /// each) cost more than the rest of building them.
    private static let rowIndex: [[RowRule]] = {
        var index = [[RowRule]](repeating: [], count: EntryKind.allCases.count * 2)
        for (i, row) in table.enumerated() {
            index[slot(row.kind, cachingModeSetup: row.situation == .cachingModeSetup)].append(
                RowRule(row: i, condition: row.condition, did: row.did, bySourceID: row.bySourceID,
                        byPASID: row.byPASID, suggestion: row.suggestion))
        }
        return index
    }()

    /// Per row of ``table`` and request type, at `row * typeCount + type`:
    /// the granularities of the row's first accepted entry of that type,
    /// with bit 8 set when there is one. A requirement is matched against
    /// every request on its unit, and searching the row's list meant
    /// reading it out of the table.
    private static let acceptedByType: [UInt16] = {
        var masks = [UInt16](repeating: 0, count: table.count * typeCount)
        for (i, row) in table.enumerated() {
            for accept in row.accepted where masks[i * typeCount + Int(accept.type.rawValue)] == 0 {
                masks[i * typeCount + Int(accept.type.rawValue)] = 0x100 | UInt16(accept.granularities.bits)
            }
        }
        return masks
    }()

    private static let typeCount = InvalidationType.allCases.count

    /// Per row of ``table``, bit `type` set for each of its
    /// ``InvalidationRow/notCovering`` types: the check on every unrelated
    /// request, which reading the row's list would copy.
    private static let notCoveringTypes: [UInt16] = table.map { row in
        row.notCovering.reduce(0) { $0 | 1 << $1.type.rawValue }
    }

    /// Whether row `row` names requests of `type` as not covering it.
    static func hasNotCovering(row: Int, type: InvalidationType) -> Bool {
        notCoveringTypes[row] & 1 << type.rawValue != 0
    }

    /// The granularities at which a request of `type` covers row `row`'s
    /// requirement, nil when no request of that type does.
    static func granularities(row: Int, accepting type: InvalidationType) -> GranularitySet? {
        let mask = acceptedByType[row * typeCount + Int(type.rawValue)]
        guard mask != 0 else { return nil }
        var granularities: GranularitySet = []
        granularities.bits = UInt8(truncatingIfNeeded: mask)
        return granularities
    }

    private static func slot(_ kind: EntryKind, cachingModeSetup: Bool) -> Int {
        Int(kind.rawValue) * 2 + (cachingModeSetup ? 1 : 0)
    }

    /// What must follow a change from `old` to `new` of entry `identity`:
    /// the rows of ``table`` that apply, in order.
    ///
    /// - Parameters:
    ///   - deviceTLB: the device has ATS enabled.
    ///   - cachingModeSetup: a non-present entry became present under
    ///     caching mode.
    public static func required(for identity: EntryIdentity, old: EntryValue, new: EntryValue,
                                deviceTLB: Bool, cachingModeSetup: Bool) -> [RequiredInvalidation] {
        required(kind: identity.kind, sid: identity.sid, pasid: identity.pasid, old: old, new: new,
                 deviceTLB: deviceTLB, cachingModeSetup: cachingModeSetup)
    }

    /// ``required(for:old:new:deviceTLB:cachingModeSetup:)`` of an entry of
    /// `kind` with source id `sid` and PASID `pasid`, the only parts of its
    /// identity the rows read: the analyzers pass them from the entry's
    /// record, where passing the identity copied it (retaining its names).
    static func required(kind: EntryKind, sid: UInt16?, pasid: UInt32?, old: EntryValue, new: EntryValue,
                         deviceTLB: Bool, cachingModeSetup: Bool) -> [RequiredInvalidation] {
        let rows = rowIndex[slot(kind, cachingModeSetup: cachingModeSetup)]
        guard !rows.isEmpty else { return [] }
        let firstStageOrPassThrough = isFirstStageOrPassThrough(kind, old: old, new: new)
        func applies(_ row: RowRule) -> Bool {
            row.applies(deviceTLB: deviceTLB, pasid: pasid, firstStageOrPassThrough: firstStageOrPassThrough)
        }
        // Sized exactly: the list is kept until the invalidations come, for
        // every entry still waiting for them.
        var steps: [RequiredInvalidation] = []
        steps.reserveCapacity(rows.reduce(0) { $0 + (applies($1) ? 1 : 0) })
        for row in rows where applies(row) {
            steps.append(step(row, kind: kind, sid: sid, pasid: pasid, old: old, new: new))
        }
        return steps
    }

    /// The first of ``required(kind:sid:pasid:old:new:deviceTLB:cachingModeSetup:)``,
    /// the invalidation that hands a live entry to software, without
    /// building the list: a handshake, started whenever Present is
    /// cleared, needs only that one, and the list was allocated and freed.
    static func firstRequired(kind: EntryKind, sid: UInt16?, pasid: UInt32?, old: EntryValue, new: EntryValue,
                              deviceTLB: Bool, cachingModeSetup: Bool) -> RequiredInvalidation? {
        let firstStageOrPassThrough = isFirstStageOrPassThrough(kind, old: old, new: new)
        for row in rowIndex[slot(kind, cachingModeSetup: cachingModeSetup)]
        where row.applies(deviceTLB: deviceTLB, pasid: pasid, firstStageOrPassThrough: firstStageOrPassThrough) {
            return step(row, kind: kind, sid: sid, pasid: pasid, old: old, new: new)
        }
        return nil
    }

    /// A PASID entry's PGTT, judged on the old value when it is present,
    /// else the new one, is first-stage (1) or pass-through (4).
    private static func isFirstStageOrPassThrough(_ kind: EntryKind, old: EntryValue, new: EntryValue) -> Bool {
        let pgtt = kind == .pasid ? Layout.pgtt(old[0] & 1 == 1 ? old : new) : 0
        return pgtt == 1 || pgtt == 4
    }

    /// The requirement a row makes of one entry.
    static func step(_ row: RowRule, kind: EntryKind, sid entrySID: UInt16?, pasid entryPASID: UInt32?,
                     old: EntryValue, new: EntryValue) -> RequiredInvalidation {
        let did: UInt16?
        switch row.did {
        case .old: did = Layout.domainID(kind, old)
        case .new: did = Layout.domainID(kind, new)
        case .zero: did = 0
        case .ignored: did = nil
        }
        let sid = row.bySourceID ? entrySID : nil
        let pasid = row.byPASID ? entryPASID ?? 0 : nil
        // The suggestion carries the fields its type and granularity use.
        let (required, optional) = InterestKey.requestFields(row.suggestion.type, row.suggestion.granularity)
        let fields = required | optional
        let suggested = Invalidation(type: row.suggestion.type, granularity: row.suggestion.granularity,
                                     did: fields & InterestKey.didBit != 0 ? did ?? 0 : nil,
                                     sid: fields & InterestKey.sidBit != 0 ? sid ?? 0 : nil,
                                     pasid: fields & InterestKey.pasidBit != 0 ? pasid ?? 0 : nil)
        return RequiredInvalidation(row: row.row, did: did, sid: sid, pasid: pasid,
                                    suggested: suggested)
    }
}
