//! Every query checked against a brute-force linear scan on seeded random data, plus the edge cases by name.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::cluster::{EXACT_ZOOM, cell_key, clusters_with_members};
use super::*;
use crate::geodesy::{bearing_deg, distance_m};

/// SplitMix64: a small seeded generator, so the tests need no randomness crate and every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..1`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Uniform over the sphere, with some places exactly on the poles and on longitude ±180.
    Globe,
    /// Normally distributed around a few city centres.
    Cities,
    /// Longitudes in 179.9..=180 and -180..=-179.9.
    Antimeridian,
    /// Latitudes beyond ±89.5, some exactly ±90.
    Poles,
    /// Most places on one coordinate, the rest on a second one or nearby.
    Duplicates,
}

const KINDS: [Kind; 5] = [Kind::Globe, Kind::Cities, Kind::Antimeridian, Kind::Poles, Kind::Duplicates];
const CITIES: [(f64, f64); 4] = [(43.2141, 27.9147), (-17.7134, 178.065), (64.1466, -21.9426), (-33.8688, 151.2093)];

fn sample(rng: &mut Rng, kind: Kind) -> (f64, f64) {
    match kind {
        Kind::Globe => {
            let lat = (2.0 * rng.unit() - 1.0).asin().to_degrees();
            let lon = rng.range(-180.0, 180.0);
            match rng.below(40) {
                0 => (90.0, lon),
                1 => (-90.0, lon),
                2 => (lat, 180.0),
                3 => (lat, -180.0),
                _ => (lat, lon),
            }
        }
        Kind::Cities => {
            let (lat, lon) = CITIES[rng.below(CITIES.len() as u64) as usize];
            ((lat + 0.02 * rng.normal()).clamp(-90.0, 90.0), lon + 0.03 * rng.normal())
        }
        Kind::Antimeridian => {
            let lat = rng.range(-17.2, -16.8);
            let off = if rng.chance(0.05) { 0.0 } else { rng.range(0.0, 0.1) };
            if rng.chance(0.5) { (lat, 180.0 - off) } else { (lat, -180.0 + off) }
        }
        Kind::Poles => {
            let lat = if rng.chance(0.05) { 90.0 } else { rng.range(89.5, 90.0) };
            let lon = rng.range(-180.0, 180.0);
            if rng.chance(0.5) { (lat, lon) } else { (-lat, lon) }
        }
        Kind::Duplicates => match rng.below(10) {
            0..=6 => (43.2, 27.9),
            7 => (43.2001, 27.9),
            _ => (43.2 + 0.001 * rng.normal(), 27.9 + 0.001 * rng.normal()),
        },
    }
}

/// `n` places of `kind`, with a few invalid coordinates mixed in (they must never be returned).
fn dataset(seed: u64, kind: Kind, n: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| match rng.below(200) {
            0 => (f64::NAN, 10.0),
            1 => (95.0, f64::INFINITY),
            _ => sample(&mut rng, kind),
        })
        .collect()
}

/// A query point: near the data, exactly on a place, or anywhere.
fn query_point(rng: &mut Rng, kind: Kind, coords: &[(f64, f64)]) -> (f64, f64) {
    match rng.below(10) {
        0 if !coords.is_empty() => coords[rng.below(coords.len() as u64) as usize],
        1 => sample(rng, Kind::Globe),
        _ => sample(rng, kind),
    }
}

/// A filter given by `(modulus, residue)`: keeps `i % m != r`, or everything when `m == 1`.
fn random_filter(rng: &mut Rng) -> (u32, u32) {
    let m = [1, 1, 2, 3, 7, 1000][rng.below(6) as usize];
    (m, rng.below(u64::from(m)) as u32)
}

fn keep((m, r): (u32, u32)) -> impl Fn(u32) -> bool {
    move |i| m == 1 || i % m != r
}

fn brute_hits(coords: &[(f64, f64)], at: (f64, f64), f: (u32, u32), within: impl Fn(f64) -> bool) -> Vec<Hit> {
    if !valid_query(at) {
        return Vec::new();
    }
    let keep = keep(f);
    let mut hits: Vec<Hit> = coords
        .iter()
        .enumerate()
        .filter(|(i, c)| valid_place(**c) && keep(*i as u32))
        .map(|(i, c)| Hit { index: i as u32, distance_m: distance_m(at, *c), bearing_deg: bearing_deg(at, *c) })
        .filter(|h| within(h.distance_m))
        .collect();
    hits.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.index.cmp(&b.index)));
    hits
}

fn in_bbox(bbox: &BBox, (lat, lon): (f64, f64)) -> bool {
    let lat_ok = lat >= bbox.min_lat && lat <= bbox.max_lat;
    let lon_ok = if bbox.min_lon <= bbox.max_lon {
        lon >= bbox.min_lon && lon <= bbox.max_lon
    } else {
        lon >= bbox.min_lon || lon <= bbox.max_lon
    };
    valid_place((lat, lon)) && lat_ok && lon_ok
}

fn brute_bbox(coords: &[(f64, f64)], bbox: &BBox, f: (u32, u32)) -> Vec<u32> {
    let keep = keep(f);
    (0..coords.len() as u32).filter(|&i| in_bbox(bbox, coords[i as usize]) && keep(i)).collect()
}

fn random_bbox(rng: &mut Rng, kind: Kind, coords: &[(f64, f64)]) -> BBox {
    let (lat, lon) = query_point(rng, kind, coords);
    let scale = [0.0, 0.001, 0.05, 1.0, 30.0][rng.below(5) as usize];
    let (dlat, dlon) = (rng.unit() * scale, rng.unit() * scale * 2.0);
    let mut b = BBox { min_lat: lat - dlat, min_lon: lon - dlon, max_lat: lat + dlat, max_lon: lon + dlon };
    match rng.below(12) {
        // Across the antimeridian.
        0 => {
            b.min_lon = rng.range(150.0, 180.0);
            b.max_lon = rng.range(-180.0, -150.0);
        }
        1 => {
            b.min_lon = 179.95;
            b.max_lon = -179.95;
        }
        // Edges exactly on a place, and the whole world.
        2 => b = BBox { min_lat: lat, min_lon: lon, max_lat: lat, max_lon: lon },
        3 => b = BBox { min_lat: -90.0, min_lon: -180.0, max_lat: 90.0, max_lon: 180.0 },
        // Empty by construction.
        4 => std::mem::swap(&mut b.min_lat, &mut b.max_lat),
        _ => {}
    }
    b
}

fn random_radius(rng: &mut Rng, coords: &[(f64, f64)], at: (f64, f64)) -> f64 {
    match rng.below(8) {
        0 => 0.0,
        // Exactly the distance of some place: the boundary is included.
        1 if !coords.is_empty() => {
            let d = distance_m(at, coords[rng.below(coords.len() as u64) as usize]);
            if d.is_finite() { d } else { 1_000.0 }
        }
        2 => rng.range(1e6, 2.1e7),
        _ => 10f64.powf(rng.range(0.0, 5.5)),
    }
}

const SIZES: [usize; 3] = [1, 300, 2500];
const QUERIES: usize = 150;

#[test]
fn nearest_equals_brute_force() {
    let mut cases = 0;
    for (s, kind) in KINDS.iter().enumerate() {
        for (t, &n) in SIZES.iter().enumerate() {
            let coords = dataset(1000 + (s * 10 + t) as u64, *kind, n);
            let index = SpatialIndex::build(&coords);
            let mut rng = Rng(7 + (s * 10 + t) as u64);
            for _ in 0..QUERIES {
                let at = query_point(&mut rng, *kind, &coords);
                let k = [0, 1, 2, 5, 10, 50, 5000][rng.below(7) as usize];
                let max = if rng.chance(0.3) { Some(random_radius(&mut rng, &coords, at)) } else { None };
                let f = random_filter(&mut rng);
                let got = index.nearest(at, k, max, keep(f));
                let mut want = brute_hits(&coords, at, f, |d| max.is_none_or(|m| d <= m));
                want.truncate(k);
                assert_eq!(got, want, "{kind:?} n={n} at={at:?} k={k} max={max:?} filter={f:?}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, KINDS.len() * SIZES.len() * QUERIES);
}

#[test]
fn within_radius_equals_brute_force() {
    for (s, kind) in KINDS.iter().enumerate() {
        for (t, &n) in SIZES.iter().enumerate() {
            let coords = dataset(2000 + (s * 10 + t) as u64, *kind, n);
            let index = SpatialIndex::build(&coords);
            let mut rng = Rng(17 + (s * 10 + t) as u64);
            for _ in 0..QUERIES {
                let at = query_point(&mut rng, *kind, &coords);
                let r = random_radius(&mut rng, &coords, at);
                let f = random_filter(&mut rng);
                let got = index.within_radius(at, r, keep(f));
                let want = brute_hits(&coords, at, f, |d| d <= r);
                // Both sides measure with the same function, so even places exactly on the boundary agree (no
                // 1e-6 m tolerance needed).
                assert_eq!(got, want, "{kind:?} n={n} at={at:?} r={r} filter={f:?}");
            }
        }
    }
}

#[test]
fn within_bbox_equals_brute_force() {
    for (s, kind) in KINDS.iter().enumerate() {
        for (t, &n) in SIZES.iter().enumerate() {
            let coords = dataset(3000 + (s * 10 + t) as u64, *kind, n);
            let index = SpatialIndex::build(&coords);
            let mut rng = Rng(27 + (s * 10 + t) as u64);
            for _ in 0..QUERIES {
                let bbox = random_bbox(&mut rng, *kind, &coords);
                let f = random_filter(&mut rng);
                assert_eq!(index.within_bbox(&bbox, keep(f)), brute_bbox(&coords, &bbox, f), "{kind:?} {bbox:?}");
            }
        }
    }
}

fn rank_of(i: u32) -> u32 {
    // Few distinct ranks, so ties between members are common.
    (i.wrapping_mul(2_654_435_761) >> 7) % 5
}

#[test]
fn clusters_partition_the_viewport() {
    for (s, kind) in KINDS.iter().enumerate() {
        for (t, &n) in SIZES.iter().enumerate() {
            let coords = dataset(4000 + (s * 10 + t) as u64, *kind, n);
            let index = SpatialIndex::build(&coords);
            let mut rng = Rng(37 + (s * 10 + t) as u64);
            for _ in 0..QUERIES {
                let bbox = random_bbox(&mut rng, *kind, &coords);
                let zoom = rng.below(22) as u8;
                let f = random_filter(&mut rng);
                check_clusters(&index, &coords, &bbox, zoom, f);
            }
        }
    }
}

fn check_clusters(index: &SpatialIndex, coords: &[(f64, f64)], bbox: &BBox, zoom: u8, f: (u32, u32)) {
    let ctx = format!("{bbox:?} zoom={zoom} filter={f:?}");
    let with_members = clusters_with_members(index, bbox, zoom, rank_of, keep(f), true);
    let public = index.clusters(bbox, zoom, rank_of, keep(f));
    assert_eq!(public, with_members.iter().map(|(c, _)| *c).collect::<Vec<_>>(), "{ctx}");

    // Every filtered place in the box is in exactly one cluster.
    let mut all: Vec<u32> = with_members.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    all.sort_unstable();
    let want = brute_bbox(coords, bbox, f);
    assert_eq!(all, want, "{ctx}");
    assert_eq!(public.iter().map(|c| c.count as usize).sum::<usize>(), want.len(), "{ctx}");

    let mut keys = HashSet::new();
    let mut cluster_of_coord = BTreeMap::new();
    for (n, (c, members)) in with_members.iter().enumerate() {
        assert_eq!(c.count as usize, members.len(), "{ctx}");
        let rep = *members.iter().max_by_key(|&&i| (rank_of(i), std::cmp::Reverse(i))).expect("non-empty");
        assert_eq!(c.representative, rep, "{ctx}");
        let pts: Vec<(f64, f64)> = members.iter().map(|&i| coords[i as usize]).collect();
        let fold =
            |g: fn(f64, f64) -> f64, pick: fn(&(f64, f64)) -> f64| pts.iter().map(pick).reduce(g).expect("non-empty");
        let want_bbox = BBox {
            min_lat: fold(f64::min, |p| p.0),
            min_lon: fold(f64::min, |p| p.1),
            max_lat: fold(f64::max, |p| p.0),
            max_lon: fold(f64::max, |p| p.1),
        };
        assert_eq!(c.bbox, want_bbox, "{ctx}");
        assert!(c.bbox.contains(c.lat, c.lon), "{ctx} {c:?}");
        let mean_lat = pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64;
        let mean_lon = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
        assert!((c.lat - mean_lat).abs() < 1e-9 && (c.lon - mean_lon).abs() < 1e-9, "{ctx} {c:?}");
        // One grid cell per cluster, never the same cell twice.
        let key = cell_key(pts[0], zoom);
        assert!(pts.iter().all(|p| cell_key(*p, zoom) == key), "{ctx}");
        assert!(keys.insert(key), "{ctx}");
        if zoom < EXACT_ZOOM {
            let width = 360.0 / f64::from(1u32 << zoom) / 4.0;
            assert!(c.bbox.max_lon - c.bbox.min_lon <= width, "{ctx} {c:?}");
        } else {
            assert!(pts.iter().all(|p| *p == pts[0]), "{ctx}");
        }
        // Identical coordinates share a cluster.
        for p in &pts {
            let prev = cluster_of_coord.insert((p.0.to_bits(), p.1.to_bits()), n);
            assert!(prev.is_none_or(|prev| prev == n), "{ctx}");
        }
    }
    // Largest first, then by representative.
    assert!(public.windows(2).all(|w| (w[1].count, w[0].representative) < (w[0].count, w[1].representative)), "{ctx}");
}

#[test]
fn empty_index_answers_nothing() {
    let index = SpatialIndex::build(&[]);
    assert!(index.is_empty());
    assert_eq!(index.len(), 0);
    let world = BBox { min_lat: -90.0, min_lon: -180.0, max_lat: 90.0, max_lon: 180.0 };
    assert!(index.nearest((0.0, 0.0), 5, None, |_| true).is_empty());
    assert!(index.within_radius((0.0, 0.0), 1e7, |_| true).is_empty());
    assert!(index.within_bbox(&world, |_| true).is_empty());
    assert!(index.clusters(&world, 3, |_| 0, |_| true).is_empty());
}

#[test]
fn non_finite_inputs_give_empty_results() {
    let index = SpatialIndex::build(&[(0.0, 0.0), (f64::NAN, 1.0), (1.0, f64::INFINITY), (91.0, 0.0), (0.0, 181.0)]);
    assert_eq!(index.len(), 5);
    assert!(!index.is_empty());
    let hits = index.nearest((0.0, 0.0), 10, None, |_| true);
    assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), vec![0], "invalid places are never returned");
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(index.nearest((bad, 0.0), 1, None, |_| true).is_empty());
        assert!(index.nearest((0.0, bad), 1, None, |_| true).is_empty());
        assert!(index.nearest((0.0, 0.0), 1, Some(bad), |_| true).is_empty());
        assert!(index.within_radius((bad, 0.0), 10.0, |_| true).is_empty());
        assert!(index.within_radius((0.0, 0.0), bad, |_| true).is_empty());
        let b = BBox { min_lat: bad, min_lon: -1.0, max_lat: 1.0, max_lon: 1.0 };
        assert!(index.within_bbox(&b, |_| true).is_empty());
        assert!(index.clusters(&b, 5, |_| 0, |_| true).is_empty());
    }
    assert!(index.nearest((0.0, 0.0), 1, Some(-1.0), |_| true).is_empty());
    assert!(index.within_radius((0.0, 0.0), -1.0, |_| true).is_empty());
    assert!(index.nearest((90.5, 0.0), 1, None, |_| true).is_empty());
}

#[test]
fn k_zero_and_huge_k() {
    let index = SpatialIndex::build(&[(1.0, 1.0), (2.0, 2.0)]);
    assert!(index.nearest((0.0, 0.0), 0, None, |_| true).is_empty());
    let all = index.nearest((0.0, 0.0), usize::MAX, None, |_| true);
    assert_eq!(all.iter().map(|h| h.index).collect::<Vec<_>>(), vec![0, 1]);
}

#[test]
fn nearest_across_the_antimeridian() {
    let index = SpatialIndex::build(&[(0.0, 179.999), (0.0, -179.0), (0.0, 170.0)]);
    let hits = index.nearest((0.0, -179.999), 3, None, |_| true);
    assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert!((hits[0].distance_m - 222.4).abs() < 1.0, "{hits:?}");
    assert!((hits[0].bearing_deg - 270.0).abs() < 1e-6, "west: {hits:?}");
    assert!((hits[1].bearing_deg - 90.0).abs() < 1e-6, "east: {hits:?}");
    // Longitude 180 and -180 are the same meridian.
    let same = SpatialIndex::build(&[(10.0, 180.0)]);
    assert!(same.nearest((10.0, -180.0), 1, None, |_| true)[0].distance_m < 1e-6);
}

#[test]
fn nearest_at_the_poles() {
    let coords = [(90.0, 0.0), (90.0, 120.0), (89.9, -45.0), (-90.0, 0.0)];
    let index = SpatialIndex::build(&coords);
    let hits = index.nearest((90.0, -170.0), 4, None, |_| true);
    // Both places on the pole are (up to rounding in cos 90°) at distance 0; their order is the haversine's.
    let mut order: Vec<u32> = hits.iter().map(|h| h.index).collect();
    order[..2].sort_unstable();
    assert_eq!(order, vec![0, 1, 2, 3]);
    assert!(hits[0].distance_m < 1e-3 && hits[1].distance_m < 1e-3);
    assert!((hits[2].distance_m - 11_119.5).abs() < 1.0, "{hits:?}");
    assert!((hits[3].distance_m - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0);
    let south = index.within_radius((-89.99, 77.0), 2_000.0, |_| true);
    assert_eq!(south.iter().map(|h| h.index).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn thousands_of_duplicates() {
    let mut coords = vec![(43.2, 27.9); 5000];
    coords.push((43.2001, 27.9));
    let index = SpatialIndex::build(&coords);
    let hits = index.nearest((43.2, 27.9), 3, None, |_| true);
    assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert!(hits.iter().all(|h| h.distance_m == 0.0 && h.bearing_deg == 0.0));
    let odd = index.nearest((43.2, 27.9), 2, None, |i| i % 2 == 1);
    assert_eq!(odd.iter().map(|h| h.index).collect::<Vec<_>>(), vec![1, 3]);
    let beyond = index.nearest((43.2, 27.9), 1, None, |i| i == 5000);
    assert_eq!(beyond[0].index, 5000);
    let at = index.within_radius((43.2, 27.9), 0.0, |_| true);
    assert_eq!(at.iter().map(|h| h.index).collect::<Vec<_>>(), (0..5000).collect::<Vec<_>>());
    let world = BBox { min_lat: -90.0, min_lon: -180.0, max_lat: 90.0, max_lon: 180.0 };
    for zoom in [0, 5, 10, 18, 25, 255] {
        let clusters = index.clusters(&world, zoom, |i| u32::from(i == 4321), |_| true);
        assert_eq!(clusters[0].representative, 4321);
        if zoom < EXACT_ZOOM {
            assert_eq!(clusters.iter().map(|c| c.count).collect::<Vec<_>>(), vec![5001], "zoom {zoom}");
        } else {
            assert_eq!(clusters.iter().map(|c| c.count).collect::<Vec<_>>(), vec![5000, 1], "zoom {zoom}");
            assert_eq!((clusters[0].lat, clusters[0].lon), (43.2, 27.9), "a duplicate's exact position");
        }
    }
}

#[test]
fn bbox_across_the_antimeridian() {
    let index = SpatialIndex::build(&[(0.0, 179.5), (0.0, -179.5), (0.0, 0.0), (0.0, 180.0), (0.0, -180.0)]);
    let b = BBox { min_lat: -1.0, min_lon: 179.0, max_lat: 1.0, max_lon: -179.0 };
    assert_eq!(index.within_bbox(&b, |_| true), vec![0, 1, 3, 4]);
    let clusters = index.clusters(&b, 4, |_| 0, |_| true);
    // Two sides of the antimeridian never share a cluster.
    assert_eq!(clusters.iter().map(|c| c.count).collect::<Vec<_>>(), vec![2, 2]);
    assert!(clusters.iter().all(|c| c.lon.abs() > 179.0));
}

#[test]
fn bearings_point_the_right_way() {
    let index = SpatialIndex::build(&[(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]);
    let hits = index.nearest((0.0, 0.0), 4, None, |_| true);
    let bearings: Vec<f64> = hits.iter().map(|h| h.bearing_deg).collect();
    for (b, want) in bearings.iter().zip([0.0, 90.0, 180.0, 270.0]) {
        assert!((b - want).abs() < 1e-9, "{bearings:?}");
    }
}

#[test]
fn every_place_is_its_own_cluster_at_street_zoom() {
    let coords = [(43.2, 27.9), (43.2000001, 27.9), (43.2, 27.9), (43.2, 27.9000001)];
    let index = SpatialIndex::build(&coords);
    let b = BBox { min_lat: 43.0, min_lon: 27.0, max_lat: 44.0, max_lon: 28.0 };
    let clusters = index.clusters(&b, EXACT_ZOOM, |_| 0, |_| true);
    assert_eq!(clusters.iter().map(|c| (c.count, c.representative)).collect::<Vec<_>>(), vec![(2, 0), (1, 1), (1, 3)]);
    assert_eq!(index.clusters(&b, 10, |_| 0, |_| true).len(), 1);
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SpatialIndex>();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the numbers, queries answer without panicking and only with valid places.
    #[test]
    fn arbitrary_inputs_never_panic(
        coords in prop::collection::vec((any::<f64>(), any::<f64>()), 0..40),
        at in (any::<f64>(), any::<f64>()),
        k in 0usize..50,
        r in any::<f64>(),
        b in (any::<f64>(), any::<f64>(), any::<f64>(), any::<f64>()),
        zoom in any::<u8>(),
    ) {
        let index = SpatialIndex::build(&coords);
        let bbox = BBox { min_lat: b.0, min_lon: b.1, max_lat: b.2, max_lon: b.3 };
        let max = r.is_finite().then_some(r.abs());
        for h in index.nearest(at, k, max, |_| true).iter().chain(&index.within_radius(at, r, |_| true)) {
            prop_assert!(valid_place(coords[h.index as usize]));
            prop_assert!(h.distance_m >= 0.0 && (0.0..360.0).contains(&h.bearing_deg));
        }
        let inside = index.within_bbox(&bbox, |_| true);
        prop_assert_eq!(&inside, &brute_bbox(&coords, &bbox, (1, 0)));
        let clusters = index.clusters(&bbox, zoom, |i| i, |_| true);
        prop_assert_eq!(clusters.iter().map(|c| c.count as usize).sum::<usize>(), inside.len());
    }

    /// Small finite worlds: nearest and radius against brute force with proptest's shrinking.
    #[test]
    fn small_worlds_match_brute_force(
        coords in prop::collection::vec((-90.0f64..=90.0, -180.0f64..=180.0), 0..60),
        at in (-90.0f64..=90.0, -180.0f64..=180.0),
        k in 0usize..10,
        r in 0.0f64..2.0e7,
    ) {
        let index = SpatialIndex::build(&coords);
        let mut want = brute_hits(&coords, at, (1, 0), |_| true);
        want.truncate(k);
        prop_assert_eq!(index.nearest(at, k, None, |_| true), want);
        prop_assert_eq!(index.within_radius(at, r, |_| true), brute_hits(&coords, at, (1, 0), |d| d <= r));
    }
}
