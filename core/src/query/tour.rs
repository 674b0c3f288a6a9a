//! Progress along a walking tour: how far the walker has come, the next stop, the distance left, whether they are
//! off route.
//!
//! Everything that depends only on the tour is computed once in [`TourGeometry::new`]: the cleaned path, the
//! cumulative distance at every vertex and where each stop lies along the path. [`TourGeometry::progress`] then
//! projects a GPS fix onto every segment (a local flat approximation, exact enough at street scale, see
//! [`crate::geodesy::project_to_segment`]) and reads the along-distance off the cumulative table, so along-distances are
//! exactly monotonic in the path position and never leave `[0, length]`.
//!
//! Tours often come back on themselves (start and end at the same square, walk a street out and back). A position on
//! such a street is near two points of the path; the caller's `hint` (the last known along-distance) picks the pass
//! the walker is on, and stops are snapped in walking order so a stop at the shared start/end square is snapped to
//! the start when it is the first stop and to the end when it is the last.
//!
//! ```
//! use cityguide_core::query::tour::TourGeometry;
//!
//! // 1.1 km east along a parallel, with a stop half way and one at the end.
//! let path = [(43.2, 27.90), (43.2, 27.9136)];
//! let tour = TourGeometry::new(&path, &[(43.2, 27.9068), (43.2, 27.9136)]);
//! let p = tour.progress((43.2001, 27.9034), 10.0, None);
//! assert!((p.fraction_done - 0.25).abs() < 0.01);
//! assert_eq!(p.next_stop, Some(0));
//! assert!(!p.off_route);
//! ```

use crate::geodesy::{distance_m, is_valid_position, project_to_segment};

/// A stop counts as reached when the walker is within this distance (or the GPS accuracy, if worse) before it.
pub const STOP_REACHED_M: f64 = 25.0;
/// The walker is off route when farther than this from the path (or 1.5 × the GPS accuracy, if larger).
pub const OFF_ROUTE_M: f64 = 40.0;
/// How much nearer (metres, or the GPS accuracy if worse) one pass of the path has to be than another before it wins
/// over the pass nearer the hint.
const PASS_TOLERANCE_M: f64 = 25.0;

/// A tour's path and stops, precomputed for repeated [`progress`](Self::progress) queries. Immutable, `Send + Sync`.
#[derive(Debug, Clone, PartialEq)]
pub struct TourGeometry {
    /// Path vertices: valid positions only, no two consecutive equal.
    points: Vec<(f64, f64)>,
    /// Along-distance at each vertex; `cum[0] == 0`, non-decreasing, `cum.last() == length`.
    cum: Vec<f64>,
    stop_offsets: Vec<f64>,
}

/// Where a walker is on a tour, from one GPS fix.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TourProgress {
    /// Distance along the path to the walker's projection onto it, metres, in `[0, length]`.
    pub along_m: f64,
    /// Distance along the path from the projection to the end, metres.
    pub distance_left_m: f64,
    /// Index of the first stop not yet reached; `None` once every stop is reached. A stop counts as reached when
    /// `along_m >= offset - max(25 m, accuracy)`.
    pub next_stop: Option<usize>,
    /// Distance along the path from the walker's projection to the next stop, metres; `None` when there is no
    /// next stop.
    pub distance_to_next_stop_m: Option<f64>,
    /// Distance from the walker to the path, metres.
    pub off_route_m: f64,
    /// `off_route_m > max(40 m, 1.5 × accuracy)`: a fix whose accuracy circle could still touch the route never
    /// flags the walker as lost.
    pub off_route: bool,
    /// `along_m / length`, in `[0, 1]`; 1 for a tour of zero length.
    pub fraction_done: f64,
}

/// One candidate position on the path.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    along: f64,
    dist: f64,
}

impl TourGeometry {
    /// Precomputes a tour from its `path` of `(lat, lon)` positions, start to end, and its `stops` in walking order.
    ///
    /// Invalid positions (NaN, infinite, latitude beyond ±90°) and consecutive duplicates are dropped from the path.
    /// Stops are snapped to the path monotonically: stop `i + 1` is never before stop `i`. Among all monotonic
    /// snappings (each stop to a vertex or to its nearest point on a segment) the one with the smallest total
    /// snapping distance wins, ties going to the earlier position; so a tour that starts and ends at the same square
    /// snaps its first stop to the start and its last stop to the end. An invalid stop snaps to the previous stop's
    /// position (or the start).
    pub fn new(path: &[(f64, f64)], stops: &[(f64, f64)]) -> TourGeometry {
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(path.len());
        for &p in path.iter().filter(|p| is_valid_position(**p)) {
            if points.last() != Some(&p) {
                points.push(p);
            }
        }
        let mut cum = Vec::with_capacity(points.len());
        let mut total = 0.0;
        for (i, &p) in points.iter().enumerate() {
            if i > 0 {
                total += distance_m(points[i - 1], p);
            }
            cum.push(total);
        }
        let mut tour = TourGeometry { points, cum, stop_offsets: Vec::new() };
        tour.stop_offsets = tour.snap_stops(stops);
        tour
    }

    /// Length of the path, metres (the sum of its great-circle segment lengths, as [`crate::geodesy::path_length_m`]).
    pub fn length_m(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// Distance along the path of each stop, metres, in walking order; non-decreasing.
    pub fn stop_offsets_m(&self) -> &[f64] {
        &self.stop_offsets
    }

    /// Progress of a walker at `at` whose GPS reports an accuracy of `accuracy_m` (metres, 68 % radius).
    ///
    /// `hint_m` is the last known along-distance (`None` at the start, which counts as 0): when several passes of
    /// the path are about equally near (within max(25 m, accuracy) of the nearest), the one nearest the hint wins,
    /// so a street walked twice resolves to the right pass, and a walker starting at a square the tour comes back
    /// to is at its start. A pass clearly nearer than the others wins whatever the hint.
    ///
    /// Never panics. A position that is not valid (NaN, infinite) leaves the walker at the hint (or the start) with
    /// `off_route_m == 0`: an unusable fix says nothing about being lost. A NaN or negative accuracy counts as 0.
    /// An empty path behaves as a path of zero length at the walker's position.
    pub fn progress(&self, at: (f64, f64), accuracy_m: f64, hint_m: Option<f64>) -> TourProgress {
        let accuracy = if accuracy_m.is_nan() || accuracy_m < 0.0 { 0.0 } else { accuracy_m };
        let length = self.length_m();
        let hint = hint_m.filter(|h| !h.is_nan()).map(|h| h.clamp(0.0, length));
        let (along, off) = if !is_valid_position(at) || self.points.is_empty() {
            (hint.unwrap_or(0.0), 0.0)
        } else {
            let best = self.locate(at, accuracy, hint.unwrap_or(0.0));
            (best.along, best.dist)
        };
        let along = along.clamp(0.0, length);
        let reach = STOP_REACHED_M.max(accuracy);
        let next_stop = self.stop_offsets.iter().position(|&s| along < s - reach);
        TourProgress {
            along_m: along,
            distance_left_m: (length - along).max(0.0),
            next_stop,
            distance_to_next_stop_m: next_stop.map(|i| (self.stop_offsets[i] - along).max(0.0)),
            off_route_m: off,
            off_route: off > OFF_ROUTE_M.max(1.5 * accuracy),
            fraction_done: if length > 0.0 { (along / length).clamp(0.0, 1.0) } else { 1.0 },
        }
    }

    /// The walker's position on the path: among the passes about as near as the nearest, the one nearest `hint`.
    fn locate(&self, at: (f64, f64), accuracy: f64, hint: f64) -> Candidate {
        let candidates = self.candidates(at);
        let Some(nearest) = candidates.iter().copied().reduce(|b, c| if c.dist < b.dist { c } else { b }) else {
            return Candidate { along: 0.0, dist: 0.0 };
        };
        let tolerance = PASS_TOLERANCE_M.max(accuracy);
        // Only local minima of the distance along the path are passes; the neighbours of the walker's own segment
        // (their nearest point is a shared vertex) would otherwise pull the position back towards the hint.
        let is_pass = |i: usize| {
            let d = candidates[i].dist;
            (i == 0 || candidates[i - 1].dist >= d) && candidates.get(i + 1).is_none_or(|n| n.dist >= d)
        };
        (0..candidates.len())
            .filter(|&i| candidates[i].dist <= nearest.dist + tolerance && is_pass(i))
            .map(|i| candidates[i])
            .fold(nearest, |best, c| {
                let (db, dc) = ((best.along - hint).abs(), (c.along - hint).abs());
                if dc < db || (dc == db && c.dist < best.dist) { c } else { best }
            })
    }

    /// The nearest point of each segment to `at` (or of the single vertex), in path order.
    fn candidates(&self, at: (f64, f64)) -> Vec<Candidate> {
        if let [only] = self.points[..] {
            return vec![Candidate { along: 0.0, dist: distance_m(at, only) }];
        }
        (0..self.points.len().saturating_sub(1)).map(|i| self.project(at, i)).collect()
    }

    /// Projection of `p` onto segment `i`.
    fn project(&self, p: (f64, f64), i: usize) -> Candidate {
        let (t, foot) = project_to_segment(p, self.points[i], self.points[i + 1]);
        let (start, end) = (self.cum[i], self.cum[i + 1]);
        // `start + t * (end - start)` could round past `end`; monotonic rounding keeps `min` exact at t == 1.
        let along = (start + t * (end - start)).clamp(start, end);
        let dist = distance_m(p, foot);
        Candidate { along, dist: if dist.is_nan() { f64::INFINITY } else { dist } }
    }

    /// Snaps the stops monotonically with the smallest total snapping distance (a dynamic programme over
    /// candidate positions: every vertex and each segment's nearest point, in path order).
    fn snap_stops(&self, stops: &[(f64, f64)]) -> Vec<f64> {
        if stops.is_empty() {
            return Vec::new();
        }
        if self.points.len() < 2 {
            return vec![0.0; stops.len()];
        }
        // Candidate positions for one stop, ordered by along-distance: v0, p0, v1, p1, ..., v_n.
        let candidates_for = |s: (f64, f64)| -> Vec<Candidate> {
            (0..2 * self.points.len() - 1).map(|j| self.stop_candidate(s, j)).collect()
        };
        // cost[k][j]: smallest total distance for stops 0..=k with stop k at candidate j; back[k][j]: stop k-1's.
        let mut back: Vec<Vec<usize>> = Vec::with_capacity(stops.len());
        let mut prev_cands = candidates_for(stops[0]);
        let mut prev_cost: Vec<f64> = prev_cands.iter().map(|c| c.dist).collect();
        back.push(Vec::new());
        for &stop in &stops[1..] {
            let cands = candidates_for(stop);
            let mut cost = Vec::with_capacity(cands.len());
            let mut from = Vec::with_capacity(cands.len());
            // Two pointers: the best previous candidate whose along is <= this one's (earliest on ties).
            let mut best: Option<usize> = None;
            let mut p = 0;
            for c in &cands {
                while p < prev_cands.len() && prev_cands[p].along <= c.along {
                    if best.is_none_or(|b| prev_cost[p] < prev_cost[b]) {
                        best = Some(p);
                    }
                    p += 1;
                }
                match best {
                    Some(b) => {
                        cost.push(prev_cost[b] + c.dist);
                        from.push(b);
                    }
                    None => {
                        cost.push(f64::INFINITY);
                        from.push(0);
                    }
                }
            }
            back.push(from);
            prev_cands = cands;
            prev_cost = cost;
        }
        // The last stop's best candidate (earliest on ties), then walk the back pointers.
        let mut j = (0..prev_cost.len()).fold(0, |b, j| if prev_cost[j] < prev_cost[b] { j } else { b });
        let mut offsets = vec![0.0; stops.len()];
        for k in (0..stops.len()).rev() {
            offsets[k] = self.stop_candidate(stops[k], j).along;
            if k > 0 {
                j = back[k][j];
            }
        }
        offsets
    }

    /// Candidate `j` for a stop: vertex `j / 2` when `j` is even, else the stop's nearest point on segment `j / 2`.
    /// An invalid stop is at distance 0 from every vertex (so it follows the previous stop).
    fn stop_candidate(&self, stop: (f64, f64), j: usize) -> Candidate {
        let i = j / 2;
        if !is_valid_position(stop) {
            Candidate { along: self.cum[i], dist: 0.0 }
        } else if j % 2 == 0 {
            Candidate { along: self.cum[i], dist: distance_m(stop, self.points[i]) }
        } else {
            self.project(stop, i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::{distance_to_path_m, offset_m, path_length_m};
    use proptest::prelude::*;

    const BASE: (f64, f64) = (43.2048, 27.9105);

    /// A position `east`, `north` metres from the base (Varna cathedral).
    fn at(east: f64, north: f64) -> (f64, f64) {
        offset_m(BASE, east, north)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<TourGeometry>();
        check::<TourProgress>();
    }

    #[test]
    fn straight_path() {
        let tour = TourGeometry::new(&[at(0.0, 0.0), at(1000.0, 0.0)], &[at(300.0, 10.0), at(1000.0, 0.0)]);
        assert!(close(tour.length_m(), 1000.0, 1.0), "{}", tour.length_m());
        let [s0, s1] = tour.stop_offsets_m() else { panic!("two stops") };
        assert!(close(*s0, 300.0, 1.0) && close(*s1, tour.length_m(), 1e-9), "{s0} {s1}");

        let p = tour.progress(at(250.0, -5.0), 5.0, None);
        assert!(close(p.along_m, 250.0, 1.0), "{p:?}");
        assert!(close(p.distance_left_m, 750.0, 1.0), "{p:?}");
        assert!(close(p.off_route_m, 5.0, 0.5), "{p:?}");
        assert!(!p.off_route);
        assert!(close(p.fraction_done, 0.25, 0.002));
        // 50 m before stop 0 (at 300 m): not reached yet.
        assert_eq!(p.next_stop, Some(0));
        assert!(close(p.distance_to_next_stop_m.expect("a next stop"), 50.0, 1.0));
        // 20 m before the stop counts as reached.
        assert_eq!(tour.progress(at(280.0, 0.0), 5.0, None).next_stop, Some(1));
        // With 60 m accuracy, 50 m before counts as reached too.
        assert_eq!(tour.progress(at(250.0, 0.0), 60.0, None).next_stop, Some(1));
    }

    #[test]
    fn l_shaped_path() {
        let path = [at(0.0, 0.0), at(400.0, 0.0), at(400.0, 300.0)];
        let tour = TourGeometry::new(&path, &[]);
        assert!(close(tour.length_m(), path_length_m(&path), 1e-9));
        assert!(close(tour.length_m(), 700.0, 1.0));
        let p = tour.progress(at(410.0, 100.0), 5.0, None);
        assert!(close(p.along_m, 500.0, 1.0), "{p:?}");
        assert!(close(p.off_route_m, 10.0, 0.5), "{p:?}");
        // Outside the corner: nearest to the corner vertex itself.
        let p = tour.progress(at(430.0, -40.0), 5.0, None);
        assert!(close(p.along_m, 400.0, 1.0), "{p:?}");
        assert!(close(p.off_route_m, 50.0, 0.5), "{p:?}");
        assert!(p.off_route);
        assert!(tour.stop_offsets_m().is_empty());
        assert_eq!(p.next_stop, None);
        assert_eq!(p.distance_to_next_stop_m, None);
    }

    #[test]
    fn before_the_start_and_after_the_end() {
        let tour = TourGeometry::new(&[at(0.0, 0.0), at(500.0, 0.0)], &[at(500.0, 0.0)]);
        let before = tour.progress(at(-100.0, 0.0), 5.0, None);
        assert_eq!(before.along_m, 0.0);
        assert_eq!(before.fraction_done, 0.0);
        assert!(close(before.off_route_m, 100.0, 0.5));
        assert!(before.off_route);
        let after = tour.progress(at(600.0, 0.0), 5.0, Some(400.0));
        assert_eq!(after.along_m, tour.length_m());
        assert_eq!(after.distance_left_m, 0.0);
        assert_eq!(after.fraction_done, 1.0);
        assert_eq!(after.next_stop, None);
    }

    #[test]
    fn duplicates_zero_length_segments_and_invalid_points_are_dropped() {
        let clean = TourGeometry::new(&[at(0.0, 0.0), at(200.0, 0.0), at(200.0, 200.0)], &[]);
        let messy = TourGeometry::new(
            &[
                at(0.0, 0.0),
                at(0.0, 0.0),
                (f64::NAN, 27.9),
                at(200.0, 0.0),
                at(200.0, 0.0),
                (95.0, 27.9),
                (43.2, f64::INFINITY),
                at(200.0, 200.0),
                at(200.0, 200.0),
            ],
            &[],
        );
        assert_eq!(clean, messy);
        let p = messy.progress(at(200.0, 50.0), 5.0, None);
        assert!(close(p.along_m, 250.0, 1.0), "{p:?}");
    }

    #[test]
    fn degenerate_paths_never_panic() {
        let empty = TourGeometry::new(&[], &[at(0.0, 0.0)]);
        assert_eq!(empty.length_m(), 0.0);
        assert_eq!(empty.stop_offsets_m(), &[0.0]);
        let p = empty.progress(at(0.0, 0.0), 5.0, None);
        assert_eq!((p.along_m, p.fraction_done, p.next_stop, p.off_route), (0.0, 1.0, None, false));

        let single = TourGeometry::new(&[at(0.0, 0.0), at(0.0, 0.0)], &[]);
        assert_eq!(single.length_m(), 0.0);
        let p = single.progress(at(0.0, 100.0), 5.0, Some(3.0));
        assert_eq!(p.along_m, 0.0);
        assert!(close(p.off_route_m, 100.0, 0.5));
        assert!(p.off_route);
    }

    #[test]
    fn nan_inputs_give_sane_values() {
        let tour = TourGeometry::new(&[at(0.0, 0.0), at(500.0, 0.0)], &[(f64::NAN, f64::NAN), at(300.0, 0.0)]);
        assert_eq!(tour.stop_offsets_m()[0], 0.0, "an invalid stop snaps to the start");
        let p = tour.progress((f64::NAN, 27.9), f64::NAN, Some(120.0));
        assert_eq!(p.along_m, 120.0, "an unusable fix keeps the hint");
        assert_eq!(p.off_route_m, 0.0);
        assert!(!p.off_route);
        let p = tour.progress(at(100.0, 0.0), f64::NAN, Some(f64::NAN));
        assert!(close(p.along_m, 100.0, 1.0));
        let p = tour.progress(at(100.0, 0.0), -3.0, Some(f64::INFINITY));
        assert!(close(p.along_m, 100.0, 1.0));
        let p = tour.progress(at(100.0, 100.0), f64::INFINITY, None);
        assert!(!p.off_route, "an infinitely bad fix never flags the walker");
    }

    /// A square loop back to the start, then the first street again: x in 0..400 at y = 0 is walked twice.
    fn loop_tour(stops: &[(f64, f64)]) -> TourGeometry {
        let path = [at(0.0, 0.0), at(400.0, 0.0), at(400.0, 200.0), at(0.0, 200.0), at(0.0, 0.0), at(400.0, 0.0)];
        TourGeometry::new(&path, stops)
    }

    #[test]
    fn a_street_walked_twice_resolves_by_hint() {
        let tour = loop_tour(&[]);
        assert!(close(tour.length_m(), 1600.0, 2.0));
        let walker = at(200.0, 4.0);
        let first = tour.progress(walker, 5.0, None);
        assert!(close(first.along_m, 200.0, 1.0), "no hint: the pass nearer the start, {first:?}");
        let again = tour.progress(walker, 5.0, Some(190.0));
        assert!(close(again.along_m, 200.0, 1.0), "{again:?}");
        let second = tour.progress(walker, 5.0, Some(1380.0));
        assert!(close(second.along_m, 1400.0, 2.0), "hint on the second pass, {second:?}");
        // Near the corner shared by both passes the hint still decides, without lagging behind the walker.
        let corner = tour.progress(at(395.0, 2.0), 5.0, Some(1560.0));
        assert!(close(corner.along_m, 1595.0, 2.0), "{corner:?}");
        // A walker clearly on the loop's far side is placed there whatever the hint.
        let far = tour.progress(at(200.0, 198.0), 5.0, Some(100.0));
        assert!(close(far.along_m, 800.0, 2.0), "{far:?}");
    }

    #[test]
    fn stops_at_a_shared_square_snap_to_start_and_end() {
        let tour = loop_tour(&[at(0.0, 3.0), at(400.0, 200.0), at(0.0, 0.0), at(400.0, 0.0)]);
        let offsets = tour.stop_offsets_m();
        for (got, want) in offsets.iter().zip([0.0, 600.0, 1200.0, 1600.0]) {
            assert!(close(*got, want, 2.0), "{offsets:?}");
        }
        // Stops given out of order are still snapped monotonically.
        let tour = TourGeometry::new(&[at(0.0, 0.0), at(500.0, 0.0)], &[at(400.0, 0.0), at(100.0, 0.0)]);
        let [a, b] = tour.stop_offsets_m() else { panic!("two stops") };
        assert!(a <= b, "{a} {b}");
    }

    #[test]
    fn a_simulated_walk_reaches_stops_in_order() {
        let stops = [at(0.0, 0.0), at(400.0, 200.0), at(100.0, 0.0), at(400.0, 0.0)];
        let tour = loop_tour(&stops);
        // Walk the path vertex to vertex in 10 m steps, with 4 m of GPS error to alternating sides of the street
        // between vertices (sideways error keeps the true along-distance monotonic).
        let corners = [(0.0, 0.0), (400.0, 0.0), (400.0, 200.0), (0.0, 200.0), (0.0, 0.0), (400.0, 0.0)];
        let mut hint = None;
        let (mut last_left, mut last_next, mut reached) = (f64::INFINITY, 0, Vec::new());
        for w in corners.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            let len = f64::hypot(x1 - x0, y1 - y0);
            let (ux, uy) = ((x1 - x0) / len, (y1 - y0) / len);
            let steps = (len / 10.0).ceil() as usize;
            for s in 0..=steps {
                let t = s as f64 / steps as f64;
                let side = if s == 0 || s == steps {
                    0.0
                } else if s % 2 == 0 {
                    4.0
                } else {
                    -4.0
                };
                let p = at(x0 + t * (x1 - x0) - side * uy, y0 + t * (y1 - y0) + side * ux);
                let prog = tour.progress(p, 8.0, hint);
                assert!(prog.distance_left_m <= last_left + 1e-6, "distance left grew: {prog:?} after {last_left}");
                assert!(!prog.off_route, "{prog:?}");
                let next = prog.next_stop.unwrap_or(stops.len());
                assert!(next >= last_next, "stops went backwards: {prog:?}");
                reached.extend(last_next..next);
                (last_left, last_next, hint) = (prog.distance_left_m, next, Some(prog.along_m));
            }
        }
        assert_eq!(reached, vec![0, 1, 2, 3]);
        assert!(last_left < 10.0, "{last_left}");
    }

    #[test]
    fn off_route_takes_accuracy_into_account() {
        let tour = TourGeometry::new(&[at(0.0, 0.0), at(1000.0, 0.0)], &[]);
        let walker = at(500.0, 70.0);
        let good = tour.progress(walker, 10.0, None);
        assert!(close(good.off_route_m, 70.0, 0.5));
        assert!(good.off_route, "70 m off with a 10 m fix is lost");
        let poor = tour.progress(walker, 80.0, None);
        assert!(!poor.off_route, "70 m off with an 80 m fix may still be on the route");
        assert_eq!(poor.off_route_m, good.off_route_m);
    }

    #[test]
    fn off_route_distance_matches_geodesy() {
        let path = [at(0.0, 0.0), at(300.0, 100.0), at(300.0, 400.0), at(-50.0, 420.0)];
        let tour = TourGeometry::new(&path, &[]);
        for p in [at(10.0, 50.0), at(350.0, 250.0), at(100.0, 500.0), at(-200.0, -200.0)] {
            let got = tour.progress(p, 5.0, None).off_route_m;
            let want = distance_to_path_m(p, &path);
            assert!(close(got, want, 1e-6), "{got} {want}");
        }
    }

    fn coordinate() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -2_000.0..2_000.0f64,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(1e12),
        ]
    }

    proptest! {
        #[test]
        fn progress_never_panics_and_stays_on_the_path(
            path in prop::collection::vec((coordinate(), coordinate()), 0..12),
            stops in prop::collection::vec((coordinate(), coordinate()), 0..6),
            walker in (coordinate(), coordinate()),
            accuracy in prop_oneof![0.0..500.0f64, Just(f64::NAN), Just(-1.0), Just(f64::INFINITY)],
            hint in prop::option::of(prop_oneof![-100.0..5_000.0f64, Just(f64::NAN), Just(f64::NEG_INFINITY)]),
        ) {
            let to_pos = |(e, n): (f64, f64)| offset_m(BASE, e, n);
            let path: Vec<_> = path.into_iter().map(to_pos).collect();
            let stops: Vec<_> = stops.into_iter().map(to_pos).collect();
            let tour = TourGeometry::new(&path, &stops);
            let length = tour.length_m();
            prop_assert!(length.is_finite() && length >= 0.0);
            prop_assert!(tour.stop_offsets_m().windows(2).all(|w| w[0] <= w[1]));
            prop_assert!(tour.stop_offsets_m().iter().all(|s| (0.0..=length).contains(s)));
            let p = tour.progress(to_pos(walker), accuracy, hint);
            prop_assert!((0.0..=length).contains(&p.along_m), "{:?} of {}", p, length);
            prop_assert!((0.0..=length).contains(&p.distance_left_m), "{:?}", p);
            prop_assert!((0.0..=1.0).contains(&p.fraction_done), "{:?}", p);
            prop_assert!(p.off_route_m >= 0.0 && !p.off_route_m.is_nan(), "{:?}", p);
            if let Some(d) = p.distance_to_next_stop_m {
                prop_assert!(d >= 0.0 && d <= length);
            }
        }
    }
}
