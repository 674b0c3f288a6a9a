//! Open311 GeoReport v2 under `/open311/v2/`, in XML and JSON, with FixMyStreet's `servicerequestupdates`
//! extension: the standard other city systems and apps speak (FixMyStreet, Libre311, mySociety's open311-adapter).
//!
//! - `GET discovery.{fmt}`; `GET services.{fmt}` (one service per report kind with a route, names in the language
//!   of `?lang=` or `Accept-Language`, Bulgarian or English); `GET services/{code}.{fmt}` (attributes: `place_id`,
//!   `rating`, `lang`, `public`, `key`).
//! - `POST requests.{fmt}` (form-encoded): `api_key` (a client key from the administrator), `jurisdiction_id`,
//!   `service_code`, a location (`lat` and `long`, `address_string`, or `address_id`/`attribute[place_id]`),
//!   `description` (up to 4,000 characters), optional `media_url`, `email`, `phone`, `first_name`, `last_name` (stored
//!   for the office, never listed), `attribute[...]`. Idempotent like the phone's endpoint: `attribute[key]` (32 hex
//!   digits) names the request; without it the key is derived from the client and the request's content, so a
//!   client that repeats a request after a lost answer creates no second report. Reports from Open311 clients are
//!   public unless `attribute[public]=false`.
//! - `GET requests.{fmt}` with `service_request_id` (comma-separated), `service_code`, `start_date`, `end_date`
//!   (default: the last 90 days), `status` (`open`, `closed`), and `page`/`page_size` (at most 1,000): only public
//!   reports, positions rounded to 4 decimals (about 10 m), no contact details. `GET requests/{id}.{fmt}`.
//! - `GET servicerequestupdates.{fmt}` (`start_date`, `end_date`; default the last day) and `POST
//!   servicerequestupdates.{fmt}` for an office's own system (its key) to report progress: `service_request_id`,
//!   `update_id` (theirs; a repeat changes nothing), `status` (FixMyStreet's names, e.g. `FIXED`), `description`.
//!
//! Errors come in the spec's format: `[{"code": 400, "description": "..."}]` or `<errors><error><code>`, with the
//! same HTTP status: 400 bad input, 403 missing or wrong key, 404 unknown jurisdiction, service, request or format,
//! 409 a key used by another client, 413 too large, 415 not form-encoded, 429 over the hourly limit, 503 storage.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cityguide_core::citizen::wire::{REPORT_STATUSES, status_is_closed};
use cityguide_core::pack::model::FEEDBACK_KINDS;
use quick_xml::escape::escape;
use serde_json::{Value as Json, json};

use crate::app::Shared;
use crate::store::{self, Filter, InboxError, NewReport, Report, Update, rfc3339, sha256_hex};

/// The routes, to nest under `/open311/v2`.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/{file}", get(get_top).post(post_top))
        .route("/services/{file}", get(get_service))
        .route("/requests/{file}", get(get_request))
}

/// `json` or `xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// application/json
    Json,
    /// text/xml
    Xml,
}

fn split(file: &str) -> Result<(&str, Format), Response> {
    match file.rsplit_once('.') {
        Some((name, "json")) => Ok((name, Format::Json)),
        Some((name, "xml")) => Ok((name, Format::Xml)),
        _ => Err(error(Format::Json, 404, "add the format to the path: .json or .xml")),
    }
}

/// An error in the spec's format.
pub fn error(fmt: Format, code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    match fmt {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            json!([{"code": code, "description": description}]).to_string(),
        )
            .into_response(),
        Format::Xml => {
            let mut x = Xml::new("errors");
            x.open("error");
            x.el("code", &code.to_string());
            x.el("description", description);
            x.close("error");
            (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], x.finish("errors")).into_response()
        }
    }
}

fn inbox_error(s: &Shared, fmt: Format, e: InboxError) -> Response {
    match e {
        InboxError::Refused(code, msg) => {
            s.metrics.event(&format!("refused_{code}"));
            error(fmt, code, &msg)
        }
        InboxError::Db(e) => {
            tracing::error!(error = %e, "database failure");
            error(fmt, 503, "the service is unavailable; nothing was stored, try again later")
        }
    }
}

/// A small XML writer: elements with escaped text, nothing else.
pub struct Xml(String);

impl Xml {
    /// Starts a document with its root element.
    pub fn new(root: &str) -> Xml {
        Xml(format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}>"))
    }
    /// Opens an element.
    pub fn open(&mut self, name: &str) {
        self.0 += &format!("<{name}>");
    }
    /// Closes an element.
    pub fn close(&mut self, name: &str) {
        self.0 += &format!("</{name}>");
    }
    /// A leaf element with text.
    pub fn el(&mut self, name: &str, text: &str) {
        self.0 += &format!("<{name}>{}</{name}>", escape(text));
    }
    /// Ends the document.
    pub fn finish(mut self, root: &str) -> String {
        self.0 += &format!("</{root}>\n");
        self.0
    }
}

/// Writes a list of flat records (name → text or null) as JSON objects or XML elements.
fn records(fmt: Format, root: &str, item: &str, rows: &[Vec<(&str, Json)>]) -> Response {
    match fmt {
        Format::Json => {
            let list: Vec<Json> = rows
                .iter()
                .map(|r| Json::Object(r.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()))
                .collect();
            ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], Json::Array(list).to_string()).into_response()
        }
        Format::Xml => {
            let mut x = Xml::new(root);
            for r in rows {
                x.open(item);
                for (k, v) in r {
                    let text = match v {
                        Json::Null => String::new(),
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    x.el(k, &text);
                }
                x.close(item);
            }
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], x.finish(root)).into_response()
        }
    }
}

fn lang_of(q: &HashMap<String, String>, headers: &HeaderMap) -> &'static str {
    let asked = q
        .get("lang")
        .cloned()
        .unwrap_or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned());
    if asked.trim_start().to_ascii_lowercase().starts_with("bg") { "bg" } else { "en" }
}

/// A report kind's name and description in Bulgarian or English.
pub fn service_name(kind: &str, lang: &str) -> (&'static str, &'static str) {
    let (en, bg) = match kind {
        "accessibility" => (
            ("Accessibility", "Ramps, lifts, step-free routes, toilets, guidance"),
            ("Достъпност", "Рампи, асансьори, маршрути без стъпала, тоалетни, указания"),
        ),
        "damage" => (("Damage", "Something broken or in need of repair"), ("Повреда", "Нещо счупено или за ремонт")),
        "cleanliness" => {
            (("Cleanliness", "Litter, graffiti, dirty places"), ("Чистота", "Отпадъци, графити, замърсени места"))
        }
        "closure" => {
            (("Closure", "A place closed without notice"), ("Затворено", "Място, затворено без предупреждение"))
        }
        "information" => (
            ("Information", "Wrong or missing information about a place"),
            ("Информация", "Грешна или липсваща информация за място"),
        ),
        "safety" => (("Safety", "A danger to visitors"), ("Безопасност", "Опасност за посетителите")),
        "suggestion" => (("Suggestion", "An idea to make the city better"), ("Предложение", "Идея за по-добър град")),
        "rating" => (("Rating", "Stars for a place"), ("Оценка", "Звезди за място")),
        _ => (("Other", "Anything else"), ("Друго", "Всичко друго")),
    };
    if lang == "bg" { bg } else { en }
}

fn query(raw: Option<String>) -> Result<HashMap<String, String>, String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or(""))
        .map(|v| v.into_iter().collect())
        .map_err(|e| format!("the query string is not valid: {e}"))
}

fn check_jurisdiction(s: &Shared, q: &HashMap<String, String>) -> Result<(), String> {
    match q.get("jurisdiction_id").map(|j| j.trim()).filter(|j| !j.is_empty()) {
        Some(j) if j != s.config.city.jurisdiction_id => Err(format!("jurisdiction_id {j:?} is not served here")),
        _ => Ok(()),
    }
}

fn base_url(s: &Shared, headers: &HeaderMap) -> String {
    if let Some(u) = &s.config.server.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let host: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(*c)).collect();
    format!("http://{host}")
}

async fn get_top(
    State(s): State<Shared>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (name, fmt) = match split(&file) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = match query(raw) {
        Ok(q) => q,
        Err(e) => return error(fmt, 400, &e),
    };
    if let Err(e) = check_jurisdiction(&s, &q) {
        return error(fmt, 404, &e);
    }
    match name {
        "discovery" => discovery(&s, fmt, &headers),
        "services" => services(&s, fmt, &q, &headers).await,
        "requests" => list_requests(&s, fmt, &q, &headers).await,
        "servicerequestupdates" => list_updates(&s, fmt, &q).await,
        _ => error(fmt, 404, &format!("there is no {name} in GeoReport v2")),
    }
}

async fn post_top(State(s): State<Shared>, Path(file): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let (name, fmt) = match split(&file) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return error(fmt, 415, "the body must be application/x-www-form-urlencoded");
    }
    let form: HashMap<String, String> = match std::str::from_utf8(&body)
        .map_err(|e| format!("the body is not UTF-8 (at byte {})", e.valid_up_to()))
        .and_then(|t| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(t).map_err(|e| format!("the form is not valid: {e}"))
        }) {
        Ok(v) => v.into_iter().collect(),
        Err(e) => return error(fmt, 400, &e),
    };
    if let Err(e) = check_jurisdiction(&s, &form) {
        return error(fmt, 404, &e);
    }
    match name {
        "requests" => post_request(&s, fmt, form).await,
        "servicerequestupdates" => post_update(&s, fmt, form).await,
        _ => error(fmt, 404, &format!("there is nothing to POST at {name}")),
    }
}

fn discovery(s: &Shared, fmt: Format, headers: &HeaderMap) -> Response {
    let url = format!("{}/open311/v2", base_url(s, headers));
    let changeset = "2027-01-01T00:00:00Z";
    match fmt {
        Format::Json => axum::Json(json!({
            "changeset": changeset,
            "contact": "The city's feedback office",
            "key_service": "Ask the city's administrator for an API key",
            "endpoints": [{
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url, "changeset": changeset, "type": "production",
                "formats": ["text/xml", "application/json"]
            }]
        }))
        .into_response(),
        Format::Xml => {
            let mut x = Xml::new("discovery");
            x.el("changeset", changeset);
            x.el("contact", "The city's feedback office");
            x.el("key_service", "Ask the city's administrator for an API key");
            x.open("endpoints");
            x.open("endpoint");
            x.el("specification", "http://wiki.open311.org/GeoReport_v2");
            x.el("url", &url);
            x.el("changeset", changeset);
            x.el("type", "production");
            x.open("formats");
            x.el("format", "text/xml");
            x.el("format", "application/json");
            x.close("formats");
            x.close("endpoint");
            x.close("endpoints");
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], x.finish("discovery")).into_response()
        }
    }
}

async fn routed_kinds(s: &Shared) -> Result<Vec<(String, String)>, Response> {
    let city = s.city_id.clone();
    s.db.run(move |c| store::routes(c))
        .await
        .map(|rs| rs.into_iter().filter(|r| r.city_id == city).map(|r| (r.kind, r.office)).collect())
        .map_err(|e| crate::app::db_unavailable(&e))
}

async fn services(s: &Shared, fmt: Format, q: &HashMap<String, String>, headers: &HeaderMap) -> Response {
    let lang = lang_of(q, headers);
    let kinds = match routed_kinds(s).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let rows: Vec<Vec<(&str, Json)>> = FEEDBACK_KINDS
        .iter()
        .filter_map(|k| kinds.iter().find(|(kind, _)| kind == k))
        .map(|(kind, office)| {
            let (name, description) = service_name(kind, lang);
            vec![
                ("service_code", json!(kind)),
                ("service_name", json!(name)),
                ("description", json!(description)),
                ("metadata", json!(true)),
                ("type", json!("realtime")),
                ("keywords", json!(kind)),
                ("group", json!(office)),
            ]
        })
        .collect();
    records(fmt, "services", "service", &rows)
}

/// One attribute of a service definition: code, datatype, required, description, allowed values (key, name).
type Attribute = (&'static str, &'static str, bool, &'static str, Vec<(&'static str, &'static str)>);

fn attributes() -> Vec<Attribute> {
    vec![
        ("place_id", "string", false, "The id of the place in the city's guide, e.g. roman-thermae", vec![]),
        (
            "rating",
            "singlevaluelist",
            false,
            "Stars, for a rating",
            vec![("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5")],
        ),
        ("lang", "string", false, "The language the description is written in (BCP 47), e.g. bg", vec![]),
        (
            "public",
            "singlevaluelist",
            false,
            "Whether the report may be listed publicly",
            vec![("true", "yes"), ("false", "no")],
        ),
        ("key", "string", false, "32 hexadecimal digits naming the request, so a repeat is recognised", vec![]),
    ]
}

async fn get_service(State(s): State<Shared>, Path(file): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let (code, fmt) = match split(&file) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = match query(raw) {
        Ok(q) => q,
        Err(e) => return error(fmt, 400, &e),
    };
    if let Err(e) = check_jurisdiction(&s, &q) {
        return error(fmt, 404, &e);
    }
    let kinds = match routed_kinds(&s).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    if !kinds.iter().any(|(k, _)| k == code) {
        return error(fmt, 404, &format!("service_code {code:?} not found"));
    }
    let attrs = attributes();
    match fmt {
        Format::Json => axum::Json(json!({
            "service_code": code,
            "attributes": attrs.iter().enumerate().map(|(i, (c, t, req, d, vals))| json!({
                "variable": true, "code": c, "datatype": t, "required": req, "datatype_description": d,
                "order": i + 1, "description": d,
                "values": vals.iter().map(|(k, n)| json!({"key": k, "name": n})).collect::<Vec<_>>()
            })).collect::<Vec<_>>()
        }))
        .into_response(),
        Format::Xml => {
            let mut x = Xml::new("service_definition");
            x.el("service_code", code);
            x.open("attributes");
            for (i, (c, t, req, d, vals)) in attrs.iter().enumerate() {
                x.open("attribute");
                x.el("variable", "true");
                x.el("code", c);
                x.el("datatype", t);
                x.el("required", if *req { "true" } else { "false" });
                x.el("datatype_description", d);
                x.el("order", &(i + 1).to_string());
                x.el("description", d);
                if !vals.is_empty() {
                    x.open("values");
                    for (k, n) in vals {
                        x.open("value");
                        x.el("key", k);
                        x.el("name", n);
                        x.close("value");
                    }
                    x.close("values");
                }
                x.close("attribute");
            }
            x.close("attributes");
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], x.finish("service_definition")).into_response()
        }
    }
}

/// Longest Open311 description, characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn short(form: &HashMap<String, String>, name: &str, max: usize) -> Result<Option<String>, String> {
    match field(form, name) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(format!("{name} is longer than {max} characters")),
        Some(v) if v.chars().any(char::is_control) => Err(format!("{name} contains control characters")),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

fn coordinate(form: &HashMap<String, String>, name: &str, range: f64) -> Result<Option<f64>, String> {
    match field(form, name) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x.abs() <= range => Ok(Some(x)),
            _ => Err(format!(
                "{name} {:?} is not a coordinate between -{range} and {range}",
                v.chars().take(40).collect::<String>()
            )),
        },
    }
}

/// Checks an Open311 request form into a report (everything except the key check and the route).
pub fn parse_request(form: &HashMap<String, String>) -> Result<(String, NewReport), String> {
    let code = field(form, "service_code").ok_or("service_code is required")?.to_owned();
    let lat = coordinate(form, "lat", 90.0)?;
    let lon = coordinate(form, "long", 180.0)?;
    if lat.is_some() != lon.is_some() {
        return Err("give both lat and long, or neither".into());
    }
    let address = short(form, "address_string", 256)?;
    let place = short(form, "attribute[place_id]", 128)?.or(short(form, "address_id", 128)?);
    if let Some(p) = &place
        && !p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("attribute[place_id] must be a lowercase id".into());
    }
    if lat.is_none() && address.is_none() && place.is_none() {
        return Err("a location is required: lat and long, address_string, or address_id".into());
    }
    let description = form.get("description").map(|d| d.trim().to_owned()).unwrap_or_default();
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(format!("description has {chars} characters; at most {MAX_DESCRIPTION_CHARS} are accepted"));
    }
    if description.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("description contains control characters".into());
    }
    let rating = match field(form, "attribute[rating]") {
        None => None,
        Some(r) => Some(r.parse::<u8>().ok().filter(|r| (1..=5).contains(r)).ok_or("attribute[rating] is 1 to 5")?),
    };
    match (code.as_str(), rating) {
        ("rating", None) => return Err("a rating needs attribute[rating], 1 to 5".into()),
        ("rating", Some(_)) => {}
        (_, Some(_)) => return Err("only the rating service takes attribute[rating]".into()),
        (_, None) if description.is_empty() => return Err("description is required".into()),
        _ => {}
    }
    let media = short(form, "media_url", 1024)?;
    if let Some(m) = &media
        && !(m.starts_with("https://") || m.starts_with("http://"))
    {
        return Err("media_url must be an http(s) URL".into());
    }
    let lang = short(form, "attribute[lang]", 35)?;
    if let Some(l) = &lang
        && !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err("attribute[lang] must be a language tag such as bg or en-GB".into());
    }
    let public = match field(form, "attribute[public]") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err("attribute[public] is true or false".into()),
    };
    let key = match field(form, "attribute[key]") {
        Some(k) if k.len() == 32 && k.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
            Some(k.to_owned())
        }
        Some(_) => return Err("attribute[key] must be 32 lowercase hex digits".into()),
        None => None,
    };
    let mut contact = Vec::new();
    let name: Vec<String> =
        [short(form, "first_name", 128)?, short(form, "last_name", 128)?].into_iter().flatten().collect();
    if !name.is_empty() {
        contact.push(name.join(" "));
    }
    if let Some(e) = short(form, "email", 256)? {
        contact.push(format!("<{e}>"));
    }
    if let Some(p) = short(form, "phone", 64)? {
        contact.push(p);
    }
    let report = NewReport {
        key: key.unwrap_or_default(),
        installation: None,
        source: String::new(),
        city_id: String::new(),
        office: String::new(),
        category: code.clone(),
        place_id: place,
        place_name: None,
        address,
        text: description,
        rating,
        photo: media,
        contact: (!contact.is_empty()).then(|| contact.join(" ")),
        lat,
        lon,
        accuracy_m: None,
        lang,
        public,
        created_at: 0,
    };
    Ok((code, report))
}

/// The key of a request without `attribute[key]`: the client and everything it sent, hashed.
fn derived_key(source: &str, r: &NewReport) -> String {
    let canon = format!(
        "{source}\n{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{}\n{:?}\n{:?}\n{:?}",
        r.category, r.lat, r.lon, r.address, r.place_id, r.rating, r.text, r.photo, r.contact, r.lang
    );
    sha256_hex(&canon)[..32].to_owned()
}

async fn client_key(s: &Shared, fmt: Format, form: &HashMap<String, String>) -> Result<store::ApiKey, Response> {
    let Some(secret) = field(form, "api_key").map(str::to_owned) else {
        s.metrics.event("refused_403");
        return Err(error(fmt, 403, "api_key was not provided; ask the city's administrator for one"));
    };
    match s.db.run(move |c| store::check_api_key(c, &secret)).await {
        Ok(Some(k)) => Ok(k),
        Ok(None) => {
            s.metrics.event("refused_403");
            Err(error(fmt, 403, "api_key is not valid"))
        }
        Err(e) => Err(inbox_error(s, fmt, e.into())),
    }
}

async fn post_request(s: &Shared, fmt: Format, form: HashMap<String, String>) -> Response {
    let key = match client_key(s, fmt, &form).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let (code, mut report) = match parse_request(&form) {
        Ok(x) => x,
        Err(e) => {
            s.metrics.event("refused_400");
            return error(fmt, 400, &e);
        }
    };
    let kinds = match routed_kinds(s).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Some((_, office)) = kinds.into_iter().find(|(k, _)| *k == code) else {
        s.metrics.event("refused_404");
        return error(
            fmt,
            404,
            &format!(
                "service_code {code:?} not found; GET services.{} lists them",
                if fmt == Format::Xml { "xml" } else { "json" }
            ),
        );
    };
    report.source = format!("open311:{}", key.name);
    report.city_id = s.city_id.clone();
    report.office = office;
    let now = chrono::Utc::now().timestamp();
    report.created_at = now;
    if report.key.is_empty() {
        report.key = derived_key(&report.source, &report);
    }
    let rules = s.rules.clone();
    match s.db.run(move |c| store::store_report(c, &report, &rules, now)).await {
        Ok(st) => {
            s.metrics.event(if st.duplicate { "reports_duplicate" } else { "reports_stored" });
            let notice = if st.duplicate {
                "This request was already received."
            } else {
                "Thank you; the office in charge has the report."
            };
            records(
                fmt,
                "service_requests",
                "request",
                &[vec![
                    ("service_request_id", json!(st.reference)),
                    ("service_notice", json!(notice)),
                    ("account_id", Json::Null),
                ]],
            )
        }
        Err(e) => inbox_error(s, fmt, e),
    }
}

/// Parses a W3C date-time (RFC 3339) or a date.
fn when(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, String> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| t.timestamp())
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp()))
            })
            .map(Some)
            .map_err(|_| {
                format!(
                    "{name} {:?} is not a date-time like 2027-01-31T08:00:00Z",
                    v.chars().take(40).collect::<String>()
                )
            }),
    }
}

fn round4(x: Option<f64>) -> Json {
    x.map_or(Json::Null, |v| json!((v * 1e4).round() / 1e4))
}

fn request_record(r: &Report, lang: &str) -> Vec<(&'static str, Json)> {
    vec![
        ("service_request_id", json!(r.reference)),
        ("status", json!(if status_is_closed(&r.status) { "closed" } else { "open" })),
        ("status_notes", r.public_reply.as_ref().map_or(Json::Null, |s| json!(s))),
        ("service_name", json!(service_name(&r.category, lang).0)),
        ("service_code", json!(r.category)),
        ("description", json!(r.text)),
        ("agency_responsible", json!(r.office)),
        ("service_notice", Json::Null),
        ("requested_datetime", json!(rfc3339(r.received_at))),
        ("updated_datetime", json!(rfc3339(r.updated_at))),
        ("expected_datetime", Json::Null),
        ("address", r.address.as_ref().or(r.place_name.as_ref()).map_or(Json::Null, |a| json!(a))),
        ("address_id", r.place_id.as_ref().map_or(Json::Null, |a| json!(a))),
        ("zipcode", Json::Null),
        ("lat", round4(r.lat)),
        ("long", round4(r.lon)),
        ("media_url", r.photo.as_ref().map_or(Json::Null, |m| json!(m))),
        ("detailed_status", json!(r.status.to_ascii_uppercase())),
    ]
}

async fn list_requests(s: &Shared, fmt: Format, q: &HashMap<String, String>, headers: &HeaderMap) -> Response {
    let lang = lang_of(q, headers);
    let now = chrono::Utc::now().timestamp();
    let (from, until) = match (when(q, "start_date"), when(q, "end_date")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return error(fmt, 400, &e),
    };
    let page: i64 = match q.get("page").map(|p| p.parse::<i64>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return error(fmt, 400, "page is a number from 1"),
    };
    let size: i64 = match q.get("page_size").map(|p| p.parse::<i64>()) {
        None => 1000,
        Some(Ok(p)) if (1..=1000).contains(&p) => p,
        Some(_) => return error(fmt, 400, "page_size is a number from 1 to 1000"),
    };
    let mut f =
        Filter { public_only: true, limit: size, offset: (page - 1) * size, newest_first: true, ..Filter::default() };
    if let Some(ids) = q.get("service_request_id").filter(|v| !v.trim().is_empty()) {
        f.references = ids.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).take(1000).collect();
    } else {
        f.from = Some(from.unwrap_or(until.unwrap_or(now) - 90 * 86400));
        f.until = until.or(Some(now + 1));
        if let Some(code) = q.get("service_code").filter(|v| !v.trim().is_empty()) {
            f.category = Some(code.trim().to_owned());
        }
        if let Some(st) = q.get("status").filter(|v| !v.trim().is_empty()) {
            for part in st.split(',').map(str::trim) {
                match part {
                    "open" => f
                        .statuses
                        .extend(REPORT_STATUSES.iter().filter(|x| !status_is_closed(x)).map(|x| (*x).to_owned())),
                    "closed" => f
                        .statuses
                        .extend(REPORT_STATUSES.iter().filter(|x| status_is_closed(x)).map(|x| (*x).to_owned())),
                    other => return error(fmt, 400, &format!("status {other:?} is open or closed")),
                }
            }
        }
    }
    match s.db.run(move |c| store::list_reports(c, &f)).await {
        Ok(rows) => records(
            fmt,
            "service_requests",
            "request",
            &rows.iter().map(|r| request_record(r, lang)).collect::<Vec<_>>(),
        ),
        Err(e) => inbox_error(s, fmt, e.into()),
    }
}

async fn get_request(
    State(s): State<Shared>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (id, fmt) = match split(&file) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = match query(raw) {
        Ok(q) => q,
        Err(e) => return error(fmt, 400, &e),
    };
    if let Err(e) = check_jurisdiction(&s, &q) {
        return error(fmt, 404, &e);
    }
    let lang = lang_of(&q, &headers);
    let id = id.to_owned();
    match s.db.run(move |c| store::report_by_reference(c, &id)).await {
        Ok(Some(r)) if r.public => records(fmt, "service_requests", "request", &[request_record(&r, lang)]),
        Ok(_) => error(fmt, 404, "no public service request with this id"),
        Err(e) => inbox_error(&s, fmt, e.into()),
    }
}

fn update_record(u: &Update) -> Vec<(&'static str, Json)> {
    vec![
        ("update_id", json!(u.id.to_string())),
        ("service_request_id", json!(u.reference)),
        ("status", json!(u.status.to_ascii_uppercase())),
        ("updated_datetime", json!(rfc3339(u.created_at))),
        ("description", json!(u.public_reply.clone().unwrap_or_default())),
        ("media_url", json!("")),
    ]
}

async fn list_updates(s: &Shared, fmt: Format, q: &HashMap<String, String>) -> Response {
    let now = chrono::Utc::now().timestamp();
    let (from, until) = match (when(q, "start_date"), when(q, "end_date")) {
        (Ok(a), Ok(b)) => (a.unwrap_or(now - 86400), b.unwrap_or(now + 1)),
        (Err(e), _) | (_, Err(e)) => return error(fmt, 400, &e),
    };
    match s.db.run(move |c| store::public_updates(c, from, until, 1000)).await {
        Ok(rows) => records(
            fmt,
            "service_request_updates",
            "request_update",
            &rows.iter().map(update_record).collect::<Vec<_>>(),
        ),
        Err(e) => inbox_error(s, fmt, e.into()),
    }
}

async fn post_update(s: &Shared, fmt: Format, form: HashMap<String, String>) -> Response {
    let key = match client_key(s, fmt, &form).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Some(office) = key.office.clone() else {
        return error(fmt, 403, "this api_key belongs to a client, not to an office's system; it cannot post updates");
    };
    let Some(reference) = field(&form, "service_request_id").map(str::to_owned) else {
        return error(fmt, 400, "service_request_id is required");
    };
    let external = match short(&form, "update_id", 128) {
        Ok(Some(x)) => x,
        Ok(None) => return error(fmt, 400, "update_id is required"),
        Err(e) => return error(fmt, 400, &e),
    };
    let status = field(&form, "status").unwrap_or("").to_ascii_lowercase().replace(' ', "_");
    let status = if status == "not_responsible" { "not_councils_responsibility".to_owned() } else { status };
    let reply = form.get("description").cloned();
    let author = format!("open311:{}", key.name);
    let now = chrono::Utc::now().timestamp();
    let res =
        s.db.run(move |c| -> Result<i64, InboxError> {
            let Some(r) = store::report_by_reference(c, &reference)? else {
                return store::refuse(404, format!("service_request_id {reference:?} not found"));
            };
            if r.office != office {
                return store::refuse(404, format!("service_request_id {reference:?} not found"));
            }
            store::update_status(c, r.id, &status, reply.as_deref(), &author, Some(&external), now)
        })
        .await;
    match res {
        Ok(id) => {
            s.metrics.event("updates_stored");
            records(fmt, "service_request_updates", "request_update", &[vec![("update_id", json!(id.to_string()))]])
        }
        Err(e) => inbox_error(s, fmt, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_request_needs_a_service_a_location_and_a_description() {
        let good =
            form(&[("service_code", "damage"), ("lat", "43.2"), ("long", "27.9"), ("description", "Broken bench")]);
        let (code, r) = parse_request(&good).expect("valid");
        assert_eq!((code.as_str(), r.lat, r.public), ("damage", Some(43.2), true));
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("lat", "43.2"), ("long", "27.9"), ("description", "x")], "service_code is required"),
            (&[("service_code", "damage"), ("description", "x")], "a location is required"),
            (
                &[("service_code", "damage"), ("lat", "93"), ("long", "27.9"), ("description", "x")],
                "between -90 and 90",
            ),
            (&[("service_code", "damage"), ("lat", "NaN"), ("long", "27.9"), ("description", "x")], "not a coordinate"),
            (&[("service_code", "damage"), ("lat", "43"), ("description", "x")], "both lat and long"),
            (&[("service_code", "damage"), ("address_string", "Main St 1")], "description is required"),
            (&[("service_code", "rating"), ("address_id", "cathedral")], "needs attribute[rating]"),
            (
                &[
                    ("service_code", "damage"),
                    ("address_id", "Cathedral'; DROP TABLE reports; --"),
                    ("description", "x"),
                ],
                "lowercase id",
            ),
            (
                &[
                    ("service_code", "damage"),
                    ("address_id", "x"),
                    ("description", "x"),
                    ("media_url", "javascript:alert(1)"),
                ],
                "http(s)",
            ),
        ];
        for (pairs, want) in cases {
            let e = parse_request(&form(pairs)).expect_err(want);
            assert!(e.contains(want), "{e:?} should say {want:?}");
        }
        let long = "я".repeat(MAX_DESCRIPTION_CHARS + 1);
        let e = parse_request(&form(&[("service_code", "damage"), ("address_id", "x"), ("description", &long)]))
            .expect_err("long");
        assert!(e.contains("at most 4000"), "{e}");
        let (_, ok) = parse_request(&form(&[
            ("service_code", "damage"),
            ("address_id", "x"),
            ("description", &"я".repeat(4000)),
        ]))
        .expect("4000 is fine");
        assert_eq!(ok.text.chars().count(), 4000);
    }

    #[test]
    fn the_derived_key_follows_the_content() {
        let (_, a) =
            parse_request(&form(&[("service_code", "damage"), ("address_id", "x"), ("description", "a")])).expect("a");
        let (_, b) =
            parse_request(&form(&[("service_code", "damage"), ("address_id", "x"), ("description", "b")])).expect("b");
        assert_eq!(derived_key("open311:fms", &a), derived_key("open311:fms", &a));
        assert_ne!(derived_key("open311:fms", &a), derived_key("open311:fms", &b));
        assert_ne!(derived_key("open311:fms", &a), derived_key("open311:other", &a));
        assert_eq!(derived_key("x", &a).len(), 32);
    }

    #[test]
    fn errors_parse_as_xml_and_escape_what_they_quote() {
        let r = error(Format::Xml, 400, "bad <script>&\"");
        assert_eq!(r.status(), 400);
        let mut x = Xml::new("errors");
        x.el("description", "a<b & \"c\"");
        let doc = x.finish("errors");
        let parsed = roxmltree::Document::parse(&doc).expect("well-formed");
        assert_eq!(parsed.root_element().first_element_child().and_then(|e| e.text()), Some("a<b & \"c\""));
    }

    proptest! {
        #[test]
        fn random_forms_never_panic(pairs in prop::collection::vec(("[a-z_\\[\\]]{1,20}", ".{0,60}"), 0..12)) {
            let f: HashMap<String, String> = pairs.into_iter().collect();
            if let Ok((_, r)) = parse_request(&f) {
                prop_assert!(r.lat.is_none_or(|l| l.abs() <= 90.0));
                prop_assert!(r.text.chars().count() <= MAX_DESCRIPTION_CHARS);
            }
        }

        #[test]
        fn xml_text_always_parses_back(text in "\\PC{0,80}") {
            let mut x = Xml::new("r");
            x.el("t", &text);
            let doc = x.finish("r");
            let parsed = roxmltree::Document::parse(&doc).expect("well-formed");
            let got = parsed.root_element().first_element_child().and_then(|e| e.text()).unwrap_or("").to_owned();
            prop_assert_eq!(got, text);
        }
    }
}
