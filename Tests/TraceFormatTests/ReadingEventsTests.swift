import Testing
@testable import TraceFormat

@Suite("Reading the text format: every event kind and key")
struct ReadingEventsTests {
    @Test func aStoreCarriesAddressSizeValueAndSite() throws {
        let (events, symbols) = try read("store addr=0x10040 size=8 value=0xb00049 cpu=1 at=pasid.c:412\n")
        #expect(events.count == 1)
        #expect(events[0].payload == .store(MemoryWrite(addr: 0x10040, size: 8, value: 0xb00049)))
        #expect(events[0].cpu == 1)
        #expect(events[0].site.map { symbols[$0] } == "pasid.c:412")
        #expect(events[0].line == 1)
    }

    @Test func markTextRunsToTheEndOfTheLine() throws {
        let (events, symbols) = try read("mark text=phase one t=5\n")
        guard case .mark(let text) = events[0].payload else { Issue.record("not a mark"); return }
        #expect(symbols[text] == "phase one t=5")
        #expect(events[0].time == nil)
    }

    @Test func markKeysBeforeTextAreKeysAndTrailingBlanksAreDropped() throws {
        let (e, symbols) = try event("mark t=7 cpu=2 unit=dmar3 at=x.c:1 text=  a = b # c \t ")
        guard case .mark(let text) = e.payload else { Issue.record("not a mark"); return }
        #expect(symbols[text] == "  a = b # c")
        #expect(e.time == 7)
        #expect(e.cpu == 2)
        #expect(symbols[e.unit] == "dmar3")
        #expect(e.site.map { symbols[$0] } == "x.c:1")
    }

    @Test func anEventWithoutCommonKeysHasTheDefaults() throws {
        let (e, symbols) = try event("wait")
        #expect(e.payload == .wait)
        #expect(e.time == nil)
        #expect(e.cpu == 0)
        #expect(e.unit == .defaultUnit)
        #expect(symbols[e.unit] == "iommu0")
        #expect(e.site == nil)
    }

    @Test func commonKeysMayComeInAnyOrderOnAnyKind() throws {
        let (e, symbols) = try event("wait at=qi.c:9 unit=dmar1 cpu=0x3 t=12")
        #expect(e.time == 12)
        #expect(e.cpu == 3)
        #expect(symbols[e.unit] == "dmar1")
        #expect(e.site.map { symbols[$0] } == "qi.c:9")
    }

    @Test func anIommuLineDeclaresAUnitWithDefaultCapabilities() throws {
        let (e, symbols) = try event("iommu id=dmar0")
        guard case .iommu(let unit) = e.payload else { Issue.record("not iommu"); return }
        #expect(symbols[unit.id] == "dmar0")
        #expect(unit.coherent)
        #expect(!unit.cachingMode)
        #expect(e.unit == unit.id, "the event concerns the unit it declares")
    }

    @Test func anIommuLineTakesArchCoherentAndCachingMode() throws {
        let (e, _) = try event("iommu id=dmar1 arch=vtd coherent=0 caching-mode=1 unit=dmar1")
        guard case .iommu(let unit) = e.payload else { Issue.record("not iommu"); return }
        #expect(!unit.coherent)
        #expect(unit.cachingMode)
    }

    @Test func aRootLineIsScalableUnlessItSaysLegacy() throws {
        #expect(try event("root addr=0x1000").event.payload == .root(addr: 0x1000, mode: .scalable))
        #expect(try event("root addr=0x1000 mode=scalable").event.payload == .root(addr: 0x1000, mode: .scalable))
        #expect(try event("root addr=0x2000 mode=legacy").event.payload == .root(addr: 0x2000, mode: .legacy))
    }

    @Test(arguments: [
        ("root", TableKind.root), ("context", .context), ("sm-context", .smContext),
        ("pasid-dir", .pasidDirectory), ("pasid", .pasid),
    ])
    func aTableLineDeclaresEachKind(word: String, kind: TableKind) throws {
        #expect(try event("table addr=0x4000 kind=\(word)").event.payload == .table(TableDeclaration(addr: 0x4000, kind: kind)))
    }

    @Test func aTableLineTakesEveryOptionalKey() throws {
        let (e, symbols) = try event("table addr=0x10000 kind=pasid count=64 sid=00:02.0 pasid-base=64 bus=0x3 name=dev2")
        guard case .table(let table) = e.payload else { Issue.record("not a table"); return }
        #expect(table.addr == 0x10000)
        #expect(table.kind == .pasid)
        #expect(table.count == 64)
        #expect(table.sid == 0x10)
        #expect(table.pasidBase == 64)
        #expect(table.bus == 3)
        #expect(table.name.map { symbols[$0] } == "dev2")
        #expect(table.entrySize == nil && table.fetchSize == nil && table.presentBit == nil)
    }

    @Test func aGenericTableGivesEntryFetchAndPresentBit() throws {
        let (e, _) = try event("table addr=0x8000 kind=generic entry=32 fetch=16 present-bit=3")
        guard case .table(let table) = e.payload else { Issue.record("not a table"); return }
        #expect(table.kind == .generic)
        #expect(table.entrySize == 32)
        #expect(table.fetchSize == 16)
        #expect(table.presentBit == 3)
    }

    @Test(arguments: [("root", 16), ("context", 16), ("sm-context", 32), ("pasid-dir", 8), ("pasid", 64)])
    func aVTdTableMayRestateItsFixedLayout(kind: String, entry: Int) throws {
        let (e, _) = try event("table addr=0x8000 kind=\(kind) entry=\(entry) fetch=16 present-bit=0")
        guard case .table(let table) = e.payload else { Issue.record("not a table"); return }
        #expect(table.kind.name == kind)
        #expect(table.entrySize == nil && table.fetchSize == nil && table.presentBit == nil)
    }

    @Test func anInitIsMemoryContentOfOneToSixteenBytes() throws {
        #expect(try event("init addr=0x10 size=3 value=0xabcdef").event.payload
                == .initialize(MemoryWrite(addr: 0x10, size: 3, value: 0xabcdef)))
        #expect(try event("init addr=0x10 size=16 value=0xffffffffffffffffffffffffffffffff").event.payload
                == .initialize(MemoryWrite(addr: 0x10, size: 16, value: .max)))
    }

    @Test(arguments: [1, 2, 4, 8, 16])
    func aStoreMayBeOfEachWidth(size: Int) throws {
        let value: UInt128 = size == 16 ? .max : (UInt128(1) << (size * 8)) - 1
        let e = try event("store addr=0x20 size=\(size) value=\(value)").event
        #expect(e.payload == .store(MemoryWrite(addr: 0x20, size: UInt8(size), value: value)))
    }

    @Test func aStoreKnowsWhetherItIsNaturallyAligned() {
        #expect(MemoryWrite(addr: 0x40, size: 16, value: 0).isNaturallyAligned)
        #expect(!MemoryWrite(addr: 0x48, size: 16, value: 0).isNaturallyAligned)
        #expect(MemoryWrite(addr: 0x48, size: 8, value: 0).isNaturallyAligned)
    }

    @Test(arguments: FenceKind.allCases)
    func aFenceNamesEachBarrier(kind: FenceKind) throws {
        #expect(try event("fence kind=\(kind.name)").event.payload == .fence(kind))
    }

    @Test func theFenceWordsAreThoseOfTheFormat() {
        #expect(FenceKind.allCases.map(\.name) == ["mb", "wmb", "rmb", "dma_mb", "dma_wmb", "dma_rmb", "smp_mb",
                                                    "smp_wmb", "smp_rmb", "barrier", "sfence", "mfence", "lfence"])
    }

    @Test func aFlushDefaultsToOneClflushOfSixtyFourBytes() throws {
        #expect(try event("flush addr=0x1000").event.payload == .flush(CacheFlush(addr: 0x1000, size: 64, kind: .clflush)))
    }

    @Test(arguments: FlushKind.allCases)
    func aFlushNamesEachInstruction(kind: FlushKind) throws {
        #expect(try event("flush addr=0x1000 size=128 kind=\(kind.name)").event.payload
                == .flush(CacheFlush(addr: 0x1000, size: 128, kind: kind)))
    }

    @Test func aFetchMayCarryTheValueRead() throws {
        #expect(try event("fetch addr=0x40 size=16").event.payload == .fetch(MemoryRead(addr: 0x40, size: 16)))
        #expect(try event("fetch addr=0x40 size=16 value=0x1").event.payload == .fetch(MemoryRead(addr: 0x40, size: 16, value: 1)))
        #expect(try event("fetch addr=0x40 size=4096").event.payload == .fetch(MemoryRead(addr: 0x40, size: 4096)))
    }

    @Test func anInvalTakesEveryKeyOfItsScope() throws {
        #expect(try event("inval type=context gran=global").event.payload
                == .inval(Invalidation(type: .context, granularity: .global)))
        #expect(try event("inval type=context gran=domain did=5").event.payload
                == .inval(Invalidation(type: .context, granularity: .domain, did: 5)))
        #expect(try event("inval type=context gran=device sid=00:03.0 fm=2 did=1").event.payload
                == .inval(Invalidation(type: .context, granularity: .device, did: 1, sid: 0x18, fm: 2)))
        #expect(try event("inval type=pasid gran=pasid did=5 pasid=0xfffff").event.payload
                == .inval(Invalidation(type: .pasid, granularity: .pasid, did: 5, pasid: 0xfffff)))
        #expect(try event("inval type=iotlb gran=page did=2 addr=0x7000 am=3").event.payload
                == .inval(Invalidation(type: .iotlb, granularity: .page, did: 2, addr: 0x7000, am: 3)))
        #expect(try event("inval type=piotlb gran=page did=2 pasid=9 addr=0x7000 am=0").event.payload
                == .inval(Invalidation(type: .piotlb, granularity: .page, did: 2, pasid: 9, addr: 0x7000, am: 0)))
        #expect(try event("inval type=devtlb gran=device sid=16").event.payload
                == .inval(Invalidation(type: .devtlb, granularity: .device, sid: 16)))
        #expect(try event("inval type=pdevtlb gran=pasid sid=16 pasid=1").event.payload
                == .inval(Invalidation(type: .pdevtlb, granularity: .pasid, sid: 16, pasid: 1)))
        #expect(try event("inval type=iec gran=global").event.payload
                == .inval(Invalidation(type: .iec, granularity: .global)))
        #expect(try event("inval type=iec gran=page addr=0x1f am=0").event.payload
                == .inval(Invalidation(type: .iec, granularity: .page, addr: 0x1f, am: 0)))
    }

    @Test func everyValidTypeAndGranularityReadsWithItsRequiredKeys() throws {
        for type in InvalidationType.allCases {
            for gran in type.validGranularities {
                let keys = LineParser.requiredInvalidationKeys(type, gran).map { key -> String in
                    switch key {
                    case .sid: "sid=00:02.0"
                    case .addr: "addr=0x1000"
                    default: "\(key.name)=1"
                    }
                }
                let line = (["inval", "type=\(type.name)", "gran=\(gran.name)"] + keys).joined(separator: " ")
                let e = try event(line).event
                guard case .inval(let inv) = e.payload else { Issue.record("not an inval: \(line)"); continue }
                #expect(inv.type == type && inv.granularity == gran, "\(line)")
            }
        }
    }

    @Test func beginAndEndBracketAnUpdateAndTargetIsIgnored() throws {
        #expect(try event("begin addr=0x10040").event.payload == .begin(addr: 0x10040))
        #expect(try event("begin addr=0x10040 target=0xb00049").event.payload == .begin(addr: 0x10040))
        #expect(try event("end addr=0x10040").event.payload == .end(addr: 0x10040))
    }

    @Test func theExampleOfTheFormatReadsAsItSays() throws {
        let (events, symbols) = try read("""
            hitless-trace 1
            # one PASID entry replaced in place, then invalidated
            iommu id=dmar0 coherent=1
            table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 unit=dmar0
            init addr=0x10040 size=16 value=0x00000000000000010000000000a00049
            store addr=0x10040 size=8 value=0x0000000000b00049 cpu=1 at=pasid.c:412
            store addr=0x10048 size=8 value=0x0000000000000002 cpu=1 at=pasid.c:412
            inval type=pasid gran=pasid did=1 pasid=1 unit=dmar0
            wait unit=dmar0

            """)
        #expect(events.map(\.kind) == [.iommu, .table, .`init`, .store, .store, .inval, .wait])
        #expect(events.map(\.line) == [3, 4, 5, 6, 7, 8, 9])
        #expect(events[2].payload == .initialize(MemoryWrite(addr: 0x10040, size: 16,
                                                             value: 0x0000_0000_0000_0001_0000_0000_00a0_0049)))
        #expect(symbols[events[6].unit] == "dmar0")
    }
}

@Suite("Reading the text format: lines, numbers and source ids")
struct LinesAndNumbersTests {
    @Test(arguments: [
        ("12", UInt64(12)), ("0x1f", 0x1f), ("0X1F", 0x1f), ("0x1F", 0x1f), ("0", 0), ("0x0", 0),
        ("18446744073709551615", .max), ("0xffffffffffffffff", .max), ("0x0000000000000000000000000001", 1), ("007", 7),
        ("9999999999999999999", 9_999_999_999_999_999_999), ("0x00000000000000001", 1), ("0X0123456789abcdef", 0x0123_4567_89ab_cdef),
        ("00000000000000000000000000042", 42),
    ])
    func integersAreDecimalOrHexadecimal(text: String, value: UInt64) throws {
        #expect(try event("begin addr=\(text)").event.payload == .begin(addr: value))
    }

    @Test func valueHoldsUpTo128Bits() throws {
        let e = try event("store addr=0 size=16 value=0xfedcba9876543210FEDCBA9876543210").event
        #expect(e.payload == .store(MemoryWrite(addr: 0, size: 16, value: 0xfedc_ba98_7654_3210_fedc_ba98_7654_3210)))
        let decimal = try event("store addr=0 size=16 value=340282366920938463463374607431768211455").event
        #expect(decimal.payload == .store(MemoryWrite(addr: 0, size: 16, value: .max)))
    }

    @Test func valueIsLittleEndianSoItFillsItsSizeFromTheLowByte() throws {
        #expect(try event("store addr=0 size=2 value=0xffff").event.payload == .store(MemoryWrite(addr: 0, size: 2, value: 0xffff)))
        #expect(try event("store addr=0 size=1 value=0x00000000ff").event.payload == .store(MemoryWrite(addr: 0, size: 1, value: 0xff)))
    }

    @Test(arguments: [
        ("0x0010", UInt16(0x10)), ("16", 16), ("00:02.0", 0x10), ("00:1f.7", 0xff), ("ff:1f.7", 0xffff),
        ("3:0.1", 0x301), ("0A:0B.2", 0x0a5a), ("65535", 0xffff),
    ])
    func sourceIDsAreNumbersOrBusDeviceFunction(text: String, sid: UInt16) throws {
        #expect(try event("inval type=devtlb gran=device sid=\(text)").event.payload
                == .inval(Invalidation(type: .devtlb, granularity: .device, sid: sid)))
        #expect(parseSourceID(text) == sid)
    }

    @Test func sourceIDsPrintAsBusDeviceFunction() {
        #expect(formatSourceID(0x10) == "00:02.0")
        #expect(formatSourceID(0xffff) == "ff:1f.7")
        #expect(formatSourceID(0x0a5a) == "0a:0b.2")
    }

    @Test func theHeaderIsOptionalAndMayFollowCommentsAndBlankLines() throws {
        #expect(try read("wait\n").events.count == 1)
        #expect(try read("hitless-trace 1\nwait\n").events.count == 1)
        #expect(try read("# recorded by a test\n\n  hitless-trace   1  \nwait\n").events.count == 1)
    }

    @Test(arguments: ["inval type=piotlb gran=global", "inval type=iotlb gran=device sid=00:02.0",
                      "inval type=devtlb gran=page did=1 addr=0x1000 am=0", "inval type=pdevtlb gran=pasid did=1 pasid=2",
                      "inval type=context gran=page did=1 addr=0x1000 am=0"])
    func anInvalidationTheContractAllowsButVTdDoesNotDefineReads(line: String) throws {
        let (e, _) = try event(line)
        guard case .inval(let inv) = e.payload else { Issue.record("not an inval"); return }
        #expect(!inv.isDefinedByVTd)
        #expect(inv.undefinedByVTd?.hasSuffix("so it covers nothing") == true)
    }

    /// docs/TRACE-FORMAT.md, "Invalidation scopes": each pair VT-d defines
    /// and the keys it requires.
    static let invalidationScopes: [String: [String]] = [
        "context global": [], "context domain": ["did"], "context device": ["sid"],
        "pasid global": [], "pasid domain": ["did"], "pasid pasid": ["did", "pasid"],
        "iotlb global": [], "iotlb domain": ["did"], "iotlb page": ["did", "addr", "am"],
        "piotlb pasid": ["did", "pasid"], "piotlb page": ["did", "addr", "am"],
        "devtlb device": ["sid"], "devtlb page": ["sid", "addr"],
        "pdevtlb device": ["sid"], "pdevtlb pasid": ["sid", "pasid"], "pdevtlb page": ["sid", "pasid", "addr"],
        "iec global": [], "iec page": ["addr", "am"],
    ]

    @Test func theFieldsVTdNeedsAreThoseTheReaderRequires() {
        for type in InvalidationType.allCases {
            for gran in InvalidationGranularity.allCases {
                let scope = "\(type.name) \(gran.name)"
                let expected = Self.invalidationScopes[scope]
                #expect(type.validGranularities.contains(gran) == (expected != nil), "\(scope)")
                #expect(LineParser.requiredInvalidationKeys(type, gran).map { "\($0.name)" } == expected ?? [], "\(scope)")
                let bits = expected.map { keys in
                    Invalidation.fieldKeys.filter { keys.contains("\($0.name)") }.reduce(0) { $0 | Invalidation.fieldBit($1) }
                }
                #expect(Invalidation.vtdFields(type, gran) == bits, "\(scope)")
            }
        }
    }

    @Test func anInvalidationVTdDefinesHasNoReasonAgainstIt() throws {
        let (e, _) = try event("inval type=devtlb gran=page sid=00:02.0 addr=0x1000")
        guard case .inval(let inv) = e.payload else { Issue.record("not an inval"); return }
        #expect(inv.isDefinedByVTd && inv.undefinedByVTd == nil)
    }

    @Test func theHeadersVersionIsANumberLeadingZerosAndAll() throws {
        #expect(try read("hitless-trace 001\nwait\n").events.count == 1)
        #expect(readError("hitless-trace 10\nwait\n")?.message == "unsupported trace format version 10; this hitless reads version 1")
        #expect(readError("hitless-trace 0\nwait\n")?.message == "unsupported trace format version 0; this hitless reads version 1")
    }

    @Test func commentsAndBlankLinesAreIgnoredButCounted() throws {
        let (events, _) = try read("# a\n\n   \n\t# indented comment\nwait\n\t \nwait\n")
        #expect(events.map(\.line) == [5, 7])
    }

    @Test func aHashInsideALineIsNotAComment() throws {
        let (e, symbols) = try event("wait at=file#3")
        #expect(e.site.map { symbols[$0] } == "file#3")
    }

    @Test func crlfLineEndsReadLikeLF() throws {
        let (events, symbols) = try read("hitless-trace 1\r\nstore addr=0x10 size=8 value=1 at=a.c:1\r\n\r\nmark text=x y\r\nwait")
        #expect(events.map(\.kind) == [.store, .mark, .wait])
        #expect(events.map(\.line) == [2, 4, 5])
        #expect(events[0].site.map { symbols[$0] } == "a.c:1")
        guard case .mark(let text) = events[1].payload else { Issue.record("not a mark"); return }
        #expect(symbols[text] == "x y")
    }

    @Test func theLastLineNeedsNoLineEnd() throws {
        #expect(try read("wait\nend addr=0x5").events.last?.payload == .end(addr: 5))
    }

    @Test func tabsAndRunsOfBlanksSeparateTokens() throws {
        #expect(try event("\tstore\taddr=0x10   size=1\t \tvalue=2  ").event.payload
                == .store(MemoryWrite(addr: 0x10, size: 1, value: 2)))
    }

    @Test func aByteOrderMarkBeforeTheFirstLineIsSkipped() throws {
        #expect(try read(bytes: [0xef, 0xbb, 0xbf] + Array("hitless-trace 1\nwait\n".utf8)).events.count == 1)
    }

    @Test func timeMayStayTheSameAndEventsWithoutTimeDoNotBreakTheOrder() throws {
        let (events, _) = try read("wait t=5\nwait t=5\nwait\nwait t=6\n")
        #expect(events.map(\.time) == [5, 5, nil, 6])
    }

    @Test func aLineOfExactlyTheLimitIsRead() throws {
        let prefix = "mark text="
        let line = prefix + String(repeating: "x", count: TraceLimits.maxLineLength - prefix.utf8.count)
        #expect(try read(line + "\n").events.count == 1)
        #expect(try read(line + "\r\n").events.count == 1, "the CR of a CRLF is not part of the line")
    }

    @Test func nonASCIITextIsKeptAsUTF8() throws {
        let (e, symbols) = try event("mark text=réglage → fini")
        guard case .mark(let text) = e.payload else { Issue.record("not a mark"); return }
        #expect(symbols[text] == "réglage → fini")
    }

    @Test func repeatedNamesShareOneSymbol() throws {
        let (events, symbols) = try read("wait unit=dmar1\nwait unit=dmar2\nwait unit=dmar1\n")
        #expect(events[0].unit == events[2].unit)
        #expect(events[0].unit != events[1].unit)
        #expect(symbols.count == 3, "iommu0, dmar1, dmar2")
    }

    @Test func anEmptyTraceHasNoEvents() throws {
        #expect(try read("").events.isEmpty)
        #expect(try read("hitless-trace 1\n").events.isEmpty)
    }

    @Test func countsLinesAndTextBytes() throws {
        let reader = try TraceReader(text: "# c\nwait\nwait\n")
        _ = try reader.readAll()
        #expect(reader.lines == 3)
        #expect(reader.textBytes == 14)
        #expect(reader.fileBytes == 14)
        #expect(!reader.isCompressed)
    }
}
