// The whole story through the Swift API and the URLSession transport, against the real native library and the real
// publisher tool: publish Varna, serve it on loopback, sync, query in both scripts, keep a favourite across an update
// that arrives as a delta, refuse a catalog with a bad signature or from another publisher, and keep working offline.

import Cityguide
import Foundation
import XCTest

/// Near the cathedral in the centre of Varna.
private let cathedralSquare = Position(lat: 43.2050, lon: 27.9106)

final class EndToEndTests: XCTestCase {
    func testPublishServeSyncQueryUpdateAndRefuse() async throws {
        let tmp = try scratchDirectory(self)
        let publisher = try Publisher(in: tmp.appendingPathComponent("publisher"))
        let first = try publisher.publish()
        XCTAssertTrue(first.new_version)
        let server = try Server(site: publisher.site, test: self)

        // Small chunks, so the download takes several Range requests and reports progress between them.
        let guide = try await CityGuide(
            dataDirectory: tmp.appendingPathComponent("phone"),
            languages: ["en", "bg"],
            catalogURL: server.catalog,
            trustedKeys: [publisher.publicKey],
            limits: DownloadLimits(chunkBytes: 16 * 1024),
            transport: URLSessionTransport()
        )
        let consentAtFirst = try await guide.consent()
        XCTAssertFalse(consentAtFirst.updates, "updates are off until the user allows them")
        try await guide.setConsent(.updates, granted: true)
        let installedBefore = try await guide.installedCities()
        XCTAssertEqual(installedBefore.map(\.cityId), [], "a new phone has no city")

        let offers = try await guide.checkForUpdates()
        let offer = try XCTUnwrap(offers.first { $0.cityId == "varna" })
        XCTAssertNil(offer.installedVersion)
        XCTAssertEqual(offer.availableVersion, first.version)
        XCTAssertTrue(offer.updateAvailable)
        XCTAssertFalse(offer.viaDelta)

        // First sync: the full pack, in chunks.
        var progress: [(UInt64, UInt64)] = []
        var outcome: UpdateOutcome?
        for try await state in guide.updateCity("varna") {
            switch state {
            case let .downloading(done, total): progress.append((done, total))
            case let .finished(o): outcome = o
            }
        }
        let installed = try XCTUnwrap(outcome)
        guard case let .installed(city: installedCity, downloadedBytes: bytes) = installed else {
            return XCTFail("a first sync installs the city, got \(installed)")
        }
        XCTAssertEqual(installedCity.cityId, "varna")
        XCTAssertEqual(installedCity.version, first.version)
        XCTAssertEqual(bytes, first.compressed_size)
        XCTAssertGreaterThan(progress.count, 1, "several chunks report progress")
        XCTAssertEqual(progress.last?.0, first.compressed_size, "progress reaches the whole download")
        XCTAssertEqual(progress.map(\.0), progress.map(\.0).sorted(), "progress never goes back")
        XCTAssertGreaterThan(installed.city.placeCount, 50)

        // Nearby: the cathedral is the nearest place to its square.
        let near = try await guide.nearby(city: "varna", at: cathedralSquare, limit: 5)
        XCTAssertEqual(near.first?.id, "cathedral-assumption")
        XCTAssertEqual(near.count, 5)
        let distances = near.compactMap(\.distanceM)
        XCTAssertEqual(distances.count, 5)
        XCTAssertEqual(distances, distances.sorted(), "nearest first")
        XCTAssertLessThan(distances[0], 50)
        XCTAssertEqual(near.first?.language, "en", "names come in the reader's first language")

        // Search in Cyrillic and in Latin transliteration finds the same cathedral.
        let cyrillic = try await guide.search(city: "varna", "Катедрала", near: cathedralSquare)
        let latin = try await guide.search(city: "varna", "katedrala", near: cathedralSquare)
        XCTAssertEqual(cyrillic.first?.id, "cathedral-assumption")
        XCTAssertEqual(latin.first?.id, "cathedral-assumption")
        let nothing = try await guide.search(city: "varna", "qqqxxzz")
        XCTAssertEqual(nothing.count, 0)

        // Place detail: opening status and accessibility come from the pack.
        let detail = try await guide.place(city: "varna", id: "cathedral-assumption")
        XCTAssertEqual(detail.summary.name, "Cathedral of the Dormition of the Theotokos")
        XCTAssertEqual(detail.opening.expression, "Mo-Su 07:00-19:00")
        XCTAssertNotEqual(detail.opening.state, .unknown)
        XCTAssertEqual(detail.summary.accessibility.stepFree, .limited)
        XCTAssertFalse(detail.favourite)

        // A favourite, then an update: the publisher edits a summary and publishes a new version.
        try await guide.addFavourite(city: "varna", place: "cathedral-assumption")
        let favourites = try await guide.favourites()
        XCTAssertEqual(favourites.map(\.placeId), ["cathedral-assumption"])

        try publisher.edit(
            texts: "en", replacing: "Varna's main Orthodox church, consecrated in 1886",
            with: "The main Orthodox church of Varna, consecrated in 1886")
        let second = try publisher.publish()
        XCTAssertEqual(second.version, first.version + 1)
        XCTAssertEqual(second.catalog_version, first.catalog_version + 1)

        let offers2 = try await guide.checkForUpdates()
        let offer2 = try XCTUnwrap(offers2.first { $0.cityId == "varna" })
        XCTAssertEqual(offer2.installedVersion, first.version)
        XCTAssertEqual(offer2.availableVersion, second.version)
        XCTAssertTrue(offer2.viaDelta, "a delta fits the installed version")

        let updated = try await finished(guide.updateCity("varna"))
        XCTAssertEqual(updated.city.version, second.version)
        guard case let .updated(city: _, fromVersion: from, method: method, downloadedBytes: _) = updated else {
            return XCTFail("the second sync updates the city, got \(updated)")
        }
        XCTAssertEqual(from, first.version)
        XCTAssertEqual(method, .delta)
        XCTAssertLessThan(updated.downloadedBytes, second.compressed_size, "the delta is smaller than the pack")

        let after = try await guide.place(city: "varna", id: "cathedral-assumption")
        XCTAssertEqual(
            after.summary.summary?.text.hasPrefix("The main Orthodox church of Varna, consecrated in 1886"), true)
        XCTAssertTrue(after.favourite, "the favourite survived the update")

        let nothingNew = try await guide.checkForUpdates()
        XCTAssertEqual(nothingNew.first { $0.cityId == "varna" }?.updateAvailable, false)

        // A tampered signature is refused and the installed city stays as it was.
        let catalogFile = publisher.site.appendingPathComponent("catalog.json")
        let genuine = try Data(contentsOf: catalogFile)
        try tamperSignature(of: catalogFile)
        await assertThrowsGuideError(try await guide.checkForUpdates()) { error in
            if case .UntrustedCatalog = error { return true }
            if case .CatalogRejected = error { return true }
            return false
        }
        await assertThrowsGuideError(try await finished(guide.updateCity("varna"))) { error in
            if case .UntrustedCatalog = error { return true }
            if case .CatalogRejected = error { return true }
            return false
        }
        let stillInstalled = try await guide.installedCities()
        XCTAssertEqual(stillInstalled.map(\.version), [second.version])
        try genuine.write(to: catalogFile)

        // A phone that trusts another publisher refuses the genuine catalog.
        let otherKey = try Publisher.keygen(tmp.appendingPathComponent("other.key"))
        let stranger = try await CityGuide(
            dataDirectory: tmp.appendingPathComponent("other-phone"), languages: ["en"],
            catalogURL: server.catalog, trustedKeys: [otherKey])
        try await stranger.setConsent(.updates, granted: true)
        await assertThrowsGuideError(try await finished(stranger.updateCity("varna"))) { error in
            if case .UntrustedCatalog = error { return true }
            return false
        }
        let strangerCities = try await stranger.installedCities()
        XCTAssertEqual(strangerCities.count, 0)

        // The server goes away: updates say offline, the guide keeps answering.
        server.stop()
        await assertThrowsGuideError(try await guide.checkForUpdates()) { error in
            if case .Offline = error { return true }
            return false
        }
        let offline = try await guide.nearby(city: "varna", at: cathedralSquare, limit: 1)
        XCTAssertEqual(offline.first?.id, "cathedral-assumption")
    }

    func testCancelledUpdateChangesNothingAndTheNextOneResumes() async throws {
        let tmp = try scratchDirectory(self)
        let publisher = try Publisher(in: tmp.appendingPathComponent("publisher"))
        let published = try publisher.publish()
        let server = try Server(site: publisher.site, test: self)
        let guide = try await CityGuide(
            dataDirectory: tmp.appendingPathComponent("phone"), languages: ["bg"], catalogURL: server.catalog,
            trustedKeys: [publisher.publicKey], limits: DownloadLimits(chunkBytes: 16 * 1024))
        try await guide.setConsent(.updates, granted: true)

        // The token is cancelled from the progress callback of the first chunk, before the second is requested.
        let token = CancelToken()
        let listener = CancelOnFirstProgress(token)
        await assertThrowsGuideError(
            try await Task.detached { try guide.ffi.updateCity(cityId: "varna", listener: listener, cancel: token) }.value
        ) { error in
            if case .Cancelled = error { return true }
            return false
        }
        let none = try await guide.installedCities()
        XCTAssertEqual(none.count, 0, "a cancelled install leaves nothing installed")

        // Dropping the stream of an update cancels it too; the guide stays usable.
        for try await state in guide.updateCity("varna") {
            if case .downloading = state { break }
        }

        // The next update continues the partial download instead of starting over.
        let outcome = try await finished(guide.updateCity("varna"))
        XCTAssertEqual(outcome.city.version, published.version)
        XCTAssertLessThan(outcome.downloadedBytes, published.compressed_size, "resumed, not restarted")
        XCTAssertGreaterThan(outcome.downloadedBytes, 0)
    }

    func testHostileServerCannotHurtTheGuide() async throws {
        let tmp = try scratchDirectory(self)
        let site = tmp.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        let server = try Server(site: site, test: self)
        let key = try Publisher.keygen(tmp.appendingPathComponent("k.key"))
        let guide = try await CityGuide(
            dataDirectory: tmp.appendingPathComponent("phone"), languages: ["en"], catalogURL: server.catalog,
            trustedKeys: [key])
        try await guide.setConsent(.updates, granted: true)
        let catalog = site.appendingPathComponent("catalog.json")

        // Endless data: a catalog far over the 1 MiB cap is cut off by the transport.
        try Data(repeating: UInt8(ascii: "{"), count: 3 << 20).write(to: catalog)
        await assertThrowsGuideError(try await guide.checkForUpdates()) { error in
            if case .Network(let reason) = error { return reason.contains("more than") }
            return false
        }
        // Garbage and truncated JSON are refused with a reason, not a crash.
        for junk in [Data("not json".utf8), Data([0xff, 0xfe, 0x00]), Data("{\"signed\": \"".utf8), Data()] {
            try junk.write(to: catalog)
            await assertThrowsGuideError(try await guide.checkForUpdates()) { error in
                if case .CatalogRejected = error { return true }
                if case .UntrustedCatalog = error { return true }
                return false
            }
        }
        // No catalog at all: an HTTP error, named by file and never by URL.
        try FileManager.default.removeItem(at: catalog)
        await assertThrowsGuideError(try await guide.checkForUpdates()) { error in
            if case let .HttpStatus(code, file) = error { return code == 404 && file == "catalog.json" }
            return false
        }
        let cities = try await guide.installedCities()
        XCTAssertEqual(cities.count, 0)
    }

    func testSideLoadedPackProximityAndTourProgress() async throws {
        let tmp = try scratchDirectory(self)
        let pack = tmp.appendingPathComponent("varna.pack")
        try cityguide(["pack", "build", Paths.repo.appendingPathComponent("data/varna").path, "-o", pack.path])
        let guide = try await CityGuide(dataDirectory: tmp.appendingPathComponent("phone"), languages: ["bg"])
        let city = try await guide.installPackFile(at: pack)
        XCTAssertEqual(city.cityId, "varna")

        // Updates need a catalog: this guide was opened without one.
        await assertThrowsGuideError(try await guide.checkForUpdates()) { error in
            if case .UpdatesNotConfigured = error { return true }
            return false
        }

        // Walk to the cathedral and stay: one enter event; walk away: one exit event.
        let cathedral = try await guide.place(city: "varna", id: "cathedral-assumption").summary.position
        let far = Position(lat: cathedral.lat + 0.004, lon: cathedral.lon)
        var fixes: [LocationFix] = []
        for second in 0..<30 {
            fixes.append(LocationFix(position: cathedral, accuracyM: 5, timeMs: Int64(second) * 1000))
        }
        for second in 30..<40 {
            fixes.append(LocationFix(position: far, accuracyM: 5, timeMs: Int64(second) * 1000))
        }
        var events: [ProximityEvent] = []
        for try await event in guide.proximityEvents(city: "varna", fixes: AsyncFixes(fixes)) {
            events.append(event)
        }
        let entered = events.compactMap { event -> String? in
            if case let .enter(place, _, _) = event { return place.id }
            return nil
        }
        let left = events.compactMap { event -> String? in
            if case let .exit(place, _) = event { return place.id }
            return nil
        }
        XCTAssertTrue(entered.contains("cathedral-assumption"), "entered: \(entered)")
        XCTAssertTrue(left.contains("cathedral-assumption"), "left: \(left)")
        XCTAssertEqual(Set(entered), Set(left), "every place entered was left again")

        // Tours: progress at the first stop.
        let tours = try await guide.tours(city: "varna")
        let tour = try XCTUnwrap(tours.first)
        let detail = try await guide.tour(city: "varna", id: tour.id)
        let firstStop = try XCTUnwrap(detail.stops.first)
        let progress = try await guide.tourProgress(
            city: "varna", tour: tour.id, at: firstStop.position, accuracyMetres: 5)
        XCTAssertFalse(progress.offRoute)
        XCTAssertLessThan(progress.fractionDone, 0.5)
        XCTAssertGreaterThan(progress.distanceLeftM, 0)

        // Removing the city keeps the user's favourite, marked as missing its city.
        try await guide.addFavourite(city: "varna", place: "cathedral-assumption")
        try await guide.removeCity("varna")
        let cities = try await guide.installedCities()
        XCTAssertEqual(cities.count, 0)
        let favourites = try await guide.favourites()
        XCTAssertEqual(favourites.map(\.status), [.cityMissing])
    }
}

/// Cancels an update's token at its first progress report, on the downloading thread, so the core stops before the
/// next chunk.
final class CancelOnFirstProgress: ProgressListener, @unchecked Sendable {
    // @unchecked: the token is thread-safe and is the only state.
    private let token: CancelToken

    init(_ token: CancelToken) { self.token = token }

    func onProgress(doneBytes: UInt64, totalBytes: UInt64) { token.cancel() }
}

/// Waits for an update to finish and returns its outcome.
func finished(_ states: AsyncThrowingStream<UpdateState, Error>) async throws -> UpdateOutcome {
    for try await state in states {
        if case let .finished(outcome) = state { return outcome }
    }
    throw CancellationError()
}

/// Location fixes as an async sequence, as Core Location's updates would arrive.
struct AsyncFixes: AsyncSequence, Sendable {
    typealias Element = LocationFix
    let fixes: [LocationFix]
    init(_ fixes: [LocationFix]) { self.fixes = fixes }

    struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ArraySlice<LocationFix>
        mutating func next() async -> LocationFix? { rest.popFirst() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: fixes[...]) }
}

/// Flips one hex digit of the catalog's first signature.
private func tamperSignature(of catalog: URL) throws {
    let data = try Data(contentsOf: catalog)
    var json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    var signatures = try XCTUnwrap(json["signatures"] as? [[String: Any]])
    var sig = try XCTUnwrap(signatures[0]["sig"] as? String)
    let last = sig.removeLast()
    sig.append(last == "0" ? "1" : "0")
    signatures[0]["sig"] = sig
    json["signatures"] = signatures
    try JSONSerialization.data(withJSONObject: json).write(to: catalog)
}

/// Asserts that `expression` throws a `GuideError` for which `matches` is true.
func assertThrowsGuideError<T>(
    _ expression: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
    _ matches: (GuideError) -> Bool
) async {
    do {
        _ = try await expression()
        XCTFail("expected a GuideError", file: file, line: line)
    } catch let error as GuideError {
        XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a GuideError, got \(error)", file: file, line: line)
    }
}
