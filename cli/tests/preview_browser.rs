//! `cityguide pack preview` in a real browser: Debian's headless Chromium driven through chromedriver with the W3C
//! WebDriver protocol (plain HTTP and JSON). The page is loaded from a file with no network, a place is clicked on
//! the map, its card checked, the language switched, the filters used, and a screenshot taken.
//!
//! Chromium is installed by `scripts/install-chromium.sh` when missing (scripts/test.sh runs it first); the test
//! fails, saying why, when that is impossible on this machine.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn cityguide(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn found(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

/// Chromium and chromedriver, installed if needed. A machine where they cannot be installed fails the test: a
/// browser test that passes without a browser would prove nothing.
fn browser() {
    if found("chromium") && found("chromedriver") {
        return;
    }
    let script = repo().join("scripts/install-chromium.sh");
    let ok = Command::new("bash").arg(&script).status().is_ok_and(|s| s.success());
    assert!(
        ok && found("chromium") && found("chromedriver"),
        "the preview browser test needs Debian's chromium and chromium-driver, and scripts/install-chromium.sh could \
         not install them (run it as root)"
    );
}

struct Driver {
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
    fn start() -> Driver {
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
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"]
        }}}});
        let v = d.post("/session", &caps);
        d.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
        d
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
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

    fn post(&self, path: &str, body: &Value) -> Value {
        self.send("POST", path, Some(body))
    }

    fn find(&self, css: &str) -> String {
        let v = self.post("/element", &json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("{css}: {v}")).to_owned()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/click"), &json!({}));
    }

    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.send("GET", &format!("/element/{e}/text"), None).as_str().expect("text").to_owned()
    }

    fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", &json!({"script": js, "args": []}))
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

#[test]
fn the_preview_shows_places_cards_languages_filters_and_the_report_in_chromium() {
    browser();
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = tmp.path().join("mini.pack");
    let html = tmp.path().join("preview.html");
    cityguide(&["pack", "build", "data/fixtures/mini", "-o", pack.to_str().expect("path")]);
    cityguide(&["pack", "preview", pack.to_str().expect("path"), "-o", html.to_str().expect("path")]);
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(!page.contains("http://") || !page.contains("<script src"), "no external scripts");
    assert!(!page.contains("<link"), "no external style sheets or fonts");

    let d = Driver::start();
    d.post("/url", &json!({"url": format!("file://{}", html.display())}));
    assert_eq!(d.script("return document.querySelectorAll('circle.place').length"), 5, "every place is drawn");
    assert_eq!(d.script("return document.querySelectorAll('polyline.tour').length"), 1, "the tour path is drawn");
    assert_eq!(d.text("#city"), "Мини", "the default language first");

    // Click a place on the map: its card shows what the phone shows.
    d.click("circle[data-id='archaeological-museum']");
    assert_eq!(d.text("#card-name"), "Археологически музей");
    assert_eq!(d.text("#card-summary"), "Най-старото обработено злато в света.");
    assert!(d.text("#card-easy_read").contains("Тук има много старо злато."));
    assert_eq!(d.text("#card-hours"), "Tu-Su 10:00-17:00; PH off");
    assert!(d.text("#card-access").contains("Step-free access: limited"));
    assert!(d.text("#card-media").contains("Златни накити от некропола"), "alt text of the media");

    // Switch the language: the card follows, and a text missing in German falls back as on the phone.
    d.click("#lang option[value='en']");
    assert_eq!(d.text("#card-name"), "Archaeological Museum");
    assert!(d.text("#card-media").contains("Gold jewellery from the necropolis"));
    assert_eq!(d.text("#city"), "Mini");
    d.click("#lang option[value='de']");
    assert_eq!(d.text("#card-name"), "Archäologisches Museum");
    assert!(d.text("#card-description").contains("Варненския некропол"), "no German description: the default");

    // The list is another way in (keyboard and screen-reader users): it opens the same card.
    d.click("#lang option[value='en']");
    d.click("#places button[data-id='cathedral']");
    assert_eq!(d.text("#card-name"), "Cathedral of the Assumption");

    // Filters: step-free access leaves the one place marked "yes"; unticking a category hides its places.
    d.click("#access option[value='step_free']");
    assert_eq!(
        d.script("return [...document.querySelectorAll('circle.place')].map(c => c.dataset.id)"),
        json!(["sea-garden"])
    );
    d.click("#access option[value='']");
    d.click("input[data-cat='museum']");
    let left = d.script("return [...document.querySelectorAll('circle.place')].map(c => c.dataset.id).sort()");
    assert_eq!(left, json!(["cathedral", "sea-garden"]));
    d.click("input[data-cat='museum']");

    // The report shown is the one `cityguide pack report` prints.
    let report: Value =
        serde_json::from_str(&cityguide(&["pack", "report", pack.to_str().expect("path"), "--json"])).expect("json");
    let de = report["languages"].as_array().expect("langs").iter().find(|l| l["lang"] == "de").expect("de").clone();
    let row = d.text("#report-languages tr[data-lang='de']");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "de",
            &de["names"].to_string(),
            &de["summaries"].to_string(),
            &de["descriptions"].to_string(),
            &de["easy_read"].to_string(),
            &format!("{}/{}", de["media_alt"], report["media"])
        ]
    );
    assert!(d.text("#report-figures").contains(&format!("Opening hours: {}", report["with_opening_hours"])));

    d.click("circle[data-id='archaeological-museum']");
    let png = base64_decode(d.send("GET", "/screenshot", None).as_str().expect("base64"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().expect("w")),
        u32::from_be_bytes(png[20..24].try_into().expect("h")),
    );
    assert!(w >= 1000 && h >= 600, "{w}x{h}");
    assert!(png.len() > 20_000, "a drawn page, not a blank one: {} bytes", png.len());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("preview-mini.png");
    std::fs::write(&out, &png).expect("save the screenshot");
    eprintln!("screenshot: {}", out.display());
}
