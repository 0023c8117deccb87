#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a trace, one event at a time, from a file, standard input or bytes
/// in memory.
///
/// Plain text, zstd (one or more frames) and the binary format
/// (docs/BINARY-FORMAT.md) are told apart by their magic numbers, never by
/// the file name; inside zstd data, text and binary are told apart again. Memory stays bounded whatever the trace's
/// length: the reader holds one buffer of decompressed text plus one line.
///
/// ```swift
/// let reader = try TraceReader(path: "trace.zst")
/// while let event = try reader.next() {
///     print(event.kind, reader.symbols[event.unit])
/// }
/// ```
public final class TraceReader {
    /// The file's name as given (`-` for standard input).
    public let fileName: String
    /// True when the input was zstd-compressed.
    public let isCompressed: Bool
    /// True when the input is in the binary format (inside zstd or not).
    public var isBinary: Bool { binary != nil }
    /// The strings events refer to by ``Symbol``.
    public var symbols: SymbolTable { binary?.symbols ?? parser.symbols }
    /// Lines of other tracers skipped in kernel trace output.
    @exclusivity(unchecked) public private(set) var foreignLines: UInt64 = 0
    /// Lines read so far (records, for a binary trace).
    public var lines: UInt64 { binary?.records ?? lineCount }
    /// Bytes of text (after decompression) read so far (of binary data, for
    /// a binary trace).
    public var textBytes: UInt64 { binary?.dataBytes ?? textByteCount }
    /// Bytes taken from the file so far (compressed, when it is).
    public var fileBytes: UInt64 { binary?.fileBytes ?? source.bytesRead }

    // The state read and written for every line. `@exclusivity(unchecked)`:
    // a class's stored properties are otherwise checked for overlapping
    // access at run time, at some 80 instructions per access and several
    // accesses per line (a tenth of the reading). These are private, and
    // one thread at a time owns a reader.
    @exclusivity(unchecked) private var lineCount: UInt64 = 0
    @exclusivity(unchecked) private var textByteCount: UInt64 = 0
    /// Set when the data starts with the binary magic: it reads every event.
    @exclusivity(unchecked) private var binary: BinaryDecoder?
    /// A read error met while sniffing, after some bytes: thrown by the
    /// next read, so that text reads what came before it first.
    private var deferredReadError: TraceError?
    private var lastReadError: TraceError?

    private var source: any ByteSource
    /// The source, when it lends its text (zstd, the read-ahead thread):
    /// lines are then parsed where they lie, and only a line split between
    /// two regions is copied, into `buffer`.
    private var lender: (any LendingByteSource)?
    @exclusivity(unchecked) private var parser: LineParser
    /// The reader's own text: what it read, or a line split between regions.
    @exclusivity(unchecked) private var buffer: UnsafeMutableRawBufferPointer
    /// The text `start` and `end` index: `buffer` or a lent region.
    @exclusivity(unchecked) private var window: UnsafeMutablePointer<UInt8>
    /// The rest of the region lent last, after the part copied into
    /// `buffer` to end a split line.
    @exclusivity(unchecked) private var rest = UnsafeRawBufferPointer(start: nil, count: 0)
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var atEnd = false
    @exclusivity(unchecked) private var pendingWait: TraceEvent?

    /// Whether canonical `store` lines take the parser's fast path (tests
    /// turn it off to compare it with the general parser).
    var canonicalFastPath: Bool {
        get { parser.canonicalFastPath }
        set { parser.canonicalFastPath = newValue }
    }

    /// The most keys a line may have (tests lower it: no kind of version 1
    /// takes as many keys as ``TraceLimits/maxKeysPerLine``).
    var maxKeysPerLine: Int {
        get { Int(parser.maxKeysPerLine) }
        set { parser.maxKeysPerLine = Int32(newValue) }
    }

    /// Bytes read from the source at a time.
    static let chunkSize = 1 << 18

    /// Opens a trace file, or standard input for `-`. A compressed file is
    /// decompressed on a thread of its own, ahead of the reading.
    public convenience init(path: String) throws(TraceError) {
        let file = try FileSource(path: path)
        let head = try file.peek(4)
        if startsZstdData(head) {
            try self.init(name: path, source: ReadAheadSource(input: try ZstdSource(input: file)), compressed: true)
        } else {
            try self.init(name: path, source: file, compressed: false)
        }
    }

    /// Reads a trace held in memory (plain or zstd), for tests and tools.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws(TraceError) {
        let memory = MemorySource(bytes: bytes, name: name)
        if startsZstdData(bytes) {
            try self.init(name: name, source: try ZstdSource(input: memory), compressed: true)
        } else {
            try self.init(name: name, source: memory, compressed: false)
        }
    }

    /// Reads a plain-text trace held in a string.
    public convenience init(text: String, name: String = "<memory>") throws(TraceError) {
        try self.init(bytes: Array(text.utf8), name: name)
    }

    /// Reads from `source` (internal: tests give sources of their own).
    init(name: String, source: any ByteSource, compressed: Bool) throws(TraceError) {
        fileName = name
        isCompressed = compressed
        self.source = source
        lender = source as? any LendingByteSource
        parser = LineParser(fileName: name)
        buffer = .allocate(byteCount: Self.chunkSize + TraceLimits.maxLineLength + 2, alignment: 16)
        window = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        try sniff()
    }

    /// Reads the first bytes (decompressed) and hands the rest of the input
    /// to a ``BinaryDecoder`` when they are the binary magic number. Text
    /// keeps them in the buffer.
    private func sniff() throws(TraceError) {
        let magicCount = BinaryTraceFormat.magic.count
        while end < magicCount && !atEnd {
            do { try fill() } catch {
                // Damage after the first bytes: text reads them first and
                // meets the damage where it would have without the sniffing.
                guard end > 0, let raw = lastReadError else { throw error }
                deferredReadError = raw
                break
            }
        }
        let head = UnsafeRawBufferPointer(start: buffer.baseAddress!, count: end)
        guard BinaryTraceFormat.startsBinary(head) else {
            // `\x89HTB` and then not `\r\n\x1a\n`: the line ends of a
            // binary trace were converted (a text-mode copy), which is what
            // the magic's last four bytes are there to show.
            if head.count >= 4 && head.prefix(4).elementsEqual(BinaryTraceFormat.magic.prefix(4)) {
                throw TraceError(file: fileName, location: .byteOffset(4),
                                 message: "damaged binary trace header: its line-end bytes were changed (a text-mode copy or a line-end conversion?)",
                                 found: head.prefix(magicCount).map { String(format: "%02x", $0) }.joined(separator: " "))
            }
            return
        }
        binary = try BinaryDecoder(name: fileName, source: source, head: head, atEnd: atEnd)
        // The decoder owns the source now (and closes it).
        source = MemorySource(bytes: [], name: fileName)
        lender = nil
        start = 0
        end = 0
        atEnd = true
    }

    deinit {
        source.close()
        buffer.deallocate()
    }

    /// The next event, or nil at the end of the trace.
    ///
    /// - Throws: ``TraceError`` for anything malformed; reading stops there.
    public func next() throws(TraceError) -> TraceEvent? {
        if let binary { return try binary.next() }
        if let wait = pendingWait {
            pendingWait = nil
            return wait
        }
        while let outcome = try parseNextLine() {
            switch outcome {
            case .nothing: continue
            case .foreign: foreignLines += 1
            case .event(let event): return event
            case .eventAndWait(let event):
                var wait = event
                wait.payload = .wait
                pendingWait = wait
                return event
            }
        }
        return nil
    }

    /// Appends the next events to `events` until it holds `limit` of them
    /// or the trace ends: the events ``next()`` would give, one call per
    /// batch instead of per event. Fewer than `limit` means the end.
    ///
    /// - Throws: ``TraceError`` for anything malformed, after appending
    ///   every event before it.
    public func read(into events: inout [TraceEvent], upTo limit: Int) throws(TraceError) {
        if let binary {
            try binary.read(into: &events, upTo: limit)
            return
        }
        if pendingWait != nil {
            while events.count < limit, let event = try next() { events.append(event) }
            return
        }
        while events.count < limit, let (lineStart, lineEnd) = try nextLine() {
            lineCount += 1
            let line = UnsafeBufferPointer(start: window + lineStart, count: lineEnd - lineStart)
            // The common lines, appended as they are parsed, without the
            // outcome that wraps any line's event.
            if let event = try parser.parseCanonical(line, number: lineCount) {
                events.append(event)
                continue
            }
            switch try parser.parseGeneral(line, number: lineCount) {
            case .nothing: continue
            case .foreign: foreignLines += 1
            case .event(let event): events.append(event)
            case .eventAndWait(let event):
                events.append(event)
                var wait = event
                wait.payload = .wait
                guard events.count < limit else {
                    pendingWait = wait
                    return
                }
                events.append(wait)
            }
        }
    }

    /// What the next line holds, or nil at the end of the text.
    @inline(__always) private func parseNextLine() throws(TraceError) -> LineParser.Outcome? {
        guard let (lineStart, lineEnd) = try nextLine() else { return nil }
        lineCount += 1
        let line = UnsafeBufferPointer(start: window + lineStart, count: lineEnd - lineStart)
        return try parser.parse(line, number: lineCount)
    }

    /// Reads every remaining event (for tests and small traces).
    public func readAll() throws(TraceError) -> [TraceEvent] {
        var events: [TraceEvent] = []
        while let event = try next() { events.append(event) }
        return events
    }

    /// The byte range of the next line in `window`, without its line end,
    /// or nil at the end of input.
    private func nextLine() throws(TraceError) -> (Int, Int)? {
        var searchFrom = start
        while true {
            let bytes = window
            if searchFrom < end, let p = memchr(bytes + searchFrom, Int32(ASCII.newline), end - searchFrom) {
                let newline = bytes.distance(to: p.assumingMemoryBound(to: UInt8.self))
                let lineStart = start
                var lineEnd = newline
                if lineEnd > lineStart && bytes[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
                start = newline + 1
                try checkLength(bytes + lineStart, lineEnd - lineStart)
                return (lineStart, lineEnd)
            }
            try checkLength(bytes + start, end - start - (end > start && bytes[end - 1] == ASCII.cr ? 1 : 0))
            if atEnd {
                guard start < end else {
                    try parser.checkEnd()
                    return nil
                }
                let lineStart = start
                var lineEnd = end
                if bytes[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
                start = end
                return (lineStart, lineEnd)
            }
            // Move the partial line to the front of the buffer and read more
            // after it.
            let partial = end - start
            let own = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if partial > 0 && (window != own || start > 0) {
                memmove(own, window + start, partial)
            }
            window = own
            start = 0
            end = partial
            searchFrom = partial
            if lender != nil { try takeRegion() } else { try fill() }
        }
    }

    /// Reads once from the source after `end`.
    private func fill() throws(TraceError) {
        let room = UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + end,
                                                 count: min(Self.chunkSize, buffer.count - end))
        let n: Int
        do throws(TraceError) {
            try throwDeferredReadError()
            n = try source.read(into: room)
        } catch {
            throw placed(error)
        }
        if n == 0 { atEnd = true } else {
            end += n
            textByteCount += UInt64(n)
        }
    }

    /// Takes the next region of text from the lender, after the partial
    /// line at the front of `buffer` (`0..<end`). With no partial line the
    /// region becomes the window; otherwise the region's first line is
    /// copied after the partial one, and the rest waits in `rest`.
    private func takeRegion() throws(TraceError) {
        var region = rest
        rest = UnsafeRawBufferPointer(start: nil, count: 0)
        if region.isEmpty {
            do throws(TraceError) {
                try throwDeferredReadError()
                region = try lender!.nextRegion()
            } catch {
                throw placed(error)
            }
            if region.isEmpty {
                atEnd = true
                return
            }
            textByteCount += UInt64(region.count)
        }
        let first = region.baseAddress!
        guard end > 0 else {
            window = UnsafeMutablePointer(mutating: first.assumingMemoryBound(to: UInt8.self))
            end = region.count
            return
        }
        let lineEnd = memchr(first, Int32(ASCII.newline), region.count).map { first.distance(to: UnsafeRawPointer($0)) + 1 }
        let n = min(lineEnd ?? region.count, buffer.count - end)
        (buffer.baseAddress! + end).copyMemory(from: first, byteCount: n)
        end += n
        rest = UnsafeRawBufferPointer(rebasing: region[n...])
    }

    /// Throws the read error met while sniffing, once: the first read
    /// after the sniffed bytes meets it.
    private func throwDeferredReadError() throws(TraceError) {
        guard let deferred = deferredReadError else { return }
        deferredReadError = nil
        throw deferred
    }

    /// A read error, placed where the text stops. Damage in the compressed
    /// stream (or a failed read) is found by byte offset; the message keeps
    /// the offset, and the place becomes the line being read and the column
    /// after its last good byte.
    private func placed(_ error: TraceError) -> TraceError {
        lastReadError = error
        guard case .byteOffset = error.location else { return error }
        return TraceError(file: error.file, location: .line(lineCount + 1, column: end - start + 1),
                          message: error.message, found: error.found)
    }

    /// Stops at a line longer than the limit. Inlined, as it is checked for
    /// every line; the error is built out of line.
    @inline(__always) private func checkLength(_ line: UnsafePointer<UInt8>, _ length: Int) throws(TraceError) {
        if length > TraceLimits.maxLineLength { throw lineTooLong(line, length) }
    }

    /// The error for a line past the limit; `found:` is how the line
    /// starts, which says which line it is better than its 16385th byte.
    @inline(never) private func lineTooLong(_ line: UnsafePointer<UInt8>, _ length: Int) -> TraceError {
        TraceError(file: fileName, location: .line(lineCount + 1, column: TraceLimits.maxLineLength + 1),
                   message: "line longer than \(TraceLimits.maxLineLength) bytes",
                   found: UnsafeBufferPointer(start: line, count: length).excerpt())
    }
}

/// Bytes held in memory, served as a ``ByteSource``.
final class MemorySource: LendingByteSource {
    let bytes: [UInt8]
    let name: String
    private var offset = 0
    /// Buffers regions are lent in, taken in turn (allocated on first use).
    private var lending: [UnsafeMutableRawBufferPointer] = []
    private var lent = 0
    static let regionsKept = 10
    static let regionSize = 1 << 16

    init(bytes: [UInt8], name: String) {
        self.bytes = bytes
        self.name = name
    }

    var bytesRead: UInt64 { UInt64(offset) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n > 0 {
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
        }
        return n
    }

    func nextRegion() throws(TraceError) -> UnsafeRawBufferPointer {
        if lending.isEmpty {
            lending = (0..<Self.regionsKept).map { _ in .allocate(byteCount: Self.regionSize, alignment: 16) }
        }
        let buffer = lending[lent % Self.regionsKept]
        lent += 1
        let n = try read(into: buffer)
        return UnsafeRawBufferPointer(rebasing: buffer[..<n])
    }

    func close() {}

    deinit { for buffer in lending { buffer.deallocate() } }
}
