package org.cityguide.app

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import org.cityguide.ffi.GuideConfig
import org.cityguide.ffi.GuideException
import org.cityguide.ffi.InstalledCity
import org.cityguide.ffi.PlaceDetail
import org.cityguide.ffi.PlaceSummary
import org.cityguide.ffi.Position
import org.cityguide.ffi.SavedPlace
import org.cityguide.ffi.TourDetail
import org.cityguide.ffi.TourProgress
import org.cityguide.ffi.TourSummary
import org.cityguide.ffi.UpdateInfo
import org.cityguide.guide.CityGuide
import org.cityguide.guide.UpdateState

/** What the screens draw. Every value comes from the library; this class only forwards calls and keeps results. */
data class UiState(
    val cityId: String = "varna",
    val position: Position = Position(43.2050, 27.9106),
    val nearby: List<PlaceSummary> = emptyList(),
    val searchText: String = "",
    val searchResults: List<PlaceSummary> = emptyList(),
    val place: PlaceDetail? = null,
    val tours: List<TourSummary> = emptyList(),
    val tour: TourDetail? = null,
    val tourProgress: TourProgress? = null,
    val favourites: List<SavedPlace> = emptyList(),
    val cities: List<InstalledCity> = emptyList(),
    val updates: List<UpdateInfo> = emptyList(),
    val updateFraction: Double? = null,
    val languages: List<String> = listOf("en"),
    val message: String? = null,
)

class GuideViewModel(app: Application) : AndroidViewModel(app) {
    private val state = MutableStateFlow(UiState())
    val ui: StateFlow<UiState> = state
    private var guide: CityGuide? = null
    private var updateJob: Job? = null

    init {
        launchCatching {
            val g = CityGuide.open(
                GuideConfig(
                    dataDir = app.filesDir.resolve("guide").path,
                    // The platform's whole preferred list, unchanged: the core negotiates with CLDR's fallback chain and
                    // skips (and reports) any tag it cannot use.
                    languages = android.os.LocaleList.getDefault().toLanguageTags().split(','),
                    catalogUrl = BuildConfig.CATALOG_URL,
                    trustedKeys = listOf(BuildConfig.PUBLISHER_KEY),
                ),
            )
            guide = g
            state.value = state.value.copy(languages = g.languages())
            refresh()
        }
    }

    private fun launchCatching(block: suspend () -> Unit) = viewModelScope.launch {
        try {
            block()
        } catch (e: GuideException) {
            // The library's messages are written for people and never contain a position or a URL.
            state.value = state.value.copy(message = e.message)
        }
    }

    private suspend fun refresh() {
        val g = guide ?: return
        val s = state.value
        val cities = g.installedCities()
        val installed = cities.any { it.cityId == s.cityId }
        state.value = s.copy(
            cities = cities,
            favourites = g.favourites(),
            nearby = if (installed) g.nearby(s.cityId, s.position, limit = 30) else emptyList(),
            tours = if (installed) g.tours(s.cityId) else emptyList(),
        )
    }

    fun dismissMessage() { state.value = state.value.copy(message = null) }

    fun onLocation(position: Position) = launchCatching {
        state.value = state.value.copy(position = position)
        refresh()
        state.value.tour?.let { t -> trackTour(t.summary.id, position) }
    }

    fun search(text: String) = launchCatching {
        state.value = state.value.copy(searchText = text)
        val g = guide ?: return@launchCatching
        val results = if (text.isBlank()) emptyList() else g.search(state.value.cityId, text, near = state.value.position)
        state.value = state.value.copy(searchResults = results)
    }

    fun openPlace(placeId: String) = launchCatching {
        val g = guide ?: return@launchCatching
        state.value = state.value.copy(place = g.place(state.value.cityId, placeId))
    }

    fun closePlace() { state.value = state.value.copy(place = null) }

    fun toggleFavourite(place: PlaceDetail) = launchCatching {
        val g = guide ?: return@launchCatching
        val id = place.summary.id
        if (place.favourite) g.removeFavourite(place.summary.cityId, id) else g.addFavourite(place.summary.cityId, id)
        openPlace(id)
        refresh()
    }

    fun openTour(tourId: String) = launchCatching {
        val g = guide ?: return@launchCatching
        state.value = state.value.copy(tour = g.tour(state.value.cityId, tourId))
        trackTour(tourId, state.value.position)
    }

    private suspend fun trackTour(tourId: String, at: Position) {
        val g = guide ?: return
        val hint = state.value.tourProgress?.alongM
        state.value = state.value.copy(tourProgress = g.tourProgress(state.value.cityId, tourId, at, 10.0, hint))
    }

    fun closeTour() { state.value = state.value.copy(tour = null, tourProgress = null) }

    fun checkUpdates() = launchCatching {
        val g = guide ?: return@launchCatching
        state.value = state.value.copy(updates = g.checkForUpdates())
    }

    fun update(cityId: String) {
        updateJob = launchCatching {
            val g = guide ?: return@launchCatching
            g.updateCity(cityId).collect { s ->
                when (s) {
                    is UpdateState.Downloading -> state.value = state.value.copy(updateFraction = s.fraction)
                    is UpdateState.Finished -> state.value = state.value.copy(updateFraction = null)
                }
            }
            state.value = state.value.copy(updates = g.checkForUpdates())
            refresh()
        }
    }

    /** Cancelling the collection cancels the download; the installed city stays as it was. */
    fun cancelUpdate() {
        updateJob?.cancel()
        state.value = state.value.copy(updateFraction = null)
    }

    fun remove(cityId: String) = launchCatching {
        guide?.removeCity(cityId)
        refresh()
    }

    fun setLanguages(languages: List<String>) = launchCatching {
        val g = guide ?: return@launchCatching
        g.setLanguages(languages)
        state.value = state.value.copy(languages = g.languages())
        refresh()
    }

    override fun onCleared() {
        guide?.close()
    }
}
