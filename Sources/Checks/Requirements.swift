import Replay
import TraceFormat

/// One invalidation a change of a cached entry requires, and what may
/// satisfy it.
public struct RequiredInvalidation: Sendable, Equatable {
    /// What a person calls the step (`PASID cache`, `IOTLB`, `device TLB`).
    public var name: String
    /// The types and granularities that cover it.
    public var accepted: [(type: InvalidationType, granularities: GranularitySet)]
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
        a.name == b.name && a.did == b.did && a.sid == b.sid && a.pasid == b.pasid
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
        guard let accept = accepted.first(where: { $0.type == inv.type }) else { return .unrelated }
        let fm: UInt16 = inv.type == .context ? [0, 0b100, 0b110, 0b111][Int(inv.fm ?? 0) & 3] : 0
        let sidMatches: Bool? = sid.flatMap { sid in inv.sid.map { $0 & ~fm == sid & ~fm } }
        let pasidMatches: Bool? = pasid.flatMap { pasid in inv.pasid.map { $0 == pasid } }
        if sidMatches == false || pasidMatches == false { return .unrelated }
        let usesDID = inv.type != .devtlb && inv.type != .pdevtlb && inv.granularity != .global
        let didMatches = !usesDID || did == nil || inv.did == nil || inv.did == did
        let aimedHere = sidMatches == true || pasidMatches == true || (newDID != nil && inv.did == newDID)
        guard accept.granularities.contains(inv.granularity) else {
            guard inv.granularity == .page, didMatches, aimedHere || did == inv.did else { return .unrelated }
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

/// The invalidations each kind of entry needs after a change, as data
/// (CHECKS.md; DOMAIN.md "Invalidations").
///
/// | entry | in order | source |
/// | --- | --- | --- |
/// | legacy context | context cache (device, domain or global), IOTLB (domain or global), device TLB if TT = 01b (ATS) | VT-d 6.5 "Guidance to software for invalidations"; Linux iommu.c `domain_context_clear_one`, `context_flush` |
/// | scalable context | context cache (device or global), PASID cache (global or the domain), IOTLB (global or domain), device TLB if DTE | VT-d 6.5; Linux iommu.c `intel_context_flush_no_pasid`, `__context_flush_dev_iotlb` |
/// | PASID entry | PASID cache (PASID, domain or global; old DID), PASID-based IOTLB (PGTT first-stage or pass-through) or IOTLB (domain or global), PASID-based device TLB if the device's context has DTE | VT-d 6.5; Linux pasid.c `intel_pasid_tear_down_entry`, `pasid_flush_caches` |
/// | any of them set up under caching mode (`cap.CM`, non-present cached) | a context entry's context cache with DID 0 (only: not-present context entries are cached with domain 0), a PASID entry's PASID cache with the NEW domain id, and for legacy context and PASID entries the (PASID-based) IOTLB with the new domain id; no device TLB | VT-d 6.1 "Caching Mode"; Linux iommu.c `context_present_cache_flush`, pasid.c `device_pasid_table_setup`, `pasid_flush_caches` |
/// | root, PASID directory, generic | none: set once, never invalidated | Linux iommu.c `iommu_alloc_root_entry`, pasid.c `intel_pasid_get_entry` |
public enum InvalidationRequirements {
    /// True when entries of `kind` are never invalidated (set once).
    public static func requiresNone(_ kind: EntryKind) -> Bool {
        kind == .root || kind == .pasidDirectory || kind == .generic
    }

    /// What must follow a change from `old` to `new` of entry `identity`.
    ///
    /// - Parameters:
    ///   - cachedDID: the domain id the unit tagged the cached entry with.
    ///   - deviceTLB: the device has ATS enabled.
    ///   - cachingModeSetup: a non-present entry became present under
    ///     caching mode (a context entry's context cache then takes DID 0).
    public static func required(for identity: EntryIdentity, old: EntryValue, new: EntryValue, cachedDID: UInt16?,
                                deviceTLB: Bool, cachingModeSetup: Bool) -> [RequiredInvalidation] {
        let sid = identity.sid
        // A non-present entry cached under caching mode holds no
        // translations: the device TLB and, for a scalable context entry,
        // the PASID cache and IOTLB have nothing of it (VT-d 6.1; Linux
        // pasid_flush_caches() and the scalable context setup flush only the
        // entry's own cache).
        let deviceTLB = deviceTLB && !cachingModeSetup
        // Under caching mode the unit caches a not-present context entry
        // with domain 0 (VT-d 6.1; DOMAIN.md): Linux invalidates its context
        // cache with DID 0 (iommu.c context_present_cache_flush, pasid.c
        // device_pasid_table_setup), and a legacy entry's IOTLB with the new
        // DID.
        if cachingModeSetup, identity.kind == .smContext {
            return [RequiredInvalidation(name: "context cache", accepted: [(.context, [.device, .global])], did: 0, sid: sid,
                                         suggested: Invalidation(type: .context, granularity: .device, did: 0, sid: sid ?? 0))]
        }
        switch identity.kind {
        case .context:
            let contextDID = cachingModeSetup ? 0 : cachedDID
            var steps = [
                RequiredInvalidation(name: "context cache", accepted: [(.context, [.device, .domain, .global])],
                                     did: contextDID, sid: sid,
                                     suggested: Invalidation(type: .context, granularity: .device, did: contextDID ?? 0, sid: sid ?? 0)),
                RequiredInvalidation(name: "IOTLB", accepted: [(.iotlb, [.domain, .global])], did: cachedDID,
                                     suggested: Invalidation(type: .iotlb, granularity: .domain, did: cachedDID ?? 0)),
            ]
            if deviceTLB {
                steps.append(RequiredInvalidation(name: "device TLB", accepted: [(.devtlb, [.device]), (.pdevtlb, [.device, .pasid])],
                                                  sid: sid, suggested: Invalidation(type: .devtlb, granularity: .device, sid: sid ?? 0)))
            }
            return steps
        case .smContext:
            var steps = [
                RequiredInvalidation(name: "context cache", accepted: [(.context, [.device, .global])], sid: sid,
                                     suggested: Invalidation(type: .context, granularity: .device, did: 0, sid: sid ?? 0)),
                RequiredInvalidation(name: "PASID cache", accepted: [(.pasid, [.global, .domain])],
                                     suggested: Invalidation(type: .pasid, granularity: .global)),
                RequiredInvalidation(name: "IOTLB", accepted: [(.iotlb, [.global, .domain]), (.piotlb, [.pasid])],
                                     suggested: Invalidation(type: .iotlb, granularity: .global)),
            ]
            if deviceTLB {
                steps.append(RequiredInvalidation(name: "device TLB", accepted: [(.devtlb, [.device]), (.pdevtlb, [.device, .pasid])],
                                                  sid: sid, suggested: Invalidation(type: .devtlb, granularity: .device, sid: sid ?? 0)))
            }
            return steps
        case .pasid:
            let pasid = identity.pasid ?? 0
            let did = cachedDID ?? 0
            let pgtt = Layout.pgtt(old[0] & 1 == 1 ? old : new)
            var iotlb: [(type: InvalidationType, granularities: GranularitySet)] = [(.iotlb, [.domain, .global])]
            // Linux pasid_flush_caches(): under caching mode a new entry is
            // announced with a PASID-based IOTLB flush whatever its PGTT.
            let pasidBased = pgtt == 1 || pgtt == 4 || cachingModeSetup
            if pasidBased { iotlb.insert((.piotlb, [.pasid]), at: 0) }
            var steps = [
                RequiredInvalidation(name: "PASID cache", accepted: [(.pasid, [.pasid, .domain, .global])], did: did,
                                     pasid: pasid, suggested: Invalidation(type: .pasid, granularity: .pasid, did: did, pasid: pasid)),
                RequiredInvalidation(name: pasidBased ? "PASID-based IOTLB" : "IOTLB", accepted: iotlb, did: did,
                                     pasid: pasid,
                                     suggested: pasidBased ? Invalidation(type: .piotlb, granularity: .pasid, did: did, pasid: pasid)
                                         : Invalidation(type: .iotlb, granularity: .domain, did: did)),
            ]
            if deviceTLB {
                steps.append(RequiredInvalidation(name: "device TLB", accepted: [(.pdevtlb, [.pasid, .device]), (.devtlb, [.device])],
                                                  sid: sid, pasid: pasid,
                                                  suggested: Invalidation(type: .pdevtlb, granularity: .pasid, sid: sid ?? 0, pasid: pasid)))
            }
            return steps
        case .root, .pasidDirectory, .generic:
            return []
        }
    }
}
