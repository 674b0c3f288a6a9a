//! Crash tests of updates, in the spirit of SQLite's: a child process runs an update and is killed (SIGKILL) at every
//! named step of download, verify, write, rename and commit (see `cityguide_core::failpoint`). The next start must find
//! the device byte-for-byte as it was before the update, or holding the complete new version, with the user's
//! favourites and notes intact; and the next update must complete, resuming what was already downloaded.
//!
//! The file has its own `main` (no test harness): the same binary is the parent, which prepares each scenario and
//! judges the result, and the child, which runs the update until the kill.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cityguide_core::citizen::ConsentScope;
use cityguide_core::failpoint;
use cityguide_core::update::catalog::sha256_hex;
use cityguide_core::{CancelToken, Caps, SyncConfig, Syncer, UpdateOutcome};
use cityguide_core::{Guide, GuideConfig};
use cityguide_publisher::publish::publish;
use cityguide_publisher::signing::SigningKeyPair;
use common::net::{BASE, FakeNet};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
/// Small range requests, so that downloads have several chunks to be killed between.
const CHUNK: u64 = 1024;

const ENV_ROLE: &str = "CITYGUIDE_CRASH_CHILD";
const ENV_DATA: &str = "CITYGUIDE_CRASH_DATA";
const ENV_SITE: &str = "CITYGUIDE_CRASH_SITE";
const ENV_KEY: &str = "CITYGUIDE_CRASH_KEY";
const ENV_POINT: &str = "CITYGUIDE_CRASH_POINT";
const ENV_NTH: &str = "CITYGUIDE_CRASH_NTH";

fn main() {
    if std::env::var_os(ENV_ROLE).is_some() {
        child();
        return;
    }
    // `cargo test -- --list` and filters: this file runs as one test.
    if std::env::args().any(|a| a == "--list") {
        println!("crash_at_every_step: test");
        return;
    }
    every_point_is_reached_by_a_normal_update();
    let mut runs = 0;
    for scenario in [Scenario::FirstInstall, Scenario::FullUpdate, Scenario::DeltaUpdate] {
        for point in scenario.points() {
            crash_at(scenario, point);
            runs += 1;
        }
    }
    println!("sync_crash: {runs} kills, each followed by a start that found the old or the complete new version");
}

/// Which update the child is killed in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    /// Nothing installed yet; the full pack is downloaded.
    FirstInstall,
    /// Version 3 installed; version 4 is published without deltas, so the full pack is downloaded.
    FullUpdate,
    /// Version 3 installed; version 4 comes as a delta.
    DeltaUpdate,
}

impl Scenario {
    /// The points this kind of update passes.
    fn points(self) -> Vec<&'static str> {
        failpoint::ALL
            .iter()
            .copied()
            .filter(|p| match self {
                Scenario::FirstInstall => *p != failpoint::DELTA_APPLIED && *p != failpoint::OLD_REMOVED,
                Scenario::FullUpdate => *p != failpoint::DELTA_APPLIED,
                Scenario::DeltaUpdate => true,
            })
            .collect()
    }

    /// Which time the point is passed when the child is killed: the second chunk of a download, so that a resume
    /// has something to resume (a delta of the small test city fits in one chunk).
    fn nth(self, point: &str) -> usize {
        if point == failpoint::DOWNLOAD_CHUNK && self != Scenario::DeltaUpdate { 2 } else { 1 }
    }
}

/// A published site and a phone, prepared for one scenario.
struct Setup {
    tmp: tempfile::TempDir,
    site: PathBuf,
    key: SigningKeyPair,
}

impl Setup {
    fn new(scenario: Scenario) -> Setup {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        let status = Command::new("cp").arg("-r").arg(common::mini()).arg(&src).status().expect("cp");
        assert!(status.success());
        let site = tmp.path().join("site");
        let key = SigningKeyPair::generate();
        publish(&src, &site, &key, &[], 30 * DAY, NOW).expect("publish version 3");
        let setup = Setup { tmp, site: site.clone(), key };
        if scenario != Scenario::FirstInstall {
            let guide = setup.guide(&setup.phone());
            setup.update(&guide).expect("install version 3");
            guide.add_favourite("mini", "clock-tower").expect("favourite");
            guide.add_favourite("mini", "cathedral").expect("favourite");
            guide.set_note("mini", "cathedral", "Candles at the entrance, canary-note").expect("note");
            common::next_version_sources(&src);
            publish(&src, &site, &setup.key, &[], 30 * DAY, NOW + 10).expect("publish version 4");
            if scenario == Scenario::FullUpdate {
                std::fs::remove_dir_all(site.join("deltas")).expect("no deltas");
            }
        }
        setup
    }

    fn phone(&self) -> PathBuf {
        self.tmp.path().join("phone")
    }

    fn guide(&self, dir: &Path) -> Guide {
        let guide =
            Guide::open(GuideConfig { data_dir: dir.to_path_buf(), languages: vec!["en".into()] }).expect("open");
        guide.set_consent(ConsentScope::Updates, true, NOW).expect("the user allows updates");
        guide
    }

    fn update(&self, guide: &Guide) -> Result<UpdateOutcome, cityguide_core::SyncError> {
        update_with(guide, &FakeNet::new(&self.site), &self.key.public().to_string())
    }
}

fn sync_config(key: &str) -> SyncConfig {
    SyncConfig {
        catalog_url: format!("{BASE}catalog.json"),
        trusted_keys: vec![key.parse().expect("public key")],
        caps: Caps { chunk: CHUNK, ..Caps::default() },
    }
}

fn update_with(guide: &Guide, net: &FakeNet, key: &str) -> Result<UpdateOutcome, cityguide_core::SyncError> {
    Syncer::new(guide, net, &sync_config(key)).update("mini", NOW + 60, &|_: u64, _: u64| {}, &CancelToken::new())
}

/// Everything on the device an update could touch, read through a fresh start (which reconciles what a crash left).
fn snapshot(guide: &Guide) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let packs = guide.data_dir().join("packs");
    if let Ok(rd) = std::fs::read_dir(&packs) {
        for e in rd.flatten() {
            let bytes = std::fs::read(e.path()).expect("read pack");
            // The digest stands for the bytes: equal digests, equal files.
            s.insert(format!("file {}", e.file_name().to_string_lossy()), format!("sha256 {}", sha256_hex(&bytes)));
        }
    }
    for c in guide.installed().expect("installed") {
        s.insert(format!("city {}", c.city_id), format!("{} {}", c.version, c.sha256));
        let hits: Vec<String> =
            guide.search(&c.city_id, "cathedral", None, 5, None).expect("search").into_iter().map(|p| p.id).collect();
        s.insert(format!("search {}", c.city_id), hits.join(","));
        let place = guide.place(&c.city_id, "cathedral", at_noon(), None).expect("place");
        s.insert(format!("place {}", c.city_id), format!("{:?}", place.summary));
    }
    for f in guide.favourites().expect("favourites") {
        s.insert(format!("favourite {}", f.place_id), format!("{:?}", f.status));
    }
    for n in guide.notes().expect("notes") {
        s.insert(format!("note {}", n.place_id), format!("{:?}", n.note));
    }
    s
}

/// A fixed time for opening status, so snapshots compare.
fn at_noon() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(NOW, 0).expect("valid time")
}

/// Copies a phone's data directory (the database is closed).
fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-r").arg(from).arg(to).status().expect("cp");
    assert!(status.success());
}

fn crash_at(scenario: Scenario, point: &'static str) {
    let what = format!("{scenario:?} killed at {point}");
    let setup = Setup::new(scenario);
    let phone = setup.phone();
    let before = {
        std::fs::create_dir_all(&phone).expect("phone dir");
        snapshot(&setup.guide(&phone))
    };
    // The complete new version, reached without a crash on a copy of the phone.
    let reference = setup.tmp.path().join("reference");
    copy_dir(&phone, &reference);
    let after = {
        let guide = setup.guide(&reference);
        setup.update(&guide).expect("reference update");
        snapshot(&guide)
    };
    assert_ne!(before, after, "{what}: the update must change something");

    run_child_until_killed(&setup, point, scenario.nth(point), &what);

    let guide = setup.guide(&phone);
    let found = snapshot(&guide);
    let expect_new = [failpoint::COMMITTED, failpoint::OLD_REMOVED].contains(&point);
    if expect_new {
        assert_eq!(found, after, "{what}: the next start must find the complete new version");
    } else {
        assert_eq!(found, before, "{what}: the next start must find the device as it was before");
    }
    if scenario != Scenario::FirstInstall {
        assert!(found.contains_key("note cathedral"), "{what}: the note survives");
        assert!(found.contains_key("favourite clock-tower"), "{what}: the favourite survives");
    }

    // The next update completes, and a download killed half-way resumes instead of starting over.
    let net = FakeNet::new(&setup.site);
    let outcome = update_with(&guide, &net, &setup.key.public().to_string()).expect("update after the crash");
    assert_eq!(snapshot(&guide), after, "{what}: the update after the crash reaches the same new version");
    if point == failpoint::DOWNLOAD_CHUNK && scenario != Scenario::DeltaUpdate {
        let first = net.requests().into_iter().find(|(f, _)| f.ends_with(".pack.zst")).and_then(|(_, r)| r);
        assert_eq!(first.map(|r| r.0), Some(2 * CHUNK), "{what}: resumes after the two chunks kept");
    }
    if expect_new {
        assert_eq!(outcome.downloaded_bytes(), 0, "{what}: already up to date");
    }
    let leftovers = std::fs::read_dir(phone.join("downloads")).map(|r| r.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "{what}: no partial downloads left behind");
}

/// Starts the child on the phone's data directory and kills it when it announces `point`.
fn run_child_until_killed(setup: &Setup, point: &str, nth: usize, what: &str) {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .env(ENV_ROLE, "1")
        .env(ENV_DATA, setup.phone())
        .env(ENV_SITE, &setup.site)
        .env(ENV_KEY, setup.key.public().to_string())
        .env(ENV_POINT, point)
        .env(ENV_NTH, nth.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(120));
    child.kill().expect("kill");
    child.wait().expect("wait");
    match line {
        Ok(l) if l == format!("at {point}") => {}
        Ok(l) => panic!("{what}: the child did not stop at the point but said {l:?}"),
        Err(e) => panic!("{what}: no word from the child ({e})"),
    }
}

/// The child: runs the update and, at the chosen point, says so and waits to be killed.
fn child() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is set by the parent"));
    let point = var(ENV_POINT);
    let nth: usize = var(ENV_NTH).parse().expect("nth");
    let seen = std::sync::atomic::AtomicUsize::new(0);
    failpoint::set_hook(Box::new(move |p| {
        if p == point && seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == nth {
            let mut out = std::io::stdout().lock();
            writeln!(out, "at {p}").expect("stdout");
            out.flush().expect("flush");
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
    }));
    let guide = Guide::open(GuideConfig { data_dir: PathBuf::from(var(ENV_DATA)), languages: vec!["en".into()] })
        .expect("open");
    guide.set_consent(ConsentScope::Updates, true, NOW).expect("the user allows updates");
    let result = update_with(&guide, &FakeNet::new(Path::new(&var(ENV_SITE))), &var(ENV_KEY));
    println!("finished without reaching the point: {result:?}");
}

/// The list of points is the list the code passes: a normal update of each kind reaches every point its scenario
/// kills at, in the declared order, so no step goes untested when the code changes.
fn every_point_is_reached_by_a_normal_update() {
    for scenario in [Scenario::FirstInstall, Scenario::FullUpdate, Scenario::DeltaUpdate] {
        let setup = Setup::new(scenario);
        let guide = setup.guide(&setup.phone());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        // The hook is process-wide and set once: record into whichever list is current.
        RECORDER.with_current(seen.clone());
        setup.update(&guide).expect("update");
        let mut reached: Vec<String> = seen.lock().expect("lock").clone();
        reached.dedup();
        let expected: Vec<String> = scenario.points().into_iter().map(String::from).collect();
        // A delta that fails to apply would fall back to a second download; here every step happens once, in order,
        // apart from repeated chunks.
        assert_eq!(reached, expected, "{scenario:?}: the points passed, in order");
    }
}

/// Records the points a normal update passes (the parent's hook).
struct Recorder {
    current: std::sync::Mutex<Option<std::sync::Arc<std::sync::Mutex<Vec<String>>>>>,
}

static RECORDER: Recorder = Recorder { current: std::sync::Mutex::new(None) };

impl Recorder {
    fn with_current(&'static self, list: std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        *self.current.lock().expect("lock") = Some(list);
        failpoint::set_hook(Box::new(move |p| {
            if let Some(l) = self.current.lock().expect("lock").as_ref() {
                l.lock().expect("lock").push(p.to_owned());
            }
        }));
    }
}
