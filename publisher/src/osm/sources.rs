//! Writing an extract as publisher sources, or merging it into sources people have already edited.
//!
//! The output is exactly what the builder reads (`city.toml`, `categories.csv`, `places.csv`, `texts/<lang>.csv`), so
//! the department continues in its spreadsheet and `cityguide pack build` works right away. A merge never loses
//! hand-made work:
//!
//! - places are matched by OSM id, then by Wikidata id; a matched place keeps its id, categories, importance and
//!   every text. Facts OSM has a value for (position, opening hours, address, contact, wheelchair access) are
//!   refreshed from OSM, and each change is reported by field;
//! - a name or description is only filled where the texts file has none; when OSM's name differs from the
//!   hand-written one, the hand-written one stays and the report says so;
//! - places whose OSM feature disappeared are reported as gone but kept (a department decides whether the place
//!   closed); places without an OSM id are never touched; unknown columns are carried over as they are.
//!
//! Values the builder would refuse (opening hours it cannot parse, a website without `https://`...) are left out and
//! listed in the report, so the imported sources always build.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CATEGORIES, Extract, ExtractStats, OsmPlace, category_name, has_category_names};
use crate::build::PLACE_COLUMNS;
use cityguide_core::geodesy;
use cityguide_core::pack::model::Access;
use cityguide_core::text::lang::canonical_tag;

/// The licence of OpenStreetMap data (SPDX id).
pub const OSM_LICENCE: &str = "ODbL-1.0";
/// The attribution OpenStreetMap asks for.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)";

/// An import that could not be done; nothing was written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);

/// What a new source folder needs beyond the extract.
#[derive(Debug, Clone)]
pub struct CityInit {
    /// The city id, e.g. `helsinki`.
    pub city_id: String,
    /// The city's name in the default language.
    pub name: String,
    /// Language of OSM's `name` tag, e.g. `fi`.
    pub default_language: String,
    /// Languages to import; empty: the default plus every language with names on at least 5 % of the places.
    pub languages: Vec<String>,
    /// IANA time zone, e.g. `Europe/Helsinki`.
    pub time_zone: String,
    /// ISO 3166-1 country code for public holidays.
    pub country: Option<String>,
    /// Creation time of this content, Unix seconds.
    pub created: i64,
    /// The bounding box of the import, `(min_lon, min_lat, max_lon, max_lat)`.
    pub bbox: (f64, f64, f64, f64),
}

/// A place whose facts changed in OSM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    /// The place id in the sources.
    pub id: String,
    /// Its OSM id.
    pub osm_id: String,
    /// The fields that changed, e.g. `opening_hours`, `position (12 m)`, `name:sv (filled)`.
    pub fields: Vec<String>,
}

/// A place of the sources whose OSM feature is no longer in the extract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gone {
    /// The place id in the sources (still there).
    pub id: String,
    /// The OSM id it had.
    pub osm_id: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// Whether a new source folder was created (otherwise existing sources were merged).
    pub created: bool,
    /// The source languages.
    pub languages: Vec<String>,
    /// Ids of places added.
    pub new: Vec<String>,
    /// Places updated from OSM.
    pub changed: Vec<Changed>,
    /// Places whose OSM feature disappeared (kept in the sources).
    pub gone: Vec<Gone>,
    /// Matched places with nothing to update.
    pub unchanged: usize,
    /// Categories added to categories.csv.
    pub categories_added: Vec<String>,
    /// Hand-written names kept although OSM has another one.
    pub kept: Vec<String>,
    /// OSM values left out because the builder would refuse them.
    pub dropped: Vec<String>,
    /// Things the department should do next (e.g. translate category names).
    pub notes: Vec<String>,
    /// What reading the extract found.
    pub stats: ExtractStats,
}

/// A CSV file as rows of cells under named columns; unknown columns survive a round trip.
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    fn read(path: &Path) -> Result<Option<Table>, ImportError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ImportError(format!("cannot read {}: {e}", path.display()))),
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            ImportError(format!("{} is not UTF-8 text; save it as \"CSV UTF-8\" and import again", path.display()))
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| ImportError(format!("{}: cannot read the header row: {e}", path.display())))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                ImportError(format!(
                    "{}: {e}; fix the file (or build it to see where) and import again",
                    path.display()
                ))
            })?;
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let mut row: Vec<String> = rec.iter().map(str::to_owned).collect();
            row.resize(headers.len().max(row.len()), String::new());
            rows.push(row);
        }
        Ok(Some(Table { headers, rows }))
    }

    fn col(&mut self, name: &str) -> usize {
        if let Some(i) = self.headers.iter().position(|h| h == name) {
            return i;
        }
        self.headers.push(name.to_owned());
        for r in &mut self.rows {
            r.resize(self.headers.len(), String::new());
        }
        self.headers.len() - 1
    }

    fn get(&self, row: usize, name: &str) -> &str {
        self.headers.iter().position(|h| h == name).and_then(|c| self.rows[row].get(c)).map_or("", |s| s.trim())
    }

    fn set(&mut self, row: usize, name: &str, value: &str) {
        let c = self.col(name);
        if self.rows[row].len() <= c {
            self.rows[row].resize(c + 1, String::new());
        }
        self.rows[row][c] = value.to_owned();
    }

    fn push(&mut self, cells: &[(&str, &str)]) -> usize {
        for (k, _) in cells {
            self.col(k);
        }
        let mut row = vec![String::new(); self.headers.len()];
        for (k, v) in cells {
            if let Some(c) = self.headers.iter().position(|h| h == k) {
                row[c] = (*v).to_owned();
            }
        }
        self.rows.push(row);
        self.rows.len() - 1
    }

    fn to_bytes(&self) -> Result<Vec<u8>, ImportError> {
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        let err = |e: csv::Error| ImportError(format!("cannot write CSV: {e}"));
        w.write_record(&self.headers).map_err(err)?;
        for r in &self.rows {
            let mut r = r.clone();
            r.resize(self.headers.len(), String::new());
            w.write_record(&r).map_err(err)?;
        }
        w.into_inner().map_err(|e| ImportError(format!("cannot write CSV: {e}")))
    }
}

/// Files to write at the end, all or none.
struct Output(Vec<(PathBuf, Vec<u8>)>);

impl Output {
    fn commit(self) -> Result<(), ImportError> {
        // Write every temporary file first; only when all are on disk, rename them into place.
        let mut temps = Vec::new();
        for (path, bytes) in &self.0 {
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d).map_err(|e| ImportError(format!("cannot create {}: {e}", d.display())))?;
            }
            let tmp = path.with_extension(format!("import-tmp{}", std::process::id()));
            if let Err(e) = std::fs::write(&tmp, bytes) {
                for t in &temps {
                    let _ = std::fs::remove_file(t);
                }
                let _ = std::fs::remove_file(&tmp);
                return Err(ImportError(format!("cannot write {}: {e}; nothing was changed", path.display())));
            }
            temps.push(tmp);
        }
        for ((path, _), tmp) in self.0.iter().zip(&temps) {
            std::fs::rename(tmp, path).map_err(|e| ImportError(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(())
    }
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn city_toml(init: &CityInit, languages: &[String]) -> String {
    let created =
        chrono::DateTime::from_timestamp(init.created, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let langs: Vec<String> = languages.iter().map(|l| toml_str(l)).collect();
    let (min_lon, min_lat, max_lon, max_lat) = init.bbox;
    let mut s = String::new();
    s.push_str(
        "# Imported from OpenStreetMap by `cityguide import osm`; edit freely, ids and texts survive re-imports.\n",
    );
    s.push_str(&format!("id = {}\nversion = 1\ncreated = {}\n", toml_str(&init.city_id), toml_str(&created)));
    s.push_str(&format!(
        "default_language = {}\nlanguages = [{}]\n",
        toml_str(&init.default_language),
        langs.join(", ")
    ));
    s.push_str(&format!("time_zone = {}\n", toml_str(&init.time_zone)));
    if let Some(c) = &init.country {
        s.push_str(&format!("country = {}\n", toml_str(c)));
    }
    s.push_str(&format!("licence = {}\nattribution = {}\n", toml_str(OSM_LICENCE), toml_str(OSM_ATTRIBUTION)));
    s.push_str(&format!("\n[name]\n{} = {}\n", init.default_language, toml_str(&init.name)));
    s.push_str(&format!(
        "\n[bbox]\nmin_lat = {min_lat:?}\nmin_lon = {min_lon:?}\nmax_lat = {max_lat:?}\nmax_lon = {max_lon:?}\n"
    ));
    s
}

/// Adds ODbL and the OSM attribution to an existing `city.toml`, editing only those two lines.
fn with_osm_licence(text: &str) -> Result<String, ImportError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        ImportError(format!("city.toml is not valid ({}); build the sources to see where", e.message()))
    })?;
    let licence = table.get("licence").and_then(|v| v.as_str()).map(str::to_owned);
    let attribution = table.get("attribution").and_then(|v| v.as_str()).map(str::to_owned);
    let new_licence = match &licence {
        Some(l) if l.contains("ODbL") => None,
        Some(l) if !l.trim().is_empty() => Some(format!("{l} AND {OSM_LICENCE}")),
        _ => Some(OSM_LICENCE.to_owned()),
    };
    let new_attr = match &attribution {
        Some(a) if a.contains("OpenStreetMap") => None,
        Some(a) if !a.trim().is_empty() => Some(format!("{a}; {OSM_ATTRIBUTION}")),
        _ => Some(OSM_ATTRIBUTION.to_owned()),
    };
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let first_table = lines.iter().position(|l| l.trim_start().starts_with('[')).unwrap_or(lines.len());
    for (key, value) in [("licence", new_licence), ("attribution", new_attr)] {
        let Some(value) = value else { continue };
        let line = format!("{key} = {}", toml_str(&value));
        let is_key = |l: &String| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('='));
        match lines[..first_table].iter().position(is_key) {
            Some(i) => lines[i] = line,
            None => lines.insert(first_table, line),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// A slug from a name in any script: `Kansallismuseo` → `kansallismuseo`, `Успение` → `uspenie`.
fn slug(name: &str) -> String {
    let latin = any_ascii::any_ascii(name).to_ascii_lowercase();
    let mut s = String::new();
    for c in latin.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let mut s: String = s.trim_end_matches('-').chars().take(60).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() { "place".to_owned() } else { s }
}

/// OSM values cleaned to what the builder accepts; refused ones are described in `dropped`.
struct Clean {
    opening_hours: String,
    website: String,
    phone: String,
    email: String,
    wikidata: String,
}

fn clean(p: &OsmPlace, dropped: &mut Vec<String>) -> Clean {
    let mut drop = |field: &str, v: &str, why: &str| {
        dropped.push(format!("{} {field} {v:?}: {why}", p.osm_id));
        String::new()
    };
    let opening_hours = match &p.opening_hours {
        Some(oh) if oh.parse::<opening_hours::OpeningHours>().is_ok() => oh.clone(),
        Some(oh) => drop("opening_hours", oh, "not valid opening_hours syntax; fix it in OSM or in places.csv"),
        None => String::new(),
    };
    let website = match p.website.as_deref() {
        Some(w) if w.starts_with("https://") || w.starts_with("http://") => w.to_owned(),
        Some(w) if w.starts_with("www.") && !w.contains(' ') => format!("https://{w}"),
        Some(w) => drop("website", w, "not a web address starting with https://"),
        None => String::new(),
    };
    let phone = match p.phone.as_deref() {
        Some(ph) => {
            let first = ph.split(';').next().unwrap_or("").trim();
            if !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit() || b" +()-/.".contains(&b)) {
                first.to_owned()
            } else {
                drop("phone", ph, "may only contain digits, spaces and + ( ) - / .")
            }
        }
        None => String::new(),
    };
    let email = match p.email.as_deref() {
        Some(e) if e.contains('@') && !e.contains(' ') && e.split('@').all(|x| !x.is_empty()) => e.to_owned(),
        Some(e) => drop("email", e, "not an e-mail address"),
        None => String::new(),
    };
    let wikidata = match p.wikidata.as_deref() {
        Some(w)
            if w.len() > 1
                && w.starts_with('Q')
                && w[1..].bytes().all(|b| b.is_ascii_digit())
                && !w[1..].starts_with('0') =>
        {
            w.to_owned()
        }
        Some(w) => drop("wikidata", w, "not a Wikidata id like Q12345"),
        None => String::new(),
    };
    Clean { opening_hours, website, phone, email, wikidata }
}

/// Languages for new sources: the default, then every `name:xx` on at least 5 % of the places (and 3), most first.
fn detect_languages(extract: &Extract, default: &str) -> Vec<String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &extract.places {
        for l in p.names.keys() {
            *count.entry(l.as_str()).or_default() += 1;
        }
    }
    let min = (extract.places.len() / 20).max(3);
    let mut langs: Vec<(&str, usize)> = count.into_iter().filter(|(l, n)| *n >= min && *l != default).collect();
    langs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out = vec![default.to_owned()];
    out.extend(langs.into_iter().take(11).map(|(l, _)| l.to_owned()));
    out
}

const TEXT_HEADERS: [&str; 6] = ["type", "id", "name", "summary", "description", "easy_read"];

/// The ids, OSM ids and Wikidata ids of places in `places.geojson`, which the import reads but never rewrites.
fn geojson_places(dir: &Path) -> Result<Vec<(String, String, String)>, ImportError> {
    let path = dir.join("places.geojson");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ImportError(format!("cannot read {}: {e}", path.display()))),
    };
    let gj: geojson::GeoJson = text.parse().map_err(|e| {
        ImportError(format!("{} is not valid GeoJSON ({e}); build the sources to see where", path.display()))
    })?;
    let mut out = Vec::new();
    if let geojson::GeoJson::FeatureCollection(fc) = gj {
        for f in fc.features {
            let prop = |k: &str| f.property(k).and_then(|v| v.as_str()).unwrap_or("").trim().to_owned();
            out.push((prop("id"), prop("osm_id"), prop("wikidata")));
        }
    }
    Ok(out)
}

/// Writes the extract as new sources in `dir` (`init` given), or merges it into the sources already there.
pub fn import(
    dir: &Path,
    extract: &Extract,
    init: Option<&CityInit>,
    merge: bool,
) -> Result<ImportReport, ImportError> {
    let city_path = dir.join("city.toml");
    let mut out = Output(Vec::new());
    let mut notes = Vec::new();
    let (default_language, languages, created) = if merge {
        let text = std::fs::read_to_string(&city_path).map_err(|_| {
            ImportError(format!(
                "{} has no city.toml to merge into; run without --merge to create new sources there",
                dir.display()
            ))
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            ImportError(format!("city.toml is not valid ({}); build the sources to see where", e.message()))
        })?;
        let default =
            table.get("default_language").and_then(|v| v.as_str()).and_then(canonical_tag).ok_or_else(|| {
                ImportError("city.toml has no valid default_language; fix it and import again".into())
            })?;
        let mut langs: Vec<String> = table
            .get("languages")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).filter_map(canonical_tag).collect())
            .unwrap_or_default();
        langs.retain(|l| *l != default);
        langs.insert(0, default.clone());
        let updated = with_osm_licence(&text)?;
        if updated != text {
            out.0.push((city_path.clone(), updated.into_bytes()));
        }
        (default, langs, false)
    } else {
        let init =
            init.ok_or_else(|| ImportError("new sources need the city's id, name, language and time zone".into()))?;
        if city_path.exists() || dir.join("places.csv").exists() {
            return Err(ImportError(format!(
                "{} already holds sources; pass --merge to update them from OpenStreetMap (hand-written texts and ids are kept), or choose an empty folder",
                dir.display()
            )));
        }
        let default = canonical_tag(&init.default_language).ok_or_else(|| {
            ImportError(format!("{:?} is not a language tag; use e.g. fi, bg, en", init.default_language))
        })?;
        let mut langs = if init.languages.is_empty() {
            detect_languages(extract, &default)
        } else {
            let mut l = vec![default.clone()];
            for x in &init.languages {
                let t = canonical_tag(x)
                    .ok_or_else(|| ImportError(format!("{x:?} is not a language tag; use e.g. fi, sv, en")))?;
                if !l.contains(&t) {
                    l.push(t);
                }
            }
            l
        };
        langs.dedup();
        let init = CityInit { default_language: default.clone(), ..init.clone() };
        out.0.push((city_path.clone(), city_toml(&init, &langs).into_bytes()));
        (default, langs, true)
    };

    // Categories the new places need, with their ancestors.
    let cat_path = dir.join("categories.csv");
    let mut cats = Table::read(&cat_path)?.unwrap_or_else(|| Table::new(&["id", "parent", "icon"]));
    let have: BTreeSet<String> = (0..cats.rows.len()).map(|r| cats.get(r, "id").to_owned()).collect();

    let places_path = dir.join("places.csv");
    let mut places = Table::read(&places_path)?.unwrap_or_else(|| Table::new(&PLACE_COLUMNS));
    for c in PLACE_COLUMNS {
        places.col(c);
    }
    let mut texts: BTreeMap<String, Table> = BTreeMap::new();
    for l in &languages {
        let t = Table::read(&dir.join("texts").join(format!("{l}.csv")))?.unwrap_or_else(|| Table::new(&TEXT_HEADERS));
        texts.insert(l.clone(), t);
    }
    let text_row =
        |t: &Table, kind: &str, id: &str| (0..t.rows.len()).find(|&r| t.get(r, "type") == kind && t.get(r, "id") == id);

    let mut ids: BTreeSet<String> = (0..places.rows.len()).map(|r| places.get(r, "id").to_owned()).collect();
    let mut by_osm: HashMap<String, usize> = HashMap::new();
    let mut by_wikidata: HashMap<String, usize> = HashMap::new();
    for r in 0..places.rows.len() {
        let (o, w) = (places.get(r, "osm_id").to_owned(), places.get(r, "wikidata").to_owned());
        if !o.is_empty() {
            by_osm.insert(o, r);
        }
        if !w.is_empty() {
            by_wikidata.insert(w, r);
        }
    }
    let geo = geojson_places(dir)?;
    let geo_osm: HashMap<&str, &str> =
        geo.iter().filter(|g| !g.1.is_empty()).map(|g| (g.1.as_str(), g.0.as_str())).collect();
    let geo_wd: HashMap<&str, &str> =
        geo.iter().filter(|g| !g.2.is_empty()).map(|g| (g.2.as_str(), g.0.as_str())).collect();
    ids.extend(geo.iter().map(|g| g.0.clone()));

    let mut report = ImportReport {
        created,
        languages: languages.clone(),
        new: Vec::new(),
        changed: Vec::new(),
        gone: Vec::new(),
        unchanged: 0,
        categories_added: Vec::new(),
        kept: Vec::new(),
        dropped: Vec::new(),
        notes: Vec::new(),
        stats: extract.stats.clone(),
    };
    let mut seen_rows: BTreeSet<usize> = BTreeSet::new();
    let mut needed_cats: BTreeSet<String> = BTreeSet::new();
    let mut other_langs: BTreeSet<String> = BTreeSet::new();

    for p in &extract.places {
        let c = clean(p, &mut report.dropped);
        // Names per language: name:xx, and the plain name for the default language when it has no name:xx.
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (l, n) in &p.names {
            if languages.contains(l) {
                names.insert(l.clone(), n.clone());
            } else {
                other_langs.insert(l.clone());
            }
        }
        if !names.contains_key(&default_language) {
            let fallback = p.name.clone().or_else(|| p.names.values().next().cloned());
            if let Some(n) = fallback {
                names.insert(default_language.clone(), n);
            }
        }
        let access = |a: Access| a.as_str().to_owned();
        let facts: Vec<(&str, String)> = vec![
            ("opening_hours", c.opening_hours.clone()),
            ("street", p.street.clone().unwrap_or_default()),
            ("housenumber", p.housenumber.clone().unwrap_or_default()),
            ("postcode", p.postcode.clone().unwrap_or_default()),
            ("locality", p.locality.clone().unwrap_or_default()),
            ("phone", c.phone.clone()),
            ("email", c.email.clone()),
            ("website", c.website.clone()),
            ("wikidata", c.wikidata.clone()),
            ("osm_id", p.osm_id.clone()),
            ("step_free", access(p.step_free)),
            ("wheelchair_toilet", access(p.wheelchair_toilet)),
        ];
        let matched = by_osm.get(&p.osm_id).copied().or_else(|| {
            (!c.wikidata.is_empty()).then(|| by_wikidata.get(&c.wikidata).copied()).flatten().filter(|r| {
                // A Wikidata match is only taken when the row is not already tied to another OSM feature.
                let o = places.get(*r, "osm_id");
                o.is_empty() || o == p.osm_id
            })
        });
        if let Some(row) = matched.filter(|r| !seen_rows.contains(r)) {
            seen_rows.insert(row);
            let id = places.get(row, "id").to_owned();
            let mut fields = Vec::new();
            let old = (places.get(row, "lat").parse::<f64>(), places.get(row, "lon").parse::<f64>());
            let moved = match old {
                (Ok(a), Ok(b)) => geodesy::distance_m((a, b), (p.lat, p.lon)),
                _ => f64::INFINITY,
            };
            if moved > 5.0 {
                places.set(row, "lat", &format!("{:.7}", p.lat));
                places.set(row, "lon", &format!("{:.7}", p.lon));
                fields.push(if moved.is_finite() { format!("position ({moved:.0} m)") } else { "position".into() });
            }
            for (k, v) in &facts {
                if !v.is_empty() && places.get(row, k) != v.as_str() {
                    places.set(row, k, v);
                    fields.push((*k).to_owned());
                }
            }
            let description = p.description.clone().unwrap_or_default();
            for (l, n) in &names {
                let Some(t) = texts.get_mut(l) else { continue };
                match text_row(t, "place", &id) {
                    Some(r) if t.get(r, "name").is_empty() => {
                        t.set(r, "name", n);
                        fields.push(format!("name:{l} (filled)"));
                    }
                    Some(r) if t.get(r, "name") != n.as_str() => {
                        report
                            .kept
                            .push(format!("{id}: name in {l} {:?} kept (OpenStreetMap: {n:?})", t.get(r, "name")));
                    }
                    Some(_) => {}
                    None => {
                        t.push(&[("type", "place"), ("id", &id), ("name", n)]);
                        fields.push(format!("name:{l} (added)"));
                    }
                }
            }
            if !description.is_empty()
                && let Some(t) = texts.get_mut(&default_language)
                && let Some(r) = text_row(t, "place", &id)
                && t.get(r, "description").is_empty()
            {
                t.set(r, "description", &description);
                fields.push(format!("description:{default_language} (filled)"));
            }
            if fields.is_empty() {
                report.unchanged += 1;
            } else {
                report.changed.push(Changed { id, osm_id: p.osm_id.clone(), fields });
            }
            continue;
        }
        if geo_osm.contains_key(p.osm_id.as_str())
            || (!c.wikidata.is_empty() && geo_wd.contains_key(c.wikidata.as_str()))
        {
            // Defined in places.geojson, which the import does not rewrite.
            report.unchanged += 1;
            continue;
        }
        let base = slug(names.get(&default_language).map_or("place", String::as_str));
        let id = if ids.contains(&base) {
            let (kind, num) = p.osm_id.split_once('/').unwrap_or(("n", "0"));
            format!("{base}-{}{num}", &kind[..1])
        } else {
            base
        };
        ids.insert(id.clone());
        for cat in &p.categories {
            needed_cats.insert(cat.clone());
        }
        let lat = format!("{:.7}", p.lat);
        let lon = format!("{:.7}", p.lon);
        let categories = p.categories.join(";");
        let importance = p.importance.to_string();
        let mut cells: Vec<(&str, &str)> =
            vec![("id", &id), ("lat", &lat), ("lon", &lon), ("categories", &categories), ("importance", &importance)];
        cells.extend(facts.iter().map(|(k, v)| (*k, v.as_str())));
        places.push(&cells);
        for (l, n) in &names {
            if let Some(t) = texts.get_mut(l) {
                let desc = if *l == default_language { p.description.as_deref().unwrap_or("") } else { "" };
                t.push(&[("type", "place"), ("id", &id), ("name", n), ("description", desc)]);
            }
        }
        report.new.push(id);
    }
    for r in 0..places.rows.len() {
        let o = places.get(r, "osm_id");
        if !o.is_empty() && !seen_rows.contains(&r) && !report.new.iter().any(|n| n == places.get(r, "id")) {
            report.gone.push(Gone { id: places.get(r, "id").to_owned(), osm_id: o.to_owned() });
        }
    }

    // Add the categories the new places use (and their parents) that the sources do not have yet.
    let mut add: BTreeSet<&str> = BTreeSet::new();
    for c in &needed_cats {
        let mut cur = Some(c.as_str());
        while let Some(x) = cur {
            if !have.contains(x) {
                add.insert(x);
            }
            cur = CATEGORIES.iter().find(|k| k.0 == x).map(|k| k.1).filter(|p| !p.is_empty());
        }
    }
    for (id, parent, icon, _) in CATEGORIES.iter().filter(|c| add.contains(c.0)) {
        cats.push(&[("id", id), ("parent", parent), ("icon", icon)]);
        report.categories_added.push((*id).to_owned());
        for (l, t) in texts.iter_mut() {
            if (has_category_names(l) || *l == default_language)
                && text_row(t, "category", id).is_none()
                && let Some(n) = category_name(id, l)
            {
                t.push(&[("type", "category"), ("id", id), ("name", n)]);
            }
        }
    }
    if !report.categories_added.is_empty() && !has_category_names(&default_language) {
        notes.push(format!(
            "category names in texts/{default_language}.csv are in English; translate them (rows starting with \"category,\")"
        ));
    }
    if !other_langs.is_empty() {
        notes.push(format!(
            "OpenStreetMap also has names in {}; add those languages to city.toml's languages and import again to use them",
            other_langs.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !report.gone.is_empty() {
        notes.push(format!(
            "{} place(s) are no longer in OpenStreetMap; they stay in places.csv: delete their rows if they closed",
            report.gone.len()
        ));
    }
    report.notes = notes;

    if !report.categories_added.is_empty() || !cat_path.exists() {
        out.0.push((cat_path, cats.to_bytes()?));
    }
    out.0.push((places_path, places.to_bytes()?));
    for (l, t) in &texts {
        out.0.push((dir.join("texts").join(format!("{l}.csv")), t.to_bytes()?));
    }
    out.commit()?;
    Ok(report)
}

/// The bounding box of existing sources (`city.toml`'s `[bbox]`), for a merge without an explicit one.
pub fn source_bbox(dir: &Path) -> Option<cityguide_core::pack::model::BBox> {
    let text = std::fs::read_to_string(dir.join("city.toml")).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let b = table.get("bbox")?.as_table()?;
    let f = |k: &str| b.get(k).and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)));
    Some(cityguide_core::pack::model::BBox {
        min_lat: f("min_lat")?,
        min_lon: f("min_lon")?,
        max_lat: f("max_lat")?,
        max_lon: f("max_lon")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_readable_in_any_script() {
        assert_eq!(slug("Kansallismuseo"), "kansallismuseo");
        assert_eq!(slug("Успение Богородично"), "uspenie-bogorodichno");
        assert_eq!(slug("  St. Mary's  "), "st-mary-s");
        assert_eq!(slug("!!!"), "place");
    }

    #[test]
    fn the_osm_licence_is_added_once_and_other_lines_stay() {
        let text = "id = \"x\"\nlicence = \"CC-BY-4.0\"\n# keep me\n\n[name]\nfi = \"X\"\n";
        let once = with_osm_licence(text).expect("valid");
        assert!(once.contains("licence = \"CC-BY-4.0 AND ODbL-1.0\""), "{once}");
        assert!(once.contains("attribution = \"© OpenStreetMap contributors"), "{once}");
        assert!(once.contains("# keep me") && once.contains("fi = \"X\""));
        assert_eq!(with_osm_licence(&once).expect("valid"), once);
        let t: toml::Table = toml::from_str(&once).expect("still TOML");
        assert!(t["name"].as_table().is_some());
    }

    #[test]
    fn toml_strings_escape_quotes_and_control_characters() {
        let s = toml_str("a \"b\" \\ \n");
        let t: toml::Table = toml::from_str(&format!("k = {s}")).expect("valid TOML");
        assert_eq!(t["k"].as_str(), Some("a \"b\" \\ \n"));
    }
}
