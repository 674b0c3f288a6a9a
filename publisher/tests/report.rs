//! The quality report's figures against sources counted by hand (`data/fixtures/mini`) and against Varna's files
//! counted independently of the builder (straight from the CSV cells).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use cityguide_core::pack::PackFile;
use cityguide_publisher::build::{BuildOptions, build_pack, load_sources, load_sources_for_report};
use cityguide_publisher::report::{ReportOptions, quality_report};

#[test]
fn mini_figures_match_a_hand_count() {
    let (content, _) = load_sources(&common::mini(), &BuildOptions::default()).expect("mini loads");
    let r = quality_report(&content, &ReportOptions::default());
    // 4 places in places.csv + sea-garden in places.geojson; one tour; one picture.
    assert_eq!((r.places, r.tours, r.media), (5, 1, 1));
    let lang = |l: &str| r.languages.iter().find(|x| x.lang == l).expect("language").clone();
    // texts/bg.csv and en.csv: every place has name and summary, only the museum a description and easy-read text.
    for l in ["bg", "en"] {
        let f = lang(l);
        assert_eq!(
            (f.names, f.summaries, f.descriptions, f.easy_read, f.media_alt, f.tour_titles),
            (5, 5, 1, 1, 1, 1),
            "{l}"
        );
    }
    // texts/de.csv: only the museum, name and summary; media.csv has no alt:de column.
    let de = lang("de");
    assert_eq!(
        (de.names, de.summaries, de.descriptions, de.easy_read, de.media_alt, de.tour_titles),
        (1, 1, 0, 0, 0, 0)
    );
    // Hours: museum, cathedral, sea garden (24/7). Access: museum, cathedral, thermae ("no" is data), sea garden.
    assert_eq!(r.with_opening_hours, 3);
    assert_eq!(r.with_accessibility, 4);
    assert_eq!(r.with_wikidata, 1);
    assert_eq!(r.with_media, 1);
    // Nearest neighbours by hand (haversine): cathedral-clock 155 m (twice), thermae-clock 465 m, museum-clock
    // 491 m, sea garden-museum 642 m: the median is 465 m; nobody is alone.
    assert!((r.median_nearest_m - 465.0).abs() < 10.0, "{}", r.median_nearest_m);
    assert!(r.outliers.is_empty() && r.outside_bbox.is_empty() && r.tour_gaps.is_empty());
    // The old-town tour: cathedral → clock 155 m → museum 491 m → thermae about 572 m.
    let tight = quality_report(&content, &ReportOptions { tour_gap_m: 530.0, ..ReportOptions::default() });
    assert_eq!(tight.tour_gaps.len(), 1);
    let g = &tight.tour_gaps[0];
    assert_eq!(
        (g.tour.as_str(), g.from.as_str(), g.to.as_str()),
        ("old-town", "archaeological-museum", "roman-thermae")
    );
    assert!((g.distance_m - 572.0).abs() < 10.0, "{}", g.distance_m);
}

#[test]
fn a_mistyped_coordinate_shows_up_as_an_outlier_and_outside_the_bbox() {
    let tmp = common::copy_sources(&common::mini());
    let places = tmp.path().join("places.csv");
    let mut text = std::fs::read_to_string(&places).expect("places");
    // A place 3 km south-west of the rest, inside the bbox; and one with a digit slipped, far outside it.
    text.push_str("lonely-chapel,43.1850,27.8850,religion.church,10,,,,,,,,,,,,,,,,,\n");
    text.push_str("typo-tower,42.2047,27.9121,museum,10,,,,,,,,,,,,,,,,,\n");
    std::fs::write(&places, text).expect("write");
    let bg = tmp.path().join("texts/bg.csv");
    let mut t = std::fs::read_to_string(&bg).expect("bg");
    t.push_str("place,lonely-chapel,Параклис,,,\nplace,typo-tower,Кула,,,\n");
    std::fs::write(&bg, t).expect("write");
    assert!(build_pack(tmp.path(), &BuildOptions::default()).is_err(), "the builder refuses a place outside the bbox");
    let (content, warnings) = load_sources_for_report(tmp.path()).expect("the report still reads the sources");
    assert!(warnings.iter().any(|w| w.message.contains("outside the city's bounding box")));
    // Nearest neighbours now: 155, 155, 465, 491, 642, about 3,020 (the chapel) and 111,000 m (the typo); median
    // 491 m. By default (10 × median = 4.9 km) only the typo is alone; at 5 × median (2.5 km) the chapel is too.
    let r = quality_report(&content, &ReportOptions::default());
    assert_eq!(r.outliers.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["typo-tower"]);
    assert!((r.outlier_threshold_m - 4_910.0).abs() < 100.0, "{}", r.outlier_threshold_m);
    let r = quality_report(&content, &ReportOptions { outlier_factor: 5.0, ..ReportOptions::default() });
    assert_eq!(r.outside_bbox, ["typo-tower"]);
    let ids: Vec<&str> = r.outliers.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["typo-tower", "lonely-chapel"], "farthest first");
    assert!(r.outliers[0].distance_m > 100_000.0);
    assert!((r.outliers[1].distance_m - 3_020.0).abs() < 50.0, "{}", r.outliers[1].distance_m);
    assert!(r.to_text().contains("typo-tower"));
}

/// Reads a CSV into rows of header → cell.
fn rows(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).expect("csv");
    let headers: Vec<String> = rdr.headers().expect("headers").iter().map(str::to_owned).collect();
    rdr.records()
        .map(|r| headers.iter().cloned().zip(r.expect("row").iter().map(|c| c.trim().to_owned())).collect())
        .filter(|r: &BTreeMap<String, String>| r.values().any(|v| !v.is_empty()))
        .collect()
}

#[test]
fn varna_figures_match_its_files_and_the_pack_gives_the_same_report() {
    let dir = common::repo().join("data/varna");
    let places = rows(&dir.join("places.csv"));
    let nonempty = |col: &str| places.iter().filter(|r| !r[col].is_empty()).count();
    let access_cols = [
        "step_free",
        "wheelchair_toilet",
        "accessible_parking",
        "audio_description",
        "tactile_models",
        "seating",
        "hearing_loop",
    ];
    let with_access = places.iter().filter(|r| access_cols.iter().any(|c| !r[*c].is_empty())).count();
    let media = rows(&dir.join("media.csv"));

    let built = build_pack(&dir, &BuildOptions::default()).expect("Varna builds");
    let r = quality_report(&built.content, &ReportOptions::default());
    assert_eq!(r.places, places.len());
    assert_eq!(r.with_opening_hours, nonempty("opening_hours"));
    assert_eq!(r.with_wikidata, nonempty("wikidata"));
    assert_eq!(r.with_accessibility, with_access);
    assert_eq!(r.media, media.len());
    assert_eq!(r.with_media, media.iter().map(|m| m["place_id"].clone()).collect::<BTreeSet<_>>().len());
    for f in &r.languages {
        let texts = rows(&dir.join(format!("texts/{}.csv", f.lang)));
        let count = |col: &str| {
            texts.iter().filter(|t| t["type"] == "place" && !t.get(col).is_none_or(|v| v.is_empty())).count()
        };
        assert_eq!(f.names, count("name"), "{}", f.lang);
        assert_eq!(f.summaries, count("summary"), "{}", f.lang);
        assert_eq!(f.descriptions, count("description"), "{}", f.lang);
        assert_eq!(f.easy_read, count("easy_read"), "{}", f.lang);
        let alt = format!("alt:{}", f.lang);
        assert_eq!(
            f.media_alt,
            media.iter().filter(|m| !m.get(&alt).is_none_or(|v| v.is_empty())).count(),
            "{}",
            f.lang
        );
    }
    // Varna's far-flung sights (the airport, the lakes, the Stone Forest) are kilometres from everything else: the
    // report lists them for a check, every one really more than the threshold from its nearest neighbour.
    for o in &r.outliers {
        assert!(o.distance_m > r.outlier_threshold_m);
    }
    assert!(r.outliers.iter().any(|o| o.id == "pobiti-kamani"), "{:?}", r.outliers);
    // A pack gives exactly the report its sources give.
    let from_pack = PackFile::from_bytes(built.bytes).expect("pack").to_content();
    assert_eq!(quality_report(&from_pack, &ReportOptions::default()), r);
}
