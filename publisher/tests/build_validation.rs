//! Every class of source problem is reported with its exact file, line and column, all problems are collected in
//! one run, and nothing is built when there is an error.

mod common;

use cityguide_publisher::build::{BuildOptions, Diagnostic, Severity, build_pack};
use common::{copy_sources, edit, mini};

/// Builds the mini city after `change`, expecting failure; returns the errors.
fn errors_after(change: impl FnOnce(&std::path::Path)) -> Vec<Diagnostic> {
    let dir = copy_sources(&mini());
    change(dir.path());
    let failed = build_pack(dir.path(), &BuildOptions::default()).expect_err("the change must make the build fail");
    failed.errors().cloned().collect()
}

/// Asserts that exactly one error is at `file:line:column` and that its message contains `needle`.
fn assert_error(errors: &[Diagnostic], file: &str, line: usize, column: usize, needle: &str) {
    let found: Vec<_> = errors.iter().filter(|d| d.file == file && d.line == line && d.column == column).collect();
    assert!(
        found.iter().any(|d| d.message.contains(needle)),
        "no error at {file}:{line}:{column} containing {needle:?}; errors: {:#?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
}

#[test]
fn the_fixture_builds_with_only_a_coverage_warning() {
    let built = build_pack(&mini(), &BuildOptions::default()).expect("mini builds");
    assert_eq!(built.warnings.len(), 1, "{:?}", built.warnings);
    assert_eq!(built.warnings[0].severity, Severity::Warning);
    assert_eq!(built.warnings[0].file, "texts/de.csv");
    assert!(built.warnings[0].message.contains("4 of 5 places have no name in de"));
}

#[test]
fn missing_required_field() {
    // Latitude of the cathedral emptied: line 3, the lat column starts after "cathedral,".
    let errs = errors_after(|d| edit(d, "places.csv", "cathedral,43.204970,", "cathedral,,"));
    assert_error(&errs, "places.csv", 3, 11, "latitude is missing");
}

#[test]
fn missing_required_column() {
    let errs = errors_after(|d| edit(d, "places.csv", "id,lat,lon,categories,", "id,lat,lon,kategories,"));
    assert_error(&errs, "places.csv", 1, 1, "the required column \"categories\" is missing");
}

#[test]
fn coordinate_out_of_range() {
    let errs = errors_after(|d| edit(d, "places.csv", "cathedral,43.204970,", "cathedral,143.204970,"));
    assert_error(&errs, "places.csv", 3, 11, "out of range");
}

#[test]
fn coordinate_outside_the_bounding_box_with_swap_hint() {
    let errs =
        errors_after(|d| edit(d, "places.csv", "cathedral,43.204970,27.910210,", "cathedral,27.910210,43.204970,"));
    assert_error(&errs, "places.csv", 3, 11, "outside the city's bounding box");
    assert!(errs.iter().any(|e| e.message.contains("look swapped")));
}

#[test]
fn decimal_comma_is_explained() {
    let errs = errors_after(|d| edit(d, "places.csv", "cathedral,43.204970,", "cathedral,\"43,204970\","));
    assert_error(&errs, "places.csv", 3, 11, "use a dot as decimal separator");
}

#[test]
fn duplicate_id_across_csv_and_geojson() {
    let errs = errors_after(|d| edit(d, "places.csv", "clock-tower,", "sea-garden,"));
    // The CSV row is read first, so the GeoJSON feature (line 4, column 5) is the duplicate.
    assert_error(&errs, "places.geojson", 4, 5, "duplicate place id \"sea-garden\"");
}

#[test]
fn duplicate_category_id() {
    let errs = errors_after(|d| edit(d, "categories.csv", "park,,park", "museum,,park"));
    assert_error(&errs, "categories.csv", 5, 1, "duplicate category id \"museum\" (first defined on line 2)");
}

#[test]
fn unknown_category() {
    let errs = errors_after(|d| edit(d, "places.csv", ",religion.church,95,", ",religion.churhc,95,"));
    assert_error(&errs, "places.csv", 3, 31, "unknown category \"religion.churhc\"");
}

#[test]
fn unknown_parent_category() {
    let errs = errors_after(|d| edit(d, "categories.csv", "museum.archaeology,museum,", "museum.archaeology,musem,"));
    assert_error(&errs, "categories.csv", 3, 20, "parent category \"musem\" does not exist");
}

#[test]
fn tour_stop_that_does_not_exist() {
    let errs = errors_after(|d| edit(d, "tours.csv", "cathedral;clock-tower;", "cathedral;clock-towr;"));
    assert_error(&errs, "tours.csv", 2, 10, "tour stop \"clock-towr\" does not exist");
}

#[test]
fn tour_without_path() {
    let errs = errors_after(|d| edit(d, "tours.geojson", "\"id\": \"old-town\"", "\"id\": \"new-town\""));
    assert_error(&errs, "tours.csv", 2, 1, "has no path");
}

#[test]
fn invalid_opening_hours() {
    let errs = errors_after(|d| edit(d, "places.csv", "Mo-Su 07:00-19:00", "Mo-Su 07:00-25:99 lunch"));
    assert_error(&errs, "places.csv", 3, 59, "not valid OpenStreetMap syntax");
}

#[test]
fn unknown_or_misspelt_time_zone() {
    // city.toml line 7: `time_zone = "Europe/Sofia"`, the value starts at column 13.
    let errs = errors_after(|d| edit(d, "city.toml", "Europe/Sofia", "Europe/Varna"));
    assert_error(&errs, "city.toml", 7, 13, "\"Europe/Varna\" is not an IANA time zone");
    // The database is looked up without regard to case; the pack must still name the zone as the database does.
    let errs = errors_after(|d| edit(d, "city.toml", "Europe/Sofia", "europe/sofia"));
    assert_error(&errs, "city.toml", 7, 13, "is spelled \"Europe/Sofia\" in the IANA database");
}

#[test]
fn unknown_language_tag_in_city_file() {
    let errs = errors_after(|d| edit(d, "city.toml", "\"bg\", \"en\", \"de\"]", "\"bg\", \"en\", \"xx\"]"));
    assert_error(&errs, "city.toml", 6, 13, "unknown language tag \"xx\"");
}

#[test]
fn texts_file_for_an_undeclared_language() {
    let errs = errors_after(|d| {
        std::fs::write(d.join("texts/fr.csv"), "type,id,name,summary,description,easy_read\n").expect("write")
    });
    assert_error(&errs, "texts/fr.csv", 1, 1, "language fr is not listed in city.toml");
}

#[test]
fn text_missing_in_the_default_language() {
    let errs = errors_after(|d| edit(d, "texts/bg.csv", "place,cathedral,", "place,cathedrale,"));
    // The unknown id in the texts file, and the place without a Bulgarian name at its definition.
    assert_error(&errs, "texts/bg.csv", 8, 7, "unknown place \"cathedrale\"");
    assert_error(&errs, "places.csv", 3, 1, "place \"cathedral\" has no name in the default language bg");
}

#[test]
fn media_without_alt_text_in_the_default_language() {
    let errs = errors_after(|d| edit(d, "media.csv", ",Златни накити от некропола,", ",,"));
    assert_error(&errs, "media.csv", 2, 59, "alternative text in the default language");
}

#[test]
fn malformed_csv_row() {
    let errs = errors_after(|d| edit(d, "categories.csv", "park,,park", "park,,park,extra"));
    assert_error(&errs, "categories.csv", 5, 1, "this row has 4 cells but the header has 3 columns");
}

#[test]
fn csv_that_is_not_utf8() {
    let errs = errors_after(|d| {
        let mut bytes = std::fs::read(d.join("categories.csv")).expect("read");
        bytes.extend_from_slice(b"caf\xe9,,\n");
        std::fs::write(d.join("categories.csv"), bytes).expect("write");
    });
    assert_error(&errs, "categories.csv", 6, 4, "not UTF-8");
}

#[test]
fn malformed_geojson_reports_the_json_position() {
    let errs = errors_after(|d| edit(d, "places.geojson", "\"type\": \"Point\",", "\"type\": \"Point\""));
    assert_error(&errs, "places.geojson", 6, 37, "malformed JSON");
}

#[test]
fn geojson_feature_of_the_wrong_kind() {
    let errs = errors_after(|d| edit(d, "tours.geojson", "\"type\": \"LineString\",", "\"type\": \"MultiPoint\","));
    assert_error(&errs, "tours.geojson", 8, 17, "must be a LineString, found MultiPoint");
}

#[test]
fn geojson_path_point_outside_the_box_points_at_the_coordinate() {
    let errs = errors_after(|d| edit(d, "tours.geojson", "[27.9150, 43.2058]", "[43.2058, 27.9150]"));
    assert_error(&errs, "tours.geojson", 10, 53, "point 3 of tour \"old-town\"");
}

#[test]
fn invalid_wikidata_and_accessibility_values() {
    let errs = errors_after(|d| {
        edit(d, "places.csv", ",Q1627209,", ",1627209,");
        edit(d, "places.csv", "https://example.org,limited,", "https://example.org,maybe,");
    });
    assert_error(&errs, "places.csv", 2, 73, "must look like Q12345");
    assert_error(&errs, "places.csv", 2, 194, "step_free is \"maybe\"");
    // A place refused for its own errors is not reported again as unknown wherever it is referenced.
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let errs = errors_after(|d| {
        edit(d, "places.csv", "cathedral,43.204970,", "cathedral,,");
        edit(d, "categories.csv", "park,,park", "park,,park,extra");
        edit(d, "tours.csv", "cathedral;clock-tower;", "cathedral;clock-towr;");
        edit(d, "city.toml", "Europe/Sofia", "Europe/Varna");
    });
    let files: std::collections::BTreeSet<&str> = errs.iter().map(|e| e.file.as_str()).collect();
    for f in ["places.csv", "categories.csv", "tours.csv", "city.toml"] {
        assert!(files.contains(f), "no error reported for {f}: {errs:#?}");
    }
}

#[test]
fn warnings_do_not_block_the_build() {
    let dir = copy_sources(&mini());
    edit(dir.path(), "places.csv", "id,lat,lon,", "id,lat,lon,nickname,");
    // Give every row an extra empty cell for the new column.
    let text = std::fs::read_to_string(dir.path().join("places.csv")).expect("read");
    let fixed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("{},{}\n", &l[..l.find(',').map_or(0, |p| p)], {
                    let rest = &l[l.find(',').map_or(0, |p| p + 1)..];
                    // insert after lon: id,lat,lon,<new>,rest-after-lon
                    let mut parts = rest.splitn(3, ',');
                    let (lat, lon, tail) =
                        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    format!("{lat},{lon},,{tail}")
                })
            }
        })
        .collect();
    std::fs::write(dir.path().join("places.csv"), fixed).expect("write");
    let built = build_pack(dir.path(), &BuildOptions::default()).expect("a warning does not block");
    assert!(
        built.warnings.iter().any(|w| w.file == "places.csv"
            && w.line == 1
            && w.column == 12
            && w.message.contains("unknown column \"nickname\"")),
        "{:#?}",
        built.warnings
    );
}

#[test]
fn hostile_geojson_documents_never_panic_and_are_located() {
    let base = common::repo().join("../shared/testdata/geojson-invalid");
    for (kind, expect_error) in [("bad", true), ("good", false)] {
        let mut checked = 0;
        for entry in std::fs::read_dir(base.join(kind)).expect("testdata") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("geojson") {
                continue;
            }
            let doc = std::fs::read_to_string(&path).expect("read");
            let lines = doc.lines().count().max(1);
            for target in ["places.geojson", "tours.geojson"] {
                let dir = copy_sources(&mini());
                std::fs::write(dir.path().join(target), &doc).expect("write");
                let result = build_pack(dir.path(), &BuildOptions::default());
                let diags = match result {
                    Ok(b) => b.warnings,
                    Err(f) => f.diagnostics,
                };
                for d in diags.iter().filter(|d| d.file == target) {
                    assert!(d.line >= 1 && d.line <= lines + 1, "{}: {d} is outside the document", path.display());
                }
                let malformed = diags.iter().any(|d| d.file == target && d.message.contains("malformed JSON"));
                if !expect_error {
                    assert!(!malformed, "{}: a valid document reported as malformed JSON", path.display());
                }
            }
            checked += 1;
        }
        assert!(checked >= if expect_error { 40 } else { 15 }, "only {checked} {kind} documents found");
    }
    // bad-json misses a comma at the end of line 2: the parser stops at the next token, line 3 column 5.
    let dir = copy_sources(&mini());
    std::fs::copy(base.join("bad/bad-json.geojson"), dir.path().join("places.geojson")).expect("copy");
    let errs = build_pack(dir.path(), &BuildOptions::default()).expect_err("bad json").diagnostics;
    assert!(
        errs.iter().any(|d| d.file == "places.geojson"
            && d.line == 3
            && d.column == 5
            && d.message.contains("malformed JSON"))
    );
}
