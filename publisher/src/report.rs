//! The quality report: what a city's content still lacks, before visitors find out.
//!
//! A culture department publishing in eight languages cannot read every row. This module counts, per language,
//! which places have a name, summary, description and easy-read text, how many places have opening hours,
//! accessibility data, a Wikidata id and alternative text for their media, and points at the records that look
//! wrong on a map: places far from every other place (a typo in a coordinate usually lands kilometres away), places
//! outside the city's bounding box, and tours with long gaps between consecutive stops. The same figures are printed
//! by `cityguide pack report` and shown in the HTML preview.

use serde::Serialize;

use cityguide_core::geodesy::distance_m;
use cityguide_core::pack::model::{Content, PlaceRec};

/// Thresholds of the report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    /// A place is an outlier when its nearest neighbour is farther than this many metres ...
    pub outlier_min_m: f64,
    /// ... and farther than this many times the median nearest-neighbour distance of all places.
    pub outlier_factor: f64,
    /// A tour has a gap when two consecutive stops are farther apart than this, metres.
    pub tour_gap_m: f64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { outlier_min_m: 2_000.0, outlier_factor: 10.0, tour_gap_m: 1_000.0 }
    }
}

/// Text coverage of one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageFigures {
    /// The language tag.
    pub lang: String,
    /// Places with a name.
    pub names: usize,
    /// Places with a summary.
    pub summaries: usize,
    /// Places with a description.
    pub descriptions: usize,
    /// Places with easy-read text.
    pub easy_read: usize,
    /// Media items with alternative text.
    pub media_alt: usize,
    /// Tours with a title.
    pub tour_titles: usize,
}

/// A place far from all others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    /// The place.
    pub id: String,
    /// Its nearest neighbour.
    pub nearest: String,
    /// The distance to it, metres.
    pub distance_m: f64,
}

/// Two consecutive tour stops far apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TourGap {
    /// The tour.
    pub tour: String,
    /// The stop before the gap.
    pub from: String,
    /// The stop after it.
    pub to: String,
    /// Straight-line distance, metres.
    pub distance_m: f64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    /// The city.
    pub city_id: String,
    /// The content version.
    pub version: u64,
    /// The default language.
    pub default_language: String,
    /// Number of places.
    pub places: usize,
    /// Number of tours.
    pub tours: usize,
    /// Number of media items.
    pub media: usize,
    /// Per language, in the content's language order.
    pub languages: Vec<LanguageFigures>,
    /// Places with opening hours.
    pub with_opening_hours: usize,
    /// Places with at least one known accessibility attribute.
    pub with_accessibility: usize,
    /// Places with a Wikidata id.
    pub with_wikidata: usize,
    /// Places with at least one media item.
    pub with_media: usize,
    /// Median distance from a place to its nearest neighbour, metres (0 with fewer than two places).
    pub median_nearest_m: f64,
    /// The nearest-neighbour distance above which a place is an outlier, metres.
    pub outlier_threshold_m: f64,
    /// Places far from all others, farthest first.
    pub outliers: Vec<Outlier>,
    /// Places outside the bounding box.
    pub outside_bbox: Vec<String>,
    /// The gap above which tour stops are reported, metres.
    pub tour_gap_threshold_m: f64,
    /// Tour gaps, in tour and stop order.
    pub tour_gaps: Vec<TourGap>,
}

fn has(t: &cityguide_core::pack::model::Texts, lang: &str) -> bool {
    t.get(lang).is_some_and(|s| !s.trim().is_empty())
}

/// Nearest neighbour of every place: `(index of neighbour, metres)`, `None` for a single place.
///
/// Places are sorted by latitude and each search walks outwards until the latitude difference alone exceeds the
/// best distance, so a city of 20,000 places takes milliseconds, not a full pairwise scan.
fn nearest_neighbours(places: &[PlaceRec]) -> Vec<Option<(usize, f64)>> {
    let mut order: Vec<usize> = (0..places.len()).collect();
    order.sort_by(|&a, &b| places[a].lat.total_cmp(&places[b].lat));
    let mut out = vec![None; places.len()];
    for (k, &i) in order.iter().enumerate() {
        let p = (places[i].lat, places[i].lon);
        let mut best: Option<(usize, f64)> = None;
        let mut scan = |j: usize| -> bool {
            let q = (places[j].lat, places[j].lon);
            // 110.57 km is the shortest degree of latitude; stop when the latitude gap alone is beyond the best.
            if best.is_some_and(|(_, d)| (q.0 - p.0).abs() * 110_570.0 > d) {
                return false;
            }
            let d = distance_m(p, q);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((j, d));
            }
            true
        };
        for &j in order[k + 1..].iter() {
            if !scan(j) {
                break;
            }
        }
        for &j in order[..k].iter().rev() {
            if !scan(j) {
                break;
            }
        }
        out[i] = best;
    }
    out
}

/// Computes the report of one city's content.
pub fn quality_report(content: &Content, opts: &ReportOptions) -> QualityReport {
    let places = &content.places;
    let media: Vec<&cityguide_core::pack::model::MediaRec> = places.iter().flat_map(|p| &p.media).collect();
    let languages = content
        .meta
        .languages
        .iter()
        .map(|l| LanguageFigures {
            lang: l.clone(),
            names: places.iter().filter(|p| has(&p.name, l)).count(),
            summaries: places.iter().filter(|p| has(&p.summary, l)).count(),
            descriptions: places.iter().filter(|p| has(&p.description, l)).count(),
            easy_read: places.iter().filter(|p| has(&p.easy_read, l)).count(),
            media_alt: media.iter().filter(|m| has(&m.alt, l)).count(),
            tour_titles: content.tours.iter().filter(|t| has(&t.title, l)).count(),
        })
        .collect();
    let nn = nearest_neighbours(places);
    let mut dists: Vec<f64> = nn.iter().filter_map(|n| n.map(|(_, d)| d)).collect();
    dists.sort_by(f64::total_cmp);
    let median = match dists.len() {
        0 => 0.0,
        n if n % 2 == 1 => dists[n / 2],
        n => (dists[n / 2 - 1] + dists[n / 2]) / 2.0,
    };
    let threshold = opts.outlier_min_m.max(opts.outlier_factor * median);
    let mut outliers: Vec<Outlier> = nn
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (j, d) = (*n)?;
            (d > threshold).then(|| Outlier { id: places[i].id.clone(), nearest: places[j].id.clone(), distance_m: d })
        })
        .collect();
    outliers.sort_by(|a, b| b.distance_m.total_cmp(&a.distance_m).then(a.id.cmp(&b.id)));
    let bbox = content.meta.bbox;
    let outside_bbox = places.iter().filter(|p| !bbox.contains(p.lat, p.lon)).map(|p| p.id.clone()).collect();
    let pos = |id: &str| places.iter().find(|p| p.id == id).map(|p| (p.lat, p.lon));
    let mut tour_gaps = Vec::new();
    for t in &content.tours {
        for w in t.stops.windows(2) {
            if let (Some(a), Some(b)) = (pos(&w[0]), pos(&w[1])) {
                let d = distance_m(a, b);
                if d > opts.tour_gap_m {
                    tour_gaps.push(TourGap { tour: t.id.clone(), from: w[0].clone(), to: w[1].clone(), distance_m: d });
                }
            }
        }
    }
    QualityReport {
        city_id: content.meta.city_id.clone(),
        version: content.meta.version,
        default_language: content.meta.default_language.clone(),
        places: places.len(),
        tours: content.tours.len(),
        media: media.len(),
        languages,
        with_opening_hours: places.iter().filter(|p| p.opening_hours.is_some()).count(),
        with_accessibility: places.iter().filter(|p| p.accessibility.is_known()).count(),
        with_wikidata: places.iter().filter(|p| p.wikidata.is_some()).count(),
        with_media: places.iter().filter(|p| !p.media.is_empty()).count(),
        median_nearest_m: median,
        outlier_threshold_m: threshold,
        outliers,
        outside_bbox,
        tour_gap_threshold_m: opts.tour_gap_m,
        tour_gaps,
    }
}

impl QualityReport {
    /// The report as text for a terminal, one finding per line, with what to do about it.
    pub fn to_text(&self) -> String {
        let pct = |n: usize, of: usize| (n * 100 + of / 2).checked_div(of).unwrap_or(0);
        let mut s = format!(
            "quality report: {} version {}: {} places, {} tours, {} media\n\n",
            self.city_id, self.version, self.places, self.tours, self.media
        );
        s.push_str("language    names  summaries  descriptions  easy-read  media alt  tour titles\n");
        for l in &self.languages {
            let star = if l.lang == self.default_language { "*" } else { " " };
            s.push_str(&format!(
                "{:<9}{} {:>6} {:>10} {:>13} {:>10} {:>10} {:>12}\n",
                l.lang, star, l.names, l.summaries, l.descriptions, l.easy_read, l.media_alt, l.tour_titles
            ));
        }
        s.push('\n');
        for (what, n) in [
            ("opening hours", self.with_opening_hours),
            ("accessibility data", self.with_accessibility),
            ("a Wikidata id", self.with_wikidata),
            ("pictures or recordings", self.with_media),
        ] {
            s.push_str(&format!("places with {what}: {n} of {} ({} %)\n", self.places, pct(n, self.places)));
        }
        s.push_str(&format!(
            "\nplaces far from all others (nearest neighbour over {:.0} m; the median is {:.0} m): {}\n",
            self.outlier_threshold_m,
            self.median_nearest_m,
            if self.outliers.is_empty() { "none" } else { "check their coordinates" }
        ));
        for o in &self.outliers {
            s.push_str(&format!("  {}: {:.1} km from {}\n", o.id, o.distance_m / 1000.0, o.nearest));
        }
        s.push_str(&format!(
            "places outside the bounding box: {}\n",
            if self.outside_bbox.is_empty() {
                "none".to_owned()
            } else {
                format!("{} (fix the position or enlarge bbox in city.toml)", self.outside_bbox.join(", "))
            }
        ));
        s.push_str(&format!(
            "tour stops more than {:.0} m apart: {}\n",
            self.tour_gap_threshold_m,
            if self.tour_gaps.is_empty() { "none" } else { "add a stop between them or check the order" }
        ));
        for g in &self.tour_gaps {
            s.push_str(&format!("  {}: {} → {} {:.1} km\n", g.tour, g.from, g.to, g.distance_m / 1000.0));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityguide_core::pack::model::{AccessibilityRec, AddressRec, BBox, ContactRec, Meta, Texts};

    fn place(id: &str, lat: f64, lon: f64) -> PlaceRec {
        PlaceRec {
            id: id.into(),
            lat,
            lon,
            categories: vec!["x".into()],
            importance: 0,
            name: Texts::new(),
            summary: Texts::new(),
            description: Texts::new(),
            easy_read: Texts::new(),
            address: AddressRec::default(),
            opening_hours: None,
            accessibility: AccessibilityRec::default(),
            contact: ContactRec::default(),
            wikidata: None,
            osm_id: None,
            media: Vec::new(),
        }
    }

    #[test]
    fn nearest_neighbours_equal_a_brute_force_scan_on_seeded_random_places() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let places: Vec<PlaceRec> =
            (0..400).map(|i| place(&format!("p{i}"), 43.0 + rnd() * 0.5, 27.5 + rnd() * 0.8)).collect();
        let fast = nearest_neighbours(&places);
        for (i, p) in places.iter().enumerate() {
            let brute = places
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, q)| distance_m((p.lat, p.lon), (q.lat, q.lon)))
                .fold(f64::INFINITY, f64::min);
            let (_, d) = fast[i].expect("a neighbour");
            assert!((d - brute).abs() < 1e-6, "{i}: {d} vs {brute}");
        }
        assert_eq!(nearest_neighbours(&places[..1]), vec![None]);
    }

    #[test]
    fn a_lone_far_place_is_an_outlier_and_a_tight_city_has_none() {
        let mut places: Vec<PlaceRec> =
            (0..10).map(|i| place(&format!("p{i}"), 43.20 + f64::from(i) * 0.001, 27.91)).collect();
        let meta = Meta {
            city_id: "t".into(),
            name: Texts::new(),
            bbox: BBox { min_lat: 43.0, min_lon: 27.0, max_lat: 43.5, max_lon: 28.5 },
            version: 1,
            created: 0,
            default_language: "bg".into(),
            languages: vec!["bg".into()],
            licence: None,
            attribution: None,
            publisher: None,
            website: None,
            time_zone: "Europe/Sofia".into(),
            country: None,
            time_zone_rules: None,
        };
        let c = Content {
            meta: meta.clone(),
            categories: vec![],
            places: places.clone(),
            tours: vec![],
            feedback_routes: vec![],
            consultations: vec![],
        };
        let r = quality_report(&c, &ReportOptions::default());
        assert!(r.outliers.is_empty());
        assert!((r.median_nearest_m - 111.2).abs() < 0.5, "{}", r.median_nearest_m);
        places.push(place("far", 43.40, 28.2));
        places.push(place("outside", 44.0, 27.91));
        let c =
            Content { meta, categories: vec![], places, tours: vec![], feedback_routes: vec![], consultations: vec![] };
        let r = quality_report(&c, &ReportOptions::default());
        let ids: Vec<&str> = r.outliers.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["outside", "far"], "farthest first; both are alone");
        assert_eq!(r.outside_bbox, ["outside"]);
    }
}
