//! The `Guide`: the one object an app holds. It owns the store, the installed cities and their in-memory indexes,
//! and answers every question the phone asks, offline.
//!
//! Threading: `Guide` is `Send + Sync`. Each installed city lives in an immutable `Arc<City>` (the memory-mapped
//! pack, its spatial index, parsed opening hours); a query clones the `Arc` under a short read lock and then runs
//! without any lock, so an install that swaps in a new version never blocks a query, and a query never sees half a
//! city. Writes to the database go through the store's single writer.

mod city;
mod proximity;
mod types;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::failpoint;
use crate::geodesy::LatLon;
use crate::pack::{PackError, PackFile, fb};
use crate::query::search;
use crate::store::{Store, StoreError};
use crate::text::lang::{LanguageList, Ranking};
use city::{City, hours_info};

pub use crate::text::lang::{LanguageChoice, SkipReason, SkippedTag};
pub use proximity::{ProximityConfig, ProximitySession};
pub use types::*;

/// Everything the guide needs to start.
#[derive(Debug, Clone)]
pub struct GuideConfig {
    /// Directory for the database and the pack files (the app's private storage).
    pub data_dir: PathBuf,
    /// The reader's languages, most preferred first (BCP 47 tags, as the platform lists them). A tag the guide
    /// cannot use is skipped, never an error: see [`Guide::language_choice`].
    pub languages: Vec<String>,
}

impl GuideConfig {
    /// A configuration for `data_dir` and the reader's languages, most preferred first.
    pub fn new(data_dir: impl Into<PathBuf>, languages: impl IntoIterator<Item = impl Into<String>>) -> GuideConfig {
        GuideConfig { data_dir: data_dir.into(), languages: languages.into_iter().map(Into::into).collect() }
    }
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
    /// The city has no category with this id.
    #[error("city {city_id} has no category {category_id}")]
    UnknownCategory {
        /// City.
        city_id: String,
        /// Category asked for.
        category_id: String,
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
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// Which argument (e.g. "radius", "search text").
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
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

/// The guide.
pub struct Guide {
    store: Store,
    packs_dir: PathBuf,
    cities: RwLock<BTreeMap<String, Arc<City>>>,
    languages: RwLock<ReaderLanguages>,
    /// Held for the whole of an update: two updates at once would write the same partial download.
    updating: std::sync::Mutex<()>,
}

/// The reader's languages: what was made of the list, and the fallback chains worked out once for every query.
struct ReaderLanguages {
    choice: LanguageChoice,
    list: Arc<LanguageList>,
}

impl ReaderLanguages {
    fn new<S: AsRef<str>>(tags: &[S]) -> ReaderLanguages {
        let choice = LanguageChoice::from_tags(tags);
        let list = Arc::new(LanguageList::from_choice(&choice));
        ReaderLanguages { choice, list }
    }
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
    /// interrupted install left behind, and rebuilds the search index if a migration asked for it. The reader's
    /// languages never make it fail: tags it cannot use are skipped and reported by [`Guide::language_choice`].
    pub fn open(config: GuideConfig) -> Result<Guide, GuideError> {
        let store = Store::open(&config.data_dir)?;
        let packs_dir = config.data_dir.join("packs");
        std::fs::create_dir_all(&packs_dir).map_err(io_err(&packs_dir))?;
        let guide = Guide {
            store,
            packs_dir,
            cities: RwLock::new(BTreeMap::new()),
            languages: RwLock::new(ReaderLanguages::new(&config.languages)),
            updating: std::sync::Mutex::new(()),
        };
        guide.reconcile()?;
        Ok(guide)
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

    /// The directory the guide keeps its database (`guide.db`) and pack files (`packs/`) in.
    pub fn data_dir(&self) -> &Path {
        self.store.dir()
    }

    /// Serialises updates: an update that was cancelled or whose caller went away finishes its current chunk before
    /// the next one starts.
    pub(crate) fn update_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.updating.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The store (for the sync and feedback layers).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The reader's languages in use: canonical BCP 47 tags, most preferred first (empty: the pack's default).
    pub fn languages(&self) -> Vec<String> {
        self.languages.read().unwrap_or_else(|e| e.into_inner()).choice.used.clone()
    }

    /// What the guide made of the reader's list (from [`GuideConfig::languages`] or the last
    /// [`Guide::set_languages`]): the tags in use and the ones skipped, with the reason.
    pub fn language_choice(&self) -> LanguageChoice {
        self.languages.read().unwrap_or_else(|e| e.into_inner()).choice.clone()
    }

    /// Changes the reader's languages (most preferred first). Never fails: tags that cannot be used are skipped, and
    /// the returned report says which and why. An empty or fully skipped list means the pack's default language.
    pub fn set_languages(&self, langs: &[String]) -> LanguageChoice {
        let reader = ReaderLanguages::new(langs);
        let choice = reader.choice.clone();
        *self.languages.write().unwrap_or_else(|e| e.into_inner()) = reader;
        choice
    }

    /// The reader's languages with their fallback chains, shared: computed when they were set, not per query.
    pub(crate) fn reader_languages(&self) -> Arc<LanguageList> {
        Arc::clone(&self.languages.read().unwrap_or_else(|e| e.into_inner()).list)
    }

    /// The languages for one query: `over` when given and not empty (read like the guide's own; fully skipped means
    /// the pack's default), else the reader's.
    fn langs(&self, over: Option<&[String]>) -> Arc<LanguageList> {
        match over {
            Some(l) if !l.is_empty() => Arc::new(LanguageList::new(l)),
            _ => self.reader_languages(),
        }
    }

    pub(crate) fn city(&self, city_id: &str) -> Result<Arc<City>, GuideError> {
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
        let langs = city.ranking(&self.reader_languages());
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
    pub fn installed_content(&self, city_id: &str) -> Result<crate::pack::model::Content, GuideError> {
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
        if let Some(r) = q.radius_m {
            check_distance("radius", r)?;
        }
        let city = self.city(city_id)?;
        let langs = city.ranking(&self.langs(langs));
        let pred = city.predicate(&q.filter)?;
        let hits = city.index.nearest(q.at.tuple(), q.limit.min(NearbyQuery::MAX_LIMIT), q.radius_m, pred);
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

    /// Places inside a map viewport, clustered for the zoom level (0-22, Web-Mercator tiles; higher counts as 22):
    /// places close together at this zoom are one marker with a count; most important first.
    pub fn viewport(
        &self,
        city_id: &str,
        viewport: &Viewport,
        zoom: u8,
        filter: &PlaceFilter,
        langs: Option<&[String]>,
    ) -> Result<Vec<MapMarker>, GuideError> {
        let (sw, ne) = (viewport.south_west, viewport.north_east);
        if sw.lat() > ne.lat() {
            return Err(GuideError::InvalidArgument {
                field: "viewport",
                reason: "the south edge must not be north of the north edge".into(),
            });
        }
        let bbox =
            crate::pack::model::BBox { min_lat: sw.lat(), min_lon: sw.lon(), max_lat: ne.lat(), max_lon: ne.lon() };
        let zoom = zoom.min(22);
        let city = self.city(city_id)?;
        let langs = city.ranking(&self.langs(langs));
        let pred = city.predicate(filter)?;
        let pois = city.p().pois().unwrap_or_default();
        let rank = |i: u32| u32::from(pois.get(i as usize).importance());
        let mut markers: Vec<MapMarker> = city
            .index
            .clusters(&bbox, zoom, rank, pred)
            .into_iter()
            .map(|c| MapMarker {
                position: LatLon::from_verified(c.lat, c.lon),
                count: c.count,
                place: city.summary(c.representative, &langs, None),
            })
            .collect();
        markers.sort_by(|a, b| b.place.importance.cmp(&a.place.importance).then(a.place.id.cmp(&b.place.id)));
        Ok(markers)
    }

    /// The longest search text accepted, bytes: a search box, not a document.
    pub const MAX_SEARCH_BYTES: usize = 1_000;

    /// Typeahead search in any script ("Катедрала", "katedrala"), best first; `near` ranks closer places higher and
    /// fills in distances.
    pub fn search(
        &self,
        city_id: &str,
        text: &str,
        near: Option<LatLon>,
        limit: usize,
        langs: Option<&[String]>,
    ) -> Result<Vec<PlaceSummary>, GuideError> {
        if text.len() > Self::MAX_SEARCH_BYTES {
            return Err(GuideError::InvalidArgument {
                field: "search text",
                reason: format!("a search text may have at most {} bytes", Self::MAX_SEARCH_BYTES),
            });
        }
        let limit = limit.min(NearbyQuery::MAX_LIMIT);
        let city = self.city(city_id)?;
        let langs = city.ranking(&self.langs(langs));
        let pois = city.p().pois().unwrap_or_default();
        let found = self.store.read(|c| {
            search::search(
                c,
                city_id,
                text,
                near.map(LatLon::tuple),
                limit,
                |i| city.coord(i).tuple(),
                |i| pois.get(i as usize).importance(),
            )
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
        let langs = city.ranking(&self.langs(langs));
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
            categories: poi.categories().unwrap_or_default().iter().map(|c| city.category_info(c, &langs)).collect(),
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
                        fb::MediaKind::Audio => MediaKind::Audio,
                        fb::MediaKind::Video => MediaKind::Video,
                        _ => MediaKind::Image,
                    },
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
        let langs = city.ranking(&self.langs(langs));
        let count = city.p().categories().map_or(0, |c| c.len());
        Ok((0..count).map(|i| city.category_info(i as u16, &langs)).collect())
    }

    fn tour_summary(city: &City, t: &fb::Tour<'_>, langs: &Ranking) -> TourSummary {
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
        let langs = city.ranking(&self.langs(langs));
        Ok(city.p().tours().unwrap_or_default().iter().map(|t| Self::tour_summary(&city, &t, &langs)).collect())
    }

    /// One tour with stops and path.
    pub fn tour(&self, city_id: &str, tour_id: &str, langs: Option<&[String]>) -> Result<TourDetail, GuideError> {
        let city = self.city(city_id)?;
        let langs = city.ranking(&self.langs(langs));
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
            path: t.path().unwrap_or_default().iter().map(|c| LatLon::from_verified(c.lat(), c.lon())).collect(),
        })
    }

    /// Progress of a walker at `at` (fix accuracy `accuracy_m` metres) on a tour. `hint_m`, the previous
    /// `along_m`, keeps the walker on the right leg where the path crosses itself.
    pub fn tour_progress(
        &self,
        city_id: &str,
        tour_id: &str,
        at: LatLon,
        accuracy_m: f64,
        hint_m: Option<f64>,
    ) -> Result<TourProgress, GuideError> {
        check_distance("accuracy", accuracy_m)?;
        let city = self.city(city_id)?;
        let (i, geometry) = city
            .tours
            .get(tour_id)
            .cloned()
            .ok_or_else(|| GuideError::UnknownTour { city_id: city_id.to_owned(), tour_id: tour_id.to_owned() })?;
        let p = geometry.progress(at.tuple(), accuracy_m, hint_m.filter(|h| h.is_finite()));
        let stops = city.p().tours().unwrap_or_default().get(i as usize).stops().unwrap_or_default();
        let next_stop = p.next_stop.and_then(|k| {
            let poi = city.p().pois().unwrap_or_default().get(stops.get(k) as usize);
            (k < stops.len()).then(|| NextStop { index: k as u32, place_id: poi.id().to_owned() })
        });
        Ok(TourProgress {
            along_m: p.along_m,
            distance_left_m: p.distance_left_m,
            next_stop,
            distance_to_next_stop_m: p.distance_to_next_stop_m,
            off_route_m: p.off_route_m,
            off_route: p.off_route,
            fraction_done: p.fraction_done,
        })
    }

    /// The regions to register as OS geofences from `at`: the nearest places plus one refresh region around the
    /// user (leaving it means: plan again). `max_regions` counts the refresh region (iOS allows 20, Android 100;
    /// at most 1,000); `radius_m` is each place region's radius.
    pub fn geofences(
        &self,
        city_id: &str,
        at: LatLon,
        max_regions: usize,
        radius_m: f64,
    ) -> Result<GeofencePlan, GuideError> {
        check_distance("radius", radius_m)?;
        let city = self.city(city_id)?;
        let max = max_regions.min(1_000);
        let nearest: Vec<(u32, f64)> =
            city.index.nearest(at.tuple(), max, None, |_| true).into_iter().map(|h| (h.index, h.distance_m)).collect();
        let plan = crate::query::proximity::geofences(
            at.tuple(),
            max,
            |_, _| nearest.clone(),
            |i| Some(city.coord(i).tuple()),
            |_| None,
            radius_m,
        );
        let region = |g: crate::query::proximity::Geofence| Geofence {
            place_id: g.place.map(|i| city.p().pois().unwrap_or_default().get(i as usize).id().to_owned()),
            center: LatLon::from_verified(g.lat, g.lon),
            radius_m: g.radius_m,
        };
        Ok(GeofencePlan { regions: plan.regions.into_iter().map(region).collect(), refresh: region(plan.refresh) })
    }

    /// A proximity session for a walk in `city_id`: feed it position fixes, it tells when the walker enters or
    /// leaves a place's surroundings.
    pub fn proximity_session(&self, city_id: &str, config: ProximityConfig) -> Result<ProximitySession, GuideError> {
        let city = self.city(city_id)?;
        Ok(ProximitySession::new(city_id, config, &city))
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
        // Saved names are kept in the pack's default language: an empty ranking picks it.
        Ok(city.summary(i, &Ranking::default(), None).name)
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

    /// The longest note accepted, bytes.
    pub const MAX_NOTE_BYTES: usize = 10_000;

    /// Sets (or with an empty text, deletes) the user's note on a place.
    pub fn set_note(&self, city_id: &str, place_id: &str, text: &str) -> Result<(), GuideError> {
        if text.len() > Self::MAX_NOTE_BYTES {
            return Err(GuideError::InvalidArgument {
                field: "note",
                reason: format!("a note may have at most {} bytes", Self::MAX_NOTE_BYTES),
            });
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
        let reader = self.reader_languages();
        Ok(rows
            .into_iter()
            .map(|(city_id, place_id, name, at, note)| {
                let (status, name) = match self.city(&city_id) {
                    Err(_) => (SavedStatus::CityMissing, name),
                    Ok(city) => match city.poi_by_id.get(&place_id) {
                        Some(&i) => (SavedStatus::Present, city.summary(i, &city.ranking(&reader), None).name),
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
    let city_id = city.city_id().to_owned();
    for table in ["favourites", "visits", "notes"] {
        let ids: Vec<String> = {
            let mut s = tx.prepare(&format!("SELECT DISTINCT place_id FROM {table} WHERE city_id = ?1"))?;
            s.query_map([&city_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?
        };
        for id in ids {
            if let Some(&i) = city.poi_by_id.get(&id) {
                let name = city.summary(i, &Ranking::default(), None).name;
                tx.execute(
                    &format!("UPDATE {table} SET name = ?1 WHERE city_id = ?2 AND place_id = ?3"),
                    params![name, city_id, id],
                )?;
            }
        }
    }
    Ok(())
}

/// A distance argument (radius, accuracy) must be a non-negative number of metres.
fn check_distance(field: &'static str, metres: f64) -> Result<(), GuideError> {
    if metres.is_finite() && metres >= 0.0 {
        Ok(())
    } else {
        Err(GuideError::InvalidArgument { field, reason: "must be a non-negative number of metres".into() })
    }
}
