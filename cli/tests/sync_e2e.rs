//! The real path, end to end: `cityguide keygen` -> `publish` -> `serve` on loopback -> `explore sync`, then an
//! update as a delta that keeps the user's favourite, a wrong key refused, and "offline" when the server is gone.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(site: &Path) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cityguide"))
        .args(["serve", site.to_str().expect("p"), "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let url = line.trim().rsplit(' ').next().expect("url").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (Server(child), url)
}

#[test]
fn publish_serve_sync_update_and_refuse() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = |p: &str| tmp.path().join(p).to_str().expect("p").to_owned();
    let status =
        Command::new("cp").arg("-r").arg(repo().join("data/fixtures/mini")).arg(t("src")).status().expect("cp");
    assert!(status.success());
    let keygen = ok(&["keygen", "-o", &t("publisher.key")]);
    let public =
        keygen.lines().find_map(|l| l.strip_prefix("public key for the apps: ")).expect("public key").to_owned();
    assert!(public.starts_with("ed25519:"));
    assert!(!run(&["keygen", "-o", &t("publisher.key")]).status.success(), "never overwrites a key");
    let p1: serde_json::Value = serde_json::from_str(&ok(&[
        "publish",
        "--source",
        &t("src"),
        "--site",
        &t("site"),
        "--key",
        &t("publisher.key"),
        "--json",
    ]))
    .expect("json");
    assert_eq!((p1["version"].as_u64(), p1["catalog_version"].as_u64()), (Some(3), Some(1)));
    let (server, url) = serve(&tmp.path().join("site"));
    let catalog = format!("{url}catalog.json");
    let phone = t("phone");
    // Without the updates consent the phone refuses to download and says how to allow it.
    let refused = run(&["explore", "--data-dir", &phone, "sync", "--catalog", &catalog, "--key", &public]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("consent set updates on"));
    ok(&["explore", "--data-dir", &phone, "consent", "set", "updates", "on"]);
    let s1: serde_json::Value = serde_json::from_str(&ok(&[
        "explore",
        "--data-dir",
        &phone,
        "sync",
        "--catalog",
        &catalog,
        "--key",
        &public,
        "--json",
    ]))
    .expect("json");
    assert_eq!(s1[0]["city"]["version"], 3);
    assert_eq!(s1[0]["outcome"], "installed");
    ok(&["explore", "--data-dir", &phone, "favourite", "add", "cathedral"]);

    // A new version: the publisher edits a summary.
    let en = std::fs::read_to_string(tmp.path().join("src/texts/en.csv")).expect("read");
    std::fs::write(
        tmp.path().join("src/texts/en.csv"),
        en.replace("The main church of Varna.", "The main Orthodox church of Varna."),
    )
    .expect("write");
    let p2: serde_json::Value = serde_json::from_str(&ok(&[
        "publish",
        "--source",
        &t("src"),
        "--site",
        &t("site"),
        "--key",
        &t("publisher.key"),
        "--json",
    ]))
    .expect("json");
    assert_eq!((p2["version"].as_u64(), p2["catalog_version"].as_u64()), (Some(4), Some(2)));
    let s2: serde_json::Value = serde_json::from_str(&ok(&[
        "explore",
        "--data-dir",
        &phone,
        "sync",
        "--catalog",
        &catalog,
        "--key",
        &public,
        "--json",
    ]))
    .expect("json");
    assert_eq!(s2[0]["city"]["version"], 4);
    assert_eq!((s2[0]["outcome"].as_str(), s2[0]["method"].as_str()), (Some("updated"), Some("delta")));
    assert!(s2[0]["downloaded_bytes"].as_u64().expect("n") < p2["compressed_size"].as_u64().expect("n"));
    let place: serde_json::Value =
        serde_json::from_str(&ok(&["explore", "--data-dir", &phone, "place", "cathedral", "--json"])).expect("json");
    assert_eq!(place["summary"]["text"], "The main Orthodox church of Varna.");
    assert_eq!(place["favourite"], true, "the favourite survived the update");
    // Publishing unchanged sources only re-signs the catalog.
    let p3: serde_json::Value = serde_json::from_str(&ok(&[
        "publish",
        "--source",
        &t("src"),
        "--site",
        &t("site"),
        "--key",
        &t("publisher.key"),
        "--json",
    ]))
    .expect("json");
    assert_eq!((p3["version"].as_u64(), p3["new_version"].as_bool()), (Some(4), Some(false)));

    // A phone configured with another publisher's key refuses the catalog.
    let other_key = ok(&["keygen", "-o", &t("other.key")]);
    let other_public =
        other_key.lines().find_map(|l| l.strip_prefix("public key for the apps: ")).expect("pk").to_owned();
    let o = run(&["explore", "--data-dir", &phone, "sync", "--catalog", &catalog, "--key", &other_public]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not signed by a trusted publisher key"));

    // The server goes away: the error says offline, and the guide keeps working.
    drop(server);
    let o = run(&["explore", "--data-dir", &phone, "sync", "--catalog", &catalog, "--key", &public]);
    assert!(!o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim(), "error: offline");
    let near = ok(&[
        "explore",
        "--data-dir",
        &phone,
        "near",
        "--lat",
        "43.2050",
        "--lon",
        "27.9106",
        "--limit",
        "1",
        "--json",
    ]);
    assert!(near.contains("cathedral"));
}
