//! The city's time zone, from the rules its pack carries.
//!
//! Opening hours are written on the city's wall clock, so the core must map instants to that clock and back. A phone
//! does not carry a time-zone database for this (it was the largest single item of the phone library): the pack
//! carries the TZif rules (RFC 8536) of the one zone it names (`Metadata.time_zone_rules`, format 1.2), and this type
//! reads them with `jiff`'s TZif parser. The rules come from the network, so parsing them is checked, bounded and
//! never panics; the reader refuses a pack whose rules do not parse.
//!
//! The API speaks `chrono` (the rest of the core does); `jiff` stays an implementation detail.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};

use super::HoursError;

/// The largest TZif data accepted, bytes. Real zones need 0.1 to 3 KB (slim) or up to 4 KB (fat); the cap keeps a
/// hostile pack from making the reader parse megabytes of transitions.
pub const MAX_RULES_BYTES: usize = 64 * 1024;

/// A named time zone with its rules: maps instants to the local wall clock and back. Cheap to clone (the rules are
/// shared); Send + Sync.
#[derive(Debug, Clone)]
pub struct CityTimeZone {
    name: std::sync::Arc<str>,
    tz: jiff::tz::TimeZone,
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
        let tz = jiff::tz::TimeZone::tzif(name, tzif).map_err(|e| invalid(e.to_string()))?;
        Ok(CityTimeZone { name: name.into(), tz })
    }

    /// UTC: the stand-in of a context that has no rules (never consulted there).
    pub(crate) fn utc() -> CityTimeZone {
        CityTimeZone { name: "UTC".into(), tz: jiff::tz::TimeZone::UTC }
    }

    /// The IANA name the zone was made with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's UTC offset at `t`; `None` only for instants outside years -9999..=9999 or an offset of a day or
    /// more (which no real zone has).
    pub fn offset_at(&self, t: DateTime<Utc>) -> Option<FixedOffset> {
        // Transitions fall on whole seconds, so the second that contains `t` has the same offset.
        let ts = jiff::Timestamp::from_second(t.timestamp()).ok()?;
        fixed(self.tz.to_offset(ts))
    }

    /// `t` in the zone's offset at that instant (its wall-clock reading and offset).
    pub fn at(&self, t: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        Some(t.with_timezone(&self.offset_at(t)?))
    }

    /// The wall-clock reading at `t`.
    pub fn to_local(&self, t: DateTime<Utc>) -> Option<NaiveDateTime> {
        Some(self.at(t)?.naive_local())
    }

    /// The instants at which the wall clock reads `local`, as chrono's `TimeZone::from_local_datetime` reports them:
    /// `Single` for an ordinary time, `Ambiguous(earlier, later)` inside a repeated hour (clocks turned back), `None`
    /// inside a skipped hour (clocks turned forward) and for times outside years -9999..=9999.
    pub fn from_local(&self, local: NaiveDateTime) -> LocalResult<DateTime<FixedOffset>> {
        let Some(civil) = civil(local) else { return LocalResult::None };
        let with =
            |offset: jiff::tz::Offset| fixed(offset).and_then(|o| o.from_local_datetime(&local).single()).ok_or(());
        let result = match self.tz.to_ambiguous_timestamp(civil).offset() {
            jiff::tz::AmbiguousOffset::Unambiguous { offset } => with(offset).map(LocalResult::Single),
            // Clocks turned back: the reading happens first with the offset before the change, then with the one after.
            jiff::tz::AmbiguousOffset::Fold { before, after } => {
                with(before).and_then(|early| with(after).map(|late| LocalResult::Ambiguous(early, late)))
            }
            jiff::tz::AmbiguousOffset::Gap { .. } => Ok(LocalResult::None),
        };
        result.unwrap_or(LocalResult::None)
    }

    /// For a wall-clock reading inside a skipped hour (see [`CityTimeZone::from_local`]), the instant the gap ends:
    /// the change itself, read on the clock after it (03:30 on the night Sofia turns 03:00 into 04:00 gives
    /// 04:00+03:00). `None` if `local` is not in a gap.
    pub fn gap_end(&self, local: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
        let jiff::tz::AmbiguousOffset::Gap { after, .. } = self.tz.to_ambiguous_timestamp(civil(local)?).offset()
        else {
            return None;
        };
        // Read with the later offset, the gap's wall-clock time lies before the change; the next transition is it.
        let before_change = local.and_utc().timestamp().checked_sub(i64::from(after.seconds()))?;
        let change = self.tz.following(jiff::Timestamp::from_second(before_change).ok()?).next()?;
        let at = DateTime::from_timestamp(change.timestamp().as_second(), 0)?;
        Some(at.with_timezone(&fixed(change.offset())?))
    }
}

/// A `jiff` offset as chrono's; `None` beyond chrono's range of less than a day.
fn fixed(offset: jiff::tz::Offset) -> Option<FixedOffset> {
    FixedOffset::east_opt(offset.seconds())
}

/// A chrono wall-clock reading as `jiff`'s; `None` outside years -9999..=9999.
fn civil(t: NaiveDateTime) -> Option<jiff::civil::DateTime> {
    use chrono::Datelike;
    let small = |v: u32| i8::try_from(v).ok();
    jiff::civil::DateTime::new(
        i16::try_from(t.year()).ok()?,
        small(t.month())?,
        small(t.day())?,
        small(t.hour())?,
        small(t.minute())?,
        small(t.second())?,
        // chrono marks a leap second with nanoseconds >= 1e9; the offset is the same as a moment earlier.
        i32::try_from(t.nanosecond().min(999_999_999)).ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests;
