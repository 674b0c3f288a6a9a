package org.cityguide.guide

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.cityguide.ffi.Bounds
import org.cityguide.ffi.ConsentScope
import org.cityguide.ffi.ConsentSettings
import org.cityguide.ffi.CancelToken
import org.cityguide.ffi.Category
import org.cityguide.ffi.GeofencePlan
import org.cityguide.ffi.Guide
import org.cityguide.ffi.GuideConfig
import org.cityguide.ffi.GuideException
import org.cityguide.ffi.InstalledCity
import org.cityguide.ffi.LanguageChoice
import org.cityguide.ffi.LocationFix
import org.cityguide.ffi.MapMarker
import org.cityguide.ffi.OpeningStatus
import org.cityguide.ffi.PlaceDetail
import org.cityguide.ffi.PlaceFilter
import org.cityguide.ffi.PlaceSummary
import org.cityguide.ffi.Position
import org.cityguide.ffi.ProgressListener
import org.cityguide.ffi.ProximityConfig
import org.cityguide.ffi.ProximityEvent
import org.cityguide.ffi.SavedPlace
import org.cityguide.ffi.TourDetail
import org.cityguide.ffi.TourProgress
import org.cityguide.ffi.TourSummary
import org.cityguide.ffi.Transport
import org.cityguide.ffi.UpdateInfo
import org.cityguide.ffi.UpdateOutcome

/** A step of [CityGuide.updateCity]. */
sealed interface UpdateState {
    /** [doneBytes] of [totalBytes] of the file being downloaded have arrived. */
    data class Downloading(val doneBytes: Long, val totalBytes: Long) : UpdateState {
        /** 0 to 1. */
        val fraction: Double get() = if (totalBytes <= 0) 0.0 else doneBytes.toDouble() / totalBytes
    }

    /** The update is installed (or there was nothing to do). */
    data class Finished(val outcome: UpdateOutcome) : UpdateState
}

/**
 * The city guide for Kotlin: every call of the native [Guide] as a `suspend` function on [Dispatchers.IO] (so the
 * main thread never blocks on the database or a download), update progress and proximity events as [Flow]s, and one
 * [close] that frees the native guide. Failures are [GuideException]s; their message says what went wrong and never
 * contains a position or a URL.
 *
 * ```
 * CityGuide.open(GuideConfig(dataDir = filesDir.path + "/guide", languages = listOf("bg", "en"),
 *                            catalogUrl = CATALOG_URL, trustedKeys = listOf(PUBLISHER_KEY))).use { guide ->
 *     guide.updateCity("varna").collect { state -> ... }
 *     val near = guide.nearby("varna", Position(43.2050, 27.9106), limit = 10)
 * }
 * ```
 */
class CityGuide private constructor(
    /** The generated binding, for calls this layer does not wrap. */
    val native: Guide,
    private val io: CoroutineDispatcher,
) : AutoCloseable {
    companion object {
        /**
         * Opens the guide (creates [GuideConfig.dataDir] if missing). [transport] makes the update downloads;
         * the default uses [HttpUrlConnectionTransport].
         */
        suspend fun open(
            config: GuideConfig,
            transport: Transport? = HttpUrlConnectionTransport(),
            io: CoroutineDispatcher = Dispatchers.IO,
        ): CityGuide = withContext(io) { CityGuide(Guide.open(config, transport), io) }
    }

    private suspend fun <T> onIo(block: Guide.() -> T): T = withContext(io) { native.block() }

    /** The reader's languages, most preferred first. */
    suspend fun languages(): List<String> = onIo { languages() }

    /**
     * Changes the reader's languages: pass the platform's whole list unchanged
     * (`LocaleList.getDefault().toLanguageTags().split(',')`). Never fails because of a tag; the answer says which tags
     * are used and which were skipped, and why.
     */
    suspend fun setLanguages(languages: List<String>): LanguageChoice = onIo { setLanguages(languages) }

    /** What the guide made of the reader's languages given to [open] or [setLanguages]. */
    suspend fun languageChoice(): LanguageChoice = onIo { languageChoice() }

    /** Every installed city. */
    suspend fun installedCities(): List<InstalledCity> = onIo { installedCities() }

    /** Verifies and installs a pack file (side-loading). */
    suspend fun installPackFile(path: String): InstalledCity = onIo { installPackFile(path) }

    /** Verifies and installs pack bytes. */
    suspend fun installPackBytes(bytes: ByteArray): InstalledCity = onIo { installPackBytes(bytes) }

    /** Removes a city; favourites, visits and notes stay. */
    suspend fun removeCity(cityId: String) = onIo { removeCity(cityId) }

    /** The [limit] places nearest to [at], nearest first. */
    suspend fun nearby(cityId: String, at: Position, limit: Int = 20, filter: PlaceFilter? = null): List<PlaceSummary> =
        onIo { nearby(cityId, at, limit.toUInt(), filter) }

    /** Places within [radiusM] metres of [at], nearest first. */
    suspend fun withinRadius(
        cityId: String,
        at: Position,
        radiusM: Double,
        limit: Int = 100,
        filter: PlaceFilter? = null,
    ): List<PlaceSummary> = onIo { withinRadius(cityId, at, radiusM, limit.toUInt(), filter) }

    /** Clustered markers for a map viewport at [zoom]. */
    suspend fun viewport(cityId: String, bounds: Bounds, zoom: Int, filter: PlaceFilter? = null): List<MapMarker> =
        onIo { viewport(cityId, bounds, zoom.coerceIn(0, 30).toUByte(), filter) }

    /** Typeahead search in any script, best first. */
    suspend fun search(cityId: String, text: String, near: Position? = null, limit: Int = 20): List<PlaceSummary> =
        onIo { search(cityId, text, near, limit.toUInt()) }

    /** Everything about a place, opening status at [atUnixSeconds] (null: now). */
    suspend fun place(cityId: String, placeId: String, atUnixSeconds: Long? = null): PlaceDetail =
        onIo { place(cityId, placeId, atUnixSeconds) }

    /** Opening status of a place at [atUnixSeconds] (null: now). */
    suspend fun openingStatus(cityId: String, placeId: String, atUnixSeconds: Long? = null): OpeningStatus =
        onIo { openingStatus(cityId, placeId, atUnixSeconds) }

    /** The city's categories. */
    suspend fun categories(cityId: String): List<Category> = onIo { categories(cityId) }

    /** The city's tours. */
    suspend fun tours(cityId: String): List<TourSummary> = onIo { tours(cityId) }

    /** A tour with stops and path. */
    suspend fun tour(cityId: String, tourId: String): TourDetail = onIo { tour(cityId, tourId) }

    /** Progress of a walker on a tour. */
    suspend fun tourProgress(cityId: String, tourId: String, at: Position, accuracyM: Double, hintM: Double? = null): TourProgress =
        onIo { tourProgress(cityId, tourId, at, accuracyM, hintM) }

    /** Geofences to register with the OS (Android allows 100 per app). */
    suspend fun geofences(cityId: String, at: Position, maxRegions: Int = 100, radiusM: Double = 40.0): GeofencePlan =
        onIo { geofences(cityId, at, maxRegions.toUInt(), radiusM) }

    /** What the user has allowed; everything is off until the user turns it on. */
    suspend fun consent(): ConsentSettings = onIo { consent() }

    /** Grants or withdraws one consent; without [ConsentScope.UPDATES] no update request leaves the phone. */
    suspend fun setConsent(scope: ConsentScope, granted: Boolean): ConsentSettings = onIo { setConsent(scope, granted) }

    /** Adds a favourite. */
    suspend fun addFavourite(cityId: String, placeId: String) = onIo { addFavourite(cityId, placeId) }

    /** Removes a favourite. */
    suspend fun removeFavourite(cityId: String, placeId: String) = onIo { removeFavourite(cityId, placeId) }

    /** Favourites, newest first. */
    suspend fun favourites(): List<SavedPlace> = onIo { favourites() }

    /** Records a visit now. */
    suspend fun markVisited(cityId: String, placeId: String) = onIo { markVisited(cityId, placeId) }

    /** Visits, newest first. */
    suspend fun visits(): List<SavedPlace> = onIo { visits() }

    /** Sets a note (empty text deletes it). */
    suspend fun setNote(cityId: String, placeId: String, text: String) = onIo { setNote(cityId, placeId, text) }

    /** Notes, newest first. */
    suspend fun notes(): List<SavedPlace> = onIo { notes() }

    /** Fetches the signed catalog and says what updating each city would do. */
    suspend fun checkForUpdates(): List<UpdateInfo> = onIo { checkForUpdates() }

    /**
     * Installs or updates [cityId] from the catalog. Emits [UpdateState.Downloading] while bytes arrive and ends with
     * [UpdateState.Finished]; fails with the [GuideException] of the update. Cancelling the collector cancels the
     * download between two chunks, and the installed city stays as it was.
     */
    fun updateCity(cityId: String): Flow<UpdateState> = callbackFlow {
        val token = CancelToken()
        val listener = object : ProgressListener {
            override fun onProgress(doneBytes: ULong, totalBytes: ULong) {
                trySend(UpdateState.Downloading(doneBytes.toLong(), totalBytes.toLong()))
            }
        }
        launch(io) {
            try {
                val outcome = native.updateCity(cityId, listener, token)
                send(UpdateState.Finished(outcome))
                close()
            } catch (e: GuideException) {
                close(e)
            }
        }
        awaitClose { token.cancel() }
    }

    /**
     * Enter and exit events near [cityId]'s places for a stream of position [fixes] (from the platform's location
     * service). The tracker lives as long as the collection.
     */
    fun proximityEvents(cityId: String, fixes: Flow<LocationFix>, config: ProximityConfig? = null): Flow<ProximityEvent> =
        flow {
            native.proximityTracker(cityId, config).use { tracker ->
                fixes.collect { fix -> tracker.update(fix).forEach { emit(it) } }
            }
        }.flowOn(io)

    /** Frees the native guide; calls after this fail. */
    override fun close() = native.close()
}
