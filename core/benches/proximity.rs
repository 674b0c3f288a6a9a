//! One `ProximityTracker::update` with 100 000 places around the walker.
//!
//! `nearby` here is a simple grid of 100 m buckets standing in for the engine's spatial index.

#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;

use cityguide_core::geodesy::{distance_m, offset_m};
use cityguide_core::query::proximity::{Fix, ProximityConfig, ProximityTracker};
use criterion::{Criterion, criterion_group, criterion_main};

const BASE: (f64, f64) = (43.2048, 27.9105);
const CELL_DEG: f64 = 0.001;

struct Grid {
    places: Vec<(f64, f64)>,
    cells: HashMap<(i64, i64), Vec<u32>>,
}

impl Grid {
    fn new(places: Vec<(f64, f64)>) -> Grid {
        let mut cells: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
        for (i, &p) in places.iter().enumerate() {
            cells.entry(Self::cell(p)).or_default().push(i as u32);
        }
        Grid { places, cells }
    }

    fn cell(p: (f64, f64)) -> (i64, i64) {
        ((p.0 / CELL_DEG).floor() as i64, (p.1 / CELL_DEG).floor() as i64)
    }

    fn nearby(&self, at: (f64, f64), radius_m: f64) -> Vec<(u32, f64)> {
        let dlat = radius_m / 111_000.0;
        let dlon = dlat / at.0.to_radians().cos();
        let (lo, hi) = (Self::cell((at.0 - dlat, at.1 - dlon)), Self::cell((at.0 + dlat, at.1 + dlon)));
        let mut out = Vec::new();
        for y in lo.0..=hi.0 {
            for x in lo.1..=hi.1 {
                for &i in self.cells.get(&(y, x)).map_or(&[][..], |v| &v[..]) {
                    let d = distance_m(at, self.places[i as usize]);
                    if d <= radius_m {
                        out.push((i, d));
                    }
                }
            }
        }
        out
    }
}

fn bench_update(c: &mut Criterion) {
    // 100 000 places on a 50 m grid (316 × 317, about 16 km × 16 km).
    let grid =
        Grid::new((0..100_000).map(|i| offset_m(BASE, (i % 316) as f64 * 50.0, (i / 316) as f64 * 50.0)).collect());
    let mut tracker = ProximityTracker::new(ProximityConfig::default());
    let mut step: i64 = 0;
    c.bench_function("proximity_update_100k_places", |b| {
        b.iter(|| {
            // Walk back and forth along a 2 km street through the grid, 1.4 m per one-second fix.
            step += 1;
            let x = (step % 2_858) as f64 * 1.4;
            let p = offset_m(BASE, 4_000.0 + x, 5_003.0);
            let fix = Fix { lat: p.0, lon: p.1, accuracy_m: 8.0, time_ms: step * 1_000 };
            black_box(tracker.update(black_box(fix), |at, r| grid.nearby(at, r), |_| None))
        })
    });
}

criterion_group!(benches, bench_update);
criterion_main!(benches);
