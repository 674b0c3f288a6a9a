package org.cityguide.app

import android.Manifest
import android.annotation.SuppressLint
import android.os.Bundle
import android.os.Looper
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.viewModels
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Tab
import androidx.compose.material3.TabRow
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import com.google.android.gms.location.LocationCallback
import com.google.android.gms.location.LocationRequest
import com.google.android.gms.location.LocationResult
import com.google.android.gms.location.LocationServices
import com.google.android.gms.location.Priority
import org.cityguide.ffi.AccessLevel
import org.cityguide.ffi.OpenState
import org.cityguide.ffi.PlaceDetail
import org.cityguide.ffi.PlaceSummary
import org.cityguide.ffi.Position

/** Draws the library's answers; holds no logic of its own. */
class MainActivity : ComponentActivity() {
    private val model: GuideViewModel by viewModels()

    private val locationCallback = object : LocationCallback() {
        override fun onLocationResult(result: LocationResult) {
            result.lastLocation?.let { model.onLocation(Position(it.latitude, it.longitude)) }
        }
    }

    @SuppressLint("MissingPermission") // Only called once the permission is granted.
    private fun startLocation() {
        val request = LocationRequest.Builder(Priority.PRIORITY_HIGH_ACCURACY, 5_000L).build()
        LocationServices.getFusedLocationProviderClient(this)
            .requestLocationUpdates(request, locationCallback, Looper.getMainLooper())
    }

    private val permission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startLocation()
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        permission.launch(Manifest.permission.ACCESS_FINE_LOCATION)
        setContent { MaterialTheme { GuideApp(model) } }
    }

    override fun onDestroy() {
        LocationServices.getFusedLocationProviderClient(this).removeLocationUpdates(locationCallback)
        super.onDestroy()
    }
}

private val tabs = listOf("Nearby", "Search", "Tours", "Favourites", "Cities", "Settings")

@Composable
fun GuideApp(model: GuideViewModel) {
    val ui by model.ui.collectAsState()
    var tab by remember { mutableIntStateOf(0) }
    Scaffold(topBar = {
        TabRow(selectedTabIndex = tab) {
            tabs.forEachIndexed { i, title -> Tab(selected = tab == i, onClick = { tab = i }, text = { Text(title) }) }
        }
    }) { padding ->
        Column(Modifier.padding(padding).fillMaxSize()) {
            val place = ui.place
            when {
                place != null -> PlaceScreen(place, onFavourite = { model.toggleFavourite(place) }, onBack = model::closePlace)
                tab == 0 -> PlaceList(ui.nearby, model::openPlace)
                tab == 1 -> {
                    OutlinedTextField(
                        value = ui.searchText,
                        onValueChange = model::search,
                        label = { Text("Search (any script)") },
                        modifier = Modifier.fillMaxWidth().padding(8.dp),
                    )
                    PlaceList(ui.searchResults, model::openPlace)
                }
                tab == 2 -> ToursScreen(ui, model)
                tab == 3 -> LazyColumn {
                    items(ui.favourites) { f ->
                        Text(
                            "${f.name} (${f.status.name.lowercase()})",
                            Modifier.fillMaxWidth().clickable { model.openPlace(f.placeId) }.padding(12.dp),
                        )
                    }
                }
                tab == 4 -> CitiesScreen(ui, model)
                else -> SettingsScreen(ui.languages, model::setLanguages)
            }
        }
    }
    ui.message?.let { msg ->
        AlertDialog(
            onDismissRequest = model::dismissMessage,
            confirmButton = { TextButton(onClick = model::dismissMessage) { Text("OK") } },
            text = { Text(msg) },
        )
    }
}

@Composable
fun PlaceList(places: List<PlaceSummary>, onOpen: (String) -> Unit) {
    LazyColumn {
        items(places, key = { it.id }) { p ->
            val distance = p.distanceM?.let { " · ${it.toInt()} m" } ?: ""
            val stepFree = if (p.accessibility.stepFree == AccessLevel.YES) " · step-free" else ""
            Column(Modifier.fillMaxWidth().clickable { onOpen(p.id) }.padding(12.dp)) {
                Text(p.name, style = MaterialTheme.typography.titleMedium)
                Text((p.categoryName?.text ?: p.category) + distance + stepFree, style = MaterialTheme.typography.bodySmall)
            }
        }
    }
}

@Composable
fun PlaceScreen(place: PlaceDetail, onFavourite: () -> Unit, onBack: () -> Unit) {
    Column(Modifier.padding(12.dp).verticalScroll(rememberScrollState())) {
        TextButton(onClick = onBack) { Text("Back") }
        Text(place.summary.name, style = MaterialTheme.typography.headlineSmall)
        val opening = place.opening
        val openText = when (opening.state) {
            OpenState.OPEN -> "Open"
            OpenState.CLOSED -> "Closed"
            OpenState.UNKNOWN -> "Opening hours unknown"
        }
        Text("$openText — ${opening.label}")
        place.address?.let { Text(it) }
        Button(onClick = onFavourite) { Text(if (place.favourite) "Remove favourite" else "Add to favourites") }
        place.description?.let { Text(it.text, Modifier.padding(top = 8.dp)) }
        place.easyRead?.let { Text("Easy read: ${it.text}", Modifier.padding(top = 8.dp)) }
        Text("Accessibility", style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(top = 8.dp))
        val a = place.summary.accessibility
        listOf(
            "Step-free access" to a.stepFree,
            "Wheelchair toilet" to a.wheelchairToilet,
            "Accessible parking" to a.accessibleParking,
            "Audio description" to a.audioDescription,
            "Tactile models" to a.tactileModels,
            "Seating" to a.seating,
            "Hearing loop" to a.hearingLoop,
        ).filter { it.second != AccessLevel.UNKNOWN }.forEach { (label, level) ->
            Text("$label: ${level.name.lowercase()}")
        }
        place.media.forEach { m ->
            // Alt text goes to screen readers; the image loader of the app's choice draws m.uri.
            Text(m.alt?.text ?: m.uri, Modifier.semantics { contentDescription = m.alt?.text ?: "" })
        }
    }
}

@Composable
fun ToursScreen(ui: UiState, model: GuideViewModel) {
    val tour = ui.tour
    if (tour == null) {
        LazyColumn {
            items(ui.tours, key = { it.id }) { t ->
                Column(Modifier.fillMaxWidth().clickable { model.openTour(t.id) }.padding(12.dp)) {
                    Text(t.title.text, style = MaterialTheme.typography.titleMedium)
                    Text("${t.stopCount} stops · ${t.distanceM} m · ${t.durationMin} min")
                }
            }
        }
        return
    }
    Column(Modifier.padding(12.dp)) {
        TextButton(onClick = model::closeTour) { Text("Back") }
        Text(tour.summary.title.text, style = MaterialTheme.typography.headlineSmall)
        ui.tourProgress?.let { p ->
            LinearProgressIndicator(progress = { p.fractionDone.toFloat() }, modifier = Modifier.fillMaxWidth())
            val next = p.nextStopIndex?.let { tour.stops[it.toInt()].name } ?: "tour complete"
            Text("Next: $next" + (p.distanceToNextStopM?.let { " in ${it.toInt()} m" } ?: ""))
            if (p.offRoute) Text("You have left the route (${p.offRouteM.toInt()} m)")
        }
        PlaceList(tour.stops, model::openPlace)
    }
}

@Composable
fun CitiesScreen(ui: UiState, model: GuideViewModel) {
    Column(Modifier.padding(12.dp)) {
        ui.cities.forEach { c ->
            Row {
                Text("${c.name.text} v${c.version} · ${c.placeCount} places", Modifier.weight(1f))
                TextButton(onClick = { model.remove(c.cityId) }) { Text("Remove") }
            }
        }
        Button(onClick = model::checkUpdates) { Text("Check for updates") }
        ui.updates.filter { it.updateAvailable }.forEach { u ->
            Row {
                Text("${u.cityId} v${u.availableVersion} (${u.downloadBytes / 1024u} KiB)", Modifier.weight(1f))
                TextButton(onClick = { model.update(u.cityId) }) { Text(if (u.installedVersion == null) "Install" else "Update") }
            }
        }
        ui.updateFraction?.let {
            LinearProgressIndicator(progress = { it.toFloat() }, modifier = Modifier.fillMaxWidth())
            TextButton(onClick = model::cancelUpdate) { Text("Cancel") }
        }
    }
}

/** Languages only: the consent settings arrive with the core's consent API. */
@Composable
fun SettingsScreen(languages: List<String>, onChange: (List<String>) -> Unit) {
    var text by remember(languages) { mutableStateOf(languages.joinToString(", ")) }
    Column(Modifier.padding(12.dp)) {
        Text("Languages, most preferred first (e.g. bg, en)")
        OutlinedTextField(value = text, onValueChange = { text = it }, modifier = Modifier.fillMaxWidth())
        Button(onClick = { onChange(text.split(',').map { it.trim() }.filter { it.isNotEmpty() }) }) { Text("Save") }
    }
}
