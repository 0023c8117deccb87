import Foundation

/// Sums the progress of traces analyzed at the same time into one
/// ``Progress`` line: events, bytes and findings of all of them.
public final class ProgressTally: @unchecked Sendable {
    private let progress: Progress
    private let lock = NSLock()
    private var events: [Int]
    private var bytes: [UInt64]
    private var findings: [Int]

    /// A tally of `traces` traces shown on `progress`.
    public init(_ progress: Progress, traces: Int) {
        self.progress = progress
        events = Array(repeating: 0, count: traces)
        bytes = Array(repeating: 0, count: traces)
        findings = Array(repeating: 0, count: traces)
    }

    /// Records where trace `trace` has got to and shows the sums.
    public func update(trace: Int, events: Int, fileBytes: UInt64, findings: Int) {
        guard progress.isEnabled, trace < self.events.count else { return }
        lock.lock()
        self.events[trace] = events
        bytes[trace] = fileBytes
        self.findings[trace] = findings
        let totals = (UInt64(self.events.reduce(0, +)), bytes.reduce(0, +), self.findings.reduce(0, +))
        lock.unlock()
        progress.show(bytes: totals.1, events: totals.0, findings: totals.2)
    }
}
