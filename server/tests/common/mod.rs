//! What the server tests share: a server per back end (embedded SQLite in a temporary directory, and PostgreSQL
//! when `scripts/test-postgres.sh` provides one), the mini city's pack with consultations, a simulated phone, and
//! small HTTP helpers.
//!
//! Every test body runs once per back end through [`each_backend`]. With `CITYGUIDE_REQUIRE_POSTGRES=1` (the test
//! script sets it) a missing `CITYGUIDE_TEST_POSTGRES_URL` fails the test instead of running SQLite alone.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use cityguide_core::citizen::ConsentScope;
use cityguide_core::{Guide, GuideConfig};
use cityguide_server::{Background, Config};

/// A back end to run a test on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite in this directory.
    Sqlite,
    /// PostgreSQL: the admin URL from the test script.
    Postgres(String),
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// A fresh, empty database URL for one server.
    pub fn fresh_url(&self, dir: &Path) -> String {
        match self {
            Backend::Sqlite => format!("sqlite:{}", dir.join(format!("inbox-{}.db", random())).display()),
            Backend::Postgres(admin) => {
                let name = format!("cg_{}", random());
                let mut client =
                    postgres::Client::connect(admin, postgres::NoTls).expect("the test PostgreSQL answers");
                client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
                let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
                format!("{base}/{name}")
            }
        }
    }
}

fn random() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The back ends this run covers.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match std::env::var("CITYGUIDE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => out.push(Backend::Postgres(url)),
        _ => {
            assert!(
                std::env::var("CITYGUIDE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "CITYGUIDE_REQUIRE_POSTGRES=1 but CITYGUIDE_TEST_POSTGRES_URL is not set: PostgreSQL did not start"
            );
            eprintln!(
                "note: CITYGUIDE_TEST_POSTGRES_URL is not set; this run covers SQLite only (scripts/test.sh covers both)"
            );
        }
    }
    out
}

/// Runs `body` once per back end, naming the back end when it fails.
pub fn each_backend(body: impl Fn(&Backend)) {
    for b in backends() {
        eprintln!("--- on {}", b.name());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&b)));
        if let Err(e) = result {
            eprintln!("--- failed on {}", b.name());
            std::panic::resume_unwind(e);
        }
    }
}

/// The repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// The mini city with three consultations (one option; up to two; a budget), built into `dir/mini.pack`.
pub fn mini_pack(dir: &Path) -> PathBuf {
    let src = dir.join("mini-src");
    copy_dir(&repo().join("data/fixtures/mini"), &src);
    std::fs::write(
        src.join("consultations.csv"),
        "id,options,opens,closes,rule,max_choices,budget,currency,costs\n\
         benches,yes;no,2000-01-01,2100-01-01,,,,,\n\
         parks,north;south;east,2000-01-01,2100-01-01,up_to,2,,,\n\
         budget,library;playground;fountain,2000-01-01,2100-01-01,budget,,100000,EUR,60000;50000;30000\n",
    )
    .expect("write");
    let mut bg = std::fs::read_to_string(src.join("texts/bg.csv")).expect("read");
    for (c, opts) in [
        ("benches", ["yes", "no", ""]),
        ("parks", ["north", "south", "east"]),
        ("budget", ["library", "playground", "fountain"]),
    ] {
        bg += &format!("consultation,{c},Заглавие {c},Въпрос {c}?,,\n");
        for o in opts.iter().filter(|o| !o.is_empty()) {
            bg += &format!("option,{c}/{o},Вариант {o},,,\n");
        }
    }
    std::fs::write(src.join("texts/bg.csv"), bg).expect("write");
    let built = cityguide_publisher::build::build_pack(&src, &Default::default()).unwrap_or_else(|f| {
        panic!("mini builds: {:?}", f.diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>())
    });
    let pack = dir.join("mini.pack");
    std::fs::write(&pack, &built.bytes).expect("write pack");
    pack
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// A server under test.
pub struct TestServer {
    /// Base URL, ending in `/`.
    pub url: String,
    /// The database URL.
    pub db_url: String,
    /// The running server (stopped on drop).
    pub server: Option<Background>,
}

impl TestServer {
    /// Stops it gracefully.
    pub fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }

    /// A connection to its database, for checks.
    pub fn db(&self) -> cityguide_server::db::Db {
        cityguide_server::db::Db::open(&self.db_url, 2).expect("open db")
    }

    /// `SELECT count(*)` of a table.
    pub fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        self.db().run_blocking(|c| c.one(&sql, &[])).expect("count").map_or(0, |r| r.i(0))
    }
}

/// Starts a server on loopback with the mini pack, on `backend`, after `tweak` changes the config.
pub fn start(backend: &Backend, dir: &Path, pack: &Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let mut c = Config::default();
    c.server.listen = "127.0.0.1:0".into();
    c.server.secure_cookies = false;
    c.database.url = backend.fresh_url(dir);
    c.city.packs = vec![pack.to_path_buf()];
    c.city.reference_prefix = "MINI".into();
    c.city.jurisdiction_id = "mini.example".into();
    c.delivery.interval_s = 1;
    c.delivery.retry_base_s = 1;
    tweak(&mut c);
    let db_url = c.database.url.clone();
    let server = Background::start(c, false).expect("the server starts");
    TestServer { url: format!("http://{}/", server.addr), db_url, server: Some(server) }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// Headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy).
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An agent that does not follow redirects and does not treat 4xx as errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let r = r.expect("the server answers");
    let status = r.status().as_u16();
    let headers =
        r.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let bytes = r.into_body().with_config().limit(10 * 1024 * 1024).read_to_vec().unwrap_or_default();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// GET with optional extra headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.call())
}

/// POST raw bytes with a content type and optional extra headers.
pub fn post(url: &str, content_type: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
    let mut req = agent().post(url).header("Content-Type", content_type);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send(body))
}

/// POST a form.
pub fn post_form(url: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(pairs).expect("form");
    post(url, "application/x-www-form-urlencoded", body.as_bytes(), headers)
}

/// A simulated phone with the mini pack installed and the feedback consent given.
pub fn phone(dir: &Path, name: &str, pack: &Path) -> Guide {
    let g = Guide::open(GuideConfig { data_dir: dir.join(name), languages: vec!["en".into()] }).expect("phone");
    g.install_pack_file(pack).expect("install");
    g.set_consent(ConsentScope::Feedback, true, 0).expect("consent");
    g
}

/// The phone's transport.
pub fn transport() -> cityguide_core::update::transport::HttpTransport {
    cityguide_core::update::transport::HttpTransport::default()
}

/// Signs in to the web inbox; returns the session cookie and the CSRF token.
pub fn sign_in(base: &str, name: &str, password: &str) -> (String, String) {
    let r = post_form(&format!("{base}inbox/login"), &[("name", name), ("password", password)], &[]);
    assert_eq!(r.status, 303, "sign-in redirects: {}", r.body);
    assert_eq!(r.header("location"), Some("/inbox/"), "signed in, not sent back: {:?}", r.header("location"));
    let set = r.header("set-cookie").expect("a session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().expect("cookie").to_owned();
    let page = get(&format!("{base}inbox/"), &[("Cookie", &cookie)]);
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| {
            panic!("a CSRF token in the page: {} {:?} {}", page.status, page.header("location"), page.body)
        })
        .to_owned();
    (cookie, csrf)
}

/// Creates a person directly in the database.
pub fn user(s: &TestServer, name: &str, password: &str, role: &str, office: Option<&str>) {
    s.db()
        .run_blocking(|c| cityguide_server::auth::save_user(c, name, password, role, office, "en", 0))
        .expect("save user");
}

/// Creates an API key directly in the database; returns the secret.
pub fn api_key(s: &TestServer, name: &str, office: Option<&str>) -> String {
    s.db().run_blocking(|c| cityguide_server::store::create_api_key(c, name, office, 0)).expect("key")
}
