/// The prefix `trace-cmd report` and the tracefs `trace` file put before an
/// event's text, such as
///
///     kworker/0:1-42    [003] d..1.  1234.567890: bprint: fn: hitless: store ...
///
/// The CPU is the first bracketed number; the time is the first
/// `SECONDS.FRACTION:` token.
enum KernelTracePrefix {
    static func parse(_ prefix: UnsafeBufferPointer<UInt8>) -> (cpu: UInt32?, time: UInt64?) {
        (cpu(prefix), time(prefix))
    }

    private static func cpu(_ p: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var i = 0
        while i < p.count {
            if p[i] == 0x5b {  // [
                var j = i + 1
                var value: UInt64 = 0
                while j < p.count && ASCII.isDigit(p[j]) && j - i <= 9 {
                    value = value * 10 + UInt64(p[j] - ASCII.zero)
                    j += 1
                }
                if j > i + 1 && j < p.count && p[j] == 0x5d { return UInt32(truncatingIfNeeded: value) }  // ]
            }
            i += 1
        }
        return nil
    }

    private static func time(_ p: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var i = 0
        while i < p.count {
            // A token start: the beginning, or after a blank.
            if i == 0 || ASCII.isBlank(p[i - 1]), let t = timestamp(p, at: i) { return t }
            i += 1
        }
        return nil
    }

    /// `SECONDS.FRACTION:` at `start`, in nanoseconds.
    private static func timestamp(_ p: UnsafeBufferPointer<UInt8>, at start: Int) -> UInt64? {
        var i = start
        var seconds: UInt64 = 0
        while i < p.count && ASCII.isDigit(p[i]) {
            guard i - start < 11 else { return nil }
            seconds = seconds * 10 + UInt64(p[i] - ASCII.zero)
            i += 1
        }
        guard i > start, i < p.count, p[i] == ASCII.dot else { return nil }
        i += 1
        let fractionStart = i
        var fraction: UInt64 = 0
        while i < p.count && ASCII.isDigit(p[i]) {
            guard i - fractionStart < 9 else { return nil }
            fraction = fraction * 10 + UInt64(p[i] - ASCII.zero)
            i += 1
        }
        let digits = i - fractionStart
        guard digits > 0, i < p.count, p[i] == ASCII.colon else { return nil }
        for _ in digits..<9 { fraction *= 10 }
        // Eleven digits of seconds overflow 64 bits of nanoseconds: such a
        // token is not a time this reader can hold, so the prefix has none.
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, nanoseconds <= UInt64.max - fraction else { return nil }
        return nanoseconds + fraction
    }

    /// True for a line of kernel trace output that carries no hitless event:
    /// another tracer's event (`TASK-PID [CPU] ... TIME: ...`) or one of
    /// trace-cmd's header lines (`version = 6`, `cpus=4`, `CPU 2 is empty`).
    static func isForeignLine(_ line: UnsafeBufferPointer<UInt8>, start: Int, firstToken: UnsafeBufferPointer<UInt8>) -> Bool {
        let rest = UnsafeBufferPointer(rebasing: line[start...])
        if cpu(rest) != nil && time(rest) != nil { return true }
        if firstToken.equals("version") || firstToken.equals("CPU") || firstToken.firstRange(of: "cpus=") == 0 {
            return true
        }
        return false
    }
}
