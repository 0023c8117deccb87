/// Turns one line of a text trace into events.
///
/// Works on the line's bytes in place. It keeps the little state the format
/// needs across lines: the symbol table, the last `t=`, whether an event has
/// been seen (the header must come first) and whether the file is kernel
/// trace output.
struct LineParser {
    /// What one line gave.
    enum Outcome {
        /// A blank line, a comment or the header.
        case nothing
        /// One event.
        case event(TraceEvent)
        /// A decoded `qi_submit` descriptor: the invalidation, and a `wait`
        /// after it because the driver waited for it before returning.
        case eventAndWait(TraceEvent)
        /// Another tracer's line in kernel trace output, or a `qi_submit`
        /// descriptor that invalidates nothing (a page request response).
        case foreign
    }

    let fileName: String
    var symbols = SymbolTable()
    /// The canonical store's recent `at=` and `unit=` names.
    var recentNames = RecentNames()
    var sawHeaderOrEvent = false
    private var lastTime: UInt64?
    private var lastTimeLine: UInt64 = 0
    /// Whether canonical `store` and `fence` lines take their fast paths
    /// (``parseCanonicalStore(_:kindEnd:number:)``, ``parseCanonicalFence(_:kindEnd:number:)``;
    /// off only in tests that compare them with the general parser).
    var canonicalFastPath = true
    /// Set once a line shows the file is kernel trace output.
    private(set) var kernelTraceOutput = false
    /// Set at the first `hitless: ` or `qi_submit: ` line: only such a line
    /// proves the file is kernel trace output (TRACE-FORMAT.md skips other
    /// lines "in a file that has such lines").
    private var kernelMarkerSeen = false
    /// The line that looked like another tracer's event and so made the
    /// file kernel trace output before any marker (0: none). If no marker
    /// ever comes, it was not, and that line is the error.
    private var guessedKernelOutputAt: UInt64 = 0
    /// ``TraceLimits/maxKeysPerLine``, lowered only by tests: no kind takes
    /// that many keys, so only a lower bound can show the error. 32 bits,
    /// beside the flags: the parser's size is copied for every line.
    var maxKeysPerLine = Int32(TraceLimits.maxKeysPerLine)

    // Where each key's token and value sit in the current line, reused for
    // every line so parsing allocates nothing. Plain memory rather than
    // arrays: an array write checks uniqueness, and these are written for
    // every key of every line.
    private let keyStart = Slots(count: EventKey.allCases.count)
    private let valueStart = Slots(count: EventKey.allCases.count)
    private let valueEnd = Slots(count: EventKey.allCases.count)
    private var seen: UInt32 = 0
    private static let allowedKeys: [UInt32] = EventKind.allCases.map { $0.allowedKeys }
    // The lookups below run once or more per line; tables built once keep
    // them free of allocation (`allCases`, `Set` and array literals are not).
    private static let requiredKeyMasks: [UInt32] = EventKind.allCases.map { $0.requiredKeys.reduce(0) { $0 | $1.bit } }
    private static let fenceKinds = FenceKind.allCases
    private static let flushKinds = FlushKind.allCases
    private static let tableKinds = TableKind.allCases
    private static let invalidationTypes = InvalidationType.allCases
    private static let granularities = InvalidationGranularity.allCases

    init(fileName: String) {
        self.fileName = fileName
    }

    /// `store ` and `fence ` as little-endian words (CanonicalLinesTests
    /// spells them back).
    static let storeWord: UInt64 = 0x20_6572_6f74_73
    static let fenceWord: UInt64 = 0x20_6563_6e65_66

    mutating func parse(_ line: UnsafeBufferPointer<UInt8>, number: UInt64) throws(TraceError) -> Outcome {
        if let event = try parseCanonical(line, number: number) { return .event(event) }
        return try parseGeneral(line, number: number)
    }

    /// The event of a canonical `store` or `fence` line, or nil for any
    /// other line. Most lines are these: straight to their fast paths,
    /// before looking for a byte order mark, blanks and the kind. Any other
    /// spelling (a blank before the kind, say) takes the general parser,
    /// which reads it the same.
    @inline(__always) mutating func parseCanonical(_ line: UnsafeBufferPointer<UInt8>, number: UInt64) throws(TraceError) -> TraceEvent? {
        guard canonicalFastPath && line.count >= 8, let base = line.baseAddress else { return nil }
        let head = WordScan.load(UnsafeRawPointer(base), 0) & 0xffff_ffff_ffff
        if head == Self.storeWord { return try parseCanonicalStore(line, kindEnd: 5, number: number) }
        if head == Self.fenceWord { return try parseCanonicalFence(line, kindEnd: 5, number: number) }
        return nil
    }

    /// What any line holds, read by the general parser.
    mutating func parseGeneral(_ line: UnsafeBufferPointer<UInt8>, number: UInt64) throws(TraceError) -> Outcome {
        var start = 0
        // Editors on some systems start UTF-8 files with a byte order mark;
        // it is not part of the first line's text.
        if number == 1 && line.count >= 3 && line[0] == 0xef && line[1] == 0xbb && line[2] == 0xbf { start = 3 }
        while start < line.count && ASCII.isBlank(line[start]) { start += 1 }
        if start == line.count || line[start] == ASCII.hash { return .nothing }
        let tokenEnd = line.endOfToken(from: start)
        let first = UnsafeBufferPointer(rebasing: line[start..<tokenEnd])
        if let kind = EventKind.lookup(first) {
            try Self.checkUTF8(line, from: start, number: number, file: fileName)
            return .event(try parseEvent(kind, line, kindStart: start, kindEnd: tokenEnd, number: number,
                                         prefixCPU: nil, prefixTime: nil))
        }
        if first.equals("hitless-trace") {
            try Self.checkUTF8(line, from: start, number: number, file: fileName)
            try parseHeader(line, after: tokenEnd, number: number, column: start + 1)
            return .nothing
        }
        if let marker = line.firstRange(of: "hitless: ") {
            kernelTraceOutput = true
            kernelMarkerSeen = true
            // Only the event text must be UTF-8: the prefix is the kernel's
            // (a task name may hold any bytes) and only its CPU and time are read.
            try Self.checkUTF8(line, from: marker, number: number, file: fileName)
            let prefix = UnsafeBufferPointer(rebasing: line[..<marker])
            let (cpu, time) = KernelTracePrefix.parse(prefix)
            var bodyStart = marker + 9
            while bodyStart < line.count && ASCII.isBlank(line[bodyStart]) { bodyStart += 1 }
            let bodyEnd = line.endOfToken(from: bodyStart)
            let kindToken = UnsafeBufferPointer(rebasing: line[bodyStart..<bodyEnd])
            guard let kind = EventKind.lookup(kindToken) else {
                throw error(number, bodyStart, kindToken.isEmpty ? "missing event after `hitless: `" : "unknown event kind",
                            found: kindToken.isEmpty ? nil : kindToken.text)
            }
            return .event(try parseEvent(kind, line, kindStart: bodyStart, kindEnd: bodyEnd, number: number,
                                         prefixCPU: cpu, prefixTime: time))
        }
        if let marker = line.firstRange(of: "qi_submit: ") {
            kernelTraceOutput = true
            kernelMarkerSeen = true
            try Self.checkUTF8(line, from: marker, number: number, file: fileName)
            let prefix = UnsafeBufferPointer(rebasing: line[..<marker])
            let (cpu, time) = KernelTracePrefix.parse(prefix)
            let decoded = try QISubmit.parse(line, from: marker + 11, number: number, parser: &self)
            guard let decoded else { return .foreign }
            var event = TraceEvent(decoded.payload, cpu: cpu ?? 0, unit: decoded.unit, line: number)
            try setTime(&event, time, number: number, column: 1)
            sawHeaderOrEvent = true
            return decoded.payload == .wait ? .event(event) : .eventAndWait(event)
        }
        // TRACE-FORMAT.md: in kernel trace output, every line without
        // `hitless: ` belongs to another tracer (or is the tool's own) and
        // is skipped, not an error. Before the first line that shows the file
        // is kernel output, only lines shaped like another tracer's event make
        // it so, and the tools' own lines (`cpus=4`, `CPU:2 [LOST 12 EVENTS]`)
        // are skipped without making it so: a typo in a plain trace, before
        // or after them, is still an error.
        if kernelTraceOutput { return .foreign }
        if KernelTracePrefix.isToolLine(line, start: start) { return .foreign }
        if KernelTracePrefix.looksLikeEvent(line, start: start) {
            kernelTraceOutput = true
            guessedKernelOutputAt = number
            return .foreign
        }
        try Self.checkUTF8(line, from: start, number: number, file: fileName)
        throw error(number, start, "unknown event kind", found: first.text)
    }

    /// At the end of the text: a file taken for kernel trace output by a
    /// line shaped like another tracer's event, but with no `hitless: ` or
    /// `qi_submit: ` line, was a plain trace, whose lines after that one
    /// were skipped as foreign; that line is the error.
    func checkEnd() throws(TraceError) {
        guard guessedKernelOutputAt != 0 && !kernelMarkerSeen else { return }
        throw TraceError(file: fileName, location: .line(guessedKernelOutputAt, column: 1),
                         message: "unknown event kind: the line looks like another tracer's event, "
                             + "but no line has `hitless: ` or `qi_submit: `, so this is not kernel trace output")
    }

    /// Static, given the file name: as a method it had the whole parser
    /// copied (past 128 bytes, with memcpy) for each line it checks.
    private static func checkUTF8(_ line: UnsafeBufferPointer<UInt8>, from: Int, number: UInt64,
                                  file: String) throws(TraceError) {
        if let bad = UnsafeBufferPointer(rebasing: line[from...]).firstInvalidUTF8() {
            throw TraceError(file: file, location: .line(number, column: from + bad + 1), message: "invalid UTF-8",
                             found: hexByte(line[from + bad]))
        }
    }

    // MARK: - Header

    private mutating func parseHeader(_ line: UnsafeBufferPointer<UInt8>, after: Int, number: UInt64, column: Int) throws(TraceError) {
        if sawHeaderOrEvent {
            throw error(number, column - 1, "the header `hitless-trace 1` must be the first event line", found: "hitless-trace")
        }
        var i = after
        while i < line.count && ASCII.isBlank(line[i]) { i += 1 }
        let end = line.endOfToken(from: i)
        let version = UnsafeBufferPointer(rebasing: line[i..<end])
        guard !version.isEmpty else {
            throw error(number, i, "the header has no version; expected `hitless-trace 1`", found: "hitless-trace")
        }
        // A number, as everywhere in a trace: `01` is 1.
        let digits = version.drop { $0 == UInt8(ascii: "0") }
        guard digits.elementsEqual("1".utf8) else {
            throw error(number, i, "unsupported trace format version \(version.text); this hitless reads version 1", found: version.text)
        }
        var rest = end
        while rest < line.count && ASCII.isBlank(line[rest]) { rest += 1 }
        if rest < line.count {
            throw error(number, rest, "unexpected text after the header", found: UnsafeBufferPointer(rebasing: line[rest...]).text)
        }
        sawHeaderOrEvent = true
    }

    // MARK: - Events

    private mutating func parseEvent(_ kind: EventKind, _ line: UnsafeBufferPointer<UInt8>, kindStart: Int, kindEnd: Int,
                                     number: UInt64, prefixCPU: UInt32?, prefixTime: UInt64?) throws(TraceError) -> TraceEvent {
        seen = 0
        var keys = 0
        let maxKeys = Int(maxKeysPerLine)
        var i = kindEnd
        let allowed = Self.allowedKeys[Int(kind.rawValue)]
        while true {
            while i < line.count && ASCII.isBlank(line[i]) { i += 1 }
            if i == line.count { break }
            let tokenStart = i
            i = line.endOfKey(from: i)
            let keyBytes = UnsafeBufferPointer(rebasing: line[tokenStart..<i])
            guard i < line.count && line[i] == ASCII.equals else {
                i = line.endOfToken(from: i)
                throw error(number, tokenStart, "expected key=value", found: UnsafeBufferPointer(rebasing: line[tokenStart..<i]).text)
            }
            let equals = i
            i += 1
            guard let key = EventKey.lookup(in: line, from: tokenStart, to: equals), allowed & key.bit != 0 else {
                i = line.endOfToken(from: i)
                let token = UnsafeBufferPointer(rebasing: line[tokenStart..<i]).text
                if EventKey.lookup(keyBytes) != nil {
                    throw error(number, tokenStart, "key `\(keyBytes.text)` does not apply to `\(kind.name)`", found: token)
                }
                throw error(number, tokenStart, "unknown key `\(keyBytes.text)`", found: token)
            }
            keys += 1
            if keys > maxKeys {
                let token = UnsafeBufferPointer(rebasing: line[tokenStart..<line.endOfToken(from: i)])
                throw error(number, tokenStart, "more than \(maxKeys) keys on one line", found: token.excerpt())
            }
            if seen & key.bit != 0 {
                i = line.endOfToken(from: i)
                throw error(number, tokenStart, "key `\(keyBytes.text)` given twice",
                            found: UnsafeBufferPointer(rebasing: line[tokenStart..<i]).text)
            }
            seen |= key.bit
            keyStart[key.rawValue] = tokenStart
            valueStart[key.rawValue] = equals + 1
            if key == .text {
                // `mark text=` runs to the end of the line.
                var end = line.count
                while end > i && ASCII.isBlank(line[end - 1]) { end -= 1 }
                valueEnd[key.rawValue] = end
                i = line.count
            } else {
                i = line.endOfToken(from: i)
                valueEnd[key.rawValue] = i
                if i == equals + 1 {
                    throw error(number, equals + 1, "key `\(keyBytes.text)` has no value", found: keyBytes.text + "=")
                }
            }
        }
        let required = Self.requiredKeyMasks[Int(kind.rawValue)]
        if seen & required != required {
            for key in kind.requiredKeys where seen & key.bit == 0 {
                throw error(number, kindStart, "`\(kind.name)` needs `\(key.name)=`", found: kind.name)
            }
        }

        var event = TraceEvent(.wait, line: number)
        event.cpu = try has(.cpu) ? UInt32(self.number(.cpu, line, number, bits: 32)) : (prefixCPU ?? 0)
        if has(.unit) {
            event.unit = try symbol(.unit, line, number)
        }
        if has(.at) { event.site = try symbol(.at, line, number) }
        event.payload = try payload(kind, line, number, event: &event)
        let time: UInt64? = try has(.t) ? self.number(.t, line, number) : prefixTime
        try setTime(&event, time, number: number, column: has(.t) ? keyStart[EventKey.t.rawValue] + 1 : kindStart + 1)
        sawHeaderOrEvent = true
        return event
    }

    /// Gives `event` its time, which must not go back.
    @inline(__always) mutating func setTime(_ event: inout TraceEvent, _ time: UInt64?, number: UInt64, column: Int) throws(TraceError) {
        guard let time else { return }
        if let lastTime, time < lastTime { throw timeGoesBackwards(time, after: lastTime, number: number, column: column) }
        lastTime = time
        lastTimeLine = number
        event.time = time
    }

    /// Built out of line: ``setTime(_:_:number:column:)`` is inlined into
    /// the parsing of every line.
    @inline(never) private func timeGoesBackwards(_ time: UInt64, after lastTime: UInt64, number: UInt64, column: Int) -> TraceError {
        TraceError(file: fileName, location: .line(number, column: column),
                   message: "time goes backwards: t=\(time) after t=\(lastTime) on line \(lastTimeLine)",
                   found: "t=\(time)")
    }

    private mutating func payload(_ kind: EventKind, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64,
                                  event: inout TraceEvent) throws(TraceError) -> EventPayload {
        switch kind {
        case .iommu:
            let id = try symbol(.id, line, n)
            if has(.unit), event.unit != id {
                throw valueError(.unit, line, n, "`unit=` differs from `id=` on an `iommu` line")
            }
            event.unit = id
            if has(.arch) {
                guard value(.arch, line).equals("vtd") else {
                    throw valueError(.arch, line, n, "unsupported architecture; version 1 knows `vtd`")
                }
            }
            return .iommu(UnitDeclaration(id: id,
                                          coherent: try has(.coherent) ? flag(.coherent, line, n) : true,
                                          cachingMode: try has(.cachingMode) ? flag(.cachingMode, line, n) : false))
        case .root:
            var mode = TranslationMode.scalable
            if has(.mode) {
                let word = value(.mode, line)
                if word.equals("legacy") { mode = .legacy } else if !word.equals("scalable") {
                    throw valueError(.mode, line, n, "`mode=` must be `scalable` or `legacy`")
                }
            }
            return .root(addr: try number(.addr, line, n), mode: mode)
        case .table:
            return .table(try tableDeclaration(line, n))
        case .`init`, .store:
            let write = try memoryWrite(kind, line, n)
            return kind == .store ? .store(write) : .initialize(write)
        case .fence:
            let word = value(.kind, line)
            guard let fence = Self.fenceKinds.first(where: { word.equals($0.staticName) }) else {
                throw valueError(.kind, line, n, "unknown barrier kind")
            }
            return .fence(fence)
        case .flush:
            let addr = try number(.addr, line, n)
            let size = try has(.size) ? number(.size, line, n) : 64
            guard size >= 1 && size <= TraceLimits.maxAccessSize else {
                throw valueError(.size, line, n, "flush size must be 1 to \(TraceLimits.maxAccessSize)")
            }
            try checkRange(addr, size, line, n)
            var flushKind = FlushKind.clflush
            if has(.kind) {
                let word = value(.kind, line)
                guard let k = Self.flushKinds.first(where: { word.equals($0.staticName) }) else {
                    throw valueError(.kind, line, n, "unknown flush kind; expected clflush, clflushopt or clwb")
                }
                flushKind = k
            }
            return .flush(CacheFlush(addr: addr, size: size, kind: flushKind))
        case .fetch:
            let addr = try number(.addr, line, n)
            let size = try number(.size, line, n)
            guard size >= 1 && size <= TraceLimits.maxAccessSize else {
                throw valueError(.size, line, n, "fetch size must be 1 to \(TraceLimits.maxAccessSize)")
            }
            try checkRange(addr, size, line, n)
            var read = MemoryRead(addr: addr, size: size)
            if has(.value) {
                guard size <= 16 else { throw valueError(.value, line, n, "`value=` is allowed only when size is at most 16") }
                read.value = try wideValue(line, n, size: Int(size))
            }
            return .fetch(read)
        case .inval:
            return .inval(try invalidation(line, n))
        case .wait:
            return .wait
        case .begin:
            if has(.target) { _ = try number(.target, line, n) }
            return .begin(addr: try number(.addr, line, n))
        case .end:
            return .end(addr: try number(.addr, line, n))
        case .mark:
            return .mark(try symbol(.text, line, n))
        }
    }

    private mutating func memoryWrite(_ kind: EventKind, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) -> MemoryWrite {
        let addr = try number(.addr, line, n)
        let size = try number(.size, line, n)
        if kind == .store {
            guard size == 1 || size == 2 || size == 4 || size == 8 || size == 16 else {
                throw valueError(.size, line, n, "store size must be 1, 2, 4, 8 or 16")
            }
        } else {
            guard size >= 1 && size <= 16 else { throw valueError(.size, line, n, "init size must be 1 to 16") }
        }
        try checkRange(addr, size, line, n)
        return MemoryWrite(addr: addr, size: UInt8(size), value: try wideValue(line, n, size: Int(size)))
    }

    private func wideValue(_ line: UnsafeBufferPointer<UInt8>, _ n: UInt64, size: Int) throws(TraceError) -> UInt128 {
        let v: UInt128
        let text = value(.value, line)
        // Up to 18 characters always fit 64 bits: the cheaper parse.
        do { v = text.count <= 18 ? UInt128(try text.parseUnsigned()) : try text.parseUnsigned128() } catch {
            throw valueError(.value, line, n, error == .malformed ? "not a number" : "value wider than 128 bits")
        }
        if size < 16 && v >> (size * 8) != 0 {
            throw valueError(.value, line, n, "value does not fit in size=\(size) bytes")
        }
        return v
    }

    private func checkRange(_ addr: UInt64, _ size: UInt64, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) {
        if addr > UInt64.max - (size - 1) {
            throw valueError(.addr, line, n, "addr+size passes the end of the 64-bit address space")
        }
    }

    private mutating func tableDeclaration(_ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) -> TableDeclaration {
        let word = value(.kind, line)
        guard let kind = Self.tableKinds.first(where: { word.equals($0.staticName) }) else {
            throw valueError(.kind, line, n, "unknown table kind; expected root, context, sm-context, pasid-dir, pasid or generic")
        }
        var table = TableDeclaration(addr: try number(.addr, line, n), kind: kind)
        if has(.count) {
            let count = try number(.count, line, n)
            guard count >= 1 && count <= TraceLimits.maxTableEntries else {
                throw valueError(.count, line, n, "count must be 1 to \(TraceLimits.maxTableEntries)")
            }
            table.count = count
        }
        if has(.sid) { table.sid = try sourceID(.sid, line, n) }
        if has(.pasidBase) { table.pasidBase = UInt32(try number(.pasidBase, line, n, bits: 20)) }
        if has(.bus) { table.bus = UInt8(try number(.bus, line, n, bits: 8)) }
        if has(.name) { table.name = try symbol(.name, line, n) }
        if kind == .generic {
            for key in [EventKey.entry, .fetch, .presentBit] where !has(key) {
                throw error(n, keyStart[EventKey.kind.rawValue], "a generic table needs `entry=`, `fetch=` and `present-bit=`",
                            found: "kind=generic")
            }
            let entry = try number(.entry, line, n)
            guard entry >= 1 && entry <= TraceLimits.maxEntrySize else {
                throw valueError(.entry, line, n, "entry size must be 1 to \(TraceLimits.maxEntrySize)")
            }
            let fetch = try number(.fetch, line, n)
            guard fetch >= 1 && fetch <= entry && fetch.nonzeroBitCount == 1 else {
                throw valueError(.fetch, line, n, "fetch size must be a power of two no larger than the entry")
            }
            let bit = try number(.presentBit, line, n)
            guard bit < entry * 8 else { throw valueError(.presentBit, line, n, "present bit lies outside the entry") }
            table.entrySize = entry
            table.fetchSize = fetch
            table.presentBit = bit
        } else if let layout = kind.fixedLayout {
            // The contract lets any table line carry them; on a VT-d kind
            // they can only restate its layout, and are not kept.
            for (key, fixed) in [(EventKey.entry, layout.entry), (.fetch, layout.fetch), (.presentBit, layout.presentBit)]
            where has(key) {
                guard try number(key, line, n) == fixed else {
                    throw valueError(key, line, n, "a \(kind.name) table has \(key.name)=\(fixed)")
                }
            }
        }
        let bytes = (table.count ?? 1) * (table.entrySize ?? 64)
        if table.addr > UInt64.max - (bytes - 1) {
            throw valueError(.addr, line, n, "the table passes the end of the 64-bit address space")
        }
        return table
    }

    private func invalidation(_ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) -> Invalidation {
        let typeWord = value(.type, line)
        guard let type = Self.invalidationTypes.first(where: { typeWord.equals($0.staticName) }) else {
            throw valueError(.type, line, n, "unknown invalidation type; expected context, pasid, iotlb, piotlb, devtlb, pdevtlb or iec")
        }
        let granWord = value(.gran, line)
        guard let gran = Self.granularities.first(where: { granWord.equals($0.staticName) }) else {
            throw valueError(.gran, line, n, "unknown granularity; expected global, domain, device, pasid or page")
        }
        var inv = Invalidation(type: type, granularity: gran)
        if has(.did) { inv.did = UInt16(try number(.did, line, n, bits: 16)) }
        if has(.sid) { inv.sid = try sourceID(.sid, line, n) }
        if has(.pasid) { inv.pasid = UInt32(try number(.pasid, line, n, bits: 20)) }
        if has(.addr) { inv.addr = try number(.addr, line, n) }
        if has(.am) {
            let am = try number(.am, line, n)
            guard am <= 63 else { throw valueError(.am, line, n, "am must be 0 to 63") }
            inv.am = UInt8(am)
        }
        if has(.fm) { inv.fm = UInt8(try number(.fm, line, n, bits: 2)) }
        // What the contract allows but VT-d does not define reads too; the
        // replay notes it as covering nothing (Invalidation.undefinedByVTd).
        switch inv.readingProblem {
        case nil:
            break
        case .undefinedPair:
            throw valueError(.gran, line, n, "gran=\(gran.name) is not valid for type=\(type.name)")
        case .missing(let key):
            throw error(n, keyStart[EventKey.gran.rawValue], "type=\(type.name) gran=\(gran.name) needs `\(key.name)=`",
                        found: "gran=\(gran.name)")
        }
        return inv
    }

    /// The keys that make an invalidation's scope definite (TRACE-FORMAT.md,
    /// `inval`; Invalidation.vtdFields(_:_:)), none for a pair VT-d does
    /// not define.
    static func requiredInvalidationKeys(_ type: InvalidationType, _ gran: InvalidationGranularity) -> [EventKey] {
        let required = Invalidation.vtdFields(type, gran) ?? 0
        return Invalidation.fieldKeys.filter { required & Invalidation.fieldBit($0) != 0 }
    }

    // MARK: - Values

    @inline(__always) private func has(_ key: EventKey) -> Bool { seen & key.bit != 0 }

    @inline(__always) private func value(_ key: EventKey, _ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: line[valueStart[key.rawValue]..<valueEnd[key.rawValue]])
    }

    private func number(_ key: EventKey, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64, bits: Int = 64) throws(TraceError) -> UInt64 {
        do {
            return try value(key, line).parseUnsigned(bits: bits)
        } catch {
            throw valueError(key, line, n, error == .malformed ? "not a number" : "number wider than \(bits) bits")
        }
    }

    private func flag(_ key: EventKey, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) -> Bool {
        let v = value(key, line)
        if v.equals("1") { return true }
        if v.equals("0") { return false }
        throw valueError(key, line, n, "`\(key.name)=` must be 0 or 1")
    }

    private func sourceID(_ key: EventKey, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) -> UInt16 {
        do { return try SourceID.parse(value(key, line)) } catch {
            throw valueError(key, line, n, "bad source id; expected BB:DD.F in hex, or a 16-bit number")
        }
    }

    private mutating func symbol(_ key: EventKey, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64) throws(TraceError) -> Symbol {
        let bytes = value(key, line)
        // A control character could not be written back as it was read (a
        // trailing CR is a line end): names are printable text.
        if let bad = bytes.firstControlCharacter() {
            throw error(n, valueStart[key.rawValue] + bad, "control character in `\(key.name)=`",
                        found: "byte 0x" + String(bytes[bad], radix: 16))
        }
        guard let symbol = symbols.internWithinLimits(bytes: bytes) else {
            throw error(n, valueStart[key.rawValue], symbols.limitReason, found: "\(key.name)=" + bytes.excerpt())
        }
        return symbol
    }

    // MARK: - Errors

    private func valueError(_ key: EventKey, _ line: UnsafeBufferPointer<UInt8>, _ n: UInt64, _ message: String) -> TraceError {
        let start = valueStart[key.rawValue]
        return TraceError(file: fileName, location: .line(n, column: start + 1), message: message,
                          found: "\(key.name)=" + value(key, line).text)
    }

    func error(_ line: UInt64, _ offset: Int, _ message: String, found: String? = nil) -> TraceError {
        TraceError(file: fileName, location: .line(line, column: offset + 1), message: message, found: found)
    }

    private static func hexByte(_ b: UInt8) -> String {
        let digits = String(b, radix: 16)
        return "byte 0x" + (digits.count == 1 ? "0" + digits : digits)
    }
}

/// Names as `StaticString`s, so the parser compares bytes without building
/// strings.
extension FenceKind {
    var staticName: StaticString {
        switch self {
        case .mb: "mb"
        case .wmb: "wmb"
        case .rmb: "rmb"
        case .dmaMB: "dma_mb"
        case .dmaWMB: "dma_wmb"
        case .dmaRMB: "dma_rmb"
        case .smpMB: "smp_mb"
        case .smpWMB: "smp_wmb"
        case .smpRMB: "smp_rmb"
        case .barrier: "barrier"
        case .sfence: "sfence"
        case .mfence: "mfence"
        case .lfence: "lfence"
        }
    }
}

extension FlushKind {
    var staticName: StaticString {
        switch self {
        case .clflush: "clflush"
        case .clflushopt: "clflushopt"
        case .clwb: "clwb"
        }
    }
}

extension TableKind {
    var staticName: StaticString {
        switch self {
        case .root: "root"
        case .context: "context"
        case .smContext: "sm-context"
        case .pasidDirectory: "pasid-dir"
        case .pasid: "pasid"
        case .generic: "generic"
        }
    }
}

extension InvalidationType {
    var staticName: StaticString {
        switch self {
        case .context: "context"
        case .pasid: "pasid"
        case .iotlb: "iotlb"
        case .piotlb: "piotlb"
        case .devtlb: "devtlb"
        case .pdevtlb: "pdevtlb"
        case .iec: "iec"
        }
    }
}

extension InvalidationGranularity {
    var staticName: StaticString {
        switch self {
        case .global: "global"
        case .domain: "domain"
        case .device: "device"
        case .pasid: "pasid"
        case .page: "page"
        }
    }
}

/// A fixed number of integers in memory of their own, written in place.
final class Slots {
    private let base: UnsafeMutablePointer<Int>
    private let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit { base.deallocate() }

    /// The integer at `index`, which must be below the count (indices here
    /// are `EventKey` raw values, never input).
    @inline(__always) subscript(index: Int) -> Int {
        get {
            precondition(index >= 0 && index < count)
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count)
            base[index] = newValue
        }
    }
}
