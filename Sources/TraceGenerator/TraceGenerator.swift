import TraceFormat

/// What to generate.
public struct GeneratorOptions: Sendable, Equatable {
    /// Events in the trace, exactly (the header line is not one).
    public var events: Int
    /// The seed: the same options give the same bytes.
    public var seed: UInt64
    /// The fraction of table updates done the racy way (0 to 1).
    public var buggyRate: Double
    /// Added to every table address: the same seed then makes the same
    /// updates and races at other addresses, as a second run of the same
    /// kernel would. Taken in whole 4 KiB pages below 2^36 (each unit's
    /// tables live in their own 2^36-byte range).
    public var addressOffset: UInt64
    /// The first event's time in nanoseconds, before its random step.
    public var startTime: UInt64

    /// Creates options.
    public init(events: Int, seed: UInt64 = 1, buggyRate: Double = 0, addressOffset: UInt64 = 0,
                startTime: UInt64 = 1_000_000_000) {
        self.events = events
        self.seed = seed
        self.buggyRate = buggyRate
        self.addressOffset = addressOffset
        self.startTime = startTime
    }
}

/// The racy update sequences the generator seeds (DOMAIN.md, "The three
/// races of the seed series"), by the name the manifest uses.
public enum SeededRace: String, CaseIterable, Codable, Sendable {
    /// A present PASID entry zeroed word by word, then invalidated
    /// (`intel_pasid_tear_down_entry` before the fix).
    case pasidTeardownZeroFirst = "pasid-teardown-zero-first"
    /// A present PASID entry overwritten in place by eight 64-bit stores,
    /// then invalidated with the old DID (`intel_pasid_replace_*` before the
    /// fix, CVE-2026-45945).
    case pasidReplaceInPlace = "pasid-replace-in-place"
    /// A PASID entry set up without `dma_wmb()` before the store that sets
    /// Present.
    case pasidSetupMissingBarrier = "pasid-setup-missing-barrier"
    /// A present context entry zeroed (lo, then hi), then invalidated
    /// (`domain_context_clear_one` before the fix).
    case contextTeardownZeroFirst = "context-teardown-zero-first"
}

/// The updates the generator made in the correct (Linux after the 2026
/// fixes) way, by the name the manifest uses.
public enum CorrectUpdate: String, CaseIterable, Codable, Sendable {
    case pasidSetup = "pasid-setup"
    case pasidTeardown = "pasid-teardown"
    case pasidReplace = "pasid-replace"
    case contextSetup = "context-setup"
    case contextTeardown = "context-teardown"
}

/// What a generated trace holds: the sidecar a test of the checks compares
/// its findings with.
public struct GeneratorManifest: Codable, Sendable, Equatable {
    public var version = 1
    public var events: Int
    public var seed: UInt64
    public var buggyRate: Double
    /// Units as `name mode coherent caching-mode`.
    public var units: [String]
    /// Devices that got tables.
    public var devices: Int
    /// Distinct (device, PASID) pairs set up at least once.
    public var pasids: Int
    /// Correct updates by kind.
    public var updates: [String: Int]
    /// Seeded racy updates by kind (``SeededRace``).
    public var races: [String: Int]
    /// The same by unit (`dmar2` -> kind -> count): on a unit with
    /// `coherent=0` the stores reach the unit only at the clflush that ends
    /// the sequence, so what a check can see there differs.
    public var racesByUnit: [String: [String: Int]]
    /// Recorded `fetch` events, and those of them made in the middle of a
    /// racy in-place replacement (the unit read the entry while it was torn).
    public var fetches: Int
    public var fetchesDuringRaces: Int
    /// Events that touch no table (filler stores and fences, marks).
    public var fillerEvents: Int
}

/// A deterministic generator of realistic VT-d traces: several units (some
/// not coherent, one with caching mode, some legacy), hundreds of devices and
/// thousands of PASIDs whose tables are set up by stores walking root ->
/// context -> PASID directory -> PASID table, then updated the way Linux does
/// (and, for `buggyRate` of the updates, the racy way it used to), with
/// invalidations, waits, recorded fetches and mostly filler stores, from
/// several CPUs.
public struct TraceGenerator {
    /// Writes the trace, in chunks, through `sink`, and returns its manifest.
    public static func generate(_ options: GeneratorOptions,
                                to sink: (UnsafeBufferPointer<UInt8>) throws(TraceError) -> Void) throws(TraceError) -> GeneratorManifest {
        var g = Generator(options)
        return try g.run(sink)
    }

    /// The whole trace as text, for tests and small traces.
    public static func text(_ options: GeneratorOptions) -> (String, GeneratorManifest) {
        var bytes: [UInt8] = []
        let manifest = try! generate(options) { (chunk: UnsafeBufferPointer<UInt8>) throws(TraceError) in bytes.append(contentsOf: chunk) }
        return (String(decoding: bytes, as: UTF8.self), manifest)
    }
}
