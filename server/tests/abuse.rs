//! Bad input and abuse, on both back ends: every case gets its documented status (docs/feedback.md, "Statuses"),
//! and nothing stored changes; injected markup and SQL are stored as text and shown escaped in the inbox; 50 slow
//! connections are cut off while health checks keep answering.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

fn report(key: u32, installation: char) -> serde_json::Value {
    serde_json::json!({
        "v": 1, "key": format!("{key:032x}"), "installation": installation.to_string().repeat(64),
        "city_id": "mini", "office": "Municipal Maintenance", "category": "damage", "place_id": "cathedral",
        "text": "Broken bench", "created_at": 1
    })
}

/// Everything stored that a request could change.
fn snapshot(s: &TestServer) -> String {
    s.db()
        .run_blocking(|c| {
            let mut out = String::new();
            for t in [
                "reports",
                "report_updates",
                "ballots",
                "ballot_requests",
                "offices",
                "api_keys",
                "users",
                "deliveries",
            ] {
                out += &format!("{t}={} ", c.one(&format!("SELECT count(*) FROM {t}"), &[])?.map_or(0, |r| r.i(0)));
            }
            for r in c.query(
                "SELECT reference, status, text, office, COALESCE(public_reply, '') FROM reports ORDER BY id",
                &[],
            )? {
                out += &format!("[{}|{}|{}|{}|{}]", r.s(0), r.s(1), r.s(2), r.s(3), r.s(4));
            }
            Ok::<_, cityguide_server::db::DbError>(out)
        })
        .expect("snapshot")
}

#[test]
fn bad_input_gets_its_status_and_changes_nothing() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |c| c.limits.reports_per_hour = 3);
        let client = api_key(&s, "fixmystreet", None);
        let feedback = format!("{}v1/feedback", s.url);
        let requests = format!("{}open311/v2/requests.json", s.url);
        assert_eq!(post(&feedback, "application/json", report(1, 'a').to_string().as_bytes(), &[]).status, 200);
        let before = snapshot(&s);

        let json = |body: &[u8]| post(&feedback, "application/json", body, &[]);
        let mut cases: Vec<(&str, Answer, u16)> = vec![
            ("a body over the phone's 16 KiB", json(&vec![b' '; 17 * 1024]), 413),
            ("a body over the server's 64 KiB", json(&vec![b' '; 100 * 1024]), 413),
            ("invalid UTF-8", json(b"{\"v\":1,\"text\":\"\xff\xfe\"}"), 400),
            ("not JSON", json(b"v=1&key=2"), 400),
            ("text/plain", post(&feedback, "text/plain", report(2, 'a').to_string().as_bytes(), &[]), 415),
            ("a form to the JSON endpoint", post_form(&feedback, &[("v", "1")], &[]), 415),
            ("no content type", post(&feedback, "", report(2, 'a').to_string().as_bytes(), &[]), 415),
            (
                "latitude 91",
                json(
                    report(3, 'a')
                        .as_object()
                        .map(|o| {
                            let mut o = o.clone();
                            o.insert("location".into(), serde_json::json!({"lat": 91.0, "lon": 27.9}));
                            serde_json::Value::Object(o).to_string()
                        })
                        .expect("o")
                        .as_bytes(),
                ),
                400,
            ),
            ("an unknown category", json(report(4, 'a').to_string().replace("damage", "graffiti").as_bytes()), 400),
            (
                "an unknown field",
                json(report(5, 'a').to_string().replace("\"v\":1", "\"v\":1,\"device_id\":\"x\"").as_bytes()),
                400,
            ),
            ("a key replayed by another installation", json(report(1, 'b').to_string().as_bytes()), 409),
            ("an unknown path", post(&format!("{}v1/elsewhere", s.url), "application/json", b"{}", &[]), 404),
            (
                "Open311: a form over 64 KiB",
                post_form(
                    &requests,
                    &[("api_key", &client), ("service_code", "damage"), ("description", &"x".repeat(70_000))],
                    &[],
                ),
                413,
            ),
            (
                "Open311: invalid UTF-8",
                post(&requests, "application/x-www-form-urlencoded", b"api_key=k&description=%ff%fe\xff", &[]),
                400,
            ),
            ("Open311: JSON body", post(&requests, "application/json", b"{}", &[]), 415),
            (
                "Open311: latitude not a number",
                post_form(
                    &requests,
                    &[
                        ("api_key", &client),
                        ("service_code", "damage"),
                        ("lat", "43.2; DROP TABLE reports"),
                        ("long", "27.9"),
                        ("description", "x"),
                    ],
                    &[],
                ),
                400,
            ),
            (
                "Open311: longitude out of range",
                post_form(
                    &requests,
                    &[
                        ("api_key", &client),
                        ("service_code", "damage"),
                        ("lat", "43.2"),
                        ("long", "181"),
                        ("description", "x"),
                    ],
                    &[],
                ),
                400,
            ),
            (
                "Open311: unknown service code",
                post_form(
                    &requests,
                    &[
                        ("api_key", &client),
                        ("service_code", "graffiti"),
                        ("lat", "43.2"),
                        ("long", "27.9"),
                        ("description", "x"),
                    ],
                    &[],
                ),
                404,
            ),
            (
                "Open311: no API key",
                post_form(
                    &requests,
                    &[("service_code", "damage"), ("lat", "43.2"), ("long", "27.9"), ("description", "x")],
                    &[],
                ),
                403,
            ),
            (
                "Open311: wrong API key",
                post_form(
                    &requests,
                    &[
                        ("api_key", "' OR '1'='1"),
                        ("service_code", "damage"),
                        ("lat", "43.2"),
                        ("long", "27.9"),
                        ("description", "x"),
                    ],
                    &[],
                ),
                403,
            ),
            (
                "Open311: description over 4,000 characters",
                post_form(
                    &requests,
                    &[
                        ("api_key", &client),
                        ("service_code", "damage"),
                        ("lat", "43.2"),
                        ("long", "27.9"),
                        ("description", &"я".repeat(4001)),
                    ],
                    &[],
                ),
                400,
            ),
        ];
        for k in 6..8 {
            cases.push(("a fourth report in an hour", json(report(k, 'a').to_string().as_bytes()), 200));
        }
        cases.push(("over the hourly limit", json(report(9, 'a').to_string().as_bytes()), 429));
        let mut stored = 0;
        for (what, a, want) in &cases {
            assert_eq!(a.status, *want, "{what}: {}", a.body);
            if *want == 200 {
                stored += 1;
            } else {
                assert!(
                    a.body.contains("error") || a.body.contains("description") || a.body.contains("length"),
                    "{what} says why: {}",
                    a.body
                );
            }
        }
        assert_eq!(stored, 2);
        // The replay of the stored key by its own installation is a duplicate: 200, nothing new.
        let again = json(report(1, 'a').to_string().as_bytes());
        assert_eq!((again.status, again.json()["status"].as_str()), (200, Some("duplicate")));
        let after = snapshot(&s);
        assert_ne!(before, after, "the two reports within the limit were stored");
        s.db()
            .run_blocking(|c| {
                c.execute(
                    "DELETE FROM report_updates WHERE report_id IN (SELECT id FROM reports WHERE key <> $1)",
                    &[format!("{:032x}", 1).into()],
                )
                .and_then(|_| c.execute("DELETE FROM reports WHERE key <> $1", &[format!("{:032x}", 1).into()]))
            })
            .expect("remove the two good ones");
        assert_eq!(snapshot(&s), before, "no refused request changed anything");
        s.stop();
    });
}

#[test]
fn injected_markup_and_sql_are_stored_as_text_and_shown_escaped() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let client = api_key(&s, "fixmystreet", None);
        let evil = [
            "<script>alert('x')</script>",
            "'; DROP TABLE reports; --",
            "\" onmouseover=\"alert(1)",
            "Robert'); DELETE FROM users WHERE ('1'='1",
            "<img src=x onerror=alert(1)>",
        ];
        let mut phone = report(1, 'a');
        for (field, v) in
            [("text", evil[0]), ("place_name", evil[1]), ("contact", evil[2]), ("photo", evil[4]), ("lang", evil[3])]
        {
            phone[field] = serde_json::json!(v);
        }
        phone["office"] = serde_json::json!("Municipal Maintenance");
        let r = post(&format!("{}v1/feedback", s.url), "application/json", phone.to_string().as_bytes(), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        let o = post_form(
            &format!("{}open311/v2/requests.json", s.url),
            &[
                ("api_key", &client),
                ("service_code", "damage"),
                ("address_string", evil[4]),
                ("description", evil[1]),
                ("first_name", evil[0]),
                ("last_name", evil[3]),
                ("email", evil[2]),
                ("lat", "43.2"),
                ("long", "27.9"),
            ],
            &[],
        );
        assert_eq!(o.status, 200, "{}", o.body);
        assert_eq!(s.count("reports"), 2, "stored, and the tables are still there");
        assert_eq!(s.count("users"), 0);
        user(&s, "maint", "maintenance-pass-1", "staff", Some("Municipal Maintenance"));
        let (cookie, _) = sign_in(&s.url, "maint", "maintenance-pass-1");
        let list = get(&format!("{}inbox/?lang=en", s.url), &[("Cookie", &cookie)]);
        let mut pages = vec![list.body.clone()];
        let mut ids: Vec<&str> =
            list.body.split("href=\"/inbox/reports/").skip(1).filter_map(|x| x.split('"').next()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 2, "both reports are listed");
        for id in ids {
            pages.push(get(&format!("{}inbox/reports/{id}", s.url), &[("Cookie", &cookie)]).body);
        }
        let all = pages.join("\n");
        for raw in ["<script>alert", "<img src=x", "\" onmouseover=\"alert"] {
            assert!(!all.contains(raw), "{raw} must be escaped");
        }
        assert!(all.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(all.contains("&#39;; DROP TABLE reports; --"));
        assert!(all.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(all.contains("&quot; onmouseover=&quot;alert(1)"), "contact details are shown to the office, escaped");
        let csv = get(&format!("{}inbox/export.csv", s.url), &[("Cookie", &cookie)]);
        assert_eq!(csv.status, 200);
        assert!(csv.header("content-type").is_some_and(|c| c.starts_with("text/csv")));
        let mut rdr = csv::Reader::from_reader(csv.body.as_bytes());
        let texts: Vec<String> = rdr.records().map(|r| r.expect("row")[8].to_owned()).collect();
        assert!(texts.contains(&evil[0].to_owned()));
        s.stop();
    });
}

#[test]
fn fifty_slow_connections_are_cut_off_while_health_answers() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |c| {
            c.server.header_timeout_s = 2;
            c.server.request_timeout_s = 2;
        });
        let addr = s.url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let before = snapshot(&s);
        // 40 clients that never finish their headers, 10 that never finish their body.
        let mut conns: Vec<TcpStream> = (0..50)
            .map(|i| {
                let mut c = TcpStream::connect(&addr).expect("connect");
                c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
                let head = if i < 40 {
                    "POST /v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".to_owned()
                } else {
                    "POST /v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"v\":".to_owned()
                };
                c.write_all(head.as_bytes()).expect("write");
                c
            })
            .collect();
        let start = Instant::now();
        let mut health = 0;
        while start.elapsed() < Duration::from_secs(4) {
            let t = Instant::now();
            let h = get(&format!("{}healthz", s.url), &[]);
            assert_eq!(h.status, 200);
            assert!(t.elapsed() < Duration::from_secs(1), "health answered in {:?}", t.elapsed());
            health += 1;
            for c in &mut conns {
                let _ = c.write_all(b"X");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        assert!(health >= 10);
        let mut closed = 0;
        for (i, mut c) in conns.into_iter().enumerate() {
            let mut buf = Vec::new();
            let _ = c.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf);
            if i >= 40 {
                assert!(text.starts_with("HTTP/1.1 408") || buf.is_empty(), "a slow body gets 408 or is cut: {text}");
            }
            closed += 1;
        }
        assert_eq!(closed, 50, "every slow connection was closed by the server");
        assert_eq!(snapshot(&s), before, "nothing stored");
        s.stop();
    });
}

#[test]
fn random_bytes_to_every_endpoint_never_break_the_server() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config as PropConfig, TestRunner};
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let before = snapshot(&s);
        let paths = [
            "v1/feedback",
            "v1/ballots",
            "v1/status",
            "open311/v2/requests.json",
            "open311/v2/servicerequestupdates.xml",
            "inbox/login",
        ];
        let types =
            ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8"];
        let mut runner = TestRunner::new(PropConfig { cases: 48, failure_persistence: None, ..PropConfig::default() });
        runner
            .run(
                &(0..paths.len(), 0..types.len(), prop::collection::vec(any::<u8>(), 0..400), "\\PC{0,120}"),
                |(p, t, bytes, text)| {
                    for body in [bytes.as_slice(), text.as_bytes()] {
                        let a = post(&format!("{}{}", s.url, paths[p]), types[t], body, &[]);
                        prop_assert!(
                            [200, 303, 400, 403, 404, 409, 413, 415, 422, 429].contains(&a.status),
                            "{} {}: {} {}",
                            paths[p],
                            types[t],
                            a.status,
                            a.body
                        );
                    }
                    Ok(())
                },
            )
            .expect("no request breaks the server");
        assert_eq!(get(&format!("{}healthz", s.url), &[]).status, 200);
        assert_eq!(snapshot(&s), before, "random bytes stored nothing");
        s.stop();
    });
}
