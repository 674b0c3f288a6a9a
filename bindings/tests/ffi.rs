//! The binding layer as Kotlin and Swift use it, driven from Rust: a guide opened with a configuration, updates
//! through a Rust implementation of the foreign `Transport` trait serving a site published by the core, progress and
//! cancellation, queries, user data, the error mapping (and that no message leaks a position or a URL), and the panic
//! guard.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cityguide_ffi::*;
use cityguide_publisher::signing::SigningKeyPair;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// A catalog URL that looks like a position, so a leak into a message would be caught by both checks.
const CATALOG_URL: &str = "https://cdn.example.org/43.204970,27.910210/catalog.json";

/// Serves a published site from disk, as a CDN would, honouring ranges and the response cap.
struct SiteTransport {
    site: PathBuf,
    requests: AtomicUsize,
    fail_with: Mutex<Option<TransportError>>,
}

impl SiteTransport {
    fn new(site: &Path) -> Arc<Self> {
        Arc::new(SiteTransport { site: site.to_owned(), requests: AtomicUsize::new(0), fail_with: Mutex::new(None) })
    }
}

impl Transport for SiteTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = self.fail_with.lock().expect("lock").clone() {
            return Err(e);
        }
        assert_eq!(request.method, HttpMethod::Get);
        let base = CATALOG_URL.trim_end_matches("catalog.json");
        let name = request.url.strip_prefix(base).expect("a URL below the catalog's directory");
        let Ok(bytes) = std::fs::read(self.site.join(name)) else {
            return Ok(HttpResponse { status: 404, body: Vec::new(), total_size: None });
        };
        let total = bytes.len() as u64;
        let (status, body) = match request.range {
            Some(r) => {
                let start = r.start.min(total) as usize;
                let end = (r.start + r.length).min(total) as usize;
                (206, bytes[start..end].to_vec())
            }
            None => (200, bytes),
        };
        if body.len() as u64 > request.max_response_bytes {
            return Err(TransportError::TooLarge { max_bytes: request.max_response_bytes });
        }
        Ok(HttpResponse { status, body, total_size: Some(total) })
    }
}

struct Counter {
    calls: AtomicUsize,
    last_done: AtomicU64,
    last_total: AtomicU64,
}

impl ProgressListener for Counter {
    fn on_progress(&self, done_bytes: u64, total_bytes: u64) {
        assert!(done_bytes <= total_bytes);
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.last_done.store(done_bytes, Ordering::SeqCst);
        self.last_total.store(total_bytes, Ordering::SeqCst);
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    source: PathBuf,
    site: PathBuf,
    phone: PathBuf,
    key: SigningKeyPair,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().expect("tmp");
        let source = tmp.path().join("src");
        copy_dir(&repo().join("data/fixtures/mini"), &source);
        let fixture = Fixture {
            source,
            site: tmp.path().join("site"),
            phone: tmp.path().join("phone"),
            key: SigningKeyPair::generate(),
            _tmp: tmp,
        };
        fixture.publish();
        fixture
    }

    fn publish(&self) {
        let now = chrono::Utc::now().timestamp();
        cityguide_publisher::publish::publish(&self.source, &self.site, &self.key, &[], 86_400, now).expect("publish");
    }

    fn config(&self, keys: Vec<String>) -> GuideConfig {
        GuideConfig {
            data_dir: self.phone.to_str().expect("utf-8").to_owned(),
            languages: vec!["en".into()],
            catalog_url: Some(CATALOG_URL.into()),
            trusted_keys: keys,
            limits: Some(DownloadLimits { chunk_bytes: 512, ..DownloadLimits::default() }),
        }
    }

    fn guide(&self, transport: &Arc<SiteTransport>) -> Arc<Guide> {
        let guide = Guide::open(
            self.config(vec![self.key.public().to_string()]),
            Some(transport.clone() as Arc<dyn Transport>),
        )
        .expect("open");
        guide.set_consent(ConsentScope::Updates, true).expect("consent");
        guide
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

/// No message may carry the catalog URL, any URL, or a coordinate.
fn assert_clean(e: &GuideError) {
    let m = e.to_string();
    assert!(!m.contains("://") && !m.contains("cdn.example.org"), "URL in {m:?}");
    assert!(!m.contains("43.2049") && !m.contains("27.9102"), "coordinate in {m:?}");
}

const VARNA_CENTRE: Position = Position { lat: 43.2050, lon: 27.9106 };

#[test]
fn sync_through_a_foreign_transport_then_query_save_and_update_by_delta() {
    let f = Fixture::new();
    let transport = SiteTransport::new(&f.site);
    let guide = f.guide(&transport);

    let infos = guide.check_for_updates().expect("check");
    assert_eq!(infos.len(), 1);
    assert_eq!(
        (infos[0].city_id.as_str(), infos[0].installed_version, infos[0].update_available),
        ("mini", None, true)
    );

    let progress =
        Arc::new(Counter { calls: AtomicUsize::new(0), last_done: AtomicU64::new(0), last_total: AtomicU64::new(0) });
    let outcome =
        guide.update_city("mini".into(), Some(progress.clone() as Arc<dyn ProgressListener>), None).expect("update");
    let UpdateOutcome::Installed { city, downloaded_bytes } = outcome else { panic!("{outcome:?}") };
    assert_eq!(city.version, 3);
    assert_eq!(downloaded_bytes, infos[0].download_bytes);
    // 512-byte chunks: several progress calls, the last one complete.
    assert!(progress.calls.load(Ordering::SeqCst) >= 2, "{}", progress.calls.load(Ordering::SeqCst));
    assert_eq!(progress.last_done.load(Ordering::SeqCst), progress.last_total.load(Ordering::SeqCst));

    let near = guide.nearby("mini".into(), VARNA_CENTRE, 2, None).expect("nearby");
    assert_eq!(near[0].id, "cathedral");
    assert!(near[0].distance_m.expect("distance") < 50.0);
    assert!(near[0].distance_m <= near[1].distance_m);
    let within = guide.within_radius("mini".into(), VARNA_CENTRE, 100.0, 50, None).expect("radius");
    assert!(within.iter().all(|p| p.distance_m.expect("d") <= 100.0) && !within.is_empty());
    let markers = guide
        .viewport("mini".into(), Bounds { south: 43.19, west: 27.90, north: 43.22, east: 27.93 }, 18, None)
        .expect("viewport");
    assert_eq!(markers.iter().map(|m| m.count).sum::<u32>(), 5, "every place of the fixture is in the box");
    let one = guide
        .viewport("mini".into(), Bounds { south: 43.19, west: 27.90, north: 43.22, east: 27.93 }, 3, None)
        .expect("viewport");
    assert_eq!((one.len(), one[0].count), (1, 5), "at zoom 3 the city is one cluster");

    guide.add_favourite("mini".into(), "cathedral".into()).expect("favourite");
    guide.set_note("mini".into(), "cathedral".into(), "Golden domes".into()).expect("note");
    guide.mark_visited("mini".into(), "cathedral".into()).expect("visit");
    let detail = guide.place("mini".into(), "cathedral".into(), Some(1_767_604_800)).expect("place");
    assert!(detail.favourite && detail.visits == 1 && detail.note.as_deref() == Some("Golden domes"));
    // Monday 2026-01-05 09:20 UTC is 11:20 in Sofia; the cathedral is open 07:00-19:00.
    assert_eq!(detail.opening.state, OpenState::Open);
    assert_eq!(detail.opening.closes_at, Some(1_767_632_400), "19:00 Sofia time is 17:00 UTC");

    // A new version with a changed summary arrives as a delta; the favourite survives.
    let en = std::fs::read_to_string(f.source.join("texts/en.csv")).expect("read");
    assert!(en.contains("The main church of Varna."));
    std::fs::write(
        f.source.join("texts/en.csv"),
        en.replace("The main church of Varna.", "The main Orthodox church of Varna."),
    )
    .expect("write");
    f.publish();
    let infos = guide.check_for_updates().expect("check");
    assert_eq!((infos[0].installed_version, infos[0].available_version, infos[0].via_delta), (Some(3), 4, true));
    let outcome = guide.update_city("mini".into(), None, None).expect("update");
    assert!(
        matches!(&outcome, UpdateOutcome::Updated { city, from_version: 3, method: UpdateMethod::Delta, .. } if city.version == 4),
        "{outcome:?}"
    );
    let detail = guide.place("mini".into(), "cathedral".into(), None).expect("place");
    assert_eq!(detail.summary.summary.expect("summary").text, "The main Orthodox church of Varna.");
    assert!(detail.favourite);
    assert_eq!(guide.favourites().expect("favourites")[0].status, SavedStatus::Present);
}

#[test]
fn a_cancelled_update_installs_nothing_and_says_cancelled() {
    let f = Fixture::new();
    let transport = SiteTransport::new(&f.site);
    let guide = f.guide(&transport);
    let cancel = CancelToken::new();
    cancel.cancel();
    assert!(cancel.is_cancelled());
    let err = guide.update_city("mini".into(), None, Some(cancel)).expect_err("cancelled");
    assert_eq!(err, GuideError::Cancelled);
    assert!(guide.installed_cities().expect("installed").is_empty());
}

#[test]
fn a_catalog_signed_by_another_key_is_refused_without_leaking_the_url() {
    let f = Fixture::new();
    let transport = SiteTransport::new(&f.site);
    let other = SigningKeyPair::generate().public().to_string();
    let guide = Guide::open(f.config(vec![other]), Some(transport as Arc<dyn Transport>)).expect("open");
    guide.set_consent(ConsentScope::Updates, true).expect("consent");
    let err = guide.update_city("mini".into(), None, None).expect_err("untrusted");
    assert_eq!(err, GuideError::UntrustedCatalog);
    assert_clean(&err);
    assert!(guide.installed_cities().expect("installed").is_empty());
}

#[test]
fn transport_failures_map_to_clear_errors_without_urls() {
    let f = Fixture::new();
    let transport = SiteTransport::new(&f.site);
    let guide = f.guide(&transport);
    *transport.fail_with.lock().expect("lock") = Some(TransportError::Offline);
    assert_eq!(guide.check_for_updates().expect_err("offline"), GuideError::Offline);
    // Platform exceptions often quote the URL and the app passes them on as they are.
    *transport.fail_with.lock().expect("lock") =
        Some(TransportError::Other { reason: format!("Connection reset while reading {CATALOG_URL}") });
    let err = guide.check_for_updates().expect_err("reset");
    assert!(matches!(&err, GuideError::Network { reason } if reason.contains("Connection reset")), "{err:?}");
    assert_clean(&err);
    *transport.fail_with.lock().expect("lock") = Some(TransportError::Timeout);
    assert!(matches!(guide.check_for_updates(), Err(GuideError::Network { .. })));
}

/// A transport that ignores the cap: the adapter refuses the body before the core sees it.
struct Flood;

impl Transport for Flood {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse { status: 200, body: vec![b'x'; request.max_response_bytes as usize + 1], total_size: None })
    }
}

#[test]
fn a_body_beyond_the_cap_is_refused_even_if_the_transport_returns_it() {
    let f = Fixture::new();
    let mut config = f.config(vec![f.key.public().to_string()]);
    config.limits = Some(DownloadLimits { catalog_bytes: 1000, ..DownloadLimits::default() });
    let guide = Guide::open(config, Some(Arc::new(Flood) as Arc<dyn Transport>)).expect("open");
    guide.set_consent(ConsentScope::Updates, true).expect("consent");
    let err = guide.check_for_updates().expect_err("too large");
    assert!(matches!(&err, GuideError::Network { reason } if reason.contains("1000")), "{err:?}");
}

#[test]
fn errors_name_the_problem_and_never_a_position() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = GuideConfig {
        data_dir: tmp.path().to_str().expect("utf-8").into(),
        languages: vec!["en".into()],
        catalog_url: None,
        trusted_keys: vec![],
        limits: None,
    };
    let guide = Guide::open(config.clone(), None).expect("open");
    let err = guide.nearby("varna".into(), VARNA_CENTRE, 5, None).expect_err("not installed");
    assert_eq!(err, GuideError::NotInstalled { city_id: "varna".into() });
    assert_eq!(err.to_string(), "city varna is not installed");
    assert!(matches!(guide.check_for_updates(), Err(GuideError::UpdatesNotConfigured { .. })));
    let pack =
        cityguide_publisher::build::build_pack(&repo().join("data/fixtures/mini"), &Default::default()).expect("build");
    guide.install_pack_bytes(pack.bytes).expect("install");
    for bad in [Position { lat: 91.234567, lon: 27.910210 }, Position { lat: f64::NAN, lon: 0.0 }] {
        let err = guide.nearby("mini".into(), bad, 5, None).expect_err("bad position");
        assert!(matches!(err, GuideError::InvalidArgument { .. }), "{err:?}");
        assert!(!err.to_string().contains("91.23") && !err.to_string().contains("27.91"), "{err}");
    }
    let err = guide.place("mini".into(), "nowhere".into(), None).expect_err("unknown");
    assert_eq!(err.to_string(), "city mini has no place nowhere");
    let err = guide.tour("mini".into(), "nowhere".into()).expect_err("unknown");
    assert!(matches!(err, GuideError::UnknownTour { .. }));
    let err = guide.install_pack_bytes(b"not a pack at all, but long enough to look".to_vec()).expect_err("garbage");
    assert!(matches!(err, GuideError::InvalidPack { .. }), "{err:?}");
    let choice = guide
        .set_languages(vec!["!!".into(), "fil_PH".into(), "zh-Hant-TW-u-fw-mon".into(), "".into()])
        .expect("an unusable tag is skipped, never an error");
    assert_eq!(choice.used, ["fil-PH", "zh-Hant-TW"]);
    assert_eq!(
        choice.skipped.iter().map(|t| (t.tag.as_str(), t.reason)).collect::<Vec<_>>(),
        [("!!", SkipReason::Malformed), ("", SkipReason::Empty)]
    );
    assert_eq!(guide.languages().expect("languages"), ["fil-PH", "zh-Hant-TW"]);
    assert_eq!(guide.language_choice().expect("choice"), choice);
    let err = Guide::open(
        GuideConfig {
            trusted_keys: vec!["ed25519:nope".into()],
            catalog_url: Some(CATALOG_URL.into()),
            ..config.clone()
        },
        None,
    )
    .expect_err("bad key");
    assert_eq!(err, GuideError::InvalidKey { key_index: 0, problem: KeyProblem::Format });
    // A placeholder that would open the door to forged catalogs is refused when the guide is configured, and the
    // error names which key.
    let zero = format!("ed25519:{}", "0".repeat(64));
    let identity = format!("ed25519:01{}", "0".repeat(62));
    for (weak, index) in [(&zero, 0u32), (&identity, 1)] {
        let mut keys = vec![SigningKeyPair::generate().public().to_string(); 2];
        keys[index as usize] = weak.clone();
        let err = Guide::open(
            GuideConfig { trusted_keys: keys, catalog_url: Some(CATALOG_URL.into()), ..config.clone() },
            None,
        )
        .expect_err("weak key");
        assert_eq!(err, GuideError::InvalidKey { key_index: index, problem: KeyProblem::Weak });
    }
    assert_clean(&err);
    let err = Guide::open(GuideConfig { catalog_url: Some(CATALOG_URL.into()), ..config }, None).expect_err("no key");
    assert!(matches!(err, GuideError::InvalidArgument { .. }));
}

#[test]
fn tours_proximity_and_geofences_through_the_bindings() {
    let tmp = tempfile::tempdir().expect("tmp");
    let guide = Guide::open(
        GuideConfig {
            data_dir: tmp.path().to_str().expect("utf-8").into(),
            languages: vec!["en".into()],
            catalog_url: None,
            trusted_keys: vec![],
            limits: None,
        },
        None,
    )
    .expect("open");
    let path = tmp.path().join("mini.pack");
    let pack =
        cityguide_publisher::build::build_pack(&repo().join("data/fixtures/mini"), &Default::default()).expect("build");
    std::fs::write(&path, &pack.bytes).expect("write");
    let city = guide.install_pack_file(path.to_str().expect("utf-8").into()).expect("install");
    assert_eq!((city.city_id.as_str(), city.place_count), ("mini", 5));

    let tours = guide.tours("mini".into()).expect("tours");
    assert_eq!((tours[0].id.as_str(), tours[0].stop_count), ("old-town", 4));
    let tour = guide.tour("mini".into(), "old-town".into()).expect("tour");
    let start = tour.stops[0].position;
    let p = guide.tour_progress("mini".into(), "old-town".into(), start, 5.0, None).expect("progress");
    assert_eq!(p.next_stop_index, Some(1), "standing at the first stop, the next is the second");
    assert_eq!(p.next_stop_place_id.as_deref(), Some(tour.stops[1].id.as_str()));
    assert!(!p.off_route);

    let tracker = guide
        .clone()
        .proximity_tracker("mini".into(), Some(ProximityConfig { min_dwell_ms: 0, ..Default::default() }))
        .expect("tracker");
    let cathedral = guide.place("mini".into(), "cathedral".into(), None).expect("place").summary.position;
    let events = tracker.update(LocationFix { position: cathedral, accuracy_m: 5.0, time_ms: 1_000 }).expect("update");
    assert!(matches!(&events[..], [ProximityEvent::Enter { place, .. }] if place.id == "cathedral"), "{events:?}");
    assert_eq!(tracker.inside().expect("inside")[0].id, "cathedral");
    let far = Position { lat: 43.25, lon: 27.95 };
    let events = tracker.update(LocationFix { position: far, accuracy_m: 5.0, time_ms: 2_000 }).expect("update");
    assert!(matches!(&events[..], [ProximityEvent::Exit { place, .. }] if place.id == "cathedral"), "{events:?}");

    let plan = guide.geofences("mini".into(), cathedral, 3, 40.0).expect("plan");
    assert_eq!(plan.regions.len(), 2, "max 3 regions: 2 places and the refresh region");
    assert_eq!(plan.regions[0].place_id.as_deref(), Some("cathedral"));
    assert_eq!(plan.refresh.place_id, None);
    assert!(plan.refresh.radius_m >= 40.0);

    let cats = guide.categories("mini".into()).expect("categories");
    assert!(cats.iter().any(|c| c.id == "museum.archaeology" && c.parent.as_deref() == Some("museum")));
    let museums = guide
        .nearby(
            "mini".into(),
            VARNA_CENTRE,
            10,
            Some(PlaceFilter { categories: vec!["museum".into()], ..Default::default() }),
        )
        .expect("filtered");
    assert!(!museums.is_empty() && museums.iter().all(|p| p.id != "cathedral"));
    guide.remove_city("mini".into()).expect("remove");
    assert!(matches!(guide.tours("mini".into()), Err(GuideError::NotInstalled { .. })));
}

#[test]
fn a_panic_inside_the_library_arrives_as_an_internal_error() {
    let err = debug_panic_for_tests().expect_err("panics");
    assert_eq!(err, GuideError::Internal { reason: "deliberate panic for tests".into() });
    // The library still works afterwards.
    assert!(matches!(inspect_pack(vec![0; 16]), Err(GuideError::InvalidPack { .. })));
}

#[test]
fn without_the_updates_consent_no_request_is_made() {
    let f = Fixture::new();
    let transport = SiteTransport::new(&f.site);
    let guide = Guide::open(f.config(vec![f.key.public().to_string()]), Some(transport.clone() as Arc<dyn Transport>))
        .expect("open");
    assert_eq!(guide.consent().expect("consent"), ConsentSettings { updates: false, feedback: false, location: false });
    let err = guide.update_city("mini".into(), None, None).expect_err("no consent");
    assert_eq!(err, GuideError::ConsentRequired { scope: ConsentScope::Updates });
    assert!(guide.installed_cities().expect("installed").is_empty());
    assert_eq!(transport.requests.load(Ordering::SeqCst), 0, "no request without consent");
    guide.set_consent(ConsentScope::Updates, true).expect("consent");
    let outcome = guide.update_city("mini".into(), None, None).expect("update");
    assert!(matches!(&outcome, UpdateOutcome::Installed { city, .. } if city.city_id == "mini"), "{outcome:?}");
}
