//! The office inbox in a real browser (headless Chromium through chromedriver), against `cityguide server
//! --config` on embedded SQLite and on PostgreSQL: a citizen's phone reports from the shell, a staff member signs
//! in with the keyboard, triages the report with a public reply, and the phone sees the new status through the
//! core; a staff member of another office can neither see nor change it, by URL either.

mod support;

use support::*;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

fn phone(dir: &std::path::Path, pack: &str) -> String {
    let p = dir.join("phone").to_str().expect("p").to_owned();
    ok(&["explore", "--data-dir", &p, "install", pack]);
    ok(&["explore", "--data-dir", &p, "consent", "set", "feedback", "on"]);
    p
}

#[test]
fn staff_triage_a_report_in_chromium_and_the_phone_sees_it() {
    browser();
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = mini_pack(tmp.path());
    for (backend, db) in backends(tmp.path()) {
        eprintln!("--- on {backend}");
        let dir = tmp.path().join(backend);
        std::fs::create_dir_all(&dir).expect("dir");
        let server = Server::start(&dir, &db, &pack);
        server.user("maint", "maintenance-pass-1", &["--office", "Municipal Maintenance"]);
        server.user("museum", "museum-password-1", &["--office", "Regional Museum of History", "--lang", "en"]);
        let p = phone(&dir, &pack);
        let item = json(&[
            "explore",
            "--data-dir",
            &p,
            "feedback",
            "send",
            "--place",
            "cathedral",
            "--category",
            "damage",
            "--text",
            "The bench <by the door> is broken",
            "--json",
        ]);
        let key = item["key"].as_str().expect("key").to_owned();
        let flushed = json(&["explore", "--data-dir", &p, "outbox", "flush", "--server", &server.url, "--json"]);
        assert_eq!(flushed["acknowledged"], 1, "{flushed}");

        let d = Driver::start();
        d.go(&format!("{}inbox/", server.url));
        d.wait("#name");
        assert!(d.script("return location.pathname").as_str() == Some("/inbox/login"), "sent to sign in");
        assert_eq!(d.script("return document.documentElement.lang"), "bg");
        // Every control has a label; the first Tab reaches the skip link.
        let unlabelled = d.script(
            "return [...document.querySelectorAll('input:not([type=hidden]),select,textarea')]\
             .filter(e => !(e.labels && e.labels.length)).length",
        );
        assert_eq!(unlabelled, 0);
        d.keys(TAB);
        assert_eq!(d.script("return document.activeElement.className"), "skip");
        // Sign in with the keyboard alone: type, Tab, type, Enter.
        d.click("#name");
        d.keys("maint");
        d.keys(TAB);
        d.keys("maintenance-pass-1");
        d.keys(ENTER);
        d.wait("tbody tr");
        assert_eq!(d.script("return location.pathname"), "/inbox/");
        let row = d.text("tbody tr");
        assert!(row.contains("The bench <by the door> is broken"), "shown as text: {row}");
        assert!(row.contains("Отворен"), "status in Bulgarian: {row}");
        let reference = d.script("return document.querySelector('tbody tr').dataset.reference");
        let reference = reference.as_str().expect("reference").to_owned();
        assert!(reference.starts_with("MINI-"), "{reference}");

        // Open it, set "in progress" with a public reply, save.
        d.click("tbody tr th a");
        d.wait("#report-text");
        assert_eq!(d.text("#report-text"), "The bench <by the door> is broken");
        d.click("#status option[value='in_progress']");
        d.type_into("#reply", "Рамката е поръчана; ремонт до петък.");
        d.click("form[action$='/status'] button[type=submit]");
        d.wait("p.status[role=status]");
        assert_eq!(d.text("p.status[role=status]"), "Запазено.");
        assert_eq!(d.text("#current-status"), "В процес");
        let path = d.script("return location.pathname").as_str().expect("path").to_owned();
        let png = d.screenshot();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("inbox-{backend}.png"));
        std::fs::write(&shot, &png).expect("screenshot");
        eprintln!("screenshot: {}", shot.display());

        // The citizen's phone sees it through the core.
        let refreshed = json(&["explore", "--data-dir", &p, "outbox", "refresh", "--server", &server.url, "--json"]);
        let mine = refreshed["reports"]
            .as_array()
            .expect("reports")
            .iter()
            .find(|r| r["key"] == key.as_str())
            .expect("mine")
            .clone();
        assert_eq!(mine["office_status"]["reference"], reference.as_str());
        assert_eq!(mine["office_status"]["status"], "in_progress");
        assert_eq!(mine["office_status"]["public_reply"], "Рамката е поръчана; ремонт до петък.");

        // Another office's staff: not in their list, not by URL, and a forged form changes nothing.
        d.click("header form button[type=submit]");
        d.wait("#name");
        d.type_into("#name", "museum");
        d.type_into("#password", "museum-password-1");
        d.click("main form button[type=submit]");
        d.wait("header form input[name=csrf]");
        assert_eq!(d.script("return document.documentElement.lang"), "en");
        assert!(!d.script("return document.body.innerText").as_str().expect("text").contains(&reference));
        d.go(&format!("{}{}", server.url.trim_end_matches('/'), path));
        d.wait("main p.problem");
        assert!(d.text("main").contains("No such report."), "by URL: not found");
        d.script(&format!(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '{path}/status';\
             for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['status', 'closed'], ['reply', 'x']]) {{\
               const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }}\
             document.body.appendChild(f); document.title = 'forging'; f.submit();"
        ));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while d.script("return document.title") == "forging" {
            assert!(std::time::Instant::now() < deadline, "the forged form was never answered");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        d.wait("main p.problem");
        assert!(d.text("main").contains("No such report."), "a forged change is refused");
        let again = json(&["explore", "--data-dir", &p, "outbox", "refresh", "--server", &server.url, "--json"]);
        let mine = again["reports"]
            .as_array()
            .expect("reports")
            .iter()
            .find(|r| r["key"] == key.as_str())
            .expect("mine")
            .clone();
        assert_eq!(mine["office_status"]["status"], "in_progress", "unchanged");
    }
}
