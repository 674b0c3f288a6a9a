// The app's state for SwiftUI: it holds the guide and the user's location and forwards every question to the
// library. No logic of the guide lives here.

import Cityguide
import CoreLocation
import Foundation
import SwiftUI

/// Which publisher this build of the app follows. Another city changes these two values (see
/// docs/integration-ios.md) and ships its own pack.
enum GuideSource {
    static let catalogURL = URL(string: "https://guide.example.org/varna/catalog.json")!
    static let trustedKeys = ["ed25519:0000000000000000000000000000000000000000000000000000000000000000"]
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
    @Published var languages: [String] = Locale.preferredLanguages.map { String($0.prefix(2)) }
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
