//! Grid clustering of the places in a viewport, one algorithm kept apart from the queries it builds on.

use std::collections::HashMap;

use super::{Cluster, SpatialIndex};
use crate::pack::model::BBox;

/// From this zoom on, only places with identical coordinates are grouped.
pub(super) const EXACT_ZOOM: u8 = 18;

/// Grid cells per 256-px tile side (about 64 px each).
const CELLS_PER_TILE: u64 = 4;

/// Web-Mercator's latitude limit: beyond it places go to the first or last row.
const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;

/// Which group a place belongs to: a grid cell (column, row), or exact coordinates (bit patterns) from
/// [`EXACT_ZOOM`] on.
pub(super) fn cell_key((lat, lon): (f64, f64), zoom: u8) -> (u64, u64) {
    if zoom >= EXACT_ZOOM {
        // `+ 0.0` folds -0.0 into 0.0, so equal coordinates have equal bits.
        return ((lat + 0.0).to_bits(), (lon + 0.0).to_bits());
    }
    let n = CELLS_PER_TILE << zoom;
    let last = (n - 1) as f64;
    // Longitude 180 joins the last column rather than wrapping, so no cell crosses the antimeridian.
    let col = ((lon + 180.0) / 360.0 * n as f64).floor().clamp(0.0, last);
    let phi = lat.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT).to_radians();
    let y = (1.0 - phi.tan().asinh() / std::f64::consts::PI) / 2.0;
    let row = (y * n as f64).floor().clamp(0.0, last);
    (col as u64, row as u64)
}

/// A cluster being accumulated. Means are taken as offsets from the first member, so identical coordinates give
/// exactly that coordinate back.
struct Acc {
    first: (f64, f64),
    sum_dlat: f64,
    sum_dlon: f64,
    count: u32,
    representative: u32,
    best_rank: u32,
    bbox: BBox,
    members: Vec<u32>,
}

/// The clusters of [`SpatialIndex::clusters`], in its order, each with its members ascending if `keep_members`
/// (otherwise with none).
pub(super) fn clusters_with_members(
    index: &SpatialIndex,
    bbox: &BBox,
    zoom: u8,
    rank: impl Fn(u32) -> u32,
    filter: impl Fn(u32) -> bool,
    keep_members: bool,
) -> Vec<(Cluster, Vec<u32>)> {
    let mut cells: HashMap<(u64, u64), Acc> = HashMap::new();
    // Ascending indices, so a later member only becomes the representative with a strictly higher rank.
    for i in index.within_bbox(bbox, filter) {
        let (lat, lon) = index.coord(i);
        let r = rank(i);
        let acc = cells.entry(cell_key((lat, lon), zoom)).or_insert_with(|| Acc {
            first: (lat, lon),
            sum_dlat: 0.0,
            sum_dlon: 0.0,
            count: 0,
            representative: i,
            best_rank: r,
            bbox: BBox { min_lat: lat, min_lon: lon, max_lat: lat, max_lon: lon },
            members: Vec::new(),
        });
        acc.sum_dlat += lat - acc.first.0;
        acc.sum_dlon += lon - acc.first.1;
        acc.count += 1;
        if r > acc.best_rank {
            acc.best_rank = r;
            acc.representative = i;
        }
        acc.bbox.min_lat = acc.bbox.min_lat.min(lat);
        acc.bbox.max_lat = acc.bbox.max_lat.max(lat);
        acc.bbox.min_lon = acc.bbox.min_lon.min(lon);
        acc.bbox.max_lon = acc.bbox.max_lon.max(lon);
        if keep_members {
            acc.members.push(i);
        }
    }
    let mut out: Vec<(Cluster, Vec<u32>)> = cells
        .into_values()
        .map(|acc| {
            let n = f64::from(acc.count);
            let cluster = Cluster {
                lat: (acc.first.0 + acc.sum_dlat / n).clamp(acc.bbox.min_lat, acc.bbox.max_lat),
                lon: (acc.first.1 + acc.sum_dlon / n).clamp(acc.bbox.min_lon, acc.bbox.max_lon),
                count: acc.count,
                representative: acc.representative,
                bbox: acc.bbox,
            };
            (cluster, acc.members)
        })
        .collect();
    out.sort_unstable_by(|(a, _), (b, _)| b.count.cmp(&a.count).then(a.representative.cmp(&b.representative)));
    out
}
