//! Delivery to offices that have their own systems: by e-mail (SMTP through `lettre`) or by Open311 to their
//! endpoint with our service codes mapped to theirs.
//!
//! A report for such an office gets a `deliveries` row in the same transaction that stores it, so nothing is lost
//! between the two. A worker wakes every `delivery.interval_s`, takes the due rows, and sends each on the blocking
//! pool. A failure waits `retry_base_s · 2^(n-1)` (at most 6 hours) before the next attempt; after
//! `delivery.attempts` failures the row is `dead`, listed for the administrator in the inbox, who can send it again.
//! Delivery is at least once: an answer lost after the relay or the office's system accepted a report causes a second
//! attempt. An e-mail repeat carries the same reference in its subject; an Open311 repeat carries the same
//! `attribute[cityguide_reference]` and the same content, which another cityguide server recognises as a duplicate
//! (its key is derived from the client and the content).

use std::collections::HashMap;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{Message, SmtpTransport, Transport};

use crate::app::Shared;
use crate::db::{Conn, DbError};
use crate::store::{self, Office, Report};

/// One due delivery.
#[derive(Debug, Clone)]
struct Due {
    report: Report,
    office: Office,
    attempts: i64,
}

fn due(c: &mut dyn Conn, now: i64) -> Result<Vec<Due>, DbError> {
    let rows = c.query(
        "SELECT report_id, attempts FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT 20",
        &[now.into()],
    )?;
    let offices = store::offices(c)?;
    let mut out = Vec::new();
    for r in rows {
        let Some(report) = store::report(c, r.i(0))? else { continue };
        let Some(office) = offices.iter().find(|o| o.name == report.office).cloned() else { continue };
        out.push(Due { report, office, attempts: r.i(1) });
    }
    Ok(out)
}

fn subject(r: &Report) -> String {
    format!(
        "[{}] {}{}",
        r.reference,
        r.category,
        r.place_name.as_ref().or(r.place_id.as_ref()).map(|p| format!(" — {p}")).unwrap_or_default()
    )
}

fn body(r: &Report) -> String {
    let mut s =
        format!("Reference: {}\nKind: {}\nReceived: {}\n", r.reference, r.category, store::rfc3339(r.received_at));
    if let Some(p) = &r.place_name {
        s += &format!("Place: {p}\n");
    }
    if let Some(p) = &r.place_id {
        s += &format!("Place id: {p}\n");
    }
    if let Some(a) = &r.address {
        s += &format!("Address: {a}\n");
    }
    if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
        s += &format!("Position: {lat:.6}, {lon:.6}\n");
    }
    if let Some(x) = r.rating {
        s += &format!("Rating: {x} of 5\n");
    }
    if let Some(c) = &r.contact {
        s += &format!("Contact: {c}\n");
    }
    if let Some(p) = &r.photo {
        s += &format!("Photo: {p}\n");
    }
    s += &format!(
        "\n{}\n\n-- \nAnswer in the city's inbox or by Open311 servicerequestupdates with this reference.\n",
        r.text
    );
    s
}

fn send_email(cfg: &crate::config::DeliverySection, office: &Office, r: &Report) -> Result<Option<String>, String> {
    let to: Mailbox = office.email.as_deref().unwrap_or("").parse().map_err(|e| format!("office e-mail: {e}"))?;
    let from: Mailbox = cfg.from.parse().map_err(|e| format!("delivery.from: {e}"))?;
    let msg = Message::builder()
        .from(from)
        .to(to)
        .subject(subject(r))
        .header(ContentType::TEXT_PLAIN)
        .body(body(r))
        .map_err(|e| e.to_string())?;
    let mailer = SmtpTransport::builder_dangerous(&cfg.smtp_host)
        .port(cfg.smtp_port)
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let resp = mailer.send(&msg).map_err(|e| format!("SMTP: {e}"))?;
    Ok(resp.message().next().map(|m| m.chars().take(200).collect()))
}

fn send_open311(office: &Office, r: &Report) -> Result<Option<String>, String> {
    let endpoint = office.endpoint.as_deref().unwrap_or("").trim_end_matches('/');
    let map: HashMap<String, String> = serde_json::from_str(&office.service_map).unwrap_or_default();
    let code = map.get(&r.category).cloned().unwrap_or_else(|| r.category.clone());
    let mut form: Vec<(&str, String)> = vec![
        ("service_code", code),
        ("description", r.text.clone()),
        ("attribute[cityguide_reference]", r.reference.clone()),
    ];
    if let Some(k) = &office.endpoint_api_key {
        form.push(("api_key", k.clone()));
    }
    if let Some(j) = &office.endpoint_jurisdiction {
        form.push(("jurisdiction_id", j.clone()));
    }
    if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
        form.push(("lat", lat.to_string()));
        form.push(("long", lon.to_string()));
    }
    if let Some(a) = r.address.as_ref().or(r.place_name.as_ref()) {
        form.push(("address_string", a.clone()));
    }
    if let Some(p) = &r.place_id {
        form.push(("address_id", p.clone()));
    }
    if let Some(m) = &r.photo {
        form.push(("media_url", m.clone()));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let resp = agent.post(&format!("{endpoint}/requests.json")).send_form(form).map_err(|e| format!("Open311: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.into_body().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(format!("Open311: HTTP {status}: {}", text.chars().take(300).collect::<String>()));
    }
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("Open311: the answer is not JSON: {e}"))?;
    let id = v[0]["service_request_id"].as_str().or(v[0]["token"].as_str()).map(str::to_owned);
    if id.is_none() {
        return Err("Open311: the answer has no service_request_id".into());
    }
    Ok(id)
}

/// Sends one due delivery; returns what happened for the log.
async fn attempt(s: &Shared, d: Due) {
    let cfg = s.config.delivery.clone();
    let (report, office) = (d.report.clone(), d.office.clone());
    let result = tokio::task::spawn_blocking(move || match office.delivery.as_str() {
        "email" => send_email(&cfg, &office, &report),
        "open311" => send_open311(&office, &report),
        other => Err(format!("office delivery {other:?} needs no delivery")),
    })
    .await
    .unwrap_or_else(|e| Err(format!("the delivery task failed: {e}")));
    let now = chrono::Utc::now().timestamp();
    let attempts = d.attempts + 1;
    let id = d.report.id;
    let max = i64::from(s.rules.delivery_attempts);
    let base = s.config.delivery.retry_base_s.max(1);
    let outcome = match &result {
        Ok(_) => "delivered",
        Err(_) if attempts >= max => "dead",
        Err(_) => "pending",
    };
    s.metrics.event(&format!("deliveries_{outcome}"));
    match &result {
        Ok(_) => tracing::info!(reference = %d.report.reference, office = %d.office.name, "delivered"),
        Err(e) => {
            tracing::warn!(reference = %d.report.reference, office = %d.office.name, attempts, error = %e, "delivery failed")
        }
    }
    let wait = base.saturating_mul(1i64 << (attempts - 1).clamp(0, 20)).min(6 * 3600);
    let (err, ext) = match result {
        Ok(x) => (None, x),
        Err(e) => (Some(e), None),
    };
    let _ =
        s.db.run(move |c| {
            c.execute(
                "UPDATE deliveries SET state = $2, attempts = $3, next_attempt_at = $4, last_error = $5,
                    external_id = COALESCE($6, external_id), updated_at = $7 WHERE report_id = $1",
                &[id.into(), outcome.into(), attempts.into(), (now + wait).into(), err.into(), ext.into(), now.into()],
            )
        })
        .await;
}

/// Runs until `stop` turns true.
pub async fn worker(s: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = Duration::from_secs(s.config.delivery.interval_s.max(1));
    loop {
        let now = chrono::Utc::now().timestamp();
        if let Ok(list) = s.db.run(move |c| due(c, now)).await {
            for d in list {
                if *stop.borrow() {
                    return;
                }
                attempt(&s, d).await;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// A delivery as the administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryRow {
    /// The report's reference.
    pub reference: String,
    /// Internal report id.
    pub report_id: i64,
    /// Office.
    pub office: String,
    /// `email` or `open311`.
    pub channel: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When it last changed.
    pub updated_at: i64,
}

/// Deliveries in one state (`dead` for the dead-letter list), newest first.
pub fn list(c: &mut dyn Conn, state: &str) -> Result<Vec<DeliveryRow>, DbError> {
    let rows = c.query(
        "SELECT r.reference, d.report_id, d.office, d.channel, d.state, d.attempts, d.last_error, d.updated_at
         FROM deliveries d JOIN reports r ON r.id = d.report_id WHERE d.state = $1 ORDER BY d.updated_at DESC LIMIT 500",
        &[state.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| DeliveryRow {
            reference: r.s(0),
            report_id: r.i(1),
            office: r.s(2),
            channel: r.s(3),
            state: r.s(4),
            attempts: r.i(5),
            last_error: r.os(6),
            updated_at: r.i(7),
        })
        .collect())
}

/// Puts a dead delivery back in the queue (the administrator fixed the office's address, or its system is back).
pub fn retry(c: &mut dyn Conn, report_id: i64, now: i64) -> Result<bool, DbError> {
    Ok(c.execute(
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2
         WHERE report_id = $1 AND state = 'dead'",
        &[report_id.into(), now.into()],
    )? > 0)
}
