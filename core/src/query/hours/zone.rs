//! The city's time zone, from the rules its pack carries.
//!
//! Opening hours are written on the city's wall clock, so the core must map instants to that clock and back. A phone
//! does not carry a time-zone database for this (it was the largest single item of the phone library): the pack
//! carries the TZif rules (RFC 8536) of the one zone it names (`Metadata.time_zone_rules`, format 1.2), and this type
//! reads them with `tz-rs` (the `tz` crate): a TZif reader with the POSIX TZ footer rules, about 30 KB in the
//! library (`jiff`, tried first, was 133 KB). The rules come from the network, so parsing them is checked, bounded
//! and never panics; the reader refuses a pack whose rules do not parse.
//!
//! The API speaks `chrono` (the rest of the core does); `tz-rs` stays an implementation detail.

use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDateTime, Timelike, Utc};
use tz::datetime::{FoundDateTimeKind, FoundDateTimeListRefMut};

use super::HoursError;

/// The largest TZif data accepted, bytes. Real zones need 0.1 to 3 KB (slim) or up to 4 KB (fat); the cap keeps a
/// hostile pack from making the reader parse megabytes of transitions.
pub const MAX_RULES_BYTES: usize = 64 * 1024;

/// A named time zone with its rules: maps instants to the local wall clock and back. Cheap to clone (the rules are
/// shared); Send + Sync.
#[derive(Debug, Clone)]
pub struct CityTimeZone {
    name: Arc<str>,
    tz: Arc<tz::TimeZone>,
}

/// Whether `name` is shaped like an IANA time-zone identifier: one to three `/`-separated parts of ASCII letters,
/// digits, `_`, `-`, `+` and `.` (no empty, `.` or `..` part), at most 64 bytes, e.g. `Europe/Sofia`,
/// `America/Argentina/Buenos_Aires`, `Etc/GMT+2`, `UTC`.
///
/// Without a database the core cannot know whether the zone exists; the publisher checks that against its copy.
pub fn is_iana_name(name: &str) -> bool {
    let parts = name.split('/').count();
    name.len() <= 64
        && (1..=3).contains(&parts)
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && !part.starts_with('-')
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.'))
        })
}

impl CityTimeZone {
    /// The zone `name` with the rules `tzif` (a TZif file, RFC 8536, any version).
    ///
    /// Errors if the name is not shaped like an IANA identifier ([`is_iana_name`]), the data is larger than
    /// [`MAX_RULES_BYTES`] or is not valid TZif. The rules are not checked against the name: that is the
    /// publisher's job, with its copy of the IANA database.
    pub fn from_tzif(name: &str, tzif: &[u8]) -> Result<CityTimeZone, HoursError> {
        if !is_iana_name(name) {
            return Err(HoursError::UnknownTimeZone(name.to_owned()));
        }
        let invalid = |reason: String| HoursError::InvalidRules { zone: name.to_owned(), reason };
        if tzif.len() > MAX_RULES_BYTES {
            return Err(invalid(format!("{} bytes, more than the limit of {MAX_RULES_BYTES}", tzif.len())));
        }
        let tz = tz::TimeZone::from_tz_data(tzif).map_err(|e| invalid(e.to_string()))?;
        Ok(CityTimeZone { name: name.into(), tz: Arc::new(tz) })
    }

    /// UTC: the stand-in of a context that has no rules (never consulted there).
    pub(crate) fn utc() -> CityTimeZone {
        CityTimeZone { name: "UTC".into(), tz: Arc::new(tz::TimeZone::utc()) }
    }

    /// The IANA name the zone was made with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's UTC offset at `t`; `None` only for instants the rules cannot place or an offset of a day or more
    /// (which no real zone has).
    pub fn offset_at(&self, t: DateTime<Utc>) -> Option<FixedOffset> {
        // Transitions fall on whole seconds, so the second that contains `t` has the same offset.
        let local_time_type = self.tz.find_local_time_type(t.timestamp()).ok()?;
        FixedOffset::east_opt(local_time_type.ut_offset())
    }

    /// `t` in the zone's offset at that instant (its wall-clock reading and offset).
    pub fn at(&self, t: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        Some(t.with_timezone(&self.offset_at(t)?))
    }

    /// The wall-clock reading at `t`; `None` where it would fall outside chrono's range of dates.
    pub fn to_local(&self, t: DateTime<Utc>) -> Option<NaiveDateTime> {
        t.naive_utc().checked_add_offset(self.offset_at(t)?)
    }

    /// The instants at which the wall clock reads `local`, as chrono's `TimeZone::from_local_datetime` reports them:
    /// `Single` for an ordinary time, `Ambiguous(earlier, later)` inside a repeated hour (clocks turned back), `None`
    /// inside a skipped hour (clocks turned forward) and for times the rules cannot place.
    pub fn from_local(&self, local: NaiveDateTime) -> LocalResult<DateTime<FixedOffset>> {
        let mut found = [None; 2];
        let Some(list) = self.find(&mut found, local) else { return LocalResult::None };
        let instant = |t: &tz::DateTime| fixed_instant(t, local.nanosecond());
        match list.data() {
            [Some(FoundDateTimeKind::Normal(t))] => instant(t).map_or(LocalResult::None, LocalResult::Single),
            [Some(FoundDateTimeKind::Normal(a)), Some(FoundDateTimeKind::Normal(b))] => {
                // Clocks turned back: the reading happens twice; chrono lists the earlier instant first.
                match (instant(a), instant(b)) {
                    (Some(a), Some(b)) if a <= b => LocalResult::Ambiguous(a, b),
                    (Some(a), Some(b)) => LocalResult::Ambiguous(b, a),
                    _ => LocalResult::None,
                }
            }
            _ => LocalResult::None,
        }
    }

    /// For a wall-clock reading inside a skipped hour (see [`CityTimeZone::from_local`]), the instant the gap ends:
    /// the change itself, read on the clock after it (03:30 on the night Sofia turns 03:00 into 04:00 gives
    /// 04:00+03:00). `None` if `local` is not in a gap.
    pub fn gap_end(&self, local: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
        let mut found = [None; 2];
        match self.find(&mut found, local)?.data() {
            [Some(FoundDateTimeKind::Skipped { after_transition, .. })] => fixed_instant(after_transition, 0),
            _ => None,
        }
    }

    /// The rules' readings of the wall-clock time `local`: one, two (a repeated hour) or a skipped time.
    fn find<'a>(
        &self,
        buf: &'a mut [Option<FoundDateTimeKind>; 2],
        local: NaiveDateTime,
    ) -> Option<FoundDateTimeListRefMut<'a>> {
        let small = |v: u32| u8::try_from(v).ok();
        tz::DateTime::find_n(
            buf,
            local.year(),
            small(local.month())?,
            small(local.day())?,
            small(local.hour())?,
            small(local.minute())?,
            small(local.second())?,
            // chrono marks a leap second with nanoseconds >= 1e9; the offset is the same as a moment earlier.
            local.nanosecond().min(999_999_999),
            tz::TimeZone::as_ref(&self.tz),
        )
        .ok()
        .filter(|list| list.is_exhaustive())
    }
}

/// A date and time the rules found, as chrono's instant in its offset, with the given nanoseconds.
fn fixed_instant(t: &tz::DateTime, nanos: u32) -> Option<DateTime<FixedOffset>> {
    let offset = FixedOffset::east_opt(t.local_time_type().ut_offset())?;
    Some(DateTime::from_timestamp(t.unix_time(), nanos)?.with_timezone(&offset))
}

#[cfg(test)]
mod tests;
