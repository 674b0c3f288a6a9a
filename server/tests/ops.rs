//! Running the server, on both back ends: health, readiness and metrics; the static site with byte ranges and
//! nothing outside it; migrations that run once and refuse a newer database; a graceful stop that lets a request in
//! flight finish.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

#[test]
fn health_readiness_metrics_and_the_static_site() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let site = tmp.path().join("site");
        std::fs::create_dir_all(site.join("packs")).expect("site");
        std::fs::write(site.join("catalog.json"), b"{\"catalog\": 1}").expect("write");
        std::fs::copy(&pack, site.join("packs/mini.pack")).expect("copy");
        let s = start(b, tmp.path(), &pack, |c| c.server.site = Some(site.clone()));
        assert_eq!(get(&format!("{}healthz", s.url), &[]).status, 200);
        let ready = get(&format!("{}readyz", s.url), &[]);
        assert_eq!((ready.status, ready.body.trim()), (200, "ready"));

        let full = get(&format!("{}catalog.json", s.url), &[]);
        assert_eq!((full.status, full.body.as_str()), (200, "{\"catalog\": 1}"));
        let part = get(&format!("{}packs/mini.pack", s.url), &[("Range", "bytes=4-7")]);
        assert_eq!(part.status, 206);
        let len = std::fs::metadata(&pack).expect("meta").len();
        assert_eq!(part.header("content-range"), Some(format!("bytes 4-7/{len}").as_str()));
        assert_eq!(part.body.len(), 4);
        let beyond = get(&format!("{}packs/mini.pack", s.url), &[("Range", &format!("bytes={}-", len + 10))]);
        assert_eq!(beyond.status, 416);
        let head = agent().head(&format!("{}catalog.json", s.url)).call().expect("head");
        assert_eq!(head.status(), 200);
        // Raw paths that try to leave the site.
        let addr = s.url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        for path in ["/../Cargo.toml", "/%2e%2e/%2e%2e/etc/passwd", "/packs/..%2f..%2fcatalog.json"] {
            let mut c = TcpStream::connect(&addr).expect("connect");
            c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).expect("w");
            let mut out = String::new();
            let _ = c.read_to_string(&mut out);
            assert!(out.starts_with("HTTP/1.1 404") || out.starts_with("HTTP/1.1 400"), "{path}: {out}");
        }
        assert_eq!(post(&format!("{}catalog.json", s.url), "application/json", b"{}", &[]).status, 404);
        // Open311 documents and pages are compressed for clients that accept it; pack bytes never are (ranges stay
        // byte-exact).
        let raw = |path: &str, extra: &str| {
            let mut c = TcpStream::connect(&addr).expect("connect");
            c.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n{extra}Connection: close\r\n\r\n")
                    .as_bytes(),
            )
            .expect("w");
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out);
            let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
            text.split("\r\n\r\n").next().unwrap_or("").to_owned()
        };
        assert!(raw("/open311/v2/services.json", "").contains("content-encoding: gzip"));
        let head = raw("/packs/mini.pack", "Range: bytes=0-99\r\n");
        assert!(head.starts_with("http/1.1 206") && !head.contains("content-encoding"), "{head}");

        let metrics = get(&format!("{}metrics", s.url), &[]);
        assert!(metrics.header("content-type").is_some_and(|c| c.starts_with("text/plain; version=0.0.4")));
        for want in [
            "cityguide_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
            "cityguide_http_requests_total{method=\"GET\",route=\"static\",status=\"206\"} 2",
            "cityguide_database_up 1",
            "cityguide_deliveries_pending 0",
            "cityguide_http_request_duration_seconds_count",
        ] {
            assert!(metrics.body.contains(want), "metrics lack {want}:\n{}", metrics.body);
        }
        s.stop();
    });
}

#[test]
fn migrations_run_once_and_a_newer_database_is_refused() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let url = b.fresh_url(tmp.path());
        let db = cityguide_server::db::Db::open(&url, 1).expect("first open migrates");
        let n =
            db.run_blocking(|c| c.one("SELECT count(*) FROM schema_migrations", &[])).expect("db").expect("row").i(0);
        assert_eq!(n as usize, cityguide_server::db::MIGRATIONS.len());
        let again = db.run_blocking(cityguide_server::db::migrate).expect("again");
        assert_eq!(again, 0, "nothing to do the second time");
        db.run_blocking(|c| {
            c.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)", &[])
        })
        .expect("insert");
        drop(db);
        let e = cityguide_server::db::Db::open(&url, 1).err().expect("refused");
        assert!(e.to_string().contains("newer than this server knows"), "{e}");
    });
}

#[test]
fn a_graceful_stop_lets_the_request_in_flight_finish() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let addr = s.url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let body = serde_json::json!({
            "v": 1, "key": "e".repeat(32), "installation": "a".repeat(64), "city_id": "mini",
            "office": "Municipal Maintenance", "category": "damage", "place_id": "cathedral", "text": "Slow one",
            "created_at": 1
        })
        .to_string();
        let mut c = TcpStream::connect(&addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let head = format!(
            "POST /v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        c.write_all(head.as_bytes()).expect("head");
        c.write_all(&body.as_bytes()[..10]).expect("part");
        std::thread::sleep(Duration::from_millis(300));
        let db_url = s.db_url.clone();
        let stopper = std::thread::spawn(move || s.stop());
        std::thread::sleep(Duration::from_millis(300));
        assert!(TcpStream::connect(&addr).is_err() || !stopper.is_finished(), "no new connections while stopping");
        c.write_all(&body.as_bytes()[10..]).expect("rest");
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        assert!(out.starts_with("HTTP/1.1 200"), "the request in flight was answered: {out}");
        stopper.join().expect("stopped");
        let db = cityguide_server::db::Db::open(&db_url, 1).expect("db");
        assert_eq!(db.run_blocking(|c| c.one("SELECT count(*) FROM reports", &[])).expect("db").expect("row").i(0), 1);
    });
}
