// Entry point: one tab per thing a visitor does.

import Cityguide
import SwiftUI

@main
struct CityguideApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            TabView {
                NavigationStack { NearbyView() }
                    .tabItem { Label("Nearby", systemImage: "location") }
                NavigationStack { SearchView() }
                    .tabItem { Label("Search", systemImage: "magnifyingglass") }
                NavigationStack { ToursView() }
                    .tabItem { Label("Tours", systemImage: "figure.walk") }
                NavigationStack { FavouritesView() }
                    .tabItem { Label("Saved", systemImage: "star") }
                NavigationStack { SettingsView() }
                    .tabItem { Label("Settings", systemImage: "gear") }
            }
            .environmentObject(model)
            .task { await model.start() }
            .alert(
                "Something went wrong", isPresented: Binding(get: { model.error != nil }, set: { _ in model.error = nil })
            ) {
                Button("OK", role: .cancel) {}
            } message: {
                Text(model.error ?? "")
            }
        }
    }
}
