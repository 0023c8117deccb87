import Foundation
import TestSupport
@testable import TraceFormat

/// Reads a trace given as text and returns its events and symbol table.
func read(_ text: String) throws -> (events: [TraceEvent], symbols: SymbolTable) {
    let reader = try TraceReader(text: text, name: "t.trace")
    let events = try reader.readAll()
    return (events, reader.symbols)
}

/// Reads a trace given as bytes (plain or zstd) and returns its events.
func read(bytes: [UInt8]) throws -> (events: [TraceEvent], symbols: SymbolTable) {
    let reader = try TraceReader(bytes: bytes, name: "t.trace")
    let events = try reader.readAll()
    return (events, reader.symbols)
}

/// The error reading `bytes` stops with, or nil when it reads cleanly.
func readError(bytes: [UInt8]) -> TraceError? {
    do {
        let reader = try TraceReader(bytes: bytes, name: "t.trace")
        _ = try reader.readAll()
        return nil
    } catch {
        return error
    }
}

/// The error reading `text` stops with, or nil when it reads cleanly.
func readError(_ text: String) -> TraceError? { readError(bytes: Array(text.utf8)) }

/// The one event a one-line trace holds.
func event(_ line: String) throws -> (event: TraceEvent, symbols: SymbolTable) {
    let (events, symbols) = try read(line + "\n")
    guard events.count == 1 else { throw TestFailure("expected one event, got \(events.count)") }
    return (events[0], symbols)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory for one test's files.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("hitless-tests-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// `text` compressed as one zstd frame, through the writer's own compressor.
func zstdFrame(_ text: String, level: Int32 = 3) throws -> [UInt8] {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("frame.zst").path
    let out = try OutputFile(path: path, compress: true, level: level)
    try out.write(text)
    try out.commit()
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A zstd skippable frame (RFC 8878, 3.1.2) holding `payload`.
func skippableFrame(_ payload: [UInt8]) -> [UInt8] {
    let size = UInt32(payload.count)
    return [0x50, 0x2a, 0x4d, 0x18] + withUnsafeBytes(of: size.littleEndian, Array.init) + payload
}

/// A file of `Samples/`.
func samplePath(_ name: String) -> String { packageRoot.appendingPathComponent("Samples/\(name)").path }
