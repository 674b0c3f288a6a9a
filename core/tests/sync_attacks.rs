//! Updates under attack, in the spirit of The Update Framework's attack list: after every refused update the device is
//! exactly as before (same active pack bytes, same database rows, same files); after every accepted one it holds the
//! complete new version, and the user's data is intact.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use common::net::{BASE, FakeNet, Mode};

use cityguide_core::citizen::ConsentScope;
use cityguide_core::update::catalog::{Catalog, TrustPolicy, verify_catalog};
use cityguide_core::{CancelToken, SyncConfig, SyncError, Syncer};
use cityguide_core::{Guide, GuideConfig, UpdateMethod, UpdateOutcome};
use cityguide_publisher::publish::publish;
use cityguide_publisher::signing::{SigningKeyPair, sign_catalog};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

struct World {
    _tmp: tempfile::TempDir,
    src: PathBuf,
    site: PathBuf,
    key: SigningKeyPair,
    guide: Guide,
    net: FakeNet,
    config: SyncConfig,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        let status = std::process::Command::new("cp").arg("-r").arg(common::mini()).arg(&src).status().expect("cp");
        assert!(status.success());
        let site = tmp.path().join("site");
        let key = SigningKeyPair::generate();
        publish(&src, &site, &key, &[], 30 * DAY, NOW).expect("first publish");
        let guide = Guide::open(GuideConfig { data_dir: tmp.path().join("phone"), languages: vec!["en".into()] })
            .expect("open");
        guide.set_consent(ConsentScope::Updates, true, NOW).expect("the user allows updates");
        let net = FakeNet::new(&site);
        let config = SyncConfig {
            catalog_url: format!("{BASE}catalog.json"),
            trusted_keys: vec![key.public()],
            caps: Default::default(),
        };
        World { _tmp: tmp, src, site, key, guide, net, config }
    }

    fn sync(&self) -> Result<cityguide_core::UpdateOutcome, SyncError> {
        self.sync_at(NOW + 60)
    }

    fn sync_at(&self, now: i64) -> Result<cityguide_core::UpdateOutcome, SyncError> {
        Syncer::new(&self.guide, &self.net, &self.config).update("mini", now, &|_: u64, _: u64| {}, &CancelToken::new())
    }

    /// A new version of the content: one summary edited, one place removed.
    fn publish_v2(&self) {
        common::next_version_sources(&self.src);
        publish(&self.src, &self.site, &self.key, &[], 30 * DAY, NOW + 10).expect("second publish");
    }

    /// Everything on the device that an update could change.
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut s = BTreeMap::new();
        let packs = self.guide.data_dir().join("packs");
        if let Ok(rd) = std::fs::read_dir(&packs) {
            for e in rd.flatten() {
                s.insert(format!("file {}", e.file_name().to_string_lossy()), std::fs::read(e.path()).expect("read"));
            }
        }
        for c in self.guide.installed().expect("installed") {
            s.insert(format!("city {}", c.city_id), format!("{} {}", c.version, c.sha256).into_bytes());
        }
        for f in self.guide.favourites().expect("favs") {
            s.insert(format!("fav {}", f.place_id), format!("{:?}", f.status).into_bytes());
        }
        s
    }
}

fn assert_refused_and_unchanged(
    w: &World,
    result: Result<cityguide_core::UpdateOutcome, SyncError>,
    before: &BTreeMap<String, Vec<u8>>,
    what: &str,
) -> SyncError {
    let err = match result {
        Ok(o) => panic!("{what}: the update was accepted: {o:?}"),
        Err(e) => e,
    };
    assert_eq!(&w.snapshot(), before, "{what}: the device changed although the update was refused ({err})");
    err
}

/// A world with version 3 installed over the network and a favourite saved.
fn installed_world() -> World {
    let w = World::new();
    let o = w.sync().expect("first install");
    assert!(matches!(o, UpdateOutcome::Installed { .. }), "{o:?}");
    assert_eq!(o.city().version, 3);
    w.guide.add_favourite("mini", "clock-tower").expect("fav");
    w
}

#[test]
fn a_delta_update_keeps_user_data_and_matches_the_full_pack() {
    let w = installed_world();
    w.publish_v2();
    let o = w.sync().expect("update");
    assert!(matches!(o, UpdateOutcome::Updated { method: UpdateMethod::Delta, from_version: 3, .. }), "{o:?}");
    assert_eq!(o.city().version, 4);
    let catalog = verify_catalog(
        &std::fs::read(w.site.join("catalog.json")).expect("read"),
        &TrustPolicy { trusted: vec![w.key.public()], last_seen_version: None, now: NOW, max_bytes: 1 << 20 },
    )
    .expect("catalog");
    let entry = &catalog.cities[0];
    assert_eq!(o.city().sha256, entry.sha256, "the rebuilt pack is byte-for-byte the published one");
    assert!(o.downloaded_bytes() < entry.compressed_size, "{} vs {}", o.downloaded_bytes(), entry.compressed_size);
    let favs = w.guide.favourites().expect("favs");
    assert_eq!(favs[0].status, cityguide_core::SavedStatus::Removed, "the removed place is kept as removed");
    // Nothing left over in the download folder.
    let leftovers = std::fs::read_dir(w.guide.data_dir().join("downloads")).map(|r| r.count()).unwrap_or(0);
    assert_eq!(leftovers, 0);
    // Up to date: nothing downloaded.
    assert_eq!(w.sync().expect("again").downloaded_bytes(), 0);
}

#[test]
fn a_flipped_byte_in_the_pack_is_refused() {
    let w = World::new();
    let before = w.snapshot();
    w.net.set(Mode::Flip(".pack.zst".into()));
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "flipped pack byte");
    assert!(matches!(err, SyncError::Mismatch { .. }), "{err}");
}

#[test]
fn a_flipped_byte_in_the_delta_falls_back_to_the_full_pack() {
    let w = installed_world();
    w.publish_v2();
    w.net.set(Mode::Flip(".delta".into()));
    let o = w.sync().expect("falls back");
    assert!(matches!(o, UpdateOutcome::Updated { method: UpdateMethod::FullPackAfterDeltaFailed, .. }), "{o:?}");
    assert_eq!(o.city().version, 4);
}

#[test]
fn another_citys_pack_swapped_in_is_refused() {
    let w = installed_world();
    // Another city published with the same key, its pack put where mini's version 4 should be.
    let other_src = common::copy_sources(&common::mini());
    common::edit(other_src.path(), "city.toml", "id = \"mini\"", "id = \"other\"");
    common::edit(other_src.path(), "city.toml", "version = 3", "version = 4");
    let other_site = w.site.parent().expect("p").join("other-site");
    publish(other_src.path(), &other_site, &w.key, &[], 30 * DAY, NOW).expect("other");
    w.publish_v2();
    std::fs::copy(other_site.join("packs/other/4.pack.zst"), w.site.join("packs/mini/4.pack.zst")).expect("swap");
    std::fs::remove_dir_all(w.site.join("deltas")).expect("no deltas");
    let before = w.snapshot();
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "swapped pack");
    assert!(matches!(err, SyncError::Mismatch { .. }), "{err}");
    // Mix and match: a catalog, validly signed, that lists the other city's pack (with its true hashes) as mini.
    let policy = TrustPolicy { trusted: vec![w.key.public()], last_seen_version: None, now: NOW, max_bytes: 1 << 20 };
    let other_catalog =
        verify_catalog(&std::fs::read(other_site.join("catalog.json")).expect("r"), &policy).expect("c");
    let mut forged: Catalog =
        verify_catalog(&std::fs::read(w.site.join("catalog.json")).expect("r"), &policy).expect("c");
    let mut entry = other_catalog.cities[0].clone();
    entry.city_id = "mini".into();
    entry.deltas.clear();
    forged.cities = vec![entry];
    forged.version += 1;
    std::fs::copy(other_site.join("packs/other/4.pack.zst"), w.site.join("packs/other-4.pack.zst")).expect("copy");
    forged.cities[0].file = "packs/other-4.pack.zst".into();
    *w.net.catalog_override.lock().expect("lock") = Some(sign_catalog(&forged, &[&w.key]));
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "mix and match");
    assert!(err.to_string().contains("other"), "{err}");
}

#[test]
fn an_older_catalog_replayed_is_refused() {
    let w = installed_world();
    let old_catalog = std::fs::read(w.site.join("catalog.json")).expect("read");
    w.publish_v2();
    w.sync().expect("update to 4");
    let before = w.snapshot();
    *w.net.catalog_override.lock().expect("lock") = Some(old_catalog);
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "rollback");
    assert!(
        err.to_string().to_lowercase().contains("older") || err.to_string().to_lowercase().contains("rollback"),
        "{err}"
    );
}

#[test]
fn an_expired_catalog_is_refused() {
    let w = installed_world();
    w.publish_v2();
    let before = w.snapshot();
    let err = assert_refused_and_unchanged(&w, w.sync_at(NOW + 31 * DAY), &before, "freeze");
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn a_catalog_signed_by_an_unknown_key_is_refused() {
    let w = installed_world();
    let intruder = SigningKeyPair::generate();
    w.publish_v2();
    let policy = TrustPolicy { trusted: vec![w.key.public()], last_seen_version: None, now: NOW, max_bytes: 1 << 20 };
    let mut c = verify_catalog(&std::fs::read(w.site.join("catalog.json")).expect("r"), &policy).expect("c");
    c.version += 1;
    *w.net.catalog_override.lock().expect("lock") = Some(sign_catalog(&c, &[&intruder]));
    let before = w.snapshot();
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "unknown key");
    assert!(matches!(err, SyncError::Catalog(_)), "{err}");
}

#[test]
fn endless_stalled_overlong_and_offline_servers_change_nothing() {
    let w = installed_world();
    w.publish_v2();
    let before = w.snapshot();
    w.net.set(Mode::Endless);
    assert_refused_and_unchanged(&w, w.sync(), &before, "endless data");
    w.net.set(Mode::Stall);
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "stall");
    assert!(err.to_string().contains("in time"), "{err}");
    w.net.set(Mode::Overlong);
    assert_refused_and_unchanged(&w, w.sync(), &before, "overlong range answers");
    w.net.set(Mode::Offline);
    let err = assert_refused_and_unchanged(&w, w.sync(), &before, "offline");
    assert_eq!(err.to_string(), "offline");
    // Everything installed keeps working offline.
    assert!(!w.guide.search("mini", "termi", None, 3, None).expect("search").is_empty());
}

#[test]
fn a_catalog_entry_that_tries_path_traversal_is_refused() {
    let w = installed_world();
    w.publish_v2();
    let policy = TrustPolicy { trusted: vec![w.key.public()], last_seen_version: None, now: NOW, max_bytes: 1 << 20 };
    let mut c = verify_catalog(&std::fs::read(w.site.join("catalog.json")).expect("r"), &policy).expect("c");
    c.version += 1;
    c.cities[0].file = "../../../etc/passwd".into();
    *w.net.catalog_override.lock().expect("lock") = Some(sign_catalog(&c, &[&w.key]));
    let before = w.snapshot();
    assert_refused_and_unchanged(&w, w.sync(), &before, "path traversal");
    assert!(w.net.requests().iter().all(|(rel, _)| !rel.contains("..")), "no request left the site");
}

#[test]
fn a_truncated_download_resumes_where_it_stopped() {
    let w = World::new();
    let caps = cityguide_core::Caps { chunk: 1024, ..Default::default() };
    let w = World { config: SyncConfig { caps, ..w.config.clone() }, ..w };
    let before = w.snapshot();
    w.net.set(Mode::CutOnce(".pack.zst".into(), 1500));
    assert_refused_and_unchanged(&w, w.sync(), &before, "cut connection");
    let o = w.sync().expect("resumes");
    assert_eq!(o.city().version, 3);
    let ranges: Vec<(u64, u64)> =
        w.net.requests().iter().filter(|(r, _)| r.ends_with(".pack.zst")).filter_map(|(_, r)| *r).collect();
    // The second attempt starts at 1024 (the whole chunk before the cut was kept), not at 0.
    let restarts = ranges.windows(2).filter(|p| p[1].0 < p[0].0).count();
    assert_eq!(restarts, 0, "never starts over: {ranges:?}");
    assert!(ranges.iter().filter(|r| r.0 == 1024).count() >= 2, "the chunk at the cut is asked again: {ranges:?}");
}

#[test]
fn cancelling_stops_between_chunks_and_changes_nothing() {
    let w = World::new();
    let before = w.snapshot();
    let cancel = CancelToken::new();
    cancel.cancel();
    let r = Syncer::new(&w.guide, &w.net, &w.config).update("mini", NOW, &|_: u64, _: u64| {}, &cancel);
    let err = assert_refused_and_unchanged(&w, r, &before, "cancel");
    assert!(matches!(err, SyncError::Cancelled));
}

#[test]
fn progress_is_reported_up_to_the_total() {
    let w = World::new();
    let seen = Mutex::new(Vec::new());
    let listener = |done: u64, total: u64| seen.lock().expect("lock").push((done, total));
    let caps = cityguide_core::Caps { chunk: 1024, ..Default::default() };
    let config = SyncConfig { caps, ..w.config.clone() };
    Syncer::new(&w.guide, &w.net, &config).update("mini", NOW, &listener, &CancelToken::new()).expect("update");
    let seen = seen.lock().expect("lock");
    assert!(seen.len() > 2);
    assert!(seen.windows(2).all(|p| p[0].0 < p[1].0));
    let (done, total) = *seen.last().expect("last");
    assert_eq!(done, total);
}

#[test]
fn a_key_rotation_signed_by_the_old_key_is_remembered() {
    let w = installed_world();
    let new_key = SigningKeyPair::generate();
    // The publisher endorses the new key with the old one; the phone syncs once.
    publish(&w.src, &w.site, &w.key, &[new_key.public()], 30 * DAY, NOW + 20).expect("endorse");
    w.sync().expect("sync");
    // From now on catalogs signed only by the new key are accepted, with the app still configured with the old key.
    w.publish_v2();
    let policy = TrustPolicy { trusted: vec![w.key.public()], last_seen_version: None, now: NOW, max_bytes: 1 << 20 };
    let mut c = verify_catalog(&std::fs::read(w.site.join("catalog.json")).expect("r"), &policy).expect("c");
    c.version += 1;
    c.rotation = None;
    *w.net.catalog_override.lock().expect("lock") = Some(sign_catalog(&c, &[&new_key]));
    assert_eq!(w.sync().expect("new key trusted").city().version, 4);
}

#[test]
fn without_the_updates_consent_no_request_is_made() {
    let w = World::new();
    w.guide.set_consent(ConsentScope::Updates, false, NOW).expect("the user turns updates off");
    let err = w.sync().expect_err("no consent");
    assert!(matches!(err, SyncError::ConsentRequired { scope: ConsentScope::Updates }), "{err:?}");
    assert!(err.to_string().contains("updates consent is off"), "the error names the consent: {err}");
    let check = Syncer::new(&w.guide, &w.net, &w.config).check(NOW + 60);
    assert!(matches!(check, Err(SyncError::ConsentRequired { .. })));
    assert_eq!(w.net.requests(), Vec::new(), "not a single request without consent");
    assert!(w.guide.installed().expect("installed").is_empty());
    // With consent the same world syncs, so the refusal above was the consent and nothing else.
    w.guide.set_consent(ConsentScope::Updates, true, NOW).expect("on");
    w.sync().expect("sync with consent");
    assert!(!w.net.requests().is_empty());
}

#[test]
fn concurrent_updates_of_one_city_run_one_after_the_other() {
    // Small chunks make each update many requests, so without the update lock the two would interleave their writes
    // to the same partial download.
    let w = World::new();
    let config = SyncConfig { caps: cityguide_core::Caps { chunk: 64, ..Default::default() }, ..w.config.clone() };
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    Syncer::new(&w.guide, &w.net, &config).update(
                        "mini",
                        NOW + 60,
                        &|_: u64, _: u64| {},
                        &CancelToken::new(),
                    )
                })
            })
            .collect();
        jobs.into_iter().map(|j| j.join().expect("no panic")).collect()
    });
    let kinds: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Ok(UpdateOutcome::Installed { .. }) => "installed",
            Ok(UpdateOutcome::UpToDate { .. }) => "up to date",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["installed", "up to date"], "the second update found the first one's work done");
    let leftovers = std::fs::read_dir(w.guide.data_dir().join("downloads")).map(|r| r.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "no partial download is left behind");
}
