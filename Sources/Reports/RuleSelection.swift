import Checks
import Foundation

extension Rule {
    /// The rules named in `list`, comma-separated (`torn-window,missing-barrier`);
    /// blanks around names and empty names are ignored.
    ///
    /// - Throws: ``UnknownRuleError`` for a name that is no rule's id.
    public static func selection(parsing list: String) throws(UnknownRuleError) -> Set<Rule> {
        var selected = Set<Rule>()
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let rule = Rule(rawValue: name) else { throw UnknownRuleError(name: name) }
            selected.insert(rule)
        }
        return selected
    }
}

/// A rule list named a rule that does not exist.
public struct UnknownRuleError: Error, CustomStringConvertible, Sendable {
    /// The name given.
    public var name: String

    public var description: String {
        "unknown rule '\(name)'; rules are \(Rule.allCases.map(\.rawValue).joined(separator: ", "))"
    }
}
