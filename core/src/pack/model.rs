//! The logical content of a city: what a pack means, independent of its bytes.
//!
//! The builder turns publisher sources into a [`Content`], the writer turns a `Content` into deterministic pack bytes,
//! and the reader can turn a pack back into a `Content`. Having one plain model in the middle is what makes the
//! round trip testable (`read(write(c)) == c`) and record-level deltas possible: records are compared by stable id,
//! never by their position in a vector.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Texts of one field, keyed by BCP 47 language tag. A `BTreeMap` keeps the order, and so the bytes, deterministic.
pub type Texts = BTreeMap<String, String>;

/// Everything one content pack holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// Pack metadata.
    pub meta: Meta,
    /// Categories, sorted by id.
    pub categories: Vec<CategoryRec>,
    /// Points of interest, sorted by id.
    pub places: Vec<PlaceRec>,
    /// Walking tours, sorted by id.
    pub tours: Vec<TourRec>,
    /// Feedback routes in publisher order (the first matching route wins).
    pub feedback_routes: Vec<FeedbackRouteRec>,
    /// Consultations, sorted by id (format 1.1).
    #[serde(default)]
    pub consultations: Vec<ConsultationRec>,
    /// The general Latin form of every non-ASCII character the texts use, for search (format 1.4): filled by the
    /// publisher from a general transliteration table (see [`crate::text::translit`]). Empty in older packs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latin: BTreeMap<char, String>,
}

/// Pack metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Stable city id, e.g. `varna`.
    pub city_id: String,
    /// The city's name per language.
    pub name: Texts,
    /// Area the pack covers.
    pub bbox: BBox,
    /// Content version.
    pub version: u64,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    /// Language every text must exist in.
    pub default_language: String,
    /// All languages, default first.
    pub languages: Vec<String>,
    /// Licence of the content, e.g. an SPDX id.
    pub licence: Option<String>,
    /// Attribution line that apps must show.
    pub attribution: Option<String>,
    /// Who publishes the pack.
    pub publisher: Option<String>,
    /// The publisher's website.
    pub website: Option<String>,
    /// IANA time zone of the city.
    pub time_zone: String,
    /// ISO 3166-1 alpha-2 country code, for public holidays.
    pub country: Option<String>,
    /// The rules of [`Meta::time_zone`] as TZif bytes (RFC 8536), written by the publisher from its copy of the
    /// IANA database (format 1.2); `None` in older packs. In JSON (deltas) a plain array of bytes: a zone's rules are
    /// about a kilobyte and deltas are compressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone_rules: Option<Vec<u8>>,
}

/// A latitude/longitude box, degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

impl BBox {
    /// Whether the point lies inside the box (edges included).
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        lat >= self.min_lat && lat <= self.max_lat && lon >= self.min_lon && lon <= self.max_lon
    }
}

/// A category of places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryRec {
    /// Stable id, e.g. `museum.archaeology`.
    pub id: String,
    /// Parent category id.
    pub parent: Option<String>,
    /// Icon name for apps.
    pub icon: Option<String>,
    /// Localised name.
    pub name: Texts,
}

/// Whether an accessibility feature is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Nobody has said.
    #[default]
    Unknown,
    /// Not available.
    No,
    /// Partly available (e.g. one step, a ramp with help).
    Limited,
    /// Available.
    Yes,
}

impl Access {
    /// Parses the source spelling: `yes`, `no`, `limited` or empty for unknown.
    pub fn parse(s: &str) -> Option<Access> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "unknown" => Some(Access::Unknown),
            "yes" => Some(Access::Yes),
            "no" => Some(Access::No),
            "limited" => Some(Access::Limited),
            _ => None,
        }
    }

    /// The source spelling (empty for unknown).
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Unknown => "",
            Access::No => "no",
            Access::Limited => "limited",
            Access::Yes => "yes",
        }
    }
}

/// The accessibility attributes of a place or tour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccessibilityRec {
    /// Entrance and main areas reachable without steps.
    pub step_free: Access,
    /// A toilet usable from a wheelchair.
    pub wheelchair_toilet: Access,
    /// Parking reserved for disabled people nearby.
    pub accessible_parking: Access,
    /// Audio description of exhibits or the site.
    pub audio_description: Access,
    /// Models or objects that may be touched.
    pub tactile_models: Access,
    /// Places to sit and rest.
    pub seating: Access,
    /// Induction loop for hearing aids.
    pub hearing_loop: Access,
}

impl AccessibilityRec {
    /// Attribute names in source column order.
    pub const FIELDS: [&'static str; 7] = [
        "step_free",
        "wheelchair_toilet",
        "accessible_parking",
        "audio_description",
        "tactile_models",
        "seating",
        "hearing_loop",
    ];

    /// The attributes in [`Self::FIELDS`] order.
    pub fn values(&self) -> [Access; 7] {
        [
            self.step_free,
            self.wheelchair_toilet,
            self.accessible_parking,
            self.audio_description,
            self.tactile_models,
            self.seating,
            self.hearing_loop,
        ]
    }

    /// Builds the record from values in [`Self::FIELDS`] order.
    pub fn from_values(v: [Access; 7]) -> Self {
        AccessibilityRec {
            step_free: v[0],
            wheelchair_toilet: v[1],
            accessible_parking: v[2],
            audio_description: v[3],
            tactile_models: v[4],
            seating: v[5],
            hearing_loop: v[6],
        }
    }

    /// Whether any attribute is known.
    pub fn is_known(&self) -> bool {
        self.values().iter().any(|a| *a != Access::Unknown)
    }
}

/// A postal address as written locally.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AddressRec {
    /// Street name.
    pub street: Option<String>,
    /// House number.
    pub housenumber: Option<String>,
    /// Postal code.
    pub postcode: Option<String>,
    /// Town or village.
    pub locality: Option<String>,
}

/// Contact details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactRec {
    /// Phone number, international format.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Website, https.
    pub website: Option<String>,
}

/// Kind of media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A picture.
    #[default]
    Image,
    /// A recording.
    Audio,
    /// A film.
    Video,
}

/// A media reference with localised alternative text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRec {
    /// Relative path or https URL.
    pub uri: String,
    /// What it is.
    pub kind: MediaKind,
    /// Author or source.
    pub credit: Option<String>,
    /// Licence of the media.
    pub licence: Option<String>,
    /// Alternative text per language.
    pub alt: Texts,
}

/// A point of interest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceRec {
    /// Stable publisher id.
    pub id: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Category ids, main first.
    pub categories: Vec<String>,
    /// 0 to 100.
    pub importance: u8,
    /// Name per language.
    pub name: Texts,
    /// One-sentence summary per language.
    pub summary: Texts,
    /// History and culture per language.
    pub description: Texts,
    /// Easy-read text per language.
    pub easy_read: Texts,
    /// Postal address.
    pub address: AddressRec,
    /// OpenStreetMap opening_hours expression.
    pub opening_hours: Option<String>,
    /// Accessibility attributes.
    pub accessibility: AccessibilityRec,
    /// Contact details.
    pub contact: ContactRec,
    /// Wikidata id.
    pub wikidata: Option<String>,
    /// OpenStreetMap element id.
    pub osm_id: Option<String>,
    /// Media references.
    pub media: Vec<MediaRec>,
}

/// A walking tour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourRec {
    /// Stable publisher id.
    pub id: String,
    /// Title per language.
    pub title: Texts,
    /// Summary per language.
    pub summary: Texts,
    /// Description per language.
    pub description: Texts,
    /// Easy-read text per language.
    pub easy_read: Texts,
    /// Place ids in walking order.
    pub stops: Vec<String>,
    /// Path, `(lat, lon)` pairs from start to end.
    pub path: Vec<(f64, f64)>,
    /// Walking time including visits, minutes.
    pub duration_min: u32,
    /// Length of the path, metres.
    pub distance_m: u32,
    /// Accessibility of the whole walk.
    pub accessibility: AccessibilityRec,
}

/// Which office receives which kind of report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackRouteRec {
    /// Report kind.
    pub kind: String,
    /// Category the route is limited to, with its subcategories.
    pub place_category: Option<String>,
    /// Office name.
    pub office: String,
    /// Office e-mail.
    pub email: Option<String>,
    /// Office phone.
    pub phone: Option<String>,
    /// Office web page.
    pub url: Option<String>,
}

/// One option or proposal of a consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationOptionRec {
    /// Stable id within the consultation.
    pub id: String,
    /// Short label per language.
    pub label: Texts,
    /// Longer explanation per language.
    pub description: Texts,
    /// What the project costs, in whole units of the consultation's currency (format 1.3; budget consultations).
    #[serde(default)]
    pub cost: i64,
}

/// How voters choose in a consultation (format 1.3); fixed once voting opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum VotingRuleRec {
    /// Exactly one option.
    #[default]
    Single,
    /// From one up to `max` options.
    UpTo {
        /// Most options one ballot may choose.
        max: u16,
    },
    /// Any set of options whose costs add up to at most `budget`.
    Budget {
        /// What each voter may spend.
        budget: i64,
    },
}

/// A question the city puts to residents and visitors, with an open period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultationRec {
    /// Stable publisher id.
    pub id: String,
    /// Title per language.
    pub title: Texts,
    /// The question per language.
    pub question: Texts,
    /// Background per language.
    pub description: Texts,
    /// The options, in the order the publisher wrote them.
    pub options: Vec<ConsultationOptionRec>,
    /// Voting opens (Unix seconds, inclusive).
    pub opens: i64,
    /// Voting closes (Unix seconds, exclusive).
    pub closes: i64,
    /// The area concerned; `None` for the whole city.
    pub area: Option<BBox>,
    /// Where the full proposal is published.
    pub url: Option<String>,
    /// How voters choose (format 1.3).
    #[serde(default)]
    pub rule: VotingRuleRec,
    /// Currency of the budget and costs, ISO 4217 (format 1.3).
    #[serde(default)]
    pub currency: Option<String>,
    /// Proposals are accepted from this time (Unix seconds) until voting opens (format 1.3).
    #[serde(default)]
    pub proposals_opens: Option<i64>,
}

impl ConsultationRec {
    /// Whether ballots are accepted at `now` (Unix seconds).
    pub fn is_open_at(&self, now: i64) -> bool {
        now >= self.opens && now < self.closes
    }
}

/// Report kinds a feedback route may name.
pub const FEEDBACK_KINDS: [&str; 9] =
    ["accessibility", "damage", "cleanliness", "closure", "information", "safety", "suggestion", "rating", "other"];

/// How many records have each kind of text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageCoverage {
    /// The language.
    pub lang: String,
    /// Places with a name.
    pub names: usize,
    /// Places with a summary.
    pub summaries: usize,
    /// Places with a description.
    pub descriptions: usize,
    /// Places with easy-read text.
    pub easy_read: usize,
    /// Tours with a title.
    pub tour_titles: usize,
    /// Categories with a name.
    pub category_names: usize,
}

impl Content {
    /// Text coverage per declared language, in the pack's language order.
    pub fn language_coverage(&self) -> Vec<LanguageCoverage> {
        let count = |f: &dyn Fn(&PlaceRec) -> &Texts, lang: &str| {
            self.places.iter().filter(|p| f(p).get(lang).is_some_and(|t| !t.is_empty())).count()
        };
        self.meta
            .languages
            .iter()
            .map(|lang| LanguageCoverage {
                lang: lang.clone(),
                names: count(&|p| &p.name, lang),
                summaries: count(&|p| &p.summary, lang),
                descriptions: count(&|p| &p.description, lang),
                easy_read: count(&|p| &p.easy_read, lang),
                tour_titles: self.tours.iter().filter(|t| t.title.contains_key(lang)).count(),
                category_names: self.categories.iter().filter(|c| c.name.contains_key(lang)).count(),
            })
            .collect()
    }
}
