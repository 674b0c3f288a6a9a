//! The `cityguide pack` commands as a culture department and a script use them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn cityguide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn build_varna(out: &Path) -> Output {
    cityguide(&["pack", "build", "data/varna", "-o", out.to_str().expect("utf-8 path")])
}

#[test]
fn varna_builds_twice_to_identical_bytes_and_verifies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a.pack"), tmp.path().join("b.pack"));
    let o = build_varna(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("varna version 1"), "{}", stdout(&o));
    assert!(build_varna(&b).status.success());
    assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    let v = cityguide(&["pack", "verify", a.to_str().expect("path")]);
    assert!(v.status.success(), "{}", stderr(&v));
    assert!(stdout(&v).contains("valid pack of varna version 1"));
}

#[test]
fn inspect_json_shows_counts_and_language_coverage() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    assert!(build_varna(&pack).status.success());
    let o = cityguide(&["pack", "inspect", pack.to_str().expect("path"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["city_id"], "varna");
    let places = v["counts"]["places"].as_u64().expect("places");
    assert!(places >= 80, "{places} places");
    assert!(v["counts"]["tours"].as_u64().expect("tours") >= 4);
    assert!(v["counts"]["categories"].as_u64().expect("categories") >= 10);
    assert_eq!(v["size_bytes"].as_u64(), Some(std::fs::metadata(&pack).expect("meta").len()));
    assert_eq!(v["sha256"].as_str().map(str::len), Some(64));
    let langs = v["languages"].as_array().expect("languages");
    assert!(langs.len() >= 7, "bg, en and at least five more");
    assert_eq!(langs[0]["lang"], "bg", "default language first");
    for l in langs {
        let lang = l["lang"].as_str().expect("lang");
        let names = l["names"].as_u64().expect("names");
        let summaries = l["summaries"].as_u64().expect("summaries");
        if lang == "bg" || lang == "en" {
            assert_eq!((names, summaries), (places, places), "{lang}: every place has a name and summary");
            assert!(l["descriptions"].as_u64().expect("d") >= 30, "{lang} descriptions");
            assert!(l["easy_read"].as_u64().expect("e") >= 20, "{lang} easy-read");
        } else {
            assert!(names >= 30 && summaries >= 30, "{lang}: {names} names, {summaries} summaries");
        }
    }
    let text = cityguide(&["pack", "inspect", pack.to_str().expect("path")]);
    assert!(stdout(&text).contains(&format!("{places} places")));
}

#[test]
fn flatc_decodes_the_pack_with_the_schema() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    assert!(build_varna(&pack).status.success());
    let schema = repo().join("core/schema/pack.fbs");
    // Exactly the documented command first, then strict JSON to check the content.
    for strict in [false, true] {
        let mut cmd = Command::new("flatc");
        cmd.args(["--json", "--raw-binary"]);
        if strict {
            cmd.arg("--strict-json");
        }
        let o = cmd
            .arg("-o")
            .arg(tmp.path())
            .arg(&schema)
            .arg("--")
            .arg(&pack)
            .output()
            .expect("flatc is installed (scripts/test.sh installs flatc 25.12.19)");
        assert!(o.status.success(), "flatc failed: {}", stderr(&o));
    }
    let json = std::fs::read_to_string(tmp.path().join("varna.json")).expect("flatc wrote JSON");
    let v: serde_json::Value = serde_json::from_str(&json).expect("strict json");
    assert_eq!(v["meta"]["city_id"], "varna");
    assert_eq!(v["format_major"], 1);
    let pois = v["pois"].as_array().expect("pois");
    assert_eq!(pois.len(), v["coords"].as_array().expect("coords").len());
    assert!(pois.iter().any(|p| p["id"] == "archaeological-museum"));
}

#[test]
fn invalid_sources_exit_non_zero_with_located_errors_and_write_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let status = Command::new("cp").arg("-r").arg(repo().join("data/fixtures/mini")).arg(&src).status().expect("cp");
    assert!(status.success());
    let places = std::fs::read_to_string(src.join("places.csv")).expect("read");
    std::fs::write(src.join("places.csv"), places.replacen("cathedral,43.204970,", "cathedral,,", 1)).expect("write");
    let out = tmp.path().join("mini.pack");
    let o = cityguide(&["pack", "build", src.to_str().expect("p"), "-o", out.to_str().expect("p")]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:3:11: error: latitude is missing", src.join("places.csv").display())), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!out.exists(), "no pack may be written when the sources have errors");
}

#[test]
fn verify_rejects_a_damaged_pack_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    assert!(build_varna(&pack).status.success());
    let mut bytes = std::fs::read(&pack).expect("read");
    bytes.truncate(bytes.len() - 1000);
    std::fs::write(&pack, &bytes).expect("write");
    let o = cityguide(&["pack", "verify", pack.to_str().expect("p")]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("damaged pack"), "{}", stderr(&o));
    std::fs::write(&pack, b"not a pack at all").expect("write");
    let o = cityguide(&["pack", "verify", pack.to_str().expect("p")]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a cityguide pack"), "{}", stderr(&o));
}

#[test]
fn export_geojson_gives_every_place_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    assert!(build_varna(&pack).status.success());
    let out = tmp.path().join("varna.geojson");
    let o = cityguide(&["pack", "export", pack.to_str().expect("p"), "--geojson", "-o", out.to_str().expect("p")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&out).expect("read").parse().expect("geojson");
    let rows = std::fs::read_to_string(repo().join("data/varna/places.csv")).expect("csv").lines().count() - 1;
    assert_eq!(fc.features.len(), rows);
    let museum = fc
        .features
        .iter()
        .find(|f| f.property("id").and_then(|v| v.as_str()) == Some("archaeological-museum"))
        .expect("museum exported");
    assert_eq!(museum.property("name:en").and_then(|v| v.as_str()), Some("Varna Archaeological Museum"));
    assert!(museum.property("name").and_then(|v| v.as_str()).is_some_and(|n| n.contains("Археологически")));
}

#[test]
fn help_speaks_to_a_culture_department() {
    let o = cityguide(&["pack", "build", "--help"]);
    let help = stdout(&o);
    assert!(help.contains("FILE:LINE:COLUMN"), "{help}");
    assert!(help.contains("Nothing is"), "{help}");
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `cityguide pack export … | head` must not panic with "Broken pipe" when head closes the pipe. The pipe is made
    // small (4 KiB) so the export is still writing when the reader goes away.
    use std::os::fd::AsRawFd;
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    assert!(build_varna(&pack).status.success());
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    // SAFETY: F_SETPIPE_SZ on a pipe descriptor we own; it only changes the pipe's capacity.
    let size = unsafe { libc::fcntl(reader.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    assert!(size >= 4096, "the pipe could not be resized");
    let child = Command::new(env!("CARGO_BIN_EXE_cityguide"))
        .args(["pack", "export", pack.to_str().expect("utf-8"), "--geojson"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut reader, &mut first).expect("some output");
    drop(reader);
    let out = child.wait_with_output().expect("ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert_ne!(out.status.code(), Some(101), "a panic exits with 101");
}
