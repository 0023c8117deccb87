import Foundation
import Testing
import TestSupport
import TraceFormat


/// Every file of the fuzz seed corpus and of Samples/.
let corpusFiles: [URL] = {
    let fm = FileManager.default
    var urls: [URL] = []
    for folder in ["Fuzz/corpus/reader", "Fuzz/corpus/analyze", "Samples"] {
        let dir = packageRoot.appendingPathComponent(folder)
        for name in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where !name.hasSuffix(".md") && !name.hasSuffix(".py") {
            urls.append(dir.appendingPathComponent(name))
        }
    }
    return urls.sorted { $0.path < $1.path }
}()

/// The canonical text of every event `reader` gives, and how many.
func canonical(_ reader: TraceReader) throws -> (text: [UInt8], events: Int) {
    var out = Array(TraceWriter.header.utf8)
    var events = 0
    while let event = try reader.next() {
        TraceWriter.append(event, symbols: reader.symbols, to: &out)
        events += 1
    }
    return (out, events)
}

func temporaryFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hitless-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("Nothing lost: conversion keeps every event, reading and failing change no file")
struct NothingLostTests {
    @Test func theCorpusIsThere() {
        #expect(corpusFiles.count >= 100)
    }

    @Test func everyCorpusFileThatReadsConvertsToTheSameEventsAndBack() throws {
        var read = 0
        for url in corpusFiles {
            guard let first = try? canonical(TraceReader(path: url.path)) else { continue }
            read += 1
            let second = try canonical(TraceReader(bytes: first.text, name: "canonical"))
            #expect(second.events == first.events, "\(url.lastPathComponent)")
            #expect(second.text == first.text, "\(url.lastPathComponent)")
        }
        #expect(read >= 50)
    }

    @Test func everyCorpusFileThatReadsSurvivesConvertToZstdAndBack() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for url in corpusFiles.prefix(60) {
            guard let first = try? canonical(TraceReader(path: url.path)) else { continue }
            let path = dir.appendingPathComponent("out.zst").path
            let file = try OutputFile(path: path, compress: true)
            try file.write(bytes: first.text)
            try file.commit()
            let again = try canonical(TraceReader(path: path))
            #expect(again.text == first.text, "\(url.lastPathComponent)")
        }
    }

    @Test func convertingLeavesTheInputAsItWas() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for sample in ["every-kind.trace", "kernel-trace.txt", "pasid-replace-before.trace.zst"] {
            let input = packageRoot.appendingPathComponent("Samples/\(sample)").path
            let before = try FileManager.default.attributesOfItem(atPath: input)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: input))
            #expect(try hitless(["convert", input, dir.appendingPathComponent("out.trace").path]).status == 0)
            #expect(try hitless(["analyze", input, "-o", dir.appendingPathComponent("report.txt").path]).status <= 1)
            let after = try FileManager.default.attributesOfItem(atPath: input)
            #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == bytes)
            #expect(before[.modificationDate] as? Date == after[.modificationDate] as? Date)
        }
    }

    @Test func aRunThatFailsOnBadInputLeavesAnExistingOutputAsItWas() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The bad trace fails on its last line, after output has begun.
        let bad = dir.appendingPathComponent("bad.trace")
        try Data(("hitless-trace 1\n" + String(repeating: "wait\n", count: 20000) + "stroe addr=1\n").utf8).write(to: bad)
        let previous = Data("a full report from an earlier run\n".utf8)
        for (command, name) in [("convert", "out.trace"), ("convert", "out.trace.zst"), ("analyze", "report.txt"),
                                ("entries", "entries.txt")] {
            let out = dir.appendingPathComponent(name)
            try previous.write(to: out)
            let arguments = command == "convert" ? [command, bad.path, out.path] : [command, bad.path, "-o", out.path]
            #expect(try hitless(arguments).status == 2, "\(command)")
            #expect(try Data(contentsOf: out) == previous, "\(command) replaced \(name)")
        }
        // And no temporary file is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["bad.trace", "entries.txt", "out.trace", "out.trace.zst", "report.txt"])
    }
}
