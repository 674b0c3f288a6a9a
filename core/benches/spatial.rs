//! The spatial index against a linear scan, on synthetic but realistic places: a handful of city centres with
//! normally distributed places around each, plus sparse rural points over the whole region (seeded, so every run
//! measures the same data). 10k, 100k and 1M places; each bench is short so the whole run stays within a few minutes.
//!
//! `cargo bench -p cityguide-core --bench spatial`

use std::hint::black_box;
use std::time::Duration;

use cityguide_core::geodesy::distance_m;
use cityguide_core::model::BBox;
use cityguide_core::spatial::SpatialIndex;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main, measurement::WallTime};

/// City centres (lat, lon) and their spread in degrees: Bulgaria's largest cities.
const CITIES: [(f64, f64, f64); 6] = [
    (42.6977, 23.3219, 0.05),  // Sofia
    (42.1354, 24.7453, 0.035), // Plovdiv
    (43.2141, 27.9147, 0.03),  // Varna
    (42.5048, 27.4626, 0.025), // Burgas
    (43.8356, 25.9657, 0.02),  // Ruse
    (42.4258, 25.6345, 0.02),  // Stara Zagora
];
/// The rural rest: a box over the country.
const REGION: BBox = BBox { min_lat: 41.2, min_lon: 22.4, max_lat: 44.2, max_lon: 28.6 };
/// Share of places outside the cities.
const RURAL: f64 = 0.1;

/// SplitMix64, seeded.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
    /// A place: near a city, or anywhere in the region.
    fn place(&mut self) -> (f64, f64) {
        if self.unit() < RURAL {
            let lat = REGION.min_lat + (REGION.max_lat - REGION.min_lat) * self.unit();
            let lon = REGION.min_lon + (REGION.max_lon - REGION.min_lon) * self.unit();
            return (lat, lon);
        }
        let (lat, lon, spread) = CITIES[(self.next_u64() % CITIES.len() as u64) as usize];
        (lat + spread * self.normal(), lon + spread * 1.4 * self.normal())
    }
    /// Where a user stands: in a city, since that is where the app is used.
    fn user(&mut self) -> (f64, f64) {
        let (lat, lon, spread) = CITIES[(self.next_u64() % CITIES.len() as u64) as usize];
        (lat + spread * self.normal(), lon + spread * 1.4 * self.normal())
    }
}

fn places(n: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng(0xC17E_6D1D_E000 + n as u64);
    (0..n).map(|_| rng.place()).collect()
}

/// Query points cycled through, so one cached query does not flatter the index.
fn users() -> Vec<(f64, f64)> {
    let mut rng = Rng(42);
    (0..256).map(|_| rng.user()).collect()
}

/// A phone screen at about zoom 15 over a city centre.
fn viewports() -> Vec<BBox> {
    CITIES
        .iter()
        .map(|&(lat, lon, _)| BBox {
            min_lat: lat - 0.01,
            min_lon: lon - 0.015,
            max_lat: lat + 0.01,
            max_lon: lon + 0.015,
        })
        .collect()
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

fn label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 => format!("{}M", n / 1_000_000),
        n => format!("{}k", n / 1_000),
    }
}

fn spatial(c: &mut Criterion) {
    let users = users();
    let viewports = viewports();
    for n in [10_000, 100_000, 1_000_000] {
        let coords = places(n);
        let index = SpatialIndex::build(&coords);
        let size = label(n);

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
        g.bench_function("clusters_z15", |b| {
            b.iter(|| {
                q = (q + 1) % viewports.len();
                black_box(index.clusters(black_box(&viewports[q]), 15, |i| i % 97, |_| true))
            })
        });
        g.finish();

        let mut g = group(c, &format!("build/{size}"));
        g.sample_size(10);
        g.bench_function("index", |b| b.iter(|| black_box(SpatialIndex::build(black_box(&coords)))));
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
