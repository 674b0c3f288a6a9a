//! `cityguide demo`: the end-to-end story on local files — build the Varna pack from its sources, install it on a
//! fresh simulated phone, and walk a visitor through the city, printing what the phone would show.

use std::path::Path;

use chrono::{DateTime, Utc};
use cityguide_core::{AccessFeature, Guide, GuideConfig, NearbyQuery, PlaceFilter};
use cityguide_core::{LatLon, LocationFix};
use cityguide_publisher::build::{BuildOptions, build_pack};

fn step(title: &str) {
    println!("\n== {title}");
}

/// Fixes every `spacing_m` metres along a path, one every `secs` seconds.
fn simulate_walk(path: &[LatLon], spacing_m: f64, secs: i64) -> Vec<LocationFix> {
    let mut fixes = Vec::new();
    let mut t = 0;
    for w in path.windows(2) {
        let d = w[0].distance_m(w[1]);
        let n = (d / spacing_m).ceil().max(1.0) as usize;
        for k in 0..n {
            let f = k as f64 / n as f64;
            let lerp = |a: f64, b: f64| a + (b - a) * f;
            // Between two valid positions, so valid too.
            if let Ok(position) = LatLon::new(lerp(w[0].lat(), w[1].lat()), lerp(w[0].lon(), w[1].lon())) {
                fixes.push(LocationFix { position, accuracy_m: 8.0, time_ms: t * 1000 });
            }
            t += secs;
        }
    }
    if let Some(&last) = path.last() {
        fixes.push(LocationFix { position: last, accuracy_m: 8.0, time_ms: t * 1000 });
    }
    fixes
}

/// Runs the demo.
pub fn run(source: &Path, data_dir: Option<&Path>) -> Result<(), String> {
    let tmp;
    let dir = match data_dir {
        Some(d) => d.to_path_buf(),
        None => {
            tmp = std::env::temp_dir().join(format!("cityguide-demo-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            tmp.clone()
        }
    };
    // A Tuesday in July, 10:30 in Varna.
    let now: DateTime<Utc> = "2026-07-14T07:30:00Z".parse().map_err(|e| format!("{e}"))?;

    step("The culture department builds its pack");
    let built = build_pack(source, &BuildOptions::default())
        .map_err(|f| f.diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))?;
    let c = &built.content;
    println!(
        "{}: {} places, {} tours, languages {} — {} bytes, {} warnings",
        source.display(),
        c.places.len(),
        c.tours.len(),
        c.meta.languages.join(","),
        built.bytes.len(),
        built.warnings.len()
    );

    step("A visitor's phone installs it (offline from here on)");
    let guide =
        Guide::open(GuideConfig { data_dir: dir.clone(), languages: vec!["en".into()] }).map_err(|e| e.to_string())?;
    let city = guide.install_pack_bytes(built.bytes.clone()).map_err(|e| e.to_string())?;
    println!("installed {} ({}) version {} into {}", city.city_id, city.name.text, city.version, dir.display());
    let id = city.city_id.clone();

    let cathedral = LatLon::new(43.20497, 27.91021).map_err(|e| e.to_string())?;
    step("Standing at the cathedral on a Tuesday in July, 10:30: what is near me?");
    let near = guide
        .nearby(&id, &NearbyQuery { at: cathedral, limit: 6, radius_m: None, filter: PlaceFilter::default() }, None)
        .map_err(|e| e.to_string())?;
    for p in &near {
        println!("  {:>5.0} m  {:>3.0}°  {}", p.distance_m.unwrap_or(0.0), p.bearing_deg.unwrap_or(0.0), p.name);
    }

    step("The same, for a wheelchair user: step-free places open now within 1.5 km");
    let filter = PlaceFilter { categories: vec![], accessibility: vec![AccessFeature::StepFree], open_at: Some(now) };
    let near = guide
        .nearby(&id, &NearbyQuery { at: cathedral, limit: 5, radius_m: Some(1500.0), filter }, None)
        .map_err(|e| e.to_string())?;
    for p in &near {
        println!("  {:>5.0} m  {}", p.distance_m.unwrap_or(0.0), p.name);
    }

    step("Searching in any script");
    for q in ["аладжа", "Aladzha", "katedrala", "терм", "mus"] {
        let hits = guide.search(&id, q, Some(cathedral), 3, None).map_err(|e| e.to_string())?;
        let names: Vec<String> = hits.iter().map(|h| h.name.clone()).collect();
        println!("  {q:>10} → {}", names.join(" | "));
    }

    step("A German reader opens the Archaeological Museum");
    let de = vec!["de".to_owned(), "en".to_owned()];
    let d = guide.place(&id, "archaeological-museum", now, Some(&de)).map_err(|e| e.to_string())?;
    println!("  {} [{}]", d.summary.name, d.summary.lang);
    if let Some(s) = &d.summary.summary {
        println!("  {} [{}]", s.text, s.lang);
    }
    println!("  hours: {} ({})", d.hours.label, d.hours.expression.as_deref().unwrap_or("-"));
    if let Some(e) = &d.easy_read {
        println!("  easy read [{}]: {}", e.lang, e.text);
    }
    if let Some(m) = d.media.first()
        && let Some(alt) = &m.alt
    {
        println!("  picture: {} — alt [{}]: {}", m.uri, alt.lang, alt.text);
    }

    let tours = guide.tours(&id, None).map_err(|e| e.to_string())?;
    if let Some(t) = tours.first() {
        step(&format!(
            "Following the tour \"{}\" ({} stops, {:.1} km)",
            t.title.text,
            t.stops,
            f64::from(t.distance_m) / 1000.0
        ));
        let tour = guide.tour(&id, &t.id, None).map_err(|e| e.to_string())?;
        let fixes = simulate_walk(&tour.path, 10.0, 8);
        let mut hint = None;
        let mut announced = None;
        for (n, fix) in fixes.iter().enumerate() {
            let p = guide.tour_progress(&id, &t.id, fix.position, fix.accuracy_m, hint).map_err(|e| e.to_string())?;
            hint = Some(p.along_m);
            if p.next_stop != announced || n + 1 == fixes.len() {
                announced = p.next_stop.clone();
                let next = p
                    .next_stop
                    .as_ref()
                    .and_then(|n| tour.stops.get(n.index as usize))
                    .map_or("the end".to_owned(), |s| s.name.clone());
                println!(
                    "  {:>4} s  {:>5.0} m walked, {:>5.0} m left — next: {next}",
                    fix.time_ms / 1000,
                    p.along_m,
                    p.distance_left_m
                );
            }
        }
        step("…and the phone told the walker when a monument was close");
        for e in crate::explore::walk(&guide, &id, &fixes)? {
            println!("  {:>4} s  {:<5} {}", e.time_ms / 1000, e.event, e.name);
        }
    }

    step("Saving a favourite and a note");
    guide.add_favourite(&id, "roman-thermae").map_err(|e| e.to_string())?;
    guide.set_note(&id, "roman-thermae", "Come back at sunset").map_err(|e| e.to_string())?;
    for f in guide.favourites().map_err(|e| e.to_string())? {
        println!("  ★ {} ({})", f.name, f.place_id);
    }
    city_server(&guide, &id, &dir, &built.bytes, now.timestamp())?;
    println!("\nThe simulated phone's data is in {}", dir.display());
    Ok(())
}

/// The loop with the city: the city's server starts on loopback with its embedded SQLite inbox, the phone sends a
/// report, the office answers through its own system (Open311), the phone sees the answer, the server stops.
fn city_server(guide: &Guide, city: &str, dir: &Path, pack: &[u8], now: i64) -> Result<(), String> {
    use cityguide_core::Transport;
    use cityguide_core::citizen::{ConsentScope, FeedbackDraft};
    step("The city's server starts on this machine (embedded SQLite inbox, loopback only)");
    let pack_file = dir.join("city.pack");
    std::fs::write(&pack_file, pack).map_err(|e| format!("{}: {e}", pack_file.display()))?;
    let mut cfg = cityguide_server::Config::default();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.database.url = format!("sqlite:{}", dir.join("city-inbox.db").display());
    cfg.city.packs = vec![pack_file];
    cfg.city.reference_prefix = "VAR".into();
    cfg.city.jurisdiction_id = "varna.bg".into();
    let server = cityguide_server::Background::start(cfg.clone(), false)?;
    let url = format!("http://{}/", server.addr);
    println!("  listening on {url} (inbox {url}inbox/, Open311 {url}open311/v2/discovery.json)");

    step("The visitor reports a problem; with the feedback consent the outbox sends it");
    guide.set_consent(ConsentScope::Feedback, true, now).map_err(|e| e.to_string())?;
    let draft = FeedbackDraft {
        city_id: city.to_owned(),
        place_id: Some("roman-thermae".into()),
        category: "accessibility".into(),
        text: "The ramp at the east entrance is blocked by a fence.".into(),
        lang: Some("en".into()),
        ..FeedbackDraft::default()
    };
    let item = guide.submit_feedback(&draft, now).map_err(|e| e.to_string())?;
    let net = cityguide_core::update::transport::HttpTransport::default();
    let flushed = guide.flush_outbox(&net, &url, now).map_err(|e| e.to_string())?;
    println!("  saved for {}; sent: {} acknowledged", item.office.as_deref().unwrap_or("-"), flushed.acknowledged);
    guide.refresh_report_statuses(&net, &url, now).map_err(|e| e.to_string())?;
    let reference = guide
        .outbox_item(&item.key)
        .map_err(|e| e.to_string())?
        .and_then(|i| i.office_status)
        .map(|s| s.reference)
        .ok_or("the server gave no reference")?;
    println!("  the city's reference: {reference} (status open)");

    step("The office's own system answers through Open311 (servicerequestupdates)");
    let db = cityguide_server::db::Db::open(&cfg.database.url, 1).map_err(|e| e.to_string())?;
    let office = item.office.clone().unwrap_or_default();
    let key = db
        .run_blocking(|c| cityguide_server::store::create_api_key(c, "demo-office-system", Some(&office), now))
        .map_err(|e| e.to_string())?;
    let form = [
        ("api_key", key.as_str()),
        ("service_request_id", reference.as_str()),
        ("update_id", "demo-1"),
        ("status", "ACTION_SCHEDULED"),
        ("description", "Thank you. The fence will be moved on Monday."),
    ];
    let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
    let answer = net
        .post(
            &format!("{url}open311/v2/servicerequestupdates.json"),
            "application/x-www-form-urlencoded",
            body.as_bytes(),
            4096,
        )
        .map_err(|e| e.to_string())?;
    println!("  {office}: HTTP {}", answer.status);

    step("The visitor's phone asks where the report stands");
    guide.refresh_report_statuses(&net, &url, now).map_err(|e| e.to_string())?;
    if let Some(s) = guide.outbox_item(&item.key).map_err(|e| e.to_string())?.and_then(|i| i.office_status) {
        println!("  {}: {} — \"{}\"", s.reference, s.status, s.public_reply.unwrap_or_default());
    }
    server.stop();
    println!("  the server stopped");
    Ok(())
}
