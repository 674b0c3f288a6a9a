package org.cityguide.guide

import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.flow.flowOf
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.cityguide.ffi.CancelToken
import org.cityguide.ffi.ConsentScope
import org.cityguide.ffi.GuideConfig
import org.cityguide.ffi.GuideException
import org.cityguide.ffi.DownloadLimits
import org.cityguide.ffi.KeyProblem
import org.cityguide.ffi.UpdateMethod
import org.cityguide.ffi.UpdateOutcome
import org.cityguide.ffi.LocationFix
import org.cityguide.ffi.OpenState
import org.cityguide.ffi.Position
import org.cityguide.ffi.ProximityConfig
import org.cityguide.ffi.ProximityEvent
import org.cityguide.ffi.SavedStatus
import org.cityguide.ffi.debugPanicForTests
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.assertThrows

/**
 * The Kotlin library against the real native library and a real server: `cityguide publish` writes a signed site
 * for Varna, `cityguide serve` serves it on loopback, and the guide syncs it through [HttpUrlConnectionTransport],
 * answers queries in Bulgarian and Latin script, keeps a favourite across a delta update, and refuses a catalog
 * signed by another key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class GuideEndToEndTest {
    private val repo = File(System.getProperty("cityguide.repo") ?: "../..").canonicalFile
    private val cli = File(System.getProperty("cityguide.cli") ?: "${repo.path}/target/debug/cityguide")
    private val tmp: File = Files.createTempDirectory("cityguide-kotlin").toFile()
    private val source = File(tmp, "src")
    private val site = File(tmp, "site")
    private val key = File(tmp, "publisher.key")
    private lateinit var publicKey: String
    private lateinit var server: Process
    private lateinit var catalogUrl: String
    private lateinit var guide: CityGuide

    private val varnaCentre = Position(43.2050, 27.9106)

    private fun run(vararg args: String): String {
        val p = ProcessBuilder(listOf(cli.path) + args).directory(repo).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "cityguide ${args.joinToString(" ")} did not finish")
        assertEquals(0, p.exitValue(), "cityguide ${args.joinToString(" ")} failed:\n$out")
        return out
    }

    private fun publish(): String =
        run("publish", "--source", source.path, "--site", site.path, "--key", key.path, "--json")

    private fun config(dataDir: String, keys: List<String>) = GuideConfig(
        dataDir = File(tmp, dataDir).path,
        languages = listOf("en"),
        catalogUrl = catalogUrl,
        trustedKeys = keys,
        limits = DownloadLimits(chunkBytes = 16uL * 1024uL),
    )

    @BeforeAll
    fun publishAndServe() {
        assertTrue(cli.canExecute(), "the cityguide binary is missing at $cli (cargo build -p cityguide-cli)")
        File(repo, "data/varna").copyRecursively(source)
        val keygen = run("keygen", "-o", key.path)
        publicKey = keygen.lines().first { it.startsWith("public key for the apps: ") }.removePrefix("public key for the apps: ")
        assertTrue(publicKey.startsWith("ed25519:"), keygen)
        assertTrue(publish().contains("\"new_version\": true"))
        server = ProcessBuilder(cli.path, "serve", site.path, "--addr", "127.0.0.1:0").start()
        val first = BufferedReader(InputStreamReader(server.inputStream)).readLine()
        catalogUrl = first.substringAfterLast(' ') + "catalog.json"
        assertTrue(catalogUrl.startsWith("http://127.0.0.1:"), first)
        guide = runBlocking {
            CityGuide.open(config("phone", listOf(publicKey))).also {
                assertFalse(it.consent().updates, "updates are off until the user allows them")
                it.setConsent(ConsentScope.UPDATES, true)
            }
        }
    }

    @AfterAll
    fun stop() {
        if (::guide.isInitialized) guide.close()
        if (::server.isInitialized) {
            server.destroy()
            server.waitFor(10, TimeUnit.SECONDS)
        }
        tmp.deleteRecursively()
    }

    @Test
    @Order(1)
    fun `sync Varna over HTTP with progress`() = runBlocking {
        val infos = guide.checkForUpdates()
        val varna = infos.single { it.cityId == "varna" }
        assertEquals(null, varna.installedVersion)
        assertTrue(varna.updateAvailable)
        val states = guide.updateCity("varna").toList()
        val progress = states.filterIsInstance<UpdateState.Downloading>()
        assertTrue(progress.size >= 2, "16 KiB chunks give several progress steps, got ${progress.size}")
        assertTrue(progress.zipWithNext().all { (a, b) -> a.doneBytes <= b.doneBytes })
        assertEquals(progress.last().totalBytes, progress.last().doneBytes)
        val finished = states.last() as UpdateState.Finished
        val installed = finished.outcome as UpdateOutcome.Installed
        assertEquals(varna.downloadBytes, installed.downloadedBytes)
        assertEquals("varna", installed.city.cityId)
        assertEquals(listOf("varna"), guide.installedCities().map { it.cityId })
    }

    @Test
    @Order(2)
    fun `nearby, search in Cyrillic and Latin, place detail`() = runBlocking {
        val near = guide.nearby("varna", varnaCentre, limit = 5)
        assertEquals("cathedral-assumption", near.first().id)
        assertTrue(near.first().distanceM!! < 100.0)
        assertTrue(near.zipWithNext().all { (a, b) -> a.distanceM!! <= b.distanceM!! })
        for (query in listOf("Катедрала", "katedrala")) {
            val found = guide.search("varna", query, near = varnaCentre)
            assertEquals("cathedral-assumption", found.first().id, "search for $query")
        }
        // Monday 2026-01-05 09:20 UTC = 11:20 in Varna.
        val detail = guide.place("varna", "cathedral-assumption", atUnixSeconds = 1_767_604_800L)
        assertEquals("Cathedral of the Dormition of the Theotokos", detail.summary.name)
        assertEquals("en", detail.summary.language)
        assertTrue(detail.opening.state == OpenState.OPEN || detail.opening.state == OpenState.CLOSED)
        assertTrue(guide.tours("varna").isNotEmpty())
        val markers = guide.viewport("varna", org.cityguide.ffi.Bounds(43.0, 27.5, 43.5, 28.2), zoom = 2)
        assertEquals(guide.installedCities().single().placeCount.toLong(), markers.sumOf { it.count.toLong() })
    }

    @Test
    @Order(3)
    fun `a favourite survives an update that arrives as a delta`() = runBlocking {
        guide.addFavourite("varna", "cathedral-assumption")
        val en = File(source, "texts/en.csv")
        val text = en.readText()
        assertTrue(text.contains("consecrated in 1886"))
        en.writeText(text.replace("consecrated in 1886", "consecrated in the year 1886"))
        assertTrue(publish().contains("\"new_version\": true"))
        val info = guide.checkForUpdates().single { it.cityId == "varna" }
        assertTrue(info.viaDelta && info.updateAvailable, info.toString())
        val finished = guide.updateCity("varna").toList().last() as UpdateState.Finished
        val updated = finished.outcome as UpdateOutcome.Updated
        assertEquals(UpdateMethod.DELTA, updated.method)
        assertEquals(info.availableVersion, updated.city.version)
        assertEquals(info.installedVersion, updated.fromVersion)
        val detail = guide.place("varna", "cathedral-assumption")
        assertTrue(detail.summary.summary!!.text.contains("consecrated in the year 1886"))
        assertTrue(detail.favourite)
        assertEquals(SavedStatus.PRESENT, guide.favourites().single().status)
    }

    @Test
    @Order(4)
    fun `a catalog signed by another publisher is refused`() = runBlocking {
        val otherKey = File(tmp, "other.key")
        val other = run("keygen", "-o", otherKey.path).lines().first { it.startsWith("public key for the apps: ") }
            .removePrefix("public key for the apps: ")
        CityGuide.open(config("phone-other", listOf(other))).use { stranger ->
            runBlocking { stranger.setConsent(ConsentScope.UPDATES, true) }
            val e = assertThrows<GuideException.UntrustedCatalog> { runBlocking { stranger.updateCity("varna").toList() } }
            assertFalse(e.message.orEmpty().contains("127.0.0.1"))
            assertTrue(stranger.installedCities().isEmpty())
        }
    }

    @Test
    @Order(4)
    fun `a weak placeholder key is refused when the guide is configured`() = runBlocking {
        val zero = "ed25519:" + "0".repeat(64)
        val e = assertThrows<GuideException.InvalidKey> {
            runBlocking { CityGuide.open(config("phone-weak", listOf(publicKey, zero))) }
        }
        assertEquals(1u, e.keyIndex)
        assertEquals(KeyProblem.WEAK, e.problem)
        // The platform's whole list, as Android 14 writes it, opens the guide; unusable tags are reported, not fatal.
        CityGuide.open(config("phone-langs", listOf(publicKey))).use { g ->
            val choice = g.setLanguages(listOf("fil-PH", "en-US-u-mu-celsius-fw-mon", "b+sr+Latn", "zh-Hant-TW", ""))
            assertEquals(listOf("fil-PH", "en-US", "zh-Hant-TW"), choice.used)
            assertEquals(listOf("b+sr+Latn", ""), choice.skipped.map { it.tag })
            assertEquals(choice, g.languageChoice())
        }
        val consent = assertThrows<GuideException.ConsentRequired> {
            runBlocking { CityGuide.open(config("phone-no-consent", listOf(publicKey))).use { it.updateCity("varna").toList() } }
        }
        assertEquals(ConsentScope.UPDATES, consent.scope)
    }

    @Test
    @Order(5)
    fun `proximity events arrive as a flow`() = runBlocking {
        val cathedral = guide.place("varna", "cathedral-assumption").summary.position
        val fixes = flowOf(
            LocationFix(cathedral, 5.0, 1_000L),
            LocationFix(Position(43.25, 27.95), 5.0, 2_000L),
        )
        val events = guide.proximityEvents("varna", fixes, ProximityConfig(minDwellMs = 0L)).toList()
        val enter = events.filterIsInstance<ProximityEvent.Enter>().map { it.place.id }
        val exit = events.filterIsInstance<ProximityEvent.Exit>().map { it.place.id }
        assertTrue("cathedral-assumption" in enter, events.toString())
        assertEquals(enter.toSet(), exit.toSet(), "every place entered is left when the walker goes far away")
    }

    @Test
    @Order(6)
    fun `a cancelled update changes nothing`() = runBlocking {
        CityGuide.open(config("phone-cancel", listOf(publicKey))).use { g ->
            g.setConsent(ConsentScope.UPDATES, true)
            CancelToken().use { token ->
                token.cancel()
                assertThrows<GuideException.Cancelled> { g.native.updateCity("varna", null, token) }
            }
            assertTrue(g.installedCities().isEmpty())
        }
    }

    @Test
    @Order(7)
    fun `errors say what is wrong and a panic is an exception, not a crash`() = runBlocking {
        val e = assertThrows<GuideException.NotInstalled> { runBlocking { guide.tours("sofia") } }
        assertEquals("sofia", e.cityId)
        val bad = assertThrows<GuideException.InvalidArgument> { runBlocking { guide.nearby("varna", Position(95.123456, 27.9106)) } }
        assertEquals("position", bad.field)
        assertFalse(bad.reason.contains("95.123456"), bad.reason)
        assertFalse(bad.message!!.contains("95.123456"), bad.message)
        val panic = assertThrows<GuideException.Internal> { debugPanicForTests() }
        assertTrue(panic.message!!.contains("deliberate panic"), panic.message)
        // The library keeps working after the panic.
        assertEquals("cathedral-assumption", guide.nearby("varna", varnaCentre, limit = 1).single().id)
    }
}
