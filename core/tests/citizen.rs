//! Citizens in the loop, through the public API: consent gates every request, reports are validated, routed and
//! kept durably, the outbox retries with capped jittered backoff and has exactly-once effect, consultations keep one
//! ballot per installation, and user data exports, imports and erases completely.

mod common;

use std::collections::HashMap;
use std::sync::Mutex;

use cityguide_core::citizen::wire::{Ack, BallotRequest, FeedbackRequest, MAX_TEXT_CHARS};
use cityguide_core::citizen::{
    Backoff, CitizenError, ConsentScope, FeedbackDraft, OutboxKind, OutboxStatus, ReportLocation,
};
use cityguide_core::{Fetched, Transport, TransportError};
use cityguide_core::{Guide, GuideConfig};
use cityguide_publisher::build::{BuildOptions, build_pack};

const NOW: i64 = 1_800_000_000;
const SERVER: &str = "https://city.example.invalid/";

/// The mini city plus two consultations: one open from 2000 to 2100, one that closed in 2002.
fn pack_with_consultations() -> Vec<u8> {
    let src = common::copy_sources(&common::mini());
    let dir = src.path();
    std::fs::write(
        dir.join("consultations.csv"),
        "id,options,opens,closes,min_lat,min_lon,max_lat,max_lon,url\n\
         park-benches,more-benches;more-trees;keep,2000-01-01,2100-01-01,43.19,27.90,43.21,27.93,https://example.org/benches\n\
         old-square,fountain;trees,2001-01-01,2002-01-01,,,,,\n",
    )
    .expect("write");
    let mut bg = std::fs::read_to_string(dir.join("texts/bg.csv")).expect("read");
    bg += "consultation,park-benches,Пейки в парка,Какво да има повече в парка?,,\n\
           option,park-benches/more-benches,Повече пейки,,,\n\
           option,park-benches/more-trees,Повече дървета,,,\n\
           option,park-benches/keep,Без промяна,,,\n\
           consultation,old-square,Стар площад,Фонтан или дървета?,,\n\
           option,old-square/fountain,Фонтан,,,\n\
           option,old-square/trees,Дървета,,,\n";
    std::fs::write(dir.join("texts/bg.csv"), bg).expect("write");
    let mut en = std::fs::read_to_string(dir.join("texts/en.csv")).expect("read");
    en += "consultation,park-benches,Benches in the park,What should the park have more of?,Background.,\n\
           option,park-benches/more-benches,More benches,,Twenty new benches.,\n";
    std::fs::write(dir.join("texts/en.csv"), en).expect("write");
    build_pack(dir, &BuildOptions::default()).expect("builds").bytes
}

struct Phone {
    _tmp: tempfile::TempDir,
    guide: Guide,
}

fn phone() -> Phone {
    let tmp = tempfile::tempdir().expect("tmp");
    let guide =
        Guide::open(GuideConfig { data_dir: tmp.path().join("phone"), languages: vec!["en".into()] }).expect("open");
    guide.install_pack_bytes(pack_with_consultations()).expect("install");
    Phone { _tmp: tmp, guide }
}

fn draft(place: &str, category: &str, text: &str) -> FeedbackDraft {
    FeedbackDraft {
        city_id: "mini".into(),
        place_id: Some(place.into()),
        category: category.into(),
        text: text.into(),
        ..Default::default()
    }
}

/// What the fake server does with a request it receives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behaviour {
    /// Stores it (once per key) and answers.
    Answer,
    /// Stores it (once per key) and then loses the answer: the phone sees a timeout.
    DropAck,
    /// Never reaches the server.
    Offline,
    /// Refuses with 400.
    Refuse,
}

/// A city server in memory: stores each key once, keeps the highest-seq ballot per installation and consultation,
/// and records every request it sees.
struct FakeCity {
    behaviour: Mutex<Behaviour>,
    requests: Mutex<Vec<(String, String)>>,
    reports: Mutex<HashMap<String, FeedbackRequest>>,
    ballots: Mutex<HashMap<(String, String), BallotRequest>>,
    ballot_keys: Mutex<Vec<String>>,
}

impl FakeCity {
    fn new(b: Behaviour) -> Self {
        FakeCity {
            behaviour: Mutex::new(b),
            requests: Mutex::new(Vec::new()),
            reports: Mutex::new(HashMap::new()),
            ballots: Mutex::new(HashMap::new()),
            ballot_keys: Mutex::new(Vec::new()),
        }
    }
    fn set(&self, b: Behaviour) {
        *self.behaviour.lock().expect("lock") = b;
    }
    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Transport for FakeCity {
    fn get(&self, url: &str, _: Option<(u64, u64)>, _: u64) -> Result<Fetched, TransportError> {
        self.requests.lock().expect("lock").push(("GET".into(), url.into()));
        Err(TransportError::Offline)
    }

    fn post(&self, url: &str, content_type: &str, body: &[u8], _: u64) -> Result<Fetched, TransportError> {
        assert_eq!(content_type, "application/json");
        self.requests.lock().expect("lock").push(("POST".into(), url.into()));
        let behaviour = *self.behaviour.lock().expect("lock");
        match behaviour {
            Behaviour::Offline => return Err(TransportError::Offline),
            Behaviour::Refuse => {
                return Ok(Fetched {
                    status: 400,
                    body: br#"{"error":"text is too rude"}"#.to_vec(),
                    total_size: None,
                });
            }
            _ => {}
        }
        let key = if url.ends_with("/v1/feedback") {
            let r: FeedbackRequest = serde_json::from_slice(body).expect("the phone sends valid reports");
            r.validate().expect("and the server accepts them");
            let key = r.key.clone();
            self.reports.lock().expect("lock").entry(key.clone()).or_insert(r);
            key
        } else if url.ends_with("/v1/ballots") {
            let b: BallotRequest = serde_json::from_slice(body).expect("valid ballot");
            b.validate().expect("valid");
            let key = b.key.clone();
            let mut keys = self.ballot_keys.lock().expect("lock");
            if !keys.contains(&key) {
                keys.push(key.clone());
                let mut ballots = self.ballots.lock().expect("lock");
                let slot = (b.installation.clone(), b.consultation_id.clone());
                if ballots.get(&slot).is_none_or(|old| old.seq < b.seq) {
                    ballots.insert(slot, b);
                }
            }
            key
        } else {
            panic!("unexpected URL {url}")
        };
        if behaviour == Behaviour::DropAck {
            return Err(TransportError::Timeout);
        }
        let ack = Ack { key, status: "stored".into() };
        Ok(Fetched { status: 200, body: serde_json::to_vec(&ack).expect("json"), total_size: None })
    }
}

#[test]
fn consent_is_off_by_default_and_no_flow_makes_a_request_without_it() {
    let p = phone();
    let net = FakeCity::new(Behaviour::Answer);
    let consent = p.guide.consent().expect("consent");
    assert!(!consent.updates && !consent.feedback && !consent.location, "all off on a new phone");

    // Queueing works offline and without consent; sending does not.
    p.guide.submit_feedback(&draft("cathedral", "damage", "The door is broken."), NOW).expect("queued");
    p.guide.vote("mini", "park-benches", "more-trees", NOW).expect("ballot queued");
    let err = p.guide.flush_outbox(&net, SERVER, NOW).expect_err("no consent");
    assert!(matches!(err, CitizenError::ConsentRequired { scope: ConsentScope::Feedback }), "{err}");
    // A located report needs the location consent, even with the feedback consent on.
    p.guide.set_consent(ConsentScope::Updates, true, NOW).expect("updates on does not cover feedback");
    let mut located = draft("cathedral", "damage", "Broken step here.");
    located.location = Some(ReportLocation { lat: 43.205, lon: 27.91, accuracy_m: Some(8.0) });
    let err = p.guide.submit_feedback(&located, NOW).expect_err("no location consent");
    assert!(matches!(err, CitizenError::ConsentRequired { scope: ConsentScope::Location }), "{err}");
    assert!(p.guide.flush_outbox(&net, SERVER, NOW).is_err(), "updates consent does not allow sending feedback");
    assert_eq!(net.requests(), Vec::new(), "zero requests without the consent");
    assert_eq!(p.guide.outbox().expect("outbox").len(), 2, "the located report was not stored");

    p.guide.set_consent(ConsentScope::Feedback, true, NOW).expect("on");
    let report = p.guide.flush_outbox(&net, SERVER, NOW).expect("flush");
    assert_eq!((report.attempted, report.acknowledged), (2, 2));
    assert_eq!(net.requests().len(), 2);
    // Withdrawn again: the next flush is refused before any request.
    p.guide.submit_feedback(&draft("cathedral", "other", "Thanks!"), NOW).expect("queued");
    p.guide.set_consent(ConsentScope::Feedback, false, NOW).expect("off");
    assert!(p.guide.flush_outbox(&net, SERVER, NOW + 1).is_err());
    assert_eq!(net.requests().len(), 2);
}

#[test]
fn bad_reports_are_refused_before_anything_is_stored() {
    let p = phone();
    let cases: Vec<(FeedbackDraft, &str)> = vec![
        (draft("cathedral", "damage", "   "), "text is empty"),
        (draft("cathedral", "graffiti", "Paint on the wall."), "not one of"),
        (draft("cathedral", "damage", &"x".repeat(MAX_TEXT_CHARS + 1)), "at most"),
        (draft("no-such-place", "damage", "Broken."), "no place no-such-place"),
        (FeedbackDraft { place_id: None, ..draft("x", "damage", "Broken.") }, "a place or a location"),
        (FeedbackDraft { rating: Some(9), ..draft("cathedral", "rating", "") }, "1 to 5"),
        (FeedbackDraft { city_id: "atlantis".into(), ..draft("cathedral", "damage", "Broken.") }, "not installed"),
    ];
    for (d, want) in cases {
        let err = p.guide.submit_feedback(&d, NOW).expect_err(want);
        assert!(err.to_string().contains(want), "{err} should say {want:?}");
    }
    assert!(p.guide.outbox().expect("outbox").is_empty());
    let rating = FeedbackDraft { rating: Some(5), ..draft("cathedral", "rating", "") };
    let item = p.guide.submit_feedback(&rating, NOW).expect("a rating needs no text");
    assert_eq!(item.status, OutboxStatus::Queued);
}

#[test]
fn reports_go_to_the_office_for_their_category_and_place() {
    let p = phone();
    let office = |place: Option<&str>, cat: &str| p.guide.feedback_office("mini", place, cat).expect("route").office;
    // archaeological-museum is in museum.archaeology (child of museum) and museum: the museum's route wins.
    assert_eq!(office(Some("archaeological-museum"), "information"), "Regional Museum of History");
    assert_eq!(office(Some("roman-thermae"), "information"), "Regional Museum of History");
    assert_eq!(office(Some("cathedral"), "information"), "Culture Directorate");
    assert_eq!(office(Some("archaeological-museum"), "damage"), "Municipal Maintenance");
    assert_eq!(office(None, "safety"), "Municipal Police");
    let item = p.guide.submit_feedback(&draft("roman-thermae", "information", "Wrong hours."), NOW).expect("ok");
    assert_eq!(item.office.as_deref(), Some("Regional Museum of History"));
    let sent: FeedbackRequest = serde_json::from_str(&item.payload).expect("payload");
    assert_eq!(sent.office, "Regional Museum of History");
    assert_eq!(sent.installation, p.guide.installation_key().expect("key"));
    assert_eq!(sent.key, item.key);
}

#[test]
fn a_lost_acknowledgement_is_retried_with_the_same_key_and_stored_once() {
    let p = phone();
    p.guide.set_consent(ConsentScope::Feedback, true, NOW).expect("on");
    let net = FakeCity::new(Behaviour::DropAck);
    let item = p.guide.submit_feedback(&draft("cathedral", "damage", "Cracked step."), NOW).expect("queued");

    let r1 = p.guide.flush_outbox(&net, SERVER, NOW).expect("flush");
    assert_eq!((r1.attempted, r1.acknowledged, r1.pending), (1, 0, 1));
    let after = p.guide.outbox_item(&item.key).expect("read").expect("item");
    assert_eq!(after.status, OutboxStatus::Sent, "the request left, the answer did not come back");
    assert_eq!(net.reports.lock().expect("lock").len(), 1, "the server applied it");

    // Not due yet: a flush now sends nothing.
    let r2 = p.guide.flush_outbox(&net, SERVER, NOW + 1).expect("flush");
    assert_eq!(r2.attempted, 0);

    net.set(Behaviour::Answer);
    let r3 = p.guide.flush_outbox(&net, SERVER, after.next_attempt_at).expect("flush");
    assert_eq!(r3.acknowledged, 1);
    let done = p.guide.outbox_item(&item.key).expect("read").expect("item");
    assert_eq!(done.status, OutboxStatus::Acknowledged);
    assert_eq!(done.attempts, 2);
    let posts: Vec<_> = net.requests();
    assert_eq!(posts.len(), 2, "sent twice");
    assert_eq!(net.reports.lock().expect("lock").len(), 1, "stored once");
    // Nothing more to send.
    assert_eq!(p.guide.flush_outbox(&net, SERVER, NOW + 10 * 86_400).expect("flush").attempted, 0);
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_cap_on_a_fake_clock() {
    let p = phone();
    p.guide.set_consent(ConsentScope::Feedback, true, NOW).expect("on");
    // The server never answers: every attempt times out.
    struct Silent;
    impl Transport for Silent {
        fn get(&self, _: &str, _: Option<(u64, u64)>, _: u64) -> Result<Fetched, TransportError> {
            Err(TransportError::Timeout)
        }
        fn post(&self, _: &str, _: &str, _: &[u8], _: u64) -> Result<Fetched, TransportError> {
            Err(TransportError::Timeout)
        }
    }
    let backoff = Backoff { base_s: 10, cap_s: 600 };
    let item = p.guide.submit_feedback(&draft("cathedral", "damage", "Loose tile."), NOW).expect("queued");
    let mut now = NOW;
    let mut delays = Vec::new();
    for attempt in 1..=12u32 {
        let r = p.guide.flush_outbox_with(&Silent, SERVER, now, &backoff).expect("flush");
        assert_eq!(r.attempted, 1, "attempt {attempt} is due");
        let it = p.guide.outbox_item(&item.key).expect("read").expect("item");
        assert_eq!(it.attempts, attempt);
        let delay = it.next_attempt_at - now;
        let ceiling = (10i64 << (attempt - 1)).min(600);
        assert_eq!(backoff.ceiling(attempt), ceiling);
        assert!(
            delay >= ceiling / 2 && delay <= ceiling,
            "attempt {attempt}: {delay} s not in [{}, {ceiling}]",
            ceiling / 2
        );
        // One second before it is due, nothing is sent.
        let early = p.guide.flush_outbox_with(&Silent, SERVER, it.next_attempt_at - 1, &backoff).expect("flush");
        assert_eq!(early.attempted, 0);
        assert_eq!(early.next_attempt_at, Some(it.next_attempt_at));
        delays.push(delay);
        now = it.next_attempt_at;
    }
    assert!(delays.iter().all(|d| *d <= 600), "capped: {delays:?}");
    assert!(delays[8..].iter().all(|d| *d >= 300), "at the cap the wait stays between cap/2 and cap: {delays:?}");
    // Jitter: the drawn delays are not all the same multiple of the ceiling.
    let draws: Vec<i64> = (0..64).map(|i| backoff.delay(12, i * 7919)).collect();
    assert!(draws.iter().any(|d| *d != draws[0]));
    assert!(draws.iter().all(|d| (300..=600).contains(d)));
}

#[test]
fn the_server_refusing_a_report_marks_it_rejected_with_the_reason() {
    let p = phone();
    p.guide.set_consent(ConsentScope::Feedback, true, NOW).expect("on");
    let net = FakeCity::new(Behaviour::Refuse);
    let item = p.guide.submit_feedback(&draft("cathedral", "other", "Hello."), NOW).expect("queued");
    let r = p.guide.flush_outbox(&net, SERVER, NOW).expect("flush");
    assert_eq!(r.rejected, 1);
    let it = p.guide.outbox_item(&item.key).expect("read").expect("item");
    assert_eq!(it.status, OutboxStatus::Rejected);
    assert_eq!(it.reason.as_deref(), Some("text is too rude"));
    // Offline: stays queued, nothing is lost.
    net.set(Behaviour::Offline);
    let queued = p.guide.submit_feedback(&draft("cathedral", "other", "Again."), NOW).expect("queued");
    p.guide.flush_outbox(&net, SERVER, NOW).expect("flush");
    let q = p.guide.outbox_item(&queued.key).expect("read").expect("item");
    assert_eq!((q.status, q.attempts, q.reason.as_deref()), (OutboxStatus::Queued, 1, Some("offline")));
}

#[test]
fn one_ballot_per_installation_changeable_until_the_consultation_closes() {
    let p = phone();
    let list = p.guide.consultations("mini", NOW).expect("list");
    assert_eq!(list.len(), 2);
    let benches = list.iter().find(|c| c.id == "park-benches").expect("benches");
    assert!(benches.open);
    assert_eq!(benches.title.text, "Benches in the park");
    assert_eq!(benches.options.len(), 3);
    assert_eq!(benches.options[1].label.lang, "bg", "falls back to the default language where English is missing");
    assert!(!list.iter().find(|c| c.id == "old-square").expect("old").open);

    let err = p.guide.vote("mini", "old-square", "fountain", NOW).expect_err("closed");
    assert!(matches!(err, CitizenError::ConsultationClosed { .. }), "{err}");
    let err = p.guide.vote("mini", "park-benches", "swings", NOW).expect_err("unknown option");
    assert!(err.to_string().contains("more-benches, more-trees, keep"), "{err}");
    assert!(p.guide.vote("mini", "nope", "x", NOW).is_err());
    assert!(p.guide.outbox().expect("outbox").is_empty(), "refused votes store nothing");

    let first = p.guide.vote("mini", "park-benches", "more-benches", NOW).expect("vote");
    let again = p.guide.vote("mini", "park-benches", "more-benches", NOW + 5).expect("same vote");
    assert_eq!(first, again, "the same choice twice queues nothing new");
    let changed = p.guide.vote("mini", "park-benches", "more-trees", NOW + 10).expect("change");
    assert_eq!(changed.seq, 2);
    let ballots = p.guide.ballots().expect("ballots");
    assert_eq!(ballots.len(), 1, "one ballot per consultation");
    assert_eq!(ballots[0].option_id, "more-trees");
    let outbox = p.guide.outbox().expect("outbox");
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0].status, OutboxStatus::Rejected, "the older, unsent ballot was withdrawn");
    assert_eq!(outbox[0].reason.as_deref(), Some("replaced by a later vote"));

    // Send, then change again after the first reached the server: the server keeps the later one.
    p.guide.set_consent(ConsentScope::Feedback, true, NOW).expect("on");
    let net = FakeCity::new(Behaviour::Answer);
    p.guide.flush_outbox(&net, SERVER, NOW + 20).expect("flush");
    p.guide.vote("mini", "park-benches", "keep", NOW + 30).expect("change after sending");
    p.guide.flush_outbox(&net, SERVER, NOW + 40).expect("flush");
    let server = net.ballots.lock().expect("lock");
    assert_eq!(server.len(), 1, "one ballot per installation at the server");
    let b = server.values().next().expect("ballot");
    assert_eq!((b.option_id.as_str(), b.seq), ("keep", 3));
    assert_eq!(b.installation, p.guide.installation_key().expect("key"));
    assert!(p.guide.outbox().expect("outbox").iter().all(|i| i.kind == OutboxKind::Ballot));
    let shown = p.guide.consultations("mini", NOW).expect("list");
    let mine = shown.iter().find(|c| c.id == "park-benches").and_then(|c| c.my_ballot.clone()).expect("mine");
    assert_eq!((mine.option_id.as_str(), mine.status), ("keep", OutboxStatus::Acknowledged));
    // After the period the phone refuses a change.
    let err = p.guide.vote("mini", "park-benches", "more-trees", 4_102_444_800).expect_err("closed");
    assert!(matches!(err, CitizenError::ConsultationClosed { .. }));
}

#[test]
fn location_is_kept_only_inside_a_located_report_and_only_while_needed() {
    let p = phone();
    p.guide.set_consent(ConsentScope::Location, true, NOW).expect("on");
    let mut d = draft("cathedral", "accessibility", "The ramp is blocked.");
    d.location = Some(ReportLocation { lat: 43.2051234, lon: 27.9101234, accuracy_m: Some(5.0) });
    let item = p.guide.submit_feedback(&d, NOW).expect("queued");
    assert!(item.payload.contains("43.2051234"));
    let mut only_position = d.clone();
    only_position.place_id = None;
    let pos_item = p.guide.submit_feedback(&only_position, NOW).expect("queued");
    // Withdrawing the consent removes the position from waiting reports; one that had only a position is withdrawn.
    p.guide.set_consent(ConsentScope::Location, false, NOW + 1).expect("off");
    for it in p.guide.outbox().expect("outbox") {
        assert!(!it.payload.contains("43.2051234"), "{}", it.payload);
    }
    let pos = p.guide.outbox_item(&pos_item.key).expect("read").expect("item");
    assert_eq!(pos.status, OutboxStatus::Rejected);

    // With consent, an acknowledged report's position is dropped from the phone's copy.
    p.guide.set_consent(ConsentScope::Location, true, NOW + 2).expect("on");
    p.guide.set_consent(ConsentScope::Feedback, true, NOW + 2).expect("on");
    let again = p.guide.submit_feedback(&d, NOW + 3).expect("queued");
    let net = FakeCity::new(Behaviour::Answer);
    p.guide.flush_outbox(&net, SERVER, NOW + 4).expect("flush");
    let server_copy = net.reports.lock().expect("lock")[&again.key].clone();
    assert_eq!(server_copy.location.map(|l| l.lat), Some(43.2051234), "the office got the position");
    let local = p.guide.outbox_item(&again.key).expect("read").expect("item");
    assert_eq!(local.status, OutboxStatus::Acknowledged);
    assert!(!local.payload.contains("43.2051234"), "the phone keeps no copy after acknowledgement");
}

fn fill(p: &Phone, canary: &str) {
    let g = &p.guide;
    g.set_consent(ConsentScope::Feedback, true, NOW).expect("consent");
    g.add_favourite("mini", "cathedral").expect("fav");
    g.mark_visited("mini", "roman-thermae").expect("visit");
    g.mark_visited("mini", "roman-thermae").expect("visit");
    g.set_note("mini", "clock-tower", &format!("note {canary}")).expect("note");
    g.submit_feedback(&draft("cathedral", "suggestion", &format!("More signs {canary}")), NOW).expect("report");
    g.vote("mini", "park-benches", "keep", NOW).expect("vote");
}

#[test]
fn export_then_import_restores_the_same_state_and_a_bad_file_changes_nothing() {
    let a = phone();
    fill(&a, "ROUNDTRIP");
    let json = a.guide.export_user_data(NOW).expect("export");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["format"], "cityguide-user-data");
    for field in ["favourites", "visits", "notes", "outbox", "ballots"] {
        assert!(!doc[field].as_array().expect(field).is_empty(), "{field} exported");
    }
    assert_eq!(doc["settings"]["consent"]["feedback"], true);

    let b = phone();
    b.guide.add_favourite("mini", "roman-thermae").expect("existing data on the new phone");
    let counts = b.guide.import_user_data(&json, NOW).expect("import");
    assert_eq!((counts.favourites, counts.visits, counts.notes, counts.outbox, counts.ballots), (1, 2, 1, 2, 1));
    assert_eq!(b.guide.export_user_data(NOW).expect("export"), json, "the same state, field by field");
    assert_eq!(b.guide.installation_key().expect("key"), a.guide.installation_key().expect("key"));
    assert_eq!(b.guide.notes().expect("notes")[0].note.as_deref(), Some("note ROUNDTRIP"));

    for bad in [
        "not json".to_owned(),
        json.replace("cityguide-user-data", "something-else"),
        json.replacen("\"installation_key\": \"", "\"installation_key\": \"zz", 1),
        json.replacen("\"outbox_key\": \"", "\"outbox_key\": \"00", 1),
    ] {
        let err = b.guide.import_user_data(&bad, NOW).expect_err("refused");
        assert!(matches!(err, CitizenError::InvalidExport(_)), "{err}");
        assert_eq!(b.guide.export_user_data(NOW).expect("export"), json, "nothing changed");
    }
}

#[test]
fn erase_removes_every_trace_from_the_database_file_and_its_log() {
    let p = phone();
    let canary = "CANARY-7f3a9c";
    fill(&p, canary);
    let key = p.guide.installation_key().expect("key");
    let db_path = p.guide.data_dir().join("guide.db");
    let wal_path = db_path.with_extension("db-wal");
    let on_disk = |needle: &str| {
        let mut bytes = std::fs::read(&db_path).expect("db");
        bytes.extend(std::fs::read(&wal_path).unwrap_or_default());
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    assert!(on_disk(canary), "the canary is on disk before the erase (so the check below can fail)");

    let counts = p.guide.erase_user_data().expect("erase");
    assert_eq!((counts.favourites, counts.visits, counts.notes, counts.outbox, counts.ballots), (1, 2, 1, 2, 1));
    assert!(!on_disk(canary), "the canary is gone from guide.db and guide.db-wal");
    assert!(!on_disk(&key), "the installation key is gone");
    let data = p.guide.user_data(NOW).expect("data");
    assert!(data.favourites.is_empty() && data.visits.is_empty() && data.notes.is_empty());
    assert!(data.outbox.is_empty() && data.ballots.is_empty());
    assert!(!data.settings.consent.feedback, "consent is back to off");
    assert_eq!(data.settings.installation_key, None);
    // The city stays installed and usable; a new installation key is made on next use.
    assert_eq!(p.guide.installed().expect("installed").len(), 1);
    assert_ne!(p.guide.installation_key().expect("new key"), key);
}
