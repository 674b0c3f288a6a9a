// The Swift face of the guide: `async` calls that run the blocking core off the caller's thread, `AsyncStream`s for
// update progress and proximity events, and the generated records re-exported as plain Swift values.
//
// Why a layer at all: the generated bindings are synchronous (the core does file and network I/O and must not run on
// the main thread or block Swift's cooperative thread pool), and callbacks (progress listener, cancel token) read
// better as streams and task cancellation. Everything else is passed through unchanged, so the core's documentation
// applies word for word. The calls have the same names as the Kotlin library's (`CityGuide.kt`), with Swift's
// argument labels.

@_exported import CityguideFFI
import Foundation

/// One guide: the installed cities, queries, the user's saved places and updates from one publisher's catalog.
///
/// Safe to share between tasks and threads. Every method runs the core on a background queue, so calling from the
/// main actor never blocks the UI.
public final class CityGuide: Sendable {
    /// The generated object, for calls this layer does not wrap.
    public let ffi: Guide

    /// Opens (or creates) the guide stored in `dataDirectory`.
    ///
    /// - Parameters:
    ///   - dataDirectory: the app's private directory for the database and pack files (created if missing).
    ///   - languages: the reader's languages, most preferred first ("bg", "en-GB", ...).
    ///   - catalogURL: the publisher's signed `catalog.json`; `nil` for a guide that only installs packs it is given.
    ///   - trustedKeys: the publisher's public keys as printed by `cityguide keygen` ("ed25519:…").
    ///   - limits: download size limits; `nil` for the phone defaults.
    ///   - transport: makes the HTTP requests of updates; by default a ``URLSessionTransport``.
    public init(
        dataDirectory: URL,
        languages: [String],
        catalogURL: URL? = nil,
        trustedKeys: [String] = [],
        limits: DownloadLimits? = nil,
        transport: Transport = URLSessionTransport()
    ) async throws {
        let config = GuideConfig(
            dataDir: dataDirectory.path,
            languages: languages,
            catalogUrl: catalogURL?.absoluteString,
            trustedKeys: trustedKeys,
            limits: limits
        )
        ffi = try await background { try Guide.open(config: config, transport: transport) }
    }

    /// Wraps an already opened generated guide.
    public init(_ guide: Guide) {
        ffi = guide
    }

    // MARK: Settings

    /// The reader's languages, most preferred first.
    public func languages() async throws -> [String] {
        try await background { try self.ffi.languages() }
    }

    /// Changes the reader's languages: pass `Locale.preferredLanguages` unchanged. Never fails because of a tag; the
    /// answer says which tags are used and which were skipped, and why. Texts fall back through CLDR's chain, then
    /// each pack's default language.
    @discardableResult
    public func setLanguages(_ languages: [String]) async throws -> LanguageChoice {
        try await background { try self.ffi.setLanguages(languages: languages) }
    }

    /// What the guide made of the reader's languages given when it opened or to ``setLanguages(_:)``.
    public func languageChoice() async throws -> LanguageChoice {
        try await background { try self.ffi.languageChoice() }
    }

    // MARK: City packs

    /// Every installed city.
    public func installedCities() async throws -> [InstalledCity] {
        try await background { try self.ffi.installedCities() }
    }

    /// Installs (or replaces) a city from a pack file on disk, for example one bundled with the app.
    public func installPackFile(at file: URL) async throws -> InstalledCity {
        try await background { try self.ffi.installPackFile(path: file.path) }
    }

    /// Installs (or replaces) a city from pack bytes.
    public func installPackBytes(_ bytes: Data) async throws -> InstalledCity {
        try await background { try self.ffi.installPackBytes(bytes: bytes) }
    }

    /// Removes a city and its pack; the user's saved places stay (they show as "city missing").
    public func removeCity(_ cityId: String) async throws {
        try await background { try self.ffi.removeCity(cityId: cityId) }
    }

    /// Fetches the signed catalog and tells what updating each city would do.
    public func checkForUpdates() async throws -> [UpdateInfo] {
        try await background { try self.ffi.checkForUpdates() }
    }

    /// Installs or updates one city from the catalog, reporting progress as it downloads.
    ///
    /// The stream yields ``UpdateState/downloading(doneBytes:totalBytes:)`` while bytes arrive and ends with
    /// ``UpdateState/finished(_:)``, or throws a ``GuideError``. Cancelling the consuming task (or dropping the
    /// stream) cancels the update between two chunks; the installed city is then unchanged and a later update resumes
    /// the partial download.
    public func updateCity(_ cityId: String) -> AsyncThrowingStream<UpdateState, Error> {
        AsyncThrowingStream(bufferingPolicy: .bufferingNewest(64)) { continuation in
            let cancel = CancelToken()
            let listener = StreamProgressListener(continuation)
            continuation.onTermination = { _ in cancel.cancel() }
            blockingQueue.async {
                do {
                    let outcome = try self.ffi.updateCity(cityId: cityId, listener: listener, cancel: cancel)
                    continuation.yield(.finished(outcome))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    // MARK: Queries

    /// The `limit` places nearest to `position`, nearest first, optionally filtered.
    public func nearby(
        city cityId: String, at position: Position, limit: UInt32 = 20, filter: PlaceFilter? = nil
    ) async throws -> [PlaceSummary] {
        try await background { try self.ffi.nearby(cityId: cityId, at: position, limit: limit, filter: filter) }
    }

    /// Places within `radiusMetres` of `position`, nearest first.
    public func withinRadius(
        city cityId: String, at position: Position, radiusMetres: Double, limit: UInt32 = 100,
        filter: PlaceFilter? = nil
    ) async throws -> [PlaceSummary] {
        try await background {
            try self.ffi.withinRadius(cityId: cityId, at: position, radiusM: radiusMetres, limit: limit, filter: filter)
        }
    }

    /// Map markers for a viewport at a zoom level, clustered so the map stays readable.
    public func viewport(
        city cityId: String, bounds: Bounds, zoom: UInt8, filter: PlaceFilter? = nil
    ) async throws -> [MapMarker] {
        try await background { try self.ffi.viewport(cityId: cityId, bounds: bounds, zoom: zoom, filter: filter) }
    }

    /// Typeahead search in any script ("Катедрала", "katedrala"), ranked by match, importance and distance.
    public func search(
        city cityId: String, _ text: String, near position: Position? = nil, limit: UInt32 = 20
    ) async throws -> [PlaceSummary] {
        try await background { try self.ffi.search(cityId: cityId, text: text, near: position, limit: limit) }
    }

    /// Everything about one place, with its opening status at `date` (now by default).
    public func place(city cityId: String, id placeId: String, at date: Date? = nil) async throws -> PlaceDetail {
        try await background { try self.ffi.place(cityId: cityId, placeId: placeId, at: date.map(unixSeconds)) }
    }

    /// Whether a place is open at `date` (now by default), in the city's time zone and with its holidays.
    public func openingStatus(city cityId: String, id placeId: String, at date: Date? = nil) async throws
        -> OpeningStatus
    {
        try await background {
            try self.ffi.openingStatus(cityId: cityId, placeId: placeId, at: date.map(unixSeconds))
        }
    }

    /// The city's categories, for filters.
    public func categories(city cityId: String) async throws -> [Category] {
        try await background { try self.ffi.categories(cityId: cityId) }
    }

    // MARK: Tours

    /// The city's walking tours.
    public func tours(city cityId: String) async throws -> [TourSummary] {
        try await background { try self.ffi.tours(cityId: cityId) }
    }

    /// One tour with its stops and path.
    public func tour(city cityId: String, id tourId: String) async throws -> TourDetail {
        try await background { try self.ffi.tour(cityId: cityId, tourId: tourId) }
    }

    /// Where the walker is on a tour: next stop, distance left, off route.
    public func tourProgress(
        city cityId: String, tour tourId: String, at position: Position, accuracyMetres: Double,
        hintMetres: Double? = nil
    ) async throws -> TourProgress {
        try await background {
            try self.ffi.tourProgress(
                cityId: cityId, tourId: tourId, at: position, accuracyM: accuracyMetres, hintM: hintMetres)
        }
    }

    // MARK: Proximity

    /// Turns a sequence of location fixes into enter and exit events near the city's places.
    ///
    /// Feed it the fixes from Core Location (or a recorded track); the stream ends when `fixes` ends and throws if
    /// the core reports an error. Cancelling the consuming task stops reading `fixes`.
    public func proximityEvents<Fixes: AsyncSequence & Sendable>(
        city cityId: String, fixes: Fixes, config: ProximityConfig? = nil
    ) -> AsyncThrowingStream<ProximityEvent, Error> where Fixes.Element == LocationFix {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let tracker = try await background { try self.ffi.proximityTracker(cityId: cityId, config: config) }
                    for try await fix in fixes {
                        try Task.checkCancellation()
                        for event in try await background({ try tracker.update(fix: fix) }) {
                            continuation.yield(event)
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The regions to register with Core Location now (iOS watches at most 20): the nearest places and a refresh
    /// region whose exit means "plan again".
    public func geofences(
        city cityId: String, around position: Position, maxRegions: UInt32 = 20, radiusMetres: Double = 40
    ) async throws -> GeofencePlan {
        try await background {
            try self.ffi.geofences(cityId: cityId, at: position, maxRegions: maxRegions, radiusM: radiusMetres)
        }
    }

    // MARK: The user's places

    /// What the user has allowed; everything is off until the user turns it on.
    public func consent() async throws -> ConsentSettings {
        try await background { try self.ffi.consent() }
    }

    /// Grants or withdraws one consent; without `.updates` no update request leaves the phone.
    @discardableResult
    public func setConsent(_ scope: ConsentScope, granted: Bool) async throws -> ConsentSettings {
        try await background { try self.ffi.setConsent(scope: scope, granted: granted) }
    }

    /// Saves a place as a favourite.
    public func addFavourite(city cityId: String, place placeId: String) async throws {
        try await background { try self.ffi.addFavourite(cityId: cityId, placeId: placeId) }
    }

    /// Removes a favourite.
    public func removeFavourite(city cityId: String, place placeId: String) async throws {
        try await background { try self.ffi.removeFavourite(cityId: cityId, placeId: placeId) }
    }

    /// All favourites, newest first; they survive updates and removal of their city.
    public func favourites() async throws -> [SavedPlace] {
        try await background { try self.ffi.favourites() }
    }

    /// Records a visit.
    public func markVisited(city cityId: String, place placeId: String) async throws {
        try await background { try self.ffi.markVisited(cityId: cityId, placeId: placeId) }
    }

    /// Places visited.
    public func visits() async throws -> [SavedPlace] {
        try await background { try self.ffi.visits() }
    }

    /// Sets (or, with an empty text, clears) the user's note on a place.
    public func setNote(city cityId: String, place placeId: String, _ text: String) async throws {
        try await background { try self.ffi.setNote(cityId: cityId, placeId: placeId, text: text) }
    }

    /// All notes.
    public func notes() async throws -> [SavedPlace] {
        try await background { try self.ffi.notes() }
    }
}

/// A step of ``CityGuide/updateCity(_:)``.
public enum UpdateState: Sendable, Equatable {
    /// `doneBytes` of `totalBytes` of the file being downloaded have arrived.
    case downloading(doneBytes: UInt64, totalBytes: UInt64)
    /// The update is installed (or there was nothing to do).
    case finished(UpdateOutcome)
}

extension UpdateState {
    /// The download as a fraction 0...1 for a progress bar, or `nil` for the final state.
    public var fraction: Double? {
        guard case let .downloading(done, total) = self else { return nil }
        return total == 0 ? 0 : min(Double(done) / Double(total), 1)
    }
}

extension UpdateOutcome {
    /// The city as installed after the update.
    public var city: InstalledCity {
        switch self {
        case let .upToDate(city), let .installed(city, _), let .updated(city, _, _, _): return city
        }
    }

    /// Bytes downloaded (0 when it was up to date).
    public var downloadedBytes: UInt64 {
        switch self {
        case .upToDate: return 0
        case let .installed(_, bytes), let .updated(_, _, _, bytes): return bytes
        }
    }
}

private final class StreamProgressListener: ProgressListener, @unchecked Sendable {
    // @unchecked: the continuation is itself thread-safe and is the only state.
    let continuation: AsyncThrowingStream<UpdateState, Error>.Continuation

    init(_ continuation: AsyncThrowingStream<UpdateState, Error>.Continuation) {
        self.continuation = continuation
    }

    func onProgress(doneBytes: UInt64, totalBytes: UInt64) {
        continuation.yield(.downloading(doneBytes: doneBytes, totalBytes: totalBytes))
    }
}

/// Blocking core calls run here, never on the cooperative pool the async runtime keeps small.
let blockingQueue = DispatchQueue(label: "cityguide.core", qos: .userInitiated, attributes: .concurrent)

/// Runs a blocking call on ``blockingQueue`` and resumes the caller with its result.
func background<T>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
        blockingQueue.async {
            continuation.resume(with: Result { try body() })
        }
    }
}

private func unixSeconds(_ date: Date) -> Int64 {
    Int64(date.timeIntervalSince1970.rounded(.down))
}
