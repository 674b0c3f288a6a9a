//! The city's inbox: what `cityguide serve --feedback-db FILE` does with reports and ballots, and what
//! `cityguide feedback export` and `cityguide consultations results` read back.
//!
//! One SQLite file. Every request is parsed and validated with the same rules the phone applies
//! ([`cityguide_core::citizen::wire`]), refused with a reason when anything is wrong, and stored at most once per
//! idempotency key, so a phone that retries after a lost answer changes nothing. Each installation key may send a
//! limited number of reports and ballots per hour; beyond that the server answers 429 and the phone retries later.
//! Ballots count only inside the consultation's open period by the server's clock, and per installation only the
//! ballot with the highest sequence number counts. No identity beyond the random installation key is stored, and
//! the office export leaves even that out.

use std::path::Path;
use std::sync::Mutex;

use cityguide_core::citizen::wire::{self, Ack, BallotRequest, FeedbackRequest, Refusal};
use cityguide_core::pack::PackFile;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Requests one installation key may make per hour before it is told to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Reports per installation per hour.
    pub reports_per_hour: u32,
    /// Ballots per installation per hour.
    pub ballots_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { reports_per_hour: 20, ballots_per_hour: 30 }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
    key TEXT PRIMARY KEY NOT NULL,
    installation TEXT NOT NULL,
    city_id TEXT NOT NULL,
    office TEXT NOT NULL,
    category TEXT NOT NULL,
    place_id TEXT,
    place_name TEXT,
    text TEXT NOT NULL,
    rating INTEGER,
    photo TEXT,
    contact TEXT,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    lang TEXT,
    created_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS reports_by_office ON reports (office, received_at);
CREATE INDEX IF NOT EXISTS reports_by_installation ON reports (installation, received_at);
CREATE TABLE IF NOT EXISTS consultations (
    city_id TEXT NOT NULL,
    id TEXT NOT NULL,
    options TEXT NOT NULL,
    opens INTEGER NOT NULL,
    closes INTEGER NOT NULL,
    PRIMARY KEY (city_id, id)
) STRICT;
CREATE TABLE IF NOT EXISTS ballot_requests (
    key TEXT PRIMARY KEY NOT NULL,
    installation TEXT NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS ballot_requests_by_installation ON ballot_requests (installation, received_at);
CREATE TABLE IF NOT EXISTS ballots (
    city_id TEXT NOT NULL,
    consultation_id TEXT NOT NULL,
    installation TEXT NOT NULL,
    option_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    cast_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (city_id, consultation_id, installation)
) STRICT;
";

/// An HTTP answer: status and JSON body.
pub type Answer = (u16, String);

fn refuse(status: u16, error: impl Into<String>) -> Answer {
    (status, serde_json::to_string(&Refusal { error: error.into() }).unwrap_or_else(|_| "{}".into()))
}

fn ack(key: &str, status: &str) -> Answer {
    (200, serde_json::to_string(&Ack { key: key.to_owned(), status: status.to_owned() }).unwrap_or_default())
}

/// The inbox database.
pub struct Inbox {
    conn: Mutex<Connection>,
    limits: Limits,
}

impl Inbox {
    /// Opens (creating if needed) the inbox database.
    pub fn open(path: &Path, limits: Limits) -> Result<Inbox, String> {
        let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // A report is on disk before the phone hears "stored".
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)
        };
        setup().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Inbox { conn: Mutex::new(conn), limits })
    }

    /// Opens an existing inbox for reading (exports and results); refuses a missing file.
    pub fn open_existing(path: &Path) -> Result<Inbox, String> {
        if !path.is_file() {
            return Err(format!(
                "{} does not exist; it is the file given to cityguide serve --feedback-db",
                path.display()
            ));
        }
        Self::open(path, Limits::default())
    }

    /// Registers the consultations of a pack, so ballots for them can be checked. Returns how many.
    pub fn register_pack(&self, pack: &PackFile) -> Result<usize, String> {
        let content = pack.to_content();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        for c in &content.consultations {
            let options: Vec<&str> = c.options.iter().map(|o| o.id.as_str()).collect();
            conn.execute(
                "INSERT INTO consultations (city_id, id, options, opens, closes) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (city_id, id) DO UPDATE SET options = ?3, opens = ?4, closes = ?5",
                params![
                    content.meta.city_id,
                    c.id,
                    serde_json::to_string(&options).unwrap_or_default(),
                    c.opens,
                    c.closes
                ],
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(content.consultations.len())
    }

    /// Handles `POST /v1/feedback`.
    pub fn post_feedback(&self, body: &[u8], now: i64) -> Answer {
        let r: FeedbackRequest = match wire::parse_feedback(body) {
            Ok(r) => r,
            Err(e) if e.contains("at most") && body.len() > wire::MAX_BODY_BYTES => return refuse(413, e),
            Err(e) => return refuse(400, e),
        };
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        match self.store_report(&conn, &r, now) {
            Ok(a) => a,
            Err(e) => refuse(500, format!("the inbox could not store the report: {e}")),
        }
    }

    fn store_report(&self, conn: &Connection, r: &FeedbackRequest, now: i64) -> rusqlite::Result<Answer> {
        let owner: Option<String> =
            conn.query_row("SELECT installation FROM reports WHERE key = ?1", [&r.key], |row| row.get(0)).optional()?;
        match owner {
            Some(o) if o == r.installation => return Ok(ack(&r.key, "duplicate")),
            Some(_) => return Ok(refuse(409, "this key was already used by another installation")),
            None => {}
        }
        let recent: u32 = conn.query_row(
            "SELECT count(*) FROM reports WHERE installation = ?1 AND received_at > ?2",
            params![r.installation, now - 3600],
            |row| row.get(0),
        )?;
        if recent >= self.limits.reports_per_hour {
            return Ok(refuse(
                429,
                format!(
                    "more than {} reports in an hour from this installation; try later",
                    self.limits.reports_per_hour
                ),
            ));
        }
        let loc = r.location;
        conn.execute(
            "INSERT INTO reports (key, installation, city_id, office, category, place_id, place_name, text, rating,
                photo, contact, lat, lon, accuracy_m, lang, created_at, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                r.key,
                r.installation,
                r.city_id,
                r.office,
                r.category,
                r.place_id,
                r.place_name,
                r.text,
                r.rating,
                r.photo,
                r.contact,
                loc.map(|l| l.lat),
                loc.map(|l| l.lon),
                loc.and_then(|l| l.accuracy_m),
                r.lang,
                r.created_at,
                now
            ],
        )?;
        Ok(ack(&r.key, "stored"))
    }

    /// Handles `POST /v1/ballots`.
    pub fn post_ballot(&self, body: &[u8], now: i64) -> Answer {
        let b: BallotRequest = match wire::parse_ballot(body) {
            Ok(b) => b,
            Err(e) if e.contains("at most") && body.len() > wire::MAX_BODY_BYTES => return refuse(413, e),
            Err(e) => return refuse(400, e),
        };
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        match self.store_ballot(&mut conn, &b, now) {
            Ok(a) => a,
            Err(e) => refuse(500, format!("the inbox could not store the ballot: {e}")),
        }
    }

    fn store_ballot(&self, conn: &mut Connection, b: &BallotRequest, now: i64) -> rusqlite::Result<Answer> {
        let owner: Option<String> = conn
            .query_row("SELECT installation FROM ballot_requests WHERE key = ?1", [&b.key], |row| row.get(0))
            .optional()?;
        match owner {
            Some(o) if o == b.installation => return Ok(ack(&b.key, "duplicate")),
            Some(_) => return Ok(refuse(409, "this key was already used by another installation")),
            None => {}
        }
        let recent: u32 = conn.query_row(
            "SELECT count(*) FROM ballot_requests WHERE installation = ?1 AND received_at > ?2",
            params![b.installation, now - 3600],
            |row| row.get(0),
        )?;
        if recent >= self.limits.ballots_per_hour {
            return Ok(refuse(
                429,
                format!(
                    "more than {} ballots in an hour from this installation; try later",
                    self.limits.ballots_per_hour
                ),
            ));
        }
        let consultation: Option<(String, i64, i64)> = conn
            .query_row(
                "SELECT options, opens, closes FROM consultations WHERE city_id = ?1 AND id = ?2",
                params![b.city_id, b.consultation_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((options, opens, closes)) = consultation else {
            return Ok(refuse(404, format!("{} has no consultation {} on this server", b.city_id, b.consultation_id)));
        };
        let options: Vec<String> = serde_json::from_str(&options).unwrap_or_default();
        if !options.contains(&b.option_id) {
            return Ok(refuse(
                422,
                format!(
                    "consultation {} has no option {}; the options are {}",
                    b.consultation_id,
                    b.option_id,
                    options.join(", ")
                ),
            ));
        }
        if !(now >= opens && now < closes) {
            return Ok(refuse(409, format!("consultation {} is closed for votes", b.consultation_id)));
        }
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO ballot_requests (key, installation, received_at) VALUES (?1, ?2, ?3)",
            params![b.key, b.installation, now],
        )?;
        // Only a later ballot of the same installation replaces the one counted.
        tx.execute(
            "INSERT INTO ballots (city_id, consultation_id, installation, option_id, seq, cast_at, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (city_id, consultation_id, installation) DO UPDATE
                SET option_id = excluded.option_id, seq = excluded.seq, cast_at = excluded.cast_at,
                    received_at = excluded.received_at
                WHERE excluded.seq > ballots.seq",
            params![b.city_id, b.consultation_id, b.installation, b.option_id, b.seq, b.cast_at, now],
        )?;
        tx.commit()?;
        Ok(ack(&b.key, "stored"))
    }

    /// Reports for one office received at or after `since` (Unix seconds), oldest first.
    pub fn reports(&self, office: &str, since: i64) -> Result<Vec<ReportRow>, String> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let run = || -> rusqlite::Result<Vec<ReportRow>> {
            let mut st = conn.prepare(
                "SELECT key, received_at, city_id, office, category, place_id, place_name, text, rating, photo,
                        contact, lat, lon, accuracy_m, lang, created_at
                 FROM reports WHERE office = ?1 AND received_at >= ?2 ORDER BY received_at, key",
            )?;
            st.query_map(params![office, since], |r| {
                Ok(ReportRow {
                    key: r.get(0)?,
                    received_at: rfc3339(r.get(1)?),
                    city_id: r.get(2)?,
                    office: r.get(3)?,
                    category: r.get(4)?,
                    place_id: r.get(5)?,
                    place_name: r.get(6)?,
                    text: r.get(7)?,
                    rating: r.get(8)?,
                    photo: r.get(9)?,
                    contact: r.get(10)?,
                    lat: r.get(11)?,
                    lon: r.get(12)?,
                    accuracy_m: r.get(13)?,
                    lang: r.get(14)?,
                    created_at: rfc3339(r.get(15)?),
                })
            })?
            .collect()
        };
        run().map_err(|e| e.to_string())
    }

    /// The offices that have reports, with counts (to help when an office name is mistyped).
    pub fn offices(&self) -> Result<Vec<(String, u64)>, String> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let run = || -> rusqlite::Result<Vec<(String, u64)>> {
            let mut st = conn.prepare("SELECT office, count(*) FROM reports GROUP BY office ORDER BY office")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?.collect()
        };
        run().map_err(|e| e.to_string())
    }

    /// The tally of every registered consultation.
    pub fn results(&self, now: i64) -> Result<Vec<Tally>, String> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let run = || -> rusqlite::Result<Vec<Tally>> {
            let mut st =
                conn.prepare("SELECT city_id, id, options, opens, closes FROM consultations ORDER BY city_id, id")?;
            let rows: Vec<(String, String, String, i64, i64)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for (city_id, id, options, opens, closes) in rows {
                let options: Vec<String> = serde_json::from_str(&options).unwrap_or_default();
                let mut counts = Vec::new();
                for o in &options {
                    let n: i64 = conn.query_row(
                        "SELECT count(*) FROM ballots WHERE city_id = ?1 AND consultation_id = ?2 AND option_id = ?3",
                        params![city_id, id, o],
                        |r| r.get(0),
                    )?;
                    counts.push(OptionCount { option: o.clone(), ballots: n as u64 });
                }
                out.push(Tally {
                    ballots: counts.iter().map(|c| c.ballots).sum(),
                    city_id,
                    id,
                    opens: rfc3339(opens),
                    closes: rfc3339(closes),
                    open: now >= opens && now < closes,
                    options: counts,
                });
            }
            Ok(out)
        };
        run().map_err(|e| e.to_string())
    }
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.to_rfc3339()).unwrap_or_else(|| t.to_string())
}

/// One report as an office receives it. The installation key is left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// The report's idempotency key (a stable reference for follow-up).
    pub key: String,
    /// When the server stored it.
    pub received_at: String,
    /// City.
    pub city_id: String,
    /// Office.
    pub office: String,
    /// Report kind.
    pub category: String,
    /// Place id.
    pub place_id: Option<String>,
    /// Place name.
    pub place_name: Option<String>,
    /// What the citizen wrote.
    pub text: String,
    /// Stars, for a rating.
    pub rating: Option<u8>,
    /// Photo reference.
    pub photo: Option<String>,
    /// Contact, if the citizen gave one.
    pub contact: Option<String>,
    /// Latitude, if the citizen located the report.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Accuracy, metres.
    pub accuracy_m: Option<f64>,
    /// Language of the text.
    pub lang: Option<String>,
    /// When the citizen made it (phone clock).
    pub created_at: String,
}

/// Ballots for one option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionCount {
    /// Option id.
    pub option: String,
    /// Ballots counted.
    pub ballots: u64,
}

/// The result of one consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// City.
    pub city_id: String,
    /// Consultation id.
    pub id: String,
    /// Opens.
    pub opens: String,
    /// Closes.
    pub closes: String,
    /// Whether voting is still open.
    pub open: bool,
    /// Ballots counted (one per installation).
    pub ballots: u64,
    /// Per option, in the pack's order.
    pub options: Vec<OptionCount>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityguide_core::citizen::wire::ReportLocation;
    use proptest::prelude::*;

    fn inbox(limits: Limits) -> (tempfile::TempDir, Inbox) {
        let dir = tempfile::tempdir().expect("tmp");
        let inbox = Inbox::open(&dir.path().join("inbox.db"), limits).expect("open");
        {
            let conn = inbox.conn.lock().expect("lock");
            conn.execute(
                "INSERT INTO consultations (city_id, id, options, opens, closes) VALUES ('mini', 'benches', '[\"yes\",\"no\"]', 100, 1000)",
                [],
            )
            .expect("consultation");
        }
        (dir, inbox)
    }

    fn report(key: u32, installation: char) -> FeedbackRequest {
        FeedbackRequest {
            v: 1,
            key: format!("{key:032x}"),
            installation: installation.to_string().repeat(64),
            city_id: "mini".into(),
            office: "Maintenance".into(),
            category: "damage".into(),
            place_id: Some("cathedral".into()),
            place_name: None,
            text: "Broken bench".into(),
            rating: None,
            photo: None,
            contact: None,
            location: Some(ReportLocation { lat: 43.2, lon: 27.9, accuracy_m: None }),
            lang: None,
            created_at: 1,
        }
    }

    fn ballot(key: u32, installation: char, option: &str, seq: i64) -> BallotRequest {
        BallotRequest {
            v: 1,
            key: format!("{key:032x}"),
            installation: installation.to_string().repeat(64),
            city_id: "mini".into(),
            consultation_id: "benches".into(),
            option_id: option.into(),
            seq,
            cast_at: 1,
        }
    }

    fn body<T: Serialize>(v: &T) -> Vec<u8> {
        serde_json::to_vec(v).expect("json")
    }

    #[test]
    fn a_report_is_stored_once_per_key_and_bad_ones_say_why() {
        let (_d, inbox) = inbox(Limits::default());
        let r = report(1, 'a');
        assert_eq!(inbox.post_feedback(&body(&r), 500).0, 200);
        let (status, answer) = inbox.post_feedback(&body(&r), 600);
        assert_eq!(status, 200);
        assert!(answer.contains("duplicate"));
        assert_eq!(inbox.reports("Maintenance", 0).expect("rows").len(), 1);
        let mut other = r.clone();
        other.installation = "b".repeat(64);
        assert_eq!(inbox.post_feedback(&body(&other), 600).0, 409, "a key belongs to one installation");

        let (status, answer) = inbox.post_feedback(b"{\"v\":1", 600);
        assert_eq!(status, 400);
        assert!(answer.contains("not a valid request"), "{answer}");
        let mut empty = report(2, 'a');
        empty.text = " ".into();
        let (status, answer) = inbox.post_feedback(&body(&empty), 600);
        assert_eq!((status, answer.contains("text is empty")), (400, true), "{answer}");
        let (status, _) = inbox.post_feedback(&vec![b'{'; wire::MAX_BODY_BYTES + 10], 600);
        assert_eq!(status, 413);
        assert_eq!(inbox.reports("Maintenance", 0).expect("rows").len(), 1, "nothing bad was stored");
        let rows = inbox.reports("Maintenance", 0).expect("rows");
        assert_eq!(rows[0].lat, Some(43.2));
        assert!(inbox.reports("Maintenance", 501).expect("rows").is_empty(), "--since filters");
    }

    #[test]
    fn one_installation_cannot_flood_an_office() {
        let (_d, inbox) = inbox(Limits { reports_per_hour: 3, ballots_per_hour: 2 });
        for k in 0..3 {
            assert_eq!(inbox.post_feedback(&body(&report(k, 'a')), 5000).0, 200);
        }
        let (status, answer) = inbox.post_feedback(&body(&report(3, 'a')), 5000);
        assert_eq!(status, 429, "{answer}");
        assert_eq!(inbox.post_feedback(&body(&report(2, 'a')), 5000).0, 200, "a retry of a stored key is still fine");
        assert_eq!(inbox.post_feedback(&body(&report(4, 'b')), 5000).0, 200, "other installations are unaffected");
        assert_eq!(inbox.post_feedback(&body(&report(5, 'a')), 5000 + 3601).0, 200, "an hour later it may send again");
        assert_eq!(inbox.post_ballot(&body(&ballot(10, 'a', "yes", 1)), 500).0, 200);
        assert_eq!(inbox.post_ballot(&body(&ballot(11, 'a', "no", 2)), 500).0, 200);
        assert_eq!(inbox.post_ballot(&body(&ballot(12, 'a', "yes", 3)), 500).0, 429);
    }

    #[test]
    fn ballots_count_once_per_installation_latest_wins_and_only_while_open() {
        let (_d, inbox) = inbox(Limits::default());
        assert_eq!(inbox.post_ballot(&body(&ballot(1, 'a', "yes", 1)), 500).0, 200);
        assert_eq!(inbox.post_ballot(&body(&ballot(3, 'a', "no", 3)), 510).0, 200);
        // An older ballot arriving late does not undo the change.
        assert_eq!(inbox.post_ballot(&body(&ballot(2, 'a', "yes", 2)), 520).0, 200);
        assert_eq!(inbox.post_ballot(&body(&ballot(4, 'b', "yes", 1)), 530).0, 200);
        assert_eq!(inbox.post_ballot(&body(&ballot(4, 'b', "yes", 1)), 540).0, 200, "retry");
        let t = &inbox.results(600).expect("results")[0];
        assert_eq!(t.ballots, 2, "one per installation");
        assert_eq!(
            t.options,
            vec![OptionCount { option: "yes".into(), ballots: 1 }, OptionCount { option: "no".into(), ballots: 1 }]
        );
        let (status, answer) = inbox.post_ballot(&body(&ballot(5, 'c', "yes", 1)), 1000);
        assert_eq!(status, 409, "closed at 1000: {answer}");
        assert_eq!(inbox.post_ballot(&body(&ballot(6, 'c', "yes", 1)), 99).0, 409, "not open yet");
        assert_eq!(inbox.post_ballot(&body(&ballot(7, 'c', "maybe", 1)), 500).0, 422);
        let mut unknown = ballot(8, 'c', "yes", 1);
        unknown.consultation_id = "tram".into();
        assert_eq!(inbox.post_ballot(&body(&unknown), 500).0, 404);
        assert_eq!(inbox.results(600).expect("results")[0].ballots, 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn random_bodies_never_panic_the_server(bytes in prop::collection::vec(any::<u8>(), 0..600), json in ".{0,200}") {
            let (_d, inbox) = inbox(Limits::default());
            for b in [bytes.as_slice(), json.as_bytes()] {
                let (s1, a1) = inbox.post_feedback(b, 500);
                let (s2, a2) = inbox.post_ballot(b, 500);
                prop_assert!(s1 == 400 || s1 == 413 || s1 == 200, "{s1} {a1}");
                prop_assert!(s2 == 400 || s2 == 413 || s2 == 200 || s2 == 404 || s2 == 409 || s2 == 422, "{s2} {a2}");
            }
        }
    }
}
