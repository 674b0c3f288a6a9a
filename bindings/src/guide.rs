//! The exported `Guide` object and its companions (`CancelToken`, `ProgressListener`, `ProximityTracker`): one
//! method per core call, converting arguments and results, every body inside [`guard`] so no panic crosses the FFI.
//! Checks of arguments and every decision (limits, geofence planning, what a tracker does after an update) are the
//! core's; this file only converts.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cityguide_core as core;
use cityguide_core::update::catalog::{CatalogError, PublicKey};
use cityguide_core::{Caps, SyncConfig, Syncer};

use crate::error::{GuideError, guard};
use crate::transport::{Adapter, Transport};
use crate::types::*;

/// The guide: the one object an app holds. Safe to share between threads; every call is blocking, so call it off
/// the main thread (the Kotlin and Swift layers do).
#[derive(uniffi::Object)]
pub struct Guide {
    inner: core::Guide,
    sync: Option<SyncConfig>,
    transport: Option<Arc<dyn Transport>>,
}

impl std::fmt::Debug for Guide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guide").field("updates", &self.sync.is_some()).finish()
    }
}

fn instant(unix_s: Option<i64>) -> Result<DateTime<Utc>, GuideError> {
    match unix_s {
        None => Ok(Utc::now()),
        Some(s) => DateTime::from_timestamp(s, 0)
            .ok_or_else(|| GuideError::InvalidArgument { field: "time".into(), reason: "out of range".into() }),
    }
}

fn filter(f: Option<PlaceFilter>) -> Result<core::PlaceFilter, GuideError> {
    let f = f.unwrap_or_default();
    Ok(core::PlaceFilter {
        categories: f.categories,
        accessibility: f.accessibility.into_iter().map(Into::into).collect(),
        open_at: f.open_at.map(|s| instant(Some(s))).transpose()?,
    })
}

fn non_empty(field: &str, value: &str) -> Result<(), GuideError> {
    if value.is_empty() {
        return Err(GuideError::InvalidArgument { field: field.into(), reason: "must not be empty".into() });
    }
    Ok(())
}

impl Guide {
    fn syncer_parts(&self) -> Result<(&SyncConfig, Adapter), GuideError> {
        let config = self.sync.as_ref().ok_or_else(|| GuideError::UpdatesNotConfigured {
            reason: "the guide was opened without a catalog URL and trusted keys".into(),
        })?;
        let transport = self.transport.clone().ok_or_else(|| GuideError::UpdatesNotConfigured {
            reason: "the guide was opened without a transport".into(),
        })?;
        Ok((config, Adapter(transport)))
    }

    /// The core guide, for Rust callers that embed the bindings crate.
    pub fn core(&self) -> &core::Guide {
        &self.inner
    }
}

#[uniffi::export]
impl Guide {
    /// Opens the guide in `config.dataDir` (created if missing): migrates the database, loads the installed cities
    /// and cleans up after an interrupted install. `transport` makes the network calls of updates; without one the
    /// guide works offline and only side-loads packs.
    #[uniffi::constructor(default(transport = None))]
    pub fn open(config: GuideConfig, transport: Option<Arc<dyn Transport>>) -> Result<Arc<Self>, GuideError> {
        guard(|| {
            non_empty("data directory", &config.data_dir)?;
            let keys = config
                .trusted_keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    k.parse::<PublicKey>().map_err(|e| match e {
                        CatalogError::BadKey(problem) => {
                            GuideError::InvalidKey { key_index: i as u32, problem: problem.into() }
                        }
                        other => other.into(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let sync = match config.catalog_url {
                Some(url) => {
                    if keys.is_empty() {
                        return Err(GuideError::InvalidArgument {
                            field: "trusted keys".into(),
                            reason: "a catalog URL needs at least one trusted publisher key".into(),
                        });
                    }
                    let l = config.limits.unwrap_or_default();
                    if l.chunk_bytes == 0 {
                        return Err(GuideError::InvalidArgument {
                            field: "chunk size".into(),
                            reason: "must be positive".into(),
                        });
                    }
                    Some(SyncConfig {
                        catalog_url: url,
                        trusted_keys: keys,
                        caps: Caps {
                            catalog: l.catalog_bytes,
                            pack: l.pack_bytes,
                            delta: l.delta_bytes,
                            chunk: l.chunk_bytes,
                        },
                    })
                }
                None => None,
            };
            let inner =
                core::Guide::open(core::GuideConfig { data_dir: config.data_dir.into(), languages: config.languages })?;
            Ok(Arc::new(Guide { inner, sync, transport }))
        })
    }

    /// The reader's languages, most preferred first.
    pub fn languages(&self) -> Result<Vec<String>, GuideError> {
        guard(|| Ok(self.inner.languages()))
    }

    /// Changes the reader's languages: the platform's whole preferred list, most preferred first, unchanged (BCP 47
    /// tags; `en_US` and `@` keywords are read too). Never fails because of a tag: the answer says which tags are
    /// used and which were skipped and why; texts fall back through CLDR's chain, then the pack's default language.
    pub fn set_languages(&self, languages: Vec<String>) -> Result<LanguageChoice, GuideError> {
        guard(|| Ok(self.inner.set_languages(&languages).into()))
    }

    /// What the guide made of the reader's languages given to `open` or `setLanguages`.
    pub fn language_choice(&self) -> Result<LanguageChoice, GuideError> {
        guard(|| Ok(self.inner.language_choice().into()))
    }

    /// Every installed city.
    pub fn installed_cities(&self) -> Result<Vec<InstalledCity>, GuideError> {
        guard(|| Ok(self.inner.installed()?.into_iter().map(Into::into).collect()))
    }

    /// One installed city.
    pub fn installed_city(&self, city_id: String) -> Result<InstalledCity, GuideError> {
        guard(|| Ok(self.inner.installed_city(&city_id)?.into()))
    }

    /// Verifies a pack file completely and installs it (side-loading, no network). Atomic: on any error the
    /// previous version stays active.
    pub fn install_pack_file(&self, path: String) -> Result<InstalledCity, GuideError> {
        guard(|| {
            non_empty("pack path", &path)?;
            Ok(self.inner.install_pack_file(Path::new(&path))?.into())
        })
    }

    /// Verifies pack bytes completely and installs them. Atomic: on any error the previous version stays active.
    pub fn install_pack_bytes(&self, bytes: Vec<u8>) -> Result<InstalledCity, GuideError> {
        guard(|| Ok(self.inner.install_pack_bytes(bytes)?.into()))
    }

    /// Removes a city's pack. The user's favourites, visits and notes for it are kept.
    pub fn remove_city(&self, city_id: String) -> Result<(), GuideError> {
        guard(|| Ok(self.inner.remove_city(&city_id)?))
    }

    /// Places nearest to `at`, nearest first, that pass `filter`.
    #[uniffi::method(default(filter = None))]
    pub fn nearby(
        &self,
        city_id: String,
        at: Position,
        limit: u32,
        filter: Option<PlaceFilter>,
    ) -> Result<Vec<PlaceSummary>, GuideError> {
        guard(|| {
            let q = core::NearbyQuery::new(at.try_into()?, limit as usize).filtered(self::filter(filter)?);
            Ok(self.inner.nearby(&city_id, &q, None)?.into_iter().map(Into::into).collect())
        })
    }

    /// Places within `radiusM` metres of `at`, nearest first, at most `limit`.
    #[uniffi::method(default(filter = None))]
    pub fn within_radius(
        &self,
        city_id: String,
        at: Position,
        radius_m: f64,
        limit: u32,
        filter: Option<PlaceFilter>,
    ) -> Result<Vec<PlaceSummary>, GuideError> {
        guard(|| {
            let q =
                core::NearbyQuery::new(at.try_into()?, limit as usize).within(radius_m).filtered(self::filter(filter)?);
            Ok(self.inner.nearby(&city_id, &q, None)?.into_iter().map(Into::into).collect())
        })
    }

    /// Markers for a map viewport at a zoom level (0-22, Web-Mercator tiles): places close together at this zoom
    /// are one marker with a count; most important first.
    #[uniffi::method(default(filter = None))]
    pub fn viewport(
        &self,
        city_id: String,
        bounds: Bounds,
        zoom: u8,
        filter: Option<PlaceFilter>,
    ) -> Result<Vec<MapMarker>, GuideError> {
        guard(|| {
            let markers = self.inner.viewport(&city_id, &bounds.try_into()?, zoom, &self::filter(filter)?, None)?;
            Ok(markers.into_iter().map(Into::into).collect())
        })
    }

    /// Typeahead search in any script ("Катедрала", "katedrala"), best first; `near` ranks closer places higher and
    /// fills in distances.
    #[uniffi::method(default(near = None, limit = 20))]
    pub fn search(
        &self,
        city_id: String,
        text: String,
        near: Option<Position>,
        limit: u32,
    ) -> Result<Vec<PlaceSummary>, GuideError> {
        guard(|| {
            let near = near.map(core::LatLon::try_from).transpose()?;
            let found = self.inner.search(&city_id, &text, near, limit as usize, None)?;
            Ok(found.into_iter().map(Into::into).collect())
        })
    }

    /// Everything about a place, with its opening status at `at` (Unix seconds; `null`: now).
    #[uniffi::method(default(at = None))]
    pub fn place(&self, city_id: String, place_id: String, at: Option<i64>) -> Result<PlaceDetail, GuideError> {
        guard(|| Ok(self.inner.place(&city_id, &place_id, instant(at)?, None)?.into()))
    }

    /// Opening status of a place at `at` (Unix seconds; `null`: now).
    #[uniffi::method(default(at = None))]
    pub fn opening_status(
        &self,
        city_id: String,
        place_id: String,
        at: Option<i64>,
    ) -> Result<OpeningStatus, GuideError> {
        guard(|| Ok(self.inner.opening_status(&city_id, &place_id, instant(at)?)?.into()))
    }

    /// The city's categories, in id order.
    pub fn categories(&self, city_id: String) -> Result<Vec<Category>, GuideError> {
        guard(|| Ok(self.inner.categories(&city_id, None)?.into_iter().map(Into::into).collect()))
    }

    /// The city's tours.
    pub fn tours(&self, city_id: String) -> Result<Vec<TourSummary>, GuideError> {
        guard(|| Ok(self.inner.tours(&city_id, None)?.into_iter().map(Into::into).collect()))
    }

    /// One tour with its stops and path.
    pub fn tour(&self, city_id: String, tour_id: String) -> Result<TourDetail, GuideError> {
        guard(|| Ok(self.inner.tour(&city_id, &tour_id, None)?.into()))
    }

    /// Progress of a walker at `at` (fix accuracy `accuracyM` metres) on a tour. `hintM`, the previous `alongM`,
    /// keeps the walker on the right leg where the path crosses itself.
    #[uniffi::method(default(hint_m = None))]
    pub fn tour_progress(
        &self,
        city_id: String,
        tour_id: String,
        at: Position,
        accuracy_m: f64,
        hint_m: Option<f64>,
    ) -> Result<TourProgress, GuideError> {
        guard(|| Ok(self.inner.tour_progress(&city_id, &tour_id, at.try_into()?, accuracy_m, hint_m)?.into()))
    }

    /// A tracker of enter/exit events near this city's places, for one walking session.
    #[uniffi::method(default(config = None))]
    pub fn proximity_tracker(
        self: Arc<Self>,
        city_id: String,
        config: Option<ProximityConfig>,
    ) -> Result<Arc<ProximityTracker>, GuideError> {
        guard(|| {
            let session = self.inner.proximity_session(&city_id, config.unwrap_or_default().into())?;
            Ok(Arc::new(ProximityTracker { guide: self.clone(), session: Mutex::new(session) }))
        })
    }

    /// The regions to register as OS geofences from `at`: the nearest places plus one refresh region around the
    /// user (leaving it means: plan again). `maxRegions` counts the refresh region (iOS allows 20, Android 100).
    #[uniffi::method(default(max_regions = 20, radius_m = 40.0))]
    pub fn geofences(
        &self,
        city_id: String,
        at: Position,
        max_regions: u32,
        radius_m: f64,
    ) -> Result<GeofencePlan, GuideError> {
        guard(|| Ok(self.inner.geofences(&city_id, at.try_into()?, max_regions as usize, radius_m)?.into()))
    }

    /// What the user has allowed; everything is off until the user turns it on.
    pub fn consent(&self) -> Result<ConsentSettings, GuideError> {
        guard(|| Ok(self.inner.consent()?.into()))
    }

    /// Grants or withdraws one consent. Without `Updates`, update checks and downloads make no request at all.
    pub fn set_consent(&self, scope: ConsentScope, granted: bool) -> Result<ConsentSettings, GuideError> {
        guard(|| Ok(self.inner.set_consent(scope.into(), granted, Utc::now().timestamp())?.into()))
    }

    /// Adds a place to the favourites (adding it twice is not an error).
    pub fn add_favourite(&self, city_id: String, place_id: String) -> Result<(), GuideError> {
        guard(|| Ok(self.inner.add_favourite(&city_id, &place_id)?))
    }

    /// Removes a favourite (removing one that is not there is not an error).
    pub fn remove_favourite(&self, city_id: String, place_id: String) -> Result<(), GuideError> {
        guard(|| Ok(self.inner.remove_favourite(&city_id, &place_id)?))
    }

    /// Favourites, newest first, including places a later pack removed (marked as such).
    pub fn favourites(&self) -> Result<Vec<SavedPlace>, GuideError> {
        guard(|| Ok(self.inner.favourites()?.into_iter().map(Into::into).collect()))
    }

    /// Records a visit to a place now.
    pub fn mark_visited(&self, city_id: String, place_id: String) -> Result<(), GuideError> {
        guard(|| Ok(self.inner.mark_visited(&city_id, &place_id)?))
    }

    /// Visits, newest first.
    pub fn visits(&self) -> Result<Vec<SavedPlace>, GuideError> {
        guard(|| Ok(self.inner.visits()?.into_iter().map(Into::into).collect()))
    }

    /// Sets the user's note on a place; an empty text deletes it.
    pub fn set_note(&self, city_id: String, place_id: String, text: String) -> Result<(), GuideError> {
        guard(|| Ok(self.inner.set_note(&city_id, &place_id, &text)?))
    }

    /// Notes, newest first.
    pub fn notes(&self) -> Result<Vec<SavedPlace>, GuideError> {
        guard(|| Ok(self.inner.notes()?.into_iter().map(Into::into).collect()))
    }

    /// Fetches and verifies the signed catalog and says what updating each city would do. Network through the
    /// guide's transport.
    pub fn check_for_updates(&self) -> Result<Vec<UpdateInfo>, GuideError> {
        guard(|| {
            let (config, transport) = self.syncer_parts()?;
            let infos = Syncer::new(&self.inner, &transport, config).check(Utc::now().timestamp())?;
            Ok(infos.into_iter().map(Into::into).collect())
        })
    }

    /// Installs or updates one city from the catalog: a delta when one fits, else the full pack; everything verified
    /// before an atomic switch. `listener` hears the bytes downloaded; `cancel` stops the update between chunks with
    /// `GuideError.Cancelled`. On any error the installed city is unchanged.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub fn update_city(
        &self,
        city_id: String,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<UpdateOutcome, GuideError> {
        guard(|| {
            let (config, transport) = self.syncer_parts()?;
            let token = cancel.map(|c| c.0.clone()).unwrap_or_default();
            let progress = |done: u64, total: u64| {
                if let Some(l) = &listener {
                    l.on_progress(done, total);
                }
            };
            let outcome = Syncer::new(&self.inner, &transport, config).update(
                &city_id,
                Utc::now().timestamp(),
                &progress,
                &token,
            )?;
            Ok(outcome.into())
        })
    }
}

/// Receives download progress of an update; called on the updating thread.
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `doneBytes` of `totalBytes` of the current file have arrived.
    fn on_progress(&self, done_bytes: u64, total_bytes: u64);
}

/// Cancels a running update from any thread.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken(core::CancelToken);

#[uniffi::export]
impl CancelToken {
    /// A token that is not cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks the update using this token to stop (it stops before the next chunk).
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// Turns position fixes into enter/exit events near one city's places, robust against GPS noise (accuracy,
/// hysteresis, dwell time, cooldown). Thread-safe; one per walking session.
#[derive(uniffi::Object)]
pub struct ProximityTracker {
    guide: Arc<Guide>,
    session: Mutex<core::ProximitySession>,
}

impl std::fmt::Debug for ProximityTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProximityTracker").finish_non_exhaustive()
    }
}

impl ProximityTracker {
    fn session(&self) -> std::sync::MutexGuard<'_, core::ProximitySession> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[uniffi::export]
impl ProximityTracker {
    /// Feeds one fix; returns the events it causes, in order. Fixes that are too inaccurate or not newer than the
    /// last one are ignored (no events); a fix with an invalid position is `GuideError.InvalidArgument`.
    pub fn update(&self, fix: LocationFix) -> Result<Vec<ProximityEvent>, GuideError> {
        guard(|| {
            let events = self.session().update(&self.guide.inner, fix.try_into()?)?;
            Ok(events.into_iter().map(Into::into).collect())
        })
    }

    /// Places entered and not yet left.
    pub fn inside(&self) -> Result<Vec<PlaceSummary>, GuideError> {
        guard(|| Ok(self.session().inside(&self.guide.inner)?.into_iter().map(Into::into).collect()))
    }

    /// Forgets everything (a new walking session).
    pub fn reset(&self) -> Result<(), GuideError> {
        guard(|| {
            self.session().reset();
            Ok(())
        })
    }
}
