#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd

/// Writes a file atomically: everything goes to a temporary file beside the
/// destination, which replaces the destination only on ``commit()``. An
/// interrupted run never leaves half a file where a whole one was. `-` writes
/// to standard output directly, and so does a destination that is not a
/// regular file: a device, FIFO or socket (`/dev/null`, a named pipe) or a
/// symbolic link (`/dev/stdout`) is written in place, as a shell redirection
/// would write it, since renaming over it would replace the device or the
/// link itself with a regular file.
///
/// With `compress`, the bytes are zstd-compressed as they are written.
public final class OutputFile {
    /// The destination path.
    public let path: String
    private var fd: Int32
    private let temporaryPath: String?
    /// The descriptor is this file's to close: the destination's own, when
    /// it is written in place.
    private let ownsDescriptor: Bool
    private var compressor: OpaquePointer?
    private var pending: [UInt8] = []
    private var compressed: [UInt8] = []
    private var finished = false

    /// Opens `path` for writing (`-` for standard output).
    public init(path: String, compress: Bool = false, level: Int32 = 3) throws(TraceError) {
        self.path = path
        if path == "-" {
            fd = 1
            temporaryPath = nil
            ownsDescriptor = false
        } else {
            let temporary = Self.isReplaceable(path) ? path + ".tmp-\(getpid())" : nil
            let opened = open(temporary ?? path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard opened >= 0 else {
                throw TraceError(file: path, location: .file, message: "cannot write: \(String(cString: strerror(errno)))")
            }
            fd = opened
            temporaryPath = temporary
            ownsDescriptor = true
        }
        if compress {
            compressor = ZSTD_createCCtx()
            ZSTD_CCtx_setParameter(compressor, ZSTD_c_compressionLevel, level)
            // A content checksum lets a reader tell damaged data from a trace.
            ZSTD_CCtx_setParameter(compressor, ZSTD_c_checksumFlag, 1)
            compressed = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        }
        pending.reserveCapacity(1 << 17)
    }

    deinit {
        if let compressor { ZSTD_freeCCtx(compressor) }
        if !finished && ownsDescriptor {
            _ = close(fd)
            if let temporaryPath { unlink(temporaryPath) }
        }
    }

    /// Whether a new file may be renamed over `path`: nothing is there, or a
    /// regular file (`lstat`, so not a link to one).
    static func isReplaceable(_ path: String) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0 else { return errno == ENOENT }
        return status.st_mode & S_IFMT == S_IFREG
    }

    /// Appends text.
    public func write(_ text: String) throws(TraceError) {
        var copy = text
        copy.withUTF8 { pending.append(contentsOf: $0) }
        if pending.count >= 1 << 16 { try drain(end: false) }
    }

    /// Appends bytes.
    public func write(bytes: some Sequence<UInt8>) throws(TraceError) {
        pending.append(contentsOf: bytes)
        if pending.count >= 1 << 16 { try drain(end: false) }
    }

    /// Writes what is buffered, ends the zstd frame, and moves the file into
    /// place.
    public func commit() throws(TraceError) {
        try drain(end: true)
        finished = true
        guard let temporaryPath else {
            if ownsDescriptor && close(fd) != 0 { throw systemError("cannot close") }
            return
        }
        if fsync(fd) != 0 && errno != EINVAL { throw systemError("cannot sync") }
        _ = close(fd)
        if rename(temporaryPath, path) != 0 {
            unlink(temporaryPath)
            throw systemError("cannot rename into place")
        }
    }

    private func drain(end: Bool) throws(TraceError) {
        guard let compressor else {
            try writeAll(pending)
            pending.removeAll(keepingCapacity: true)
            return
        }
        let directive = end ? ZSTD_e_end : ZSTD_e_continue
        var failure: TraceError?
        pending.withUnsafeBytes { input in
            var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
            while true {
                let (remaining, produced): (Int, [UInt8]) = compressed.withUnsafeMutableBytes { out in
                    var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let r = ZSTD_compressStream2(compressor, &outBuf, &inBuf, directive)
                    return (r, Array(out[0..<outBuf.pos]))
                }
                if ZSTD_isError(remaining) != 0 {
                    failure = TraceError(file: path, location: .file,
                                         message: "zstd: \(String(cString: ZSTD_getErrorName(remaining)))")
                    return
                }
                do throws(TraceError) { try writeAll(produced) } catch { failure = error; return }
                if end ? remaining == 0 : inBuf.pos == inBuf.size { break }
            }
        }
        if let failure { throw failure }
        pending.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) throws(TraceError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw systemError("cannot write")
            }
            offset += n
        }
    }

    private func systemError(_ what: String) -> TraceError {
        TraceError(file: path, location: .file, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
