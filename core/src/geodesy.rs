//! Positions and distances on the Earth.
//!
//! [`LatLon`] is the one position type of the public API: it can only hold valid degrees, so no query has to guess
//! what a NaN or a latitude of 200 means. The formulae live here so every query, tour and validation agrees on what
//! "100 m away" means: haversine on the mean Earth radius (the same as geo's `Haversine`, which the tests compare
//! against) is within 0.5 % of the ellipsoidal distance, far below GPS error.

use serde::{Deserialize, Serialize};

/// A position on the Earth in degrees (WGS 84): latitude within -90..=90, longitude within -180..=180, both finite.
///
/// ```
/// use cityguide_core::LatLon;
/// let cathedral = LatLon::new(43.20497, 27.91021).expect("valid degrees");
/// let thermae = LatLon::new(43.20211, 27.91533).expect("valid degrees");
/// assert!((cathedral.distance_m(thermae) - 522.0).abs() < 5.0);
/// assert!(LatLon::new(f64::NAN, 0.0).is_err());
/// assert!(LatLon::new(91.0, 0.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "RawLatLon")]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct RawLatLon {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawLatLon> for LatLon {
    type Error = InvalidLatLon;
    fn try_from(r: RawLatLon) -> Result<Self, Self::Error> {
        LatLon::new(r.lat, r.lon)
    }
}

/// Why degrees are not a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLatLon {
    /// The latitude is not a number within -90..=90.
    #[error("the latitude must be a number of degrees within -90..=90")]
    Latitude,
    /// The longitude is not a number within -180..=180.
    #[error("the longitude must be a number of degrees within -180..=180")]
    Longitude,
}

impl LatLon {
    /// A position from degrees, refused unless both are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Result<LatLon, InvalidLatLon> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(InvalidLatLon::Latitude);
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(InvalidLatLon::Longitude);
        }
        Ok(LatLon { lat, lon })
    }

    /// Latitude, degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude, degrees.
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle distance to `other`, metres.
    pub fn distance_m(self, other: LatLon) -> f64 {
        distance_m(self.tuple(), other.tuple())
    }

    /// Initial bearing towards `other`, degrees clockwise from north in `[0, 360)`.
    pub fn bearing_deg(self, other: LatLon) -> f64 {
        bearing_deg(self.tuple(), other.tuple())
    }

    /// `(lat, lon)`, the form the algorithms in [`crate::query`] take.
    pub fn tuple(self) -> (f64, f64) {
        (self.lat, self.lon)
    }

    /// A position from coordinates stored in a verified pack (finite and in range by the reader's checks); an
    /// out-of-range value is clamped rather than trusted.
    pub(crate) fn from_verified(lat: f64, lon: f64) -> LatLon {
        let clamp = |v: f64, m: f64| if v.is_finite() { v.clamp(-m, m) } else { 0.0 };
        LatLon { lat: clamp(lat, 90.0), lon: clamp(lon, 180.0) }
    }
}

/// Mean Earth radius in metres (IUGG), the radius geo's Haversine uses too.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance between two `(lat, lon)` positions in degrees, metres.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    // Haversine with the intermediate term clamped to [0, 1]: rounding can push it past 1 for nearly antipodal
    // points, which would give NaN.
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.clamp(0.0, 1.0).sqrt().asin()
}

/// Initial bearing from `a` to `b`, degrees clockwise from north in `[0, 360)`.
pub fn bearing_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dlon = (b.1 - a.1).to_radians();
    let y = dlon.sin() * la2.cos();
    let x = la1.cos() * la2.sin() - la1.sin() * la2.cos() * dlon.cos();
    let deg = y.atan2(x).to_degrees();
    if deg.is_finite() { (deg + 360.0) % 360.0 } else { 0.0 }
}

/// Length of a path of `(lat, lon)` positions, metres.
pub fn path_length_m(path: &[(f64, f64)]) -> f64 {
    path.windows(2).map(|w| distance_m(w[0], w[1])).sum()
}

/// Shortest distance from `p` to the path, metres (to its nearest vertex or segment, on a local flat projection
/// per segment, which is exact enough for segments of a few kilometres).
pub fn distance_to_path_m(p: (f64, f64), path: &[(f64, f64)]) -> f64 {
    match path {
        [] => f64::INFINITY,
        [only] => distance_m(p, *only),
        _ => path.windows(2).map(|w| distance_to_segment_m(p, w[0], w[1])).fold(f64::INFINITY, f64::min),
    }
}

fn distance_to_segment_m(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    distance_m(p, project_to_segment(p, a, b).1)
}

/// Metres per degree of latitude on the mean Earth radius (the radius geo's Haversine uses).
const M_PER_DEG: f64 = std::f64::consts::PI / 180.0 * EARTH_RADIUS_M;

/// Whether `p` is a usable `(lat, lon)` position: finite, latitude within ±90°.
pub fn is_valid_position(p: (f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite() && p.0.abs() <= 90.0
}

/// Longitude difference `to - from` in degrees, wrapped into [-180, 180) so a segment across the antimeridian is short.
fn lon_delta(from: f64, to: f64) -> f64 {
    let d = (to - from) % 360.0;
    if d >= 180.0 {
        d - 360.0
    } else if d < -180.0 {
        d + 360.0
    } else {
        d
    }
}

/// Projects `p` onto the segment `a`–`b` on a plane tangent at `a` (scaled in metres), the local flat approximation
/// that is exact enough for street-scale segments.
///
/// Returns `t` in `[0, 1]`, how far along the segment the foot lies (0 at `a`, 1 at `b`; 0 for a zero-length
/// segment), and the foot itself as `(lat, lon)`. Longitude differences are taken the short way round, so a segment
/// across the antimeridian works.
pub fn project_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> (f64, (f64, f64)) {
    let cos = a.0.to_radians().cos();
    let to_xy = |q: (f64, f64)| (lon_delta(a.1, q.1) * M_PER_DEG * cos, (q.0 - a.0) * M_PER_DEG);
    let (bx, by) = to_xy(b);
    let (px, py) = to_xy(p);
    let len2 = bx * bx + by * by;
    let t = if len2 > 0.0 { ((px * bx + py * by) / len2).clamp(0.0, 1.0) } else { 0.0 };
    // `clamp` passes NaN through; a NaN `p` gives `t = 0`, never a NaN along-distance.
    let t = if t.is_nan() { 0.0 } else { t };
    let foot = (a.0 + t * (b.0 - a.0), a.1 + t * lon_delta(a.1, b.1));
    (t, foot)
}

/// The position `east_m` metres east and `north_m` metres north of `p`, on a local flat approximation (good to a few
/// kilometres away from the poles). Handy for simulating walks and GPS noise.
pub fn offset_m(p: (f64, f64), east_m: f64, north_m: f64) -> (f64, f64) {
    let cos = p.0.to_radians().cos();
    let lon = if cos.abs() < 1e-12 { p.1 } else { p.1 + east_m / (M_PER_DEG * cos) };
    (p.0 + north_m / M_PER_DEG, lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varna_cathedral_to_archaeological_museum() {
        // About 600 m along Maria Luiza boulevard.
        let d = distance_m((43.20497, 27.91021), (43.20675, 27.91746));
        assert!((550.0..650.0).contains(&d), "{d}");
    }

    #[test]
    fn agrees_with_geo_and_never_nan() {
        use geo::{Distance, Haversine, Point};
        for (a, b) in [((43.2, 27.9), (42.7, 23.3)), ((0.0, 0.0), (0.0, 180.0)), ((89.9, 10.0), (-89.9, -170.0))] {
            let ours = distance_m(a, b);
            let theirs = Haversine.distance(Point::new(a.1, a.0), Point::new(b.1, b.0));
            assert!((ours - theirs).abs() < 1e-6 * theirs.max(1.0), "{ours} vs {theirs}");
        }
        let antipode = distance_m((10.0, 20.0), (-10.0, -160.0));
        assert!(antipode.is_finite() && (antipode - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0);
    }

    #[test]
    fn bearings_point_the_right_way() {
        assert!((bearing_deg((43.0, 27.0), (44.0, 27.0)) - 0.0).abs() < 1e-9);
        assert!((bearing_deg((43.0, 27.0), (43.0, 28.0)) - 90.0).abs() < 1.0);
        assert!((bearing_deg((43.0, 27.0), (42.0, 27.0)) - 180.0).abs() < 1e-9);
        assert!((bearing_deg((43.0, 27.0), (43.0, 26.0)) - 270.0).abs() < 1.0);
    }

    #[test]
    fn point_on_a_segment_is_on_the_path() {
        let path = [(43.0, 27.0), (43.0, 27.01)];
        assert!(distance_to_path_m((43.0, 27.005), &path) < 0.5);
        let off = distance_to_path_m((43.001, 27.005), &path);
        assert!((100.0..125.0).contains(&off), "{off}");
    }

    #[test]
    fn projection_clamps_and_handles_degenerate_segments() {
        let (a, b) = ((43.0, 27.0), (43.0, 27.01));
        let (t, _) = project_to_segment((43.0, 27.005), a, b);
        assert!((t - 0.5).abs() < 1e-9, "{t}");
        assert_eq!(project_to_segment((43.0, 26.9), a, b).0, 0.0);
        assert_eq!(project_to_segment((43.0, 27.2), a, b).0, 1.0);
        assert_eq!(project_to_segment((43.1, 27.0), a, a), (0.0, a));
        assert_eq!(project_to_segment((f64::NAN, 27.0), a, b).0, 0.0);
    }

    #[test]
    fn projection_across_the_antimeridian() {
        let (a, b) = ((0.0, 179.99), (0.0, -179.99));
        let (t, foot) = project_to_segment((0.001, 180.0), a, b);
        assert!((t - 0.5).abs() < 1e-6, "{t}");
        assert!(distance_m(foot, (0.0, 180.0)) < 0.5);
        assert!(distance_to_path_m((0.001, 180.0), &[a, b]) < 112.0);
    }

    #[test]
    fn offsets_are_metres() {
        let p = (43.2, 27.9);
        let q = offset_m(p, 300.0, 400.0);
        assert!((distance_m(p, q) - 500.0).abs() < 1.0, "{}", distance_m(p, q));
    }
}
