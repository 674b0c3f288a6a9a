//! A walk's proximity session: the tracker of `query::proximity` bound to one installed city, speaking place
//! records instead of indices.
//!
//! Why here and not in the apps: a tracker counts places by their index in one pack version. When an update swaps
//! the pack during a walk, the indices mean other places; the session notices (it holds the city it started with)
//! and starts afresh instead of reporting an exit from whatever place now has an old index.

use std::sync::{Arc, Weak};

use super::city::City;
use super::{Guide, GuideError, LocationFix, PlaceSummary, ProximityEvent};
use crate::query::proximity::{self as algo, Fix, ProximityTracker};

pub use crate::query::proximity::ProximityConfig;

/// Enter and exit events near one city's places during a walk, robust against GPS noise (accuracy, hysteresis,
/// dwell time, cooldown). One per walk; wrap it in a mutex to share it between threads.
#[derive(Debug)]
pub struct ProximitySession {
    city_id: String,
    tracker: ProximityTracker,
    city: Weak<City>,
}

impl std::fmt::Debug for City {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("City").field("city_id", &self.city_id()).finish()
    }
}

impl ProximitySession {
    pub(super) fn new(city_id: &str, config: ProximityConfig, city: &Arc<City>) -> ProximitySession {
        ProximitySession {
            city_id: city_id.to_owned(),
            tracker: ProximityTracker::new(config),
            city: Arc::downgrade(city),
        }
    }

    /// The city of this walk.
    pub fn city_id(&self) -> &str {
        &self.city_id
    }

    /// The city as installed now, resetting the tracker when it is not the pack the walk started with.
    fn current(&mut self, guide: &Guide) -> Result<Arc<City>, GuideError> {
        let city = guide.city(&self.city_id)?;
        if !self.city.upgrade().is_some_and(|c| Arc::ptr_eq(&c, &city)) {
            self.tracker.reset();
            self.city = Arc::downgrade(&city);
        }
        Ok(city)
    }

    /// Feeds one fix; returns the events it causes, in order. Fixes that are too inaccurate or not newer than the
    /// last one are ignored (no events).
    pub fn update(&mut self, guide: &Guide, fix: LocationFix) -> Result<Vec<ProximityEvent>, GuideError> {
        let city = self.current(guide)?;
        let langs = city.ranking(&guide.reader_languages());
        let core_fix =
            Fix { lat: fix.position.lat(), lon: fix.position.lon(), accuracy_m: fix.accuracy_m, time_ms: fix.time_ms };
        let events = self.tracker.update(
            core_fix,
            |at, r| city.index.within_radius(at, r, |_| true).into_iter().map(|h| (h.index, h.distance_m)).collect(),
            |_| None,
        );
        let place = |i: u32| city.summary(i, &langs, None);
        Ok(events
            .into_iter()
            .map(|e| match e {
                algo::ProximityEvent::Enter { place: i, distance_m, time_ms } => {
                    ProximityEvent::Enter { place: place(i), distance_m, time_ms }
                }
                algo::ProximityEvent::Exit { place: i, time_ms } => ProximityEvent::Exit { place: place(i), time_ms },
            })
            .collect())
    }

    /// Places entered and not yet left.
    pub fn inside(&mut self, guide: &Guide) -> Result<Vec<PlaceSummary>, GuideError> {
        let city = self.current(guide)?;
        let langs = city.ranking(&guide.reader_languages());
        Ok(self.tracker.inside().into_iter().map(|i| city.summary(i, &langs, None)).collect())
    }

    /// Forgets everything (a new walk).
    pub fn reset(&mut self) {
        self.tracker.reset();
    }
}
