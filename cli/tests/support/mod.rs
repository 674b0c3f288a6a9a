//! Shared by the city-server tests that drive the `cityguide` binary: the back ends (embedded SQLite, and the
//! PostgreSQL that `scripts/test-postgres.sh` starts), a `cityguide server --config` process, and a W3C WebDriver
//! client for headless Chromium over plain HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// Runs `cityguide` with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cityguide"));
    c.args(args).current_dir(repo());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("runs")
}

/// Runs `cityguide`, which must succeed; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = run_env(args, &[]);
    assert!(o.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `cityguide` and parses its JSON output.
pub fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("json output")
}

/// A fresh database URL per back end: a SQLite file, or a new database in the test PostgreSQL.
pub fn backends(dir: &Path) -> Vec<(&'static str, String)> {
    let mut out = vec![("sqlite", format!("sqlite:{}", dir.join("inbox.db").display()))];
    match std::env::var("CITYGUIDE_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let mut b = [0u8; 6];
            getrandom::fill(&mut b).expect("random");
            let name = format!("cli_{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>());
            let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("the test PostgreSQL answers");
            client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
            let (base, _) = admin.rsplit_once('/').expect("db in URL");
            out.push(("postgres", format!("{base}/{name}")));
        }
        _ => assert!(
            std::env::var("CITYGUIDE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "CITYGUIDE_REQUIRE_POSTGRES=1 but CITYGUIDE_TEST_POSTGRES_URL is not set"
        ),
    }
    out
}

/// The mini city's pack, built with the `cityguide` binary.
pub fn mini_pack(dir: &Path) -> String {
    let pack = dir.join("mini.pack");
    ok(&["pack", "build", "data/fixtures/mini", "-o", pack.to_str().expect("p")]);
    pack.to_str().expect("p").to_owned()
}

/// A `cityguide server --config` process (killed on drop).
pub struct Server {
    child: Child,
    /// Base URL, ending in `/`.
    pub url: String,
    /// The config file.
    pub config: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Writes `city.toml` for `db_url` and the pack, and starts the server on a free loopback port.
    pub fn start(dir: &Path, db_url: &str, pack: &str) -> Server {
        let config = dir.join("city.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nsecure_cookies = false\n\n[database]\nurl = \"{db_url}\"\n\n\
                 [city]\nreference_prefix = \"MINI\"\njurisdiction_id = \"mini.example\"\npacks = [\"{pack}\"]\n"
            ),
        )
        .expect("config");
        let config = config.to_str().expect("p").to_owned();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cityguide"))
            .args(["server", "--config", &config])
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let url = loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).expect("line") > 0, "the server ended early");
            if let Some(rest) = line.strip_prefix("listening on ") {
                break rest.split_whitespace().next().expect("url").to_owned();
            }
        };
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = out.read_to_string(&mut sink);
        });
        Server { child, url, config }
    }

    /// `cityguide server --config CONFIG user NAME ...` with the password in the environment.
    pub fn user(&self, name: &str, password: &str, extra: &[&str]) {
        let mut args = vec!["server", "--config", &self.config, "user", name];
        args.extend_from_slice(extra);
        let o = run_env(&args, &[("CITYGUIDE_PASSWORD", password)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

fn found(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

/// Chromium and chromedriver, installed if needed; a machine where that is impossible fails the test.
pub fn browser() {
    if found("chromium") && found("chromedriver") {
        return;
    }
    let ok = Command::new("bash").arg(repo().join("scripts/install-chromium.sh")).status().is_ok_and(|s| s.success());
    assert!(
        ok && found("chromium") && found("chromedriver"),
        "the browser tests need Debian's chromium and chromium-driver; scripts/install-chromium.sh could not install them"
    );
}

/// A WebDriver session with headless Chromium.
pub struct Driver {
    child: Child,
    base: String,
    agent: ureq::Agent,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    /// Starts chromedriver and a headless session.
    pub fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut d = Driver { child, base, agent, session: String::new() };
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=bg"],
            "prefs": {"intl.accept_languages": "bg,en"}
        }}}});
        let v = d.post("/session", &caps);
        d.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
        d
    }

    /// One WebDriver command.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            (_, Some(b)) => self.agent.post(&url).header("Content-Type", "application/json").send(b.to_string()),
            (_, None) => self.agent.post(&url).header("Content-Type", "application/json").send("{}"),
        }
        .expect("WebDriver answers");
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().expect("body");
        let v: Value = serde_json::from_str(&text).expect("WebDriver JSON");
        assert!(status < 400, "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    /// POST a command.
    pub fn post(&self, path: &str, body: &Value) -> Value {
        self.send("POST", path, Some(body))
    }

    /// Opens a URL.
    pub fn go(&self, url: &str) {
        self.post("/url", &json!({ "url": url }));
    }

    /// The element a CSS selector finds.
    pub fn find(&self, css: &str) -> String {
        let v = self.post("/element", &json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("{css}: {v}")).to_owned()
    }

    /// Waits (up to 10 s) until a CSS selector finds something; panics with the page's text otherwise.
    pub fn wait(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let js = format!("return document.querySelector({}) !== null", json!(css));
        while self.script(&js) != json!(true) {
            if Instant::now() > deadline {
                let page = self.script("return location.href + '\\n' + document.body.innerText");
                panic!("{css} never appeared; the page: {page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks an element.
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/click"), &json!({}));
    }

    /// Types into an element (after clearing it).
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/clear"), &json!({}));
        self.post(&format!("/element/{e}/value"), &json!({ "text": text }));
    }

    /// The visible text of an element.
    pub fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.send("GET", &format!("/element/{e}/text"), None).as_str().expect("text").to_owned()
    }

    /// Runs a script in the page.
    pub fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", &json!({"script": js, "args": []}))
    }

    /// Presses keys (WebDriver key codes, e.g. "\u{E004}" for Tab) on the focused element.
    pub fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [json!({"type": "keyDown", "value": c.to_string()}), json!({"type": "keyUp", "value": c.to_string()})]
            })
            .collect();
        self.post("/actions", &json!({"actions": [{"type": "key", "id": "kb", "actions": actions}]}));
    }

    /// A PNG screenshot.
    pub fn screenshot(&self) -> Vec<u8> {
        base64_decode(self.send("GET", "/screenshot", None).as_str().expect("base64"))
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).map(val).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
