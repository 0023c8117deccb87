#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The binary trace format, version 1 (docs/BINARY-FORMAT.md).
///
/// A file is a 10-byte header (the magic number, the version, a flags byte)
/// and then records. A record starts with a tag byte: its low four bits are
/// the event kind (``EventKind/rawValue``) or 15 for a string definition; its
/// high four bits say which of `t=`, `cpu=`, `unit=` and `at=` follow. Numbers
/// are unsigned LEB128 varints, values raw little-endian bytes, strings are
/// defined once (numbered from 1 in order of definition; 0 is `iommu0`) and
/// referred to by number.
public enum BinaryTraceFormat {
    /// `89 48 54 42 0d 0a 1a 0a`: "\x89HTB\r\n\x1a\n". The first byte is not
    /// UTF-8 and not zstd's `28` or a skippable frame's `5X`, so text, zstd
    /// and binary are told apart by their first four bytes.
    public static let magic: [UInt8] = [0x89, 0x48, 0x54, 0x42, 0x0d, 0x0a, 0x1a, 0x0a]
    /// The version this build writes and reads.
    public static let version: UInt8 = 1
    /// Magic, version and flags.
    public static let header: [UInt8] = magic + [version, 0]
    /// The file name extension `hitless convert` reads as "write binary":
    /// `.htb`, or `.htb.zst` compressed.
    public static let fileExtension = ".htb"

    static let headerSize = 10
    static let stringTag: UInt8 = 0x0f
    static let hasTime: UInt8 = 0x10
    static let hasCPU: UInt8 = 0x20
    static let hasUnit: UInt8 = 0x40
    static let hasSite: UInt8 = 0x80
    /// The longest string a trace may define: a string is part of a text
    /// line, so no longer than one.
    static let maxStringLength = TraceLimits.maxLineLength
    /// Bounds every record: a string definition (tag, length, bytes) is the
    /// longest; an event record takes at most ~110 bytes.
    static let maxRecordSize = maxStringLength + 16

    /// True when `head` starts with the binary magic number.
    static func startsBinary(_ head: UnsafeRawBufferPointer) -> Bool {
        head.count >= magic.count && memcmp(head.baseAddress!, magic, magic.count) == 0
    }
}

/// Writes events in the binary format: ``BinaryTraceFormat/header`` first,
/// then ``append(_:symbols:to:)`` for each event. The output is canonical:
/// the same events give the same bytes, whatever their symbol numbers, so
/// binary -> text -> binary is the identity on what this writer wrote.
public struct BinaryTraceWriter {
    /// Binary string number + 1 of each source symbol (0: not defined yet).
    private var numbers: [UInt32] = [1]
    private var defined: UInt32 = 1

    /// A writer with no strings defined yet but `iommu0`.
    public init() {}

    /// Appends the record of `event` (after the definitions of the strings it
    /// names for the first time). `symbols` is evaluated only when a string is
    /// new.
    public mutating func append(_ event: TraceEvent, symbols: @autoclosure () -> SymbolTable, to out: inout [UInt8]) {
        // Strings first: the record refers to them.
        let unit = event.unit != .defaultUnit && event.kind != .iommu ? event.unit : nil
        if let unit { define(unit, symbols, &out) }
        if let site = event.site { define(site, symbols, &out) }
        switch event.payload {
        case .iommu(let declaration): define(declaration.id, symbols, &out)
        case .table(let table): if let name = table.name { define(name, symbols, &out) }
        case .mark(let text): define(text, symbols, &out)
        default: break
        }

        var tag = event.kind.rawValue
        if event.time != nil { tag |= BinaryTraceFormat.hasTime }
        if event.cpu != 0 { tag |= BinaryTraceFormat.hasCPU }
        if unit != nil { tag |= BinaryTraceFormat.hasUnit }
        if event.site != nil { tag |= BinaryTraceFormat.hasSite }
        out.append(tag)
        if let time = event.time {
            varint(time &- lastTime, &out)
            lastTime = time
        }
        if event.cpu != 0 { varint(UInt64(event.cpu), &out) }
        if let unit { varint(number(unit), &out) }
        if let site = event.site { varint(number(site), &out) }

        switch event.payload {
        case .iommu(let d):
            varint(number(d.id), &out)
            out.append((d.coherent ? 1 : 0) | (d.cachingMode ? 2 : 0))
        case .root(let addr, let mode):
            out.append(mode.rawValue)
            varint(addr, &out)
        case .table(let t):
            out.append(t.kind.rawValue)
            var present: UInt8 = 0
            if t.count != nil { present |= 1 }
            if t.sid != nil { present |= 2 }
            if t.pasidBase != nil { present |= 4 }
            if t.bus != nil { present |= 8 }
            if t.entrySize != nil { present |= 16 }
            if t.fetchSize != nil { present |= 32 }
            if t.presentBit != nil { present |= 64 }
            if t.name != nil { present |= 128 }
            out.append(present)
            varint(t.addr, &out)
            if let v = t.count { varint(v, &out) }
            if let v = t.sid { varint(UInt64(v), &out) }
            if let v = t.pasidBase { varint(UInt64(v), &out) }
            if let v = t.bus { varint(UInt64(v), &out) }
            if let v = t.entrySize { varint(v, &out) }
            if let v = t.fetchSize { varint(v, &out) }
            if let v = t.presentBit { varint(v, &out) }
            if let v = t.name { varint(number(v), &out) }
        case .initialize(let w), .store(let w):
            out.append(w.size)
            varint(w.addr, &out)
            raw(w.value, Int(w.size), &out)
        case .fence(let kind):
            out.append(kind.rawValue)
        case .flush(let f):
            out.append(f.kind.rawValue)
            varint(f.addr, &out)
            varint(f.size, &out)
        case .fetch(let r):
            out.append(r.value == nil ? 0 : 1)
            varint(r.addr, &out)
            varint(r.size, &out)
            if let v = r.value { raw(v, Int(r.size), &out) }
        case .inval(let inv):
            out.append(inv.type.rawValue)
            out.append(inv.granularity.rawValue)
            var present: UInt8 = 0
            if inv.did != nil { present |= 1 }
            if inv.sid != nil { present |= 2 }
            if inv.pasid != nil { present |= 4 }
            if inv.addr != nil { present |= 8 }
            if inv.am != nil { present |= 16 }
            if inv.fm != nil { present |= 32 }
            out.append(present)
            if let v = inv.did { varint(UInt64(v), &out) }
            if let v = inv.sid { varint(UInt64(v), &out) }
            if let v = inv.pasid { varint(UInt64(v), &out) }
            if let v = inv.addr { varint(v, &out) }
            if let v = inv.am { varint(UInt64(v), &out) }
            if let v = inv.fm { varint(UInt64(v), &out) }
        case .wait:
            break
        case .begin(let addr), .end(let addr):
            varint(addr, &out)
        case .mark(let text):
            varint(number(text), &out)
        }
    }

    private var lastTime: UInt64 = 0

    private func number(_ symbol: Symbol) -> UInt64 { UInt64(numbers[Int(symbol.index)] - 1) }

    private mutating func define(_ symbol: Symbol, _ symbols: () -> SymbolTable, _ out: inout [UInt8]) {
        let index = Int(symbol.index)
        if index < numbers.count && numbers[index] != 0 { return }
        if index >= numbers.count { numbers.append(contentsOf: repeatElement(0, count: index + 1 - numbers.count)) }
        defined += 1
        numbers[index] = defined
        let string = symbols()[symbol]
        out.append(BinaryTraceFormat.stringTag)
        varint(UInt64(string.utf8.count), &out)
        out.append(contentsOf: string.utf8)
    }

    @inline(__always) private func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    @inline(__always) private func raw(_ value: UInt128, _ size: Int, _ out: inout [UInt8]) {
        for i in 0..<size { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }
}

/// Reads the records of a binary trace from a byte source, with the same
/// checks as the text parser. Works on the bytes in one buffer; an event
/// allocates nothing.
final class BinaryDecoder {
    /// The decoder's state, a struct read and written for every event, and
    /// unchecked for overlapping access at run time as TraceReader's state
    /// is: private, and owned by one thread at a time.
    @exclusivity(unchecked) private var core: BinaryDecoderCore

    init(name: String, source: any ByteSource, head: UnsafeRawBufferPointer, atEnd: Bool) throws(TraceError) {
        core = BinaryDecoderCore(name: name, source: source, head: head, atEnd: atEnd)
        // Fully initialized: when this throws, deinit still frees the core.
        try core.readHeader()
    }

    deinit { core.release() }

    var symbols: SymbolTable { core.symbols }
    var records: UInt64 { core.records }
    var dataBytes: UInt64 { core.dataBytes }
    var fileBytes: UInt64 { core.fileBytes }

    func next() throws(TraceError) -> TraceEvent? { try core.next() }
    /// ``BinaryDecoderCore/read(into:upTo:)``: a batch in one call.
    func read(into events: inout [TraceEvent], upTo limit: Int) throws(TraceError) {
        try core.read(into: &events, upTo: limit)
    }
}

/// The binary decoder's state, a value so that its hot loop keeps fields in
/// registers.
///
/// Its helpers are `mutating` even where they only read: a non-mutating
/// method called from a mutating one took a copy of the whole struct (about
/// 1.4 million copies for 500k events, measured under callgrind).
struct BinaryDecoderCore {
    let fileName: String
    private(set) var symbols = SymbolTable()
    /// Events decoded so far; an event's `line` is its ordinal.
    private(set) var records: UInt64 = 0
    /// Bytes taken from the source so far (decompressed, when it is).
    private(set) var dataBytes: UInt64 = 0
    var fileBytes: UInt64 { source.bytesRead }

    private var source: any ByteSource
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEnd = false
    /// Offset in the binary data of `buffer[0]`.
    private var base: UInt64 = 0
    private var lastTime: UInt64 = 0
    /// The symbol of each binary string number.
    private var symbolOf: [Symbol] = [.defaultUnit]
    /// For each binary string number: bit 0, usable as a name (unit, site,
    /// table name: non-empty, no blanks); bit 1, usable as `mark` text (no
    /// trailing blank).
    private var usable: [UInt8] = [3]
    static let chunkSize = 1 << 18

    /// Takes over `source`, whose first bytes (`head`, the header included)
    /// the caller already read.
    init(name: String, source: any ByteSource, head: UnsafeRawBufferPointer, atEnd: Bool) {
        fileName = name
        self.source = source
        buffer = .allocate(byteCount: Self.chunkSize + BinaryTraceFormat.maxRecordSize, alignment: 16)
        buffer.baseAddress!.copyMemory(from: head.baseAddress!, byteCount: head.count)
        end = head.count
        dataBytes = UInt64(head.count)
        self.atEnd = atEnd
    }

    /// Checks the version and flags.
    mutating func readHeader() throws(TraceError) {
        while end < BinaryTraceFormat.headerSize && !self.atEnd { try fill() }
        guard end >= BinaryTraceFormat.headerSize else {
            throw error(at: UInt64(end), "truncated binary trace header", found: "end of file")
        }
        let version = buffer[8]
        guard version == BinaryTraceFormat.version else {
            throw error(at: 8, "unsupported binary trace version \(version); this build reads version \(BinaryTraceFormat.version)",
                        found: "version \(version)")
        }
        guard buffer[9] == 0 else {
            throw error(at: 9, "unknown binary trace flags", found: "byte 0x\(String(buffer[9], radix: 16))")
        }
        start = BinaryTraceFormat.headerSize
    }

    /// Closes the source and frees the buffer; called once.
    mutating func release() {
        source.close()
        buffer.deallocate()
    }

    private mutating func error(at offset: UInt64, _ message: String, found: String? = nil) -> TraceError {
        TraceError(file: fileName, location: .byteOffset(offset), message: message, found: found)
    }

    /// Reads once more from the source, after moving what is left to the front.
    private mutating func fill() throws(TraceError) {
        if start > 0 {
            let left = end - start
            if left > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, left) }
            base += UInt64(start)
            start = 0
            end = left
        }
        let room = UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + end,
                                                 count: min(Self.chunkSize, buffer.count - end))
        let n = try source.read(into: room)
        if n == 0 { atEnd = true } else {
            end += n
            dataBytes += UInt64(n)
        }
    }

    /// The next event, or nil at the end of the data.
    mutating func next() throws(TraceError) -> TraceEvent? {
        do throws(TraceError) {
            return try nextRecord()
        } catch {
            throw explainedConcatenation() ?? error
        }
    }

    /// Appends the next events to `events` until it holds `limit` of them or
    /// the data ends.
    mutating func read(into events: inout [TraceEvent], upTo limit: Int) throws(TraceError) {
        do throws(TraceError) {
            while events.count < limit, let event = try nextRecord() { events.append(event) }
        } catch {
            throw explainedConcatenation() ?? error
        }
    }

    /// ``next()``, with the error of the record at `start` as it arose.
    @inline(__always) private mutating func nextRecord() throws(TraceError) -> TraceEvent? {
        while true {
            while end - start < BinaryTraceFormat.maxRecordSize && !atEnd { try fill() }
            if start == end { return nil }
            let bytes = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
            var c = Cursor(p: bytes, pos: start, end: end)
            let tag = c.byte()
            if tag == BinaryTraceFormat.stringTag {
                try defineString(&c)
                start = c.pos
                continue
            }
            let event = try decodeEvent(tag, &c)
            start = c.pos
            return event
        }
    }

    /// The error to give when the record that failed to decode is not a
    /// record at all but the start of another trace: files concatenated
    /// (`cat a.htb.zst b.htb.zst`, which zstd reads as one stream), whose
    /// bytes decode as nonsense records. Nil when it looks like neither.
    private mutating func explainedConcatenation() -> TraceError? {
        let bytes = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        let here = UnsafeBufferPointer(start: bytes + start, count: end - start)
        if BinaryTraceFormat.startsBinary(UnsafeRawBufferPointer(here)) {
            return error(at: base + UInt64(start),
                         "a second binary trace header: binary traces cannot be concatenated (convert each to text, or analyze them as separate files)",
                         found: "the magic number")
        }
        // A text trace's line: its header, or an event's kind and a blank.
        let line = UnsafeBufferPointer(rebasing: here.prefix(256))
        let word = UnsafeBufferPointer(rebasing: line.prefix { $0 > 0x20 && $0 < 0x7f })
        let followed = line.count > word.count && [0x20, 0x09, 0x0a, 0x0d].contains(line[word.count])
        if followed, word.equals("hitless-trace") || EventKind.lookup(word) != nil,
           let newline = line.firstIndex(of: 0x0a),
           line[..<newline].allSatisfy({ ($0 >= 0x20 && $0 < 0x7f) || $0 == 0x09 || $0 == 0x0d }) {
            let text = String(decoding: line[..<newline].prefix(32), as: UTF8.self)
            return error(at: base + UInt64(start),
                         "text after binary records: a binary trace cannot continue as text (were two files concatenated?)",
                         found: text)
        }
        return nil
    }

    private mutating func recordError(_ c: Cursor, _ message: String, found: String? = nil) -> TraceError {
        error(at: base + UInt64(start), message, found: found)
    }

    @inline(__always)
    private mutating func checkCursor(_ c: Cursor, _ what: @autoclosure () -> String) throws(TraceError) {
        if c.overrun || c.badVarint { throw cursorError(c, what()) }
    }

    private mutating func cursorError(_ c: Cursor, _ what: String) -> TraceError {
        if c.overrun {
            return recordError(c, "truncated record: the data ends inside \(what) at byte \(base + UInt64(c.end))",
                               found: "end of file")
        }
        return recordError(c, "number wider than 64 bits in \(what)")
    }

    private mutating func defineString(_ c: inout Cursor) throws(TraceError) {
        let length = c.varint()
        try checkCursor(c, "a string definition")
        guard length <= UInt64(BinaryTraceFormat.maxStringLength) else {
            throw recordError(c, "string longer than \(BinaryTraceFormat.maxStringLength) bytes", found: "length \(length)")
        }
        let n = Int(length)
        guard c.end - c.pos >= n else {
            c.overrun = true
            try checkCursor(c, "a string definition")
            return
        }
        let text = UnsafeBufferPointer(start: c.p + c.pos, count: n)
        if let bad = text.firstInvalidUTF8() {
            throw error(at: base + UInt64(c.pos + bad), "invalid UTF-8 in a string", found: "byte 0x\(String(text[bad], radix: 16))")
        }
        var blank = false
        for b in text where b == ASCII.newline || b == ASCII.cr {
            throw recordError(c, "a string may not hold a line end")
        }
        // As in text: a control character could not be written back as it
        // was read, so no string may hold one.
        if let bad = text.firstControlCharacter() {
            throw error(at: base + UInt64(c.pos + bad), "control character in a string",
                        found: "byte 0x" + String(text[bad], radix: 16))
        }
        for b in text where ASCII.isBlank(b) { blank = true; break }
        guard symbolOf.count < TraceLimits.maxSymbols else {
            throw recordError(c, "more than \(TraceLimits.maxSymbols) distinct names and sites in one trace")
        }
        var flags: UInt8 = 0
        if n > 0 && !blank { flags |= 1 }
        if n == 0 || !ASCII.isBlank(text[n - 1]) { flags |= 2 }
        guard let symbol = symbols.internWithinLimits(bytes: text) else {
            throw recordError(c, symbols.limitReason, found: text.excerpt())
        }
        symbolOf.append(symbol)
        usable.append(flags)
        c.pos += n
    }

    /// The symbol of string number `n`, which must be usable as `need`.
    @inline(__always)
    private mutating func string(_ n: UInt64, _ c: Cursor, need: UInt8, _ what: StaticString) throws(TraceError) -> Symbol {
        guard n < UInt64(symbolOf.count) else {
            throw recordError(c, "string \(n) is not defined yet (\(what))", found: "string \(n)")
        }
        guard usable[Int(n)] & need != 0 else {
            throw recordError(c, need == 1 ? "\(what) must be non-empty and hold no blanks"
                                           : "\(what) may not end in a blank", found: "string \(n)")
        }
        return symbolOf[Int(n)]
    }

    private mutating func decodeEvent(_ tag: UInt8, _ c: inout Cursor) throws(TraceError) -> TraceEvent {
        guard let kind = EventKind(rawValue: tag & 0x0f) else {
            throw recordError(c, "unknown record tag", found: "byte 0x\(String(tag, radix: 16))")
        }
        let timeDelta = tag & BinaryTraceFormat.hasTime != 0 ? c.varint() : nil
        let cpu = tag & BinaryTraceFormat.hasCPU != 0 ? c.varint() : 0
        let unitNumber = tag & BinaryTraceFormat.hasUnit != 0 ? c.varint() : nil
        let siteNumber = tag & BinaryTraceFormat.hasSite != 0 ? c.varint() : nil
        var unit = Symbol.defaultUnit
        let payload: EventPayload
        switch kind {
        case .wait:
            payload = .wait
        case .store, .`init`:
            let size = Int(c.byte())
            let addr = c.varint()
            let value = c.raw(size <= 16 ? size : 0)
            try checkCursor(c, "a `\(kind.name)` record")
            if kind == .store {
                guard size == 1 || size == 2 || size == 4 || size == 8 || size == 16 else {
                    throw recordError(c, "store size must be 1, 2, 4, 8 or 16", found: "size \(size)")
                }
            } else {
                guard size >= 1 && size <= 16 else { throw recordError(c, "init size must be 1 to 16", found: "size \(size)") }
            }
            try checkRange(addr, UInt64(size), c)
            let write = MemoryWrite(addr: addr, size: UInt8(size), value: value)
            payload = kind == .store ? .store(write) : .initialize(write)
        case .fence:
            let k = c.byte()
            try checkCursor(c, "a `fence` record")
            guard let fence = FenceKind(rawValue: k) else { throw recordError(c, "unknown barrier kind", found: "\(k)") }
            payload = .fence(fence)
        case .flush:
            let k = c.byte()
            let addr = c.varint()
            let size = c.varint()
            try checkCursor(c, "a `flush` record")
            guard let flushKind = FlushKind(rawValue: k) else { throw recordError(c, "unknown flush kind", found: "\(k)") }
            guard size >= 1 && size <= TraceLimits.maxAccessSize else {
                throw recordError(c, "flush size must be 1 to \(TraceLimits.maxAccessSize)", found: "size \(size)")
            }
            try checkRange(addr, size, c)
            payload = .flush(CacheFlush(addr: addr, size: size, kind: flushKind))
        case .fetch:
            let flags = c.byte()
            let addr = c.varint()
            let size = c.varint()
            var read = MemoryRead(addr: addr, size: size)
            if flags & 1 != 0 { read.value = c.raw(size <= 16 ? Int(size) : 0) }
            try checkCursor(c, "a `fetch` record")
            guard flags <= 1 else { throw recordError(c, "unknown fetch flags", found: "\(flags)") }
            guard size >= 1 && size <= TraceLimits.maxAccessSize else {
                throw recordError(c, "fetch size must be 1 to \(TraceLimits.maxAccessSize)", found: "size \(size)")
            }
            if flags & 1 != 0 && size > 16 { throw recordError(c, "a fetch value is allowed only when size is at most 16") }
            try checkRange(addr, size, c)
            payload = .fetch(read)
        case .inval:
            payload = .inval(try invalidation(&c))
        case .begin, .end:
            let addr = c.varint()
            try checkCursor(c, "a `\(kind.name)` record")
            payload = kind == .begin ? .begin(addr: addr) : .end(addr: addr)
        case .mark:
            let n = c.varint()
            try checkCursor(c, "a `mark` record")
            payload = .mark(try string(n, c, need: 2, "mark text"))
        case .iommu:
            let id = c.varint()
            let flags = c.byte()
            try checkCursor(c, "an `iommu` record")
            guard unitNumber == nil else { throw recordError(c, "an `iommu` record names its unit by its id, not by a unit field") }
            guard flags <= 3 else { throw recordError(c, "unknown iommu flags", found: "\(flags)") }
            let symbol = try string(id, c, need: 1, "a unit id")
            unit = symbol
            payload = .iommu(UnitDeclaration(id: symbol, coherent: flags & 1 != 0, cachingMode: flags & 2 != 0))
        case .root:
            let mode = c.byte()
            let addr = c.varint()
            try checkCursor(c, "a `root` record")
            guard let m = TranslationMode(rawValue: mode) else { throw recordError(c, "unknown translation mode", found: "\(mode)") }
            payload = .root(addr: addr, mode: m)
        case .table:
            payload = .table(try table(&c))
        }
        try checkCursor(c, "a `\(kind.name)` record")
        guard cpu <= UInt64(UInt32.max) else { throw recordError(c, "cpu wider than 32 bits", found: "\(cpu)") }
        if let unitNumber { unit = try string(unitNumber, c, need: 1, "a unit name") }
        var site: Symbol?
        if let siteNumber { site = try string(siteNumber, c, need: 1, "a site") }
        var time: UInt64?
        if let timeDelta {
            guard timeDelta <= UInt64.max - lastTime else { throw recordError(c, "time passes 2^64 ns", found: "t+\(timeDelta)") }
            lastTime += timeDelta
            time = lastTime
        }
        records += 1
        // Built once, in the caller's slot: the event is 80 bytes.
        return TraceEvent(payload, time: time, cpu: UInt32(truncatingIfNeeded: cpu), unit: unit, site: site, line: records)
    }

    @inline(__always)
    private mutating func checkRange(_ addr: UInt64, _ size: UInt64, _ c: Cursor) throws(TraceError) {
        if addr > UInt64.max - (size - 1) { throw rangeError(addr, c) }
    }

    private mutating func rangeError(_ addr: UInt64, _ c: Cursor) -> TraceError {
        recordError(c, "addr+size passes the end of the 64-bit address space", found: hex(addr))
    }

    private mutating func table(_ c: inout Cursor) throws(TraceError) -> TableDeclaration {
        let k = c.byte()
        let present = c.byte()
        let addr = c.varint()
        let count = present & 1 != 0 ? c.varint() : nil
        let sid = present & 2 != 0 ? c.varint() : nil
        let pasidBase = present & 4 != 0 ? c.varint() : nil
        let bus = present & 8 != 0 ? c.varint() : nil
        let entry = present & 16 != 0 ? c.varint() : nil
        let fetch = present & 32 != 0 ? c.varint() : nil
        let bit = present & 64 != 0 ? c.varint() : nil
        let name = present & 128 != 0 ? c.varint() : nil
        try checkCursor(c, "a `table` record")
        guard let kind = TableKind(rawValue: k) else { throw recordError(c, "unknown table kind", found: "\(k)") }
        var t = TableDeclaration(addr: addr, kind: kind)
        if let count {
            guard count >= 1 && count <= TraceLimits.maxTableEntries else {
                throw recordError(c, "count must be 1 to \(TraceLimits.maxTableEntries)", found: "\(count)")
            }
            t.count = count
        }
        if let sid {
            guard sid <= 0xffff else { throw recordError(c, "sid wider than 16 bits", found: hex(sid)) }
            t.sid = UInt16(sid)
        }
        if let pasidBase {
            guard pasidBase < 1 << 20 else { throw recordError(c, "pasid-base wider than 20 bits", found: hex(pasidBase)) }
            t.pasidBase = UInt32(pasidBase)
        }
        if let bus {
            guard bus <= 0xff else { throw recordError(c, "bus wider than 8 bits", found: hex(bus)) }
            t.bus = UInt8(bus)
        }
        if let name { t.name = try string(name, c, need: 1, "a table name") }
        if kind == .generic {
            guard let entry, let fetch, let bit else {
                throw recordError(c, "a generic table needs entry, fetch and present-bit")
            }
            guard entry >= 1 && entry <= TraceLimits.maxEntrySize else {
                throw recordError(c, "entry size must be 1 to \(TraceLimits.maxEntrySize)", found: "\(entry)")
            }
            guard fetch >= 1 && fetch <= entry && fetch.nonzeroBitCount == 1 else {
                throw recordError(c, "fetch size must be a power of two no larger than the entry", found: "\(fetch)")
            }
            guard bit < entry * 8 else { throw recordError(c, "present bit lies outside the entry", found: "\(bit)") }
            t.entrySize = entry
            t.fetchSize = fetch
            t.presentBit = bit
        } else if entry != nil || fetch != nil || bit != nil {
            throw recordError(c, "entry, fetch and present-bit apply only to generic tables")
        }
        let bytes = (t.count ?? 1) * (t.entrySize ?? 64)
        if t.addr > UInt64.max - (bytes - 1) {
            throw recordError(c, "the table passes the end of the 64-bit address space", found: hex(t.addr))
        }
        return t
    }

    private mutating func invalidation(_ c: inout Cursor) throws(TraceError) -> Invalidation {
        let ty = c.byte()
        let gr = c.byte()
        let present = c.byte()
        let did = present & 1 != 0 ? c.varint() : nil
        let sid = present & 2 != 0 ? c.varint() : nil
        let pasid = present & 4 != 0 ? c.varint() : nil
        let addr = present & 8 != 0 ? c.varint() : nil
        let am = present & 16 != 0 ? c.varint() : nil
        let fm = present & 32 != 0 ? c.varint() : nil
        try checkCursor(c, "an `inval` record")
        guard let type = InvalidationType(rawValue: ty) else { throw recordError(c, "unknown invalidation type", found: "\(ty)") }
        guard let gran = InvalidationGranularity(rawValue: gr) else { throw recordError(c, "unknown granularity", found: "\(gr)") }
        guard present < 64 else { throw recordError(c, "unknown invalidation fields", found: "\(present)") }
        var inv = Invalidation(type: type, granularity: gran)
        if let did {
            guard did <= 0xffff else { throw recordError(c, "did wider than 16 bits", found: hex(did)) }
            inv.did = UInt16(did)
        }
        if let sid {
            guard sid <= 0xffff else { throw recordError(c, "sid wider than 16 bits", found: hex(sid)) }
            inv.sid = UInt16(sid)
        }
        if let pasid {
            guard pasid < 1 << 20 else { throw recordError(c, "pasid wider than 20 bits", found: hex(pasid)) }
            inv.pasid = UInt32(pasid)
        }
        inv.addr = addr
        if let am {
            guard am <= 63 else { throw recordError(c, "am must be 0 to 63", found: "\(am)") }
            inv.am = UInt8(am)
        }
        if let fm {
            guard fm <= 3 else { throw recordError(c, "fm must be 0 to 3", found: "\(fm)") }
            inv.fm = UInt8(fm)
        }
        // As in text: what VT-d defines, or what the contract allows.
        switch inv.readingProblem {
        case nil: break
        case .undefinedPair: throw recordError(c, "gran=\(gran.name) is not valid for type=\(type.name)")
        case .missing(let key): throw recordError(c, "type=\(type.name) gran=\(gran.name) needs \(key.name)")
        }
        return inv
    }
}

/// A read position in a record. Reading past the end sets `overrun` and
/// gives zeros, so the hot path has no throws; the record checks once.
struct Cursor {
    let p: UnsafePointer<UInt8>
    var pos: Int
    let end: Int
    var overrun = false
    var badVarint = false

    init(p: UnsafePointer<UInt8>, pos: Int, end: Int) {
        self.p = p
        self.pos = pos
        self.end = end
    }

    @inline(__always) mutating func byte() -> UInt8 {
        guard pos < end else { overrun = true; return 0 }
        let b = p[pos]
        pos += 1
        return b
    }

    @inline(__always) mutating func varint() -> UInt64 {
        guard pos < end else { overrun = true; return 0 }
        let first = p[pos]
        pos += 1
        if first < 0x80 { return UInt64(first) }
        // The longest varint fits: no byte needs its own bounds check.
        if end - pos >= 9 { return varintTail(first) }
        return checkedVarintTail(first)
    }

    /// The rest of a varint whose first byte was `first`, with at least 9
    /// bytes left. Up to 8 bytes are decoded from one load: find the
    /// terminating byte, drop the continuation bits, and pack the 7-bit groups
    /// together in three steps, without a branch per byte.
    @inline(__always) private mutating func varintTail(_ first: UInt8) -> UInt64 {
        let word = UInt64(littleEndian: UnsafeRawPointer(p + pos - 1).loadUnaligned(as: UInt64.self))
        let stops = ~word & 0x8080_8080_8080_8080
        if stops != 0 {
            let length = (stops.trailingZeroBitCount + 1) >> 3  // 2...8: `first` is not the last
            pos += length - 1
            var x = length == 8 ? word : word & (1 << UInt64(8 * length) - 1)
            x &= 0x7f7f_7f7f_7f7f_7f7f
            x = (x & 0x7f00_7f00_7f00_7f00) >> 1 | x & 0x007f_007f_007f_007f
            x = (x & 0x3fff_0000_3fff_0000) >> 2 | x & 0x0000_3fff_0000_3fff
            x = (x & 0x0fff_ffff_0000_0000) >> 4 | x & 0x0000_0000_0fff_ffff
            return x
        }
        // Nine or ten bytes (57 to 64 bits, rare): byte by byte.
        return checkedVarintTail(first)
    }

    private mutating func checkedVarintTail(_ first: UInt8) -> UInt64 {
        var result = UInt64(first & 0x7f)
        var shift: UInt64 = 7
        while true {
            guard pos < end else { overrun = true; return 0 }
            let b = p[pos]
            pos += 1
            if shift == 63 && b > 1 { badVarint = true; return 0 }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// `size` raw little-endian bytes.
    @inline(__always) mutating func raw(_ size: Int) -> UInt128 {
        guard end - pos >= size else { overrun = true; pos = end; return 0 }
        let q = UnsafeRawPointer(p + pos)
        pos += size
        if size == 8 { return UInt128(UInt64(littleEndian: q.loadUnaligned(as: UInt64.self))) }
        if size == 16 {
            let lo = UInt64(littleEndian: q.loadUnaligned(as: UInt64.self))
            let hi = UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            return UInt128(hi) << 64 | UInt128(lo)
        }
        var v: UInt128 = 0
        var i = size
        while i > 0 {
            i -= 1
            v = v << 8 | UInt128(q.load(fromByteOffset: i, as: UInt8.self))
        }
        return v
    }
}
