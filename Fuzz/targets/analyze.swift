// Fuzz target `analyze`: inputs that parse are replayed and checked under
// both memory models (Analysis.run). Bad input ends in a TraceError;
// nothing may trap. Unpipelined: a parsing thread per input would cost more
// than the input (the pipelined path is covered by the test suite under the
// thread sanitizer instead).
import Checks
import TraceFormat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnalyze(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Inputs that do not parse end in the reader's TraceError at the first
    // bad line; every event before it is replayed and checked all the same.
    for model in MemoryModel.allCases {
        do {
            let result = try Analysis.run(TraceReader(bytes: bytes, name: "fuzz"),
                                          options: AnalysisOptions(memoryModel: model), pipelined: false)
            for finding in result.findings { _ = finding.message }
        } catch {
            _ = error.description
            return 0
        }
    }
    return 0
}
