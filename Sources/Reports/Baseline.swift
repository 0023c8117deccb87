import Checks
import Foundation

/// The findings of a saved JSON report, known by fingerprint: what
/// `hitless analyze --baseline` compares against so that CI can gate on
/// new races only while legacy ones are being fixed.
///
/// Matching is by fingerprint alone, as a set: a fingerprint names a rule,
/// an entry identity and the code sites involved, so the same race found
/// twice in one run (the same path taken twice) is one known race, and a
/// change in how often a path runs never turns a known race into a new one.
public struct Baseline: Sendable, Equatable {
    /// The fingerprints of the saved report's findings.
    public var fingerprints: Set<String>

    /// A baseline of exactly these fingerprints.
    public init(fingerprints: Set<String>) {
        self.fingerprints = fingerprints
    }

    /// The baseline of the findings of `findings`.
    public init(findings: [Finding]) {
        self.init(fingerprints: Set(findings.map(\.fingerprint)))
    }

    /// Reads a JSON report written by `hitless analyze --format json` (any
    /// version: only `findings[].fingerprint` is read, so reports of later
    /// versions, which only add fields, still load).
    ///
    /// - Throws: ``BaselineError`` when `data` is not such a report.
    public init(reportJSON data: Data, name: String = "baseline") throws(BaselineError) {
        struct Saved: Decodable {
            struct Entry: Decodable { var fingerprint: String }
            var version: Int
            var findings: [Entry]
        }
        do {
            let saved = try JSONDecoder().decode(Saved.self, from: data)
            self.init(fingerprints: Set(saved.findings.map(\.fingerprint)))
        } catch {
            throw BaselineError(file: name, reason: Self.describe(error))
        }
    }

    /// Reads the JSON report at `path`.
    public init(contentsOf path: String) throws(BaselineError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BaselineError(file: path, reason: "cannot read the file")
        }
        try self.init(reportJSON: data, name: path)
    }

    /// Whether `finding` is a known one.
    public func contains(_ finding: Finding) -> Bool { fingerprints.contains(finding.fingerprint) }

    /// What a decoding error says, in words a person can act on.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return "not a hitless JSON report: no `\(path)`"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "not a hitless JSON report: unexpected value at `\(path)`"
        default:
            return "not valid JSON"
        }
    }
}

/// A baseline file that could not be used.
public struct BaselineError: Error, CustomStringConvertible, Sendable {
    /// The file given.
    public var file: String
    /// What was wrong with it.
    public var reason: String

    public var description: String { "\(file): error: \(reason)" }
}

/// Where a finding stands against a baseline or an earlier trace, with the
/// SARIF `baselineState` names.
public enum BaselineState: String, Sendable, Codable, CaseIterable {
    /// Not in the baseline: it counts.
    case new
    /// In the baseline and still found.
    case unchanged
    /// In the baseline (or the earlier trace) and no longer found.
    case absent
}
