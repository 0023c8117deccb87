import Foundation
import Testing
import TestSupport
import TraceFormat
import Replay
import Reports
import TraceGenerator

let sample = onDmar0("""
    root addr=0x1000 mode=scalable
    store addr=0x1000 size=8 value=0x2001
    store addr=0x2200 size=8 value=0x3001
    store addr=0x2208 size=8 value=0x0
    store addr=0x3000 size=8 value=0x4001
    store addr=0x4140 size=8 value=0xa089
    store addr=0x4148 size=8 value=0x1800005
    store addr=0x4140 size=8 value=0xa08b
    """)

@Suite("hitless entries and hitless state")
struct EntriesReportTests {
    @Test func entriesListsEveryTouchedEntryWithItsUpdatesAndFinalFields() throws {
        let r = try replay("iommu id=dmar0\n" + sample)
        let rows = EntriesReport.entryRows(r)
        #expect(rows.map(\.identity) == ["dmar0 root 00", "dmar0 sm-context 00:02.0", "dmar0 pasid-dir 00:02.0/0",
                                         "dmar0 pasid 00:02.0/5"])
        let pasid = try #require(rows.last)
        #expect(pasid.updates == 3)
        #expect(pasid.addr == "0x4140")
        #expect(pasid.fields["PGTT"] == 2 && pasid.fields["DID"] == 5 && pasid.fields["FPD"] == 1)
        #expect(pasid.fields["PWSNP"] == 1 && pasid.fields["PGSNP"] == 1 && pasid.fields["SLPTPTR"] == 0xa000)
        #expect(rows[1].fields["PASIDDIRPTR"] == 0x3000)
        // The store of zero to the context's hi word changed nothing.
        #expect(rows[1].updates == 1)
    }

    @Test func stateShowsTheEntriesJustAfterTheEvent() throws {
        let r = try Replayer.run(TraceReader(text: "iommu id=dmar0\n" + sample), stopAfter: 7)
        let rows = EntriesReport.stateRows(r, identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/5"))
        #expect(rows.count == 1)
        #expect(rows.first?.fields["P"] == 1 && rows.first?.fields["DID"] == 0 && rows.first?.fields["AW"] == 2)
        #expect(rows.first?.words.prefix(2) == ["0xa089", "0x0"])
    }

    @Test func stateShowsANamedEntryEvenWhenItIsZero() throws {
        let r = try Replayer.run(TraceReader(text: "iommu id=dmar0\n" + sample + "\nstore addr=0x4140 size=8 value=0x0\nstore addr=0x4148 size=8 value=0x0"))
        let rows = EntriesReport.stateRows(r, identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/5"))
        #expect(rows.first?.summary.hasPrefix("P=0") == true)
    }

    @Test func anUnlinkedEntryShowsWhatTheUnitLastSawNotTheStoresAfterIt() throws {
        // Event 10 clears the directory entry: PASID table 0x4000 is unlinked.
        let r = try replay("iommu id=dmar0\n" + sample + "\n" + onDmar0("""
            store addr=0x3000 size=8 value=0x0
            store addr=0x4140 size=8 value=0x0
            store addr=0x4148 size=8 value=0x7
            """))
        let pasid = try #require(EntriesReport.entryRows(r).last)
        #expect(pasid.identity == "dmar0 pasid 00:02.0/5")
        #expect(pasid.words.prefix(2) == ["0xa08b", "0x1800005"])
        #expect(pasid.updates == 3)
        #expect(pasid.reachable == false && pasid.unlinkedAt == 10)
        let text = EntriesReport.text(EntriesReport.entryRows(r))
        #expect(text.contains("dmar0 pasid 00:02.0/5  @0x4140  3 updates  unlinked at event 10 (the value it had then)\n    0xa08b 0x1800005 "))
    }

    @Test func aReachableEntrySaysSoAndHasNoUnlinkingEvent() throws {
        let rows = EntriesReport.entryRows(try replay("iommu id=dmar0\n" + sample))
        #expect(rows.allSatisfy { $0.reachable == true && $0.unlinkedAt == nil })
        #expect(!EntriesReport.text(rows).contains("unlinked"))
    }

    @Test func anEntryLinkedAgainShowsItsValueNowAndIsReachable() throws {
        let r = try replay("iommu id=dmar0\n" + sample + "\n" + onDmar0("""
            store addr=0x3000 size=8 value=0x0
            store addr=0x4148 size=8 value=0x7
            store addr=0x3000 size=8 value=0x4001
            """))
        let pasid = try #require(EntriesReport.entryRows(r).last)
        #expect(pasid.words.prefix(2) == ["0xa08b", "0x7"])
        #expect(pasid.reachable == true && pasid.unlinkedAt == nil)
    }

    @Test func jsonNamesAnUnlinkedEntryAndTheEventThatUnlinkedIt() throws {
        let r = try replay("iommu id=dmar0\n" + sample + "\n" + onDmar0("store addr=0x3000 size=8 value=0x0"))
        let text = try EntriesReport.json(EntriesReport.entryRows(r))
        #expect(text.contains("\"reachable\" : false,") && text.contains("\"unlinkedAt\" : 10,"))
        struct Document: Decodable { var entries: [EntriesReport.Row] }
        let doc = try JSONDecoder().decode(Document.self, from: Data(text.utf8))
        #expect(doc.entries.map(\.reachable) == [true, true, true, false])
    }

    @Test func stateDecodesAReachableEntryNothingTouchedFromMemory() throws {
        // Filled bottom-up before the root entry linked them: no store to
        // PASID 5 was seen while it was reachable.
        let r = try replayOnDmar0([SM.root, SM.pasid5, SM.pasid5DID, SM.directory, SM.context, SM.rootLower]
            .joined(separator: "\n"))
        #expect(record(r, "dmar0 pasid 00:02.0/5") == nil)
        let rows = EntriesReport.stateRows(r, identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/5"))
        #expect(rows.map(\.addr) == ["0x4140"])
        #expect(rows.first?.fields["PGTT"] == 2 && rows.first?.fields["DID"] == 5 && rows.first?.fields["SLPTPTR"] == 0xa000)
        // A zero entry of a reachable table is shown too.
        let zero = EntriesReport.stateRows(r, identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/63"))
        #expect(zero.map(\.addr) == ["0x4fc0"] && zero.first?.summary.hasPrefix("P=0 ") == true)
    }

    @Test func stateOfAnEntryNoReachableTableGivesIsEmpty() throws {
        let r = try replayOnDmar0([SM.linkedTopDown, SM.pasid5].joined(separator: "\n"))
        for identity in ["dmar0 pasid 00:02.0/64", "dmar0 pasid 00:03.0/5", "dmar1 pasid 00:02.0/5",
                         "dmar0 context 00:02.0", "dmar0 pasid-dir 00:02.0/1"] {
            #expect(EntriesReport.stateRows(r, identity: EntryIdentity(parsing: identity)).isEmpty, "\(identity)")
        }
    }

    @Test func stateOfTheSampleAfterItsLastEventShowsTheValuesItsStoresWrote() throws {
        // pasid-setup-ok: init links root 0x100000 -> context 0x101000 (00:02.0
        // at 0x101200) -> directory 0x102000 -> PASID table 0x103000; then
        // PASID 1 gets DID 6, first-stage table 0x400000, PGTT 1, Present.
        let reader = try TraceReader(path: samplesFolder.appendingPathComponent("pasid-setup-ok.trace.zst").path)
        let r = try Replayer.run(reader, stopAfter: 10)
        #expect(r.eventCount == 10)
        let rows = EntriesReport.stateRows(r)
        #expect(rows.map(\.identity) == ["dmar0 root 00", "dmar0 sm-context 00:02.0", "dmar0 pasid-dir 00:02.0/0",
                                         "dmar0 pasid 00:02.0/1"])
        #expect(rows[0].fields["LP"] == 1 && rows[0].fields["LCTP"] == 0x101000 && rows[0].fields["UP"] == 0)
        #expect(rows[1].fields["P"] == 1 && rows[1].fields["PASIDE"] == 1 && rows[1].fields["PDTS"] == 0)
        #expect(rows[1].fields["PASIDDIRPTR"] == 0x102000)
        #expect(rows[2].fields["P"] == 1 && rows[2].fields["SMPTBLPTR"] == 0x103000)
        let pasid = rows[3]
        #expect(pasid.addr == "0x103040")
        #expect(pasid.words == ["0x41", "0x6", "0x400000", "0x0", "0x0", "0x0", "0x0", "0x0"])
        #expect(pasid.fields["P"] == 1 && pasid.fields["FPD"] == 0 && pasid.fields["PGTT"] == 1)
        #expect(pasid.fields["DID"] == 6 && pasid.fields["FLPTPTR"] == 0x400000 && pasid.fields["SRE"] == 0)
        #expect(EntriesReport.stateRows(r, identity: EntryIdentity(parsing: "dmar0 pasid 00:02.0/1")) == [pasid])
    }

    @Test func jsonCarriesTheSameRows() throws {
        let r = try replay("iommu id=dmar0\n" + sample)
        let text = try EntriesReport.json(EntriesReport.entryRows(r))
        struct Document: Decodable { var version: Int; var entries: [EntriesReport.Row] }
        let doc = try JSONDecoder().decode(Document.self, from: Data(text.utf8))
        #expect(doc.version == 1 && doc.entries == EntriesReport.entryRows(r))
    }

    @Test func textHasOneBlockPerEntry() throws {
        let r = try replay("iommu id=dmar0\n" + sample)
        let text = EntriesReport.text(EntriesReport.entryRows(r))
        #expect(text.contains("dmar0 pasid 00:02.0/5  @0x4140  3 updates\n"))
        #expect(text.contains("P=1 FPD=1 AW=2 PGTT=2 SSADE=0 SLPTPTR=0xa000 DID=0x5 PWSNP=1 PGSNP=1"))
    }
}

/// The repository's Samples folder.
let samplesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Samples")

/// Runs the binary and returns its standard output and exit status.
func run(_ arguments: [String]) throws -> (String, Int32) {
    let run = try hitless(arguments)
    return (run.stdout, run.status)
}

/// Runs the binary and returns its standard output, standard error and exit
/// status.
func runCapturingErrors(_ arguments: [String]) throws -> (out: String, err: String, status: Int32) {
    let run = try hitless(arguments)
    return (run.stdout, run.stderr, run.status)
}

@Suite("The hitless binary")
struct BinaryTests {
    /// The sample trace in a file of its own, removed by the caller.
    func sampleFile() throws -> String {
        try temporaryFile("iommu id=dmar0\n" + sample + "\n", suffix: ".trace")
    }

    @Test func stateAtAnEventPrintsTheDecodedEntryAsJSON() throws {
        let path = try sampleFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (out, status) = try run(["state", path, "--at", "8", "--entry", "dmar0 pasid 00:02.0/5",
                                     "--format", "json"])
        #expect(status == 0)
        struct Document: Decodable { var event: Int; var entries: [EntriesReport.Row] }
        let doc = try JSONDecoder().decode(Document.self, from: Data(out.utf8))
        #expect(doc.event == 8)
        #expect(doc.entries.map(\.identity) == ["dmar0 pasid 00:02.0/5"])
        #expect(doc.entries.first?.fields["DID"] == 5 && doc.entries.first?.fields["PGTT"] == 2)
        #expect(doc.entries.first?.fields["FPD"] == 0)
    }

    @Test func generateWritesZstdWhenTheNameSaysSoAndAManifest() throws {
        let dir = NSTemporaryDirectory() + "hitless-gen-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, status) = try run(["generate", "--events", "5000", "--seed", "3", "--buggy", "0.5",
                                   "-o", dir + "/g.trace.zst", "--manifest", dir + "/g.json"])
        #expect(status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/g.trace.zst"))
        #expect(Array(bytes.prefix(4)) == [0x28, 0xb5, 0x2f, 0xfd])
        let manifest = try JSONDecoder().decode(GeneratorManifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/g.json")))
        #expect(manifest.events == 5000 && manifest.seed == 3)
        #expect(try TraceReader(path: dir + "/g.trace.zst").readAll().count == 5000)
        let (summary, replayStatus) = try run(["entries", "--summary", dir + "/g.trace.zst"])
        #expect(replayStatus == 0 && summary.hasPrefix("events 5000 ") && summary.hasSuffix("diagnostics 0\n"))
    }

    @Test func pastThePageLimitEveryReplayingCommandStopsNamingTheFlag() throws {
        let path = try temporaryFile(storesToDistinctPages(3), suffix: ".trace")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for command in [["entries"], ["state", "--at", "3"], ["analyze"]] {
            let (_, err, status) = try runCapturingErrors(command + ["--max-pages", "2", path])
            #expect(status == 2)
            #expect(err == "\(path):3:1: error: more than 2 memory pages of 256 bytes written (raise the limit with --max-pages)\n")
            #expect(try runCapturingErrors(command + ["--max-pages", "3", path]).status == 0)
        }
        #expect(try runCapturingErrors(["diff", "--max-pages", "2", path, path]).status == 2)
    }

    @Test func stateShowsAReachableEntryOfASampleThatNothingTouched() throws {
        // Event 5 is the root line: the init lines' tables are linked, and
        // PASID 1 is not stored to before event 6.
        let path = samplesFolder.appendingPathComponent("pasid-setup-ok.trace.zst").path
        let (out, status) = try run(["state", path, "--at", "5", "--entry", "dmar0 pasid 00:02.0/1"])
        #expect(status == 0)
        #expect(out.hasPrefix("dmar0 pasid 00:02.0/1  @0x103040\n    0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0\n    P=0 "))
    }

    @Test func stateOfAnEntryThatIsNotReachableIsAnErrorNamingIt() throws {
        let path = samplesFolder.appendingPathComponent("pasid-setup-ok.trace.zst").path
        let (out, err, status) = try runCapturingErrors(["state", path, "--at", "5", "--entry", "dmar0 pasid 00:02.0/64"])
        #expect(status == 2 && out.isEmpty)
        #expect(err.hasPrefix("Error: --entry 'dmar0 pasid 00:02.0/64': no reachable table gives this entry just after event 5\n"))
        // Before the root line nothing is reachable.
        #expect(try run(["state", path, "--at", "4", "--entry", "dmar0 pasid 00:02.0/1"]).1 == 2)
    }

    @Test func entriesPrintsEveryTouchedEntry() throws {
        let path = try sampleFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (out, status) = try run(["entries", path])
        #expect(status == 0)
        #expect(out.contains("dmar0 pasid 00:02.0/5  @0x4140  3 updates"))
        #expect(out.contains("dmar0 sm-context 00:02.0  @0x2200  1 update\n"))
    }
}
