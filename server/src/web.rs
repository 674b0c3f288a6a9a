//! The office inbox in a browser, under `/inbox/`: server-rendered HTML in Bulgarian and English, usable with a
//! keyboard and a screen reader (labelled controls, a skip link, tables with headers, status messages announced),
//! no JavaScript and nothing loaded from elsewhere (a strict Content-Security-Policy says so).
//!
//! Who sees what: staff see and change only their office's reports (another office's report answers 404, by link or
//! by typed URL, so its existence is not revealed); an administrator sees every office and manages offices, routes,
//! API keys, people and the dead-letter list. Every POST carries the session's CSRF token; every text shown is
//! escaped; CSV exports defuse cells a spreadsheet would read as formulas.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cityguide_core::citizen::wire::{REPORT_STATUSES, VotingRule};
use cityguide_core::pack::model::FEEDBACK_KINDS;

use crate::app::Shared;
use crate::auth::{self, Login, User};
use crate::delivery;
use crate::store::{self, Filter, InboxError, Office, Report, Route, rfc3339};

const COOKIE: &str = "cg_session";
const LANG_COOKIE: &str = "cg_lang";
const PAGE: i64 = 50;

/// The routes, all under `/inbox/`.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/inbox/", get(list))
        .route("/inbox", get(|| async { Redirect::permanent("/inbox/") }))
        .route("/inbox/login", get(login_page).post(login_post))
        .route("/inbox/logout", post(logout))
        .route("/inbox/lang", get(set_lang))
        .route("/inbox/reports/{id}", get(detail))
        .route("/inbox/reports/{id}/status", post(change_status))
        .route("/inbox/reports/{id}/merge", post(merge))
        .route("/inbox/export.csv", get(export_csv))
        .route("/inbox/consultations", get(consultations))
        .route("/results/", get(public_results))
        .route("/inbox/admin", get(admin))
        .route("/inbox/admin/offices", post(admin_office))
        .route("/inbox/admin/routes", post(admin_route))
        .route("/inbox/admin/keys", post(admin_key))
        .route("/inbox/admin/keys/revoke", post(admin_revoke))
        .route("/inbox/admin/users", post(admin_user))
        .route("/inbox/admin/deliveries/{id}/retry", post(admin_retry))
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One phrase in Bulgarian or English.
fn t(lang: &str, key: &str) -> &'static str {
    let (bg, en) = match key {
        "inbox" => ("Входяща поща", "Inbox"),
        "title" => ("Сигнали от граждани", "Citizens' reports"),
        "skip" => ("Към съдържанието", "Skip to content"),
        "signin" => ("Вход", "Sign in"),
        "signout" => ("Изход", "Sign out"),
        "name" => ("Потребителско име", "User name"),
        "password" => ("Парола", "Password"),
        "wrong" => ("Грешно име или парола.", "Wrong name or password."),
        "locked" => (
            "Твърде много неуспешни опити. Профилът е заключен до",
            "Too many failed attempts. The account is locked until",
        ),
        "reports" => ("Сигнали", "Reports"),
        "consultations" => ("Допитвания", "Consultations"),
        "admin" => ("Администрация", "Administration"),
        "filter" => ("Филтър", "Filter"),
        "apply" => ("Покажи", "Show"),
        "status" => ("Състояние", "Status"),
        "any" => ("всички", "any"),
        "category" => ("Вид", "Kind"),
        "from" => ("От дата", "From date"),
        "until" => ("До дата", "Until date"),
        "place" => ("Място", "Place"),
        "office" => ("Служба", "Office"),
        "reference" => ("Номер", "Reference"),
        "received" => ("Получен", "Received"),
        "text" => ("Текст", "Text"),
        "none" => ("Няма сигнали по тези условия.", "No reports match."),
        "export" => ("Изтегли CSV", "Download CSV"),
        "map" => ("Карта на сигналите с местоположение", "Map of reports with a position"),
        "next" => ("Следващи", "Next"),
        "prev" => ("Предишни", "Previous"),
        "history" => ("История", "History"),
        "when" => ("Кога", "When"),
        "who" => ("Кой", "Who"),
        "reply" => ("Публичен отговор", "Public reply"),
        "reply_help" => ("Гражданинът ще го види в приложението.", "The citizen sees it in the app."),
        "change" => ("Промени състоянието", "Change the status"),
        "save" => ("Запази", "Save"),
        "saved" => ("Запазено.", "Saved."),
        "merge" => ("Обедини като дубликат", "Merge as a duplicate"),
        "merge_help" => {
            ("Номер на първия сигнал за същия проблем", "Reference of the first report of the same problem")
        }
        "contact" => ("Контакт (само за службата)", "Contact (for the office only)"),
        "position" => ("Местоположение", "Position"),
        "rating" => ("Оценка", "Rating"),
        "photo" => ("Снимка", "Photo"),
        "address" => ("Адрес", "Address"),
        "public" => ("Публичен", "Public"),
        "yes" => ("да", "yes"),
        "no" => ("не", "no"),
        "duplicate_of" => ("Дубликат на", "Duplicate of"),
        "ballots" => ("Бюлетини", "Ballots"),
        "option" => ("Вариант", "Option"),
        "votes" => ("Гласове", "Votes"),
        "cost" => ("Цена", "Cost"),
        "funded" => ("Финансира се", "Funded"),
        "phase" => ("Етап", "Phase"),
        "offices" => ("Служби", "Offices"),
        "delivery" => ("Доставка", "Delivery"),
        "email" => ("Имейл", "E-mail"),
        "endpoint" => ("Open311 адрес на системата им", "Their system's Open311 URL"),
        "endpoint_key" => ("API ключ за системата им", "API key for their system"),
        "jurisdiction" => ("Тяхното jurisdiction_id", "Their jurisdiction_id"),
        "service_map" => ("Съответствие на видовете (JSON)", "Service code map (JSON)"),
        "routes" => ("Маршрути (Open311)", "Routes (Open311)"),
        "city" => ("Град", "City"),
        "keys" => ("API ключове", "API keys"),
        "key_name" => ("Име на ключа", "Key name"),
        "key_office" => {
            ("Служба (за нейната система; празно за клиент)", "Office (for its system; empty for a client)")
        }
        "create" => ("Създай", "Create"),
        "revoke" => ("Отнеми", "Revoke"),
        "revoked" => ("отнет", "revoked"),
        "new_key" => ("Новият ключ (показва се само сега):", "The new key (shown only now):"),
        "users" => ("Потребители", "People"),
        "role" => ("Роля", "Role"),
        "language" => ("Език", "Language"),
        "dead" => ("Неуспешни доставки", "Failed deliveries"),
        "attempts" => ("Опити", "Attempts"),
        "error" => ("Грешка", "Error"),
        "retry" => ("Опитай пак", "Try again"),
        "pending" => ("чакащи доставки", "deliveries pending"),
        "not_found" => ("Няма такъв сигнал.", "No such report."),
        "back" => ("Назад към списъка", "Back to the list"),
        "results" => ("Резултати от допитванията", "Consultation results"),
        "no_results" => ("Още няма приключили допитвания.", "No consultation has closed yet."),
        _ => ("?", "?"),
    };
    if lang == "en" { en } else { bg }
}

fn status_label(lang: &str, s: &str) -> &'static str {
    let (bg, en) = match s {
        "open" => ("Отворен", "Open"),
        "investigating" => ("Проучва се", "Investigating"),
        "in_progress" => ("В процес", "In progress"),
        "action_scheduled" => ("Насрочено действие", "Action scheduled"),
        "fixed" => ("Отстранен", "Fixed"),
        "duplicate" => ("Дубликат", "Duplicate"),
        "not_councils_responsibility" => ("Не е отговорност на общината", "Not the city's responsibility"),
        "no_further_action" => ("Без по-нататъшни действия", "No further action"),
        "internal_referral" => ("Пренасочен вътрешно", "Internal referral"),
        "closed" => ("Затворен", "Closed"),
        _ => ("?", "?"),
    };
    if lang == "en" { en } else { bg }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn lang_of(headers: &HeaderMap, user: Option<&User>) -> String {
    if let Some(l) = cookie(headers, LANG_COOKIE).filter(|l| matches!(*l, "bg" | "en")) {
        return l.to_owned();
    }
    if let Some(u) = user {
        return u.lang.clone();
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("en") { "en".into() } else { "bg".into() }
}

const CSS: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fafafa}\
header{background:#123c69;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}\
header a,header button{color:#fff}header button{background:transparent;border:1px solid #fff;cursor:pointer}nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0;flex-wrap:wrap}\
main{padding:1rem;max-width:75rem}table{border-collapse:collapse;width:100%;background:#fff}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f5a623;outline-offset:2px}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem;z-index:9}\
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:end;margin-bottom:1rem}\
label{display:block;font-weight:600}fieldset{margin:1rem 0;background:#fff}\
.status{padding:.5rem;background:#e6f4ea;border:1px solid #2e7d32}.problem{padding:.5rem;background:#fdecea;border:1px solid #c62828}\
.bar{background:#123c69;height:1rem;display:inline-block}pre{white-space:pre-wrap;font:inherit}\
button{font:inherit;padding:.3rem .8rem}";

/// A whole page. `body` must already be escaped where it holds text.
fn page(lang: &str, title: &str, user: Option<(&User, &str)>, body: &str) -> Response {
    let nav = match user {
        Some((u, csrf)) => {
            let admin = if u.is_admin() {
                format!("<li><a href=\"/inbox/admin\">{}</a></li>", t(lang, "admin"))
            } else {
                String::new()
            };
            format!(
                "<nav aria-label=\"{}\"><ul><li><a href=\"/inbox/\">{}</a></li><li><a href=\"/inbox/consultations\">{}</a></li>{admin}\
                 <li><a href=\"/inbox/lang?to={}\" lang=\"{}\">{}</a></li></ul></nav>\
                 <span>{}{}</span>\
                 <form method=\"post\" action=\"/inbox/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                t(lang, "inbox"),
                t(lang, "reports"),
                t(lang, "consultations"),
                if lang == "en" { "bg" } else { "en" },
                if lang == "en" { "bg" } else { "en" },
                if lang == "en" { "Български" } else { "English" },
                esc(&u.name),
                u.office.as_ref().map(|o| format!(" — {}", esc(o))).unwrap_or_default(),
                esc(csrf),
                t(lang, "signout"),
            )
        }
        None => format!(
            "<nav aria-label=\"{}\"><ul><li><a href=\"/inbox/lang?to={}\" lang=\"{}\">{}</a></li></ul></nav>",
            t(lang, "inbox"),
            if lang == "en" { "bg" } else { "en" },
            if lang == "en" { "bg" } else { "en" },
            if lang == "en" { "Български" } else { "English" },
        ),
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — {}</title><style>{CSS}</style></head><body><a class=\"skip\" href=\"#main\">{}</a>\
         <header><strong>{}</strong>{nav}</header><main id=\"main\" tabindex=\"-1\"><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        t(lang, "title"),
        t(lang, "skip"),
        t(lang, "title"),
        esc(title),
    );
    let mut r = (StatusCode::OK, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn with_status(mut r: Response, status: StatusCode) -> Response {
    *r.status_mut() = status;
    r
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The signed-in person and the session's CSRF token, or a redirect to the sign-in page.
async fn signed_in(s: &Shared, headers: &HeaderMap) -> Result<(User, String), Response> {
    let Some(token) = cookie(headers, COOKIE).map(str::to_owned) else {
        return Err(Redirect::to("/inbox/login").into_response());
    };
    match s.db.run(move |c| auth::session(c, &token, now())).await {
        Ok(Some(x)) => Ok(x),
        Ok(None) => Err(Redirect::to("/inbox/login").into_response()),
        Err(e) => Err(crate::app::db_unavailable(&e)),
    }
}

fn csrf_ok(form: &HashMap<String, String>, csrf: &str) -> bool {
    form.get("csrf").is_some_and(|c| auth::same_secret(c, csrf))
}

fn forbidden(lang: &str) -> Response {
    with_status(
        page(lang, t(lang, "error"), None, "<p class=\"problem\" role=\"alert\">CSRF</p>"),
        StatusCode::FORBIDDEN,
    )
}

fn not_found(lang: &str, who: (&User, &str)) -> Response {
    let body = format!(
        "<p class=\"problem\" role=\"alert\">{}</p><p><a href=\"/inbox/\">{}</a></p>",
        t(lang, "not_found"),
        t(lang, "back")
    );
    with_status(page(lang, t(lang, "not_found"), Some(who), &body), StatusCode::NOT_FOUND)
}

fn problem(lang: &str, who: (&User, &str), status: u16, msg: &str) -> Response {
    let body = format!(
        "<p class=\"problem\" role=\"alert\">{}</p><p><a href=\"/inbox/\">{}</a></p>",
        esc(msg),
        t(lang, "back")
    );
    with_status(
        page(lang, t(lang, "error"), Some(who), &body),
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
    )
}

async fn login_page(headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let lang = lang_of(&headers, None);
    let msg = match q.get("e").map(String::as_str) {
        Some("wrong") => format!("<p class=\"problem\" role=\"alert\">{}</p>", t(&lang, "wrong")),
        Some("locked") => format!(
            "<p class=\"problem\" role=\"alert\">{} {}.</p>",
            t(&lang, "locked"),
            esc(q.get("until").map(String::as_str).unwrap_or(""))
        ),
        _ => String::new(),
    };
    let body = format!(
        "{msg}<form method=\"post\" action=\"/inbox/login\"><p><label for=\"name\">{}</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required></p>\
         <p><label for=\"password\">{}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
         <p><button type=\"submit\">{}</button></p></form>",
        t(&lang, "name"),
        t(&lang, "password"),
        t(&lang, "signin"),
    );
    page(&lang, t(&lang, "signin"), None, &body)
}

async fn login_post(State(s): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let name = form.get("name").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if name.len() > 256 || password.len() > 1024 {
        return Redirect::to("/inbox/login?e=wrong").into_response();
    }
    let res = s.db.run(move |c| auth::login(c, &name, &password, now())).await;
    match res {
        Ok(Login::Ok { token, user, .. }) => {
            s.metrics.event("logins");
            tracing::info!(user = %user.name, "signed in");
            let secure = if s.config.server.secure_cookies { "; Secure" } else { "" };
            let mut r = Redirect::to("/inbox/").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{COOKIE}={token}; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                auth::SESSION_S
            )) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Ok(Login::Wrong) => {
            s.metrics.event("logins_failed");
            Redirect::to("/inbox/login?e=wrong").into_response()
        }
        Ok(Login::Locked(until)) => {
            s.metrics.event("logins_locked");
            Redirect::to(&format!("/inbox/login?e=locked&until={}", rfc3339(until))).into_response()
        }
        Err(e) => crate::app::db_unavailable(&e),
    }
}

async fn logout(State(s): State<Shared>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let (_, csrf) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !csrf_ok(&form, &csrf) {
        return forbidden(&lang_of(&headers, None));
    }
    if let Some(token) = cookie(&headers, COOKIE).map(str::to_owned) {
        let _ = s.db.run(move |c| auth::logout(c, &token)).await;
    }
    let mut r = Redirect::to("/inbox/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("cg_session=; Path=/inbox; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    r
}

async fn set_lang(headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let to = if q.get("to").map(String::as_str) == Some("en") { "en" } else { "bg" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/inbox/").map(|i| r[i..].to_owned()))
        .filter(|p| !p.contains("//") && !p.contains('\\'))
        .unwrap_or_else(|| "/inbox/".into());
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{LANG_COOKIE}={to}; Path=/inbox; SameSite=Strict; Max-Age=31536000"))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn day(s: Option<&String>) -> Option<i64> {
    s.and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

fn filter_from(q: &HashMap<String, String>, user: &User) -> Filter {
    let pick = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    Filter {
        office: if user.is_admin() { pick("office") } else { user.office.clone() },
        statuses: pick("status").into_iter().filter(|s| REPORT_STATUSES.contains(&s.as_str())).collect(),
        category: pick("category"),
        from: day(q.get("from")),
        until: day(q.get("until")).map(|t| t + 86400),
        place: pick("place"),
        newest_first: true,
        ..Filter::default()
    }
}

fn date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

fn select(id: &str, label: &str, options: &[(String, String)], chosen: &str) -> String {
    let opts: String = options
        .iter()
        .map(|(v, l)| {
            format!("<option value=\"{}\"{}>{}</option>", esc(v), if v == chosen { " selected" } else { "" }, esc(l))
        })
        .collect();
    format!("<p><label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{id}\">{opts}</select></p>")
}

/// An SVG of the reports' positions, drawn here (no map tiles, nothing from the internet); each dot links to its
/// report.
fn map(lang: &str, reports: &[Report]) -> String {
    let pts: Vec<(&Report, f64, f64)> = reports.iter().filter_map(|r| Some((r, r.lat?, r.lon?))).collect();
    if pts.is_empty() {
        return String::new();
    }
    let (mut a, mut b, mut c, mut d) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (_, lat, lon) in &pts {
        a = a.min(*lat);
        b = b.min(*lon);
        c = c.max(*lat);
        d = d.max(*lon);
    }
    let (h, w) = ((c - a).max(0.002), (d - b).max(0.002));
    let dots: String = pts
        .iter()
        .map(|(r, lat, lon)| {
            let x = 10.0 + (lon - b) / w * 380.0;
            let y = 10.0 + (c - lat) / h * 180.0;
            format!(
                "<a href=\"/inbox/reports/{}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"#c62828\"><title>{} {}</title></circle></a>",
                r.id,
                esc(&r.reference),
                esc(status_label(lang, &r.status))
            )
        })
        .collect();
    format!(
        "<figure><svg role=\"img\" aria-labelledby=\"maptitle\" viewBox=\"0 0 400 200\" width=\"400\" height=\"200\" style=\"background:#e8eef5;border:1px solid #ccc\">\
         <title id=\"maptitle\">{}</title>{dots}</svg><figcaption>{}</figcaption></figure>",
        t(lang, "map"),
        t(lang, "map")
    )
}

async fn list(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let (user, csrf) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = lang_of(&headers, Some(&user));
    let page_no: i64 = q.get("page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let mut f = filter_from(&q, &user);
    f.limit = PAGE + 1;
    f.offset = (page_no - 1) * PAGE;
    let office = f.office.clone();
    let res =
        s.db.run(move |c| -> Result<_, crate::db::DbError> {
            Ok((store::list_reports(c, &f)?, store::status_counts(c, office.as_deref())?, store::offices(c)?))
        })
        .await;
    let (mut reports, counts, offices) = match res {
        Ok(x) => x,
        Err(e) => return crate::app::db_unavailable(&e),
    };
    let more = reports.len() as i64 > PAGE;
    reports.truncate(PAGE as usize);
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let mut statuses = vec![(String::new(), t(&lang, "any").to_owned())];
    statuses.extend(REPORT_STATUSES.iter().map(|s| ((*s).to_owned(), status_label(&lang, s).to_owned())));
    let mut kinds = vec![(String::new(), t(&lang, "any").to_owned())];
    kinds.extend(FEEDBACK_KINDS.iter().map(|k| ((*k).to_owned(), crate::open311::service_name(k, &lang).0.to_owned())));
    let office_select = if user.is_admin() {
        let mut os = vec![(String::new(), t(&lang, "any").to_owned())];
        os.extend(offices.iter().map(|o| (o.name.clone(), o.name.clone())));
        select("office", t(&lang, "office"), &os, &get("office"))
    } else {
        String::new()
    };
    let summary: String = REPORT_STATUSES
        .iter()
        .filter_map(|st| counts.get(*st).map(|n| format!("<li>{}: {n}</li>", status_label(&lang, st))))
        .collect();
    let mut body = format!(
        "<ul aria-label=\"{}\">{summary}</ul>\
         <form class=\"filters\" method=\"get\" action=\"/inbox/\" role=\"search\" aria-label=\"{}\">{}{}{office_select}\
         <p><label for=\"from\">{}</label><input type=\"date\" id=\"from\" name=\"from\" value=\"{}\"></p>\
         <p><label for=\"until\">{}</label><input type=\"date\" id=\"until\" name=\"until\" value=\"{}\"></p>\
         <p><label for=\"place\">{}</label><input id=\"place\" name=\"place\" value=\"{}\"></p>\
         <p><button type=\"submit\">{}</button></p></form>",
        t(&lang, "status"),
        t(&lang, "filter"),
        select("status", t(&lang, "status"), &statuses, &get("status")),
        select("category", t(&lang, "category"), &kinds, &get("category")),
        t(&lang, "from"),
        esc(&get("from")),
        t(&lang, "until"),
        esc(&get("until")),
        t(&lang, "place"),
        esc(&get("place")),
        t(&lang, "apply"),
    );
    let qs = serde_urlencoded::to_string(q.iter().filter(|(k, _)| k.as_str() != "page").collect::<Vec<_>>())
        .unwrap_or_default();
    body += &format!("<p><a href=\"/inbox/export.csv?{}\">{}</a></p>", esc(&qs), t(&lang, "export"));
    if reports.is_empty() {
        body += &format!("<p role=\"status\">{}</p>", t(&lang, "none"));
    } else {
        body += &map(&lang, &reports);
        body += &format!(
            "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t(&lang, "reports"),
            t(&lang, "reference"),
            t(&lang, "received"),
            t(&lang, "office"),
            t(&lang, "category"),
            t(&lang, "place"),
            t(&lang, "status"),
            t(&lang, "text"),
        );
        for r in &reports {
            let excerpt: String = r.text.chars().take(120).collect();
            body += &format!(
                "<tr data-reference=\"{}\"><th scope=\"row\"><a href=\"/inbox/reports/{}\">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"st\">{}</td><td>{}</td></tr>",
                esc(&r.reference),
                r.id,
                esc(&r.reference),
                date(r.received_at),
                esc(&r.office),
                esc(crate::open311::service_name(&r.category, &lang).0),
                esc(r.place_name.as_deref().or(r.place_id.as_deref()).or(r.address.as_deref()).unwrap_or("")),
                esc(status_label(&lang, &r.status)),
                esc(&excerpt),
            );
        }
        body += "</tbody></table>";
    }
    let link = |p: i64| format!("/inbox/?{}{}page={p}", esc(&qs), if qs.is_empty() { "" } else { "&amp;" });
    if page_no > 1 {
        body += &format!("<p><a href=\"{}\" rel=\"prev\">{}</a></p>", link(page_no - 1), t(&lang, "prev"));
    }
    if more {
        body += &format!("<p><a href=\"{}\" rel=\"next\">{}</a></p>", link(page_no + 1), t(&lang, "next"));
    }
    page(&lang, t(&lang, "reports"), Some((&user, &csrf)), &body)
}

/// The report, if this person may handle it.
async fn report_for(s: &Shared, user: &User, id: i64) -> Result<Option<(Report, Vec<store::Update>)>, Response> {
    let res =
        s.db.run(move |c| -> Result<_, crate::db::DbError> {
            let r = store::report(c, id)?;
            let updates = match &r {
                Some(r) => store::updates_of(c, r.id)?,
                None => Vec::new(),
            };
            Ok(r.map(|r| (r, updates)))
        })
        .await;
    match res {
        Ok(Some((r, u))) if user.may_handle(&r.office) => Ok(Some((r, u))),
        Ok(_) => Ok(None),
        Err(e) => Err(crate::app::db_unavailable(&e)),
    }
}

async fn detail(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (user, csrf) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = lang_of(&headers, Some(&user));
    let Ok(id) = id.parse::<i64>() else { return not_found(&lang, (&user, &csrf)) };
    let (r, updates) = match report_for(&s, &user, id).await {
        Ok(Some(x)) => x,
        Ok(None) => return not_found(&lang, (&user, &csrf)),
        Err(resp) => return resp,
    };
    let row = |k: &str, v: Option<String>| {
        v.map(|v| format!("<tr><th scope=\"row\">{}</th><td>{}</td></tr>", t(&lang, k), v)).unwrap_or_default()
    };
    let mut body = String::new();
    if q.contains_key("saved") {
        body += &format!("<p class=\"status\" role=\"status\">{}</p>", t(&lang, "saved"));
    }
    body += "<table><tbody>";
    body += &row("reference", Some(esc(&r.reference)));
    body += &row("status", Some(format!("<span id=\"current-status\">{}</span>", esc(status_label(&lang, &r.status)))));
    body += &row("reply", r.public_reply.as_ref().map(|x| format!("<pre id=\"current-reply\">{}</pre>", esc(x))));
    body += &row("duplicate_of", r.duplicate_of.as_ref().map(|x| esc(x)));
    body += &row("received", Some(date(r.received_at)));
    body += &row("office", Some(esc(&r.office)));
    body += &row("category", Some(esc(crate::open311::service_name(&r.category, &lang).0)));
    body += &row("place", r.place_name.as_ref().or(r.place_id.as_ref()).map(|p| esc(p)));
    body += &row("address", r.address.as_ref().map(|p| esc(p)));
    body += &row("position", r.lat.zip(r.lon).map(|(a, b)| format!("{a:.5}, {b:.5}")));
    body += &row("rating", r.rating.map(|x| format!("{x} / 5")));
    body += &row("photo", r.photo.as_ref().map(|p| esc(p)));
    body += &row("contact", r.contact.as_ref().map(|p| esc(p)));
    body += &row("public", Some(t(&lang, if r.public { "yes" } else { "no" }).to_owned()));
    body += &row("text", Some(format!("<pre id=\"report-text\">{}</pre>", esc(&r.text))));
    body += "</tbody></table>";
    let statuses: Vec<(String, String)> =
        REPORT_STATUSES.iter().map(|s| ((*s).to_owned(), status_label(&lang, s).to_owned())).collect();
    body += &format!(
        "<form method=\"post\" action=\"/inbox/reports/{id}/status\"><fieldset><legend>{}</legend>\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">{}\
         <p><label for=\"reply\">{}</label><textarea id=\"reply\" name=\"reply\" rows=\"4\" cols=\"60\" maxlength=\"4000\" aria-describedby=\"reply-help\">{}</textarea>\
         <br><small id=\"reply-help\">{}</small></p><p><button type=\"submit\">{}</button></p></fieldset></form>",
        t(&lang, "change"),
        esc(&csrf),
        select("status", t(&lang, "status"), &statuses, &r.status),
        t(&lang, "reply"),
        esc(r.public_reply.as_deref().unwrap_or("")),
        t(&lang, "reply_help"),
        t(&lang, "save"),
    );
    body += &format!(
        "<form method=\"post\" action=\"/inbox/reports/{id}/merge\"><fieldset><legend>{}</legend>\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <p><label for=\"original\">{}</label><input id=\"original\" name=\"original\" required pattern=\"[A-Z0-9]+-[0-9]{{4}}-[0-9]+\"></p>\
         <p><button type=\"submit\">{}</button></p></fieldset></form>",
        t(&lang, "merge"),
        esc(&csrf),
        t(&lang, "merge_help"),
        t(&lang, "merge"),
    );
    body += &format!(
        "<h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(&lang, "history"),
        t(&lang, "when"),
        t(&lang, "status"),
        t(&lang, "reply"),
        t(&lang, "who")
    );
    for u in &updates {
        body += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            date(u.created_at),
            esc(status_label(&lang, &u.status)),
            esc(u.public_reply.as_deref().unwrap_or("")),
            esc(&u.author)
        );
    }
    body += &format!("</tbody></table><p><a href=\"/inbox/\">{}</a></p>", t(&lang, "back"));
    page(&lang, &r.reference, Some((&user, &csrf)), &body)
}

async fn change_status(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = lang_of(&headers, Some(&user));
    if !csrf_ok(&form, &csrf) {
        return forbidden(&lang);
    }
    let Ok(id) = id.parse::<i64>() else { return not_found(&lang, (&user, &csrf)) };
    match report_for(&s, &user, id).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&lang, (&user, &csrf)),
        Err(r) => return r,
    }
    let status = form.get("status").cloned().unwrap_or_default();
    let reply = form.get("reply").cloned();
    let author = user.name.clone();
    match s.db.run(move |c| store::update_status(c, id, &status, reply.as_deref(), &author, None, now())).await {
        Ok(_) => {
            s.metrics.event("updates_stored");
            Redirect::to(&format!("/inbox/reports/{id}?saved=1")).into_response()
        }
        Err(InboxError::Refused(code, msg)) => problem(&lang, (&user, &csrf), code, &msg),
        Err(InboxError::Db(e)) => crate::app::db_unavailable(&e),
    }
}

async fn merge(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = lang_of(&headers, Some(&user));
    if !csrf_ok(&form, &csrf) {
        return forbidden(&lang);
    }
    let Ok(id) = id.parse::<i64>() else { return not_found(&lang, (&user, &csrf)) };
    match report_for(&s, &user, id).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&lang, (&user, &csrf)),
        Err(r) => return r,
    }
    let original = form.get("original").map(|o| o.trim().to_owned()).unwrap_or_default();
    let author = user.name.clone();
    let u = user.clone();
    let res =
        s.db.run(move |c| -> Result<String, InboxError> {
            match store::report_by_reference(c, &original)? {
                Some(o) if u.may_handle(&o.office) => store::merge(c, id, o.id, None, &author, now()),
                _ => store::refuse(404, format!("there is no report {original} of your office")),
            }
        })
        .await;
    match res {
        Ok(_) => Redirect::to(&format!("/inbox/reports/{id}?saved=1")).into_response(),
        Err(InboxError::Refused(code, msg)) => problem(&lang, (&user, &csrf), code, &msg),
        Err(InboxError::Db(e)) => crate::app::db_unavailable(&e),
    }
}

/// A cell a spreadsheet would take for a formula gets a leading apostrophe (OWASP's advice on CSV injection).
fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() }
}

async fn export_csv(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let (user, _) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut f = filter_from(&q, &user);
    f.newest_first = false;
    let rows = match s.db.run(move |c| store::list_reports(c, &f)).await {
        Ok(r) => r,
        Err(e) => return crate::app::db_unavailable(&e),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "reference",
        "key",
        "received_at",
        "office",
        "category",
        "place_id",
        "place_name",
        "address",
        "text",
        "rating",
        "photo",
        "contact",
        "lat",
        "lon",
        "lang",
        "public",
        "status",
        "public_reply",
        "duplicate_of",
        "created_at",
        "updated_at",
    ]);
    for r in &rows {
        let o = |v: &Option<String>| defuse(v.as_deref().unwrap_or(""));
        let n = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let _ = w.write_record([
            defuse(&r.reference),
            r.key.clone(),
            rfc3339(r.received_at),
            defuse(&r.office),
            r.category.clone(),
            o(&r.place_id),
            o(&r.place_name),
            o(&r.address),
            defuse(&r.text),
            r.rating.map(|x| x.to_string()).unwrap_or_default(),
            o(&r.photo),
            o(&r.contact),
            n(r.lat),
            n(r.lon),
            o(&r.lang),
            r.public.to_string(),
            r.status.clone(),
            o(&r.public_reply),
            o(&r.duplicate_of),
            rfc3339(r.created_at),
            rfc3339(r.updated_at),
        ]);
    }
    let bytes = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"reports.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// The result tables of consultations, one section each.
fn tallies_html(lang: &str, tallies: &[store::Tally]) -> String {
    let mut body = String::new();
    for k in tallies {
        let rule = match k.rule {
            VotingRule::Single => String::new(),
            VotingRule::UpTo { max } => format!(" · ≤ {max}"),
            VotingRule::Budget { budget } => format!(" · {}: {budget}", t(lang, "cost")),
        };
        body += &format!(
            "<section aria-labelledby=\"k-{id}\"><h2 id=\"k-{id}\">{} / {}</h2><p>{}: {} · {} — {} · {}: {}{rule}</p>\
             <table data-consultation=\"{}\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            esc(&k.city_id),
            esc(&k.id),
            t(lang, "phase"),
            esc(&k.phase),
            esc(&k.opens),
            esc(&k.closes),
            t(lang, "ballots"),
            k.ballots,
            esc(&k.id),
            t(lang, "option"),
            t(lang, "votes"),
            t(lang, "cost"),
            t(lang, "funded"),
            id = esc(&k.id),
        );
        let max = k.options.iter().map(|o| o.ballots).max().unwrap_or(0).max(1);
        for o in &k.options {
            body += &format!(
                "<tr data-option=\"{}\"><th scope=\"row\">{}</th><td><span class=\"bar\" style=\"width:{}px\" aria-hidden=\"true\"></span> <span class=\"n\">{}</span></td><td>{}</td><td>{}</td></tr>",
                esc(&o.option),
                esc(&o.option),
                o.ballots * 200 / max,
                o.ballots,
                if o.cost > 0 { o.cost.to_string() } else { String::new() },
                if o.funded { t(lang, "yes") } else { "" },
            );
        }
        body += "</tbody></table></section>";
    }
    body
}

async fn consultations(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let (user, csrf) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = lang_of(&headers, Some(&user));
    let tallies = match s.db.run(move |c| store::results(c, now())).await {
        Ok(t) => t,
        Err(e) => return crate::app::db_unavailable(&e),
    };
    let body = tallies_html(&lang, &tallies);
    page(&lang, t(&lang, "consultations"), Some((&user, &csrf)), &body)
}

/// `GET /results/`: the public result page. Only consultations whose voting has closed are shown, so running
/// counts never sway a vote.
async fn public_results(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, None);
    let tallies = match s.db.run(move |c| store::results(c, now())).await {
        Ok(t) => t.into_iter().filter(|k| k.phase == "results").collect::<Vec<_>>(),
        Err(e) => return crate::app::db_unavailable(&e),
    };
    let body = if tallies.is_empty() {
        format!("<p role=\"status\">{}</p>", t(&lang, "no_results"))
    } else {
        tallies_html(&lang, &tallies)
    };
    page(&lang, t(&lang, "results"), None, &body)
}

async fn admin_guard(s: &Shared, headers: &HeaderMap) -> Result<(User, String, String), Response> {
    let (user, csrf) = signed_in(s, headers).await?;
    let lang = lang_of(headers, Some(&user));
    if !user.is_admin() {
        return Err(not_found(&lang, (&user, &csrf)));
    }
    Ok((user, csrf, lang))
}

async fn admin(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let (user, csrf, lang) = match admin_guard(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let res =
        s.db.run(|c| -> Result<_, crate::db::DbError> {
            Ok((
                store::offices(c)?,
                store::routes(c)?,
                store::api_keys(c)?,
                auth::users(c)?,
                delivery::list(c, "dead")?,
                delivery::list(c, "pending")?.len(),
            ))
        })
        .await;
    let (offices, routes, keys, users, dead, pending) = match res {
        Ok(x) => x,
        Err(e) => return crate::app::db_unavailable(&e),
    };
    let hidden = format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&csrf));
    let mut body = String::new();
    if let Some(k) = q.get("key") {
        body += &format!(
            "<p class=\"status\" role=\"status\">{} <code id=\"new-key\">{}</code></p>",
            t(&lang, "new_key"),
            esc(k)
        );
    } else if q.contains_key("saved") {
        body += &format!("<p class=\"status\" role=\"status\">{}</p>", t(&lang, "saved"));
    }
    // Offices.
    body += &format!(
        "<h2 id=\"offices\">{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(&lang, "offices"),
        t(&lang, "office"),
        t(&lang, "delivery"),
        t(&lang, "email")
    );
    for o in &offices {
        body += &format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
            esc(&o.name),
            esc(&o.delivery),
            esc(o.email.as_deref().or(o.endpoint.as_deref()).unwrap_or(""))
        );
    }
    let deliveries: Vec<(String, String)> =
        ["inbox", "email", "open311"].iter().map(|d| ((*d).to_owned(), (*d).to_owned())).collect();
    body += &format!(
        "</tbody></table><form method=\"post\" action=\"/inbox/admin/offices\"><fieldset><legend>{}</legend>{hidden}\
         <p><label for=\"o-name\">{}</label><input id=\"o-name\" name=\"name\" required></p>{}\
         <p><label for=\"o-email\">{}</label><input id=\"o-email\" name=\"email\" type=\"email\"></p>\
         <p><label for=\"o-endpoint\">{}</label><input id=\"o-endpoint\" name=\"endpoint\" type=\"url\"></p>\
         <p><label for=\"o-key\">{}</label><input id=\"o-key\" name=\"endpoint_api_key\"></p>\
         <p><label for=\"o-j\">{}</label><input id=\"o-j\" name=\"endpoint_jurisdiction\"></p>\
         <p><label for=\"o-map\">{}</label><input id=\"o-map\" name=\"service_map\" value=\"{{}}\"></p>\
         <p><button type=\"submit\">{}</button></p></fieldset></form>",
        t(&lang, "offices"),
        t(&lang, "office"),
        select("delivery", t(&lang, "delivery"), &deliveries, "inbox"),
        t(&lang, "email"),
        t(&lang, "endpoint"),
        t(&lang, "endpoint_key"),
        t(&lang, "jurisdiction"),
        t(&lang, "service_map"),
        t(&lang, "save"),
    );
    // Routes.
    body += &format!(
        "<h2 id=\"routes\">{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(&lang, "routes"),
        t(&lang, "city"),
        t(&lang, "category"),
        t(&lang, "office")
    );
    for r in &routes {
        body += &format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&r.city_id), esc(&r.kind), esc(&r.office));
    }
    let kinds: Vec<(String, String)> = FEEDBACK_KINDS.iter().map(|k| ((*k).to_owned(), (*k).to_owned())).collect();
    body += &format!(
        "</tbody></table><form method=\"post\" action=\"/inbox/admin/routes\"><fieldset><legend>{}</legend>{hidden}\
         <p><label for=\"r-city\">{}</label><input id=\"r-city\" name=\"city_id\" value=\"{}\" required></p>{}\
         <p><label for=\"r-office\">{}</label><input id=\"r-office\" name=\"office\" required></p>\
         <p><button type=\"submit\">{}</button></p></fieldset></form>",
        t(&lang, "routes"),
        t(&lang, "city"),
        esc(&s.city_id),
        select("kind", t(&lang, "category"), &kinds, ""),
        t(&lang, "office"),
        t(&lang, "save"),
    );
    // Keys.
    body += &format!(
        "<h2 id=\"keys\">{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(&lang, "keys"),
        t(&lang, "key_name"),
        t(&lang, "office"),
        t(&lang, "status")
    );
    for k in &keys {
        let action = if k.revoked {
            t(&lang, "revoked").to_owned()
        } else {
            format!(
                "<form method=\"post\" action=\"/inbox/admin/keys/revoke\">{hidden}<input type=\"hidden\" name=\"name\" value=\"{}\"><button type=\"submit\">{} {}</button></form>",
                esc(&k.name),
                t(&lang, "revoke"),
                esc(&k.name)
            )
        };
        body += &format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{action}</td></tr>",
            esc(&k.name),
            esc(k.office.as_deref().unwrap_or(""))
        );
    }
    body += &format!(
        "</tbody></table><form method=\"post\" action=\"/inbox/admin/keys\"><fieldset><legend>{}</legend>{hidden}\
         <p><label for=\"k-name\">{}</label><input id=\"k-name\" name=\"name\" required></p>\
         <p><label for=\"k-office\">{}</label><input id=\"k-office\" name=\"office\"></p>\
         <p><button type=\"submit\">{}</button></p></fieldset></form>",
        t(&lang, "keys"),
        t(&lang, "key_name"),
        t(&lang, "key_office"),
        t(&lang, "create"),
    );
    // People.
    body += &format!(
        "<h2 id=\"users\">{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(&lang, "users"),
        t(&lang, "name"),
        t(&lang, "role"),
        t(&lang, "office")
    );
    for u in &users {
        body += &format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
            esc(&u.name),
            esc(&u.role),
            esc(u.office.as_deref().unwrap_or(""))
        );
    }
    let roles = vec![("staff".to_owned(), "staff".to_owned()), ("admin".to_owned(), "admin".to_owned())];
    let langs = vec![("bg".to_owned(), "Български".to_owned()), ("en".to_owned(), "English".to_owned())];
    body += &format!(
        "</tbody></table><form method=\"post\" action=\"/inbox/admin/users\"><fieldset><legend>{}</legend>{hidden}\
         <p><label for=\"u-name\">{}</label><input id=\"u-name\" name=\"name\" required autocomplete=\"off\"></p>\
         <p><label for=\"u-password\">{}</label><input id=\"u-password\" name=\"password\" type=\"password\" required minlength=\"{}\" autocomplete=\"new-password\"></p>{}\
         <p><label for=\"u-office\">{}</label><input id=\"u-office\" name=\"office\"></p>{}\
         <p><button type=\"submit\">{}</button></p></fieldset></form>",
        t(&lang, "users"),
        t(&lang, "name"),
        t(&lang, "password"),
        auth::MIN_PASSWORD_CHARS,
        select("role", t(&lang, "role"), &roles, "staff"),
        t(&lang, "office"),
        select("lang", t(&lang, "language"), &langs, "bg"),
        t(&lang, "save"),
    );
    // Dead letters.
    body += &format!(
        "<h2 id=\"dead\">{}</h2><p>{pending} {}</p><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"></th></tr></thead><tbody>",
        t(&lang, "dead"),
        t(&lang, "pending"),
        t(&lang, "reference"),
        t(&lang, "office"),
        t(&lang, "delivery"),
        t(&lang, "attempts"),
        t(&lang, "error"),
    );
    for d in &dead {
        body += &format!(
            "<tr data-reference=\"{}\"><th scope=\"row\"><a href=\"/inbox/reports/{}\">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><form method=\"post\" action=\"/inbox/admin/deliveries/{}/retry\">{hidden}<button type=\"submit\">{} {}</button></form></td></tr>",
            esc(&d.reference),
            d.report_id,
            esc(&d.reference),
            esc(&d.office),
            esc(&d.channel),
            d.attempts,
            esc(d.last_error.as_deref().unwrap_or("")),
            d.report_id,
            t(&lang, "retry"),
            esc(&d.reference),
        );
    }
    body += "</tbody></table>";
    page(&lang, t(&lang, "admin"), Some((&user, &csrf)), &body)
}

async fn admin_post(
    s: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(User, String, String), Response> {
    let (user, csrf, lang) = admin_guard(s, headers).await?;
    if !csrf_ok(form, &csrf) {
        return Err(forbidden(&lang));
    }
    Ok((user, csrf, lang))
}

fn admin_done(lang: &str, who: (&User, &str), res: Result<Option<String>, InboxError>) -> Response {
    match res {
        // The key is hex: safe in a URL as it is.
        Ok(Some(key)) => Redirect::to(&format!("/inbox/admin?key={key}")).into_response(),
        Ok(None) => Redirect::to("/inbox/admin?saved=1").into_response(),
        Err(InboxError::Refused(code, msg)) => problem(lang, who, code, &msg),
        Err(InboxError::Db(e)) => crate::app::db_unavailable(&e),
    }
}

fn opt(form: &HashMap<String, String>, k: &str) -> Option<String> {
    form.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn admin_office(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf, lang) = match admin_post(&s, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let o = Office {
        name: opt(&form, "name").unwrap_or_default(),
        delivery: opt(&form, "delivery").unwrap_or_else(|| "inbox".into()),
        email: opt(&form, "email"),
        endpoint: opt(&form, "endpoint"),
        endpoint_api_key: opt(&form, "endpoint_api_key"),
        endpoint_jurisdiction: opt(&form, "endpoint_jurisdiction"),
        service_map: opt(&form, "service_map").unwrap_or_else(|| "{}".into()),
    };
    let res = s.db.run(move |c| store::save_office(c, &o, now()).map(|()| None)).await;
    admin_done(&lang, (&user, &csrf), res)
}

async fn admin_route(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf, lang) = match admin_post(&s, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = Route {
        city_id: opt(&form, "city_id").unwrap_or_default(),
        kind: opt(&form, "kind").unwrap_or_default(),
        office: opt(&form, "office").unwrap_or_default(),
    };
    if r.office.is_empty() || r.city_id.is_empty() {
        return problem(&lang, (&user, &csrf), 400, "a route needs a city and an office");
    }
    let res = s.db.run(move |c| store::save_route(c, &r, now()).map(|()| None)).await;
    admin_done(&lang, (&user, &csrf), res)
}

async fn admin_key(State(s): State<Shared>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let (user, csrf, lang) = match admin_post(&s, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = opt(&form, "name").unwrap_or_default();
    let office = opt(&form, "office");
    let res = s.db.run(move |c| store::create_api_key(c, &name, office.as_deref(), now()).map(Some)).await;
    admin_done(&lang, (&user, &csrf), res)
}

async fn admin_revoke(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf, lang) = match admin_post(&s, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = opt(&form, "name").unwrap_or_default();
    let res = s.db.run(move |c| store::revoke_api_key(c, &name).map(|_| None).map_err(InboxError::from)).await;
    admin_done(&lang, (&user, &csrf), res)
}

async fn admin_user(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf, lang) = match admin_post(&s, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = form.clone();
    let res =
        s.db.run(move |c| {
            auth::save_user(
                c,
                f.get("name").map(String::as_str).unwrap_or(""),
                f.get("password").map(String::as_str).unwrap_or(""),
                f.get("role").map(String::as_str).unwrap_or("staff"),
                opt(&f, "office").as_deref(),
                f.get("lang").map(String::as_str).unwrap_or("bg"),
                now(),
            )
            .map(|()| None)
        })
        .await;
    admin_done(&lang, (&user, &csrf), res)
}

async fn admin_retry(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (user, csrf, lang) = match admin_post(&s, &headers, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&lang, (&user, &csrf)) };
    let res = s.db.run(move |c| delivery::retry(c, id, now()).map(|_| None).map_err(InboxError::from)).await;
    admin_done(&lang, (&user, &csrf), res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_csv_defusing() {
        assert_eq!(esc("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("plain"), "plain");
        for lang in ["bg", "en"] {
            for s in REPORT_STATUSES {
                assert_ne!(status_label(lang, s), "?", "{s} has a {lang} label");
            }
        }
    }
}
