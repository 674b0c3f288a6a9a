//! The engine as an app sees it, through `Guide`, on the synthetic city of `common`:
//!
//! - **cold open**: a 20k-place pack is installed into a data directory once (setup); each iteration then opens a
//!   fresh `Guide` on that directory (migrations check, pack verification, spatial index, parsed opening hours) and
//!   asks for the 10 nearest places. The OS page cache stays warm between iterations, so this is an app restart,
//!   not the first start after a reboot.
//! - **typeahead**: 100k places installed once; `Guide::search` for 2,000 prefixes of real name words (half
//!   Cyrillic, half Latin) per length 1, 2 and 3, and 300 five-character queries for comparison, with and without
//!   the user's position. Each query is timed with `Instant` and p50 / p95 / p99 / max are printed (criterion reports
//!   means and medians only); criterion then also measures the median per length.
//! - **proximity**: one `ProximityTracker::update` at 100k places with the real `SpatialIndex::within_radius` as the
//!   `nearby` closure, on the same 50 m grid as `benches/proximity.rs` (which uses a hash grid) and on the synthetic
//!   city.
//!
//! `cargo bench -p cityguide-core --bench guide`

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use cityguide_core::geodesy::offset_m;
use cityguide_core::pack::{PackFile, write_pack};
use cityguide_core::query::hours;
use cityguide_core::query::proximity::{Fix, ProximityConfig, ProximityTracker};
use cityguide_core::query::spatial::SpatialIndex;
use cityguide_core::{Guide, GuideConfig, LatLon, NearbyQuery};
use common::{Rng, content, quantile, users};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main, measurement::WallTime};

const CITY: &str = "synth";

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sampling_mode(SamplingMode::Flat);
    g
}

fn config(dir: &std::path::Path) -> GuideConfig {
    GuideConfig { data_dir: dir.to_path_buf(), languages: vec!["bg".to_owned(), "en".to_owned()] }
}

/// A data directory with an `n`-place pack installed.
fn installed(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let bytes = write_pack(&content(n)).expect("write_pack");
    let size = bytes.len();
    let written = t.elapsed();
    let t = Instant::now();
    let guide = Guide::open(config(dir.path())).expect("open");
    guide.install_pack_bytes(bytes).expect("install");
    eprintln!(
        "setup: {n} places: pack of {:.1} MB written in {written:.2?}, installed (verify + search rows) in {:.2?}",
        size as f64 / 1e6,
        t.elapsed()
    );
    dir
}

fn ll(at: (f64, f64)) -> LatLon {
    LatLon::new(at.0, at.1).expect("users stand at valid positions")
}

fn nearby_query(at: (f64, f64)) -> NearbyQuery {
    NearbyQuery::new(ll(at), 10)
}

/// Medians of the steps of `Guide::open`, repeated outside the guide to see where the time goes.
fn cold_open_breakdown(dir: &std::path::Path) {
    let pack_path = std::fs::read_dir(dir.join("packs")).expect("packs").flatten().next().expect("a pack").path();
    let median = |f: &mut dyn FnMut()| {
        let mut times: Vec<Duration> = (0..11)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        times.sort_unstable();
        times[times.len() / 2]
    };
    let empty = tempfile::tempdir().expect("tempdir");
    let store = median(&mut || drop(black_box(Guide::open(config(empty.path())).expect("open"))));
    let verify = median(&mut || drop(black_box(PackFile::open(&pack_path).expect("pack"))));
    let content = PackFile::open(&pack_path).expect("pack").to_content();
    let coords: Vec<(f64, f64)> = content.places.iter().map(|p| (p.lat, p.lon)).collect();
    let index = median(&mut || drop(black_box(SpatialIndex::build(&coords))));
    let exprs: Vec<&str> = content.places.iter().filter_map(|p| p.opening_hours.as_deref()).collect();
    let hours = median(&mut || {
        for e in &exprs {
            black_box(hours::parse(e));
        }
    });
    let guide = median(&mut || drop(black_box(Guide::open(config(dir)).expect("open"))));
    eprintln!(
        "cold open breakdown (median of 11): Guide::open {guide:.2?}; its steps on their own: an empty guide \
         (database, migrations) {store:.2?}, PackFile::open (map + verify) {verify:.2?}, SpatialIndex::build \
         {index:.2?}, parse {} opening_hours {hours:.2?}",
        exprs.len()
    );
}

fn cold_open(c: &mut Criterion) {
    let dir = installed(20_000);
    cold_open_breakdown(dir.path());
    let users = users();
    let mut q = 0usize;
    let mut g = group(c, "cold_open/20k");
    g.bench_function("open_and_first_nearby", |b| {
        b.iter(|| {
            q = (q + 1) % users.len();
            let guide = Guide::open(config(dir.path())).expect("open");
            black_box(guide.nearby(CITY, &nearby_query(users[q]), None).expect("nearby"))
        })
    });
    g.bench_function("open_only", |b| b.iter(|| black_box(Guide::open(config(dir.path())).expect("open"))));
    let guide = Guide::open(config(dir.path())).expect("open");
    g.bench_function("nearby_when_open", |b| {
        b.iter(|| {
            q = (q + 1) % users.len();
            black_box(guide.nearby(CITY, &nearby_query(users[q]), None).expect("nearby"))
        })
    });
    g.finish();
}

/// `count` queries of `len` characters: prefixes of words of real names (both scripts), lowercased as typed.
fn queries(c: &cityguide_core::pack::model::Content, len: usize, count: usize) -> Vec<String> {
    let mut rng = Rng(0x7E9E + len as u64);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let place = rng.pick(&c.places);
        let lang = if rng.unit() < 0.5 { "bg" } else { "en" };
        let name = &place.name[lang];
        let words: Vec<&str> = name
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| w.chars().count() >= len.min(3) && w.chars().next().is_some_and(char::is_alphabetic))
            .collect();
        if words.is_empty() {
            continue;
        }
        let word = rng.pick(&words);
        out.push(word.chars().take(len).collect::<String>().to_lowercase());
    }
    out
}

fn typeahead(c: &mut Criterion) {
    let n = 100_000;
    let dir = installed(n);
    let city = content(n);
    let guide = Guide::open(config(dir.path())).expect("open");
    let users = users();
    let lengths = [1usize, 2, 3, 5];
    // 2,000 queries per prefix length; 300 five-character ones (they take the slower full-text path).
    let sets: Vec<Vec<String>> =
        lengths.iter().map(|&len| queries(&city, len, if len <= 3 { 2_000 } else { 300 })).collect();
    drop(city);

    eprintln!("typeahead at 100k places, limit 20, one warm-up pass then one measured pass (µs):");
    eprintln!("| query length | position | script | queries | p50 | p95 | p99 | max | mean results |");
    eprintln!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    for (len, set) in lengths.iter().zip(&sets) {
        for with_position in [true, false] {
            let mut times: Vec<(Duration, bool)> = Vec::with_capacity(set.len());
            let mut results = 0usize;
            for pass in 0..2 {
                for (i, text) in set.iter().enumerate() {
                    let near = with_position.then(|| ll(users[i % users.len()]));
                    let t = Instant::now();
                    let found = guide.search(CITY, text, near, 20, None).expect("search");
                    let dt = t.elapsed();
                    if pass == 1 {
                        times.push((dt, text.chars().any(|c| c.is_alphabetic() && !c.is_ascii())));
                        results += found.len();
                    }
                    black_box(found);
                }
            }
            let scripts: &[(&str, Option<bool>)] = if with_position {
                &[("all", None), ("Cyrillic", Some(true)), ("Latin", Some(false))]
            } else {
                &[("all", None)]
            };
            for &(script, cyrillic) in scripts {
                let mut t: Vec<Duration> =
                    times.iter().filter(|(_, c)| cyrillic.is_none_or(|w| w == *c)).map(|(d, _)| *d).collect();
                t.sort_unstable();
                eprintln!(
                    "| {len} | {} | {script} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} |",
                    if with_position { "yes" } else { "no" },
                    t.len(),
                    us(quantile(&t, 0.5)),
                    us(quantile(&t, 0.95)),
                    us(quantile(&t, 0.99)),
                    us(*t.last().expect("times")),
                    results as f64 / set.len() as f64,
                );
            }
        }
    }

    let mut g = group(c, "typeahead/100k");
    for (len, set) in lengths.iter().zip(&sets) {
        let mut q = 0usize;
        g.bench_function(format!("{len}char_near"), |b| {
            b.iter(|| {
                q = (q + 1) % set.len();
                black_box(guide.search(CITY, &set[q], Some(ll(users[q % users.len()])), 20, None).expect("search"))
            })
        });
    }
    g.finish();
}

fn proximity(c: &mut Criterion) {
    let mut g = group(c, "proximity_update/100k");

    // The same 50 m grid and walk as `benches/proximity.rs`.
    let base = (43.2048, 27.9105);
    let grid: Vec<(f64, f64)> =
        (0..100_000).map(|i| offset_m(base, (i % 316) as f64 * 50.0, (i / 316) as f64 * 50.0)).collect();
    let index = SpatialIndex::build(&grid);
    let nearby = |at, r| index.within_radius(at, r, |_| true).into_iter().map(|h| (h.index, h.distance_m)).collect();
    let mut tracker = ProximityTracker::new(ProximityConfig::default());
    let mut step: i64 = 0;
    g.bench_function("grid50m_spatial_index", |b| {
        b.iter(|| {
            step += 1;
            let x = (step % 2_858) as f64 * 1.4;
            let p = offset_m(base, 4_000.0 + x, 5_003.0);
            let fix = Fix { lat: p.0, lon: p.1, accuracy_m: 8.0, time_ms: step * 1_000 };
            black_box(tracker.update(black_box(fix), nearby, |_| None))
        })
    });

    // The synthetic country: a walk through central Varna, where its places are densest.
    let places = common::places(100_000);
    let index = SpatialIndex::build(&places);
    let nearby = |at, r| index.within_radius(at, r, |_| true).into_iter().map(|h| (h.index, h.distance_m)).collect();
    let varna = (common::CITIES[2].0, common::CITIES[2].1);
    let mut tracker = ProximityTracker::new(ProximityConfig::default());
    let mut step: i64 = 0;
    g.bench_function("synthetic_city_spatial_index", |b| {
        b.iter(|| {
            step += 1;
            let x = (step % 2_858) as f64 * 1.4;
            let p = offset_m(varna, -2_000.0 + x, 0.0);
            let fix = Fix { lat: p.0, lon: p.1, accuracy_m: 8.0, time_ms: step * 1_000 };
            black_box(tracker.update(black_box(fix), nearby, |_| None))
        })
    });
    g.finish();
}

criterion_group!(benches, cold_open, typeahead, proximity);
criterion_main!(benches);
