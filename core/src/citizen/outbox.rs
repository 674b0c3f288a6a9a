//! The outbox: reports and ballots wait here, durably, until the user's consent and the network let them go.
//!
//! Each item is stored with its exact request body and a random idempotency key in one transaction that SQLite
//! syncs to disk before the call returns (the store runs with `synchronous = FULL`), so an item the app showed as
//! saved survives a crash or a kill. Sending is at-least-once, and the server stores each key once, which makes the
//! effect exactly once: an answer lost on the way back only causes a retry the server recognises.
//!
//! Status of an item: `queued` (not sent yet, or the network was down), `sent` (the request left but no answer
//! confirmed it; it is retried with the same key), `acknowledged` (the server confirmed it), `rejected` (the server
//! refused it for good, with the reason; or a later vote replaced a ballot that was still waiting). Failed attempts
//! wait `Backoff::delay` before the next: exponential, capped, with random jitter so phones that come back online
//! together do not retry together.

use flatbuffers::{ForwardsUOffset, Vector};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::wire::{
    self, Ack, BALLOT_PATH, BallotRequest, FEEDBACK_PATH, FeedbackRequest, MAX_ANSWER_BYTES, MAX_BODY_BYTES,
    MAX_STATUS_ANSWER_BYTES, MAX_STATUS_KEYS, Refusal, ReportLocation, STATUS_PATH, StatusAnswer, StatusRequest,
    VotingRule, WIRE_VERSION,
};
use super::{CitizenError, ConsentScope, random_hex};
use crate::guide::{Guide, Localized};
use crate::pack::model::{BBox, Texts};
use crate::pack::{PackFile, fb};
use crate::text::lang;
use crate::update::transport::{Transport, TransportError};

/// What kind of item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxKind {
    /// A report to a city office.
    Feedback,
    /// A consultation ballot.
    Ballot,
}

impl OutboxKind {
    fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Feedback => "feedback",
            OutboxKind::Ballot => "ballot",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "feedback" => Some(OutboxKind::Feedback),
            "ballot" => Some(OutboxKind::Ballot),
            _ => None,
        }
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting to be sent.
    Queued,
    /// Sent, but no answer confirmed it yet; it will be retried with the same key.
    Sent,
    /// The server confirmed it.
    Acknowledged,
    /// Refused for good; see the reason.
    Rejected,
}

impl OutboxStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Acknowledged => "acknowledged",
            OutboxStatus::Rejected => "rejected",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(OutboxStatus::Queued),
            "sent" => Some(OutboxStatus::Sent),
            "acknowledged" => Some(OutboxStatus::Acknowledged),
            "rejected" => Some(OutboxStatus::Rejected),
            _ => None,
        }
    }
}

/// One item of the outbox, with the exact request that is (or was) sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Idempotency key (32 hex digits).
    pub key: String,
    /// Report or ballot.
    pub kind: OutboxKind,
    /// City.
    pub city_id: String,
    /// Office the report is routed to (reports only).
    pub office: Option<String>,
    /// Consultation (ballots only).
    pub consultation_id: Option<String>,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Why it was rejected, or what went wrong on the last attempt.
    pub reason: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not sent again before this time (Unix seconds).
    pub next_attempt_at: i64,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When its status last changed (Unix seconds).
    pub updated_at: i64,
    /// The JSON request body, exactly as sent (see [`super::wire`]).
    pub payload: String,
    /// What the city last said about this report (reports only; see [`Guide::refresh_report_statuses`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_status: Option<OfficeStatus>,
}

/// Where a sent report stands at the city, as its server last said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeStatus {
    /// The city's readable reference, e.g. `VAR-2027-000123`.
    pub reference: String,
    /// One of FixMyStreet's statuses ([`wire::REPORT_STATUSES`]): open, investigating, in_progress, ...
    pub status: String,
    /// What the office says publicly about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_reply: Option<String>,
    /// The reference of the report it duplicates, when merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// When the status last changed at the city (server clock, Unix seconds).
    pub updated_at: i64,
    /// When the phone last asked (Unix seconds).
    pub checked_at: i64,
}

impl OfficeStatus {
    /// Whether the city has finished with the report (fixed, closed, duplicate, ...).
    pub fn is_closed(&self) -> bool {
        wire::status_is_closed(&self.status)
    }
}

/// What one [`Guide::refresh_report_statuses`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusRefresh {
    /// Reports asked about.
    pub asked: u32,
    /// Reports the server knew.
    pub answered: u32,
    /// Reports whose status or reply changed since the last refresh.
    pub changed: u32,
}

/// A report as the user writes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackDraft {
    /// City.
    pub city_id: String,
    /// Place the report is about (a report needs a place, a location, or both).
    pub place_id: Option<String>,
    /// Report kind: accessibility, damage, cleanliness, closure, information, safety, suggestion, rating, other.
    pub category: String,
    /// What is wrong or what could be better (may be empty for a rating).
    pub text: String,
    /// 1 to 5 stars, for a rating.
    pub rating: Option<u8>,
    /// Reference to a photo (URL or upload id).
    pub photo: Option<String>,
    /// How the office may answer.
    pub contact: Option<String>,
    /// The user's position, only when the user chose to locate this report; needs the location consent.
    pub location: Option<ReportLocation>,
    /// The language the user writes in.
    pub lang: Option<String>,
    /// The user allows the city to list the report publicly (without contact details); off by default.
    pub public: bool,
}

/// The office a report goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficeInfo {
    /// Office name.
    pub office: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Web page.
    pub url: Option<String>,
}

/// What one flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlushReport {
    /// Requests made.
    pub attempted: u32,
    /// Items the server confirmed.
    pub acknowledged: u32,
    /// Items the server refused for good.
    pub rejected: u32,
    /// Items still waiting (failed now, or not due yet).
    pub pending: u32,
    /// The earliest time a waiting item is due, Unix seconds.
    pub next_attempt_at: Option<i64>,
}

/// Waits between attempts: `ceiling(n) = min(cap, base * 2^(n-1))` after the n-th failed attempt, and the actual
/// wait is drawn uniformly from `[ceiling / 2, ceiling]` ("equal jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Ceiling after the first failure, seconds.
    pub base_s: i64,
    /// Largest wait, seconds.
    pub cap_s: i64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base_s: 30, cap_s: 6 * 3600 }
    }
}

impl Backoff {
    /// Ceiling of the wait after `attempts` failed attempts (at least 1).
    pub fn ceiling(&self, attempts: u32) -> i64 {
        let base = self.base_s.max(1);
        let shift = attempts.saturating_sub(1).min(40);
        base.saturating_mul(1i64 << shift).min(self.cap_s.max(base))
    }

    /// The wait after `attempts` failed attempts, with `random` as the source of jitter.
    pub fn delay(&self, attempts: u32, random: u64) -> i64 {
        let c = self.ceiling(attempts);
        let lo = c / 2;
        lo + (random % ((c - lo) as u64 + 1)) as i64
    }
}

/// A consultation as the phone shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationInfo {
    /// City.
    pub city_id: String,
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: Localized,
    /// The question.
    pub question: Localized,
    /// Background.
    pub description: Option<Localized>,
    /// The options.
    pub options: Vec<ConsultationOptionInfo>,
    /// Opens (Unix seconds).
    pub opens: i64,
    /// Closes (Unix seconds).
    pub closes: i64,
    /// Whether votes are accepted now.
    pub open: bool,
    /// The area concerned, if not the whole city.
    pub area: Option<BBox>,
    /// The full proposal.
    pub url: Option<String>,
    /// The user's current ballot.
    pub my_ballot: Option<BallotInfo>,
    /// How voters choose: one option, up to N, or projects within a budget.
    pub rule: VotingRule,
    /// Currency of the budget and costs, if any.
    pub currency: Option<String>,
    /// `upcoming`, `proposals`, `voting` or `results` at the time asked.
    pub phase: String,
    /// Proposals accepted from (Unix seconds), if the consultation has a proposal phase.
    pub proposals_opens: Option<i64>,
}

/// One option of a consultation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationOptionInfo {
    /// Stable id.
    pub id: String,
    /// Label.
    pub label: Localized,
    /// Explanation.
    pub description: Option<Localized>,
    /// Cost of the project (budget consultations), else 0.
    pub cost: i64,
}

/// The user's ballot in one consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotInfo {
    /// City.
    pub city_id: String,
    /// Consultation.
    pub consultation_id: String,
    /// The option chosen (the first, when the rule allows several).
    pub option_id: String,
    /// Every option chosen, when the consultation allows several (pick up to N, or a budget).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_ids: Vec<String>,
    /// 1 for the first vote, one more per change.
    pub seq: i64,
    /// When the user voted (Unix seconds).
    pub cast_at: i64,
    /// The outbox item that carries it.
    pub outbox_key: String,
    /// Where that item stands.
    pub status: OutboxStatus,
}

impl BallotInfo {
    /// Every option chosen.
    pub fn choices(&self) -> Vec<String> {
        if self.option_ids.is_empty() { vec![self.option_id.clone()] } else { self.option_ids.clone() }
    }

    /// How the choice is kept in the phone's `ballots.option_id` column: the ids separated by spaces (ids are
    /// lowercase slugs, so a space never occurs in one).
    pub(super) fn stored_options(&self) -> String {
        self.choices().join(" ")
    }
}

const ITEM_COLUMNS: &str = "key, kind, city_id, office, consultation_id, status, reason, attempts, next_attempt_at, \
                            created_at, updated_at, body";

fn item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    let bad = |i: usize, s: &str| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, format!("unknown value {s:?}").into())
    };
    let kind: String = r.get(1)?;
    let status: String = r.get(5)?;
    Ok(OutboxItem {
        key: r.get(0)?,
        kind: OutboxKind::parse(&kind).ok_or_else(|| bad(1, &kind))?,
        city_id: r.get(2)?,
        office: r.get(3)?,
        consultation_id: r.get(4)?,
        status: OutboxStatus::parse(&status).ok_or_else(|| bad(5, &status))?,
        reason: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        payload: r.get(11)?,
        office_status: None,
    })
}

fn statuses(c: &rusqlite::Connection) -> rusqlite::Result<std::collections::HashMap<String, OfficeStatus>> {
    let mut st = c.prepare(
        "SELECT key, reference, status, public_reply, duplicate_of, updated_at, checked_at FROM report_status",
    )?;
    st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            OfficeStatus {
                reference: r.get(1)?,
                status: r.get(2)?,
                public_reply: r.get(3)?,
                duplicate_of: r.get(4)?,
                updated_at: r.get(5)?,
                checked_at: r.get(6)?,
            },
        ))
    })?
    .collect()
}

fn save_status(tx: &Transaction<'_>, key: &str, s: &OfficeStatus) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO report_status (key, reference, status, public_reply, duplicate_of, updated_at, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (key) DO UPDATE SET reference = ?2, status = ?3, public_reply = ?4, duplicate_of = ?5,
            updated_at = ?6, checked_at = ?7",
        params![key, s.reference, s.status, s.public_reply, s.duplicate_of, s.updated_at, s.checked_at],
    )?;
    Ok(())
}

pub(super) fn insert_item(tx: &Transaction<'_>, item: &OutboxItem) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT INTO outbox ({ITEM_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            item.key,
            item.kind.as_str(),
            item.city_id,
            item.office,
            item.consultation_id,
            item.status.as_str(),
            item.reason,
            item.attempts,
            item.next_attempt_at,
            item.created_at,
            item.updated_at,
            item.payload
        ],
    )?;
    if let Some(s) = &item.office_status {
        save_status(tx, &item.key, s)?;
    }
    Ok(())
}

pub(super) fn all_items(c: &rusqlite::Connection) -> rusqlite::Result<Vec<OutboxItem>> {
    let mut st = c.prepare(&format!("SELECT {ITEM_COLUMNS} FROM outbox ORDER BY created_at, key"))?;
    let mut items: Vec<OutboxItem> = st.query_map([], item_from_row)?.collect::<Result<_, _>>()?;
    let mut known = statuses(c)?;
    for i in &mut items {
        i.office_status = known.remove(&i.key);
    }
    Ok(items)
}

pub(super) fn all_ballots(c: &rusqlite::Connection) -> rusqlite::Result<Vec<BallotInfo>> {
    let mut st = c.prepare(
        "SELECT b.city_id, b.consultation_id, b.option_id, b.seq, b.cast_at, b.outbox_key, o.status
         FROM ballots b LEFT JOIN outbox o ON o.key = b.outbox_key ORDER BY b.city_id, b.consultation_id",
    )?;
    st.query_map([], |r| {
        let status: Option<String> = r.get(6)?;
        let stored: String = r.get(2)?;
        let ids: Vec<String> = stored.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        Ok(BallotInfo {
            city_id: r.get(0)?,
            consultation_id: r.get(1)?,
            option_id: ids.first().cloned().unwrap_or_default(),
            option_ids: if ids.len() > 1 { ids } else { Vec::new() },
            seq: r.get(3)?,
            cast_at: r.get(4)?,
            outbox_key: r.get(5)?,
            status: status.as_deref().and_then(OutboxStatus::parse).unwrap_or(OutboxStatus::Queued),
        })
    })?
    .collect()
}

/// Removes the position from every report not yet acknowledged (the user withdrew the location consent). A report
/// that had only a position is rejected, since it no longer says where.
pub(super) fn strip_locations(tx: &Transaction<'_>, now: i64) -> Result<(), CitizenError> {
    let rows: Vec<(String, String, String)> = {
        let mut st = tx.prepare("SELECT key, body, status FROM outbox WHERE kind = 'feedback'")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
    };
    for (key, body, status) in rows {
        let Ok(mut req) = serde_json::from_str::<FeedbackRequest>(&body) else { continue };
        if req.location.take().is_none() {
            continue;
        }
        let body = serde_json::to_string(&req).map_err(|e| CitizenError::Invalid(e.to_string()))?;
        let pending = status == "queued" || status == "sent";
        if pending && req.place_id.is_none() {
            tx.execute(
                "UPDATE outbox SET body = ?2, status = 'rejected', reason = ?3, updated_at = ?4 WHERE key = ?1",
                params![key, body, "location consent withdrawn before the report was sent", now],
            )?;
        } else {
            tx.execute("UPDATE outbox SET body = ?2, updated_at = ?3 WHERE key = ?1", params![key, body, now])?;
        }
    }
    Ok(())
}

fn find_by_id<'a, T: flatbuffers::Follow<'a>>(
    v: Vector<'a, ForwardsUOffset<T>>,
    id: &str,
    key: impl Fn(&T::Inner) -> &str,
) -> Option<usize> {
    let (mut lo, mut hi) = (0usize, v.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match key(&v.get(mid)).cmp(id) {
            std::cmp::Ordering::Equal => return Some(mid),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    None
}

fn texts(v: Option<Vector<'_, ForwardsUOffset<fb::LocalizedText<'_>>>>) -> Texts {
    v.map(|v| v.iter().map(|t| (t.lang().to_owned(), t.text().to_owned())).collect()).unwrap_or_default()
}

/// The office for a report: among the routes for `category`, the one whose place category is closest to the
/// place's own categories (its own category beats a parent, which beats a route for any place); ties go to the
/// publisher's order. Without a place only routes for any place apply.
fn route(pack: &PackFile, poi: Option<usize>, category: &str) -> Option<OfficeInfo> {
    let p = pack.pack();
    let cats = p.categories().unwrap_or_default();
    // Distance from the place to each of its categories and their ancestors.
    let mut distance: Vec<(String, u32)> = Vec::new();
    if let Some(i) = poi {
        for c in p.pois().unwrap_or_default().get(i).categories().unwrap_or_default() {
            let (mut cur, mut d) = (i32::from(c), 0u32);
            // The reader guarantees parents are in range and acyclic.
            while cur >= 0 && (cur as usize) < cats.len() {
                let cat = cats.get(cur as usize);
                match distance.iter_mut().find(|(id, _)| id == cat.id()) {
                    Some(e) => e.1 = e.1.min(d),
                    None => distance.push((cat.id().to_owned(), d)),
                }
                cur = cat.parent();
                d += 1;
            }
        }
    }
    let mut best: Option<(u32, fb::FeedbackRoute<'_>)> = None;
    for r in p.feedback_routes().unwrap_or_default() {
        if r.kind() != category {
            continue;
        }
        let score = match r.place_category().filter(|c| !c.is_empty()) {
            None => u32::MAX,
            Some(c) => match distance.iter().find(|(id, _)| id == c) {
                Some((_, d)) => *d,
                None => continue,
            },
        };
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, r));
        }
    }
    best.map(|(_, r)| OfficeInfo {
        office: r.office().to_owned(),
        email: r.email().map(str::to_owned),
        phone: r.phone().map(str::to_owned),
        url: r.url().map(str::to_owned),
    })
}

/// The voting rule a pack gives a consultation.
fn rule_of(c: &fb::Consultation<'_>) -> VotingRule {
    match c.rule() {
        fb::VotingRule::UpTo => VotingRule::UpTo { max: u32::from(c.max_choices()) },
        fb::VotingRule::Budget => VotingRule::Budget { budget: c.budget() },
        _ => VotingRule::Single,
    }
}

/// The phase of a consultation at `now`: proposals (from `proposals_opens`, when set), voting, results.
pub(crate) fn phase(proposals_opens: i64, opens: i64, closes: i64, now: i64) -> &'static str {
    if now >= closes {
        "results"
    } else if now >= opens {
        "voting"
    } else if proposals_opens > 0 && now >= proposals_opens {
        "proposals"
    } else {
        "upcoming"
    }
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap_or_else(|e| panic!("no secure random numbers available: {e}"));
    u64::from_le_bytes(b)
}

/// What one attempt came to.
enum Outcome {
    Acknowledged,
    Rejected(String),
    /// Try again later; `sent` when the request may have reached the server.
    Retry {
        sent: bool,
        reason: String,
    },
}

fn classify(result: Result<crate::update::transport::Fetched, TransportError>, key: &str) -> Outcome {
    let fetched = match result {
        Ok(f) => f,
        Err(TransportError::Offline) => return Outcome::Retry { sent: false, reason: "offline".into() },
        Err(e) => return Outcome::Retry { sent: true, reason: e.to_string() },
    };
    let refusal = || {
        serde_json::from_slice::<Refusal>(&fetched.body)
            .map(|r| r.error.chars().take(300).collect::<String>())
            .unwrap_or_else(|_| format!("the server answered HTTP {}", fetched.status))
    };
    match fetched.status {
        200 | 201 => match serde_json::from_slice::<Ack>(&fetched.body) {
            Ok(ack) if ack.key == key => Outcome::Acknowledged,
            _ => Outcome::Retry { sent: true, reason: "the server's answer did not confirm this item".into() },
        },
        408 | 425 | 429 => Outcome::Retry { sent: true, reason: refusal() },
        400..=499 => Outcome::Rejected(refusal()),
        _ => Outcome::Retry { sent: true, reason: refusal() },
    }
}

impl Guide {
    /// The office that would receive a report of `category` about `place_id` (or about a position, when `None`).
    pub fn feedback_office(
        &self,
        city_id: &str,
        place_id: Option<&str>,
        category: &str,
    ) -> Result<OfficeInfo, CitizenError> {
        let (office, _) = self.route_and_name(city_id, place_id, category)?;
        Ok(office)
    }

    fn route_and_name(
        &self,
        city_id: &str,
        place_id: Option<&str>,
        category: &str,
    ) -> Result<(OfficeInfo, Option<String>), CitizenError> {
        let found = self.with_pack(city_id, |pack| {
            let p = pack.pack();
            let poi = match place_id {
                Some(id) => match find_by_id(p.pois().unwrap_or_default(), id, |x| x.id()) {
                    Some(i) => Some(i),
                    None => return Err(()),
                },
                None => None,
            };
            let name = poi.map(|i| {
                let t = texts(p.pois().unwrap_or_default().get(i).name());
                let dl = p.meta().default_language();
                // The office reads the place's name in the pack's default language: an empty ranking picks it.
                lang::Ranking::default().pick_texts(&t, dl).map(|(_, n)| n.to_owned()).unwrap_or_default()
            });
            Ok((route(pack, poi, category), name))
        })?;
        match found {
            Err(()) => Err(CitizenError::Guide(crate::guide::GuideError::UnknownPlace {
                city_id: city_id.to_owned(),
                place_id: place_id.unwrap_or_default().to_owned(),
            })),
            Ok((None, _)) => Err(CitizenError::NoRoute {
                city_id: city_id.to_owned(),
                category: category.to_owned(),
                place_id: place_id.map(str::to_owned),
            }),
            Ok((Some(office), name)) => Ok((office, name)),
        }
    }

    /// Checks, routes and stores a report in the outbox; it is on disk when this returns. Nothing is sent here.
    /// Refused before anything is stored: an empty or oversized text, an unknown category or place, a report with
    /// neither place nor location, a location without the location consent, a city with no office for the category.
    pub fn submit_feedback(&self, draft: &FeedbackDraft, now: i64) -> Result<OutboxItem, CitizenError> {
        let text = draft.text.trim().to_owned();
        wire::check_report_fields(&draft.category, &text, draft.rating).map_err(CitizenError::Invalid)?;
        if let Some(l) = &draft.location {
            self.require_consent(ConsentScope::Location)?;
            wire::check_location(l).map_err(CitizenError::Invalid)?;
        }
        if draft.place_id.is_none() && draft.location.is_none() {
            return Err(CitizenError::Invalid("a report needs a place or a location".into()));
        }
        let (office, place_name) = self.route_and_name(&draft.city_id, draft.place_id.as_deref(), &draft.category)?;
        let nonempty = |s: &Option<String>| s.as_ref().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let req = FeedbackRequest {
            v: WIRE_VERSION,
            key: random_hex(16),
            installation: self.installation_key()?,
            city_id: draft.city_id.clone(),
            office: office.office.clone(),
            category: draft.category.clone(),
            place_id: draft.place_id.clone(),
            place_name: place_name.filter(|n| !n.is_empty()),
            text,
            rating: draft.rating,
            photo: nonempty(&draft.photo),
            contact: nonempty(&draft.contact),
            location: draft.location,
            lang: nonempty(&draft.lang),
            created_at: now,
            public: draft.public.then_some(true),
        };
        req.validate().map_err(CitizenError::Invalid)?;
        let payload = serde_json::to_string(&req).map_err(|e| CitizenError::Invalid(e.to_string()))?;
        if payload.len() > MAX_BODY_BYTES {
            return Err(CitizenError::Invalid(format!(
                "the report is {} bytes; at most {MAX_BODY_BYTES} are accepted",
                payload.len()
            )));
        }
        let item = OutboxItem {
            key: req.key.clone(),
            kind: OutboxKind::Feedback,
            city_id: req.city_id.clone(),
            office: Some(office.office),
            consultation_id: None,
            status: OutboxStatus::Queued,
            reason: None,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            updated_at: now,
            payload,
            office_status: None,
        };
        self.store().write(|tx| insert_item(tx, &item).map_err(CitizenError::from))?;
        Ok(item)
    }

    /// Everything in the outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxItem>, CitizenError> {
        Ok(self.store().read(all_items)?)
    }

    /// One outbox item.
    pub fn outbox_item(&self, key: &str) -> Result<Option<OutboxItem>, CitizenError> {
        Ok(self.store().read(|c| {
            let item = c
                .query_row(&format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE key = ?1"), [key], item_from_row)
                .optional()?;
            Ok(item.map(|mut i| {
                i.office_status = statuses(c).ok().and_then(|mut m| m.remove(&i.key));
                i
            }))
        })?)
    }

    /// Sends every due item to the city's server at `server_url` (its base URL) with the default [`Backoff`].
    /// Needs the feedback consent: without it nothing is sent and no request is made.
    pub fn flush_outbox(
        &self,
        transport: &dyn Transport,
        server_url: &str,
        now: i64,
    ) -> Result<FlushReport, CitizenError> {
        self.flush_outbox_with(transport, server_url, now, &Backoff::default())
    }

    /// [`Guide::flush_outbox`] with a chosen backoff.
    pub fn flush_outbox_with(
        &self,
        transport: &dyn Transport,
        server_url: &str,
        now: i64,
        backoff: &Backoff,
    ) -> Result<FlushReport, CitizenError> {
        self.require_consent(ConsentScope::Feedback)?;
        let base = server_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(CitizenError::Invalid(format!(
                "server URL {server_url:?} must start with https:// or http://"
            )));
        }
        let due: Vec<OutboxItem> = self.store().read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ITEM_COLUMNS} FROM outbox WHERE status IN ('queued', 'sent') AND next_attempt_at <= ?1
                 ORDER BY created_at, key"
            ))?;
            st.query_map([now], item_from_row)?.collect()
        })?;
        let mut report = FlushReport::default();
        for item in due {
            // Consent can be withdrawn from another thread while a flush runs: check before every request.
            self.require_consent(ConsentScope::Feedback)?;
            let path = match item.kind {
                OutboxKind::Feedback => FEEDBACK_PATH,
                OutboxKind::Ballot => BALLOT_PATH,
            };
            let result = transport.post(
                &format!("{base}/{path}"),
                "application/json",
                item.payload.as_bytes(),
                MAX_ANSWER_BYTES,
            );
            report.attempted += 1;
            let offline = matches!(result, Err(TransportError::Offline));
            let attempts = item.attempts.saturating_add(1);
            match classify(result, &item.key) {
                Outcome::Acknowledged => {
                    // The office has the position now; the phone keeps no copy of it.
                    let body = match serde_json::from_str::<FeedbackRequest>(&item.payload) {
                        Ok(mut r) if r.location.is_some() => {
                            r.location = None;
                            serde_json::to_string(&r).unwrap_or(item.payload.clone())
                        }
                        _ => item.payload.clone(),
                    };
                    self.store().write(|tx| {
                        tx.execute(
                            "UPDATE outbox SET status = 'acknowledged', reason = NULL, attempts = ?2, updated_at = ?3,
                             body = ?4 WHERE key = ?1",
                            params![item.key, attempts, now, body],
                        )
                        .map_err(CitizenError::from)
                    })?;
                    report.acknowledged += 1;
                }
                Outcome::Rejected(reason) => {
                    self.store().write(|tx| {
                        tx.execute(
                            "UPDATE outbox SET status = 'rejected', reason = ?2, attempts = ?3, updated_at = ?4
                             WHERE key = ?1",
                            params![item.key, reason, attempts, now],
                        )
                        .map_err(CitizenError::from)
                    })?;
                    report.rejected += 1;
                }
                Outcome::Retry { sent, reason } => {
                    let next = now.saturating_add(backoff.delay(attempts, random_u64()));
                    let status = if sent || item.status == OutboxStatus::Sent { "sent" } else { "queued" };
                    self.store().write(|tx| {
                        tx.execute(
                            "UPDATE outbox SET status = ?2, reason = ?3, attempts = ?4, next_attempt_at = ?5,
                             updated_at = ?6 WHERE key = ?1",
                            params![item.key, status, reason, attempts, next, now],
                        )
                        .map_err(CitizenError::from)
                    })?;
                }
            }
            if offline {
                // No network: the other items would fail the same way; they keep their turn.
                break;
            }
        }
        let (pending, next): (u32, Option<i64>) = self.store().read(|c| {
            c.query_row(
                "SELECT count(*), min(next_attempt_at) FROM outbox WHERE status IN ('queued', 'sent')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })?;
        report.pending = pending;
        report.next_attempt_at = next;
        Ok(report)
    }

    /// The consultations of an installed city, in the reader's languages, with the user's ballot in each.
    pub fn consultations(&self, city_id: &str, now: i64) -> Result<Vec<ConsultationInfo>, CitizenError> {
        let reader = self.reader_languages();
        let ballots = self.store().read(all_ballots)?;
        let list = self.with_pack(city_id, |pack| {
            let p = pack.pack();
            let dl = p.meta().default_language().to_owned();
            let offered = p.meta().languages().map(|l| l.iter().collect::<Vec<_>>()).unwrap_or_default();
            let ranking = lang::LanguageList::offered(offered).ranking(&reader);
            let res = |v| {
                let t = texts(v);
                ranking.pick_texts(&t, &dl).map(|(l, t)| Localized { text: t.to_owned(), lang: l.to_owned() })
            };
            let empty = || Localized { text: String::new(), lang: dl.clone() };
            p.consultations()
                .unwrap_or_default()
                .iter()
                .map(|c| ConsultationInfo {
                    city_id: city_id.to_owned(),
                    id: c.id().to_owned(),
                    title: res(c.title()).unwrap_or_else(empty),
                    question: res(c.question()).unwrap_or_else(empty),
                    description: res(c.description()),
                    options: c
                        .options()
                        .unwrap_or_default()
                        .iter()
                        .map(|o| ConsultationOptionInfo {
                            id: o.id().to_owned(),
                            label: res(o.label()).unwrap_or_else(empty),
                            description: res(o.description()),
                            cost: o.cost(),
                        })
                        .collect(),
                    opens: c.opens(),
                    closes: c.closes(),
                    open: now >= c.opens() && now < c.closes(),
                    area: c.area().map(|a| BBox {
                        min_lat: a.min_lat(),
                        min_lon: a.min_lon(),
                        max_lat: a.max_lat(),
                        max_lon: a.max_lon(),
                    }),
                    url: c.url().map(str::to_owned),
                    my_ballot: ballots.iter().find(|b| b.city_id == city_id && b.consultation_id == c.id()).cloned(),
                    rule: rule_of(&c),
                    currency: c.currency().map(str::to_owned),
                    phase: phase(c.proposals_opens(), c.opens(), c.closes(), now).to_owned(),
                    proposals_opens: Some(c.proposals_opens()).filter(|t| *t != 0),
                })
                .collect::<Vec<_>>()
        })?;
        Ok(list)
    }

    /// Records the user's choice in a consultation and queues the ballot in the outbox (durably). A later call
    /// changes the vote: the new ballot carries a higher sequence number, so the server keeps it whatever order
    /// the requests arrive in, and an older ballot still waiting is withdrawn. Refused when the consultation is
    /// not open at `now`.
    pub fn vote(
        &self,
        city_id: &str,
        consultation_id: &str,
        option_id: &str,
        now: i64,
    ) -> Result<BallotInfo, CitizenError> {
        self.vote_for(city_id, consultation_id, &[option_id.to_owned()], now)
    }

    /// Records a ballot that may choose several options, checked offline against the consultation's rule (pick
    /// one, pick up to N, or projects whose costs fit the budget; the server checks again). Otherwise as
    /// [`Guide::vote`].
    pub fn vote_for(
        &self,
        city_id: &str,
        consultation_id: &str,
        option_ids: &[String],
        now: i64,
    ) -> Result<BallotInfo, CitizenError> {
        let found = self.with_pack(city_id, |pack| {
            let cons = pack.pack().consultations().unwrap_or_default();
            find_by_id(cons, consultation_id, |c| c.id()).map(|i| {
                let c = cons.get(i);
                let options: Vec<(String, i64)> =
                    c.options().unwrap_or_default().iter().map(|o| (o.id().to_owned(), o.cost())).collect();
                (c.opens(), c.closes(), options, rule_of(&c))
            })
        })?;
        let Some((opens, closes, options, rule)) = found else {
            return Err(CitizenError::UnknownConsultation {
                city_id: city_id.to_owned(),
                consultation_id: consultation_id.to_owned(),
            });
        };
        if let Some(unknown) = option_ids.iter().find(|o| !options.iter().any(|(id, _)| id == *o)) {
            return Err(CitizenError::UnknownOption {
                consultation_id: consultation_id.to_owned(),
                option_id: unknown.clone(),
                options: options.into_iter().map(|(id, _)| id).collect(),
            });
        }
        if let Err(reason) = wire::check_choices(&rule, &options, option_ids) {
            return Err(CitizenError::BallotRule { consultation_id: consultation_id.to_owned(), reason });
        }
        let option_id = option_ids[0].as_str();
        let several = option_ids.len() > 1;
        if !(now >= opens && now < closes) {
            return Err(CitizenError::ConsultationClosed {
                consultation_id: consultation_id.to_owned(),
                opens,
                closes,
            });
        }
        let installation = self.installation_key()?;
        self.store().write(|tx| -> Result<BallotInfo, CitizenError> {
            let current: Option<(String, i64, String)> = tx
                .query_row(
                    "SELECT option_id, seq, outbox_key FROM ballots WHERE city_id = ?1 AND consultation_id = ?2",
                    params![city_id, consultation_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let wanted = option_ids.join(" ");
            if let Some((opt, _, key)) = &current
                && *opt == wanted
            {
                let status: Option<String> =
                    tx.query_row("SELECT status FROM outbox WHERE key = ?1", [key], |r| r.get(0)).optional()?;
                if let Some(st) = status.as_deref().and_then(OutboxStatus::parse)
                    && st != OutboxStatus::Rejected
                {
                    // The same choice again: nothing new to send.
                    return all_ballots(tx)?
                        .into_iter()
                        .find(|b| b.city_id == city_id && b.consultation_id == consultation_id)
                        .ok_or_else(|| CitizenError::Invalid("ballot vanished".into()));
                }
            }
            let seq = current.as_ref().map_or(1, |(_, s, _)| s + 1);
            let req = BallotRequest {
                v: WIRE_VERSION,
                key: random_hex(16),
                installation,
                city_id: city_id.to_owned(),
                consultation_id: consultation_id.to_owned(),
                option_id: option_id.to_owned(),
                option_ids: if several { option_ids.to_vec() } else { Vec::new() },
                seq,
                cast_at: now,
            };
            req.validate().map_err(CitizenError::Invalid)?;
            tx.execute(
                "UPDATE outbox SET status = 'rejected', reason = 'replaced by a later vote', updated_at = ?3
                 WHERE kind = 'ballot' AND city_id = ?1 AND consultation_id = ?2 AND status = 'queued'",
                params![city_id, consultation_id, now],
            )?;
            let item = OutboxItem {
                key: req.key.clone(),
                kind: OutboxKind::Ballot,
                city_id: city_id.to_owned(),
                office: None,
                consultation_id: Some(consultation_id.to_owned()),
                status: OutboxStatus::Queued,
                reason: None,
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
                updated_at: now,
                payload: serde_json::to_string(&req).map_err(|e| CitizenError::Invalid(e.to_string()))?,
                office_status: None,
            };
            insert_item(tx, &item)?;
            tx.execute(
                "INSERT INTO ballots (city_id, consultation_id, option_id, seq, cast_at, outbox_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (city_id, consultation_id) DO UPDATE SET option_id = ?3, seq = ?4, cast_at = ?5,
                 outbox_key = ?6",
                params![city_id, consultation_id, wanted, seq, now, item.key],
            )?;
            Ok(BallotInfo {
                city_id: city_id.to_owned(),
                consultation_id: consultation_id.to_owned(),
                option_id: option_id.to_owned(),
                option_ids: if several { option_ids.to_vec() } else { Vec::new() },
                seq,
                cast_at: now,
                outbox_key: item.key,
                status: OutboxStatus::Queued,
            })
        })
    }

    /// Asks the city's server at `server_url` where the user's sent reports stand, and keeps the answers with the
    /// outbox items ([`OutboxItem::office_status`]). Needs the feedback consent; sends only the installation key
    /// and the reports' own keys (at most [`MAX_STATUS_KEYS`] per request), and the server answers only for this
    /// installation's reports. Items the server does not know keep what they had.
    pub fn refresh_report_statuses(
        &self,
        transport: &dyn Transport,
        server_url: &str,
        now: i64,
    ) -> Result<StatusRefresh, CitizenError> {
        self.require_consent(ConsentScope::Feedback)?;
        let base = server_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(CitizenError::Invalid(format!(
                "server URL {server_url:?} must start with https:// or http://"
            )));
        }
        let (keys, known): (Vec<String>, std::collections::HashMap<String, OfficeStatus>) = self.store().read(|c| {
            let mut st = c.prepare(
                "SELECT key FROM outbox WHERE kind = 'feedback' AND status = 'acknowledged' ORDER BY created_at, key",
            )?;
            let keys = st.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok((keys, statuses(c)?))
        })?;
        let mut out = StatusRefresh::default();
        if keys.is_empty() {
            return Ok(out);
        }
        let installation = self.installation_key()?;
        for chunk in keys.chunks(MAX_STATUS_KEYS) {
            self.require_consent(ConsentScope::Feedback)?;
            let req = StatusRequest { v: WIRE_VERSION, installation: installation.clone(), keys: chunk.to_vec() };
            let body = serde_json::to_vec(&req).map_err(|e| CitizenError::Invalid(e.to_string()))?;
            let fetched = transport
                .post(&format!("{base}/{STATUS_PATH}"), "application/json", &body, MAX_STATUS_ANSWER_BYTES)
                .map_err(|e| CitizenError::Unavailable(e.to_string()))?;
            if fetched.status != 200 {
                let why = serde_json::from_slice::<Refusal>(&fetched.body)
                    .map(|r| r.error.chars().take(300).collect::<String>())
                    .unwrap_or_else(|_| format!("HTTP {}", fetched.status));
                return Err(CitizenError::Unavailable(format!("the server refused the status request: {why}")));
            }
            let answer: StatusAnswer = serde_json::from_slice(&fetched.body)
                .map_err(|e| CitizenError::Unavailable(format!("the server's answer is not a status answer: {e}")))?;
            out.asked += chunk.len() as u32;
            self.store().write(|tx| -> Result<(), CitizenError> {
                for r in answer.reports.iter().filter(|r| chunk.contains(&r.key)) {
                    if !wire::REPORT_STATUSES.contains(&r.status.as_str())
                        || r.reference.chars().count() > 64
                        || r.public_reply.as_ref().is_some_and(|p| p.chars().count() > 4000)
                    {
                        continue;
                    }
                    let s = OfficeStatus {
                        reference: r.reference.clone(),
                        status: r.status.clone(),
                        public_reply: r.public_reply.clone(),
                        duplicate_of: r.duplicate_of.clone(),
                        updated_at: r.updated_at,
                        checked_at: now,
                    };
                    out.answered += 1;
                    let before = known.get(&r.key);
                    if before.is_none_or(|b| b.status != s.status || b.public_reply != s.public_reply) {
                        out.changed += 1;
                    }
                    save_status(tx, &r.key, &s)?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// The user's ballots in every consultation.
    pub fn ballots(&self) -> Result<Vec<BallotInfo>, CitizenError> {
        Ok(self.store().read(all_ballots)?)
    }
}
