//! The `Guide`: the one object an app holds. It owns the store, the installed cities and their in-memory indexes,
//! and answers every question the phone asks, offline.
//!
//! Threading: `Guide` is `Send + Sync`. Each installed city lives in an immutable `Arc<City>` (the memory-mapped
//! pack, its spatial index, parsed opening hours); a query clones the `Arc` under a short read lock and then runs
//! without any lock, so an install that swaps in a new version never blocks a query, and a query never sees half a
//! city. Writes to the database go through the store's single writer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::failpoint;
use crate::hours::{HoursContext, OpenStatus, ParsedHours};
use crate::lang;
use crate::model::{Access, AccessibilityRec, BBox, Texts};
use crate::pack::{PackError, PackFile, fb};
use crate::search;
use crate::spatial::SpatialIndex;
use crate::store::{Store, StoreError};
use crate::tour::{TourGeometry, TourProgress};

/// Everything the guide needs to start.
#[derive(Debug, Clone)]
pub struct GuideConfig {
    /// Directory for the database and the pack files (the app's private storage).
    pub data_dir: PathBuf,
    /// The reader's languages, most preferred first (BCP 47 tags).
    pub languages: Vec<String>,
}

/// Why a guide call failed.
#[derive(Debug, thiserror::Error)]
pub enum GuideError {
    /// No pack of this city is installed.
    #[error("city {city_id} is not installed")]
    NotInstalled {
        /// The city asked for.
        city_id: String,
    },
    /// The city has no place with this id.
    #[error("city {city_id} has no place {place_id}")]
    UnknownPlace {
        /// City.
        city_id: String,
        /// Place asked for.
        place_id: String,
    },
    /// The city has no tour with this id.
    #[error("city {city_id} has no tour {tour_id}")]
    UnknownTour {
        /// City.
        city_id: String,
        /// Tour asked for.
        tour_id: String,
    },
    /// The pack was refused.
    #[error(transparent)]
    InvalidPack(#[from] PackError),
    /// The pack is older than the installed one.
    #[error("{city_id} version {offered} is older than the installed version {installed}")]
    Older {
        /// City.
        city_id: String,
        /// Installed version.
        installed: u64,
        /// Version offered.
        offered: u64,
    },
    /// An argument was out of range or empty.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for GuideError {
    fn from(e: rusqlite::Error) -> Self {
        GuideError::Store(StoreError::Sqlite(e))
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> GuideError + '_ {
    move |source| GuideError::Store(StoreError::Io { path: path.display().to_string(), source })
}

/// A text and the language it is in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Localized {
    /// The text.
    pub text: String,
    /// Its language (may differ from the reader's first choice).
    pub lang: String,
}

/// An accessibility feature a filter can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessFeature {
    /// Step-free access.
    StepFree,
    /// Wheelchair-usable toilet.
    WheelchairToilet,
    /// Disabled parking.
    AccessibleParking,
    /// Audio description.
    AudioDescription,
    /// Tactile models.
    TactileModels,
    /// Seating.
    Seating,
    /// Hearing loop.
    HearingLoop,
}

impl AccessFeature {
    fn of(self, a: &AccessibilityRec) -> Access {
        match self {
            AccessFeature::StepFree => a.step_free,
            AccessFeature::WheelchairToilet => a.wheelchair_toilet,
            AccessFeature::AccessibleParking => a.accessible_parking,
            AccessFeature::AudioDescription => a.audio_description,
            AccessFeature::TactileModels => a.tactile_models,
            AccessFeature::Seating => a.seating,
            AccessFeature::HearingLoop => a.hearing_loop,
        }
    }
}

/// Which places a query returns.
#[derive(Debug, Clone, Default)]
pub struct PlaceFilter {
    /// Category ids; a place matches if any of its categories is one of these or below one of them. Empty: all.
    pub categories: Vec<String>,
    /// Features that must be present (`yes`; `limited` and unknown do not count).
    pub accessibility: Vec<AccessFeature>,
    /// Only places known to be open at this instant (unknown hours are left out).
    pub open_at: Option<DateTime<Utc>>,
}

/// A place in a list or on a map.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlaceSummary {
    /// City.
    pub city_id: String,
    /// Stable place id.
    pub id: String,
    /// Name in the best available language.
    pub name: String,
    /// Language of `name`.
    pub lang: String,
    /// One-sentence summary.
    pub summary: Option<Localized>,
    /// Main category id.
    pub category: String,
    /// Main category name.
    pub category_name: Option<Localized>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// 0 to 100.
    pub importance: u8,
    /// Distance from the query position, metres.
    pub distance_m: Option<f64>,
    /// Bearing from the query position, degrees clockwise from north.
    pub bearing_deg: Option<f64>,
    /// Accessibility attributes.
    pub accessibility: AccessibilityRec,
}

/// A marker on the map: one place, or several close together at this zoom.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapMarker {
    /// Position of the marker.
    pub lat: f64,
    /// Position of the marker.
    pub lon: f64,
    /// Places it stands for.
    pub count: u32,
    /// The most important place among them.
    pub place: PlaceSummary,
}

/// Opening status as shown to the reader.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HoursInfo {
    /// The publisher's opening_hours expression.
    pub expression: Option<String>,
    /// `open`, `closed` or `unknown`.
    pub state: String,
    /// When it closes (if open), local time RFC 3339.
    pub closes_at: Option<String>,
    /// When it opens next (if closed), local time RFC 3339.
    pub opens_at: Option<String>,
    /// A short English label, e.g. "open, closes 17:00".
    pub label: String,
}

/// A media item with its alternative text in the reader's language.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaInfo {
    /// URI.
    pub uri: String,
    /// image, audio or video.
    pub kind: String,
    /// Alternative text.
    pub alt: Option<Localized>,
    /// Credit.
    pub credit: Option<String>,
    /// Licence.
    pub licence: Option<String>,
}

/// Everything about one place.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlaceDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: PlaceSummary,
    /// History and culture.
    pub description: Option<Localized>,
    /// Easy-read text.
    pub easy_read: Option<Localized>,
    /// All category ids with names.
    pub categories: Vec<(String, Option<Localized>)>,
    /// Address lines as written locally.
    pub address: Option<String>,
    /// Opening status.
    pub hours: HoursInfo,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Wikidata id.
    pub wikidata: Option<String>,
    /// Media with alt text.
    pub media: Vec<MediaInfo>,
    /// In the user's favourites.
    pub favourite: bool,
    /// The user's note.
    pub note: Option<String>,
    /// How often the user marked it visited.
    pub visits: u32,
}

/// A category of places.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CategoryInfo {
    /// Stable id.
    pub id: String,
    /// Parent category id.
    pub parent: Option<String>,
    /// Name in the best available language.
    pub name: Option<Localized>,
}

/// A tour in a list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TourSummary {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: Localized,
    /// Summary.
    pub summary: Option<Localized>,
    /// Number of stops.
    pub stops: u32,
    /// Length, metres.
    pub distance_m: u32,
    /// Walking time with visits, minutes.
    pub duration_min: u32,
    /// Step-free.
    pub step_free: Access,
}

/// A tour with its stops and path.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TourDetail {
    /// The list fields.
    #[serde(flatten)]
    pub summary: TourSummary,
    /// Description.
    pub description: Option<Localized>,
    /// Easy-read text.
    pub easy_read: Option<Localized>,
    /// Stops in walking order.
    pub stops: Vec<PlaceSummary>,
    /// Path, (lat, lon).
    pub path: Vec<(f64, f64)>,
}

/// An installed city.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InstalledCity {
    /// City id.
    pub city_id: String,
    /// Name in the reader's language.
    pub name: Localized,
    /// Content version.
    pub version: u64,
    /// SHA-256 of the pack, hex.
    pub sha256: String,
    /// Pack size, bytes.
    pub size: u64,
    /// Places.
    pub places: u32,
    /// Languages of the pack.
    pub languages: Vec<String>,
}

/// Where a saved place stands in the current pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SavedStatus {
    /// The place is in the installed pack.
    Present,
    /// A later pack removed the place; the entry is kept with its last known name.
    Removed,
    /// The city is not installed (any more).
    CityMissing,
}

/// A favourite, visit or note with its place's current standing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SavedPlace {
    /// City.
    pub city_id: String,
    /// Place id.
    pub place_id: String,
    /// Current name, or the last known one if removed.
    pub name: String,
    /// Whether the place still exists.
    pub status: SavedStatus,
    /// When it was saved (Unix seconds).
    pub at: i64,
    /// The note text, for notes.
    pub note: Option<String>,
}

/// An installed city in memory: immutable once built.
struct City {
    pack: PackFile,
    index: SpatialIndex,
    hours: HoursContext,
    parsed_hours: Vec<Option<ParsedHours>>,
    /// Per place: its categories and all their ancestors (category indices).
    expanded_categories: Vec<Vec<u16>>,
    poi_by_id: HashMap<String, u32>,
    accessibility: Vec<AccessibilityRec>,
    tours: HashMap<String, (u32, Arc<TourGeometry>)>,
}

impl City {
    fn load(pack: PackFile) -> Result<City, GuideError> {
        let p = pack.pack();
        let coords: Vec<(f64, f64)> = p.coords().unwrap_or_default().iter().map(|c| (c.lat(), c.lon())).collect();
        // The index is the longest step of a start: build it on another core while the tables are read.
        let parts = std::thread::scope(|scope| {
            let index_job = scope.spawn(|| SpatialIndex::build(&coords));
            let meta = p.meta();
            let hours = HoursContext::new(meta.time_zone(), meta.country())
                .map_err(|e| GuideError::InvalidPack(PackError::Invalid(format!("time zone: {e}"))))?;
            let cats = p.categories().unwrap_or_default();
            let pois = p.pois().unwrap_or_default();
            let mut parsed_hours = Vec::with_capacity(pois.len());
            let mut expanded_categories = Vec::with_capacity(pois.len());
            let mut accessibility = Vec::with_capacity(pois.len());
            let mut poi_by_id = HashMap::with_capacity(pois.len());
            // Packs repeat a few expressions across many places: parse each distinct one once.
            let mut parsed_by_expr: HashMap<&str, Option<ParsedHours>> = HashMap::new();
            for (i, poi) in pois.iter().enumerate() {
                parsed_hours.push(
                    poi.opening_hours()
                        .and_then(|e| parsed_by_expr.entry(e).or_insert_with(|| crate::hours::parse(e)).clone()),
                );
                let mut expanded: Vec<u16> = Vec::new();
                for c in poi.categories().unwrap_or_default() {
                    let mut cur = i32::from(c);
                    // The reader guarantees parents are in range and acyclic.
                    while cur >= 0 && !expanded.contains(&(cur as u16)) {
                        expanded.push(cur as u16);
                        cur = cats.get(cur as usize).parent();
                    }
                }
                expanded_categories.push(expanded);
                accessibility.push(crate::pack::accessibility_of(poi.accessibility()));
                poi_by_id.insert(poi.id().to_owned(), i as u32);
            }
            let mut tours = HashMap::new();
            for (i, t) in p.tours().unwrap_or_default().iter().enumerate() {
                let path: Vec<(f64, f64)> = t.path().unwrap_or_default().iter().map(|c| (c.lat(), c.lon())).collect();
                let stops: Vec<(f64, f64)> = t.stops().unwrap_or_default().iter().map(|s| coords[s as usize]).collect();
                tours.insert(t.id().to_owned(), (i as u32, Arc::new(TourGeometry::new(&path, &stops))));
            }
            let index = index_job.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok::<_, GuideError>((index, hours, parsed_hours, expanded_categories, poi_by_id, accessibility, tours))
        })?;
        let (index, hours, parsed_hours, expanded_categories, poi_by_id, accessibility, tours) = parts;
        Ok(City { pack, index, hours, parsed_hours, expanded_categories, poi_by_id, accessibility, tours })
    }

    fn p(&self) -> fb::Pack<'_> {
        self.pack.pack()
    }

    fn city_id(&self) -> &str {
        self.p().meta().city_id()
    }

    fn default_lang(&self) -> &str {
        self.p().meta().default_language()
    }

    fn coord(&self, i: u32) -> (f64, f64) {
        let c = self.p().coords().unwrap_or_default().get(i as usize);
        (c.lat(), c.lon())
    }

    fn status(&self, i: u32, now: DateTime<Utc>) -> OpenStatus {
        match &self.parsed_hours[i as usize] {
            Some(parsed) => self.hours.status_parsed(parsed, now),
            None => self.hours.status(self.p().pois().unwrap_or_default().get(i as usize).opening_hours(), now),
        }
    }

    /// Compiles a filter into a predicate over place indices.
    fn predicate(&self, f: &PlaceFilter) -> Result<impl Fn(u32) -> bool + '_, GuideError> {
        let cats = self.p().categories().unwrap_or_default();
        let mut wanted: HashSet<u16> = HashSet::new();
        for id in &f.categories {
            match cats.iter().position(|c| c.id() == id) {
                Some(pos) => {
                    wanted.insert(pos as u16);
                }
                None => return Err(GuideError::InvalidArgument(format!("unknown category {id}"))),
            }
        }
        let access = f.accessibility.clone();
        let open_at = f.open_at;
        Ok(move |i: u32| {
            (wanted.is_empty() || self.expanded_categories[i as usize].iter().any(|c| wanted.contains(c)))
                && access.iter().all(|a| a.of(&self.accessibility[i as usize]) == Access::Yes)
                && open_at.is_none_or(|now| self.status(i, now).is_open() == Some(true))
        })
    }

    fn texts(v: Option<flatbuffers::Vector<'_, flatbuffers::ForwardsUOffset<fb::LocalizedText<'_>>>>) -> Texts {
        v.map(|v| v.iter().map(|t| (t.lang().to_owned(), t.text().to_owned())).collect()).unwrap_or_default()
    }

    fn resolve(
        &self,
        v: Option<flatbuffers::Vector<'_, flatbuffers::ForwardsUOffset<fb::LocalizedText<'_>>>>,
        langs: &[String],
    ) -> Option<Localized> {
        let texts = Self::texts(v);
        lang::resolve(&texts, langs, self.default_lang())
            .map(|(l, t)| Localized { text: t.to_owned(), lang: l.to_owned() })
    }

    fn category_name(&self, c: u16, langs: &[String]) -> Option<Localized> {
        self.resolve(self.p().categories().unwrap_or_default().get(usize::from(c)).name(), langs)
    }

    fn summary(&self, i: u32, langs: &[String], from: Option<(f64, f64)>) -> PlaceSummary {
        let poi = self.p().pois().unwrap_or_default().get(i as usize);
        let (lat, lon) = self.coord(i);
        let main = poi.categories().and_then(|c| c.iter().next()).unwrap_or(0);
        let cat = self.p().categories().unwrap_or_default().get(usize::from(main));
        let name = self
            .resolve(poi.name(), langs)
            .unwrap_or_else(|| Localized { text: poi.id().to_owned(), lang: String::new() });
        PlaceSummary {
            city_id: self.city_id().to_owned(),
            id: poi.id().to_owned(),
            name: name.text,
            lang: name.lang,
            summary: self.resolve(poi.summary(), langs),
            category: cat.id().to_owned(),
            category_name: self.category_name(main, langs),
            lat,
            lon,
            importance: poi.importance(),
            distance_m: from.map(|at| crate::geodesy::distance_m(at, (lat, lon))),
            bearing_deg: from.map(|at| crate::geodesy::bearing_deg(at, (lat, lon))),
            accessibility: self.accessibility[i as usize],
        }
    }

    fn index_of(&self, place_id: &str) -> Result<u32, GuideError> {
        self.poi_by_id.get(place_id).copied().ok_or_else(|| GuideError::UnknownPlace {
            city_id: self.city_id().to_owned(),
            place_id: place_id.to_owned(),
        })
    }
}

fn hours_info(expr: Option<&str>, status: &OpenStatus, now: DateTime<Utc>) -> HoursInfo {
    let (state, closes_at, opens_at) = match status {
        OpenStatus::Open { closes_at } => ("open", closes_at.map(|t| t.to_rfc3339()), None),
        OpenStatus::Closed { opens_at } => ("closed", None, opens_at.map(|t| t.to_rfc3339())),
        OpenStatus::Unknown { .. } => ("unknown", None, None),
    };
    HoursInfo {
        expression: expr.map(str::to_owned),
        state: state.to_owned(),
        closes_at,
        opens_at,
        label: status.label(now),
    }
}

/// A nearby query.
#[derive(Debug, Clone)]
pub struct NearbyQuery {
    /// The user's position.
    pub at: (f64, f64),
    /// Most results.
    pub limit: usize,
    /// Only places within this distance, metres.
    pub radius_m: Option<f64>,
    /// Which places.
    pub filter: PlaceFilter,
}

/// The guide.
pub struct Guide {
    store: Store,
    packs_dir: PathBuf,
    cities: RwLock<BTreeMap<String, Arc<City>>>,
    languages: RwLock<Vec<String>>,
}

impl std::fmt::Debug for Guide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guide").field("data_dir", &self.store.dir()).finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_secs() -> i64 {
    Utc::now().timestamp()
}

impl Guide {
    /// Opens the guide in `config.data_dir`: migrates the database, loads every installed city, removes files an
    /// interrupted install left behind, and rebuilds the search index if a migration asked for it.
    pub fn open(config: GuideConfig) -> Result<Guide, GuideError> {
        let store = Store::open(&config.data_dir)?;
        let packs_dir = config.data_dir.join("packs");
        std::fs::create_dir_all(&packs_dir).map_err(io_err(&packs_dir))?;
        let guide = Guide {
            store,
            packs_dir,
            cities: RwLock::new(BTreeMap::new()),
            languages: RwLock::new(Self::canonical_languages(&config.languages)?),
        };
        guide.reconcile()?;
        Ok(guide)
    }

    fn canonical_languages(langs: &[String]) -> Result<Vec<String>, GuideError> {
        langs
            .iter()
            .map(|l| {
                lang::canonical_tag(l).ok_or_else(|| GuideError::InvalidArgument(format!("unknown language tag {l:?}")))
            })
            .collect()
    }

    /// Brings memory and disk in line with the database after a start or a crash.
    fn reconcile(&self) -> Result<(), GuideError> {
        let rows: Vec<(String, String, String)> = self.store.read(|c| {
            let mut s = c.prepare("SELECT city_id, file, sha256 FROM installed_packs")?;
            let rows =
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        let mut loaded = BTreeMap::new();
        for (city_id, file, sha) in &rows {
            // Verified completely at install; at start the recorded SHA-256 proves the bytes are the same. A file
            // that changed is left out, and the city can be reinstalled.
            if let Ok(pack) = PackFile::open_installed(&self.packs_dir.join(file), sha, &crate::pack::Limits::default())
            {
                loaded.insert(city_id.clone(), Arc::new(City::load(pack)?));
            }
        }
        let keep: HashSet<&str> = rows.iter().map(|(_, f, _)| f.as_str()).collect();
        if let Ok(entries) = std::fs::read_dir(&self.packs_dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !keep.contains(name.as_str()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        if self.store.setting("search_index_stale")?.as_deref() == Some("1") {
            self.store.write(|tx| -> Result<(), GuideError> {
                for (city_id, city) in &loaded {
                    search::index_city(tx, city_id, &city.p())?;
                }
                tx.execute("UPDATE settings SET value = '0' WHERE key = 'search_index_stale'", [])?;
                Ok(())
            })?;
        }
        *self.cities.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }

    /// The store (for the sync and feedback layers).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The reader's languages.
    pub fn languages(&self) -> Vec<String> {
        self.languages.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the reader's languages (most preferred first).
    pub fn set_languages(&self, langs: &[String]) -> Result<(), GuideError> {
        let langs = Self::canonical_languages(langs)?;
        *self.languages.write().unwrap_or_else(|e| e.into_inner()) = langs;
        Ok(())
    }

    fn langs(&self, over: Option<&[String]>) -> Vec<String> {
        match over {
            Some(l) if !l.is_empty() => l.iter().filter_map(|x| lang::canonical_tag(x)).collect(),
            _ => self.languages(),
        }
    }

    fn city(&self, city_id: &str) -> Result<Arc<City>, GuideError> {
        self.cities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(city_id)
            .cloned()
            .ok_or_else(|| GuideError::NotInstalled { city_id: city_id.to_owned() })
    }

    /// Verifies and installs a pack file (side-loading, no network).
    pub fn install_pack_file(&self, path: &Path) -> Result<InstalledCity, GuideError> {
        let bytes = std::fs::read(path).map_err(|source| PackError::Io { path: path.display().to_string(), source })?;
        self.install_pack_bytes(bytes)
    }

    /// Verifies pack bytes completely and makes them the active pack of their city, atomically: the pack file is
    /// written under a temporary name, synced, renamed and the directory synced; then one database transaction
    /// switches the active version and rebuilds the city's search rows. User data is never touched. A failure at any
    /// step leaves the previous version active.
    pub fn install_pack_bytes(&self, bytes: Vec<u8>) -> Result<InstalledCity, GuideError> {
        let verified = PackFile::from_bytes(bytes)?;
        let meta = verified.meta();
        let city_id = meta.city_id().to_owned();
        let version = meta.version();
        let sha = hex(&Sha256::digest(verified.bytes()));
        let installed: Option<(u64, String)> = self.store.read(|c| {
            c.query_row("SELECT version, sha256 FROM installed_packs WHERE city_id = ?1", [&city_id], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .optional()
        })?;
        if let Some((v, s)) = &installed {
            if *v > version {
                return Err(GuideError::Older { city_id, installed: *v, offered: version });
            }
            // The same bytes are already active: nothing to do (unless the file was found damaged at start).
            if *s == sha && self.city(&city_id).is_ok() {
                return self.installed_city(&city_id);
            }
        }
        let file = format!("{city_id}-{version}-{}.pack", &sha[..16]);
        let final_path = self.packs_dir.join(&file);
        self.write_durably(&final_path, verified.bytes())?;
        drop(verified);
        // The bytes were verified above; the digest proves the file holds exactly them.
        let pack = PackFile::open_installed(&final_path, &sha, &crate::pack::Limits::default())?;
        let city = Arc::new(City::load(pack)?);
        let size = city.pack.bytes().len() as u64;
        let previous: Option<String> = self.store.write(|tx| -> Result<Option<String>, GuideError> {
            let previous: Option<String> = tx
                .query_row("SELECT file FROM installed_packs WHERE city_id = ?1", [&city_id], |r| r.get(0))
                .optional()?;
            tx.execute(
                "INSERT INTO installed_packs (city_id, version, sha256, file, size, installed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (city_id) DO UPDATE SET version = ?2, sha256 = ?3, file = ?4, size = ?5, installed_at = ?6",
                params![city_id, version as i64, sha, file, size as i64, now_secs()],
            )?;
            search::index_city(tx, &city_id, &city.p())?;
            refresh_saved_names(tx, &city)?;
            failpoint::hit(failpoint::BEFORE_COMMIT);
            Ok(previous)
        })?;
        failpoint::hit(failpoint::COMMITTED);
        self.cities.write().unwrap_or_else(|e| e.into_inner()).insert(city_id.clone(), city);
        if let Some(old) = previous.filter(|old| *old != file) {
            let _ = std::fs::remove_file(self.packs_dir.join(old));
            failpoint::hit(failpoint::OLD_REMOVED);
        }
        self.installed_city(&city_id)
    }

    /// Writes `bytes` to `path` via a temporary file, fsync, rename and a directory fsync.
    fn write_durably(&self, path: &Path, bytes: &[u8]) -> Result<(), GuideError> {
        let tmp = self.packs_dir.join(format!(".tmp-{}-{}", std::process::id(), now_secs()));
        let result = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            failpoint::hit(failpoint::TEMP_WRITTEN);
            f.sync_all()?;
            failpoint::hit(failpoint::TEMP_SYNCED);
            std::fs::rename(&tmp, path)?;
            failpoint::hit(failpoint::RENAMED);
            std::fs::File::open(&self.packs_dir)?.sync_all()?;
            failpoint::hit(failpoint::DIR_SYNCED);
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io_err(path))
    }

    /// Removes a city's pack and search rows. The user's favourites, visits and notes for it are kept.
    pub fn remove_city(&self, city_id: &str) -> Result<(), GuideError> {
        let file: Option<String> = self.store.write(|tx| -> Result<Option<String>, GuideError> {
            let file = tx
                .query_row("SELECT file FROM installed_packs WHERE city_id = ?1", [city_id], |r| r.get(0))
                .optional()?;
            tx.execute("DELETE FROM installed_packs WHERE city_id = ?1", [city_id])?;
            search::remove_city(tx, city_id)?;
            Ok(file)
        })?;
        let Some(file) = file else { return Err(GuideError::NotInstalled { city_id: city_id.to_owned() }) };
        self.cities.write().unwrap_or_else(|e| e.into_inner()).remove(city_id);
        let _ = std::fs::remove_file(self.packs_dir.join(file));
        Ok(())
    }

    /// One installed city.
    pub fn installed_city(&self, city_id: &str) -> Result<InstalledCity, GuideError> {
        let city = self.city(city_id)?;
        let langs = self.languages();
        let (sha, size): (String, i64) = self.store.read(|c| {
            c.query_row("SELECT sha256, size FROM installed_packs WHERE city_id = ?1", [city_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })?;
        let m = city.p().meta();
        Ok(InstalledCity {
            city_id: city_id.to_owned(),
            name: city
                .resolve(m.name(), &langs)
                .unwrap_or_else(|| Localized { text: city_id.to_owned(), lang: String::new() }),
            version: m.version(),
            sha256: sha,
            size: size as u64,
            places: city.p().pois().map_or(0, |p| p.len() as u32),
            languages: m.languages().map(|l| l.iter().map(str::to_owned).collect()).unwrap_or_default(),
        })
    }

    /// The logical content of a city's active pack (for applying deltas).
    pub fn installed_content(&self, city_id: &str) -> Result<crate::model::Content, GuideError> {
        Ok(self.city(city_id)?.pack.to_content())
    }

    /// Every installed city, by id.
    pub fn installed(&self) -> Result<Vec<InstalledCity>, GuideError> {
        let ids: Vec<String> = self.cities.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        ids.iter().map(|id| self.installed_city(id)).collect()
    }

    /// Places nearest to a position, nearest first.
    pub fn nearby(
        &self,
        city_id: &str,
        q: &NearbyQuery,
        langs: Option<&[String]>,
    ) -> Result<Vec<PlaceSummary>, GuideError> {
        check_position(q.at)?;
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        let pred = city.predicate(&q.filter)?;
        let hits = city.index.nearest(q.at, q.limit, q.radius_m, pred);
        Ok(hits
            .into_iter()
            .map(|h| {
                let mut s = city.summary(h.index, &langs, None);
                s.distance_m = Some(h.distance_m);
                s.bearing_deg = Some(h.bearing_deg);
                s
            })
            .collect())
    }

    /// Places inside a map viewport, clustered for the zoom level; most important first.
    pub fn viewport(
        &self,
        city_id: &str,
        bbox: &BBox,
        zoom: u8,
        filter: &PlaceFilter,
        langs: Option<&[String]>,
    ) -> Result<Vec<MapMarker>, GuideError> {
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        let pred = city.predicate(filter)?;
        let pois = city.p().pois().unwrap_or_default();
        let rank = |i: u32| u32::from(pois.get(i as usize).importance());
        let mut markers: Vec<MapMarker> = city
            .index
            .clusters(bbox, zoom, rank, pred)
            .into_iter()
            .map(|c| MapMarker {
                lat: c.lat,
                lon: c.lon,
                count: c.count,
                place: city.summary(c.representative, &langs, None),
            })
            .collect();
        markers.sort_by(|a, b| b.place.importance.cmp(&a.place.importance).then(a.place.id.cmp(&b.place.id)));
        Ok(markers)
    }

    /// Typeahead search, best first.
    pub fn search(
        &self,
        city_id: &str,
        text: &str,
        near: Option<(f64, f64)>,
        limit: usize,
        langs: Option<&[String]>,
    ) -> Result<Vec<PlaceSummary>, GuideError> {
        if let Some(at) = near {
            check_position(at)?;
        }
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        let pois = city.p().pois().unwrap_or_default();
        let found = self.store.read(|c| {
            search::search(c, city_id, text, near, limit, |i| city.coord(i), |i| pois.get(i as usize).importance())
        })?;
        Ok(found.into_iter().map(|m| city.summary(m.index, &langs, near)).collect())
    }

    /// Everything about one place, with its opening status at `now`.
    pub fn place(
        &self,
        city_id: &str,
        place_id: &str,
        now: DateTime<Utc>,
        langs: Option<&[String]>,
    ) -> Result<PlaceDetail, GuideError> {
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        let i = city.index_of(place_id)?;
        let poi = city.p().pois().unwrap_or_default().get(i as usize);
        let address = poi.address().map(|a| {
            let street = [a.street(), a.housenumber()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            let town = [a.postcode(), a.locality()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            [street, town].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
        });
        let (favourite, note, visits): (bool, Option<String>, u32) = self.store.read(|c| {
            let fav = c
                .query_row("SELECT 1 FROM favourites WHERE city_id = ?1 AND place_id = ?2", [city_id, place_id], |_| {
                    Ok(())
                })
                .optional()?
                .is_some();
            let note = c
                .query_row("SELECT text FROM notes WHERE city_id = ?1 AND place_id = ?2", [city_id, place_id], |r| {
                    r.get(0)
                })
                .optional()?;
            let visits = c.query_row(
                "SELECT count(*) FROM visits WHERE city_id = ?1 AND place_id = ?2",
                [city_id, place_id],
                |r| r.get(0),
            )?;
            Ok((fav, note, visits))
        })?;
        Ok(PlaceDetail {
            summary: city.summary(i, &langs, None),
            description: city.resolve(poi.description(), &langs),
            easy_read: city.resolve(poi.easy_read(), &langs),
            categories: poi
                .categories()
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    (
                        city.p().categories().unwrap_or_default().get(usize::from(c)).id().to_owned(),
                        city.category_name(c, &langs),
                    )
                })
                .collect(),
            address: address.filter(|a| !a.is_empty()),
            hours: hours_info(poi.opening_hours(), &city.status(i, now), now),
            phone: poi.contact().and_then(|c| c.phone()).map(str::to_owned),
            email: poi.contact().and_then(|c| c.email()).map(str::to_owned),
            website: poi.contact().and_then(|c| c.website()).map(str::to_owned),
            wikidata: poi.wikidata().map(str::to_owned),
            media: poi
                .media()
                .unwrap_or_default()
                .iter()
                .map(|m| MediaInfo {
                    uri: m.uri().to_owned(),
                    kind: match m.kind() {
                        fb::MediaKind::Audio => "audio",
                        fb::MediaKind::Video => "video",
                        _ => "image",
                    }
                    .to_owned(),
                    alt: city.resolve(m.alt(), &langs),
                    credit: m.credit().map(str::to_owned),
                    licence: m.licence().map(str::to_owned),
                })
                .collect(),
            favourite,
            note,
            visits,
        })
    }

    /// Opening status of a place at `now`.
    pub fn opening_status(&self, city_id: &str, place_id: &str, now: DateTime<Utc>) -> Result<HoursInfo, GuideError> {
        let city = self.city(city_id)?;
        let i = city.index_of(place_id)?;
        let poi = city.p().pois().unwrap_or_default().get(i as usize);
        Ok(hours_info(poi.opening_hours(), &city.status(i, now), now))
    }

    /// Category ids with their names, in id order.
    pub fn categories(&self, city_id: &str, langs: Option<&[String]>) -> Result<Vec<CategoryInfo>, GuideError> {
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        let cats = city.p().categories().unwrap_or_default();
        Ok(cats
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let parent = (c.parent() >= 0).then(|| cats.get(c.parent() as usize).id().to_owned());
                CategoryInfo { id: c.id().to_owned(), parent, name: city.category_name(i as u16, &langs) }
            })
            .collect())
    }

    fn tour_summary(city: &City, t: &fb::Tour<'_>, langs: &[String]) -> TourSummary {
        TourSummary {
            id: t.id().to_owned(),
            title: city
                .resolve(t.title(), langs)
                .unwrap_or_else(|| Localized { text: t.id().to_owned(), lang: String::new() }),
            summary: city.resolve(t.summary(), langs),
            stops: t.stops().map_or(0, |s| s.len() as u32),
            distance_m: t.distance_m(),
            duration_min: t.duration_min(),
            step_free: crate::pack::accessibility_of(t.accessibility()).step_free,
        }
    }

    /// The city's tours.
    pub fn tours(&self, city_id: &str, langs: Option<&[String]>) -> Result<Vec<TourSummary>, GuideError> {
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        Ok(city.p().tours().unwrap_or_default().iter().map(|t| Self::tour_summary(&city, &t, &langs)).collect())
    }

    /// One tour with stops and path.
    pub fn tour(&self, city_id: &str, tour_id: &str, langs: Option<&[String]>) -> Result<TourDetail, GuideError> {
        let city = self.city(city_id)?;
        let langs = self.langs(langs);
        let (i, _) = city
            .tours
            .get(tour_id)
            .cloned()
            .ok_or_else(|| GuideError::UnknownTour { city_id: city_id.to_owned(), tour_id: tour_id.to_owned() })?;
        let t = city.p().tours().unwrap_or_default().get(i as usize);
        Ok(TourDetail {
            summary: Self::tour_summary(&city, &t, &langs),
            description: city.resolve(t.description(), &langs),
            easy_read: city.resolve(t.easy_read(), &langs),
            stops: t.stops().unwrap_or_default().iter().map(|s| city.summary(s, &langs, None)).collect(),
            path: t.path().unwrap_or_default().iter().map(|c| (c.lat(), c.lon())).collect(),
        })
    }

    /// Progress of a walker on a tour.
    pub fn tour_progress(
        &self,
        city_id: &str,
        tour_id: &str,
        at: (f64, f64),
        accuracy_m: f64,
        hint_m: Option<f64>,
    ) -> Result<TourProgress, GuideError> {
        check_position(at)?;
        let city = self.city(city_id)?;
        let (_, geometry) = city
            .tours
            .get(tour_id)
            .cloned()
            .ok_or_else(|| GuideError::UnknownTour { city_id: city_id.to_owned(), tour_id: tour_id.to_owned() })?;
        Ok(geometry.progress(at, accuracy_m.max(0.0), hint_m))
    }

    /// Nearby places for a proximity tracker: `(place index, distance)` within `radius_m` of `at`.
    pub fn proximity_candidates(
        &self,
        city_id: &str,
        at: (f64, f64),
        radius_m: f64,
    ) -> Result<Vec<(u32, f64)>, GuideError> {
        let city = self.city(city_id)?;
        Ok(city.index.within_radius(at, radius_m, |_| true).into_iter().map(|h| (h.index, h.distance_m)).collect())
    }

    /// The `k` nearest places as `(index, distance)`, for geofence planning.
    pub fn nearest_indices(&self, city_id: &str, at: (f64, f64), k: usize) -> Result<Vec<(u32, f64)>, GuideError> {
        let city = self.city(city_id)?;
        Ok(city.index.nearest(at, k, None, |_| true).into_iter().map(|h| (h.index, h.distance_m)).collect())
    }

    /// A place summary by index (for proximity events).
    pub fn place_at(&self, city_id: &str, index: u32, langs: Option<&[String]>) -> Result<PlaceSummary, GuideError> {
        let city = self.city(city_id)?;
        if index as usize >= city.poi_by_id.len() {
            return Err(GuideError::InvalidArgument(format!("no place at index {index}")));
        }
        Ok(city.summary(index, &self.langs(langs), None))
    }

    /// Runs `f` on the installed pack of `city_id`, for modules of the core that read pack tables the facade does
    /// not expose (feedback routes, consultations).
    pub(crate) fn with_pack<T>(&self, city_id: &str, f: impl FnOnce(&PackFile) -> T) -> Result<T, GuideError> {
        let city = self.city(city_id)?;
        Ok(f(&city.pack))
    }

    fn place_name(&self, city_id: &str, place_id: &str) -> Result<String, GuideError> {
        let city = self.city(city_id)?;
        let i = city.index_of(place_id)?;
        Ok(city.summary(i, &[city.default_lang().to_owned()], None).name)
    }

    /// Adds a place to the favourites (idempotent).
    pub fn add_favourite(&self, city_id: &str, place_id: &str) -> Result<(), GuideError> {
        let name = self.place_name(city_id, place_id)?;
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO favourites (city_id, place_id, added_at, name) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (city_id, place_id) DO NOTHING",
                params![city_id, place_id, now_secs(), name],
            )
            .map_err(GuideError::from)
        })?;
        Ok(())
    }

    /// Removes a favourite; removing one that is not there is not an error.
    pub fn remove_favourite(&self, city_id: &str, place_id: &str) -> Result<(), GuideError> {
        self.store.write(|tx| {
            tx.execute("DELETE FROM favourites WHERE city_id = ?1 AND place_id = ?2", [city_id, place_id])
                .map_err(GuideError::from)
        })?;
        Ok(())
    }

    /// Records a visit to a place now.
    pub fn mark_visited(&self, city_id: &str, place_id: &str) -> Result<(), GuideError> {
        let name = self.place_name(city_id, place_id)?;
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO visits (city_id, place_id, visited_at, name) VALUES (?1, ?2, ?3, ?4)",
                params![city_id, place_id, now_secs(), name],
            )
            .map_err(GuideError::from)
        })?;
        Ok(())
    }

    /// Sets (or with an empty text, deletes) the user's note on a place.
    pub fn set_note(&self, city_id: &str, place_id: &str, text: &str) -> Result<(), GuideError> {
        if text.len() > 10_000 {
            return Err(GuideError::InvalidArgument("a note may have at most 10000 bytes".into()));
        }
        let name = self.place_name(city_id, place_id)?;
        self.store.write(|tx| {
            if text.trim().is_empty() {
                tx.execute("DELETE FROM notes WHERE city_id = ?1 AND place_id = ?2", [city_id, place_id])?;
            } else {
                tx.execute(
                    "INSERT INTO notes (city_id, place_id, text, updated_at, name) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (city_id, place_id) DO UPDATE SET text = ?3, updated_at = ?4",
                    params![city_id, place_id, text, now_secs(), name],
                )?;
            }
            Ok::<(), GuideError>(())
        })
    }

    fn saved(&self, sql: &str) -> Result<Vec<SavedPlace>, GuideError> {
        let rows: Vec<(String, String, String, i64, Option<String>)> = self.store.read(|c| {
            let mut s = c.prepare(sql)?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        let langs = self.languages();
        Ok(rows
            .into_iter()
            .map(|(city_id, place_id, name, at, note)| {
                let (status, name) = match self.city(&city_id) {
                    Err(_) => (SavedStatus::CityMissing, name),
                    Ok(city) => match city.poi_by_id.get(&place_id) {
                        Some(&i) => (SavedStatus::Present, city.summary(i, &langs, None).name),
                        None => (SavedStatus::Removed, name),
                    },
                };
                SavedPlace { city_id, place_id, name, status, at, note }
            })
            .collect())
    }

    /// Favourites, newest first, including places a later pack removed (marked as such).
    pub fn favourites(&self) -> Result<Vec<SavedPlace>, GuideError> {
        self.saved("SELECT city_id, place_id, name, added_at, NULL FROM favourites ORDER BY added_at DESC, rowid DESC")
    }

    /// Visits, newest first.
    pub fn visits(&self) -> Result<Vec<SavedPlace>, GuideError> {
        self.saved("SELECT city_id, place_id, name, visited_at, NULL FROM visits ORDER BY visited_at DESC, rowid DESC")
    }

    /// Notes, newest first.
    pub fn notes(&self) -> Result<Vec<SavedPlace>, GuideError> {
        self.saved("SELECT city_id, place_id, name, updated_at, text FROM notes ORDER BY updated_at DESC, rowid DESC")
    }
}

/// Keeps the last known names of saved places current, so a place removed later is listed under its last name.
fn refresh_saved_names(tx: &rusqlite::Transaction<'_>, city: &City) -> rusqlite::Result<()> {
    let dl = city.default_lang().to_owned();
    let city_id = city.city_id().to_owned();
    for table in ["favourites", "visits", "notes"] {
        let ids: Vec<String> = {
            let mut s = tx.prepare(&format!("SELECT DISTINCT place_id FROM {table} WHERE city_id = ?1"))?;
            s.query_map([&city_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?
        };
        for id in ids {
            if let Some(&i) = city.poi_by_id.get(&id) {
                let name = city.summary(i, std::slice::from_ref(&dl), None).name;
                tx.execute(
                    &format!("UPDATE {table} SET name = ?1 WHERE city_id = ?2 AND place_id = ?3"),
                    params![name, city_id, id],
                )?;
            }
        }
    }
    Ok(())
}

fn check_position(at: (f64, f64)) -> Result<(), GuideError> {
    if at.0.is_finite() && at.1.is_finite() && (-90.0..=90.0).contains(&at.0) && (-180.0..=180.0).contains(&at.1) {
        Ok(())
    } else {
        Err(GuideError::InvalidArgument("position must be a latitude in -90..90 and a longitude in -180..180".into()))
    }
}
