// Tours with live progress, saved places, city packs (install, update, remove) and settings.

import Cityguide
import SwiftUI
import UniformTypeIdentifiers

struct ToursView: View {
    @EnvironmentObject private var model: AppModel
    @State private var tours: [TourSummary] = []

    var body: some View {
        List(tours, id: \.id) { tour in
            NavigationLink(value: tour.id) {
                VStack(alignment: .leading) {
                    Text(tour.title.text).font(.headline)
                    Text("\(tour.stopCount) stops · \(tour.distanceM) m · \(tour.durationMin) min")
                        .font(.subheadline).foregroundStyle(.secondary)
                }
            }
        }
        .navigationTitle("Tours")
        .navigationDestination(for: String.self) { TourView(tourId: $0) }
        .task(id: model.cities.count) { tours = await model.attempt { try await $0.tours(city: model.city) } ?? [] }
    }
}

struct TourView: View {
    @EnvironmentObject private var model: AppModel
    let tourId: String
    @State private var tour: TourDetail?
    @State private var progress: TourProgress?

    var body: some View {
        List {
            if let progress {
                Section {
                    ProgressView(value: progress.fractionDone)
                    Text("\(Int(progress.distanceLeftM)) m left")
                    if progress.offRoute {
                        Label("You are off the route", systemImage: "exclamationmark.triangle")
                    } else if let next = progress.distanceToNextStopM {
                        Text("Next stop in \(Int(next)) m")
                    }
                }
            }
            if let tour {
                Section("Stops") {
                    ForEach(Array(tour.stops.enumerated()), id: \.offset) { index, stop in
                        Label(stop.name, systemImage: index == Int(progress?.nextStopIndex ?? 0) ? "location.fill" : "circle")
                    }
                }
            }
        }
        .navigationTitle(tour?.summary.title.text ?? "")
        .task { tour = await model.attempt { try await $0.tour(city: model.city, id: tourId) } }
        .task(id: "\(model.position.lat),\(model.position.lon)") {
            progress = await model.attempt {
                try await $0.tourProgress(
                    city: model.city, tour: tourId, at: model.position, accuracyMetres: model.accuracy,
                    hintMetres: progress?.alongM)
            }
        }
    }
}

struct FavouritesView: View {
    @EnvironmentObject private var model: AppModel
    @State private var saved: [SavedPlace] = []

    var body: some View {
        List(saved, id: \.placeId) { place in
            VStack(alignment: .leading) {
                Text(place.name)
                if place.status != .present {
                    Text(place.status == .cityMissing ? "City not installed" : "No longer in the guide")
                        .font(.caption).foregroundStyle(.secondary)
                }
            }
            .swipeActions {
                Button("Remove", role: .destructive) {
                    Task {
                        _ = await model.attempt { try await $0.removeFavourite(city: place.cityId, place: place.placeId) }
                        await load()
                    }
                }
            }
        }
        .navigationTitle("Saved")
        .task { await load() }
        .refreshable { await load() }
    }

    private func load() async {
        saved = await model.attempt { try await $0.favourites() } ?? []
    }
}

struct CityPacksView: View {
    @EnvironmentObject private var model: AppModel
    @State private var offers: [UpdateInfo] = []
    @State private var progress: [String: Double] = [:]
    @State private var importing = false

    var body: some View {
        List {
            Section("Installed") {
                ForEach(model.cities, id: \.cityId) { city in
                    VStack(alignment: .leading) {
                        Text(city.name.text)
                        Text("version \(city.version) · \(city.placeCount) places · \(ByteCountFormatter.string(fromByteCount: Int64(city.sizeBytes), countStyle: .file))")
                            .font(.caption).foregroundStyle(.secondary)
                    }
                    .swipeActions {
                        Button("Remove", role: .destructive) {
                            Task {
                                _ = await model.attempt { try await $0.removeCity(city.cityId) }
                                await model.refreshCities()
                            }
                        }
                    }
                }
            }
            Section("From the publisher") {
                ForEach(offers.filter(\.updateAvailable), id: \.cityId) { offer in
                    HStack {
                        Text(offer.cityId)
                        Spacer()
                        if let fraction = progress[offer.cityId] {
                            ProgressView(value: fraction).frame(width: 100)
                        } else {
                            Button(offer.installedVersion == nil ? "Install" : "Update") { update(offer.cityId) }
                        }
                    }
                }
            }
        }
        .navigationTitle("City packs")
        .toolbar {
            Button("Check") { Task { offers = await model.attempt { try await $0.checkForUpdates() } ?? [] } }
            Button("Import") { importing = true }
        }
        .fileImporter(isPresented: $importing, allowedContentTypes: [.data]) { result in
            guard case let .success(file) = result else { return }
            Task {
                let access = file.startAccessingSecurityScopedResource()
                defer { if access { file.stopAccessingSecurityScopedResource() } }
                _ = await model.attempt { try await $0.installPackFile(at: file) }
                await model.refreshCities()
            }
        }
    }

    private func update(_ cityId: String) {
        Task {
            progress[cityId] = 0
            defer { progress[cityId] = nil }
            _ = await model.attempt { guide in
                for try await state in guide.updateCity(cityId) {
                    if let fraction = state.fraction { progress[cityId] = fraction }
                }
            }
            await model.refreshCities()
            offers = await model.attempt { try await $0.checkForUpdates() } ?? offers
        }
    }
}

struct SettingsView: View {
    @EnvironmentObject private var model: AppModel
    private let available = ["bg", "en", "de", "ro", "ru", "uk", "tr", "fr"]

    var body: some View {
        List {
            Section("Languages, most preferred first") {
                ForEach(model.languages, id: \.self) { Text(Locale.current.localizedString(forLanguageCode: $0) ?? $0) }
                    .onMove { from, to in
                        var langs = model.languages
                        langs.move(fromOffsets: from, toOffset: to)
                        Task { await model.setLanguages(langs) }
                    }
                    .onDelete { offsets in
                        var langs = model.languages
                        langs.remove(atOffsets: offsets)
                        Task { await model.setLanguages(langs) }
                    }
                Menu("Add a language") {
                    ForEach(available.filter { !model.languages.contains($0) }, id: \.self) { code in
                        Button(Locale.current.localizedString(forLanguageCode: code) ?? code) {
                            Task { await model.setLanguages(model.languages + [code]) }
                        }
                    }
                }
            }
            Section {
                NavigationLink("City packs") { CityPacksView() }
            }
            Section("Privacy") {
                Text("The guide works offline. Your location is used on this phone only and is never sent anywhere.")
                    .font(.footnote)
            }
        }
        .navigationTitle("Settings")
        .toolbar { EditButton() }
    }
}
