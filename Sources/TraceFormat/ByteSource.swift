#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd

/// Where a trace's bytes come from: a file descriptor, optionally through a
/// zstd decompressor.
///
/// A source fills caller-owned buffers, so that reading a trace of any length
/// takes a fixed amount of memory. Sources are classes: each owns a file
/// descriptor or a decompression context exactly once, however many
/// references to it are passed around, and frees it when closed or released.
protocol ByteSource: AnyObject {
    /// The file's name as the user gave it, for errors.
    var name: String { get }
    /// Reads up to `buffer.count` bytes; returns 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int
    /// Bytes taken from the underlying file so far.
    var bytesRead: UInt64 { get }
    /// Releases what the source holds. Safe to call twice.
    func close()
}

/// The four bytes every zstd frame starts with (RFC 8878, 3.1.1).
let zstdMagic: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd]

/// True when `head` starts zstd data: a frame (magic `28 b5 2f fd`) or a
/// skippable frame (magic `5X 2a 4d 18`, RFC 8878, 3.1.2), which a zstd
/// file may begin with. Neither can start a text trace: 0x28 is `(` and
/// 0x2a 0x4d 0x18 holds a control character.
func startsZstdData(_ head: some Collection<UInt8>) -> Bool {
    let bytes = Array(head.prefix(4))
    guard bytes.count == 4 else { return false }
    return bytes == zstdMagic || (bytes[0] & 0xf0 == 0x50 && bytes[1] == 0x2a && bytes[2] == 0x4d && bytes[3] == 0x18)
}

/// Reads a file descriptor with read(2). Opens read-only: reading a trace
/// never changes it.
final class FileSource: ByteSource {
    let name: String
    private var fd: Int32
    private let ownsDescriptor: Bool
    private(set) var bytesRead: UInt64 = 0
    /// Bytes read ahead to sniff the format and handed out again first.
    private var pushback: [UInt8] = []

    init(path: String) throws(TraceError) {
        name = path
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                throw TraceError(file: path, location: .file,
                                 message: "cannot open: \(String(cString: strerror(errno)))")
            }
            var info = stat()
            if fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                _ = Glibc.close(opened)
                throw TraceError(file: path, location: .file, message: "is a directory")
            }
            fd = opened
            ownsDescriptor = true
        }
    }

    /// Reads the first bytes so the caller can sniff the format; they are
    /// returned again by the next reads.
    func peek(_ count: Int) throws(TraceError) -> [UInt8] {
        var head = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = head.withUnsafeMutableBytes { raw in
                rawRead(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
            if n < 0 { throw readError() }
            if n == 0 { break }
            filled += n
        }
        head.removeLast(count - filled)
        pushback = head
        return head
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
        if !pushback.isEmpty {
            let n = min(buffer.count, pushback.count)
            pushback.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            pushback.removeFirst(n)
            return n
        }
        while true {
            let n = rawRead(into: buffer)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw readError()
        }
    }

    private func rawRead(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { bytesRead += UInt64(n) }
        return n
    }

    private func readError() -> TraceError {
        TraceError(file: name, location: .byteOffset(bytesRead),
                   message: "read failed at byte \(bytesRead): \(String(cString: strerror(errno)))")
    }

    func close() {
        if ownsDescriptor && fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// A source that decodes into memory of its own and lends views of it,
/// instead of copying into a buffer of the caller's.
protocol LendingByteSource: ByteSource {
    /// How many regions a lent region outlives: its bytes stay as they are
    /// until ``nextRegion()`` has returned this many more.
    static var regionsKept: Int { get }
    /// The next bytes, in memory the source owns; empty only at the end.
    /// Closing the source leaves the regions lent readable: they go with
    /// the source itself.
    func nextRegion() throws(TraceError) -> UnsafeRawBufferPointer
}

/// Decompresses zstd data (one or more frames, skippable frames included)
/// from another source as it is read.
///
/// Frames are decoded block by block with zstd's buffer-less API, straight
/// into a ring that holds the frame's window: the streaming API would decode
/// into a window of its own and copy every byte out, which cost a fifth of
/// the decompressing thread. Each block's text is lent out where it was
/// decoded (``nextRegion()``); the ring is large enough that the last
/// ``regionsKept`` blocks are never overwritten.
///
/// zstd cannot say which byte of a block is damaged. So the source keeps
/// where the frame being decoded starts: an error names that frame and the
/// last byte zstd had been given (the end of the header or block that
/// failed), and the damage lies between them. A frame's last block comes
/// out only once the frame's checksum has been checked, so that damage in a
/// frame of one block is found before any of its text is read.
final class ZstdSource: LendingByteSource {
    /// The largest window a frame may ask for: 2^25 bytes (32 MiB). zstd's
    /// levels up to 19 use at most 2^23; only `--ultra`/`--long` go beyond,
    /// and a small hostile file must not make the reader allocate gigabytes.
    static let windowLogMax = 25
    /// A frame's magic number and header descriptor, which says how long
    /// the rest of its header is (`ZSTD_FRAMEHEADERSIZE_PREFIX`, RFC 8878
    /// 3.1.1).
    static let headerPrefix = 5
    /// The most a block decodes to (RFC 8878 3.1.1.2.4), and so the most a
    /// lent region holds.
    static let blockSizeMax = 1 << 17
    static let regionsKept = 10
    /// Compressed bytes read from the input at a time; twice the largest
    /// block, so that a block is rarely split across reads.
    static let inputSize = 1 << 18

    private let input: any ByteSource
    private let context: OpaquePointer
    /// Compressed bytes read and not yet given to zstd: `inputStart..<inputEnd`.
    private var inputBuffer: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var inputExhausted = false
    /// Compressed bytes given to zstd (or skipped) so far: the file offset
    /// of `inputStart`.
    private var consumed: UInt64 = 0
    /// Where the frame being decoded (or the next one) starts in the file.
    private var frameStart: UInt64 = 0
    private var phase = Phase.betweenFrames
    /// The block being decoded is stored as it is (a raw block).
    private var rawBlock = false
    /// Decoded text: each block is decoded at `ringPosition`, after the one
    /// before it, or at the start when a whole block would not fit.
    private var ring: UnsafeMutableRawBufferPointer
    private var ringPosition = 0
    /// Rings outgrown by a frame with a larger window, kept while a region
    /// lent from them may still be read, with the regions left to lend
    /// before each can go.
    private var retired: [(ring: UnsafeMutableRawBufferPointer, regionsLeft: Int)] = []
    /// What ``read(into:)`` has taken of the region lent last.
    private var pending = UnsafeRawBufferPointer(start: nil, count: 0)
    private var closed = false

    private enum Phase {
        case betweenFrames
        case frame
        case skipping(remaining: UInt64)
        case finished
    }

    var bytesRead: UInt64 { input.bytesRead }
    var name: String { input.name }

    init(input: any ByteSource) throws(TraceError) {
        self.input = input
        guard let context = ZSTD_createDCtx() else {
            throw TraceError(file: input.name, location: .file, message: "zstd: cannot create a decompression context")
        }
        self.context = context
        inputBuffer = .allocate(byteCount: Self.inputSize, alignment: 16)
        ring = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
        if pending.isEmpty {
            pending = try nextRegion()
            if pending.isEmpty { return 0 }
        }
        let n = min(buffer.count, pending.count)
        buffer.baseAddress!.copyMemory(from: pending.baseAddress!, byteCount: n)
        pending = UnsafeRawBufferPointer(rebasing: pending[n...])
        return n
    }

    func nextRegion() throws(TraceError) -> UnsafeRawBufferPointer {
        if !pending.isEmpty {
            // What read(into:) left of the region lent last.
            defer { pending = UnsafeRawBufferPointer(start: nil, count: 0) }
            return pending
        }
        while true {
            switch phase {
            case .finished:
                return UnsafeRawBufferPointer(start: nil, count: 0)
            case .betweenFrames:
                try beginFrame()
            case .skipping(let remaining):
                guard remaining > 0 else {
                    endFrame()
                    continue
                }
                try ensureInput(1)
                let n = min(UInt64(inputEnd - inputStart), remaining)
                consume(Int(n))
                phase = .skipping(remaining: remaining - n)
            case .frame:
                let decoded = try decodeNext()
                guard decoded > 0 else { continue }
                let region = UnsafeRawBufferPointer(start: ring.baseAddress! + ringPosition, count: decoded)
                ringPosition += decoded
                if ZSTD_nextSrcSizeToDecompress(context) != 0 && ZSTD_nextInputType(context) == ZSTDnit_checksum {
                    _ = try decodeNext()
                }
                lent()
                return region
            }
        }
    }

    /// Reads the next frame's header and gets ready to decode it, skip it
    /// (a skippable frame) or end (no frame left).
    private func beginFrame() throws(TraceError) {
        try ensureInput(Self.headerPrefix, orFewerAtEnd: true)
        let available = inputEnd - inputStart
        if available == 0 {
            phase = .finished
            return
        }
        // A frame's first five bytes on their own, so that what is no frame
        // at all is found there.
        let prefix = min(available, Self.headerPrefix)
        var header = ZSTD_frameHeader()
        var needed = ZSTD_getFrameHeader(&header, inputBuffer.baseAddress! + inputStart, prefix)
        if ZSTD_isError(needed) != 0 { throw damage(needed, lastGiven: consumed + UInt64(prefix) - 1) }
        if needed > 0 {
            let headerSize = needed
            try ensureInput(headerSize)
            needed = ZSTD_getFrameHeader(&header, inputBuffer.baseAddress! + inputStart, headerSize)
            if ZSTD_isError(needed) != 0 { throw damage(needed, lastGiven: consumed + UInt64(headerSize) - 1) }
        }
        if header.frameType == ZSTD_skippableFrame {
            // zstd leaves `headerSize` unset for these: magic and length.
            let headerSize = Int(ZSTD_SKIPPABLEHEADERSIZE)
            try ensureInput(headerSize)
            consume(headerSize)
            phase = .skipping(remaining: header.frameContentSize)
            return
        }
        guard header.windowSize <= 1 << Self.windowLogMax else { throw windowTooLarge() }
        // The window zstd reads back into, and room for the regions lent.
        // As for a stream of unknown size: the frame may start anywhere in
        // the ring, so even one that would fit whole may wrap.
        let window = ZSTD_decodingBufferSize_min(header.windowSize, UInt64.max)
        try reserveRing(max(window, (Self.regionsKept + 3) * Self.blockSizeMax))
        let begun = ZSTD_decompressBegin(context)
        if ZSTD_isError(begun) != 0 { throw damage(begun, lastGiven: consumed) }
        phase = .frame
    }

    /// Gives zstd the next piece of the frame it asks for (a header, a
    /// block or the checksum); returns the bytes decoded into the ring at
    /// `ringPosition`.
    private func decodeNext() throws(TraceError) -> Int {
        var size = ZSTD_nextSrcSizeToDecompress(context)
        guard size > 0 else {
            endFrame()
            return 0
        }
        let kind = ZSTD_nextInputType(context)
        let isBlock = kind == ZSTDnit_block || kind == ZSTDnit_lastBlock
        if isBlock && rawBlock {
            // zstd takes a stored block in pieces, as it comes, as its
            // streaming API does: text before a cut in the file is read
            // before the cut is found.
            try ensureInput(min(size, inputBuffer.count), orFewerAtEnd: true)
            if inputStart == inputEnd { try ensureInput(1) }
            size = min(size, inputEnd - inputStart)
        } else {
            guard size <= inputBuffer.count else {
                throw TraceError(file: input.name, location: .byteOffset(consumed),
                                 message: "corrupt zstd frame at byte \(frameStart) (error found by byte \(consumed)): a block is larger than zstd allows",
                                 found: Self.errorName(ZSTD_error_corruption_detected))
            }
            try ensureInput(size)
        }
        if isBlock && ringPosition + Self.blockSizeMax > ring.count { ringPosition = 0 }
        let source = inputBuffer.baseAddress! + inputStart
        let decoded = ZSTD_decompressContinue(context, ring.baseAddress! + ringPosition, isBlock ? Self.blockSizeMax : 0,
                                              source, size)
        if ZSTD_isError(decoded) != 0 { throw damage(decoded, lastGiven: consumed + UInt64(size) - 1) }
        // Block_Type, bits 1-2 of the block header: 0 is a raw block.
        if kind == ZSTDnit_blockHeader { rawBlock = (source.load(as: UInt8.self) >> 1) & 3 == 0 }
        consume(size)
        if ZSTD_nextSrcSizeToDecompress(context) == 0 { endFrame() }
        return decoded
    }

    /// The frame (or skippable frame) ended: the next starts here.
    private func endFrame() {
        phase = .betweenFrames
        frameStart = consumed
    }

    /// Makes the ring at least `size` bytes. The old one is kept until no
    /// region lent from it can still be read.
    private func reserveRing(_ size: Int) throws(TraceError) {
        guard size > ring.count else { return }
        if ring.baseAddress != nil { retired.append((ring, Self.regionsKept)) }
        ring = .allocate(byteCount: size, alignment: 64)
        ringPosition = 0
    }

    /// Counts a region lent, freeing the retired rings it outlives.
    private func lent() {
        guard !retired.isEmpty else { return }
        for i in retired.indices { retired[i].regionsLeft -= 1 }
        while let first = retired.first, first.regionsLeft <= 0 {
            first.ring.deallocate()
            retired.removeFirst()
        }
    }

    /// Makes `count` compressed bytes available from `inputStart`, reading
    /// more as needed; at the end of the file, fewer when `orFewerAtEnd`,
    /// else the frame is truncated.
    private func ensureInput(_ count: Int, orFewerAtEnd: Bool = false) throws(TraceError) {
        while inputEnd - inputStart < count && !inputExhausted {
            if inputStart > 0 {
                let left = inputEnd - inputStart
                if left > 0 { memmove(inputBuffer.baseAddress!, inputBuffer.baseAddress! + inputStart, left) }
                inputStart = 0
                inputEnd = left
            }
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: inputBuffer[inputEnd...]))
            if n == 0 { inputExhausted = true } else { inputEnd += n }
        }
        if inputEnd - inputStart < count && !orFewerAtEnd {
            let end = consumed + UInt64(inputEnd - inputStart)
            throw TraceError(file: input.name, location: .byteOffset(end),
                             message: "truncated zstd frame: the file ends inside a frame at byte \(end)",
                             found: "end of file")
        }
    }

    private func consume(_ count: Int) {
        inputStart += count
        consumed += UInt64(count)
    }

    /// The error for a failed zstd call that had been given the file's
    /// bytes up to `lastGiven`.
    private func damage(_ code: Int, lastGiven: UInt64) -> TraceError {
        let error = ZSTD_getErrorCode(code)
        // A window past what zstd itself allows (2^31) is refused as
        // ours is.
        if error == ZSTD_error_frameParameter_windowTooLarge { return windowTooLarge() }
        return TraceError(file: input.name, location: .byteOffset(lastGiven),
                          message: "corrupt zstd frame at byte \(frameStart) (error found by byte \(lastGiven)): \(String(cString: ZSTD_getErrorName(code)))",
                          found: Self.errorName(error))
    }

    /// The error for a frame whose window is past ``windowLogMax``.
    private func windowTooLarge() -> TraceError {
        TraceError(file: input.name, location: .byteOffset(frameStart),
                   message: "zstd frame at byte \(frameStart) needs a window larger than the \(1 << (Self.windowLogMax - 20)) MiB limit (made with --long or --ultra?); recompress it with zstd -19 or lower",
                   found: Self.errorName(ZSTD_error_frameParameter_windowTooLarge))
    }

    /// The name zstd_errors.h gives an error that decompression can meet.
    static func errorName(_ error: ZSTD_ErrorCode) -> String {
        switch error {
        case ZSTD_error_prefix_unknown: "ZSTD_error_prefix_unknown"
        case ZSTD_error_version_unsupported: "ZSTD_error_version_unsupported"
        case ZSTD_error_frameParameter_unsupported: "ZSTD_error_frameParameter_unsupported"
        case ZSTD_error_frameParameter_windowTooLarge: "ZSTD_error_frameParameter_windowTooLarge"
        case ZSTD_error_corruption_detected: "ZSTD_error_corruption_detected"
        case ZSTD_error_checksum_wrong: "ZSTD_error_checksum_wrong"
        case ZSTD_error_literals_headerWrong: "ZSTD_error_literals_headerWrong"
        case ZSTD_error_dictionary_corrupted: "ZSTD_error_dictionary_corrupted"
        case ZSTD_error_dictionary_wrong: "ZSTD_error_dictionary_wrong"
        case ZSTD_error_tableLog_tooLarge: "ZSTD_error_tableLog_tooLarge"
        case ZSTD_error_maxSymbolValue_tooLarge: "ZSTD_error_maxSymbolValue_tooLarge"
        case ZSTD_error_memory_allocation: "ZSTD_error_memory_allocation"
        case ZSTD_error_dstSize_tooSmall: "ZSTD_error_dstSize_tooSmall"
        case ZSTD_error_srcSize_wrong: "ZSTD_error_srcSize_wrong"
        default: "zstd error \(error.rawValue)"
        }
    }

    /// Frees the decompression context and closes the input. The text
    /// stays: regions lent last may still be being read.
    func close() {
        guard !closed else { return }
        closed = true
        ZSTD_freeDCtx(context)
        inputBuffer.deallocate()
        input.close()
    }

    deinit {
        close()
        if ring.baseAddress != nil { ring.deallocate() }
        for old in retired { old.ring.deallocate() }
    }
}
