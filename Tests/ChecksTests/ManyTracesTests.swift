import Checks
import Testing
import TraceFormat

@Suite("Many traces at once")
struct ManyTracesTests {
    let paths = ["pasid-teardown-before", "pasid-setup-ok", "pasid-replace-before", "context-teardown-before"]
        .map { samplesFolder.appendingPathComponent($0 + ".trace.zst").path }

    @Test func resultsKeepTheOrderOfTheArgumentsWhateverTheJobs() throws {
        let serial = try Analysis.run(paths: paths, jobs: 1)
        let parallel = try Analysis.run(paths: paths, jobs: 3)
        #expect(parallel.map(\.trace) == paths)
        #expect(parallel.map(\.findings) == serial.map(\.findings))
    }

    @Test func theErrorIsThatOfTheFirstBadTraceInArgumentOrder() throws {
        let bad = ["/nonexistent/a.trace", "/nonexistent/b.trace"]
        #expect(throws: TraceError.self) { try Analysis.run(paths: paths + bad, jobs: 4) }
        do {
            _ = try Analysis.run(paths: [paths[0]] + bad, jobs: 2)
        } catch {
            #expect(error.file == "/nonexistent/a.trace")
        }
    }
}
