#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads another source on a thread of its own, a few chunks ahead of its
/// reader, so that decompressing a trace and parsing it run on two cores
/// instead of taking turns on one (zstd is about half the cost of reading a
/// text trace).
///
/// Bytes, errors and ``bytesRead`` come out as the inner source gave them,
/// in the same order: an error the inner source met is thrown once every
/// byte it returned before it has been read. Memory is fixed: ``depth``
/// buffers of ``chunkSize`` bytes, reused.
final class ReadAheadSource: ByteSource {
    /// Bytes the thread asks the inner source for at a time. Four of 128 KiB
    /// keep the decompressor ahead as well as larger ones did, and keep the
    /// hostile corpus's largest run (63.3 MiB with four of 256 KiB) further from
    /// its 64 MiB bound.
    static let chunkSize = 1 << 17
    /// Buffers in flight: enough to ride out the reader's uneven pace.
    static let depth = 4

    let name: String
    /// Bytes the inner source had taken from the file when it returned the
    /// bytes read last.
    private(set) var bytesRead: UInt64 = 0

    private let queue: ChunkQueue
    private var current: ChunkQueue.Chunk?
    private var offset = 0
    private var closed = false

    init(input: any ByteSource) {
        name = input.name
        queue = ChunkQueue(input: input, depth: Self.depth, chunkSize: Self.chunkSize)
        let queue = self.queue
        let thread = Thread {
            yieldToConsumer()
            queue.fill()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
        while true {
            if let chunk = current, offset < chunk.count {
                let n = min(buffer.count, chunk.count - offset)
                buffer.baseAddress!.copyMemory(from: chunk.buffer.baseAddress! + offset, byteCount: n)
                offset += n
                return n
            }
            if let chunk = current {
                queue.recycle(chunk.buffer)
                current = nil
            }
            switch try queue.take() {
            case nil: return 0
            case let chunk?:
                current = chunk
                offset = 0
                bytesRead = chunk.bytesRead
            }
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        queue.cancelAndJoin()
    }

    deinit { close() }
}

/// The buffers between a ``ReadAheadSource`` and its thread. The thread
/// owns the inner source from start to end, and closes it.
private final class ChunkQueue: @unchecked Sendable {
    struct Chunk {
        var buffer: UnsafeMutableRawBufferPointer
        var count: Int
        var bytesRead: UInt64
    }

    /// Touched by the thread alone, until it ends.
    private let input: any ByteSource
    private let condition = NSCondition()
    private var ready: [Chunk] = []
    private var spare: [UnsafeMutableRawBufferPointer]
    private var finished = false
    private var failure: TraceError?
    private var cancelled = false
    private var threadDone = false

    init(input: any ByteSource, depth: Int, chunkSize: Int) {
        self.input = input
        spare = (0..<depth).map { _ in .allocate(byteCount: chunkSize, alignment: 16) }
    }

    /// The thread's loop: fills spare buffers until the end, an error or
    /// cancellation.
    func fill() {
        while true {
            condition.lock()
            while spare.isEmpty && !cancelled { condition.wait() }
            if cancelled {
                condition.unlock()
                break
            }
            let buffer = spare.removeLast()
            condition.unlock()
            let n: Int
            do { n = try input.read(into: buffer) } catch {
                condition.lock()
                spare.append(buffer)
                failure = error
                finished = true
                condition.broadcast()
                condition.unlock()
                break
            }
            condition.lock()
            if n == 0 {
                spare.append(buffer)
                finished = true
            } else {
                ready.append(Chunk(buffer: buffer, count: n, bytesRead: input.bytesRead))
            }
            condition.broadcast()
            condition.unlock()
            if n == 0 { break }
        }
        input.close()
        condition.lock()
        threadDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk; nil at the end. Throws the inner source's error
    /// after every chunk before it.
    func take() throws(TraceError) -> Chunk? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty { return ready.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    func recycle(_ buffer: UnsafeMutableRawBufferPointer) {
        condition.lock()
        spare.append(buffer)
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread, waits for it to close the inner source, and frees
    /// the buffers.
    func cancelAndJoin() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !threadDone { condition.wait() }
        for chunk in ready { chunk.buffer.deallocate() }
        ready.removeAll()
        for buffer in spare { buffer.deallocate() }
        spare.removeAll()
        condition.unlock()
    }
}

/// Lowers the calling thread's priority (nice 5), for a thread that feeds
/// another: the decompressor feeding the parser, the parser feeding the
/// replay. The replay is the pipeline's slowest stage: when it, the parser
/// and the decompressor compete for two cores, it keeps a whole core instead
/// of a third of each, and when it waits, the feeders have both. On Linux
/// the nice value is per thread (setpriority(2): `PRIO_PROCESS` with `who`
/// 0 is the calling thread). Failure changes nothing but speed.
package func yieldToConsumer() {
    #if os(Linux)
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 5)
    #endif
}
