//! The spatial index against a linear scan and against SQLite's R*Tree module, side by side in one run, on the
//! synthetic city of `common` (a handful of city centres with normally distributed places around each, plus sparse
//! rural points; seeded, so every run measures the same data). 10k, 100k and 1M places; each bench is short so the
//! whole run stays within a few minutes.
//!
//! The R*Tree alternative is what an app would write on top of the SQLite it already ships: an in-memory
//! `rtree(id, min_lat, max_lat, min_lon, max_lon)` table with one degenerate box per place, and the exact `(lat, lon)`
//! of each place in memory (as the pack's coordinate vector is) for distances:
//! - nearest-10: R*Tree has no k-nearest-neighbour query, so it does the usual *expanding box*: query a box around the
//!   user of half-side 250 m, keep the candidates inside the box's inscribed circle, and if fewer than 10 are, double
//!   the half-side and ask again; then sort by haversine distance and take 10;
//! - radius: the box circumscribing the circle, then an exact haversine filter and a sort;
//! - viewport: the box itself, then an exact filter (R*Tree stores 32-bit floats rounded outwards, so a box query may
//!   return points a few centimetres outside) and a sort by index.
//!
//! Loading the R*Tree is setup, outside every measurement; its load time is printed once per size and, at 10k and
//! 100k, also measured as `build/*/sqlite_rtree`.
//!
//! `LIBSQLITE3_FLAGS= cargo bench -p cityguide-core --bench spatial` (the empty `LIBSQLITE3_FLAGS` builds SQLite with
//! its R*Tree module, which the workspace leaves out of the phone library: see `.cargo/config.toml`)

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use cityguide_core::geodesy::distance_m;
use cityguide_core::pack::model::BBox;
use cityguide_core::query::spatial::SpatialIndex;
use common::{label, places, users, viewports};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main, measurement::WallTime};
use rusqlite::{Connection, params};

/// Metres per degree of latitude on the sphere `distance_m` measures on. Boxes get a 1 % margin on top, enough for the
/// radii used here (the circle's bulge towards the pole only matters at hundreds of kilometres).
const M_PER_DEG: f64 = 111_195.0;

/// An in-memory SQLite R*Tree over the places, plus their exact positions.
struct SqliteRtree<'a> {
    conn: Connection,
    coords: &'a [(f64, f64)],
}

impl<'a> SqliteRtree<'a> {
    fn build(coords: &'a [(f64, f64)]) -> SqliteRtree<'a> {
        let mut conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch("CREATE VIRTUAL TABLE places USING rtree(id, min_lat, max_lat, min_lon, max_lon);")
            .expect("SQLite's R*Tree module: the workspace builds SQLite without it (.cargo/config.toml); run this bench as `LIBSQLITE3_FLAGS= cargo bench -p cityguide-core --bench spatial`");
        let tx = conn.transaction().expect("tx");
        {
            let mut ins = tx.prepare("INSERT INTO places VALUES (?1, ?2, ?2, ?3, ?3)").expect("prepare");
            for (i, &(lat, lon)) in coords.iter().enumerate() {
                ins.execute(params![i as i64, lat, lon]).expect("insert");
            }
        }
        tx.commit().expect("commit");
        SqliteRtree { conn, coords }
    }

    /// Ids of the places in the box, as R*Tree answers (possibly a few cm too many).
    fn query_box(&self, min_lat: f64, max_lat: f64, min_lon: f64, max_lon: f64) -> Vec<u32> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM places WHERE max_lat >= ?1 AND min_lat <= ?2 AND max_lon >= ?3 AND min_lon <= ?4",
            )
            .expect("prepare");
        let rows = stmt.query_map(params![min_lat, max_lat, min_lon, max_lon], |r| r.get::<_, i64>(0)).expect("query");
        rows.map(|r| r.expect("row") as u32).collect()
    }

    /// Places within `r` metres, by distance then index: the circumscribing box, then the exact filter.
    fn within(&self, at: (f64, f64), r: f64) -> Vec<(f64, u32)> {
        // 1 % margin for the sphere-vs-degree approximation.
        let dlat = r * 1.01 / M_PER_DEG;
        let dlon = dlat / at.0.to_radians().cos().max(1e-6);
        let mut hits: Vec<(f64, u32)> = self
            .query_box(at.0 - dlat, at.0 + dlat, at.1 - dlon, at.1 + dlon)
            .into_iter()
            .filter_map(|i| {
                let d = distance_m(at, self.coords[i as usize]);
                (d <= r).then_some((d, i))
            })
            .collect();
        hits.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        hits
    }

    /// The `k` nearest places by expanding box: double the radius until `k` places lie within it.
    fn nearest(&self, at: (f64, f64), k: usize) -> Vec<(f64, u32)> {
        let mut r = 250.0;
        loop {
            let mut hits = self.within(at, r);
            if hits.len() >= k || r > 20_000_000.0 {
                hits.truncate(k);
                return hits;
            }
            r *= 2.0;
        }
    }

    fn bbox(&self, bbox: &BBox) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .query_box(bbox.min_lat, bbox.max_lat, bbox.min_lon, bbox.max_lon)
            .into_iter()
            .filter(|&i| bbox.contains(self.coords[i as usize].0, self.coords[i as usize].1))
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// The linear scan the index replaces: every place's distance, keeping the best `k` (distance, then index).
fn scan_nearest(coords: &[(f64, f64)], at: (f64, f64), k: usize) -> Vec<(f64, u32)> {
    let mut best: Vec<(f64, u32)> = Vec::with_capacity(k + 1);
    for (i, c) in coords.iter().enumerate() {
        let d = distance_m(at, *c);
        if best.len() == k && d >= best[k - 1].0 {
            continue;
        }
        let pos = best.partition_point(|b| b.0 <= d);
        best.insert(pos, (d, i as u32));
        best.truncate(k);
    }
    best
}

fn scan_radius(coords: &[(f64, f64)], at: (f64, f64), r: f64) -> Vec<(f64, u32)> {
    let mut hits: Vec<(f64, u32)> = coords
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let d = distance_m(at, *c);
            (d <= r).then_some((d, i as u32))
        })
        .collect();
    hits.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    hits
}

fn scan_bbox(coords: &[(f64, f64)], bbox: &BBox) -> Vec<u32> {
    (0..coords.len() as u32).filter(|&i| bbox.contains(coords[i as usize].0, coords[i as usize].1)).collect()
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sampling_mode(SamplingMode::Flat);
    g
}

fn spatial(c: &mut Criterion) {
    let users = users();
    let viewports = viewports();
    for n in [10_000, 100_000, 1_000_000] {
        let coords = places(n);
        let index = SpatialIndex::build(&coords);
        let size = label(n);
        let t = Instant::now();
        let rtree = SqliteRtree::build(&coords);
        eprintln!("setup: SQLite R*Tree over {size} places loaded in {:.2?} (once, not measured below)", t.elapsed());

        // The three answer the same questions identically (ties aside, which this data does not have).
        for &u in users.iter().take(32) {
            let ours: Vec<u32> = index.nearest(u, 10, None, |_| true).iter().map(|h| h.index).collect();
            let theirs: Vec<u32> = rtree.nearest(u, 10).iter().map(|h| h.1).collect();
            let scan: Vec<u32> = scan_nearest(&coords, u, 10).iter().map(|h| h.1).collect();
            assert_eq!(ours, scan, "index vs scan at {u:?}");
            assert_eq!(theirs, scan, "R*Tree vs scan at {u:?}");
            let ours: Vec<u32> = index.within_radius(u, 500.0, |_| true).iter().map(|h| h.index).collect();
            let theirs: Vec<u32> = rtree.within(u, 500.0).iter().map(|h| h.1).collect();
            assert_eq!(ours, theirs, "radius at {u:?}");
        }
        for v in &viewports {
            assert_eq!(index.within_bbox(v, |_| true), rtree.bbox(v), "viewport {v:?}");
        }

        let mut g = group(c, &format!("nearest10/{size}"));
        let mut q = 0usize;
        g.bench_function("index", |b| {
            b.iter(|| {
                q = (q + 1) % users.len();
                black_box(index.nearest(black_box(users[q]), 10, None, |_| true))
            })
        });
        g.bench_function("scan", |b| {
            b.iter(|| {
                q = (q + 1) % users.len();
                black_box(scan_nearest(&coords, black_box(users[q]), 10))
            })
        });
        g.bench_function("sqlite_rtree", |b| {
            b.iter(|| {
                q = (q + 1) % users.len();
                black_box(rtree.nearest(black_box(users[q]), 10))
            })
        });
        g.finish();

        let mut g = group(c, &format!("radius500m/{size}"));
        g.bench_function("index", |b| {
            b.iter(|| {
                q = (q + 1) % users.len();
                black_box(index.within_radius(black_box(users[q]), 500.0, |_| true))
            })
        });
        g.bench_function("scan", |b| {
            b.iter(|| {
                q = (q + 1) % users.len();
                black_box(scan_radius(&coords, black_box(users[q]), 500.0))
            })
        });
        g.bench_function("sqlite_rtree", |b| {
            b.iter(|| {
                q = (q + 1) % users.len();
                black_box(rtree.within(black_box(users[q]), 500.0))
            })
        });
        g.finish();

        let mut g = group(c, &format!("viewport/{size}"));
        g.bench_function("index", |b| {
            b.iter(|| {
                q = (q + 1) % viewports.len();
                black_box(index.within_bbox(black_box(&viewports[q]), |_| true))
            })
        });
        g.bench_function("scan", |b| {
            b.iter(|| {
                q = (q + 1) % viewports.len();
                black_box(scan_bbox(&coords, black_box(&viewports[q])))
            })
        });
        g.bench_function("sqlite_rtree", |b| {
            b.iter(|| {
                q = (q + 1) % viewports.len();
                black_box(rtree.bbox(black_box(&viewports[q])))
            })
        });
        g.bench_function("clusters_z15", |b| {
            b.iter(|| {
                q = (q + 1) % viewports.len();
                black_box(index.clusters(black_box(&viewports[q]), 15, |i| i % 97, |_| true))
            })
        });
        g.finish();
        drop(rtree);

        let mut g = group(c, &format!("build/{size}"));
        g.sample_size(10);
        g.bench_function("index", |b| b.iter(|| black_box(SpatialIndex::build(black_box(&coords)))));
        if n <= 100_000 {
            g.bench_function("sqlite_rtree", |b| b.iter(|| black_box(SqliteRtree::build(black_box(&coords)))));
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    // No plots and fewer bootstrap resamples: the medians are what is reported, and this keeps the run short.
    config = Criterion::default().without_plots().nresamples(10_000);
    targets = spatial
}
criterion_main!(benches);
