// Fuzz target `reader`: arbitrary bytes through TraceReader(bytes:), the
// entry point for text, kernel trace lines, qi_submit and zstd alike. Every
// input must end in events or one TraceError, never a trap. When the input
// reads cleanly, its canonical form must read back to the same events.
import TraceFormat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let reader = try? TraceReader(bytes: bytes, name: "fuzz") else { return 0 }
    var canonical: [UInt8] = Array(TraceWriter.header.utf8)
    var events = 0
    do {
        while let event = try reader.next() {
            TraceWriter.append(event, symbols: reader.symbols, to: &canonical)
            events += 1
        }
    } catch {
        _ = error.description
        return 0
    }
    // Nothing lost: the canonical text reads back to as many events, and
    // writing them again gives the same bytes.
    let again: TraceReader
    do { again = try TraceReader(bytes: canonical, name: "canonical") } catch {
        fatalError("canonical text does not open: \(error)")
    }
    var second: [UInt8] = Array(TraceWriter.header.utf8)
    var count = 0
    do {
        while let event = try again.next() {
            TraceWriter.append(event, symbols: again.symbols, to: &second)
            count += 1
        }
    } catch {
        fatalError("canonical text does not read back: \(error)")
    }
    if count != events || second != canonical {
        fatalError("round trip changed the trace: \(events) -> \(count) events")
    }
    return 0
}
