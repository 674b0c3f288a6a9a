//! The phone's own JSON endpoints: `POST /v1/feedback`, `POST /v1/ballots` and `POST /v1/status`, checked with the
//! same wire rules the phone applies (`cityguide_core::citizen::wire`).
//!
//! Statuses: 200 stored or duplicate (`{"key", "status"}`), 400 malformed or invalid (with the reason), 404 unknown
//! consultation, 409 a key of another installation or a closed consultation, 413 a body over 16 KiB, 415 not JSON,
//! 422 a ballot against the consultation's rule, 429 over the hourly limit, 503 the database is unavailable.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use cityguide_core::citizen::wire::{self, Ack, MAX_BODY_BYTES, StatusAnswer};

use crate::app::{Shared, db_unavailable, json_error};
use crate::store::{self, InboxError, NewReport};

/// 415 unless the request says it is JSON.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), Response> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(json_error(
            415,
            &format!("the body must be application/json, not {:?}", ct.chars().take(80).collect::<String>()),
        ))
    }
}

fn check_body(headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    require_json(headers)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(json_error(
            413,
            &format!("the body has {} bytes; at most {MAX_BODY_BYTES} are accepted", body.len()),
        ));
    }
    Ok(())
}

fn ack(key: &str, status: &str) -> Response {
    axum::Json(Ack { key: key.to_owned(), status: status.to_owned() }).into_response()
}

pub(crate) fn inbox_error(s: &Shared, e: InboxError) -> Response {
    match e {
        InboxError::Refused(status, msg) => {
            s.metrics.event(&format!("refused_{status}"));
            json_error(status, &msg)
        }
        InboxError::Db(e) => db_unavailable(&e),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `POST /v1/feedback`.
pub async fn feedback(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_body(&headers, &body) {
        return r;
    }
    let r = match wire::parse_feedback(&body) {
        Ok(r) => r,
        Err(e) => {
            s.metrics.event("refused_400");
            return json_error(400, &e);
        }
    };
    let key = r.key.clone();
    let new = NewReport {
        key: r.key,
        installation: Some(r.installation),
        source: "phone".into(),
        city_id: r.city_id,
        office: r.office.trim().to_owned(),
        category: r.category,
        place_id: r.place_id,
        place_name: r.place_name,
        address: None,
        text: r.text,
        rating: r.rating,
        photo: r.photo,
        contact: r.contact,
        lat: r.location.map(|l| l.lat),
        lon: r.location.map(|l| l.lon),
        accuracy_m: r.location.and_then(|l| l.accuracy_m),
        lang: r.lang,
        public: r.public.unwrap_or(false),
        created_at: r.created_at,
    };
    let rules = s.rules.clone();
    match s.db.run(move |c| store::store_report(c, &new, &rules, now())).await {
        Ok(st) => {
            s.metrics.event(if st.duplicate { "reports_duplicate" } else { "reports_stored" });
            if !st.duplicate {
                tracing::info!(reference = %st.reference, "report stored");
            }
            ack(&key, if st.duplicate { "duplicate" } else { "stored" })
        }
        Err(e) => inbox_error(&s, e),
    }
}

/// `POST /v1/ballots`.
pub async fn ballot(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_body(&headers, &body) {
        return r;
    }
    let b = match wire::parse_ballot(&body) {
        Ok(b) => b,
        Err(e) => {
            s.metrics.event("refused_400");
            return json_error(400, &e);
        }
    };
    let rules = s.rules.clone();
    let key = b.key.clone();
    match s.db.run(move |c| store::store_ballot(c, &b, &rules, now())).await {
        Ok(status) => {
            s.metrics.event(if status == "duplicate" { "ballots_duplicate" } else { "ballots_stored" });
            ack(&key, status)
        }
        Err(e) => inbox_error(&s, e),
    }
}

/// `POST /v1/status`: the statuses of the installation's own reports among the keys named.
pub async fn status(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_body(&headers, &body) {
        return r;
    }
    let q = match wire::parse_status(&body) {
        Ok(q) => q,
        Err(e) => return json_error(400, &e),
    };
    match s.db.run(move |c| store::own_statuses(c, &q.installation, &q.keys)).await {
        Ok(reports) => axum::Json(StatusAnswer { reports }).into_response(),
        Err(e) => db_unavailable(&e),
    }
}
