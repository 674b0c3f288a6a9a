// The app's state for SwiftUI: it holds the guide and the user's location and forwards every question to the
// library. No logic of the guide lives here.

import Cityguide
import CoreLocation
import Foundation
import SwiftUI

/// Which publisher this build of the app follows. Another city sets `CityguideCatalogURL` and
/// `CityguidePublisherKey` in the app's Info.plist (see docs/integration-ios.md) and ships its own pack. The defaults
/// are the Varna demonstration: a real key whose secret is public (data/keys/README.md), never a placeholder; the core
/// refuses weak keys such as all zeros when the guide opens.
enum GuideSource {
    static let catalogURL = URL(
        string: Bundle.main.object(forInfoDictionaryKey: "CityguideCatalogURL") as? String
            ?? "http://127.0.0.1:8080/catalog.json")!
    static let trustedKeys = [
        Bundle.main.object(forInfoDictionaryKey: "CityguidePublisherKey") as? String
            ?? "ed25519:a22c02eedb3ec798a3013f1a3934148c5d885bc95b02112e0551e9e901f539cd"
    ]
    static let cityId = "varna"
    /// Centre of the city, used until the phone knows where it is.
    static let centre = Position(lat: 43.2047, lon: 27.9105)
}

@MainActor
final class AppModel: NSObject, ObservableObject, CLLocationManagerDelegate {
    @Published private(set) var guide: CityGuide?
    @Published private(set) var cities: [InstalledCity] = []
    @Published private(set) var position: Position = GuideSource.centre
    @Published private(set) var accuracy: Double = 1000
    /// The platform's whole preferred list, unchanged ("fil-PH", "yue-Hant-HK", "zh-Hant-TW"...): the core negotiates
    /// with CLDR's fallback chain and skips (and reports) any tag it cannot use.
    @Published var languages: [String] = Locale.preferredLanguages
    @Published var error: String?

    private let location = CLLocationManager()

    override init() {
        super.init()
        location.delegate = self
    }

    /// Opens the guide in the app's private storage and starts following the user's location.
    func start() async {
        do {
            let dir = try FileManager.default.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
            ).appendingPathComponent("guide")
            let guide = try await CityGuide(
                dataDirectory: dir, languages: languages, catalogURL: GuideSource.catalogURL,
                trustedKeys: GuideSource.trustedKeys)
            self.guide = guide
            cities = try await guide.installedCities()
        } catch {
            self.error = "\(error)"
        }
        location.requestWhenInUseAuthorization()
        location.startUpdatingLocation()
    }

    var city: String { cities.first?.cityId ?? GuideSource.cityId }

    func refreshCities() async {
        guard let guide else { return }
        do { cities = try await guide.installedCities() } catch { self.error = "\(error)" }
    }

    func setLanguages(_ languages: [String]) async {
        self.languages = languages
        do { try await guide?.setLanguages(languages) } catch { self.error = "\(error)" }
    }

    /// Runs a call against the guide and shows its error, if any, instead of crashing.
    func attempt<T>(_ body: (CityGuide) async throws -> T) async -> T? {
        guard let guide else { return nil }
        do {
            return try await body(guide)
        } catch {
            self.error = "\(error)"
            return nil
        }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        guard let last = locations.last else { return }
        let fix = Position(lat: last.coordinate.latitude, lon: last.coordinate.longitude)
        let accuracy = last.horizontalAccuracy
        Task { @MainActor in
            self.position = fix
            self.accuracy = accuracy
        }
    }
}
