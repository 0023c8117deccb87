import Replay
import TraceFormat

// Rule `torn-read` (CHECKS.md): a recorded `fetch` read a torn state. A fetch
// sequence starts with a read of the chunk holding Present and takes the
// other chunks read after it; it is judged against the values the software
// meant once the updates it overlapped have ended.
extension Analysis {
    mutating func observeFetch(_ e: Int, _ touch: EntryTouch, _ ref: EventRef, _ replay: Replayer) {
        guard !touch.bytes.isEmpty else { return }
        let shape = EntryShape(replay.entries[e])
        let mask = shape.byteMask(touch.bytes)
        let serialNow = tracks[e].openSerial ?? tracks[e].serial
        let presentRange = shape.presentChunk * shape.chunk..<min((shape.presentChunk + 1) * shape.chunk, shape.size)
        if touch.bytes.overlaps(presentRange) {
            closeObservation(e)
            analyzePendingObservations(e, replay, force: false)
            if shape.isPresent(touch.device) { tracks[e].fetchedPresent = true }
            // The whole entry read at one point with no update open: a
            // settled value, never torn. Not kept, so that fetches sweeping
            // many entries cost no memory per entry.
            if !tracks[e].hasOpenUpdate && touch.bytes.lowerBound <= 0 && touch.bytes.upperBound >= shape.size { return }
            tracks[e].observation = Observation(value: touch.device & mask, seen: mask, fetches: [ref],
                                                stores: storesRead(e, mask, shape),
                                                firstSerial: tracks[e].openOrNextSerial,
                                                lastSerial: serialNow)
        } else if let seen = tracks[e].observationSeen {
            let fresh = mask & ~seen
            let stores = storesRead(e, fresh, shape)
            let device = touch.device
            tracks[e].modifyObservation { observation in
                observation.value = observation.value | (device & fresh)
                observation.seen = observation.seen | fresh
                if observation.fetches.count < 16 { observation.fetches.append(ref) }
                for store in stores where observation.stores.count < 16 { observation.stores.append(store) }
                observation.lastSerial = serialNow
            }
        }
    }

    /// The changes of the open update that wrote, last, some of the bytes
    /// in `read`: the stores whose values a fetch of them sees. Bytes no
    /// change of the open update wrote still hold its O.
    private func storesRead(_ e: Int, _ read: EntryValue, _ shape: EntryShape) -> [EventRef] {
        guard read != EntryValue(), let changes = tracks[e].openChanges else { return [] }
        var unexplained = read
        var stores: [EventRef] = []
        for change in changes.reversed() {
            let written = shape.byteMask(change.bytes)
            guard written & unexplained != EntryValue() else { continue }
            stores.append(change.ref)
            unexplained = unexplained & ~written
            if unexplained == EntryValue() { break }
        }
        return stores.reversed()
    }

    /// Ends the current fetch sequence; it waits for its updates to end.
    /// Sequences that overlapped no update read a settled value.
    mutating func closeObservation(_ e: Int) {
        guard let observation = tracks[e].observation else { return }
        tracks[e].observation = nil
        guard observation.firstSerial <= observation.lastSerial else { return }
        if tracks[e].pendingObservations.count == Self.maxPendingPerEntry { tracks[e].pendingObservations.removeFirst() }
        tracks[e].pendingObservations.append(observation)
    }

    mutating func analyzePendingObservations(_ e: Int, _ replay: Replayer, force: Bool) {
        while let observation = tracks[e].pendingObservations.first {
            guard force || tracks[e].hasEnded(observation.lastSerial) else { return }
            tracks[e].pendingObservations.removeFirst()
            judge(e, observation, replay)
        }
    }

    private mutating func judge(_ e: Int, _ observation: Observation, _ replay: Replayer) {
        let record = replay.entries[e]
        let shape = EntryShape(record)
        let meant = tracks[e].meantValues(observation.firstSerial, observation.lastSerial)
        guard shape.isPresent(observation.value), !meant.isEmpty,
              !shape.matchesMeant(observation.value, meant, seen: observation.seen) else { return }
        let update = tracks[e].endedUpdate(observation.firstSerial)
        let old = update?.old ?? meant[0]
        let new = update?.new ?? meant[meant.count - 1]
        let lines = observation.fetches.map { String($0.event.line) }.joined(separator: ", ")
        let message = "the unit fetched a torn \(entryName(record)) (fetch at line \(lines)): a present mix of old and new words that software never meant"
        // The stores whose values the fetches combined, then the fetches:
        // report() puts them in trace order.
        let events = observation.stores.map { (ref: Optional($0), role: "wrote what a fetch saw") }
            + observation.fetches.map { (ref: Optional($0), role: "fetch saw a torn state") }
        report(.tornRead, entry: e, serial: observation.firstSerial, message: message,
               events: events, old: old, exposed: observation.value,
               new: new, steps: requirements(e, old: old, new: new, replay))
    }
}
