#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads another source on a thread of its own, a few regions ahead of its
/// reader, so that decompressing a trace and parsing it run on two cores
/// instead of taking turns on one (zstd is about half the cost of reading a
/// text trace).
///
/// The thread takes regions the inner source lends (``LendingByteSource``):
/// for zstd, text where it was decoded, which the reader parses where it
/// lies (it lends them on, one at a time). Bytes, errors and ``bytesRead``
/// come out as the inner
/// source gave them, in the same order: an error the inner source met is
/// thrown once every byte it returned before it has been read. Memory is
/// the inner source's: no more than ``depth`` regions are out at a time.
final class ReadAheadSource: LendingByteSource {
    /// The region lent last is released when the next is asked for.
    static let regionsKept = 1

    /// Regions taken ahead of the reader: enough to ride out its uneven
    /// pace, and to hand them over half of them at a time (RegionQueue).
    /// Eight blocks of zstd's are at most 1 MiB.
    static let depth = 8

    let name: String
    /// Bytes the inner source had taken from the file when it returned the
    /// bytes read last.
    private(set) var bytesRead: UInt64 = 0

    private let queue: RegionQueue
    private var current: RegionQueue.Region?
    private var offset = 0
    private var closed = false

    init<Input: LendingByteSource>(input: Input) {
        // A region must outlast its time in the queue and with the reader.
        precondition(Self.depth <= Input.regionsKept)
        name = input.name
        queue = RegionQueue(input: input, depth: Self.depth)
        let queue = self.queue
        let thread = Thread {
            yieldToConsumer()
            queue.fill()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceError) -> Int {
        let region = try nextRegion()
        let n = min(buffer.count, region.count)
        if n > 0 { buffer.baseAddress!.copyMemory(from: region.baseAddress!, byteCount: n) }
        // What did not fit is the rest of the current region, read next.
        offset -= region.count - n
        return n
    }

    func nextRegion() throws(TraceError) -> UnsafeRawBufferPointer {
        if let region = current {
            if offset < region.bytes.count {
                // What read(into:) left of it.
                defer { offset = region.bytes.count }
                return UnsafeRawBufferPointer(rebasing: region.bytes[offset...])
            }
            queue.release()
            current = nil
        }
        guard let region = try queue.take() else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        current = region
        offset = region.bytes.count
        bytesRead = region.bytesRead
        return region.bytes
    }

    func close() {
        guard !closed else { return }
        closed = true
        queue.cancelAndJoin()
    }

    deinit { close() }
}

/// The regions between a ``ReadAheadSource`` and its thread. The thread
/// owns the inner source from start to end, and closes it.
private final class RegionQueue: @unchecked Sendable {
    struct Region {
        var bytes: UnsafeRawBufferPointer
        var bytesRead: UInt64
    }

    /// Touched by the thread alone, until it ends.
    private let input: any LendingByteSource
    private let depth: Int
    private let condition = NSCondition()
    private var ready: [Region] = []
    /// Regions taken from the source and not yet released by the reader.
    private var out = 0
    /// Who sleeps: the thread, for regions to come back; the reader, for
    /// regions to come. Each is woken only once there are `depth / 2`.
    private var producerWaiting = false
    private var consumerWaiting = false
    private var finished = false
    private var failure: TraceError?
    private var cancelled = false
    private var threadDone = false

    init(input: any LendingByteSource, depth: Int) {
        self.input = input
        self.depth = depth
        ready.reserveCapacity(depth)
    }

    /// The thread's loop: takes regions until the end, an error or
    /// cancellation, never more than `depth` out at a time.
    func fill() {
        while true {
            condition.lock()
            if out >= depth {
                // Full: sleep until half the regions are back, not one, so
                // that the two threads do not take turns a region at a time
                // (a wake-up each, 20,000 on a large trace, and a core idle
                // whenever the scheduler is slow to hand it over).
                producerWaiting = true
                while out > depth / 2 && !cancelled { condition.wait() }
                producerWaiting = false
            }
            if cancelled {
                condition.unlock()
                break
            }
            condition.unlock()
            let region: UnsafeRawBufferPointer
            do { region = try input.nextRegion() } catch {
                condition.lock()
                failure = error
                finished = true
                condition.broadcast()
                condition.unlock()
                break
            }
            condition.lock()
            if region.isEmpty {
                finished = true
            } else {
                ready.append(Region(bytes: region, bytesRead: input.bytesRead))
                out += 1
            }
            if consumerWaiting && (ready.count >= depth / 2 || finished) { condition.broadcast() }
            condition.unlock()
            if region.isEmpty { break }
        }
        input.close()
        condition.lock()
        threadDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next region; nil at the end. Throws the inner source's error
    /// after every region before it.
    func take() throws(TraceError) -> Region? {
        condition.lock()
        defer { condition.unlock() }
        if ready.isEmpty && !finished {
            // As the thread does when full: wake for half the depth.
            consumerWaiting = true
            while ready.count < depth / 2 && !finished { condition.wait() }
            consumerWaiting = false
        }
        if !ready.isEmpty { return ready.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    /// The reader is done with the oldest region it took.
    func release() {
        condition.lock()
        out -= 1
        if producerWaiting && out <= depth / 2 { condition.broadcast() }
        condition.unlock()
    }

    /// Stops the thread and waits for it to close the inner source.
    func cancelAndJoin() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !threadDone { condition.wait() }
        ready.removeAll()
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
