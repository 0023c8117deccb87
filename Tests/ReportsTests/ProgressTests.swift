import Foundation
import Reports
import Testing
import TestSupport

@Suite("Progress line")
struct ProgressTests {
    /// Everything written to a pipe by `body`.
    func written(_ body: (Int32) -> Void) -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        body(fds[1])
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func nothingIsWrittenWhenTheStreamIsNotATerminal() {
        let out = written { fd in
            let progress = Progress(fd: fd, interval: 0)
            #expect(!progress.isEnabled)
            #expect(!progress.isDue(65536))
            progress.show(bytes: 1 << 20, events: 65536, findings: 3)
            progress.finish()
        }
        #expect(out.isEmpty)
    }

    @Test func anEnabledLineIsRewrittenInPlaceAndClearedAtTheEnd() {
        let out = written { fd in
            let progress = Progress(fd: fd, enabled: true, interval: 0)
            #expect(progress.isDue(65536) && !progress.isDue(65537))
            usleep(2000)
            progress.show(bytes: 3 << 20, events: 2_000_000, findings: 1)
            progress.finish()
        }
        #expect(out.hasPrefix("\r3.0 MiB read, 2.00 M events, "))
        #expect(out.contains("M events/s, 1 finding\u{1b}[K"))
        #expect(out.hasSuffix("\r\u{1b}[K"))
    }

    @Test func theLineSaysBytesEventsRateAndFindings() {
        #expect(Progress.line(bytes: 412 << 20, events: 6_200_000, seconds: 2, findings: 12)
                == "412.0 MiB read, 6.20 M events, 3.10 M events/s, 12 findings")
        #expect(Progress.line(bytes: 0, events: 0, seconds: 0, findings: nil) == "0.0 MiB read, 0.00 M events, 0.00 M events/s")
    }
}
