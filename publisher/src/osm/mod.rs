//! OpenStreetMap import: a real `.osm.pbf` extract in, editable publisher sources out.
//!
//! A culture department rarely starts from nothing: OpenStreetMap already knows most museums, monuments, churches,
//! parks and beaches of a city, often with names in several languages, opening hours and wheelchair access. This
//! module reads an extract with the pure-Rust `osmpbf` reader, keeps the features a city guide is about
//! ([`classify`]), turns ways and relations into one representative point, and writes (or merges into) the same CSV
//! sources the builder reads (see [`sources`]), so the department continues in its spreadsheet.
//!
//! It lives behind the `osm` cargo feature: only the `cityguide` command needs it, the phone library does not carry
//! the PBF reader.
//!
//! The extract is streamed, never loaded whole: the first pass keeps only the matching features (tags, node refs of
//! ways, members of relations); a second pass, only when relations need it, collects the node refs of their member
//! ways; the last pass collects the coordinates of exactly the nodes those ways need.

pub mod sources;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use geo::Centroid;
use osmpbf::{Element, ElementReader, RelMemberType};
use serde::Serialize;

use cityguide_core::pack::model::{Access, BBox};
use cityguide_core::text::lang::canonical_tag;

/// Why an extract could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}; check the path to the .osm.pbf extract")]
    Open {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid PBF extract.
    #[error(
        "{path} is not a readable OpenStreetMap PBF extract ({reason}); download a fresh .osm.pbf (e.g. from a regional extract service) and try again"
    )]
    Format {
        /// The file.
        path: String,
        /// What the reader said.
        reason: String,
    },
}

/// A feature of the extract that becomes a place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OsmPlace {
    /// `node/123`, `way/123` or `relation/123`.
    pub osm_id: String,
    /// Latitude of the representative point.
    pub lat: f64,
    /// Longitude of the representative point.
    pub lon: f64,
    /// Category ids from [`CATEGORIES`], main first.
    pub categories: Vec<String>,
    /// 0 to 100, from how prominent the feature is in OSM (Wikidata, Wikipedia, kind).
    pub importance: u8,
    /// The `name` tag: the name in the local language.
    pub name: Option<String>,
    /// `name:xx` tags, by canonical language tag.
    pub names: BTreeMap<String, String>,
    /// The `description` tag.
    pub description: Option<String>,
    /// The `opening_hours` tag, as written in OSM (checked later).
    pub opening_hours: Option<String>,
    /// From `wheelchair`.
    pub step_free: Access,
    /// From `toilets:wheelchair`.
    pub wheelchair_toilet: Access,
    /// `website` or `contact:website`.
    pub website: Option<String>,
    /// `phone` or `contact:phone`.
    pub phone: Option<String>,
    /// `email` or `contact:email`.
    pub email: Option<String>,
    /// `wikidata`.
    pub wikidata: Option<String>,
    /// `addr:street`.
    pub street: Option<String>,
    /// `addr:housenumber`.
    pub housenumber: Option<String>,
    /// `addr:postcode`.
    pub postcode: Option<String>,
    /// `addr:city`.
    pub locality: Option<String>,
}

/// What reading an extract found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExtractStats {
    /// Elements (nodes, ways, relations) read in the first pass.
    pub elements: u64,
    /// Features of a guide's kinds found anywhere in the file.
    pub matched: usize,
    /// Of those, features without any name (not imported: a guide cannot show a nameless place).
    pub unnamed: usize,
    /// Of those, features whose representative point is outside the bounding box.
    pub outside_bbox: usize,
    /// Ways and relations whose nodes are not in the extract (cut at its border).
    pub unresolved: usize,
    /// Passes over the file.
    pub passes: u32,
}

/// The places of an extract, sorted by OSM id (nodes, then ways, then relations).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Extract {
    /// The places inside the bounding box.
    pub places: Vec<OsmPlace>,
    /// Counts for the import report.
    pub stats: ExtractStats,
}

/// The categories an import creates: `(id, parent, icon, English name)`. Parents come before children.
pub const CATEGORIES: [(&str, &str, &str, &str); 24] = [
    ("museum", "", "museum", "Museums"),
    ("museum.gallery", "museum", "museum", "Art galleries"),
    ("arts", "", "theatre", "Arts and culture"),
    ("arts.artwork", "arts", "artwork", "Public art"),
    ("arts.theatre", "arts", "theatre", "Theatres"),
    ("arts.centre", "arts", "theatre", "Arts centres"),
    ("arts.library", "arts", "library", "Libraries"),
    ("heritage", "", "monument", "Heritage"),
    ("heritage.monument", "heritage", "monument", "Monuments"),
    ("heritage.memorial", "heritage", "monument", "Memorials"),
    ("heritage.castle", "heritage", "castle", "Castles and forts"),
    ("heritage.ruins", "heritage", "ruins", "Ruins"),
    ("heritage.archaeology", "heritage", "ruins", "Archaeological sites"),
    ("heritage.building", "heritage", "monument", "Historic buildings"),
    ("religion", "", "church", "Places of worship"),
    ("religion.church", "religion", "church", "Churches"),
    ("religion.mosque", "religion", "mosque", "Mosques"),
    ("religion.synagogue", "religion", "synagogue", "Synagogues"),
    ("attraction", "", "attraction", "Attractions"),
    ("viewpoint", "", "viewpoint", "Viewpoints"),
    ("nature", "", "park", "Nature"),
    ("nature.park", "nature", "park", "Parks"),
    ("nature.garden", "nature", "park", "Gardens"),
    ("nature.beach", "nature", "beach", "Beaches"),
];

/// Category names in more languages than English, `(category id, [(language, name)])`. A language missing here gets
/// the English name, and the import says so.
pub const CATEGORY_NAMES: [(&str, [(&str, &str); 5]); 24] = [
    ("museum", [("bg", "Музеи"), ("de", "Museen"), ("fi", "Museot"), ("sv", "Museer"), ("ru", "Музеи")]),
    (
        "museum.gallery",
        [
            ("bg", "Галерии"),
            ("de", "Kunstgalerien"),
            ("fi", "Taidegalleriat"),
            ("sv", "Konstgallerier"),
            ("ru", "Галереи"),
        ],
    ),
    (
        "arts",
        [
            ("bg", "Изкуство и култура"),
            ("de", "Kunst und Kultur"),
            ("fi", "Taide ja kulttuuri"),
            ("sv", "Konst och kultur"),
            ("ru", "Искусство и культура"),
        ],
    ),
    (
        "arts.artwork",
        [
            ("bg", "Публично изкуство"),
            ("de", "Kunst im öffentlichen Raum"),
            ("fi", "Julkiset taideteokset"),
            ("sv", "Offentlig konst"),
            ("ru", "Городское искусство"),
        ],
    ),
    ("arts.theatre", [("bg", "Театри"), ("de", "Theater"), ("fi", "Teatterit"), ("sv", "Teatrar"), ("ru", "Театры")]),
    (
        "arts.centre",
        [
            ("bg", "Културни центрове"),
            ("de", "Kulturzentren"),
            ("fi", "Kulttuurikeskukset"),
            ("sv", "Kulturhus"),
            ("ru", "Культурные центры"),
        ],
    ),
    (
        "arts.library",
        [("bg", "Библиотеки"), ("de", "Bibliotheken"), ("fi", "Kirjastot"), ("sv", "Bibliotek"), ("ru", "Библиотеки")],
    ),
    (
        "heritage",
        [
            ("bg", "Наследство"),
            ("de", "Kulturerbe"),
            ("fi", "Kulttuuriperintö"),
            ("sv", "Kulturarv"),
            ("ru", "Наследие"),
        ],
    ),
    (
        "heritage.monument",
        [("bg", "Паметници"), ("de", "Denkmäler"), ("fi", "Muistomerkit"), ("sv", "Monument"), ("ru", "Памятники")],
    ),
    (
        "heritage.memorial",
        [
            ("bg", "Мемориали"),
            ("de", "Gedenkstätten"),
            ("fi", "Muistolaatat ja -paikat"),
            ("sv", "Minnesmärken"),
            ("ru", "Мемориалы"),
        ],
    ),
    (
        "heritage.castle",
        [
            ("bg", "Крепости"),
            ("de", "Burgen und Festungen"),
            ("fi", "Linnat ja linnoitukset"),
            ("sv", "Slott och fästningar"),
            ("ru", "Крепости"),
        ],
    ),
    ("heritage.ruins", [("bg", "Руини"), ("de", "Ruinen"), ("fi", "Rauniot"), ("sv", "Ruiner"), ("ru", "Руины")]),
    (
        "heritage.archaeology",
        [
            ("bg", "Археологически обекти"),
            ("de", "Ausgrabungsstätten"),
            ("fi", "Muinaisjäännökset"),
            ("sv", "Fornlämningar"),
            ("ru", "Археологические объекты"),
        ],
    ),
    (
        "heritage.building",
        [
            ("bg", "Исторически сгради"),
            ("de", "Historische Gebäude"),
            ("fi", "Historialliset rakennukset"),
            ("sv", "Historiska byggnader"),
            ("ru", "Исторические здания"),
        ],
    ),
    (
        "religion",
        [
            ("bg", "Храмове"),
            ("de", "Gotteshäuser"),
            ("fi", "Uskonnolliset rakennukset"),
            ("sv", "Gudstjänstlokaler"),
            ("ru", "Храмы"),
        ],
    ),
    ("religion.church", [("bg", "Църкви"), ("de", "Kirchen"), ("fi", "Kirkot"), ("sv", "Kyrkor"), ("ru", "Церкви")]),
    (
        "religion.mosque",
        [("bg", "Джамии"), ("de", "Moscheen"), ("fi", "Moskeijat"), ("sv", "Moskéer"), ("ru", "Мечети")],
    ),
    (
        "religion.synagogue",
        [("bg", "Синагоги"), ("de", "Synagogen"), ("fi", "Synagogat"), ("sv", "Synagogor"), ("ru", "Синагоги")],
    ),
    (
        "attraction",
        [
            ("bg", "Забележителности"),
            ("de", "Sehenswürdigkeiten"),
            ("fi", "Nähtävyydet"),
            ("sv", "Sevärdheter"),
            ("ru", "Достопримечательности"),
        ],
    ),
    (
        "viewpoint",
        [
            ("bg", "Гледки"),
            ("de", "Aussichtspunkte"),
            ("fi", "Näköalapaikat"),
            ("sv", "Utsiktsplatser"),
            ("ru", "Смотровые площадки"),
        ],
    ),
    ("nature", [("bg", "Природа"), ("de", "Natur"), ("fi", "Luonto"), ("sv", "Natur"), ("ru", "Природа")]),
    ("nature.park", [("bg", "Паркове"), ("de", "Parks"), ("fi", "Puistot"), ("sv", "Parker"), ("ru", "Парки")]),
    ("nature.garden", [("bg", "Градини"), ("de", "Gärten"), ("fi", "Puutarhat"), ("sv", "Trädgårdar"), ("ru", "Сады")]),
    ("nature.beach", [("bg", "Плажове"), ("de", "Strände"), ("fi", "Uimarannat"), ("sv", "Stränder"), ("ru", "Пляжи")]),
];

/// The name of a category in a language: the table above, English, or `None` for an unknown category.
pub fn category_name(id: &str, lang: &str) -> Option<&'static str> {
    let english = CATEGORIES.iter().find(|c| c.0 == id)?.3;
    if lang == "en" {
        return Some(english);
    }
    let local = CATEGORY_NAMES
        .iter()
        .find(|c| c.0 == id)
        .and_then(|(_, names)| names.iter().find(|(l, _)| *l == lang).map(|(_, n)| *n));
    Some(local.unwrap_or(english))
}

/// Whether the table has a real translation of the category names into `lang`.
pub fn has_category_names(lang: &str) -> bool {
    lang == "en" || CATEGORY_NAMES[0].1.iter().any(|(l, _)| *l == lang)
}

/// The guide categories of a feature with these tags, main first; empty when the feature is not for a city guide.
///
/// ```
/// use cityguide_publisher::osm::classify;
/// assert_eq!(classify(&[("tourism", "museum"), ("heritage", "2")]), ["museum", "heritage"]);
/// assert_eq!(classify(&[("amenity", "place_of_worship"), ("religion", "christian")]), ["religion.church"]);
/// assert!(classify(&[("shop", "bakery")]).is_empty());
/// ```
pub fn classify(tags: &[(&str, &str)]) -> Vec<&'static str> {
    let get = |k: &str| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |c: &'static str| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    match get("tourism") {
        Some("museum") => push("museum"),
        Some("gallery") => push("museum.gallery"),
        Some("artwork") => push("arts.artwork"),
        Some("viewpoint") => push("viewpoint"),
        Some("attraction" | "zoo" | "aquarium" | "theme_park") => push("attraction"),
        _ => {}
    }
    match get("amenity") {
        Some("theatre" | "concert_hall" | "opera") => push("arts.theatre"),
        Some("arts_centre") => push("arts.centre"),
        Some("library") => push("arts.library"),
        Some("place_of_worship") => push(match get("religion") {
            Some("christian") => "religion.church",
            Some("muslim") => "religion.mosque",
            Some("jewish") => "religion.synagogue",
            _ => "religion",
        }),
        _ => {}
    }
    match get("historic") {
        Some("monument") => push("heritage.monument"),
        Some("memorial") => {
            // Small plaques and stolpersteine are memorials too, but a guide lists only named, larger ones; the name
            // filter later removes most plaques.
            push("heritage.memorial")
        }
        Some("castle" | "fort" | "city_gate" | "citywalls" | "tower") => push("heritage.castle"),
        Some("ruins") => push("heritage.ruins"),
        Some("archaeological_site") => push("heritage.archaeology"),
        Some("no" | "yes" | "") | None => {}
        Some(_) => push("heritage.building"),
    }
    if get("heritage").is_some_and(|v| v != "no") {
        push("heritage");
    }
    match get("leisure") {
        Some("park") => push("nature.park"),
        Some("garden") if get("garden:type").is_none_or(|t| t != "residential" && t != "private") => {
            push("nature.garden")
        }
        Some("beach_resort") => push("nature.beach"),
        _ => {}
    }
    if get("natural") == Some("beach") {
        push("nature.beach");
    }
    if get("access").is_some_and(|a| a == "private" || a == "no") {
        return Vec::new();
    }
    out
}

/// Importance 0..100 from the kind of feature and how well documented it is.
fn importance(cats: &[&str], tags: &[(&str, &str)]) -> u8 {
    let has = |k: &str| tags.iter().any(|(key, _)| *key == k);
    let base: u8 = match cats.first().copied().unwrap_or("") {
        "museum" | "heritage.castle" | "attraction" => 50,
        "religion.church" | "religion.mosque" | "religion.synagogue" | "religion" | "arts.theatre" => 40,
        "heritage.monument" | "heritage.ruins" | "heritage.archaeology" | "museum.gallery" | "viewpoint" => 35,
        "nature.park" | "nature.beach" | "nature.garden" | "heritage.building" | "arts.centre" => 30,
        _ => 20,
    };
    let mut score = base;
    if has("wikidata") {
        score += 20;
    }
    if has("wikipedia") {
        score += 10;
    }
    if has("heritage") {
        score += 10;
    }
    let languages = tags.iter().filter(|(k, _)| k.starts_with("name:")).count().min(10) as u8;
    score.saturating_add(languages).min(100)
}

fn access_of(v: Option<&str>) -> Access {
    match v {
        Some("yes" | "designated") => Access::Yes,
        Some("limited") => Access::Limited,
        Some("no") => Access::No,
        _ => Access::Unknown,
    }
}

fn text(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A matching feature before its position is known.
struct Candidate {
    kind: u8,
    id: i64,
    place: OsmPlace,
    has_name: bool,
}

fn candidate(kind: u8, id: i64, tags: &[(&str, &str)]) -> Option<Candidate> {
    let cats = classify(tags);
    if cats.is_empty() {
        return None;
    }
    let get = |k: &str| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let mut names = BTreeMap::new();
    for (k, v) in tags {
        if let Some(l) = k.strip_prefix("name:")
            && let Some(tag) = canonical_tag(l)
            && let Some(v) = text(Some(v))
        {
            names.insert(tag, v);
        }
    }
    let name = text(get("name"));
    let has_name = name.is_some() || !names.is_empty();
    let kind_name = ["node", "way", "relation"][usize::from(kind)];
    let place = OsmPlace {
        osm_id: format!("{kind_name}/{id}"),
        lat: f64::NAN,
        lon: f64::NAN,
        importance: importance(&cats, tags),
        categories: cats.iter().map(|c| (*c).to_owned()).collect(),
        name,
        names,
        description: text(get("description")),
        opening_hours: text(get("opening_hours")),
        step_free: access_of(get("wheelchair")),
        wheelchair_toilet: access_of(get("toilets:wheelchair")),
        website: text(get("website").or(get("contact:website")).or(get("url"))),
        phone: text(get("phone").or(get("contact:phone"))),
        email: text(get("email").or(get("contact:email"))),
        wikidata: text(get("wikidata")),
        street: text(get("addr:street")),
        housenumber: text(get("addr:housenumber")),
        postcode: text(get("addr:postcode")),
        locality: text(get("addr:city")),
    };
    Some(Candidate { kind, id, place, has_name })
}

/// Counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One streaming pass over the file. `progress(done, total)` is called as bytes are read; `offset` is what earlier
/// passes read, `total` the bytes of all passes.
fn pass(
    path: &Path,
    offset: u64,
    total: u64,
    progress: &dyn Fn(u64, u64),
    mut f: impl FnMut(Element<'_>),
) -> Result<(), OsmError> {
    let file = std::fs::File::open(path).map_err(|e| OsmError::Open { path: path.display().to_string(), source: e })?;
    let read = Arc::new(AtomicU64::new(0));
    let counting = Counting { inner: std::io::BufReader::new(file), read: Arc::clone(&read) };
    let reader = ElementReader::new(counting);
    let mut n = 0u64;
    let result = reader.for_each(|el| {
        f(el);
        n += 1;
        if n % 4096 == 0 {
            progress(offset + read.load(Ordering::Relaxed), total);
        }
    });
    // The reader decodes untrusted bytes; a malformed block is an error, never a crash.
    result.map_err(|e| OsmError::Format { path: path.display().to_string(), reason: e.to_string() })?;
    progress(offset + read.load(Ordering::Relaxed), total);
    Ok(())
}

/// Reads the places inside `bbox` from a PBF extract. `progress(bytes_done, bytes_total)` reports the streaming.
pub fn read_extract(path: &Path, bbox: BBox, progress: &dyn Fn(u64, u64)) -> Result<Extract, OsmError> {
    let size =
        std::fs::metadata(path).map_err(|e| OsmError::Open { path: path.display().to_string(), source: e })?.len();
    // The reader is not guaranteed to stay panic-free on hostile bytes; a panic inside it becomes a format error.
    let run = std::panic::AssertUnwindSafe(|| read_extract_inner(path, bbox, size, progress));
    match std::panic::catch_unwind(run) {
        Ok(r) => r,
        Err(_) => Err(OsmError::Format { path: path.display().to_string(), reason: "corrupt data".into() }),
    }
}

fn read_extract_inner(path: &Path, bbox: BBox, size: u64, progress: &dyn Fn(u64, u64)) -> Result<Extract, OsmError> {
    let mut stats = ExtractStats::default();
    let mut found: Vec<(Candidate, Option<(f64, f64)>)> = Vec::new();
    let mut way_refs: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut rel_members: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::new();
    let mut elements = 0u64;
    // Until the first pass ends we do not know whether two or three passes are needed; assume two.
    pass(path, 0, size * 2, progress, |el| {
        elements += 1;
        match el {
            Element::Node(n) => {
                let tags: Vec<(&str, &str)> = n.tags().collect();
                if let Some(c) = candidate(0, n.id(), &tags) {
                    found.push((c, Some((n.lat(), n.lon()))));
                }
            }
            Element::DenseNode(n) => {
                let tags: Vec<(&str, &str)> = n.tags().collect();
                if let Some(c) = candidate(0, n.id(), &tags) {
                    found.push((c, Some((n.lat(), n.lon()))));
                }
            }
            Element::Way(w) => {
                let tags: Vec<(&str, &str)> = w.tags().collect();
                if let Some(c) = candidate(1, w.id(), &tags) {
                    if c.has_name {
                        way_refs.insert(w.id(), w.refs().collect());
                    }
                    found.push((c, None));
                }
            }
            Element::Relation(r) => {
                let tags: Vec<(&str, &str)> = r.tags().collect();
                if let Some(c) = candidate(2, r.id(), &tags) {
                    if c.has_name {
                        let (mut nodes, mut ways) = (Vec::new(), Vec::new());
                        for m in r.members() {
                            let role = m.role().unwrap_or("");
                            if role == "inner" {
                                continue;
                            }
                            match m.member_type {
                                RelMemberType::Node => nodes.push(m.member_id),
                                RelMemberType::Way => ways.push(m.member_id),
                                RelMemberType::Relation => {}
                            }
                        }
                        rel_members.insert(r.id(), (nodes, ways));
                    }
                    found.push((c, None));
                }
            }
        }
    })?;
    stats.elements = elements;
    stats.passes = 1;
    let member_ways: HashSet<i64> =
        rel_members.values().flat_map(|(_, ways)| ways.iter().copied()).filter(|w| !way_refs.contains_key(w)).collect();
    let passes_left = u64::from(!member_ways.is_empty()) + u64::from(!way_refs.is_empty() || !rel_members.is_empty());
    let total = size * (1 + passes_left);
    let mut done = size;
    let mut member_refs: HashMap<i64, Vec<i64>> = HashMap::new();
    if !member_ways.is_empty() {
        pass(path, done, total, progress, |el| {
            if let Element::Way(w) = el
                && member_ways.contains(&w.id())
            {
                member_refs.insert(w.id(), w.refs().collect());
            }
        })?;
        done += size;
        stats.passes += 1;
    }
    let refs_of_way = |w: &i64| way_refs.get(w).or_else(|| member_refs.get(w));
    let mut coords: HashMap<i64, (f64, f64)> = HashMap::new();
    if passes_left > 0 {
        let mut needed: HashSet<i64> = way_refs.values().flatten().copied().collect();
        for (nodes, ways) in rel_members.values() {
            needed.extend(nodes.iter().copied());
            for w in ways {
                if let Some(r) = refs_of_way(w) {
                    needed.extend(r.iter().copied());
                }
            }
        }
        pass(path, done, total, progress, |el| match el {
            Element::Node(n) if needed.contains(&n.id()) => {
                coords.insert(n.id(), (n.lat(), n.lon()));
            }
            Element::DenseNode(n) if needed.contains(&n.id()) => {
                coords.insert(n.id(), (n.lat(), n.lon()));
            }
            _ => {}
        })?;
        stats.passes += 1;
    }
    stats.matched = found.len();
    let mut places = Vec::new();
    for (c, pos) in found {
        if !c.has_name {
            stats.unnamed += 1;
            continue;
        }
        let pos = pos.or_else(|| match c.kind {
            1 => way_refs.get(&c.id).and_then(|r| way_point(r, &coords)),
            _ => rel_members.get(&c.id).and_then(|(nodes, ways)| {
                let mut pts: Vec<(f64, f64)> = nodes.iter().filter_map(|n| coords.get(n).copied()).collect();
                for w in ways {
                    if let Some(r) = refs_of_way(w) {
                        pts.extend(r.iter().filter_map(|n| coords.get(n).copied()));
                    }
                }
                mean_point(&pts)
            }),
        });
        let Some((lat, lon)) = pos.filter(|(a, b)| a.is_finite() && b.is_finite()) else {
            stats.unresolved += 1;
            continue;
        };
        if !bbox.contains(lat, lon) {
            stats.outside_bbox += 1;
            continue;
        }
        let mut place = c.place;
        place.lat = (lat * 1e7).round() / 1e7;
        place.lon = (lon * 1e7).round() / 1e7;
        places.push((c.kind, c.id, place));
    }
    places.sort_by_key(|(k, id, _)| (*k, *id));
    progress(total, total);
    Ok(Extract { places: places.into_iter().map(|(_, _, p)| p).collect(), stats })
}

/// The representative point of a way: the area centroid of a closed ring, else the centroid of the line.
fn way_point(refs: &[i64], coords: &HashMap<i64, (f64, f64)>) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = refs.iter().filter_map(|n| coords.get(n).copied()).collect();
    if pts.len() != refs.len() || pts.is_empty() {
        // Part of the way lies outside the extract: the mean of what is there is still near the feature.
        return mean_point(&pts);
    }
    let xy: Vec<geo::Coord<f64>> = pts.iter().map(|(lat, lon)| geo::Coord { x: *lon, y: *lat }).collect();
    let closed = refs.len() >= 4 && refs.first() == refs.last();
    let c = if closed {
        geo::Polygon::new(geo::LineString::new(xy), Vec::new()).centroid()
    } else {
        geo::LineString::new(xy).centroid()
    };
    c.map(|p| (p.y(), p.x())).or_else(|| mean_point(&pts))
}

fn mean_point(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    if pts.is_empty() {
        return None;
    }
    let n = pts.len() as f64;
    Some((pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_maps_the_guide_kinds_and_ignores_the_rest() {
        assert_eq!(classify(&[("tourism", "museum")]), ["museum"]);
        assert_eq!(classify(&[("historic", "castle"), ("tourism", "attraction")]), ["attraction", "heritage.castle"]);
        assert_eq!(classify(&[("amenity", "place_of_worship"), ("religion", "muslim")]), ["religion.mosque"]);
        assert_eq!(classify(&[("amenity", "place_of_worship")]), ["religion"]);
        assert_eq!(classify(&[("leisure", "park")]), ["nature.park"]);
        assert_eq!(classify(&[("natural", "beach")]), ["nature.beach"]);
        assert_eq!(classify(&[("historic", "manor")]), ["heritage.building"]);
        assert_eq!(classify(&[("tourism", "viewpoint")]), ["viewpoint"]);
        assert_eq!(classify(&[("amenity", "arts_centre")]), ["arts.centre"]);
        assert!(classify(&[("amenity", "restaurant")]).is_empty());
        assert!(classify(&[("historic", "no")]).is_empty());
        assert!(classify(&[("leisure", "park"), ("access", "private")]).is_empty());
    }

    #[test]
    fn every_category_has_its_parent_first_and_a_name_in_each_table_language() {
        for (i, (id, parent, _, _)) in CATEGORIES.iter().enumerate() {
            if !parent.is_empty() {
                assert!(CATEGORIES[..i].iter().any(|c| c.0 == *parent), "{id}");
            }
            assert_eq!(CATEGORY_NAMES[i].0, *id);
        }
        assert_eq!(category_name("nature.beach", "fi"), Some("Uimarannat"));
        assert_eq!(category_name("nature.beach", "xx"), Some("Beaches"));
        assert_eq!(category_name("nope", "en"), None);
    }

    #[test]
    fn a_closed_way_is_placed_at_its_area_centroid() {
        let coords: HashMap<i64, (f64, f64)> =
            [(1, (0.0, 0.0)), (2, (0.0, 2.0)), (3, (2.0, 2.0)), (4, (2.0, 0.0))].into_iter().collect();
        let (lat, lon) = way_point(&[1, 2, 3, 4, 1], &coords).expect("point");
        assert!((lat - 1.0).abs() < 1e-9 && (lon - 1.0).abs() < 1e-9, "{lat},{lon}");
        // A missing node: the mean of the known ones.
        let (lat, lon) = way_point(&[1, 2, 9], &coords).expect("point");
        assert!((lat - 0.0).abs() < 1e-9 && (lon - 1.0).abs() < 1e-9);
        assert_eq!(way_point(&[8, 9], &coords), None);
    }
}
