import Checks
import Foundation
import Testing
import TestSupport
import TraceFormat

/// The folder of hostile files beside this source file.
let hostileFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Hostile")

/// What one hostile file must give, as written in Hostile/expected.tsv:
/// the file, the exit status of `hitless analyze`, where reading stops
/// (`LINE:COLUMN`, `byte N`, `file`, or `-` when it does not stop) and the
/// error message (`-` when there is none).
struct HostileCase: Sendable, CustomTestStringConvertible {
    var file: String
    var status: Int32
    var location: String
    var message: String

    var testDescription: String { file }

    static let all: [HostileCase] = {
        let url = hostileFolder.appendingPathComponent("expected.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let status = Int32(fields[1]) else { return nil }
            return HostileCase(file: fields[0], status: status, location: fields[2], message: fields[3])
        }
    }()
}

/// What `hitless analyze FILE` does with a trace, through the library: the
/// exit status (2 for a TraceError, 1 for findings, 0 clean) and the error.
func analyzeStatus(_ path: String) -> (status: Int32, error: TraceError?) {
    do {
        let result = try Analysis.run(TraceReader(path: path))
        return (result.findings.isEmpty ? 0 : 1, nil)
    } catch {
        return (2, error)
    }
}

extension TraceLocation {
    /// The location as expected.tsv writes it.
    var written: String {
        switch self {
        case .line(let line, let column): "\(line):\(column)"
        case .byteOffset(let offset): "byte \(offset)"
        case .file: "file"
        }
    }
}

@Suite("The hostile corpus: each file ends in its exact status and error")
struct HostileCorpusTests {
    @Test func theCorpusHasAtLeastFiftyFilesAndEachHasItsExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: hostileFolder.path)
            .filter { $0 != "expected.tsv" && !$0.hasSuffix(".py") }
        #expect(files.count >= 50)
        #expect(Set(files) == Set(HostileCase.all.map(\.file)))
        #expect(HostileCase.all.count == files.count)
    }

    @Test(arguments: HostileCase.all)
    func eachFileGivesItsStatusAndError(_ expected: HostileCase) throws {
        let path = hostileFolder.appendingPathComponent(expected.file).path
        let (status, error) = analyzeStatus(path)
        #expect(status == expected.status, "\(error?.description ?? "no error")")
        #expect((error?.location.written ?? "-") == expected.location)
        #expect((error?.message ?? "-") == expected.message)
        if let error {
            #expect(error.file == path)
        }
    }

    @Test(arguments: HostileCase.all)
    func readingLeavesTheFileAsItWas(_ expected: HostileCase) throws {
        let path = hostileFolder.appendingPathComponent(expected.file).path
        let before = try FileManager.default.attributesOfItem(atPath: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = analyzeStatus(path)
        let after = try FileManager.default.attributesOfItem(atPath: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(before[.modificationDate] as? Date == after[.modificationDate] as? Date)
        #expect(before[.size] as? Int == after[.size] as? Int)
    }
}
