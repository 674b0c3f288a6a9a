//! Distances on the Earth, in metres.
//!
//! One place for the formulae so every query, tour and validation agrees on what "100 m away" means. Haversine on
//! the mean Earth radius (geo's implementation) is within 0.5 % of the ellipsoidal distance, far below GPS error.

use geo::{Distance, Haversine, Point};

/// Great-circle distance between two `(lat, lon)` positions in degrees, metres.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    Haversine.distance(Point::new(a.1, a.0), Point::new(b.1, b.0))
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
    // Project onto a plane tangent at `a`, scaled in metres.
    let k = std::f64::consts::PI / 180.0 * 6_371_008.8;
    let cos = a.0.to_radians().cos();
    let to_xy = |q: (f64, f64)| ((q.1 - a.1) * k * cos, (q.0 - a.0) * k);
    let (bx, by) = to_xy(b);
    let (px, py) = to_xy(p);
    let len2 = bx * bx + by * by;
    let t = if len2 == 0.0 { 0.0 } else { ((px * bx + py * by) / len2).clamp(0.0, 1.0) };
    let foot = (a.0 + (t * by) / k, a.1 + if cos == 0.0 { 0.0 } else { (t * bx) / (k * cos) });
    distance_m(p, foot)
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
    fn point_on_a_segment_is_on_the_path() {
        let path = [(43.0, 27.0), (43.0, 27.01)];
        assert!(distance_to_path_m((43.0, 27.005), &path) < 0.5);
        let off = distance_to_path_m((43.001, 27.005), &path);
        assert!((100.0..125.0).contains(&off), "{off}");
    }
}
