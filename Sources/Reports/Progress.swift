import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line on standard error for long runs: bytes read, events,
/// rate and findings so far, rewritten in place (`\r`) a few times a second
/// and cleared at the end. Silent when the stream is not a terminal, so
/// logs, pipes and CI output never see it. Safe to share between threads
/// (``show`` and ``finish`` take a lock).
///
/// ```swift
/// let progress = Progress()
/// while let event = try reader.next() {
///     events += 1
///     if progress.isDue(events) { progress.show(bytes: reader.fileBytes, events: events) }
/// }
/// progress.finish()
/// ```
public final class Progress: @unchecked Sendable {
    /// False when nothing will ever be written.
    public let isEnabled: Bool
    private let fd: Int32
    private let interval: Double
    private let started: Double
    private var lastShown: Double
    private var shown = false
    private let lock = NSLock()

    /// A progress line on `fd` (standard error by default), shown when
    /// `enabled`, which defaults to whether `fd` is a terminal.
    public init(fd: Int32 = 2, enabled: Bool? = nil, interval: Double = 0.25) {
        self.fd = fd
        isEnabled = enabled ?? (isatty(fd) != 0)
        self.interval = interval
        started = Self.now()
        lastShown = started
    }

    /// True every 65536 events when enabled: call ``show`` then. Cheap
    /// enough for every event.
    @inline(__always) public func isDue(_ events: UInt64) -> Bool {
        isEnabled && events & 0xffff == 0
    }

    /// Rewrites the line, at most once per interval.
    public func show(bytes: UInt64, events: UInt64, findings: Int? = nil) {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Self.now()
        guard now - lastShown >= interval else { return }
        lastShown = now
        shown = true
        write("\r" + Self.line(bytes: bytes, events: events, seconds: now - started, findings: findings) + "\u{1b}[K")
    }

    /// Clears the line, if one was shown.
    public func finish() {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        guard shown else { return }
        shown = false
        write("\r\u{1b}[K")
    }

    /// The text of the line: `412.0 MiB read, 6.20 M events, 3.10 M events/s, 12 findings`.
    public static func line(bytes: UInt64, events: UInt64, seconds: Double, findings: Int?) -> String {
        let rate = seconds > 0 ? Double(events) / seconds : 0
        var text = "\(fixed(Double(bytes) / 1_048_576, 1)) MiB read, \(fixed(Double(events) / 1e6, 2)) M events, "
            + "\(fixed(rate / 1e6, 2)) M events/s"
        if let findings { text += ", \(findings) finding" + (findings == 1 ? "" : "s") }
        return text
    }

    private static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int((v * scale).rounded())
        let whole = n / Int(scale)
        let frac = String(n % Int(scale))
        return "\(whole)." + String(repeating: "0", count: digits - frac.count) + frac
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
