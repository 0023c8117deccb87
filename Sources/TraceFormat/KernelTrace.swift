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

    /// True for a line shaped like another tracer's event in kernel trace
    /// output: `TASK-PID [CPU] ... TIME: ...`.
    static func looksLikeEvent(_ line: UnsafeBufferPointer<UInt8>, start: Int) -> Bool {
        let rest = UnsafeBufferPointer(rebasing: line[start...])
        return cpu(rest) != nil && time(rest) != nil
    }

    /// True for a line, from `start` to its end, that the tools print
    /// before or between events and that is none (N is a decimal number):
    ///
    ///     version = N                 trace-cmd report (trace-input.c)
    ///     cpus=N                      trace-cmd report (trace-read.c)
    ///     CPU N is empty              trace-cmd report (trace-input.c)
    ///     CPU:N [LOST N EVENTS]       the tracefs trace file (print_trace_line)
    ///     CPU:N [N EVENTS DROPPED]    trace-cmd report (trace_show_data)
    ///     CPU:N [EVENTS DROPPED]      trace-cmd report, count unknown
    ///     CPU:N [SUBBUFFER START]     trace-cmd report --boundary
    ///
    /// Only these exact shapes, so that they may be skipped anywhere, even
    /// in a plain trace, without a typo passing for one.
    static func isToolLine(_ line: UnsafeBufferPointer<UInt8>, start: Int) -> Bool {
        var shape = ShapeCursor(line, at: start)
        if shape.text("version = ") { return shape.number() && shape.atEnd }
        if shape.text("cpus=") { return shape.number() && shape.atEnd }
        if shape.text("CPU ") { return shape.number() && shape.text(" is empty") && shape.atEnd }
        guard shape.text("CPU:"), shape.number(), shape.text(" [") else { return false }
        if shape.text("LOST ") { return shape.number() && shape.text(" EVENTS]") && shape.atEnd }
        if shape.text("EVENTS DROPPED]") || shape.text("SUBBUFFER START]") { return shape.atEnd }
        return shape.number() && shape.text(" EVENTS DROPPED]") && shape.atEnd
    }
}

/// Steps through a line for ``KernelTracePrefix/isToolLine(_:start:)``.
private struct ShapeCursor {
    let line: UnsafeBufferPointer<UInt8>
    var at: Int

    init(_ line: UnsafeBufferPointer<UInt8>, at: Int) {
        self.line = line
        self.at = at
    }

    var atEnd: Bool { at == line.count }

    /// Steps over `literal` when the line continues with it.
    mutating func text(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard line.count - at >= n,
              UnsafeBufferPointer(rebasing: line[at..<at + n]).equals(literal) else { return false }
        at += n
        return true
    }

    /// Steps over 1 to 20 decimal digits (any 64-bit count).
    mutating func number() -> Bool {
        var end = at
        while end < line.count && ASCII.isDigit(line[end]) && end - at < 20 { end += 1 }
        guard end > at, end == line.count || !ASCII.isDigit(line[end]) else { return false }
        at = end
        return true
    }
}
