import Checks
import Replay
import Testing
import TraceFormat

@Suite("Required invalidations, kept as data")
struct RequirementTableTests {
    let table = InvalidationRequirements.table

    @Test func everyRowCitesTheSpecificationOrTheLinuxCodeItMirrors() {
        for row in table {
            #expect(row.source.contains("VT-d ") || row.source.contains("Linux "), "\(row.kind) \(row.name): \(row.source)")
        }
    }

    @Test func everyKindNeverInvalidatedSaysWhy() {
        for (kind, source) in InvalidationRequirements.neverInvalidated {
            #expect(!source.isEmpty, "\(kind)")
        }
    }

    @Test(arguments: EntryKind.allCases)
    func everyEntryKindHasRowsOrIsNeverInvalidatedButNotBoth(_ kind: EntryKind) {
        let hasRows = table.contains { $0.kind == kind }
        let never = InvalidationRequirements.neverInvalidated.contains { $0.kind == kind }
        #expect(hasRows != never)
    }

    @Test(arguments: EntryKind.allCases.filter { kind in InvalidationRequirements.table.contains { $0.kind == kind } })
    func everyInvalidatedKindHasRowsForAChangeAndForASetupUnderCachingMode(_ kind: EntryKind) {
        let rows = table.filter { $0.kind == kind }
        #expect(rows.contains { $0.situation == .cachedEntryChanged })
        #expect(rows.contains { $0.situation == .cachingModeSetup })
    }

    @Test func everySuggestedRequestIsOneItsRowAccepts() {
        for row in table {
            let accepted = row.accepted.contains { $0.type == row.suggestion.type && $0.granularities.contains(row.suggestion.granularity) }
            #expect(accepted, "\(row.kind) \(row.name)")
        }
    }

    @Test func theFirstRowOfEachKindAndSituationIsTheEntrysOwnCache() {
        let own: [EntryKind: InvalidationType] = [.context: .context, .smContext: .context, .pasid: .pasid]
        for kind in own.keys {
            for situation in [InvalidationRow.Situation.cachedEntryChanged, .cachingModeSetup] {
                let first = table.first { $0.kind == kind && $0.situation == situation }
                #expect(first?.condition == .always)
                #expect(first?.accepted.first?.type == own[kind])
            }
        }
    }

    @Test func underCachingModeAContextEntrysCacheTakesDomainZeroAndAPasidEntrysTheNewOne() {
        let setupRows = table.filter { $0.situation == .cachingModeSetup && $0.name.hasSuffix("cache") }
        #expect(setupRows.filter { $0.kind != .pasid }.allSatisfy { $0.did == .zero })
        #expect(setupRows.filter { $0.kind == .pasid }.allSatisfy { $0.did == .new })
    }
}
