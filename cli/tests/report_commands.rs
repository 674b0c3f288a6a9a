//! `cityguide pack report` and `cityguide pack preview` from the shell: the same figures for a source folder and
//! its pack, clear errors, and a preview page that needs no network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn cityguide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs")
}

fn out(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_report_of_a_source_folder_equals_the_report_of_its_pack() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    out(&cityguide(&["pack", "build", "data/varna", "-o", pack.to_str().expect("path")]));
    let from_dir: serde_json::Value =
        serde_json::from_str(&out(&cityguide(&["pack", "report", "data/varna", "--json"]))).expect("json");
    let from_pack: serde_json::Value =
        serde_json::from_str(&out(&cityguide(&["pack", "report", pack.to_str().expect("path"), "--json"])))
            .expect("json");
    assert_eq!(from_dir, from_pack);
    assert_eq!(from_dir["places"], 86);
    let text = out(&cityguide(&["pack", "report", "data/fixtures/mini"]));
    assert!(text.contains("places with opening hours: 3 of 5 (60 %)"), "{text}");
    assert!(text.contains("places outside the bounding box: none"), "{text}");
    let de = text.lines().find(|l| l.starts_with("de")).expect("a row for de");
    assert_eq!(de.split_whitespace().collect::<Vec<_>>(), ["de", "1", "1", "0", "0", "0", "0"]);
}

#[test]
fn broken_sources_and_non_packs_get_errors_that_say_what_to_do() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = cityguide(&["pack", "report", tmp.path().to_str().expect("path")]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("city.toml") && err.contains("fix them"), "{err}");
    let junk = tmp.path().join("junk.pack");
    std::fs::write(&junk, b"not a pack").expect("write");
    let o = cityguide(&["pack", "report", junk.to_str().expect("path")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("give a pack file or a source folder"));
    let o = cityguide(&["pack", "preview", junk.to_str().expect("path"), "-o", "x.html"]);
    assert!(!o.status.success() && !repo().join("x.html").exists());
}

#[test]
fn the_preview_is_one_file_that_loads_nothing_from_the_network() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("varna.pack");
    let html = tmp.path().join("preview.html");
    out(&cityguide(&["pack", "build", "data/varna", "-o", pack.to_str().expect("path")]));
    out(&cityguide(&["pack", "preview", pack.to_str().expect("path"), "-o", html.to_str().expect("path")]));
    let page = std::fs::read_to_string(&html).expect("html");
    for external in ["<script src", "<link", "@import", "url(http", "fetch(", "XMLHttpRequest"] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("<title>Варна — preview</title>"));
    assert!(page.contains("Археологически музей"), "the pack's texts are embedded");
    assert_eq!(page.matches("</script>").count(), 2, "publisher text cannot close the data script early");
}
