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

/// Decompresses zstd data (one or more frames, skippable frames included)
/// from another source as it is read.
///
/// zstd cannot say which byte is damaged, and leaves its input position
/// where the failing call started. So the source keeps where the frame being
/// decoded starts: an error names that frame and the last byte zstd had been
/// given, and the damage lies between them.
final class ZstdSource: ByteSource {
    /// The largest window a frame may ask for: 2^25 bytes (32 MiB). zstd's
    /// levels up to 19 use at most 2^23; only `--ultra`/`--long` go beyond,
    /// and a small hostile file must not make the reader allocate gigabytes.
    static let windowLogMax: Int32 = 25
    /// A frame's magic number and header descriptor, which says how long
    /// the rest of its header is (`ZSTD_FRAMEHEADERSIZE_PREFIX`, RFC 8878
    /// 3.1.1).
    static let headerPrefix: UInt64 = 5

    private var input: any ByteSource
    private let context: OpaquePointer
    private var inputBuffer: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var inputExhausted = false
    /// Compressed bytes zstd has taken so far.
    private var consumed: UInt64 = 0
    /// Where the frame being decoded (or the next one) starts in the file.
    private var frameStart: UInt64 = 0
    /// zstd's last return: zero when the last frame ended cleanly (or none
    /// began); nonzero inside a frame.
    private var frameRemainder = 0
    private var closed = false

    var bytesRead: UInt64 { input.bytesRead }
    var name: String { input.name }

    init(input: any ByteSource) throws(TraceError) {
        self.input = input
        guard let context = ZSTD_createDCtx() else {
            throw TraceError(file: input.name, location: .file, message: "zstd: cannot create a decompression context")
        }
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
        self.context = context
        inputBuffer = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
        var outBuf = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while true {
            if inputStart == inputEnd && !inputExhausted {
                let n = try input.read(into: inputBuffer)
                inputStart = 0
                inputEnd = n
                if n == 0 { inputExhausted = true }
            }
            let available = inputEnd - inputStart
            if available == 0 && frameRemainder == 0 { return 0 }
            // All there is, so that zstd checks the checksum of a frame that
            // fits before any of its text comes out; but of a frame's first
            // five bytes no more, so that what is no frame at all is found
            // there, for a file (whose first four bytes come apart, from the
            // sniffing) as for bytes in memory. At the end of the file,
            // nothing: zstd flushes what it holds.
            let intoFrame = consumed - frameStart
            let given = intoFrame < Self.headerPrefix ? min(available, Int(Self.headerPrefix - intoFrame)) : available
            var inBuf = ZSTD_inBuffer(src: UnsafeRawPointer(inputBuffer.baseAddress! + inputStart), size: given, pos: 0)
            let ret = ZSTD_decompressStream(context, &outBuf, &inBuf)
            if ZSTD_isError(ret) != 0 { throw damage(ret, lastGiven: max(consumed + UInt64(given), 1) - 1) }
            inputStart += inBuf.pos
            consumed += UInt64(inBuf.pos)
            frameRemainder = ret
            if ret == 0 { frameStart = consumed }
            // Returned at once: damage zstd meets next is then met by the
            // next read, after the caller has used what came out before it.
            if outBuf.pos > 0 { return outBuf.pos }
            if available == 0 && ret != 0 {
                throw TraceError(file: input.name, location: .byteOffset(consumed),
                                 message: "truncated zstd frame: the file ends inside a frame at byte \(consumed)",
                                 found: "end of file")
            }
        }
    }

    /// The error for a failed `ZSTD_decompressStream` that had been given
    /// the file's bytes up to `lastGiven`.
    private func damage(_ code: Int, lastGiven: UInt64) -> TraceError {
        let error = ZSTD_getErrorCode(code)
        let found = Self.errorName(error)
        if error == ZSTD_error_frameParameter_windowTooLarge {
            return TraceError(file: input.name, location: .byteOffset(frameStart),
                              message: "zstd frame at byte \(frameStart) needs a window larger than the \(1 << (Self.windowLogMax - 20)) MiB limit (made with --long or --ultra?); recompress it with zstd -19 or lower",
                              found: found)
        }
        return TraceError(file: input.name, location: .byteOffset(lastGiven),
                          message: "corrupt zstd frame at byte \(frameStart) (error found by byte \(lastGiven)): \(String(cString: ZSTD_getErrorName(code)))",
                          found: found)
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

    func close() {
        guard !closed else { return }
        closed = true
        ZSTD_freeDCtx(context)
        inputBuffer.deallocate()
        input.close()
    }

    deinit { close() }
}
