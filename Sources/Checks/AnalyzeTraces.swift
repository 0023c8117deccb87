import Foundation
import TraceFormat

extension Analysis {
    /// Analyzes several trace files, `jobs` at a time, and returns their
    /// results in the order of `paths`, whatever order they finish in: the
    /// report of many traces is the same however many jobs ran it.
    ///
    /// Every trace is read to its end even when another fails; the error
    /// thrown is that of the first failing trace in `paths` order, so a run
    /// fails the same way with one job or many.
    ///
    /// `progress`, when given, hears from each trace (by its index in
    /// `paths`) as ``run(_:options:progress:)`` says, possibly from several
    /// threads at once.
    public static func run(paths: [String], options: AnalysisOptions = AnalysisOptions(), jobs: Int = 1,
                           progress: (@Sendable (_ trace: Int, _ events: Int, _ fileBytes: UInt64, _ findings: Int) -> Void)? = nil)
        throws(TraceError) -> [AnalysisResult] {
        let outcomes = Outcomes(count: paths.count)
        let workers = max(1, min(jobs, paths.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = outcomes.claim() {
                let outcome: Result<AnalysisResult, TraceError>
                do throws(TraceError) {
                    outcome = .success(try run(TraceReader(path: paths[i]), options: options,
                                               progress: progress.map { report in { report(i, $0, $1, $2) } }))
                } catch {
                    outcome = .failure(error)
                }
                outcomes.store(outcome, at: i)
            }
        }
        var results: [AnalysisResult] = []
        for outcome in outcomes.all() {
            switch outcome {
            case .success(let result): results.append(result)
            case .failure(let error): throw error
            case nil: break
            }
        }
        return results
    }
}

/// The results of a parallel run, filled in by index under a lock.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var slots: [Result<AnalysisResult, TraceError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next trace to analyze, or nil when all are taken.
    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ outcome: Result<AnalysisResult, TraceError>, at index: Int) {
        lock.lock()
        slots[index] = outcome
        lock.unlock()
    }

    func all() -> [Result<AnalysisResult, TraceError>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
