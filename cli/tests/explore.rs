//! `cityguide explore` as a script uses it: every command with `--json`, on the mini city.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json output")
}

/// A data dir with the mini city installed, and the args prefix that points at it.
fn phone() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("mini.pack");
    let o = run(&["pack", "build", "data/fixtures/mini", "-o", pack.to_str().expect("p")]);
    assert!(o.status.success());
    let data = tmp.path().join("phone").to_str().expect("p").to_owned();
    let v = json(&["explore", "--data-dir", &data, "install", pack.to_str().expect("p"), "--json"]);
    assert_eq!(v["city_id"], "mini");
    assert_eq!(v["version"], 3);
    (tmp, data)
}

#[test]
fn near_returns_the_documented_fields_nearest_first() {
    let (_tmp, data) = phone();
    let v = json(&[
        "explore",
        "--data-dir",
        &data,
        "near",
        "--lat",
        "43.2050",
        "--lon",
        "27.9106",
        "--limit",
        "3",
        "--json",
    ]);
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 3);
    for p in arr {
        for k in ["id", "name", "lang", "lat", "lon", "distance_m"] {
            assert!(!p[k].is_null(), "{k} missing in {p}");
        }
    }
    assert_eq!(arr[0]["id"], "cathedral");
    assert_eq!(arr[0]["lang"], "en");
    assert_eq!(arr[0]["name"], "Cathedral of the Assumption");
    let d: Vec<f64> = arr.iter().map(|p| p["distance_m"].as_f64().expect("d")).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    let bg = json(&[
        "explore",
        "--data-dir",
        &data,
        "--lang",
        "bg",
        "near",
        "--lat",
        "43.2050",
        "--lon",
        "27.9106",
        "--limit",
        "1",
        "--json",
    ]);
    assert_eq!(bg[0]["lang"], "bg");
    let step_free = json(&[
        "explore",
        "--data-dir",
        &data,
        "near",
        "--lat",
        "43.2050",
        "--lon",
        "27.9106",
        "--accessible",
        "--json",
    ]);
    assert_eq!(step_free.as_array().map(Vec::len), Some(1));
    let museums = json(&[
        "explore",
        "--data-dir",
        &data,
        "near",
        "--lat",
        "43.2050",
        "--lon",
        "27.9106",
        "--category",
        "museum",
        "--radius",
        "400",
        "--json",
    ]);
    let ids: Vec<&str> = museums.as_array().expect("a").iter().map(|p| p["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["clock-tower"]);
    // Monday in July: the museum is closed, unknown hours are left out.
    let open = json(&[
        "explore",
        "--data-dir",
        &data,
        "near",
        "--lat",
        "43.2050",
        "--lon",
        "27.9106",
        "--open-now",
        "--at",
        "2026-07-13T08:00:00Z",
        "--json",
    ]);
    let ids: Vec<&str> = open.as_array().expect("a").iter().map(|p| p["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["cathedral", "sea-garden"]);
}

#[test]
fn search_place_tours_and_favourites() {
    let (_tmp, data) = phone();
    for q in ["терми", "termi", "Thermae"] {
        let v = json(&["explore", "--data-dir", &data, "search", q, "--json"]);
        assert_eq!(v[0]["id"], "roman-thermae", "{q}");
        assert!(v[0]["lang"].is_string() && v[0]["name"].is_string());
    }
    let p = json(&[
        "explore",
        "--data-dir",
        &data,
        "--lang",
        "de",
        "place",
        "archaeological-museum",
        "--at",
        "2026-07-14T07:30:00Z",
        "--json",
    ]);
    assert_eq!((p["name"].as_str(), p["lang"].as_str()), (Some("Archäologisches Museum"), Some("de")));
    assert_eq!(p["hours"]["state"], "open");
    assert_eq!(p["media"][0]["alt"]["lang"], "bg", "no German alt text: the default language");
    let tours = json(&["explore", "--data-dir", &data, "tours", "--json"]);
    assert_eq!(tours[0]["id"], "old-town");
    let t = json(&["explore", "--data-dir", &data, "tour", "old-town", "--at", "43.2047,27.9121", "--json"]);
    assert_eq!(t["tour"]["stops"].as_array().map(Vec::len), Some(4));
    assert_eq!(t["progress"]["off_route"], false);
    assert_eq!(t["progress"]["next_stop"]["index"], 2, "at the clock tower, the museum is next");
    assert_eq!(t["progress"]["next_stop"]["place_id"], "archaeological-museum");
    json(&["explore", "--data-dir", &data, "favourite", "add", "cathedral", "--json"]);
    let favs = json(&["explore", "--data-dir", &data, "favourite", "list", "--json"]);
    assert_eq!(favs[0]["place_id"], "cathedral");
    assert_eq!(favs[0]["status"], "present");
    let o = run(&["explore", "--data-dir", &data, "favourite", "add", "nowhere"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no place nowhere"));
}

#[test]
fn walk_replays_a_track_into_enter_and_exit_events() {
    let (tmp, data) = phone();
    // Walk east along the boulevard past the clock tower, one fix every 2 s.
    let mut csv = String::from("lat,lon,accuracy,time\n");
    for i in 0..=60 {
        let lon = 27.9080 + 0.0001 * f64::from(i);
        csv += &format!("43.20470,{lon:.6},5,{}\n", i * 2);
    }
    let track = tmp.path().join("walk.csv");
    std::fs::write(&track, csv).expect("write");
    let v = json(&["explore", "--data-dir", &data, "walk", track.to_str().expect("p"), "--json"]);
    let events: Vec<(String, String)> = v
        .as_array()
        .expect("a")
        .iter()
        .map(|e| (e["event"].as_str().expect("e").to_owned(), e["place_id"].as_str().expect("p").to_owned()))
        .collect();
    let tower: Vec<&str> = events.iter().filter(|(_, p)| p == "clock-tower").map(|(e, _)| e.as_str()).collect();
    assert_eq!(tower, ["enter", "exit"], "{events:?}");
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "lat,lon\nx,1\n").expect("write");
    let o = run(&["explore", "--data-dir", &data, "walk", bad.to_str().expect("p")]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("row 2: lat is not a number"));
}

#[test]
fn asking_before_installing_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("empty");
    let o = run(&["explore", "--data-dir", data.to_str().expect("p"), "near", "--lat", "43.2", "--lon", "27.9"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no city installed"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn demo_tells_the_story_of_a_walk_through_varna() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = run(&["demo", "--data-dir", tmp.path().join("phone").to_str().expect("p")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in ["what is near me?", "Aladzha Monastery", "Archäologisches Museum", "enter", "★ Roman Thermae"] {
        assert!(out.contains(needle), "demo output lacks {needle:?}:\n{out}");
    }
}
