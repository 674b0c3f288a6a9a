//! `cityguide import osm` on a real OpenStreetMap extract of central Helsinki (`data/fixtures/osm`): the sources it
//! writes build into a pack with the right multilingual names, opening hours and accessibility, and a merge into
//! edited sources keeps the department's ids and texts while reporting what is new, changed and gone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cityguide_core::pack::PackFile;
use cityguide_core::pack::model::{Access, Content, PlaceRec};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn cityguide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const EXTRACT: &str = "data/fixtures/osm/helsinki.osm.pbf";
const BBOX: &str = "24.90,60.15,25.00,60.19";

fn import_new(dir: &Path) -> serde_json::Value {
    let out = ok(&cityguide(&[
        "import",
        "osm",
        EXTRACT,
        "--bbox",
        BBOX,
        "-o",
        dir.to_str().expect("path"),
        "--city-id",
        "helsinki",
        "--name",
        "Helsinki",
        "--lang",
        "fi",
        "--time-zone",
        "Europe/Helsinki",
        "--country",
        "FI",
        "--json",
    ]));
    serde_json::from_str(&out).expect("json report")
}

fn build(dir: &Path, pack: &Path) -> Content {
    ok(&cityguide(&["pack", "build", dir.to_str().expect("path"), "-o", pack.to_str().expect("path")]));
    PackFile::open(pack).expect("the built pack verifies").to_content()
}

fn by_osm<'a>(c: &'a Content, osm: &str) -> &'a PlaceRec {
    c.places.iter().find(|p| p.osm_id.as_deref() == Some(osm)).unwrap_or_else(|| panic!("{osm} is in the pack"))
}

#[test]
fn a_real_extract_imports_into_sources_that_build_with_names_hours_and_access() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("helsinki");
    let report = import_new(&dir);
    assert_eq!(report["created"], true);
    let langs: Vec<&str> = report["languages"].as_array().expect("langs").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(langs[0], "fi", "the default language first");
    for l in ["sv", "en"] {
        assert!(langs.contains(&l), "Helsinki's OSM names are also in {l}: {langs:?}");
    }
    let new = report["new"].as_array().expect("new").len();
    assert!(new >= 100, "{new} places imported");
    assert!(report["stats"]["unnamed"].as_u64().expect("unnamed") > 0, "nameless features are left out");

    let content = build(&dir, &tmp.path().join("helsinki.pack"));
    assert_eq!(content.places.len(), new);
    assert_eq!(content.meta.licence.as_deref(), Some("ODbL-1.0"));
    assert!(content.meta.attribution.as_deref().is_some_and(|a| a.contains("OpenStreetMap contributors")));

    // Helsinki Cathedral is a way in OSM: it becomes one point on the church, with its names in four languages.
    let cathedral = by_osm(&content, "way/419479428");
    assert_eq!(cathedral.name["fi"], "Helsingin tuomiokirkko");
    assert_eq!(cathedral.name["sv"], "Helsingfors domkyrka");
    assert_eq!(cathedral.name["en"], "Helsinki Cathedral");
    assert_eq!(cathedral.name["ru"], "Кафедральный собор");
    assert!((cathedral.lat - 60.1704).abs() < 0.0005 && (cathedral.lon - 24.9522).abs() < 0.001, "{cathedral:?}");
    assert!(cathedral.categories.contains(&"religion.church".to_owned()));
    assert_eq!(cathedral.wikidata.as_deref(), Some("Q738015"));
    assert_eq!(cathedral.accessibility.step_free, Access::Limited);
    assert!(cathedral.opening_hours.as_deref().is_some_and(|h| h.contains("Jun-Aug")));

    // Ateneum: opening hours, wheelchair access and a wheelchair toilet carried over, with its address.
    let ateneum = by_osm(&content, "way/8033120");
    assert_eq!(ateneum.id, "ateneum");
    assert_eq!(ateneum.opening_hours.as_deref(), Some("Tu, Fr 10:00-18:00; We-Th 10:00-20:00; Sa-Su 10:00-17:00"));
    assert_eq!(ateneum.accessibility.step_free, Access::Yes);
    assert_eq!(ateneum.accessibility.wheelchair_toilet, Access::Yes);
    assert_eq!(ateneum.address.street.as_deref(), Some("Kaivokatu"));
    assert_eq!(ateneum.categories[0], "museum");
    assert_eq!(ateneum.name["ru"], "Музей Атенеум");

    // A relation (the market square) gets a point inside the square.
    let square = by_osm(&content, "relation/2919185");
    assert!((square.lat - 60.1672).abs() < 0.001 && (square.lon - 24.9528).abs() < 0.001, "{square:?}");

    // Lilla Teatern has wheelchair=no: "no" is data too, not "unknown".
    assert_eq!(by_osm(&content, "node/247158305").accessibility.step_free, Access::No);
    let with_hours = content.places.iter().filter(|p| p.opening_hours.is_some()).count();
    let with_access = content.places.iter().filter(|p| p.accessibility.is_known()).count();
    assert!(with_hours >= 10 && with_access >= 30, "{with_hours} with hours, {with_access} with access data");

    // Creating again over existing sources is refused: the department's work is never overwritten by accident.
    let again = cityguide(&[
        "import",
        "osm",
        EXTRACT,
        "--bbox",
        BBOX,
        "-o",
        dir.to_str().expect("path"),
        "--lang",
        "fi",
        "--time-zone",
        "Europe/Helsinki",
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--merge"));
}

/// Rewrites one CSV file of the sources with `edit` applied to its rows (header included).
fn edit_csv(path: &Path, edit: impl FnOnce(&mut Vec<Vec<String>>)) {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path).expect("csv");
    let mut rows: Vec<Vec<String>> =
        rdr.records().map(|r| r.expect("row").iter().map(str::to_owned).collect()).collect();
    edit(&mut rows);
    let mut w = csv::WriterBuilder::new().flexible(true).from_path(path).expect("write");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.flush().expect("flush");
}

#[test]
fn a_merge_keeps_hand_written_texts_and_ids_and_reports_new_changed_and_gone() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("helsinki");
    import_new(&dir);
    let hours = |rows: &Vec<Vec<String>>| rows[0].iter().position(|h| h == "opening_hours").expect("column");
    // The department edits: a texts row for the cathedral with its own name, summary and easy-read text; Ateneum
    // renamed to its own id and stripped of its OSM id (it must be found again by its Wikidata id); the gallery's
    // hours changed by hand; a place of its own with an OSM id that no longer exists; Savoy deleted.
    edit_csv(&dir.join("texts/fi.csv"), |rows| {
        let r = rows.iter_mut().find(|r| r[1] == "helsingin-tuomiokirkko").expect("cathedral row");
        r[2] = "Tuomiokirkko".into();
        r[3] = "Helsingin tunnetuin kirkko Senaatintorin laidalla.".into();
        r[5] = "Iso valkoinen kirkko. Sinne on monta porrasta.".into();
        let a = rows.iter_mut().find(|r| r[1] == "ateneum").expect("ateneum row");
        a[1] = "ateneum-art-museum".into();
        a[3] = "Suomen taiteen kansallisgalleria.".into();
        rows.retain(|r| r[1] != "savoy-teatteri");
        rows.push(["place", "old-kiosk", "Vanha kioski", "", "", ""].map(String::from).to_vec());
    });
    for l in ["sv", "en", "ru"] {
        edit_csv(&dir.join(format!("texts/{l}.csv")), |rows| {
            for r in rows.iter_mut().filter(|r| r[1] == "ateneum") {
                r[1] = "ateneum-art-museum".into();
            }
            rows.retain(|r| r[1] != "savoy-teatteri");
        });
    }
    edit_csv(&dir.join("places.csv"), |rows| {
        let h = hours(rows);
        let osm = rows[0].iter().position(|c| c == "osm_id").expect("osm_id");
        let a = rows.iter_mut().find(|r| r[0] == "ateneum").expect("ateneum");
        a[0] = "ateneum-art-museum".into();
        a[osm] = String::new();
        let g = rows.iter_mut().find(|r| r[0] == "anna-ruohonen").expect("gallery");
        g[h] = "Mo-Fr 12:00-16:00".into();
        rows.retain(|r| r[0] != "savoy-teatteri");
        let mut kiosk = rows[1].clone();
        kiosk[0] = "old-kiosk".into();
        kiosk[osm] = "node/1".into();
        kiosk[h] = String::new();
        rows.push(kiosk);
    });

    let out = ok(&cityguide(&["import", "osm", EXTRACT, "-o", dir.to_str().expect("path"), "--merge", "--json"]));
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["created"], false);
    let new: Vec<&str> = report["new"].as_array().expect("new").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(new, ["savoy-teatteri"], "only the deleted place comes back");
    let gone = report["gone"].as_array().expect("gone");
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0]["id"], "old-kiosk");
    assert_eq!(gone[0]["osm_id"], "node/1");
    let changed = report["changed"].as_array().expect("changed");
    let fields_of = |id: &str| -> Vec<String> {
        changed
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| {
                c["fields"].as_array().expect("fields").iter().map(|f| f.as_str().expect("s").to_owned()).collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(fields_of("anna-ruohonen"), ["opening_hours"]);
    assert_eq!(fields_of("ateneum-art-museum"), ["osm_id"], "matched by Wikidata id; its OSM id is filled in");
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(report["unchanged"].as_u64().expect("unchanged") >= 100);
    let kept = report["kept"].as_array().expect("kept");
    assert!(kept.iter().any(|k| k.as_str().is_some_and(|k| k.contains("Tuomiokirkko"))), "{kept:?}");

    let content = build(&dir, &tmp.path().join("merged.pack"));
    let cathedral = by_osm(&content, "way/419479428");
    assert_eq!(cathedral.id, "helsingin-tuomiokirkko");
    assert_eq!(cathedral.name["fi"], "Tuomiokirkko", "the hand-written name stays");
    assert_eq!(cathedral.summary["fi"], "Helsingin tunnetuin kirkko Senaatintorin laidalla.");
    assert_eq!(cathedral.easy_read["fi"], "Iso valkoinen kirkko. Sinne on monta porrasta.");
    assert_eq!(cathedral.name["sv"], "Helsingfors domkyrka");
    let ateneum = by_osm(&content, "way/8033120");
    assert_eq!(ateneum.id, "ateneum-art-museum", "the department's id stays");
    assert_eq!(ateneum.summary["fi"], "Suomen taiteen kansallisgalleria.");
    assert_eq!(content.places.iter().filter(|p| p.wikidata.as_deref() == Some("Q754507")).count(), 1, "no duplicate");
    assert_eq!(
        by_osm(&content, "node/319810654").opening_hours.as_deref(),
        Some("Tu-Fr 11:00-18:00; Sa 11:00-16:00; PH off")
    );
    assert!(content.places.iter().any(|p| p.id == "old-kiosk"), "a gone place stays until the department deletes it");

    // Merging the same extract again changes nothing.
    let out = ok(&cityguide(&["import", "osm", EXTRACT, "-o", dir.to_str().expect("path"), "--merge", "--json"]));
    let again: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(again["new"].as_array().map(Vec::len), Some(0));
    assert_eq!(again["changed"].as_array().map(Vec::len), Some(0), "{}", again["changed"]);
}

#[test]
fn a_merge_adds_osm_attribution_to_existing_sources_without_losing_their_licence() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("helsinki");
    import_new(&dir);
    let city = dir.join("city.toml");
    let text = std::fs::read_to_string(&city).expect("city.toml");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("licence") {
                "licence = \"CC-BY-4.0\"".to_owned()
            } else if l.starts_with("attribution") {
                "attribution = \"Texts: City of Helsinki\"".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&city, text).expect("write");
    ok(&cityguide(&["import", "osm", EXTRACT, "-o", dir.to_str().expect("path"), "--merge"]));
    let content = build(&dir, &tmp.path().join("h.pack"));
    assert_eq!(content.meta.licence.as_deref(), Some("CC-BY-4.0 AND ODbL-1.0"));
    let attribution = content.meta.attribution.expect("attribution");
    assert!(attribution.starts_with("Texts: City of Helsinki; © OpenStreetMap contributors"), "{attribution}");
}

#[test]
fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let junk = tmp.path().join("junk.osm.pbf");
    std::fs::write(&junk, b"\x00\x00\x00\x0dnot a pbf at all, just text").expect("write");
    let dir = tmp.path().join("out");
    let o = cityguide(&[
        "import",
        "osm",
        junk.to_str().expect("path"),
        "--bbox",
        BBOX,
        "-o",
        dir.to_str().expect("path"),
        "--lang",
        "fi",
        "--time-zone",
        "Europe/Helsinki",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a readable OpenStreetMap PBF extract"), "{err}");
    assert!(!dir.exists(), "nothing written");
    let o = cityguide(&["import", "osm", EXTRACT, "--bbox", "60.15,24.90,60.19,25.00,1", "-o", "x", "--lang", "fi"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("min_lon,min_lat,max_lon,max_lat"));
    let o = cityguide(&[
        "import",
        "osm",
        EXTRACT,
        "--bbox",
        "60.15,24.90,60.19,25.00",
        "-o",
        dir.to_str().expect("path"),
        "--lang",
        "fi",
        "--time-zone",
        "Europe/Helsinki",
    ]);
    assert!(!o.status.success(), "a swapped bbox (latitude first) finds nothing and says why");
    assert!(String::from_utf8_lossy(&o.stderr).contains("outside"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!dir.exists(), "nothing written");
}
