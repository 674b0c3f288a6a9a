//! What the inbox does with reports, statuses, ballots, offices, people and keys, written once for both back ends
//! ([`crate::db`]). Every function takes a connection and runs its writes in one transaction, so a refused or
//! failed request changes nothing.
//!
//! Reports from phones and from Open311 clients go through [`store_report`]: the same checks, the same idempotency
//! (a key is stored once; a retry is answered "duplicate"), the same per-source limits. Each report gets a readable
//! reference (`VAR-2027-000123`: the city's prefix, the year it arrived, a counter per prefix and year) and starts
//! `open`; offices move it through FixMyStreet's statuses with a public reply ([`update_status`], [`merge`]).

use std::collections::BTreeMap;

use cityguide_core::citizen::wire::{
    self, BallotRequest, MAX_BALLOT_GRACE_S, REPORT_STATUSES, ReportStatus, VotingRule, check_choices,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Conn, DbError, Row, Value};

/// A request refused (with its HTTP status and a reason for the sender), or a database failure.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// Refused; nothing was stored.
    #[error("{1}")]
    Refused(u16, String),
    /// The database failed; nothing was stored.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Shorthand for a refusal.
pub fn refuse<T>(status: u16, msg: impl Into<String>) -> Result<T, InboxError> {
    Err(InboxError::Refused(status, msg.into()))
}

/// The inbox's rules that a city configures.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The prefix of readable references, e.g. `VAR`.
    pub reference_prefix: String,
    /// Reports one installation (or one Open311 key) may send per hour.
    pub reports_per_hour: u32,
    /// Ballots one installation may send per hour.
    pub ballots_per_hour: u32,
    /// Reports one Open311 client key may send per hour.
    pub client_reports_per_hour: u32,
    /// Seconds after a consultation closes during which ballots cast before the close are still counted.
    pub ballot_grace_s: i64,
    /// Attempts to deliver a report to an office's own system before it goes to the dead-letter list.
    pub delivery_attempts: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            reference_prefix: "CG".into(),
            reports_per_hour: 20,
            ballots_per_hour: 30,
            client_reports_per_hour: 2000,
            ballot_grace_s: 48 * 3600,
            delivery_attempts: 8,
        }
    }
}

/// A report as it arrives, from a phone or an Open311 client, already checked for form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewReport {
    /// Idempotency key.
    pub key: String,
    /// The phone's installation key, for phone reports.
    pub installation: Option<String>,
    /// `phone` or `open311:<api key name>`.
    pub source: String,
    /// City.
    pub city_id: String,
    /// Office.
    pub office: String,
    /// Report kind (service code).
    pub category: String,
    /// Place id.
    pub place_id: Option<String>,
    /// Place name.
    pub place_name: Option<String>,
    /// Street address (Open311).
    pub address: Option<String>,
    /// What the reporter wrote.
    pub text: String,
    /// Stars, for a rating.
    pub rating: Option<u8>,
    /// Photo reference.
    pub photo: Option<String>,
    /// Contact details, never listed publicly.
    pub contact: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Accuracy, metres.
    pub accuracy_m: Option<f64>,
    /// Language.
    pub lang: Option<String>,
    /// The reporter allows public listing.
    pub public: bool,
    /// When the reporter made it (their clock).
    pub created_at: i64,
}

/// What [`store_report`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The readable reference.
    pub reference: String,
    /// The key was already stored (a retry): nothing changed.
    pub duplicate: bool,
}

fn year_of(t: i64) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(t, 0).map_or(1970, |d| d.year())
}

/// Stores a report once per key. A key already stored by the same source is a duplicate (200, nothing changes); by
/// another source it is refused (409). Beyond the hourly limit per source the answer is 429.
pub fn store_report(c: &mut dyn Conn, r: &NewReport, rules: &Rules, now: i64) -> Result<Stored, InboxError> {
    // Two concurrent requests with one key: the loser's insert hits the unique index, and the retry finds the row.
    for attempt in 0..2 {
        match c.transaction(|c| store_report_once(c, r, rules, now)) {
            Err(InboxError::Db(DbError::Unique(_))) if attempt == 0 => continue,
            other => return other,
        }
    }
    refuse(503, "the report could not be stored; try again")
}

fn store_report_once(c: &mut dyn Conn, r: &NewReport, rules: &Rules, now: i64) -> Result<Stored, InboxError> {
    let owner =
        c.one("SELECT installation, source, reference FROM reports WHERE key = $1", &[r.key.as_str().into()])?;
    if let Some(row) = owner {
        if row.os(0) == r.installation && row.s(1) == r.source {
            return Ok(Stored { reference: row.s(2), duplicate: true });
        }
        return refuse(409, "this key was already used by another sender");
    }
    let (who_col, who, limit): (&str, Value, u32) = match &r.installation {
        Some(i) => ("installation", i.into(), rules.reports_per_hour),
        None => ("source", r.source.as_str().into(), rules.client_reports_per_hour),
    };
    let recent = c
        .one(
            &format!("SELECT count(*) FROM reports WHERE {who_col} = $1 AND received_at > $2"),
            &[who, (now - 3600).into()],
        )?
        .map_or(0, |row| row.i(0));
    if recent >= i64::from(limit) {
        return refuse(429, format!("more than {limit} reports in an hour from this sender; try later"));
    }
    c.execute(
        "INSERT INTO offices (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[r.office.as_str().into(), now.into()],
    )?;
    let id = c.next_id("report")?;
    let series = format!("{}-{}", rules.reference_prefix, year_of(now));
    let n = c.next_id(&format!("ref:{series}"))?;
    let reference = format!("{series}-{n:06}");
    c.execute(
        "INSERT INTO reports (id, key, reference, installation, source, city_id, office, category, place_id,
            place_name, address, text, rating, photo, contact, lat, lon, accuracy_m, lang, public, status,
            created_at, received_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 'open',
            $21, $22, $22)",
        &[
            id.into(),
            r.key.as_str().into(),
            reference.as_str().into(),
            r.installation.clone().into(),
            r.source.as_str().into(),
            r.city_id.as_str().into(),
            r.office.as_str().into(),
            r.category.as_str().into(),
            r.place_id.clone().into(),
            r.place_name.clone().into(),
            r.address.clone().into(),
            r.text.as_str().into(),
            r.rating.map(i64::from).into(),
            r.photo.clone().into(),
            r.contact.clone().into(),
            r.lat.into(),
            r.lon.into(),
            r.accuracy_m.into(),
            r.lang.clone().into(),
            r.public.into(),
            r.created_at.into(),
            now.into(),
        ],
    )?;
    let uid = c.next_id("update")?;
    c.execute(
        "INSERT INTO report_updates (id, report_id, status, public_reply, author, created_at)
         VALUES ($1, $2, 'open', NULL, 'inbox', $3)",
        &[uid.into(), id.into(), now.into()],
    )?;
    let office = c.one("SELECT delivery FROM offices WHERE name = $1", &[r.office.as_str().into()])?;
    if let Some(channel) = office.map(|o| o.s(0)).filter(|d| d != "inbox") {
        c.execute(
            "INSERT INTO deliveries (report_id, office, channel, state, attempts, next_attempt_at, updated_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
            &[id.into(), r.office.as_str().into(), channel.into(), now.into()],
        )?;
    }
    Ok(Stored { reference, duplicate: false })
}

/// The statuses of an installation's own reports among `keys`. Keys of other installations are skipped, exactly
/// like unknown keys, so the answer reveals nothing about other people's reports.
pub fn own_statuses(c: &mut dyn Conn, installation: &str, keys: &[String]) -> Result<Vec<ReportStatus>, DbError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 2)).collect();
    let mut params: Vec<Value> = vec![installation.into()];
    params.extend(keys.iter().map(Value::from));
    let rows = c.query(
        &format!(
            "SELECT r.key, r.reference, r.status, r.public_reply, d.reference, r.updated_at
             FROM reports r LEFT JOIN reports d ON d.id = r.duplicate_of
             WHERE r.installation = $1 AND r.key IN ({})",
            marks.join(", ")
        ),
        &params,
    )?;
    Ok(rows
        .iter()
        .map(|r| ReportStatus {
            key: r.s(0),
            reference: r.s(1),
            status: r.s(2),
            public_reply: r.os(3),
            duplicate_of: r.os(4),
            updated_at: r.i(5),
        })
        .collect())
}

/// One report as offices see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Internal id (used in the inbox's URLs).
    #[serde(skip)]
    pub id: i64,
    /// The readable reference.
    pub reference: String,
    /// The report's idempotency key.
    pub key: String,
    /// `phone` or `open311:<client>`.
    pub source: String,
    /// When the server stored it, Unix seconds.
    pub received_at: i64,
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
    /// Street address.
    pub address: Option<String>,
    /// What the reporter wrote.
    pub text: String,
    /// Stars.
    pub rating: Option<i64>,
    /// Photo reference.
    pub photo: Option<String>,
    /// Contact, if given.
    pub contact: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Accuracy, metres.
    pub accuracy_m: Option<f64>,
    /// Language.
    pub lang: Option<String>,
    /// The reporter allowed public listing.
    pub public: bool,
    /// Current status.
    pub status: String,
    /// The office's public reply.
    pub public_reply: Option<String>,
    /// The reference this one duplicates.
    pub duplicate_of: Option<String>,
    /// When the reporter made it.
    pub created_at: i64,
    /// When the status last changed.
    pub updated_at: i64,
}

const REPORT_COLUMNS: &str = "r.id, r.reference, r.key, r.source, r.received_at, r.city_id, r.office, r.category, \
    r.place_id, r.place_name, r.address, r.text, r.rating, r.photo, r.contact, r.lat, r.lon, r.accuracy_m, r.lang, \
    r.public, r.status, r.public_reply, d.reference, r.created_at, r.updated_at";

fn report_from(r: &Row) -> Report {
    Report {
        id: r.i(0),
        reference: r.s(1),
        key: r.s(2),
        source: r.s(3),
        received_at: r.i(4),
        city_id: r.s(5),
        office: r.s(6),
        category: r.s(7),
        place_id: r.os(8),
        place_name: r.os(9),
        address: r.os(10),
        text: r.s(11),
        rating: r.oi(12),
        photo: r.os(13),
        contact: r.os(14),
        lat: r.of(15),
        lon: r.of(16),
        accuracy_m: r.of(17),
        lang: r.os(18),
        public: r.i(19) != 0,
        status: r.s(20),
        public_reply: r.os(21),
        duplicate_of: r.os(22),
        created_at: r.i(23),
        updated_at: r.i(24),
    }
}

/// Which reports to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this office (staff always have one).
    pub office: Option<String>,
    /// Only these statuses.
    pub statuses: Vec<String>,
    /// Only this kind.
    pub category: Option<String>,
    /// Received at or after (Unix seconds).
    pub from: Option<i64>,
    /// Received before.
    pub until: Option<i64>,
    /// Place id, or a part of the place's name or address (case-sensitive substring).
    pub place: Option<String>,
    /// Only these references.
    pub references: Vec<String>,
    /// Only reports the reporter allowed to be public.
    pub public_only: bool,
    /// Skip this many.
    pub offset: i64,
    /// At most this many (0: no limit).
    pub limit: i64,
    /// Newest first (the inbox) or oldest first (exports).
    pub newest_first: bool,
}

/// Reports matching `f`.
pub fn list_reports(c: &mut dyn Conn, f: &Filter) -> Result<Vec<Report>, DbError> {
    let mut sql =
        format!("SELECT {REPORT_COLUMNS} FROM reports r LEFT JOIN reports d ON d.id = r.duplicate_of WHERE 1 = 1");
    let mut p: Vec<Value> = Vec::new();
    let mut add = |sql: &mut String, cond: &str, v: Value| {
        p.push(v);
        sql.push_str(&cond.replace('?', &format!("${}", p.len())));
    };
    if let Some(o) = &f.office {
        add(&mut sql, " AND r.office = ?", o.into());
    }
    if !f.statuses.is_empty() {
        sql.push_str(" AND r.status IN (");
        for (i, s) in f.statuses.iter().enumerate() {
            add(&mut sql, if i == 0 { "?" } else { ", ?" }, s.into());
        }
        sql.push(')');
    }
    if !f.references.is_empty() {
        sql.push_str(" AND r.reference IN (");
        for (i, s) in f.references.iter().enumerate() {
            add(&mut sql, if i == 0 { "?" } else { ", ?" }, s.into());
        }
        sql.push(')');
    }
    if let Some(k) = &f.category {
        add(&mut sql, " AND r.category = ?", k.into());
    }
    if let Some(t) = f.from {
        add(&mut sql, " AND r.received_at >= ?", t.into());
    }
    if let Some(t) = f.until {
        add(&mut sql, " AND r.received_at < ?", t.into());
    }
    if let Some(place) = &f.place {
        add(&mut sql, " AND (r.place_id = ?", place.into());
        let like = format!("%{}%", place.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        add(&mut sql, " OR r.place_name LIKE ? ESCAPE '\\'", like.clone().into());
        add(&mut sql, " OR r.address LIKE ? ESCAPE '\\')", like.into());
    }
    if f.public_only {
        sql.push_str(" AND r.public = 1");
    }
    sql.push_str(if f.newest_first {
        " ORDER BY r.received_at DESC, r.id DESC"
    } else {
        " ORDER BY r.received_at, r.id"
    });
    if f.limit > 0 {
        sql.push_str(&format!(" LIMIT {} OFFSET {}", f.limit, f.offset.max(0)));
    }
    Ok(c.query(&sql, &p)?.iter().map(report_from).collect())
}

/// One report by id or reference.
pub fn report(c: &mut dyn Conn, id: i64) -> Result<Option<Report>, DbError> {
    let sql =
        format!("SELECT {REPORT_COLUMNS} FROM reports r LEFT JOIN reports d ON d.id = r.duplicate_of WHERE r.id = $1");
    Ok(c.one(&sql, &[id.into()])?.as_ref().map(report_from))
}

/// One report by its readable reference.
pub fn report_by_reference(c: &mut dyn Conn, reference: &str) -> Result<Option<Report>, DbError> {
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM reports r LEFT JOIN reports d ON d.id = r.duplicate_of WHERE r.reference = $1"
    );
    Ok(c.one(&sql, &[reference.into()])?.as_ref().map(report_from))
}

/// One change of a report's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    /// Id (Open311 `update_id`).
    pub id: i64,
    /// The report's reference.
    pub reference: String,
    /// The status set.
    pub status: String,
    /// The public reply given with it.
    pub public_reply: Option<String>,
    /// Who made it (a user name, `inbox`, or `open311:<key name>`).
    pub author: String,
    /// When.
    pub created_at: i64,
}

/// The history of one report, oldest first.
pub fn updates_of(c: &mut dyn Conn, report_id: i64) -> Result<Vec<Update>, DbError> {
    let rows = c.query(
        "SELECT u.id, r.reference, u.status, u.public_reply, u.author, u.created_at
         FROM report_updates u JOIN reports r ON r.id = u.report_id WHERE u.report_id = $1 ORDER BY u.id",
        &[report_id.into()],
    )?;
    Ok(rows.iter().map(update_from).collect())
}

fn update_from(r: &Row) -> Update {
    Update { id: r.i(0), reference: r.s(1), status: r.s(2), public_reply: r.os(3), author: r.s(4), created_at: r.i(5) }
}

/// Status changes of public reports between `from` (inclusive) and `until` (exclusive), oldest first.
pub fn public_updates(c: &mut dyn Conn, from: i64, until: i64, limit: i64) -> Result<Vec<Update>, DbError> {
    let rows = c.query(
        "SELECT u.id, r.reference, u.status, u.public_reply, u.author, u.created_at
         FROM report_updates u JOIN reports r ON r.id = u.report_id
         WHERE r.public = 1 AND u.created_at >= $1 AND u.created_at < $2 ORDER BY u.id LIMIT $3",
        &[from.into(), until.into(), limit.into()],
    )?;
    Ok(rows.iter().map(update_from).collect())
}

const MAX_REPLY_CHARS: usize = 4000;

/// Checks a status and a public reply as an office sends them.
pub fn check_update(status: &str, reply: Option<&str>) -> Result<(), InboxError> {
    if !REPORT_STATUSES.contains(&status) {
        return refuse(400, format!("status {status:?} is not one of {}", REPORT_STATUSES.join(", ")));
    }
    if let Some(r) = reply {
        if r.chars().count() > MAX_REPLY_CHARS {
            return refuse(400, format!("the public reply is longer than {MAX_REPLY_CHARS} characters"));
        }
        if r.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            return refuse(400, "the public reply contains control characters");
        }
    }
    Ok(())
}

/// Sets a report's status with an optional public reply and records the change. With `external_id` (an office
/// system's update id) a repeated update is recognised and changes nothing. Returns the update's id.
pub fn update_status(
    c: &mut dyn Conn,
    report_id: i64,
    status: &str,
    reply: Option<&str>,
    author: &str,
    external_id: Option<&str>,
    now: i64,
) -> Result<i64, InboxError> {
    check_update(status, reply)?;
    let reply = reply.map(str::trim).filter(|r| !r.is_empty());
    c.transaction(|c| {
        if let Some(x) = external_id
            && let Some(row) = c.one(
                "SELECT id FROM report_updates WHERE author = $1 AND external_id = $2",
                &[author.into(), x.into()],
            )?
        {
            return Ok(row.i(0));
        }
        let n = c.execute(
            "UPDATE reports SET status = $2, public_reply = COALESCE($3, public_reply), updated_at = $4 WHERE id = $1",
            &[report_id.into(), status.into(), reply.into(), now.into()],
        )?;
        if n == 0 {
            return refuse(404, "no such report");
        }
        let uid = c.next_id("update")?;
        c.execute(
            "INSERT INTO report_updates (id, report_id, status, public_reply, author, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[uid.into(), report_id.into(), status.into(), reply.into(), author.into(), external_id.into(), now.into()],
        )?;
        Ok(uid)
    })
}

/// Marks `duplicate` as a duplicate of `original` (following `original`'s own chain to its root), with a public
/// reply naming the original's reference. Both must belong to the same office.
pub fn merge(
    c: &mut dyn Conn,
    duplicate: i64,
    original: i64,
    reply: Option<&str>,
    author: &str,
    now: i64,
) -> Result<String, InboxError> {
    c.transaction(|c| {
        let mut root = original;
        for _ in 0..32 {
            match c.one("SELECT duplicate_of FROM reports WHERE id = $1", &[root.into()])? {
                Some(r) if r.oi(0).is_some() => root = r.i(0),
                Some(_) => break,
                None => return refuse(404, "no such original report"),
            }
        }
        if root == duplicate {
            return refuse(400, "a report cannot be a duplicate of itself");
        }
        let offices = c.query(
            "SELECT id, office, reference FROM reports WHERE id = $1 OR id = $2",
            &[duplicate.into(), root.into()],
        )?;
        let (Some(dup), Some(orig)) =
            (offices.iter().find(|r| r.i(0) == duplicate), offices.iter().find(|r| r.i(0) == root))
        else {
            return refuse(404, "no such report");
        };
        if dup.s(1) != orig.s(1) {
            return refuse(400, "only reports of the same office can be merged");
        }
        let reference = orig.s(2);
        let reply = reply
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("The same problem was reported as {reference}; follow it there."));
        check_update("duplicate", Some(&reply))?;
        c.execute(
            "UPDATE reports SET status = 'duplicate', duplicate_of = $2, public_reply = $3, updated_at = $4 WHERE id = $1",
            &[duplicate.into(), root.into(), reply.as_str().into(), now.into()],
        )?;
        // Reports already merged into the duplicate follow it to the root.
        c.execute("UPDATE reports SET duplicate_of = $2 WHERE duplicate_of = $1", &[duplicate.into(), root.into()])?;
        let uid = c.next_id("update")?;
        c.execute(
            "INSERT INTO report_updates (id, report_id, status, public_reply, author, created_at)
             VALUES ($1, $2, 'duplicate', $3, $4, $5)",
            &[uid.into(), duplicate.into(), reply.as_str().into(), author.into(), now.into()],
        )?;
        Ok(reference)
    })
}

/// Counts per status (for the inbox's summary), optionally for one office.
pub fn status_counts(c: &mut dyn Conn, office: Option<&str>) -> Result<BTreeMap<String, i64>, DbError> {
    let rows = match office {
        Some(o) => c.query("SELECT status, count(*) FROM reports WHERE office = $1 GROUP BY status", &[o.into()])?,
        None => c.query("SELECT status, count(*) FROM reports GROUP BY status", &[])?,
    };
    Ok(rows.iter().map(|r| (r.s(0), r.i(1))).collect())
}

// ---- offices, routes, people, keys ----

/// An office and how its reports reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Office {
    /// Name, as the pack's feedback routes write it.
    pub name: String,
    /// `inbox`, `email` or `open311`.
    pub delivery: String,
    /// E-mail address for `email`.
    pub email: Option<String>,
    /// The office system's Open311 base URL for `open311`.
    pub endpoint: Option<String>,
    /// The API key our server presents to it.
    #[serde(skip)]
    pub endpoint_api_key: Option<String>,
    /// Their jurisdiction id.
    pub endpoint_jurisdiction: Option<String>,
    /// Our service codes mapped to theirs (JSON object).
    pub service_map: String,
}

/// Every office, by name.
pub fn offices(c: &mut dyn Conn) -> Result<Vec<Office>, DbError> {
    let rows = c.query(
        "SELECT name, delivery, email, endpoint, endpoint_api_key, endpoint_jurisdiction, service_map FROM offices ORDER BY name",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| Office {
            name: r.s(0),
            delivery: r.s(1),
            email: r.os(2),
            endpoint: r.os(3),
            endpoint_api_key: r.os(4),
            endpoint_jurisdiction: r.os(5),
            service_map: r.s(6),
        })
        .collect())
}

/// Creates or changes an office.
pub fn save_office(c: &mut dyn Conn, o: &Office, now: i64) -> Result<(), InboxError> {
    if o.name.trim().is_empty() || o.name.chars().count() > 256 || o.name.chars().any(char::is_control) {
        return refuse(400, "an office needs a name of at most 256 characters");
    }
    match o.delivery.as_str() {
        "inbox" => {}
        "email" if o.email.as_deref().is_some_and(|e| e.contains('@') && !e.contains(char::is_whitespace)) => {}
        "email" => return refuse(400, "delivery by e-mail needs an e-mail address"),
        "open311" if o.endpoint.as_deref().is_some_and(|e| e.starts_with("https://") || e.starts_with("http://")) => {}
        "open311" => return refuse(400, "delivery by Open311 needs the office system's http(s) endpoint"),
        other => return refuse(400, format!("delivery {other:?} is not inbox, email or open311")),
    }
    let map: serde_json::Value =
        serde_json::from_str(if o.service_map.trim().is_empty() { "{}" } else { &o.service_map })
            .map_err(|e| InboxError::Refused(400, format!("the service code map is not JSON: {e}")))?;
    if !map.as_object().is_some_and(|m| m.values().all(|v| v.is_string())) {
        return refuse(400, "the service code map must be a JSON object of strings, e.g. {\"damage\": \"POT\"}");
    }
    c.execute(
        "INSERT INTO offices (name, delivery, email, endpoint, endpoint_api_key, endpoint_jurisdiction, service_map, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET delivery = $2, email = $3, endpoint = $4,
            endpoint_api_key = COALESCE($5, offices.endpoint_api_key), endpoint_jurisdiction = $6, service_map = $7",
        &[
            o.name.trim().into(),
            o.delivery.as_str().into(),
            o.email.clone().into(),
            o.endpoint.clone().into(),
            o.endpoint_api_key.clone().into(),
            o.endpoint_jurisdiction.clone().into(),
            map.to_string().into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// A route: which office receives Open311 requests of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// City.
    pub city_id: String,
    /// Report kind (service code).
    pub kind: String,
    /// Office.
    pub office: String,
}

/// Every route.
pub fn routes(c: &mut dyn Conn) -> Result<Vec<Route>, DbError> {
    let rows = c.query("SELECT city_id, kind, office FROM routes ORDER BY city_id, kind", &[])?;
    Ok(rows.iter().map(|r| Route { city_id: r.s(0), kind: r.s(1), office: r.s(2) }).collect())
}

/// Sets the office for one kind (creating the office if needed).
pub fn save_route(c: &mut dyn Conn, r: &Route, now: i64) -> Result<(), InboxError> {
    if !cityguide_core::pack::model::FEEDBACK_KINDS.contains(&r.kind.as_str()) {
        return refuse(400, format!("{:?} is not a report kind", r.kind));
    }
    c.transaction(|c| {
        c.execute(
            "INSERT INTO offices (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[r.office.as_str().into(), now.into()],
        )?;
        c.execute(
            "INSERT INTO routes (city_id, kind, office) VALUES ($1, $2, $3)
             ON CONFLICT (city_id, kind) DO UPDATE SET office = $3",
            &[r.city_id.as_str().into(), r.kind.as_str().into(), r.office.as_str().into()],
        )?;
        Ok(())
    })
}

/// Hex SHA-256, for tokens and keys (only their hashes are stored).
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).unwrap_or_else(|e| panic!("no secure random numbers available: {e}"));
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// An Open311 API key's holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Name (who holds it).
    pub name: String,
    /// The office whose system holds it, or none for a client.
    pub office: Option<String>,
    /// Revoked keys are refused.
    pub revoked: bool,
}

/// Makes a key; returns the secret, shown once (only its hash is stored).
pub fn create_api_key(c: &mut dyn Conn, name: &str, office: Option<&str>, now: i64) -> Result<String, InboxError> {
    if name.trim().is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return refuse(400, "an API key needs a name of at most 128 characters");
    }
    let secret = random_hex(24);
    if let Some(o) = office {
        c.execute(
            "INSERT INTO offices (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[o.into(), now.into()],
        )?;
    }
    match c.execute(
        "INSERT INTO api_keys (key_hash, name, office, revoked, created_at) VALUES ($1, $2, $3, 0, $4)",
        &[sha256_hex(&secret).into(), name.trim().into(), office.into(), now.into()],
    ) {
        Ok(_) => Ok(secret),
        Err(DbError::Unique(_)) => refuse(409, format!("there is already a key named {name:?}")),
        Err(e) => Err(e.into()),
    }
}

/// The holder of a key, unless unknown or revoked.
pub fn check_api_key(c: &mut dyn Conn, secret: &str) -> Result<Option<ApiKey>, DbError> {
    Ok(c.one("SELECT name, office, revoked FROM api_keys WHERE key_hash = $1", &[sha256_hex(secret).into()])?
        .map(|r| ApiKey { name: r.s(0), office: r.os(1), revoked: r.i(2) != 0 })
        .filter(|k| !k.revoked))
}

/// Every key (without secrets).
pub fn api_keys(c: &mut dyn Conn) -> Result<Vec<ApiKey>, DbError> {
    let rows = c.query("SELECT name, office, revoked FROM api_keys ORDER BY name", &[])?;
    Ok(rows.iter().map(|r| ApiKey { name: r.s(0), office: r.os(1), revoked: r.i(2) != 0 }).collect())
}

/// Revokes a key by name.
pub fn revoke_api_key(c: &mut dyn Conn, name: &str) -> Result<bool, DbError> {
    Ok(c.execute("UPDATE api_keys SET revoked = 1 WHERE name = $1", &[name.into()])? > 0)
}

// ---- consultations and ballots ----

/// A consultation as the server counts it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consultation {
    /// City.
    pub city_id: String,
    /// Id.
    pub id: String,
    /// The rule.
    pub rule: VotingRule,
    /// Option ids with their costs, in the pack's order.
    pub options: Vec<(String, i64)>,
    /// Proposals phase starts (0: none).
    pub proposals_opens: i64,
    /// Voting opens.
    pub opens: i64,
    /// Voting closes.
    pub closes: i64,
}

impl Consultation {
    /// `proposals`, `upcoming`, `voting` or `results` at `now`.
    pub fn phase(&self, now: i64) -> &'static str {
        if now >= self.closes {
            "results"
        } else if now >= self.opens {
            "voting"
        } else if self.proposals_opens > 0 && now >= self.proposals_opens {
            "proposals"
        } else {
            "upcoming"
        }
    }
}

fn rule_parts(rule: &VotingRule) -> (&'static str, i64, i64) {
    match *rule {
        VotingRule::Single => ("single", 1, 0),
        VotingRule::UpTo { max } => ("up_to", i64::from(max), 0),
        VotingRule::Budget { budget } => ("budget", 0, budget),
    }
}

fn consultation_from(r: &Row) -> Consultation {
    let rule = match r.s(2).as_str() {
        "up_to" => VotingRule::UpTo { max: u32::try_from(r.i(3)).unwrap_or(1) },
        "budget" => VotingRule::Budget { budget: r.i(4) },
        _ => VotingRule::Single,
    };
    let options: Vec<serde_json::Value> = serde_json::from_str(&r.s(5)).unwrap_or_default();
    Consultation {
        city_id: r.s(0),
        id: r.s(1),
        rule,
        options: options
            .iter()
            .map(|o| (o["id"].as_str().unwrap_or_default().to_owned(), o["cost"].as_i64().unwrap_or(0)))
            .collect(),
        proposals_opens: r.i(6),
        opens: r.i(7),
        closes: r.i(8),
    }
}

const CONSULTATION_COLUMNS: &str = "city_id, id, rule, max_choices, budget, options, proposals_opens, opens, closes";

/// Every consultation the server knows.
pub fn consultations(c: &mut dyn Conn) -> Result<Vec<Consultation>, DbError> {
    let rows = c.query(&format!("SELECT {CONSULTATION_COLUMNS} FROM consultations ORDER BY city_id, id"), &[])?;
    Ok(rows.iter().map(consultation_from).collect())
}

/// Registers (or updates) a consultation. Once voting has opened, its rule, options, costs and opening time are
/// fixed: a pack that changes them is refused for that consultation (the closing time may still move later, not
/// earlier than now).
pub fn register_consultation(c: &mut dyn Conn, k: &Consultation, now: i64) -> Result<(), InboxError> {
    c.transaction(|c| {
        let old = c.one(
            &format!("SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE city_id = $1 AND id = $2"),
            &[k.city_id.as_str().into(), k.id.as_str().into()],
        )?;
        if let Some(old) = old.as_ref().map(consultation_from)
            && now >= old.opens
            && (old.rule != k.rule
                || old.options != k.options
                || old.opens != k.opens
                || k.closes < old.closes.min(now))
        {
            return refuse(
                409,
                format!(
                    "consultation {}/{} has been open for votes since {}; its rule, options, costs and opening time \
                     can no longer change",
                    k.city_id, k.id, old.opens
                ),
            );
        }
        let (rule, max, budget) = rule_parts(&k.rule);
        let options: Vec<serde_json::Value> =
            k.options.iter().map(|(id, cost)| serde_json::json!({"id": id, "cost": cost})).collect();
        c.execute(
            "INSERT INTO consultations (city_id, id, rule, max_choices, budget, options, proposals_opens, opens, closes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (city_id, id) DO UPDATE SET rule = $3, max_choices = $4, budget = $5, options = $6,
                proposals_opens = $7, opens = $8, closes = $9",
            &[
                k.city_id.as_str().into(),
                k.id.as_str().into(),
                rule.into(),
                max.into(),
                budget.into(),
                serde_json::Value::from(options).to_string().into(),
                k.proposals_opens.into(),
                k.opens.into(),
                k.closes.into(),
            ],
        )?;
        Ok(())
    })
}

/// Stores a ballot: one per installation and consultation, the highest `seq` wins. Counted while voting is open by
/// the server's clock, and after the close only when the phone recorded it before the close and it arrives within
/// the grace period (`rules.ballot_grace_s`, at most [`MAX_BALLOT_GRACE_S`]).
pub fn store_ballot(c: &mut dyn Conn, b: &BallotRequest, rules: &Rules, now: i64) -> Result<&'static str, InboxError> {
    c.transaction(|c| {
        let owner = c.one("SELECT installation FROM ballot_requests WHERE key = $1", &[b.key.as_str().into()])?;
        match owner {
            Some(o) if o.s(0) == b.installation => return Ok("duplicate"),
            Some(_) => return refuse(409, "this key was already used by another installation"),
            None => {}
        }
        let recent = c
            .one(
                "SELECT count(*) FROM ballot_requests WHERE installation = $1 AND received_at > $2",
                &[b.installation.as_str().into(), (now - 3600).into()],
            )?
            .map_or(0, |r| r.i(0));
        if recent >= i64::from(rules.ballots_per_hour) {
            return refuse(
                429,
                format!("more than {} ballots in an hour from this installation; try later", rules.ballots_per_hour),
            );
        }
        let Some(k) = c
            .one(
                &format!("SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE city_id = $1 AND id = $2"),
                &[b.city_id.as_str().into(), b.consultation_id.as_str().into()],
            )?
            .as_ref()
            .map(consultation_from)
        else {
            return refuse(404, format!("{} has no consultation {} on this server", b.city_id, b.consultation_id));
        };
        let choices = b.choices();
        if let Err(e) = check_choices(&k.rule, &k.options, &choices) {
            return refuse(422, format!("consultation {}: {e}", b.consultation_id));
        }
        let grace = rules.ballot_grace_s.clamp(0, MAX_BALLOT_GRACE_S);
        let open_now = now >= k.opens && now < k.closes;
        let late_but_cast_in_time =
            now >= k.closes && now < k.closes + grace && b.cast_at >= k.opens && b.cast_at < k.closes;
        if !(open_now || late_but_cast_in_time) {
            let why = if now < k.opens {
                "is not open for votes yet"
            } else if b.cast_at >= k.closes || b.cast_at < k.opens {
                "is closed for votes, and this ballot was not cast while it was open"
            } else {
                "is closed for votes, and its grace period for ballots sent late is over"
            };
            return refuse(409, format!("consultation {} {why}", b.consultation_id));
        }
        c.execute(
            "INSERT INTO ballot_requests (key, installation, received_at) VALUES ($1, $2, $3)",
            &[b.key.as_str().into(), b.installation.as_str().into(), now.into()],
        )?;
        let options = serde_json::to_string(&choices).unwrap_or_default();
        c.execute(
            "INSERT INTO ballots (city_id, consultation_id, installation, options, seq, cast_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (city_id, consultation_id, installation) DO UPDATE
                SET options = excluded.options, seq = excluded.seq, cast_at = excluded.cast_at,
                    received_at = excluded.received_at
                WHERE excluded.seq > ballots.seq",
            &[
                b.city_id.as_str().into(),
                b.consultation_id.as_str().into(),
                b.installation.as_str().into(),
                options.into(),
                b.seq.into(),
                b.cast_at.into(),
                now.into(),
            ],
        )?;
        Ok("stored")
    })
}

/// Ballots for one option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionCount {
    /// Option id.
    pub option: String,
    /// Ballots that chose it.
    pub ballots: u64,
    /// Its cost (budget consultations).
    pub cost: i64,
    /// Funded by the greedy rule (budget consultations: most votes first while the budget lasts).
    pub funded: bool,
}

/// The result of one consultation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tally {
    /// City.
    pub city_id: String,
    /// Consultation id.
    pub id: String,
    /// Opens (RFC 3339).
    pub opens: String,
    /// Closes (RFC 3339).
    pub closes: String,
    /// Whether voting is still open.
    pub open: bool,
    /// `proposals`, `upcoming`, `voting` or `results`.
    pub phase: String,
    /// The rule.
    pub rule: VotingRule,
    /// Ballots counted (one per installation).
    pub ballots: u64,
    /// Per option, in the pack's order.
    pub options: Vec<OptionCount>,
}

/// RFC 3339 of Unix seconds.
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// The tally of every consultation.
pub fn results(c: &mut dyn Conn, now: i64) -> Result<Vec<Tally>, DbError> {
    let mut out = Vec::new();
    for k in consultations(c)? {
        let rows = c.query(
            "SELECT options FROM ballots WHERE city_id = $1 AND consultation_id = $2",
            &[k.city_id.as_str().into(), k.id.as_str().into()],
        )?;
        let mut counts: Vec<OptionCount> = k
            .options
            .iter()
            .map(|(id, cost)| OptionCount { option: id.clone(), ballots: 0, cost: *cost, funded: false })
            .collect();
        for r in &rows {
            let chosen: Vec<String> = serde_json::from_str(&r.s(0)).unwrap_or_default();
            for o in counts.iter_mut().filter(|o| chosen.contains(&o.option)) {
                o.ballots += 1;
            }
        }
        if let VotingRule::Budget { budget } = k.rule {
            let mut order: Vec<usize> = (0..counts.len()).collect();
            order.sort_by(|&a, &b| counts[b].ballots.cmp(&counts[a].ballots).then(a.cmp(&b)));
            let mut left = budget;
            for i in order {
                if counts[i].ballots > 0 && counts[i].cost <= left {
                    left -= counts[i].cost;
                    counts[i].funded = true;
                }
            }
        }
        out.push(Tally {
            city_id: k.city_id.clone(),
            id: k.id.clone(),
            opens: rfc3339(k.opens),
            closes: rfc3339(k.closes),
            open: k.phase(now) == "voting",
            phase: k.phase(now).into(),
            rule: k.rule,
            ballots: rows.len() as u64,
            options: counts,
        });
    }
    Ok(out)
}

/// Parses a ballot body (the phone's JSON) — re-exported for the handlers.
pub fn parse_ballot(body: &[u8]) -> Result<BallotRequest, String> {
    wire::parse_ballot(body)
}
