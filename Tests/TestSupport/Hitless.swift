import Foundation

/// The package's root directory, found from this file's path
/// (`Tests/TestSupport/Hitless.swift`).
public let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `hitless` binary `swift build` / `swift test` put beside the test
/// bundle, whatever the scratch path (`--scratch-path .build-a`) and
/// configuration; `HITLESS` overrides it.
public let hitlessBinary: String? = {
    let fm = FileManager.default
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["HITLESS"] { candidates.append(explicit) }
    // The test runner is `<scratch>/<triple>/debug/hitlessPackageTests.xctest`
    // (on macOS a bundle whose parent directory holds the products).
    var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
    if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") { dir = URL(fileURLWithPath: exe) }
    for _ in 0..<4 {
        dir = dir.deletingLastPathComponent()
        candidates.append(dir.appendingPathComponent("hitless").path)
    }
    let bundle = Bundle.main.bundleURL
    candidates.append(bundle.appendingPathComponent("hitless").path)
    candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("hitless").path)
    candidates.append(packageRoot.appendingPathComponent(".build/debug/hitless").path)
    return candidates.first { path in
        var isDirectory: ObjCBool = false
        return fm.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue && fm.isExecutableFile(atPath: path)
    }
}()

/// How a process ended and what it printed.
public struct ProcessRun: Sendable {
    /// The exit status.
    public var status: Int32
    /// Standard output, decoded as UTF-8.
    public var stdout: String
    /// Standard error, decoded as UTF-8.
    public var stderr: String
}

/// The built `hitless` binary could not be found.
public struct HitlessNotFound: Error, CustomStringConvertible {
    public var description: String { "the hitless binary was not found beside the test bundle (set HITLESS to its path)" }
}

/// Runs `executable` with `arguments` in the package root, with `stdin` as
/// its standard input (none when nil).
///
/// Standard input and standard error go through files, so that only
/// standard output is a pipe to drain: a child blocked writing one full pipe
/// while the test waits on another would never end.
public func runProcess(_ executable: String, _ arguments: [String], stdin: Data? = nil,
                       environment: [String: String]? = nil) throws -> ProcessRun {
    let fm = FileManager.default
    let scratch = fm.temporaryDirectory.appendingPathComponent("hitless-run-\(UUID().uuidString)")
    try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: scratch) }
    let errURL = scratch.appendingPathComponent("stderr")
    _ = fm.createFile(atPath: errURL.path, contents: nil)
    let err = try FileHandle(forWritingTo: errURL)
    defer { try? err.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    if let environment { process.environment = environment }
    var input: FileHandle?
    defer { try? input?.close() }
    if let stdin {
        let inURL = scratch.appendingPathComponent("stdin")
        try stdin.write(to: inURL)
        input = try FileHandle(forReadingFrom: inURL)
        process.standardInput = input
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let stderrData = fm.contents(atPath: errURL.path) ?? Data()
    return ProcessRun(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
}

/// Runs the built `hitless` with `arguments` in the package root.
public func hitless(_ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil) throws -> ProcessRun {
    guard let binary = hitlessBinary else { throw HitlessNotFound() }
    return try runProcess(binary, arguments, stdin: stdin, environment: environment)
}

/// A temporary file holding `text`, removed by the caller.
public func temporaryFile(_ text: String, suffix: String = ".json") throws -> String {
    try temporaryFile(bytes: Array(text.utf8), suffix: suffix)
}

/// A temporary file holding `bytes`, removed by the caller.
public func temporaryFile(bytes: [UInt8], suffix: String = ".trace") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hitless-\(UUID().uuidString)\(suffix)").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
