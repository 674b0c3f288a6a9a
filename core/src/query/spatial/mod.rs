//! The spatial index over a pack's places: nearest places, places within a radius, places in a map viewport, and
//! marker clusters for that viewport.
//!
//! Why it exists: "what is near me" and every frame of the map ask these questions, and a linear scan over a city's
//! tens of thousands of places is too slow on a phone. A plain (lon, lat) R-tree would be fast but wrong: a degree of
//! longitude shrinks towards the poles, and the nearest place across the antimeridian is 359 degrees away in
//! longitude. So each place is stored as a point on the unit sphere in a 3-D R-tree. The straight-line (chord)
//! distance between two points on the sphere is monotonic in their great-circle distance, so the tree's
//! nearest-neighbour order *is* the geodesic order everywhere, including across the antimeridian and at the poles.
//! Distances reported are [`crate::geodesy::distance_m`], the same function everything else in the core uses, and the
//! results equal a brute-force scan by that function (ties broken by ascending index), which the tests check on
//! seeded random data.
//!
//! Viewports are (lat, lon) boxes, so they use a second, 2-D R-tree in (lon, lat); a box that crosses the antimeridian
//! is split in two. Clusters are cells of a global grid whose cell size follows Web-Mercator tiles at the zoom level.
//!
//! Every query takes a `filter` on the place index (category, accessibility, "open now", ...) that is applied before
//! counting results, so "the 5 nearest open museums" are 5 museums, not the museums among the 5 nearest places.
//! Non-finite inputs (NaN, infinity) give an empty result, never a panic.
//!
//! ```
//! use cityguide_core::pack::model::BBox;
//! use cityguide_core::query::spatial::SpatialIndex;
//!
//! // Varna: the cathedral, the archaeological museum, and a place in Fiji across the antimeridian.
//! let index = SpatialIndex::build(&[(43.20497, 27.91021), (43.20675, 27.91746), (-17.8, 179.99)]);
//! let near = index.nearest((43.2050, 27.9100), 1, None, |_| true);
//! assert_eq!(near[0].index, 0);
//! assert!(near[0].distance_m < 20.0);
//!
//! let fiji = index.within_radius((-17.8, -179.99), 5_000.0, |_| true);
//! assert_eq!(fiji.iter().map(|h| h.index).collect::<Vec<_>>(), vec![2]);
//!
//! let pacific = BBox { min_lat: -20.0, min_lon: 170.0, max_lat: -10.0, max_lon: -170.0 };
//! assert_eq!(index.within_bbox(&pacific, |_| true), vec![2]);
//! ```

mod cluster;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

use crate::geodesy;
use crate::pack::model::BBox;

/// Radius of the sphere [`geodesy::distance_m`] measures on (geo's Haversine, GRS80 mean radius), metres.
use crate::geodesy::EARTH_RADIUS_M;

/// Extra chord length (on the unit sphere, about 6 mm on the Earth) searched beyond a distance bound, so that
/// rounding differences between the chord and the haversine distance can never drop a place that the haversine
/// ordering includes. The real disagreement is around 1e-15.
const CHORD_SLACK: f64 = 1e-9;

/// A place on the unit sphere, tagged with its index.
type SpherePoint = GeomWithData<[f64; 3], u32>;
/// A place in (lon, lat) degrees, tagged with its index.
type PlanePoint = GeomWithData<[f64; 2], u32>;

/// R-tree node sizes: wider than rstar's default (6), which keeps the tree shallower for a read-only index.
#[derive(Debug, Clone, Copy)]
struct Params;

impl rstar::RTreeParams for Params {
    const MIN_SIZE: usize = 5;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = rstar::RStarInsertionStrategy;
}

/// One result of a distance query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the place (its position in the coordinates the index was built from).
    pub index: u32,
    /// Great-circle distance from the query point, metres ([`geodesy::distance_m`]).
    pub distance_m: f64,
    /// Initial bearing from the query point to the place, degrees in `0..360`, 0 = north, 90 = east.
    /// 0 when the place is at the query point.
    pub bearing_deg: f64,
}

/// A group of nearby places shown as one marker on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cluster {
    /// Latitude of the marker: the mean latitude of the members, degrees.
    pub lat: f64,
    /// Longitude of the marker: the mean longitude of the members, degrees.
    pub lon: f64,
    /// Number of places in the cluster (at least 1).
    pub count: u32,
    /// Index of the member with the highest rank (ties: the lower index), e.g. to show its icon and name.
    pub representative: u32,
    /// The smallest box holding all members, e.g. to zoom to when the marker is tapped.
    pub bbox: BBox,
}

/// A spatial index over places, built once per pack from its coordinate vector. Immutable, `Send + Sync`.
///
/// Places whose coordinates are not finite or lie outside `-90..=90` latitude or `-180..=180` longitude are kept in
/// the index space (they still count in [`SpatialIndex::len`]) but are never returned by any query.
#[derive(Debug, Clone)]
pub struct SpatialIndex {
    /// `(lat, lon)` of every place, by index.
    coords: Vec<(f64, f64)>,
    /// Valid places on the unit sphere, for distance queries.
    sphere: RTree<SpherePoint, Params>,
    /// Valid places in (lon, lat) degrees, for bounding-box queries.
    plane: RTree<PlanePoint, Params>,
}

impl SpatialIndex {
    /// Builds the index from `(lat, lon)` positions in degrees; place `i` is `coords[i]`.
    ///
    /// # Panics
    ///
    /// If there are more than `u32::MAX` places.
    pub fn build(coords: &[(f64, f64)]) -> SpatialIndex {
        assert!(u32::try_from(coords.len()).is_ok(), "a spatial index holds at most u32::MAX places");
        let valid = || coords.iter().enumerate().filter(|(_, c)| valid_place(**c)).map(|(i, c)| (i as u32, *c));
        let sphere = RTree::bulk_load_with_params(valid().map(|(i, c)| SpherePoint::new(unit_vector(c), i)).collect());
        let plane =
            RTree::bulk_load_with_params(valid().map(|(i, (lat, lon))| PlanePoint::new([lon, lat], i)).collect());
        SpatialIndex { coords: coords.to_vec(), sphere, plane }
    }

    /// Number of places the index was built from (including any with invalid coordinates).
    pub fn len(&self) -> usize {
        self.coords.len()
    }

    /// Whether the index was built from no places at all.
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// The `k` places nearest to `at` (`(lat, lon)`) that pass `filter` and, if `max_distance_m` is given, are at
    /// most that far; nearest first, equal distances by ascending index.
    pub fn nearest(
        &self,
        at: (f64, f64),
        k: usize,
        max_distance_m: Option<f64>,
        filter: impl Fn(u32) -> bool,
    ) -> Vec<Hit> {
        if k == 0 || !valid_query(at) {
            return Vec::new();
        }
        let limit_m = match max_distance_m {
            None => f64::INFINITY,
            Some(m) if m.is_finite() && m >= 0.0 => m,
            Some(_) => return Vec::new(),
        };
        let limit_chord2 = chord2_bound(limit_m);
        let mut bound_chord2 = limit_chord2;
        // The best `k` so far, sorted by (distance, index). Candidates arrive in chord order, which is the haversine
        // order up to rounding, so the list rarely needs more than an append; once it is full the search stops just
        // past the chord of its last distance (plus slack), which also collects every tie.
        let mut best: Vec<Hit> = Vec::with_capacity(k.min(64));
        for (item, chord2) in self.sphere.nearest_neighbor_iter_with_distance_2(&unit_vector(at)) {
            if chord2 > bound_chord2 {
                break;
            }
            let index = item.data;
            if !filter(index) {
                continue;
            }
            let distance_m = self.distance_to(at, index);
            if distance_m > limit_m {
                continue;
            }
            let pos = best.partition_point(|h| by_distance_then_index(h, distance_m, index) == Ordering::Less);
            if pos >= k {
                continue;
            }
            best.insert(pos, Hit { index, distance_m, bearing_deg: 0.0 });
            if best.len() > k {
                best.pop();
            }
            if best.len() == k {
                bound_chord2 = limit_chord2.min(chord2_bound(best[k - 1].distance_m));
            }
        }
        self.fill_bearings(at, &mut best);
        best
    }

    /// All places within `radius_m` of `at` (`(lat, lon)`, edge included) that pass `filter`; nearest first, equal
    /// distances by ascending index.
    pub fn within_radius(&self, at: (f64, f64), radius_m: f64, filter: impl Fn(u32) -> bool) -> Vec<Hit> {
        if !valid_query(at) || !radius_m.is_finite() || radius_m < 0.0 {
            return Vec::new();
        }
        let mut hits: Vec<Hit> = self
            .sphere
            .locate_within_distance(unit_vector(at), chord2_bound(radius_m))
            .map(|item| item.data)
            .filter(|&index| filter(index))
            .filter_map(|index| {
                let distance_m = self.distance_to(at, index);
                (distance_m <= radius_m).then_some(Hit { index, distance_m, bearing_deg: 0.0 })
            })
            .collect();
        hits.sort_unstable_by(|a, b| by_distance_then_index(a, b.distance_m, b.index));
        self.fill_bearings(at, &mut hits);
        hits
    }

    /// Indices of the places inside `bbox` (edges included) that pass `filter`, ascending.
    ///
    /// If `bbox.min_lon > bbox.max_lon` the box crosses the antimeridian: it holds longitudes `>= min_lon` or
    /// `<= max_lon`. A box with `min_lat > max_lat` or a non-finite edge is empty.
    pub fn within_bbox(&self, bbox: &BBox, filter: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut out = Vec::new();
        for (west, east) in lon_ranges(bbox) {
            let envelope = AABB::from_corners([west, bbox.min_lat], [east, bbox.max_lat]);
            out.extend(self.plane.locate_in_envelope(&envelope).map(|p| p.data).filter(|&i| filter(i)));
        }
        out.sort_unstable();
        out
    }

    /// Marker clusters for the places inside `bbox` (as in [`SpatialIndex::within_bbox`]) that pass `filter`, at
    /// Web-Mercator `zoom` (0 = the whole world in one 256-px tile).
    ///
    /// Places are grouped by the cells of a global grid of about 64 px at that zoom (four cells per tile side: a cell
    /// is `360 / 2^zoom / 4` degrees of longitude and the matching Mercator height), so clusters stay put while the
    /// map pans. No cell crosses the antimeridian. From zoom 18 on, only places with identical coordinates are
    /// grouped; at every zoom places with identical coordinates share a cluster. Each cluster sits at the mean
    /// position of its members; its representative is the member with the highest `rank` (ties: lower index).
    /// Clusters come largest first, equal counts by ascending representative index.
    pub fn clusters(
        &self,
        bbox: &BBox,
        zoom: u8,
        rank: impl Fn(u32) -> u32,
        filter: impl Fn(u32) -> bool,
    ) -> Vec<Cluster> {
        cluster::clusters_with_members(self, bbox, zoom, rank, filter, false).into_iter().map(|(c, _)| c).collect()
    }

    /// `(lat, lon)` of place `index` (which must be valid).
    fn coord(&self, index: u32) -> (f64, f64) {
        self.coords[index as usize]
    }

    /// Distance from `at` to place `index`, metres.
    fn distance_to(&self, at: (f64, f64), index: u32) -> f64 {
        geodesy::distance_m(at, self.coord(index))
    }

    fn fill_bearings(&self, at: (f64, f64), hits: &mut [Hit]) {
        for hit in hits {
            hit.bearing_deg = geodesy::bearing_deg(at, self.coord(hit.index));
        }
    }
}

/// Orders `h` against a hit at `distance_m` with `index`: by distance, then by index.
fn by_distance_then_index(h: &Hit, distance_m: f64, index: u32) -> Ordering {
    h.distance_m.total_cmp(&distance_m).then(h.index.cmp(&index))
}

/// Whether a place's coordinates can be indexed.
fn valid_place((lat, lon): (f64, f64)) -> bool {
    lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

/// Whether a query point is usable: finite, latitude within `-90..=90`; any finite longitude (it wraps).
fn valid_query((lat, lon): (f64, f64)) -> bool {
    lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat)
}

/// The longitude ranges to query for `bbox` (two when it crosses the antimeridian), or none if it is empty.
fn lon_ranges(bbox: &BBox) -> Vec<(f64, f64)> {
    let finite = [bbox.min_lat, bbox.min_lon, bbox.max_lat, bbox.max_lon].iter().all(|v| v.is_finite());
    if !finite || bbox.min_lat > bbox.max_lat {
        return Vec::new();
    }
    if bbox.min_lon <= bbox.max_lon {
        return vec![(bbox.min_lon, bbox.max_lon)];
    }
    // Indexed longitudes lie in -180..=180; `AABB::from_corners` would swap reversed corners, so skip empty halves.
    let mut ranges = Vec::with_capacity(2);
    if bbox.min_lon <= 180.0 {
        ranges.push((bbox.min_lon, 180.0));
    }
    if bbox.max_lon >= -180.0 {
        ranges.push((-180.0, bbox.max_lon));
    }
    ranges
}

/// `(lat, lon)` in degrees to a point on the unit sphere.
fn unit_vector((lat, lon): (f64, f64)) -> [f64; 3] {
    let (sin_lat, cos_lat) = lat.to_radians().sin_cos();
    let (sin_lon, cos_lon) = lon.to_radians().sin_cos();
    [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat]
}

/// Squared chord on the unit sphere that surely includes every place at most `distance_m` away.
fn chord2_bound(distance_m: f64) -> f64 {
    if distance_m.is_infinite() {
        return f64::INFINITY;
    }
    let half_angle = (distance_m / EARTH_RADIUS_M / 2.0).min(std::f64::consts::FRAC_PI_2);
    let chord = 2.0 * half_angle.sin() + CHORD_SLACK;
    chord * chord
}
