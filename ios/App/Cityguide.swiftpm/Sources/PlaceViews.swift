// Places: the nearby list and map, search, and a place's detail page.

import Cityguide
import MapKit
import SwiftUI

struct NearbyView: View {
    @EnvironmentObject private var model: AppModel
    @State private var places: [PlaceSummary] = []
    @State private var stepFreeOnly = false
    @State private var showMap = false

    var body: some View {
        Group {
            if showMap {
                Map(
                    coordinateRegion: .constant(
                        MKCoordinateRegion(
                            center: model.position.coordinate, latitudinalMeters: 1500, longitudinalMeters: 1500)),
                    showsUserLocation: true, annotationItems: places
                ) { place in
                    MapAnnotation(coordinate: place.position.coordinate) {
                        NavigationLink(value: place) {
                            Image(systemName: "mappin.circle.fill").font(.title).accessibilityLabel(place.name)
                        }
                    }
                }
            } else {
                List(places) { place in
                    NavigationLink(value: place) { PlaceRow(place: place) }
                }
            }
        }
        .navigationTitle("Nearby")
        .navigationDestination(for: PlaceSummary.self) { PlaceDetailView(place: $0) }
        .toolbar {
            ToolbarItem { Toggle("Step-free", isOn: $stepFreeOnly) }
            ToolbarItem { Button(showMap ? "List" : "Map") { showMap.toggle() } }
        }
        .task(id: "\(model.position.lat),\(model.position.lon),\(stepFreeOnly),\(model.cities.count)") {
            let filter = stepFreeOnly ? PlaceFilter(accessibility: [.stepFree]) : nil
            places = await model.attempt { try await $0.nearby(city: model.city, at: model.position, filter: filter) }
                ?? []
        }
    }
}

struct SearchView: View {
    @EnvironmentObject private var model: AppModel
    @State private var text = ""
    @State private var results: [PlaceSummary] = []

    var body: some View {
        List(results) { place in
            NavigationLink(value: place) { PlaceRow(place: place) }
        }
        .navigationTitle("Search")
        .navigationDestination(for: PlaceSummary.self) { PlaceDetailView(place: $0) }
        .searchable(text: $text, prompt: "Катедрала, katedrala, museum…")
        .task(id: text) {
            guard !text.isEmpty else { results = []; return }
            results = await model.attempt {
                try await $0.search(city: model.city, text, near: model.position)
            } ?? []
        }
    }
}

struct PlaceRow: View {
    let place: PlaceSummary

    var body: some View {
        VStack(alignment: .leading) {
            Text(place.name).font(.headline)
            HStack {
                if let category = place.categoryName?.text { Text(category) }
                if let d = place.distanceM { Text(Measurement(value: d, unit: UnitLength.meters), format: .measurement(width: .abbreviated)) }
                if place.accessibility.stepFree == .yes {
                    Image(systemName: "figure.roll").accessibilityLabel("Step-free")
                }
            }
            .font(.subheadline).foregroundStyle(.secondary)
        }
    }
}

struct PlaceDetailView: View {
    @EnvironmentObject private var model: AppModel
    let place: PlaceSummary
    @State private var detail: PlaceDetail?

    var body: some View {
        List {
            if let detail {
                Section {
                    if let summary = detail.summary.summary?.text { Text(summary) }
                    Label(detail.opening.label, systemImage: detail.opening.state == .open ? "clock.fill" : "clock")
                    if let address = detail.address { Label(address, systemImage: "mappin") }
                }
                if let text = detail.description?.text {
                    Section("History") { Text(text) }
                }
                if let easy = detail.easyRead?.text {
                    Section("Easy read") { Text(easy) }
                }
                Section("Accessibility") {
                    AccessRow(name: "Step-free access", level: detail.summary.accessibility.stepFree)
                    AccessRow(name: "Wheelchair toilet", level: detail.summary.accessibility.wheelchairToilet)
                    AccessRow(name: "Audio description", level: detail.summary.accessibility.audioDescription)
                    AccessRow(name: "Tactile models", level: detail.summary.accessibility.tactileModels)
                    AccessRow(name: "Seating", level: detail.summary.accessibility.seating)
                    AccessRow(name: "Hearing loop", level: detail.summary.accessibility.hearingLoop)
                }
            }
        }
        .navigationTitle(place.name)
        .toolbar {
            Button {
                Task {
                    guard let detail else { return }
                    _ = await model.attempt { guide in
                        if detail.favourite {
                            try await guide.removeFavourite(city: place.cityId, place: place.id)
                        } else {
                            try await guide.addFavourite(city: place.cityId, place: place.id)
                        }
                    }
                    await load()
                }
            } label: {
                Image(systemName: detail?.favourite == true ? "star.fill" : "star")
                    .accessibilityLabel(detail?.favourite == true ? "Remove from saved" : "Save")
            }
        }
        .task { await load() }
    }

    private func load() async {
        detail = await model.attempt { try await $0.place(city: place.cityId, id: place.id) }
    }
}

struct AccessRow: View {
    let name: String
    let level: AccessLevel

    var body: some View {
        LabeledContent(name) {
            switch level {
            case .yes: Text("Yes")
            case .limited: Text("Limited")
            case .no: Text("No")
            case .unknown: Text("Unknown").foregroundStyle(.secondary)
            }
        }
    }
}

extension Position {
    var coordinate: CLLocationCoordinate2D { CLLocationCoordinate2D(latitude: lat, longitude: lon) }
}

extension PlaceSummary: Identifiable {}
