import ArgumentParser
import Foundation
import Reports
import TraceFormat

/// The `hitless` command. Exit status: 0 clean, 1 findings (analyze, diff),
/// 2 bad input or usage.
struct Hitless: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hitless",
        abstract: "Find the races in how an OS updates IOMMU translation tables.",
        discussion: """
            Replays a recorded trace of CPU stores, fences, cache flushes, invalidations and \
            IOMMU fetches and reports torn entries, missing barriers, missing invalidations \
            and skipped ownership handshakes.

            Exit status: 0 no findings, 1 findings, 2 bad input or usage.
            """,
        version: toolVersion,
        subcommands: [AnalyzeCommand.self, DiffCommand.self, StatsCommand.self, ConvertCommand.self, EntriesCommand.self, StateCommand.self, GenerateCommand.self]
    )
}


/// Output formats most commands take.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

@main
enum Main {
    static func main() {
        do {
            var command = try Hitless.parseAsRoot()
            try command.run()
        } catch let error as TraceError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            Foundation.exit(2)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = Hitless.exitCode(for: error)
            if code == .success {
                print(Hitless.fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((Hitless.fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// Writes `text` to `path`, or standard output for nil or `-`.
func emit(_ text: String, to path: String?) throws {
    guard let path, path != "-" else {
        FileHandle.standardOutput.write(Data(text.utf8))
        return
    }
    let file = try OutputFile(path: path)
    try file.write(text)
    try file.commit()
}

/// Refuses trace arguments that name standard input (`-`) more than once:
/// the second would read nothing and pass for an empty trace.
func validateStandardInputOnce(_ traces: [String]) throws {
    if traces.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
}
