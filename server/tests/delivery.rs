//! Delivery to offices with their own systems, on both back ends: e-mail through a local SMTP sink started here
//! (after the first attempt failed, so the retry is what delivers), Open311 to another cityguide server acting as
//! the office's system (with our service code mapped to theirs), and a dead-letter list for an office whose system
//! never answers, which the administrator sees and can send again.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cityguide_server::store::{self, Office};
use common::*;

/// A minimal SMTP server that accepts every message and keeps its text.
fn smtp_sink(listener: TcpListener) -> Arc<Mutex<Vec<String>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let out = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let got = got.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let _ = conn.write_all(b"220 sink ESMTP\r\n");
                let mut data = false;
                let mut message = String::new();
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    if data {
                        if line == ".\r\n" {
                            data = false;
                            got.lock().expect("lock").push(std::mem::take(&mut message));
                            let _ = conn.write_all(b"250 queued\r\n");
                        } else {
                            message += &line;
                        }
                    } else {
                        let cmd = line.to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else if cmd.starts_with("DATA") {
                            data = true;
                            b"354 go on\r\n"
                        } else if cmd.starts_with("QUIT") {
                            let _ = conn.write_all(b"221 bye\r\n");
                            break;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = conn.write_all(reply);
                    }
                    line.clear();
                }
            });
        }
    });
    out
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn state(s: &TestServer, reference: &str) -> (String, i64, Option<String>) {
    s.db()
        .run_blocking(|c| {
            c.one(
                "SELECT d.state, d.attempts, d.external_id FROM deliveries d JOIN reports r ON r.id = d.report_id WHERE r.reference = $1",
                &[reference.into()],
            )
        })
        .expect("db")
        .map(|r| (r.s(0), r.i(1), r.os(2)))
        .unwrap_or_default()
}

fn send(s: &TestServer, key: u32, office: &str, category: &str, place: &str) -> String {
    let body = serde_json::json!({
        "v": 1, "key": format!("{key:032x}"), "installation": "a".repeat(64), "city_id": "mini", "office": office,
        "category": category, "place_id": place, "text": format!("Report {key}"), "created_at": 1,
        "contact": "reporter@example.org"
    });
    let r = post(&format!("{}v1/feedback", s.url), "application/json", body.to_string().as_bytes(), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let key = format!("{key:032x}");
    s.db()
        .run_blocking(|c| c.one("SELECT reference FROM reports WHERE key = $1", &[key.into()]))
        .expect("db")
        .expect("row")
        .s(0)
}

#[test]
fn email_open311_retries_and_the_dead_letter_list() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        // A port with nobody listening yet: the first attempt fails.
        let smtp_port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        // The office's own system: another cityguide server, with a key for us.
        let office_system = start(&Backend::Sqlite, tmp.path(), &pack, |c| c.city.reference_prefix = "SYS".into());
        let their_key = api_key(&office_system, "city-of-mini", None);
        let s = start(b, tmp.path(), &pack, |c| {
            c.delivery.smtp_port = smtp_port;
            c.delivery.from = "inbox@mini.example".into();
            c.delivery.attempts = 3;
        });
        let db = s.db();
        db.run_blocking(|c| {
            store::save_office(
                c,
                &Office {
                    name: "Municipal Maintenance".into(),
                    delivery: "email".into(),
                    email: Some("repairs@mini.example".into()),
                    endpoint: None,
                    endpoint_api_key: None,
                    endpoint_jurisdiction: None,
                    service_map: "{}".into(),
                },
                0,
            )?;
            store::save_office(
                c,
                &Office {
                    name: "Regional Museum of History".into(),
                    delivery: "open311".into(),
                    email: None,
                    endpoint: Some(format!("{}open311/v2", office_system.url)),
                    endpoint_api_key: Some(their_key.clone()),
                    endpoint_jurisdiction: Some("mini.example".into()),
                    service_map: r#"{"information": "other"}"#.into(),
                },
                0,
            )?;
            store::save_office(
                c,
                &Office {
                    name: "Municipal Police".into(),
                    delivery: "open311".into(),
                    email: None,
                    endpoint: Some("http://127.0.0.1:1/open311/v2".into()),
                    endpoint_api_key: None,
                    endpoint_jurisdiction: None,
                    service_map: "{}".into(),
                },
                0,
            )
        })
        .expect("offices");

        let mail_ref = send(&s, 1, "Municipal Maintenance", "damage", "cathedral");
        let o311_ref = send(&s, 2, "Regional Museum of History", "information", "archaeological-museum");
        let dead_ref = send(&s, 3, "Municipal Police", "safety", "sea-garden");
        let inbox_only = send(&s, 4, "Culture Directorate", "suggestion", "cathedral");
        assert_eq!(state(&s, &inbox_only).0, "", "an inbox-only office needs no delivery");

        // E-mail: the first attempt finds no relay and is retried; then the sink receives it once.
        wait_for("a failed e-mail attempt", || state(&s, &mail_ref).1 >= 1);
        assert_eq!(state(&s, &mail_ref).0, "pending");
        let mails = smtp_sink(TcpListener::bind(("127.0.0.1", smtp_port)).expect("bind the sink"));
        wait_for("the e-mail", || state(&s, &mail_ref).0 == "delivered");
        let got = mails.lock().expect("lock").clone();
        assert_eq!(got.len(), 1);
        assert!(got[0].contains(&format!("Subject: [{mail_ref}] damage")), "{}", got[0]);
        assert!(got[0].contains("To: repairs@mini.example") && got[0].contains("Report 1"));

        // Open311: the office's system has the report under its own id, with the service code mapped.
        wait_for("the Open311 delivery", || state(&s, &o311_ref).0 == "delivered");
        let (_, _, external) = state(&s, &o311_ref);
        let external = external.expect("their id");
        assert!(external.starts_with("SYS-"), "{external}");
        let theirs = office_system
            .db()
            .run_blocking(|c| store::report_by_reference(c, &external))
            .expect("db")
            .expect("their copy");
        assert_eq!((theirs.category.as_str(), theirs.text.as_str()), ("other", "Report 2"));
        assert_eq!(theirs.source, "open311:city-of-mini");

        // An office whose system never answers: dead after three attempts, shown to the administrator.
        wait_for("the dead letter", || state(&s, &dead_ref).0 == "dead");
        assert_eq!(state(&s, &dead_ref).1, 3);
        user(&s, "admin", "administrator-1", "admin", None);
        let (cookie, csrf) = sign_in(&s.url, "admin", "administrator-1");
        let page = get(&format!("{}inbox/admin", s.url), &[("Cookie", &cookie)]);
        let row = page.body.split(&format!("<tr data-reference=\"{dead_ref}\">")).nth(1).expect("listed");
        assert!(row.contains("Open311"), "the error is shown: {row}");
        let id = s.db().run_blocking(|c| store::report_by_reference(c, &dead_ref)).expect("db").expect("r").id;
        let retry = post_form(
            &format!("{}inbox/admin/deliveries/{id}/retry", s.url),
            &[("csrf", &csrf)],
            &[("Cookie", &cookie)],
        );
        assert_eq!(retry.status, 303);
        let (st, attempts, _) = state(&s, &dead_ref);
        assert!(st == "pending" || attempts < 3, "sent again: {st} {attempts}");
        let metrics = get(&format!("{}metrics", s.url), &[]).body;
        assert!(metrics.contains("cityguide_events_total{event=\"deliveries_delivered\"} 2"), "{metrics}");
        s.stop();
        office_system.stop();
    });
}
