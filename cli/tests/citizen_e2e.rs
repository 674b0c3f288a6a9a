//! Citizens in the loop from the shell: a phone (`cityguide explore`) reports and votes, the city's server
//! (`cityguide serve --feedback-db`) stores each item once, and the offices read their queues
//! (`cityguide feedback export`, `cityguide consultations results`). Includes a kill of the phone in the middle of
//! sending, a server that refuses bad, oversized, abusive and late input, and erasure from the shell.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cityguide_core::Transport;
use cityguide_core::update::transport::HttpTransport;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cityguide")).args(args).current_dir(repo()).output().expect("runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("json output")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, extra: &[&str]) -> (Server, String) {
    let site = dir.join("site");
    std::fs::create_dir_all(&site).expect("site");
    let db = dir.join("inbox.db");
    let mut args =
        vec!["serve", site.to_str().expect("p"), "--addr", "127.0.0.1:0", "--feedback-db", db.to_str().expect("p")];
    args.extend_from_slice(extra);
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_cityguide")).args(&args).stdout(Stdio::piped()).spawn().expect("serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let url = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("line") > 0, "serve ended early");
        if let Some(rest) = line.strip_prefix("serving ") {
            break rest.trim().rsplit(' ').next().expect("url").to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = out.read_to_string(&mut sink);
    });
    (Server(child), url)
}

/// The mini city with one open and one closed consultation.
fn city(dir: &Path) -> String {
    let src = dir.join("src");
    let status = Command::new("cp").arg("-r").arg(repo().join("data/fixtures/mini")).arg(&src).status().expect("cp");
    assert!(status.success());
    std::fs::write(
        src.join("consultations.csv"),
        "id,options,opens,closes\nbenches,yes;no,2000-01-01,2100-01-01\nold-square,fountain;trees,2001-01-01,2002-01-01\n",
    )
    .expect("write");
    let mut bg = std::fs::read_to_string(src.join("texts/bg.csv")).expect("read");
    bg += "consultation,benches,Пейки,Още пейки?,,\noption,benches/yes,Да,,,\noption,benches/no,Не,,,\n\
           consultation,old-square,Площад,Фонтан?,,\noption,old-square/fountain,Фонтан,,,\noption,old-square/trees,Дървета,,,\n";
    std::fs::write(src.join("texts/bg.csv"), bg).expect("write");
    let pack = dir.join("mini.pack");
    ok(&["pack", "build", src.to_str().expect("p"), "-o", pack.to_str().expect("p")]);
    pack.to_str().expect("p").to_owned()
}

fn phone(dir: &Path, name: &str, pack: &str) -> String {
    let p = dir.join(name).to_str().expect("p").to_owned();
    ok(&["explore", "--data-dir", &p, "install", pack]);
    p
}

fn outbox(phone: &str) -> Vec<serde_json::Value> {
    json(&["explore", "--data-dir", phone, "outbox", "--json"]).as_array().expect("array").clone()
}

#[test]
fn report_vote_flush_export_and_tally_across_processes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = city(tmp.path());
    let (_server, url) = serve(tmp.path(), &["--pack", &pack]);
    let db = tmp.path().join("inbox.db").to_str().expect("p").to_owned();
    let a = phone(tmp.path(), "a", &pack);
    let b = phone(tmp.path(), "b", &pack);

    // Consent is off: shown, and flushing is refused without contacting the server.
    let consent = json(&["explore", "--data-dir", &a, "consent", "--json"]);
    assert_eq!(consent, serde_json::json!({"updates": false, "feedback": false, "location": false}));
    let item = json(&[
        "explore",
        "--data-dir",
        &a,
        "feedback",
        "send",
        "--place",
        "roman-thermae",
        "--category",
        "information",
        "--text",
        "The sign at the gate is wrong.",
        "--json",
    ]);
    assert_eq!(item["office"], "Regional Museum of History");
    assert_eq!(item["status"], "queued");
    let refused = run(&["explore", "--data-dir", &a, "outbox", "flush", "--server", &url]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("consent set feedback on"));
    let bad = run(&[
        "explore",
        "--data-dir",
        &a,
        "feedback",
        "send",
        "--place",
        "cathedral",
        "--category",
        "graffiti",
        "--text",
        "x",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not one of"));
    let located = run(&[
        "explore",
        "--data-dir",
        &a,
        "feedback",
        "send",
        "--place",
        "cathedral",
        "--category",
        "damage",
        "--text",
        "Broken step",
        "--locate",
        "--at",
        "43.2049,27.9102",
    ]);
    assert!(!located.status.success(), "no location consent");
    assert_eq!(outbox(&a).len(), 1);

    // Votes: the closed consultation is refused on the phone; a vote and a change queue ballots.
    let closed = run(&["explore", "--data-dir", &a, "consultations", "vote", "old-square", "trees"]);
    assert!(!closed.status.success());
    assert!(String::from_utf8_lossy(&closed.stderr).contains("not open"));
    ok(&["explore", "--data-dir", &a, "consultations", "vote", "benches", "no"]);
    ok(&["explore", "--data-dir", &a, "consultations", "vote", "benches", "yes"]);
    ok(&["explore", "--data-dir", &b, "consultations", "vote", "benches", "yes"]);
    let list = json(&["explore", "--data-dir", &a, "consultations", "--json"]);
    assert_eq!(list[0]["my_ballot"]["option_id"], "yes");

    for p in [&a, &b] {
        ok(&["explore", "--data-dir", p, "consent", "set", "feedback", "on"]);
        let r = json(&["explore", "--data-dir", p, "outbox", "flush", "--server", &url, "--json"]);
        assert_eq!(r["pending"], 0, "{r}");
    }
    let items = outbox(&a);
    let status_of = |kind: &str| -> Vec<String> {
        let mut v: Vec<String> =
            items.iter().filter(|i| i["kind"] == kind).map(|i| i["status"].as_str().expect("s").to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(status_of("feedback"), ["acknowledged"]);
    assert_eq!(status_of("ballot"), ["acknowledged", "rejected"], "the replaced ballot was never sent");

    // A retry of an acknowledged item (same key, same body) is recognised by the server.
    let report = items.iter().find(|i| i["kind"] == "feedback").expect("report");
    let payload = report["payload"].as_str().expect("payload").to_owned();
    let http = HttpTransport::default();
    let again = http.post(&format!("{url}v1/feedback"), "application/json", payload.as_bytes(), 4096).expect("post");
    assert_eq!(again.status, 200);
    assert!(String::from_utf8_lossy(&again.body).contains("duplicate"));

    let rows = json(&["feedback", "export", "--db", &db, "--office", "Regional Museum of History", "--json"]);
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "stored once");
    assert_eq!(rows[0]["text"], "The sign at the gate is wrong.");
    assert!(rows[0].get("installation").is_none(), "offices do not see installation keys");
    let csv = ok(&["feedback", "export", "--db", &db, "--office", "Regional Museum of History", "--csv"]);
    assert!(csv.starts_with("reference,key,source,received_at,city_id,office,category"), "{csv}");
    assert!(csv.contains("The sign at the gate is wrong."));
    let future = json(&[
        "feedback",
        "export",
        "--db",
        &db,
        "--office",
        "Regional Museum of History",
        "--since",
        "2999-01-01",
        "--json",
    ]);
    assert_eq!(future, serde_json::json!([]));

    let results = json(&["consultations", "results", "--db", &db, "--json"]);
    let benches = results.as_array().expect("array").iter().find(|t| t["id"] == "benches").expect("benches").clone();
    assert_eq!(benches["ballots"], 2, "one ballot per installation");
    assert_eq!(
        benches["options"],
        serde_json::json!([
            {"option": "yes", "ballots": 2, "cost": 0, "funded": false},
            {"option": "no", "ballots": 0, "cost": 0, "funded": false}
        ])
    );
    assert_eq!(benches["phase"], "voting");

    // The phone asks where its report stands: a readable reference and the status "open", offline afterwards.
    let refreshed = json(&["explore", "--data-dir", &a, "outbox", "refresh", "--server", &url, "--json"]);
    assert_eq!(refreshed["refresh"]["answered"], 1, "{refreshed}");
    let st = &refreshed["reports"][0]["office_status"];
    assert_eq!(st["status"], "open");
    assert!(st["reference"].as_str().expect("reference").starts_with("CG-"), "{st}");
    let offline = ok(&["explore", "--data-dir", &a, "outbox", "status"]);
    assert!(offline.contains(st["reference"].as_str().expect("reference")) && offline.contains("open"), "{offline}");
    let b_status = ok(&["explore", "--data-dir", &b, "outbox", "status"]);
    assert!(b_status.is_empty(), "phone b sent no report: {b_status}");

    // Export, erase, and the data is gone.
    let export = json(&["explore", "--data-dir", &a, "export-data"]);
    assert_eq!(export["format"], "cityguide-user-data");
    assert_eq!(export["outbox"].as_array().expect("outbox").len(), 3);
    let file = tmp.path().join("a-export.json");
    ok(&["explore", "--data-dir", &a, "export-data", "-o", file.to_str().expect("p")]);
    ok(&["explore", "--data-dir", &a, "erase-data"]);
    assert!(outbox(&a).is_empty());
    let db_bytes = std::fs::read(tmp.path().join("a/guide.db")).expect("db");
    assert!(!db_bytes.windows(12).any(|w| w == b"The sign at "), "the report text is gone from the file");
    ok(&["explore", "--data-dir", &a, "import-data", file.to_str().expect("p")]);
    assert_eq!(outbox(&a).len(), 3, "import restores it");
}

#[test]
fn the_server_refuses_bad_oversized_abusive_and_late_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = city(tmp.path());
    let (_server, url) = serve(tmp.path(), &["--pack", &pack, "--reports-per-hour", "3"]);
    let http = HttpTransport::default();
    let post = |path: &str, body: &[u8]| {
        let f = http.post(&format!("{url}{path}"), "application/json", body, 4096).expect("post");
        (f.status, String::from_utf8_lossy(&f.body).into_owned())
    };
    let report = |key: u32, installation: char| {
        serde_json::json!({
            "v": 1, "key": format!("{key:032x}"), "installation": installation.to_string().repeat(64),
            "city_id": "mini", "office": "Municipal Maintenance", "category": "damage", "place_id": "cathedral",
            "text": "Broken bench", "created_at": 1
        })
        .to_string()
    };
    assert_eq!(post("v1/feedback", b"not json").0, 400);
    let (status, answer) = post("v1/feedback", br#"{"v":1,"key":"00","installation":"x"}"#);
    assert_eq!(status, 400);
    assert!(answer.contains("error"), "{answer}");
    let (status, _) = post("v1/feedback", &vec![b'x'; 64 * 1024]);
    assert_eq!(status, 413);
    let empty = report(9, 'a').replace("Broken bench", "   ");
    assert!(post("v1/feedback", empty.as_bytes()).1.contains("text is empty"));

    for k in 0..3 {
        assert_eq!(post("v1/feedback", report(k, 'a').as_bytes()).0, 200);
    }
    assert_eq!(post("v1/feedback", report(3, 'a').as_bytes()).0, 429, "limit per installation");
    assert_eq!(post("v1/feedback", report(4, 'b').as_bytes()).0, 200, "other installations go on");
    let (status, answer) = post("v1/feedback", report(0, 'a').as_bytes());
    assert_eq!((status, answer.contains("duplicate")), (200, true), "{answer}");

    let ballot = |consultation: &str, option: &str| {
        serde_json::json!({
            "v": 1, "key": "f".repeat(32), "installation": "c".repeat(64), "city_id": "mini",
            "consultation_id": consultation, "option_id": option, "seq": 1, "cast_at": 1
        })
        .to_string()
    };
    let (status, answer) = post("v1/ballots", ballot("old-square", "trees").as_bytes());
    assert_eq!(status, 409, "closed consultations are refused by the server too: {answer}");
    assert!(answer.contains("closed"));
    assert_eq!(post("v1/ballots", ballot("benches", "maybe").as_bytes()).0, 422);
    assert_eq!(post("v1/ballots", ballot("tram", "yes").as_bytes()).0, 404);
    assert_eq!(post("v1/elsewhere", b"{}").0, 404);

    let db = tmp.path().join("inbox.db").to_str().expect("p").to_owned();
    let rows = json(&["feedback", "export", "--db", &db, "--office", "Municipal Maintenance", "--json"]);
    assert_eq!(rows.as_array().expect("rows").len(), 4, "only the valid, non-abusive reports were stored");
}

#[test]
fn an_item_survives_a_kill_of_the_phone_mid_send_and_arrives_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pack = city(tmp.path());
    let a = phone(tmp.path(), "a", &pack);
    ok(&["explore", "--data-dir", &a, "consent", "set", "feedback", "on"]);

    // Kill right after `feedback send` said it saved the item: it is on disk.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cityguide"))
        .args([
            "explore",
            "--data-dir",
            &a,
            "feedback",
            "send",
            "--place",
            "cathedral",
            "--category",
            "damage",
            "--text",
            "Crack in the wall",
            "--json",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("saved");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(outbox(&a).len(), 1, "saved before the command returned");

    // A server that reads the request and never answers: the phone is killed while it waits.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stall = format!("http://{}/", listener.local_addr().expect("addr"));
    let mut flush = Command::new(env!("CARGO_BIN_EXE_cityguide"))
        .args(["explore", "--data-dir", &a, "outbox", "flush", "--server", &stall])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let (mut conn, _) = listener.accept().expect("the phone connects");
    conn.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("Crack in the wall") && start.elapsed() < Duration::from_secs(10) {
        let n = conn.read(&mut buf).expect("read");
        assert!(n > 0, "connection closed early");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("POST /v1/feedback"), "the request is in flight");
    flush.kill().expect("SIGKILL mid-send");
    let _ = flush.wait();
    drop(conn);

    let items = outbox(&a);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "queued", "killed before any answer: still waiting, nothing lost");

    let (_server, url) = serve(tmp.path(), &[]);
    for _ in 0..2 {
        let r = json(&["explore", "--data-dir", &a, "outbox", "flush", "--server", &url, "--json"]);
        assert_eq!(r["pending"], 0);
    }
    assert_eq!(outbox(&a)[0]["status"], "acknowledged");
    let db = tmp.path().join("inbox.db").to_str().expect("p").to_owned();
    let rows = json(&["feedback", "export", "--db", &db, "--office", "Municipal Maintenance", "--json"]);
    assert_eq!(rows.as_array().expect("rows").len(), 1, "exactly once at the server");
}
