//! Enter/exit events for nearby places, robust against GPS noise, and the geofences to hand to the OS.
//!
//! A phone's fixes jump by tens of metres while the user stands still. Three rules keep that from becoming a stream
//! of "you are at the cathedral" notifications:
//!
//! - **Accuracy counts against entering, for exiting.** A walker enters a place only when
//!   `distance + accuracy / 2 <= enter radius`, and leaves only when `distance - accuracy / 2 > exit radius`; fixes
//!   worse than [`ProximityConfig::max_accuracy_m`] are ignored altogether.
//! - **Hysteresis.** The exit radius is larger than the enter radius; between the two nothing changes.
//! - **Dwell and cooldown.** Entering needs every accepted fix for [`ProximityConfig::min_dwell_ms`] to satisfy the
//!   enter rule (a fix that does not cancels the pending entry), and a place entered once is not announced again
//!   within [`ProximityConfig::cooldown_ms`].
//!
//! The tracker does not know where places are: each update asks a `nearby` closure (the engine's spatial index,
//! or a brute-force scan in tests) for the places within a radius, so it scales with what is near, not with the
//! size of the pack.
//!
//! ```
//! use cityguide_core::query::proximity::{Fix, ProximityConfig, ProximityEvent, ProximityTracker};
//! use cityguide_core::geodesy::distance_m;
//!
//! let places = [(43.2048, 27.9105)];
//! let nearby = |at: (f64, f64), radius: f64| -> Vec<(u32, f64)> {
//!     (0..places.len() as u32)
//!         .map(|i| (i, distance_m(at, places[i as usize])))
//!         .filter(|&(_, d)| d <= radius)
//!         .collect()
//! };
//! let mut tracker = ProximityTracker::new(ProximityConfig::default());
//! let mut events = Vec::new();
//! for s in 0..10 {
//!     let fix = Fix { lat: 43.2048, lon: 27.9106, accuracy_m: 10.0, time_ms: s * 1_000 };
//!     events.extend(tracker.update(fix, nearby, |_| None));
//! }
//! assert!(matches!(events[..], [ProximityEvent::Enter { place: 0, time_ms: 5_000, .. }]));
//! assert_eq!(tracker.inside(), vec![0]);
//! ```

use std::collections::BTreeMap;

use crate::geodesy::{distance_m, is_valid_position};

/// One position fix from the phone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Horizontal accuracy, metres (the platform's 68 % radius).
    pub accuracy_m: f64,
    /// Time of the fix, milliseconds since the Unix epoch.
    pub time_ms: i64,
}

/// Thresholds of a [`ProximityTracker`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProximityConfig {
    /// Radius within which a place is entered, metres, for places without their own radius. Default 40.
    pub enter_radius_m: f64,
    /// Radius beyond which an entered place is left, metres (hysteresis: larger than `enter_radius_m`). A place
    /// with its own radius `r` is left beyond `r * exit_radius_m / enter_radius_m`. Default 70.
    pub exit_radius_m: f64,
    /// How long every fix must satisfy the enter rule before the place counts as entered, ms. Default 5 000.
    pub min_dwell_ms: i64,
    /// No second `Enter` for the same place within this time after the last one, ms. Default 30 minutes.
    pub cooldown_ms: i64,
    /// Fixes with a worse (larger) accuracy than this are ignored, metres. Default 100.
    pub max_accuracy_m: f64,
    /// Largest enter radius a place may have, metres; larger per-place radii are reduced to it. It bounds the
    /// radius the tracker asks `nearby` for, so a place with a large radius is found before the walker is in it.
    /// Default 200.
    pub max_place_radius_m: f64,
}

impl Default for ProximityConfig {
    fn default() -> Self {
        ProximityConfig {
            enter_radius_m: 40.0,
            exit_radius_m: 70.0,
            min_dwell_ms: 5_000,
            cooldown_ms: 30 * 60 * 1_000,
            max_accuracy_m: 100.0,
            max_place_radius_m: 200.0,
        }
    }
}

/// Something that happened near a place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProximityEvent {
    /// The walker has entered the place's radius (and stayed for the dwell time).
    Enter {
        /// Place index, as `nearby` reported it.
        place: u32,
        /// Distance to the place at the fix that confirmed the entry, metres.
        distance_m: f64,
        /// Time of that fix, ms.
        time_ms: i64,
    },
    /// The walker has left a place they had entered.
    Exit {
        /// Place index.
        place: u32,
        /// Time of the fix that showed the walker outside, ms.
        time_ms: i64,
    },
}

/// What the tracker knows about one place near the walker.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    /// Every fix since `since_ms` satisfied the enter rule; not yet for the dwell time.
    Pending { since_ms: i64 },
    /// Entered. `announced` is false when the entry fell within the cooldown: no `Enter` was sent, so no `Exit` is.
    Inside { announced: bool },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Tracked {
    status: Status,
    enter_m: f64,
    exit_m: f64,
}

/// Turns a stream of [`Fix`]es into [`ProximityEvent`]s. `Send`; one per user session.
#[derive(Debug, Clone)]
pub struct ProximityTracker {
    config: ProximityConfig,
    last_time_ms: Option<i64>,
    tracked: BTreeMap<u32, Tracked>,
    /// Time of the last announced `Enter` per place, while within the cooldown.
    last_enter_ms: BTreeMap<u32, i64>,
}

impl ProximityTracker {
    /// A tracker with `config`. Nonsensical values are repaired rather than rejected: a non-positive or NaN enter
    /// radius becomes the default, an exit radius below the enter radius becomes the enter radius, negative times
    /// become 0, and a NaN accuracy limit or place-radius limit becomes the default.
    pub fn new(config: ProximityConfig) -> Self {
        let d = ProximityConfig::default();
        let positive = |v: f64, default: f64| if v.is_finite() && v > 0.0 { v } else { default };
        let enter_radius_m = positive(config.enter_radius_m, d.enter_radius_m);
        let exit_radius_m = if config.exit_radius_m >= enter_radius_m { config.exit_radius_m } else { enter_radius_m };
        let config = ProximityConfig {
            enter_radius_m,
            exit_radius_m: if exit_radius_m.is_finite() { exit_radius_m } else { enter_radius_m },
            min_dwell_ms: config.min_dwell_ms.max(0),
            cooldown_ms: config.cooldown_ms.max(0),
            max_accuracy_m: if config.max_accuracy_m.is_nan() { d.max_accuracy_m } else { config.max_accuracy_m },
            max_place_radius_m: positive(config.max_place_radius_m, d.max_place_radius_m).max(enter_radius_m),
        };
        ProximityTracker { config, last_time_ms: None, tracked: BTreeMap::new(), last_enter_ms: BTreeMap::new() }
    }

    /// Feeds one fix; returns the events it causes, ordered by time, then distance, then place.
    ///
    /// `nearby(at, radius_m)` must return `(place, distance_m)` for (at least) every place within `radius_m` of
    /// `at`; the tracker asks for `max_place_radius_m - accuracy / 2`, or more while it tracks places, so that a
    /// place it does not hear about is known to be outside. `radius_of(place)` gives a place's own enter radius
    /// (`None`, NaN or non-positive: `enter_radius_m`; at most `max_place_radius_m`); its exit radius scales by
    /// `exit_radius_m / enter_radius_m`. It is asked once, when the place is first tracked.
    ///
    /// Ignored without effect: fixes with an invalid position, a NaN or negative accuracy or one worse than
    /// `max_accuracy_m`, and fixes not strictly later than the last accepted fix (out of order or duplicate).
    /// An `Enter` or `Exit` carries the time of the fix that caused it.
    pub fn update(
        &mut self,
        fix: Fix,
        nearby: impl Fn((f64, f64), f64) -> Vec<(u32, f64)>,
        radius_of: impl Fn(u32) -> Option<f64>,
    ) -> Vec<ProximityEvent> {
        let at = (fix.lat, fix.lon);
        let accuracy_ok = fix.accuracy_m >= 0.0 && fix.accuracy_m <= self.config.max_accuracy_m;
        if !is_valid_position(at) || !accuracy_ok || self.last_time_ms.is_some_and(|t| fix.time_ms <= t) {
            return Vec::new();
        }
        let now = fix.time_ms;
        self.last_time_ms = Some(now);
        let cooldown = self.config.cooldown_ms;
        self.last_enter_ms.retain(|_, t| now.saturating_sub(*t) < cooldown);

        let half = fix.accuracy_m / 2.0;
        let query_m = self
            .tracked
            .values()
            .map(|t| t.exit_m + half)
            .fold((self.config.max_place_radius_m - half).max(0.0), f64::max);
        let mut near: BTreeMap<u32, f64> = BTreeMap::new();
        for (place, d) in nearby(at, query_m) {
            if d.is_nan() || d < 0.0 {
                continue;
            }
            near.entry(place).and_modify(|e| *e = e.min(d)).or_insert(d);
        }

        let mut events: Vec<(f64, ProximityEvent)> = Vec::new();
        let mut gone = Vec::new();
        for (&place, t) in self.tracked.iter_mut() {
            // Not reported: beyond the query radius, which covers every tracked exit radius plus half the accuracy.
            let d = near.get(&place).copied().unwrap_or(f64::INFINITY);
            match t.status {
                Status::Inside { announced } => {
                    if d - half > t.exit_m {
                        gone.push(place);
                        if announced {
                            events.push((d, ProximityEvent::Exit { place, time_ms: now }));
                        }
                    }
                }
                Status::Pending { since_ms } => {
                    if d + half > t.enter_m {
                        gone.push(place);
                    } else if now.saturating_sub(since_ms) >= self.config.min_dwell_ms {
                        t.status = Self::enter(&mut self.last_enter_ms, cooldown, place, d, now, &mut events);
                    }
                }
            }
        }
        for place in gone {
            self.tracked.remove(&place);
        }

        let ratio = self.config.exit_radius_m / self.config.enter_radius_m;
        for (&place, &d) in &near {
            if self.tracked.contains_key(&place) {
                continue;
            }
            let enter_m = radius_of(place)
                .filter(|r| r.is_finite() && *r > 0.0)
                .unwrap_or(self.config.enter_radius_m)
                .min(self.config.max_place_radius_m);
            if d + half > enter_m {
                continue;
            }
            let status = if self.config.min_dwell_ms == 0 {
                Self::enter(&mut self.last_enter_ms, cooldown, place, d, now, &mut events)
            } else {
                Status::Pending { since_ms: now }
            };
            self.tracked.insert(place, Tracked { status, enter_m, exit_m: enter_m * ratio });
        }

        let place_of = |e: &ProximityEvent| match *e {
            ProximityEvent::Enter { place, .. } | ProximityEvent::Exit { place, .. } => place,
        };
        // All events of one fix share its time: order by distance, then place.
        events.sort_by(|(da, a), (db, b)| da.total_cmp(db).then_with(|| place_of(a).cmp(&place_of(b))));
        events.into_iter().map(|(_, e)| e).collect()
    }

    /// A confirmed entry: announced unless within the cooldown of the last announced entry.
    fn enter(
        last_enter_ms: &mut BTreeMap<u32, i64>,
        cooldown_ms: i64,
        place: u32,
        distance_m: f64,
        now: i64,
        events: &mut Vec<(f64, ProximityEvent)>,
    ) -> Status {
        let announced = last_enter_ms.get(&place).is_none_or(|&t| now.saturating_sub(t) >= cooldown_ms);
        if announced {
            last_enter_ms.insert(place, now);
            events.push((distance_m, ProximityEvent::Enter { place, distance_m, time_ms: now }));
        }
        Status::Inside { announced }
    }

    /// Places entered (an `Enter` sent) and not yet left, by place index.
    pub fn inside(&self) -> Vec<u32> {
        self.tracked
            .iter()
            .filter(|(_, t)| t.status == Status::Inside { announced: true })
            .map(|(&place, _)| place)
            .collect()
    }

    /// Forgets everything: places inside and pending, cooldowns and the last fix time (a new session).
    pub fn reset(&mut self) {
        self.last_time_ms = None;
        self.tracked.clear();
        self.last_enter_ms.clear();
    }
}

/// One circular region to register with the OS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geofence {
    /// The place it watches; `None` for the refresh region.
    pub place: Option<u32>,
    /// Centre latitude, degrees.
    pub lat: f64,
    /// Centre longitude, degrees.
    pub lon: f64,
    /// Radius, metres.
    pub radius_m: f64,
}

/// The regions the OS should watch now.
#[derive(Debug, Clone, PartialEq)]
pub struct GeofencePlan {
    /// Place regions, nearest first (ties by place index).
    pub regions: Vec<Geofence>,
    /// A region centred on the user reaching the farthest chosen place: leaving it wakes the app to plan again.
    pub refresh: Geofence,
}

/// Which places the OS should watch as geofences from `at`: the nearest places, each with its radius, plus one
/// refresh region centred on the user.
///
/// `max_regions` counts the refresh region too (iOS allows 20 regions per app, Android 100), so the plan has at
/// most `max_regions - 1` place regions and `max_regions` regions in all; with `max_regions <= 1` it is only the
/// refresh region. `nearest(at, k)` returns the `k` nearest places as `(place, distance_m)`; `position_of(place)`
/// gives a place's `(lat, lon)` (places without one are skipped); `radius_of(place)` its own radius, else
/// `default_radius_m` (a non-positive or NaN default counts as 40 m). Distances are recomputed from the positions,
/// so the order (nearest first, ties by place index) and the refresh radius do not depend on the closure's. The
/// refresh radius is the distance to the farthest chosen place, at least `default_radius_m`. An invalid `at` gives
/// no place regions and a refresh region of radius 0 at (0, 0), which should not be registered.
pub fn geofences(
    at: (f64, f64),
    max_regions: usize,
    nearest: impl Fn((f64, f64), usize) -> Vec<(u32, f64)>,
    position_of: impl Fn(u32) -> Option<(f64, f64)>,
    radius_of: impl Fn(u32) -> Option<f64>,
    default_radius_m: f64,
) -> GeofencePlan {
    if !is_valid_position(at) {
        return GeofencePlan {
            regions: Vec::new(),
            refresh: Geofence { place: None, lat: 0.0, lon: 0.0, radius_m: 0.0 },
        };
    }
    let valid_radius = |r: f64| r.is_finite() && r > 0.0;
    let default_radius_m = if valid_radius(default_radius_m) { default_radius_m } else { 40.0 };
    let k = max_regions.saturating_sub(1);
    let mut chosen: Vec<(f64, u32, (f64, f64))> = Vec::new();
    if k > 0 {
        for (place, _) in nearest(at, k) {
            if chosen.iter().any(|c| c.1 == place) {
                continue;
            }
            if let Some(pos) = position_of(place).filter(|p| is_valid_position(*p)) {
                chosen.push((distance_m(at, pos), place, pos));
            }
        }
    }
    chosen.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    chosen.truncate(k);
    let farthest = chosen.last().map_or(0.0, |c| c.0);
    let regions = chosen
        .iter()
        .map(|&(_, place, (lat, lon))| Geofence {
            place: Some(place),
            lat,
            lon,
            radius_m: radius_of(place).filter(|r| valid_radius(*r)).unwrap_or(default_radius_m),
        })
        .collect();
    let refresh = Geofence { place: None, lat: at.0, lon: at.1, radius_m: farthest.max(default_radius_m) };
    GeofencePlan { regions, refresh }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::offset_m;

    const BASE: (f64, f64) = (43.2048, 27.9105);

    fn at(east: f64, north: f64) -> (f64, f64) {
        offset_m(BASE, east, north)
    }

    /// SplitMix64: a seeded, dependency-free source of GPS noise.
    struct Rng(u64);
    impl Rng {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Uniform in `[-m, m]`.
        fn noise(&mut self, m: f64) -> f64 {
            (self.next_f64() * 2.0 - 1.0) * m
        }
    }

    /// Brute-force `nearby` over a list of positions.
    fn scan(places: &[(f64, f64)]) -> impl Fn((f64, f64), f64) -> Vec<(u32, f64)> + '_ {
        move |p, radius| {
            // Cheap box test first: 100k haversines per fix are slow in debug builds.
            let dlat = radius / 111_000.0 + 1e-6;
            let dlon = dlat / p.0.to_radians().cos().max(1e-6);
            places
                .iter()
                .enumerate()
                .filter(|(_, q)| (q.0 - p.0).abs() <= dlat && (q.1 - p.1).abs() <= dlon)
                .map(|(i, &q)| (i as u32, distance_m(p, q)))
                .filter(|&(_, d)| d <= radius)
                .collect()
        }
    }

    fn fix(p: (f64, f64), accuracy_m: f64, time_ms: i64) -> Fix {
        Fix { lat: p.0, lon: p.1, accuracy_m, time_ms }
    }

    fn enters(events: &[ProximityEvent]) -> usize {
        events.iter().filter(|e| matches!(e, ProximityEvent::Enter { .. })).count()
    }

    fn exits(events: &[ProximityEvent]) -> usize {
        events.iter().filter(|e| matches!(e, ProximityEvent::Exit { .. })).count()
    }

    #[test]
    fn is_send() {
        fn check<T: Send>() {}
        check::<ProximityTracker>();
        check::<GeofencePlan>();
    }

    #[test]
    fn a_jittery_walk_past_a_place_enters_and_exits_once() {
        let places = [at(0.0, 0.0)];
        for seed in 0..50 {
            let mut rng = Rng(seed);
            let mut tracker = ProximityTracker::new(ProximityConfig::default());
            let mut events = Vec::new();
            // 1.4 m/s, 10 m beside the place, a fix per second with ±15 m of noise.
            for s in 0..=430 {
                let x = -300.0 + 1.4 * s as f64;
                let p = at(x + rng.noise(15.0), 10.0 + rng.noise(15.0));
                events.extend(tracker.update(fix(p, 10.0, s * 1_000), scan(&places), |_| None));
            }
            assert_eq!((enters(&events), exits(&events)), (1, 1), "seed {seed}: {events:?}");
            let (ProximityEvent::Enter { time_ms: t_in, distance_m, .. }, ProximityEvent::Exit { time_ms: t_out, .. }) =
                (events[0], events[1])
            else {
                panic!("enter then exit: {events:?}");
            };
            assert!(t_in < t_out && distance_m <= 35.0, "{events:?}");
            assert!(tracker.inside().is_empty());
        }
    }

    #[test]
    fn standing_at_the_enter_boundary_does_not_flap() {
        let places = [at(0.0, 0.0)];
        // No cooldown: hysteresis alone must prevent flapping.
        let config = ProximityConfig { cooldown_ms: 0, ..ProximityConfig::default() };
        for seed in 0..20 {
            let mut rng = Rng(seed);
            let mut tracker = ProximityTracker::new(config);
            let mut events = Vec::new();
            for s in 0..600 {
                let p = at(40.0 + rng.noise(15.0), rng.noise(15.0));
                events.extend(tracker.update(fix(p, 10.0, s * 1_000), scan(&places), |_| None));
            }
            assert!(enters(&events) <= 1 && exits(&events) == 0, "seed {seed}: {events:?}");
        }
    }

    #[test]
    fn inaccurate_invalid_and_stale_fixes_are_ignored() {
        let places = [at(0.0, 0.0)];
        let mut tracker = ProximityTracker::new(ProximityConfig::default());
        let mut events = Vec::new();
        for s in 0..6 {
            events.extend(tracker.update(fix(at(5.0, 0.0), 10.0, s * 1_000), scan(&places), |_| None));
        }
        assert_eq!(enters(&events), 1);
        // A 500 m fix a kilometre away, a NaN fix, a fix with NaN accuracy: nothing happens.
        assert!(tracker.update(fix(at(1000.0, 0.0), 500.0, 7_000), scan(&places), |_| None).is_empty());
        assert!(tracker.update(fix((f64::NAN, 27.9), 5.0, 8_000), scan(&places), |_| None).is_empty());
        assert!(tracker.update(fix(at(1000.0, 0.0), f64::NAN, 9_000), scan(&places), |_| None).is_empty());
        assert!(tracker.update(fix(at(1000.0, 0.0), -1.0, 9_500), scan(&places), |_| None).is_empty());
        // Out of order and duplicate timestamps are ignored too.
        assert!(tracker.update(fix(at(1000.0, 0.0), 5.0, 5_000), scan(&places), |_| None).is_empty());
        assert!(tracker.update(fix(at(1000.0, 0.0), 5.0, 3_000), scan(&places), |_| None).is_empty());
        assert_eq!(tracker.inside(), vec![0]);
        let out = tracker.update(fix(at(1000.0, 0.0), 5.0, 10_000), scan(&places), |_| None);
        assert_eq!(out, vec![ProximityEvent::Exit { place: 0, time_ms: 10_000 }]);

        // A 500 m fix right at the place does not start an entry either.
        let mut tracker = ProximityTracker::new(ProximityConfig { min_dwell_ms: 0, ..ProximityConfig::default() });
        assert!(tracker.update(fix(at(0.0, 0.0), 500.0, 0), scan(&places), |_| None).is_empty());
        assert_eq!(enters(&tracker.update(fix(at(0.0, 0.0), 5.0, 1), scan(&places), |_| None)), 1);
    }

    #[test]
    fn accuracy_counts_against_entering_and_for_exiting() {
        let places = [at(0.0, 0.0)];
        let config = ProximityConfig { min_dwell_ms: 0, ..ProximityConfig::default() };
        let mut tracker = ProximityTracker::new(config);
        // 30 m away with 30 m accuracy: 30 + 15 > 40, not entered.
        assert!(tracker.update(fix(at(30.0, 0.0), 30.0, 0), scan(&places), |_| None).is_empty());
        // 30 m away with 10 m accuracy: 30 + 5 <= 40.
        assert_eq!(enters(&tracker.update(fix(at(30.0, 0.0), 10.0, 1_000), scan(&places), |_| None)), 1);
        // 80 m away with 30 m accuracy: 80 - 15 <= 70, still inside.
        assert!(tracker.update(fix(at(80.0, 0.0), 30.0, 2_000), scan(&places), |_| None).is_empty());
        // 80 m away with 10 m accuracy: 80 - 5 > 70, left.
        assert_eq!(exits(&tracker.update(fix(at(80.0, 0.0), 10.0, 3_000), scan(&places), |_| None)), 1);
    }

    /// Enters place 0 at `start`, stays a minute, leaves; returns the events.
    fn visit(tracker: &mut ProximityTracker, places: &[(f64, f64)], start: i64) -> Vec<ProximityEvent> {
        let mut events = Vec::new();
        for s in 0..60 {
            events.extend(tracker.update(fix(at(3.0, 0.0), 5.0, start + s * 1_000), scan(places), |_| None));
        }
        events.extend(tracker.update(fix(at(500.0, 0.0), 5.0, start + 90_000), scan(places), |_| None));
        events
    }

    #[test]
    fn cooldown_suppresses_a_quick_return_only() {
        let places = [at(0.0, 0.0)];
        let mut tracker = ProximityTracker::new(ProximityConfig::default());
        let first = visit(&mut tracker, &places, 0);
        assert_eq!((enters(&first), exits(&first)), (1, 1));
        let back_soon = visit(&mut tracker, &places, 5 * 60_000);
        assert!(back_soon.is_empty(), "no Enter within 30 minutes, and so no Exit: {back_soon:?}");
        let back_later = visit(&mut tracker, &places, 31 * 60_000);
        assert_eq!((enters(&back_later), exits(&back_later)), (1, 1), "{back_later:?}");
    }

    #[test]
    fn a_stay_that_began_within_the_cooldown_is_not_announced_when_it_ends() {
        let places = [at(0.0, 0.0)];
        let mut tracker = ProximityTracker::new(ProximityConfig::default());
        assert_eq!(enters(&visit(&mut tracker, &places, 0)), 1);
        // Back after 5 minutes and staying 40 minutes: no Enter when the cooldown runs out mid-stay.
        let mut events = Vec::new();
        for s in 0..(40 * 60) {
            events.extend(tracker.update(fix(at(3.0, 0.0), 5.0, 300_000 + s * 1_000), scan(&places), |_| None));
        }
        assert!(events.is_empty(), "{events:?}");
        assert!(tracker.inside().is_empty());
    }

    #[test]
    fn passing_through_faster_than_the_dwell_is_not_an_entry() {
        let places = [at(0.0, 0.0)];
        let mut tracker = ProximityTracker::new(ProximityConfig::default());
        let mut events = Vec::new();
        // Outside, then inside at 0, 1, 2 and 3 s, then outside again.
        events.extend(tracker.update(fix(at(-100.0, 0.0), 5.0, -1_000), scan(&places), |_| None));
        for s in 0..4 {
            events
                .extend(tracker.update(fix(at(-30.0 + 20.0 * s as f64, 0.0), 5.0, s * 1_000), scan(&places), |_| None));
        }
        events.extend(tracker.update(fix(at(60.0, 0.0), 5.0, 4_000), scan(&places), |_| None));
        // Back inside: the dwell starts again from here.
        for s in 5..10 {
            events.extend(tracker.update(fix(at(0.0, 0.0), 5.0, s * 1_000), scan(&places), |_| None));
        }
        assert!(events.is_empty(), "{events:?}");
        let entered = tracker.update(fix(at(0.0, 0.0), 5.0, 10_000), scan(&places), |_| None);
        assert!(matches!(entered[..], [ProximityEvent::Enter { place: 0, time_ms: 10_000, .. }]), "{entered:?}");
    }

    #[test]
    fn events_are_ordered_by_distance_then_place_and_radii_are_per_place() {
        // Places 0 and 1 at the same spot, place 2 nearer, place 3 with a 100 m radius 80 m away.
        let places = [at(10.0, 0.0), at(10.0, 0.0), at(2.0, 0.0), at(-80.0, 0.0)];
        let radius_of = |p: u32| if p == 3 { Some(100.0) } else { None };
        let config = ProximityConfig { min_dwell_ms: 0, ..ProximityConfig::default() };
        let mut tracker = ProximityTracker::new(config);
        let events = tracker.update(fix(at(0.0, 0.0), 4.0, 0), scan(&places), radius_of);
        let order: Vec<u32> = events
            .iter()
            .map(|e| match e {
                ProximityEvent::Enter { place, .. } => *place,
                ProximityEvent::Exit { .. } => panic!("no exits"),
            })
            .collect();
        assert_eq!(order, vec![2, 0, 1, 3]);
        // Place 3 is left only beyond 100 * 70 / 40 = 175 m.
        let events = tracker.update(fix(at(90.0, 0.0), 4.0, 1_000), scan(&places), radius_of);
        assert_eq!(exits(&events), 3, "{events:?}");
        assert_eq!(tracker.inside(), vec![3]);
        let events = tracker.update(fix(at(100.0, 0.0), 4.0, 2_000), scan(&places), radius_of);
        assert_eq!(events, vec![ProximityEvent::Exit { place: 3, time_ms: 2_000 }]);
        tracker.reset();
        assert!(tracker.inside().is_empty());
        // After a reset an earlier timestamp is accepted again and cooldowns are forgotten.
        assert_eq!(enters(&tracker.update(fix(at(0.0, 0.0), 4.0, 0), scan(&places), radius_of)), 4);
    }

    /// 100 000 places on a 50 m grid (316 × 317) around the base.
    fn grid() -> Vec<(f64, f64)> {
        (0..100_000).map(|i| at((i % 316) as f64 * 50.0, (i / 316) as f64 * 50.0)).collect()
    }

    #[test]
    fn a_walk_through_a_hundred_thousand_places() {
        let places = grid();
        let mut tracker = ProximityTracker::new(ProximityConfig::default());
        let mut events = Vec::new();
        // Along row 100 from x = 1000 m to x = 2000 m at 5 m/s: passes places at x = 1000, 1050, ..., 2000.
        for s in 0..=200 {
            let p = at(1000.0 + 5.0 * s as f64, 5000.0 + 3.0);
            events.extend(tracker.update(fix(p, 5.0, s * 1_000), scan(&places), |_| None));
        }
        let entered: Vec<u32> = events
            .iter()
            .filter_map(|e| match e {
                ProximityEvent::Enter { place, .. } => Some(*place),
                ProximityEvent::Exit { .. } => None,
            })
            .collect();
        let row: Vec<u32> = (20..=40).map(|c| 100 * 316 + c).collect();
        assert_eq!(entered, row);
        assert!(events.windows(2).all(|w| match (w[0], w[1]) {
            (ProximityEvent::Enter { time_ms: a, .. } | ProximityEvent::Exit { time_ms: a, .. }, b) => {
                let (ProximityEvent::Enter { time_ms: b, .. } | ProximityEvent::Exit { time_ms: b, .. }) = b;
                a <= b
            }
        }));
        // Every place but the last two or so has been left again.
        assert_eq!(exits(&events) + tracker.inside().len(), row.len());
    }

    /// Brute-force k nearest over a list of positions.
    fn knn(places: &[(f64, f64)]) -> impl Fn((f64, f64), usize) -> Vec<(u32, f64)> + '_ {
        move |p, k| {
            let mut all: Vec<(u32, f64)> =
                places.iter().enumerate().map(|(i, &q)| (i as u32, distance_m(p, q))).collect();
            all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            all
        }
    }

    #[test]
    fn geofences_respect_the_platform_limits() {
        let places = grid();
        let user = at(3333.0, 4444.0);
        let position_of = |p: u32| places.get(p as usize).copied();
        let radius_of = |p: u32| if p % 7 == 0 { Some(120.0) } else { None };
        for max_regions in [20, 100] {
            let plan = geofences(user, max_regions, knn(&places), position_of, radius_of, 40.0);
            assert_eq!(plan.regions.len() + 1, max_regions);
            let dists: Vec<f64> = plan.regions.iter().map(|g| distance_m(user, (g.lat, g.lon))).collect();
            assert!(dists.windows(2).all(|w| w[0] <= w[1]), "nearest first");
            assert_eq!(plan.refresh.place, None);
            assert_eq!((plan.refresh.lat, plan.refresh.lon), user);
            assert!(dists.iter().all(|&d| d <= plan.refresh.radius_m));
            assert_eq!(plan.refresh.radius_m, dists[dists.len() - 1]);
            for g in &plan.regions {
                let place = g.place.expect("a place region");
                assert_eq!(g.radius_m, if place % 7 == 0 { 120.0 } else { 40.0 });
            }
            // The chosen places are exactly the brute-force nearest.
            let want: Vec<u32> = knn(&places)(user, max_regions - 1).into_iter().map(|(p, _)| p).collect();
            let got: Vec<u32> = plan.regions.iter().filter_map(|g| g.place).collect();
            assert_eq!(got, want);
            // Deterministic.
            assert_eq!(plan, geofences(user, max_regions, knn(&places), position_of, radius_of, 40.0));
        }
    }

    #[test]
    fn geofences_edge_cases() {
        let places = [at(0.0, 0.0), at(10.0, 0.0)];
        let position_of = |p: u32| places.get(p as usize).copied();
        let plan = geofences(at(0.0, 0.0), 1, knn(&places), position_of, |_| None, 40.0);
        assert!(plan.regions.is_empty());
        assert_eq!(plan.refresh.radius_m, 40.0);
        let plan = geofences(at(0.0, 0.0), 0, knn(&places), position_of, |_| None, f64::NAN);
        assert!(plan.regions.is_empty());
        // Fewer places than allowed; the closure returning duplicates and unknown places is tolerated.
        let sloppy = |_: (f64, f64), _: usize| vec![(1, 10.0), (1, 10.0), (99, 1.0), (0, 0.0)];
        let plan = geofences(at(0.0, 0.0), 20, sloppy, position_of, |_| None, 40.0);
        assert_eq!(plan.regions.iter().map(|g| g.place).collect::<Vec<_>>(), vec![Some(0), Some(1)]);
        assert_eq!(plan.refresh.radius_m, 40.0, "at least the default radius");
        let plan = geofences((f64::NAN, 0.0), 20, knn(&places), position_of, |_| None, 40.0);
        assert!(plan.regions.is_empty() && plan.refresh.radius_m == 0.0);
    }
}
