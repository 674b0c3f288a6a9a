//! `cityguide pack inspect`: what a pack holds, for people (text) and scripts (JSON).

use cityguide_core::pack::model::LanguageCoverage;
use cityguide_core::pack::{FORMAT_MAJOR, PackFile};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Serialize)]
struct Counts {
    places: usize,
    tours: usize,
    categories: usize,
    feedback_routes: usize,
    media: usize,
}

#[derive(Serialize)]
struct Inspect<'a> {
    city_id: &'a str,
    name: &'a std::collections::BTreeMap<String, String>,
    version: u64,
    created: String,
    format: String,
    default_language: &'a str,
    languages: Vec<LanguageCoverage>,
    counts: Counts,
    bbox: [f64; 4],
    time_zone: &'a str,
    country: Option<&'a str>,
    licence: Option<&'a str>,
    attribution: Option<&'a str>,
    publisher: Option<&'a str>,
    size_bytes: usize,
    sha256: String,
}

/// Prints the summary of a verified pack.
pub fn print(pack: &PackFile, json: bool) -> Result<(), String> {
    let c = pack.to_content();
    let m = &c.meta;
    let sha = Sha256::digest(pack.bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>();
    let info = Inspect {
        city_id: &m.city_id,
        name: &m.name,
        version: m.version,
        created: chrono::DateTime::from_timestamp(m.created, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
        format: format!("{FORMAT_MAJOR}.{}", pack.info().format_minor),
        default_language: &m.default_language,
        languages: c.language_coverage(),
        counts: Counts {
            places: c.places.len(),
            tours: c.tours.len(),
            categories: c.categories.len(),
            feedback_routes: c.feedback_routes.len(),
            media: c.places.iter().map(|p| p.media.len()).sum(),
        },
        bbox: [m.bbox.min_lat, m.bbox.min_lon, m.bbox.max_lat, m.bbox.max_lon],
        time_zone: &m.time_zone,
        country: m.country.as_deref(),
        licence: m.licence.as_deref(),
        attribution: m.attribution.as_deref(),
        publisher: m.publisher.as_deref(),
        size_bytes: pack.bytes().len(),
        sha256: sha,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let name = m.name.get(&m.default_language).map_or("", String::as_str);
    println!("{} ({name}), version {}, created {}", info.city_id, info.version, info.created);
    println!("format {}, {} bytes, sha256 {}", info.format, info.size_bytes, info.sha256);
    println!(
        "{} places, {} tours, {} categories, {} feedback routes, {} media",
        info.counts.places, info.counts.tours, info.counts.categories, info.counts.feedback_routes, info.counts.media
    );
    println!("time zone {}, country {}", info.time_zone, info.country.unwrap_or("-"));
    if let Some(l) = info.licence {
        println!("licence {l}");
    }
    if let Some(a) = info.attribution {
        println!("attribution: {a}");
    }
    println!(
        "{:<8} {:>6} {:>9} {:>12} {:>9} {:>6}",
        "language", "names", "summaries", "descriptions", "easy-read", "tours"
    );
    for l in &info.languages {
        let mark = if l.lang == m.default_language { "*" } else { "" };
        println!(
            "{:<8} {:>6} {:>9} {:>12} {:>9} {:>6}",
            format!("{}{mark}", l.lang),
            l.names,
            l.summaries,
            l.descriptions,
            l.easy_read,
            l.tour_titles
        );
    }
    Ok(())
}
