import Checks
import Foundation
import Replay

/// Renders findings as SARIF 2.1.0 (OASIS), the format code-scanning tools
/// read: one run, the rules in `tool.driver.rules`, one result per finding.
///
/// Where a result points:
/// - its primary location is the first store's `at=` site when the site
///   names a file and line (`pasid.c:412`: artifact `pasid.c` relative to
///   `%SRCROOT%`, `region.startLine` 412), because that is the line a
///   reviewer must change;
/// - otherwise (sites like `pasid_clear_entry+0x14`, or none) the entry
///   itself: an `address` location with its address and length, the table
///   memory the unit reads, in the trace file at the line of that store
///   (code-scanning services need a file); the function of a
///   `symbol+offset` site is then a `function` logical location;
/// - every location carries the entry's identity as an `object` logical
///   location (`dmar0 pasid 00:02.0/1`), the same in every run;
/// - `relatedLocations` hold the entry's address (when the primary location
///   is a source line) and every other involved event, at its source line
///   or else at its line in the trace file, so a viewer can open it;
/// - `codeFlows` hold one thread flow: every involved event, in trace order;
/// - `partialFingerprints["hitless/v2"]` is the finding's fingerprint (rule,
///   entry identity, sites), never addresses or event numbers.
public enum SARIFReport {
    /// The SARIF version written.
    public static let version = "2.1.0"
    /// The schema the log names in `$schema`.
    public static let schemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    /// The `uriBaseId` of source files named by `at=` sites.
    public static let sourceRoot = "%SRCROOT%"
    /// The key of ``Finding/fingerprint`` in `partialFingerprints`.
    public static let fingerprintKey = "hitless/v2"

    /// The SARIF log of `hitless analyze`. With a baseline, each result has
    /// `baselineState` `new` or `unchanged`.
    public static func sarif(_ results: [AnalysisResult], memoryModel: MemoryModel, baseline: Baseline? = nil) throws -> String {
        let findings = results.flatMap(\.findings).map { finding in
            (finding, baseline.map { $0.contains(finding) ? BaselineState.unchanged : .new })
        }
        let diagnostics = results.flatMap { r in r.diagnostics.map { (r.trace, $0) } }
        let log = makeLog(findings: findings, traces: results.map(\.trace), diagnostics: diagnostics, memoryModel: memoryModel)
        return try AnalysisReport.encodeJSON(log)
    }

    /// A SARIF log of `findings`, each with its baseline state if it has
    /// one; `traces` are the analyzed files, `diagnostics` problems with
    /// them (as tool notifications).
    static func makeLog(findings: [(Finding, BaselineState?)], traces: [String],
                               diagnostics: [(trace: String, diagnostic: ReplayDiagnostic)] = [],
                               memoryModel: MemoryModel) -> Log {
        let notifications = diagnostics.map { trace, d in
            Notification(level: "warning", message: Message(d.message),
                         locations: [Location(physicalLocation: traceLine(trace, d.line))])
        }
        let run = Run(
            tool: Tool(driver: Driver.hitless),
            invocations: [Invocation(executionSuccessful: true,
                                     toolExecutionNotifications: notifications.isEmpty ? nil : notifications)],
            originalUriBaseIds: [sourceRoot: ArtifactLocation(
                uri: nil, uriBaseId: nil,
                description: Message("The source tree the trace's at= sites name files in."))],
            artifacts: unique(traces).map { Artifact(location: ArtifactLocation(uri: uriReference($0)), roles: ["analysisTarget"]) },
            results: findings.map { result($0.0, baselineState: $0.1) },
            properties: ["memoryModel": memoryModel.rawValue])
        return Log(schema: schemaURI, version: version, runs: [run])
    }

    /// One finding as a SARIF result.
    static func result(_ f: Finding, baselineState: BaselineState? = nil) -> Result {
        let entry = LogicalLocation(name: f.entry.identity, fullyQualifiedName: f.entry.identity, kind: "object")
        let primaryIndex = f.events.firstIndex { $0.kind == "store" } ?? f.events.indices.first
        func location(_ e: Finding.InvolvedEvent, id: Int? = nil, message: Message? = nil) -> Location {
            var logical = [entry]
            if let function = e.site.flatMap(functionName) {
                logical.append(LogicalLocation(name: function, fullyQualifiedName: function, decoratedName: e.site, kind: "function"))
            }
            return Location(id: id, physicalLocation: physicalLocation(e, trace: f.trace), logicalLocations: logical, message: message)
        }
        func describe(_ e: Finding.InvolvedEvent) -> Message {
            Message("\(e.role): \(e.text) (\(f.trace) line \(e.line))")
        }
        // The entry's memory, where no source line names the change.
        let entryLocation = UInt64(f.entry.addr.dropFirst(2), radix: 16).map { address in
            Location(physicalLocation: PhysicalLocation(address: Address(absoluteAddress: address, length: f.entry.size, kind: "data",
                                                                         fullyQualifiedName: f.entry.identity)),
                     logicalLocations: [entry],
                     message: Message("the entry \(f.entry.identity): \(f.entry.size) bytes at \(f.entry.addr)"))
        }
        let primary = primaryIndex.map { f.events[$0] }
        let primaryIsSource = primary.flatMap { $0.site.flatMap(sourceLine) } != nil
        var locations: [Location] = []
        var related: [Location] = []
        if let primary, primaryIsSource {
            locations.append(location(primary))
            if var entryLocation {
                entryLocation.id = 0
                related.append(entryLocation)
            }
        } else if var entryLocation {
            // Code-scanning services place a result by the file of its
            // first location: with no source line to name, the trace line
            // of the change is the place a person opens.
            let line = traceLine(f.trace, primary?.line ?? 1)
            entryLocation.physicalLocation.artifactLocation = line.artifactLocation
            entryLocation.physicalLocation.region = line.region
            if let function = primary?.site.flatMap(functionName) {
                entryLocation.logicalLocations?.append(LogicalLocation(name: function, fullyQualifiedName: function,
                                                                       decoratedName: primary?.site, kind: "function"))
            }
            locations.append(entryLocation)
        } else {
            locations.append(Location(physicalLocation: traceLine(f.trace, primary?.line ?? 1), logicalLocations: [entry]))
        }
        for (k, e) in f.events.enumerated() where !(primaryIsSource && k == primaryIndex) {
            related.append(location(e, id: k + 1, message: describe(e)))
        }
        let flow = ThreadFlow(locations: f.events.enumerated().map { k, e in
            ThreadFlowLocation(location: location(e, message: describe(e)), executionOrder: k + 1)
        })
        var properties: [String: PropertyValue] = [
            "entry": .string(f.entry.identity), "unit": .string(f.unit),
            "fix": .string(f.fix), "trace": .string(f.trace),
            "old": .strings(f.words.old), "new": .strings(f.words.new), "changed": .strings(f.words.changed),
        ]
        if let exposed = f.words.exposed { properties["exposed"] = .strings(exposed) }
        if f.boundReached == true { properties["boundReached"] = .bool(true) }
        return Result(
            ruleId: f.rule.rawValue, ruleIndex: Rule.allCases.firstIndex(of: f.rule) ?? 0,
            level: f.severity == .error ? "error" : "warning",
            message: Message(sentence(f.message) + " Fix: " + f.fix),
            locations: locations, relatedLocations: related.isEmpty ? nil : related,
            codeFlows: f.events.isEmpty ? nil : [CodeFlow(threadFlows: [flow])],
            partialFingerprints: [fingerprintKey: f.fingerprint],
            baselineState: baselineState?.rawValue,
            properties: properties)
    }

    /// The event's `at=` site when it names a file and line, else the
    /// trace file at the event's line.
    static func physicalLocation(_ e: Finding.InvolvedEvent, trace: String) -> PhysicalLocation {
        if let site = e.site, let source = sourceLine(site) {
            return PhysicalLocation(artifactLocation: ArtifactLocation(uri: uriReference(source.file), uriBaseId: sourceRoot),
                                    region: Region(startLine: source.line, startColumn: source.column))
        }
        return traceLine(trace, e.line)
    }

    static func traceLine(_ trace: String, _ line: UInt64) -> PhysicalLocation {
        PhysicalLocation(artifactLocation: ArtifactLocation(uri: uriReference(trace)), region: Region(startLine: max(1, Int(line))))
    }

    /// `pasid.c:412` or `drivers/iommu/intel/pasid.c:412:9` as file, line
    /// and column; nil for sites that name no file and line
    /// (`pasid_clear_entry+0x14`).
    public static func sourceLine(_ site: String) -> (file: String, line: Int, column: Int?)? {
        var parts = site.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var numbers: [Int] = []
        while numbers.count < 2, parts.count > 1, let n = Int(parts.last!), n > 0, parts.last!.allSatisfy(\.isASCII) {
            numbers.insert(n, at: 0)
            parts.removeLast()
        }
        let file = parts.joined(separator: ":")
        guard let line = numbers.first, !file.isEmpty, !file.contains(where: \.isWhitespace), !file.contains("+") else { return nil }
        return (file, line, numbers.count > 1 ? numbers[1] : nil)
    }

    /// The function of a `symbol+0xoffset` site (`pasid_clear_entry`), or of
    /// a bare symbol; nil for file-and-line sites.
    public static func functionName(_ site: String) -> String? {
        guard sourceLine(site) == nil else { return nil }
        let name = site.split(separator: "+", maxSplits: 1).first.map(String.init) ?? site
        guard let first = name.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first),
              name.unicodeScalars.allSatisfy({ $0 == "_" || $0 == "." || CharacterSet.alphanumerics.contains($0) }) else { return nil }
        return name
    }

    /// `path` as a URI reference: unreserved characters, `/` and the
    /// sub-delimiters kept, everything else percent-encoded (a `:` too, so
    /// that no first segment reads as a scheme); an absolute path becomes a
    /// `file://` URI.
    public static func uriReference(_ path: String) -> String {
        if path.hasPrefix("/") && !path.hasPrefix("//") { return "file://" + uriReference(String(path.dropFirst(1))).withLeadingSlash }
        let keep = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/!$&'()*+,;=@".utf8)
        var out = ""
        for byte in path.utf8 {
            if keep.contains(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)) }
            else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    /// `text` ending in a full stop, so that another sentence can follow.
    static func sentence(_ text: String) -> String {
        text.last.map { ".!?".contains($0) } == true ? text : text + "."
    }

    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    // MARK: - The SARIF objects written (the subset of SARIF 2.1.0 used)
    //
    // Internal: they mirror the SARIF specification's names, and a library
    // user who wants them can decode the JSON with any SARIF model.

    /// The top-level SARIF log.
    struct Log: Codable, Sendable {
        /// The schema's URI.
        var schema: String
        /// `2.1.0`.
        var version: String
        /// One run.
        var runs: [Run]

        enum CodingKeys: String, CodingKey {
            case schema = "$schema", version, runs
        }
    }

    /// One run of the tool.
    struct Run: Codable, Sendable {
        var tool: Tool
        var invocations: [Invocation]
        var originalUriBaseIds: [String: ArtifactLocation]
        var artifacts: [Artifact]
        var results: [Result]
        var properties: [String: String]
    }

    /// The tool.
    struct Tool: Codable, Sendable {
        var driver: Driver
    }

    /// hitless, with every rule.
    struct Driver: Codable, Sendable {
        var name: String
        var version: String
        var semanticVersion: String
        var rules: [ReportingDescriptor]

        /// This program and the rules of CHECKS.md, in ``Rule`` order (so a
        /// result's `ruleIndex` is the rule's position in `Rule.allCases`).
        static var hitless: Driver {
            Driver(name: "hitless", version: toolVersion, semanticVersion: toolVersion,
                   rules: Rule.allCases.map(ReportingDescriptor.init))
        }
    }

    /// A rule.
    struct ReportingDescriptor: Codable, Sendable {
        var id: String
        var name: String
        var shortDescription: Message
        var fullDescription: Message
        var defaultConfiguration: Configuration
        var help: Message
        var properties: [String: [String]]

        /// The descriptor of `rule`: the summary as short description, the
        /// summary and the help (what it means, and the fix pattern) as full
        /// description and help.
        init(_ rule: Rule) {
            id = rule.rawValue
            name = rule.rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            shortDescription = Message(rule.summary)
            fullDescription = Message(rule.summary + " " + rule.help)
            defaultConfiguration = Configuration(level: rule.severity == .error ? "error" : "warning")
            help = Message(rule.help)
            properties = ["tags": ["iommu", "vt-d", "concurrency"]]
        }
    }

    /// A rule's default level.
    struct Configuration: Codable, Sendable {
        var level: String
    }

    /// A text message.
    struct Message: Codable, Sendable, Equatable {
        var text: String
        init(_ text: String) { self.text = text }
    }

    /// One invocation of the tool.
    struct Invocation: Codable, Sendable {
        var executionSuccessful: Bool
        var toolExecutionNotifications: [Notification]?
    }

    /// A problem with an input (a trace's recorded fetch that disagrees
    /// with replayed memory).
    struct Notification: Codable, Sendable {
        var level: String
        var message: Message
        var locations: [Location]
    }

    /// A file the run analyzed.
    struct Artifact: Codable, Sendable {
        var location: ArtifactLocation
        var roles: [String]
    }

    /// A file, by URI reference.
    struct ArtifactLocation: Codable, Sendable, Equatable {
        var uri: String?
        var uriBaseId: String?
        var description: Message?

        init(uri: String?, uriBaseId: String? = nil, description: Message? = nil) {
            self.uri = uri
            self.uriBaseId = uriBaseId
            self.description = description
        }
    }

    /// Lines of a file.
    struct Region: Codable, Sendable, Equatable {
        var startLine: Int
        var startColumn: Int?
    }

    /// A memory address: where the entry is.
    struct Address: Codable, Sendable, Equatable {
        var absoluteAddress: UInt64
        var length: Int
        var kind: String
        var fullyQualifiedName: String
    }

    /// A place in a file, or in memory.
    struct PhysicalLocation: Codable, Sendable, Equatable {
        var artifactLocation: ArtifactLocation?
        var region: Region?
        var address: Address?

        init(artifactLocation: ArtifactLocation? = nil, region: Region? = nil, address: Address? = nil) {
            self.artifactLocation = artifactLocation
            self.region = region
            self.address = address
        }
    }

    /// A named thing: the entry, or the function of a site.
    struct LogicalLocation: Codable, Sendable, Equatable {
        var name: String
        var fullyQualifiedName: String
        var decoratedName: String?
        var kind: String
    }

    /// A location.
    struct Location: Codable, Sendable, Equatable {
        var id: Int?
        var physicalLocation: PhysicalLocation
        var logicalLocations: [LogicalLocation]?
        var message: Message?

        init(id: Int? = nil, physicalLocation: PhysicalLocation, logicalLocations: [LogicalLocation]? = nil,
                    message: Message? = nil) {
            self.id = id
            self.physicalLocation = physicalLocation
            self.logicalLocations = logicalLocations
            self.message = message
        }
    }

    /// The events of a finding, in order.
    struct CodeFlow: Codable, Sendable {
        var threadFlows: [ThreadFlow]
    }

    /// One thread of events.
    struct ThreadFlow: Codable, Sendable {
        var locations: [ThreadFlowLocation]
    }

    /// One event of a thread flow.
    struct ThreadFlowLocation: Codable, Sendable {
        var location: Location
        var executionOrder: Int
    }

    /// A value in a result's property bag.
    enum PropertyValue: Codable, Sendable, Equatable {
        case string(String), strings([String]), bool(Bool)

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else { self = .strings(try c.decode([String].self)) }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .strings(let s): try c.encode(s)
            case .bool(let b): try c.encode(b)
            }
        }
    }

    /// One finding.
    struct Result: Codable, Sendable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Message
        var locations: [Location]
        var relatedLocations: [Location]?
        var codeFlows: [CodeFlow]?
        var partialFingerprints: [String: String]
        var baselineState: String?
        var properties: [String: PropertyValue]
    }
}

private extension String {
    var withLeadingSlash: String { "/" + self }
}
