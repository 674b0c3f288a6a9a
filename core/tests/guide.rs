//! The `Guide` facade end to end on the mini city: install, queries, languages, hours, user data across updates,
//! persistence, crash leftovers and concurrency.

mod common;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cityguide_core::{
    AccessFeature, Guide, GuideConfig, GuideError, LatLon, NearbyQuery, OpenState, PlaceFilter, SavedStatus, Viewport,
};
use cityguide_publisher::build::{BuildOptions, build_pack};

fn ll(lat: f64, lon: f64) -> LatLon {
    LatLon::new(lat, lon).expect("a valid position")
}

fn mini_pack(version: Option<u64>) -> Vec<u8> {
    build_pack(&common::mini(), &BuildOptions { version, created: None }).expect("builds").bytes
}

fn open(dir: &Path, langs: &[&str]) -> Guide {
    Guide::open(GuideConfig { data_dir: dir.to_path_buf(), languages: langs.iter().map(|s| s.to_string()).collect() })
        .expect("opens")
}

fn installed(dir: &Path) -> Guide {
    let g = open(dir, &["en"]);
    g.install_pack_bytes(mini_pack(None)).expect("installs");
    g
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

#[test]
fn guide_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Guide>();
}

#[test]
fn install_reinstall_and_refuse_older() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = installed(tmp.path());
    let cities = g.installed().expect("list");
    assert_eq!(cities.len(), 1);
    assert_eq!((cities[0].city_id.as_str(), cities[0].version, cities[0].places), ("mini", 3, 5));
    assert_eq!(cities[0].name.text, "Mini");
    // The same bytes again change nothing.
    assert_eq!(g.install_pack_bytes(mini_pack(None)).expect("same").sha256, cities[0].sha256);
    let err = g.install_pack_bytes(mini_pack(Some(2))).expect_err("older refused");
    assert!(matches!(err, GuideError::Older { installed: 3, offered: 2, .. }), "{err}");
    // Garbage is refused and the installed version stays.
    assert!(matches!(g.install_pack_bytes(b"garbage bytes!".to_vec()), Err(GuideError::InvalidPack(_))));
    assert_eq!(g.installed().expect("list")[0].version, 3);
    let files: Vec<_> = std::fs::read_dir(tmp.path().join("packs")).expect("dir").collect();
    assert_eq!(files.len(), 1, "exactly the active pack file is on disk");
}

#[test]
fn nearby_filters_and_languages() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = installed(tmp.path());
    let cathedral = ll(43.20497, 27.91021);
    let q = |filter: PlaceFilter| NearbyQuery::new(cathedral, 10).filtered(filter);
    let all = g.nearby("mini", &q(PlaceFilter::default()), None).expect("nearby");
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].id, "cathedral");
    assert!(all[0].distance_m.expect("d") < 1.0);
    assert!(all.windows(2).all(|w| w[0].distance_m <= w[1].distance_m), "nearest first");
    // "museum" includes its subcategory museum.archaeology.
    let museums =
        g.nearby("mini", &q(PlaceFilter { categories: vec!["museum".into()], ..Default::default() }), None).expect("m");
    let ids: Vec<&str> = museums.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&"archaeological-museum") && ids.contains(&"roman-thermae") && ids.contains(&"clock-tower"));
    let step_free = g
        .nearby("mini", &q(PlaceFilter { accessibility: vec![AccessFeature::StepFree], ..Default::default() }), None)
        .expect("a");
    assert_eq!(step_free.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["sea-garden"]);
    let radius = g.nearby("mini", &NearbyQuery::new(cathedral, 10).within(200.0), None).expect("r");
    assert_eq!(radius.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["cathedral", "clock-tower"]);
    assert!(matches!(
        g.nearby("mini", &q(PlaceFilter { categories: vec!["nope".into()], ..Default::default() }), None),
        Err(GuideError::UnknownCategory { city_id, category_id }) if city_id == "mini" && category_id == "nope"
    ));
    assert!(matches!(
        g.nearby("mini", &NearbyQuery::new(cathedral, 1).within(-5.0), None),
        Err(GuideError::InvalidArgument { field: "radius", .. })
    ));
    assert!(matches!(
        g.nearby("mini", &NearbyQuery::new(cathedral, 1).within(f64::NAN), None),
        Err(GuideError::InvalidArgument { field: "radius", .. })
    ));
    assert!(LatLon::new(f64::NAN, 1.0).is_err() && LatLon::new(0.0, 180.5).is_err());
    assert!(matches!(g.nearby("sofia", &q(PlaceFilter::default()), None), Err(GuideError::NotInstalled { .. })));
    // Language fallback: German where it exists, else the default language, and the answer says which.
    let de = vec!["de".to_owned()];
    let museum = g.place("mini", "archaeological-museum", at("2026-07-14T07:30:00Z"), Some(&de)).expect("place");
    assert_eq!((museum.summary.name.as_str(), museum.summary.lang.as_str()), ("Archäologisches Museum", "de"));
    let cathedral_de = g.place("mini", "cathedral", at("2026-07-14T07:30:00Z"), Some(&de)).expect("place");
    assert_eq!(cathedral_de.summary.lang, "bg");
    let de_en = vec!["de".to_owned(), "en".to_owned()];
    let cathedral_de_en = g.place("mini", "cathedral", at("2026-07-14T07:30:00Z"), Some(&de_en)).expect("place");
    assert_eq!(cathedral_de_en.summary.name, "Cathedral of the Assumption");
    assert_eq!(
        museum.categories[0].name.as_ref().map(|l| l.lang.as_str()),
        Some("bg"),
        "category name falls back to the default language too"
    );
}

#[test]
fn opening_hours_in_the_city_time_zone_with_holidays() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = installed(tmp.path());
    // Tuesday 14 July 2026, 10:30 in Varna (UTC+3): open until 17:00.
    let h = g.opening_status("mini", "archaeological-museum", at("2026-07-14T07:30:00Z")).expect("hours");
    assert_eq!(h.state, OpenState::Open);
    assert_eq!(h.closes_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-07-14T17:00:00+03:00"));
    // Tuesday 3 March 2026 is Liberation Day, a public holiday: "PH off".
    let h = g.opening_status("mini", "archaeological-museum", at("2026-03-03T10:00:00Z")).expect("hours");
    assert_eq!(h.state, OpenState::Closed);
    // No hours at all: unknown, never closed.
    let h = g.opening_status("mini", "clock-tower", at("2026-07-14T07:30:00Z")).expect("hours");
    assert_eq!(h.state, OpenState::Unknown);
    assert_eq!(h.unknown_reason, Some(cityguide_core::query::hours::UnknownReason::NoHours));
    let open_now = PlaceFilter { open_at: Some(at("2026-07-13T07:30:00Z")), ..Default::default() };
    let q = NearbyQuery::new(ll(43.20497, 27.91021), 10).filtered(open_now);
    let ids: Vec<String> = g.nearby("mini", &q, None).expect("n").into_iter().map(|p| p.id).collect();
    // Monday: the museum is closed, the cathedral and the park are open, unknown hours are left out.
    assert_eq!(ids, ["cathedral", "sea-garden"]);
}

#[test]
fn a_pack_without_time_zone_rules_has_unknown_hours_not_closed() {
    // A format 1.1 pack (before packs carried their zone's rules): it installs, and the core, which has no time-zone
    // database, says it does not know rather than guess.
    let tmp = tempfile::tempdir().expect("tmp");
    let g = open(tmp.path(), &["en"]);
    let mut content = build_pack(&common::mini(), &BuildOptions::default()).expect("builds").content;
    content.meta.time_zone_rules = None;
    g.install_pack_bytes(cityguide_core::pack::write_pack(&content).expect("writes")).expect("installs");
    let h = g.opening_status("mini", "archaeological-museum", at("2026-07-14T07:30:00Z")).expect("hours");
    assert_eq!(h.state, OpenState::Unknown);
    assert_eq!(h.unknown_reason, Some(cityguide_core::query::hours::UnknownReason::NoTimeZoneRules));
    assert_eq!(h.label, "hours unknown");
    assert_eq!(h.expression.as_deref(), Some("Tu-Su 10:00-17:00; PH off"));
    // "Open now" leaves such places out, as it does any place whose hours are unknown.
    let open_now = PlaceFilter { open_at: Some(at("2026-07-14T07:30:00Z")), ..Default::default() };
    let q = NearbyQuery::new(ll(43.20497, 27.91021), 10).filtered(open_now);
    assert!(g.nearby("mini", &q, None).expect("n").is_empty());
    // The next publication brings the rules, and the same place answers.
    g.install_pack_bytes(mini_pack(Some(4))).expect("installs");
    let h = g.opening_status("mini", "archaeological-museum", at("2026-07-14T07:30:00Z")).expect("hours");
    assert_eq!(h.state, OpenState::Open);
}

#[test]
fn search_in_any_script() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = installed(tmp.path());
    let first = |q: &str| g.search("mini", q, None, 5, None).expect("search").first().map(|p| p.id.clone());
    for q in ["римски терми", "rimski termi", "Roman Thermae", "терми", "termi", "thermae"] {
        assert_eq!(first(q).as_deref(), Some("roman-thermae"), "query {q:?}");
    }
    for q in ["катедр", "katedr", "Cathedral", "успение", "uspenie"] {
        assert_eq!(first(q).as_deref(), Some("cathedral"), "query {q:?}");
    }
    // Short prefixes: the most important matching names.
    let r = g.search("mini", "a", None, 5, None).expect("search");
    assert_eq!(r.first().map(|p| p.id.as_str()), Some("archaeological-museum"));
    let r = g.search("mini", "ч", None, 5, None).expect("search");
    assert_eq!(r.first().map(|p| p.id.as_str()), Some("clock-tower"), "Часовниковата → chasovnikovata");
    // A summary word matches too, below names.
    assert_eq!(first("necropolis").as_deref(), Some("archaeological-museum"));
    assert!(g.search("mini", "zzzzqqq", None, 5, None).expect("search").is_empty());
    assert!(g.search("mini", "  ", None, 5, None).expect("search").is_empty());
    assert!(g.search("mini", "\"*:()^", None, 5, None).is_ok(), "FTS syntax in a query is harmless");
    // Distance breaks ties: near the sea garden, "m" ranks the nearer of equal matches higher.
    let near_museum = g.search("mini", "museum", Some(ll(43.20675, 27.91746)), 5, None).expect("search");
    assert_eq!(near_museum[0].id, "archaeological-museum");
}

#[test]
fn viewport_clusters() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = installed(tmp.path());
    let bbox = Viewport { south_west: ll(43.18, 27.88), north_east: ll(43.23, 27.95) };
    let far = g.viewport("mini", &bbox, 10, &PlaceFilter::default(), None).expect("viewport");
    assert_eq!(far.iter().map(|m| m.count).sum::<u32>(), 5);
    assert!(far.len() < 5, "at zoom 10 nearby places merge");
    let close = g.viewport("mini", &bbox, 19, &PlaceFilter::default(), None).expect("viewport");
    assert_eq!(close.len(), 5);
    assert_eq!(close[0].place.id, "archaeological-museum", "most important first");
}

#[test]
fn tours_and_progress() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = installed(tmp.path());
    let tours = g.tours("mini", None).expect("tours");
    assert_eq!(tours.len(), 1);
    assert_eq!(tours[0].title.text, "Old Varna");
    let t = g.tour("mini", "old-town", None).expect("tour");
    assert_eq!(
        t.stops.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["cathedral", "clock-tower", "archaeological-museum", "roman-thermae"]
    );
    let start = g.tour_progress("mini", "old-town", t.path[0], 5.0, None).expect("progress");
    assert!(start.along_m < 1.0 && !start.off_route);
    let end = g.tour_progress("mini", "old-town", *t.path.last().expect("end"), 5.0, None).expect("progress");
    assert!(end.distance_left_m < 1.0);
    let lost = g.tour_progress("mini", "old-town", ll(43.195, 27.90), 5.0, None).expect("progress");
    assert!(lost.off_route);
    let mid = g.tour_progress("mini", "old-town", t.stops[1].position, 5.0, None).expect("progress");
    let next = mid.next_stop.expect("a next stop");
    assert_eq!(t.stops[next.index as usize].id, next.place_id, "the next stop names its place");
    assert!(matches!(
        g.tour_progress("mini", "old-town", t.path[0], f64::NAN, None),
        Err(GuideError::InvalidArgument { field: "accuracy", .. })
    ));
    assert!(matches!(g.tour("mini", "nope", None), Err(GuideError::UnknownTour { .. })));
}

#[test]
fn user_data_survives_updates_that_remove_places_and_restarts() {
    let tmp = tempfile::tempdir().expect("tmp");
    {
        let g = installed(tmp.path());
        g.add_favourite("mini", "clock-tower").expect("fav");
        g.add_favourite("mini", "cathedral").expect("fav");
        g.add_favourite("mini", "cathedral").expect("idempotent");
        g.mark_visited("mini", "cathedral").expect("visit");
        g.set_note("mini", "clock-tower", "ask about the bells").expect("note");
        assert!(matches!(g.add_favourite("mini", "nope"), Err(GuideError::UnknownPlace { .. })));
        // Version 4 without the clock tower.
        let src = common::copy_sources(&common::mini());
        let places = std::fs::read_to_string(src.path().join("places.csv")).expect("read");
        let kept: String =
            places.lines().filter(|l| !l.starts_with("clock-tower,")).map(|l| format!("{l}\n")).collect();
        std::fs::write(src.path().join("places.csv"), kept).expect("write");
        for f in ["texts/bg.csv", "texts/en.csv"] {
            let t = std::fs::read_to_string(src.path().join(f)).expect("read");
            let kept: String = t.lines().filter(|l| !l.contains(",clock-tower,")).map(|l| format!("{l}\n")).collect();
            std::fs::write(src.path().join(f), kept).expect("write");
        }
        let tours = std::fs::read_to_string(src.path().join("tours.csv")).expect("read");
        std::fs::write(src.path().join("tours.csv"), tours.replace("cathedral;clock-tower;", "cathedral;"))
            .expect("write");
        let v4 = build_pack(src.path(), &BuildOptions { version: Some(4), created: None }).expect("v4 builds").bytes;
        g.install_pack_bytes(v4).expect("update");
        assert_eq!(g.installed().expect("list")[0].version, 4);
    }
    // After a restart everything is still there; the removed place is listed as removed under its last name.
    let g = open(tmp.path(), &["en"]);
    let favs = g.favourites().expect("favs");
    assert_eq!(favs.len(), 2);
    let tower = favs.iter().find(|f| f.place_id == "clock-tower").expect("kept");
    assert_eq!(tower.status, SavedStatus::Removed);
    assert_eq!(tower.name, "Часовниковата кула");
    let cathedral = favs.iter().find(|f| f.place_id == "cathedral").expect("kept");
    assert_eq!((cathedral.status, cathedral.name.as_str()), (SavedStatus::Present, "Cathedral of the Assumption"));
    assert_eq!(g.notes().expect("notes")[0].note.as_deref(), Some("ask about the bells"));
    assert_eq!(g.visits().expect("visits").len(), 1);
    assert_eq!(g.place("mini", "cathedral", Utc::now(), None).expect("p").visits, 1);
    // Removing the city keeps the user's data too.
    g.remove_city("mini").expect("remove");
    assert!(g.favourites().expect("favs").iter().all(|f| f.status == SavedStatus::CityMissing));
    assert!(g.installed().expect("list").is_empty());
}

#[test]
fn leftovers_of_an_interrupted_install_are_cleaned_at_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    drop(installed(tmp.path()));
    let packs = tmp.path().join("packs");
    std::fs::write(packs.join(".tmp-123-456"), b"half a pack").expect("write");
    std::fs::write(packs.join("mini-9-deadbeefdeadbeef.pack"), b"renamed but never committed").expect("write");
    let g = open(tmp.path(), &["en"]);
    assert_eq!(g.installed().expect("list")[0].version, 3);
    let names: Vec<String> = std::fs::read_dir(&packs)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("mini-3-"));
}

#[test]
fn queries_run_while_a_new_version_installs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let g = Arc::new(installed(tmp.path()));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let g = Arc::clone(&g);
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let q = NearbyQuery::new(ll(43.2, 27.91), 3);
                    assert_eq!(g.nearby("mini", &q, None).expect("nearby").len(), 3);
                    assert!(!g.search("mini", "termi", None, 3, None).expect("search").is_empty());
                }
            })
        })
        .collect();
    for v in 4..8 {
        g.install_pack_bytes(mini_pack(Some(v))).expect("install");
    }
    for r in readers {
        r.join().expect("no reader failed");
    }
    assert_eq!(g.installed().expect("list")[0].version, 7);
}

#[test]
fn a_pack_file_damaged_on_disk_is_not_loaded_at_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    drop(installed(tmp.path()));
    let packs = tmp.path().join("packs");
    let file = std::fs::read_dir(&packs).expect("dir").flatten().next().expect("pack").path();
    let mut bytes = std::fs::read(&file).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&file, &bytes).expect("write");
    let g = open(tmp.path(), &["en"]);
    assert!(g.installed().expect("list").is_empty(), "a changed pack is not trusted");
    // Reinstalling repairs it; the user's data was never touched.
    g.install_pack_bytes(mini_pack(None)).expect("reinstall");
    assert_eq!(g.installed().expect("list").len(), 1);
}
