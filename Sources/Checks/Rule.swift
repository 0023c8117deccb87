/// The rules of CHECKS.md. Their ids are stable: tooling keys on them.
public enum Rule: String, CaseIterable, Sendable, Codable, Comparable {
    case tornRead = "torn-read"
    case tornWindow = "torn-window"
    case missingBarrier = "missing-barrier"
    case ownershipHandshake = "ownership-handshake"
    case missingInvalidation = "missing-invalidation"
    case missingFlush = "missing-flush"
    case unalignedStore = "unaligned-store"

    /// How bad a finding of this rule is.
    public var severity: Severity {
        switch self {
        case .ownershipHandshake, .unalignedStore: .warning
        default: .error
        }
    }

    /// One line: what the rule finds.
    public var summary: String {
        switch self {
        case .tornRead: "A recorded fetch read a torn entry: the unit really saw a mix of old and new."
        case .tornWindow: "An update exposes a torn entry in program order: no barrier can fix it."
        case .missingBarrier: "An update is safe in program order but exposes a torn entry when stores are reordered."
        case .ownershipHandshake: "Words of a cached entry are rewritten after Present was cleared but before the invalidation completed."
        case .missingInvalidation: "A cached entry changed and no covering invalidation, completed by a wait, followed."
        case .missingFlush: "On a non-coherent unit, a store to an entry was not flushed before the unit relied on it."
        case .unalignedStore: "A store to an entry is not single-copy atomic (unaligned, or crossing a 16-byte chunk)."
        }
    }

    /// What the rule means and how to fix what it finds.
    public var help: String {
        switch self {
        case .tornRead:
            "The unit fetched the entry in 128-bit chunks while it was being rewritten and saw words of the old and the new value together. Update a live entry through the ownership handshake: clear Present, dma_wmb(), invalidate and wait, write the other words, dma_wmb(), set Present; or, when only one 16-byte chunk's used bits change, write it with one aligned 16-byte store."
        case .tornWindow:
            "A live (present) entry is rewritten with several stores, so between them it holds a value that is neither the old nor the new one, and the unit may fetch it. Barriers cannot help. Use one aligned 16-byte store when only one chunk's used bits change; otherwise the ownership handshake: clear Present, dma_wmb(), invalidate and wait, write the other words, dma_wmb(), set Present."
        case .missingBarrier:
            "Stores between two device write barriers may reach the unit in any order (the portable Linux model). Put dma_wmb() between the two stores named, typically before the store that sets Present and after the store that clears it. smp_wmb() and barrier() do not order stores for devices."
        case .ownershipHandshake:
            "After clearing Present the unit may still hold the entry in its caches, or be in the middle of fetching it. Software owns the entry only once a covering invalidation (PASID cache or context cache, with the old domain id) has been issued and waited for. Clear Present, dma_wmb(), invalidate and wait, then rewrite the other words."
        case .missingInvalidation:
            "The unit may keep using a cached copy of a changed entry until it is invalidated. VT-d 6.5 ('Guidance to software for invalidations'): a context entry needs a context-cache invalidation, then the IOTLB for its domain, then the device TLB when ATS is on; a PASID entry needs a PASID-cache invalidation with the old domain id, then the PASID-based IOTLB or the domain's IOTLB, then the device TLB when ATS is on; each completed by an invalidation wait."
        case .missingFlush:
            "A unit without coherency (ecap.C = 0) reads memory, not CPU caches: a store reaches it only when its cache line is flushed (clflush). Flush the entry after writing it and before invalidating or waiting."
        case .unalignedStore:
            "The unit reads entries in 16-byte single-copy-atomic chunks. A store that is not naturally aligned, or that crosses a chunk, may be seen half done. Use aligned 8- or 16-byte stores."
        }
    }

    /// The rule's position in the rule book: reports order by it.
    var ordinal: Int {
        switch self {
        case .tornRead: 0
        case .tornWindow: 1
        case .missingBarrier: 2
        case .ownershipHandshake: 3
        case .missingInvalidation: 4
        case .missingFlush: 5
        case .unalignedStore: 6
        }
    }

    /// The rule as one bit of a set.
    var bit: UInt32 { 1 << UInt32(ordinal) }

    public static func < (a: Rule, b: Rule) -> Bool { a.ordinal < b.ordinal }
}

/// How bad a finding is.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case warning, error

    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
}

/// Which reorderings of stores the analysis assumes (CHECKS.md, "Exposed
/// state").
public enum MemoryModel: String, Sendable, Codable, CaseIterable {
    /// x86 total store order: stores reach the device in program order. The
    /// default on VT-d.
    case tso
    /// The portable Linux model (as on ARM): stores between two device write
    /// barriers may become visible in any order; stores to the same address
    /// stay in order.
    case weak
}
