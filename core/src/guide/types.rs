//! The records the guide answers with: what an app lists, shows on a map or puts on a place's page. Plain data,
//! typed (positions are [`LatLon`], states are enums), serialisable for the command line's `--json`.

use chrono::{DateTime, FixedOffset, Utc};

use crate::geodesy::LatLon;
use crate::pack::model::{Access, AccessibilityRec};
use crate::query::hours::UnknownReason;

/// A text and the language it is in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Localized {
    /// The text.
    pub text: String,
    /// Its language (may differ from the reader's first choice).
    pub lang: String,
}

/// An accessibility feature a filter can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessFeature {
    /// Step-free access.
    StepFree,
    /// Wheelchair-usable toilet.
    WheelchairToilet,
    /// Disabled parking.
    AccessibleParking,
    /// Audio description.
    AudioDescription,
    /// Tactile models.
    TactileModels,
    /// Seating.
    Seating,
    /// Hearing loop.
    HearingLoop,
}

impl AccessFeature {
    /// Every feature, in the order apps list them.
    pub const ALL: [AccessFeature; 7] = [
        AccessFeature::StepFree,
        AccessFeature::WheelchairToilet,
        AccessFeature::AccessibleParking,
        AccessFeature::AudioDescription,
        AccessFeature::TactileModels,
        AccessFeature::Seating,
        AccessFeature::HearingLoop,
    ];

    /// What the place record says about this feature.
    pub fn of(self, a: &AccessibilityRec) -> Access {
        match self {
            AccessFeature::StepFree => a.step_free,
            AccessFeature::WheelchairToilet => a.wheelchair_toilet,
            AccessFeature::AccessibleParking => a.accessible_parking,
            AccessFeature::AudioDescription => a.audio_description,
            AccessFeature::TactileModels => a.tactile_models,
            AccessFeature::Seating => a.seating,
            AccessFeature::HearingLoop => a.hearing_loop,
        }
    }
}

/// Which places a query returns.
#[derive(Debug, Clone, Default)]
pub struct PlaceFilter {
    /// Category ids; a place matches if any of its categories is one of these or below one of them. Empty: all.
    pub categories: Vec<String>,
    /// Features that must be present (`yes`; `limited` and unknown do not count).
    pub accessibility: Vec<AccessFeature>,
    /// Only places known to be open at this instant (unknown hours are left out).
    pub open_at: Option<DateTime<Utc>>,
}

/// A "what is near me" question.
#[derive(Debug, Clone)]
pub struct NearbyQuery {
    /// The user's position.
    pub at: LatLon,
    /// Most results (capped at [`NearbyQuery::MAX_LIMIT`]).
    pub limit: usize,
    /// Only places within this distance, metres.
    pub radius_m: Option<f64>,
    /// Which places.
    pub filter: PlaceFilter,
}

impl NearbyQuery {
    /// The largest list a query returns: lists are for screens, more is a mistake rather than a request.
    pub const MAX_LIMIT: usize = 10_000;

    /// The `limit` places nearest to `at`, any distance, no filter.
    pub fn new(at: LatLon, limit: usize) -> NearbyQuery {
        NearbyQuery { at, limit, radius_m: None, filter: PlaceFilter::default() }
    }

    /// Only places within `radius_m` metres.
    pub fn within(mut self, radius_m: f64) -> NearbyQuery {
        self.radius_m = Some(radius_m);
        self
    }

    /// Only places that pass `filter`.
    pub fn filtered(mut self, filter: PlaceFilter) -> NearbyQuery {
        self.filter = filter;
        self
    }
}

/// A map viewport: its south-west and north-east corners. A viewport whose west edge is east of its east edge
/// crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Viewport {
    /// South-west corner.
    pub south_west: LatLon,
    /// North-east corner.
    pub north_east: LatLon,
}

/// A place in a list or on a map.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlaceSummary {
    /// City.
    pub city_id: String,
    /// Stable place id.
    pub id: String,
    /// Name in the best available language.
    pub name: String,
    /// Language of `name`.
    pub lang: String,
    /// One-sentence summary.
    pub summary: Option<Localized>,
    /// Main category id.
    pub category: String,
    /// Main category name.
    pub category_name: Option<Localized>,
    /// Where it is.
    #[serde(flatten)]
    pub position: LatLon,
    /// 0 to 100.
    pub importance: u8,
    /// Distance from the query position, metres.
    pub distance_m: Option<f64>,
    /// Bearing from the query position, degrees clockwise from north.
    pub bearing_deg: Option<f64>,
    /// Accessibility attributes.
    pub accessibility: AccessibilityRec,
}

/// A marker on the map: one place, or several close together at this zoom.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapMarker {
    /// Position of the marker.
    #[serde(flatten)]
    pub position: LatLon,
    /// Places it stands for.
    pub count: u32,
    /// The most important place among them.
    pub place: PlaceSummary,
}

/// Whether a place is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenState {
    /// Open at the instant asked about.
    Open,
    /// Closed at the instant asked about.
    Closed,
    /// Nobody can say (no hours, or hours that leave it open); never to be shown as closed.
    Unknown,
}

/// Opening status as shown to the reader.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HoursInfo {
    /// The publisher's `opening_hours` expression.
    pub expression: Option<String>,
    /// Open, closed or unknown.
    pub state: OpenState,
    /// When it closes (if open and known within a week), in the city's local offset.
    pub closes_at: Option<DateTime<FixedOffset>>,
    /// When it opens next (if closed and known within a week), in the city's local offset.
    pub opens_at: Option<DateTime<FixedOffset>>,
    /// Why the state is unknown, when it is.
    #[serde(skip)]
    pub unknown_reason: Option<UnknownReason>,
    /// A short English label, e.g. "open, closes 17:00".
    pub label: String,
}

/// What a media item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A picture.
    Image,
    /// A sound recording.
    Audio,
    /// A film.
    Video,
}

/// A media item with its alternative text in the reader's language.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaInfo {
    /// URI.
    pub uri: String,
    /// Image, audio or video.
    pub kind: MediaKind,
    /// Alternative text.
    pub alt: Option<Localized>,
    /// Credit.
    pub credit: Option<String>,
    /// Licence.
    pub licence: Option<String>,
}

/// A category of places.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CategoryInfo {
    /// Stable id.
    pub id: String,
    /// Parent category id.
    pub parent: Option<String>,
    /// Name in the best available language.
    pub name: Option<Localized>,
}

/// Everything about one place.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlaceDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: PlaceSummary,
    /// History and culture.
    pub description: Option<Localized>,
    /// Easy-read text.
    pub easy_read: Option<Localized>,
    /// All its categories with names.
    pub categories: Vec<CategoryInfo>,
    /// Address lines as written locally.
    pub address: Option<String>,
    /// Opening status.
    pub hours: HoursInfo,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Wikidata id.
    pub wikidata: Option<String>,
    /// Media with alt text.
    pub media: Vec<MediaInfo>,
    /// In the user's favourites.
    pub favourite: bool,
    /// The user's note.
    pub note: Option<String>,
    /// How often the user marked it visited.
    pub visits: u32,
}

/// A tour in a list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TourSummary {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: Localized,
    /// Summary.
    pub summary: Option<Localized>,
    /// Number of stops.
    pub stops: u32,
    /// Length, metres.
    pub distance_m: u32,
    /// Walking time with visits, minutes.
    pub duration_min: u32,
    /// Step-free.
    pub step_free: Access,
}

/// A tour with its stops and path.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TourDetail {
    /// The list fields.
    #[serde(flatten)]
    pub summary: TourSummary,
    /// Description.
    pub description: Option<Localized>,
    /// Easy-read text.
    pub easy_read: Option<Localized>,
    /// Stops in walking order.
    pub stops: Vec<PlaceSummary>,
    /// Path, start to end.
    pub path: Vec<LatLon>,
}

/// The next stop of a tour walk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NextStop {
    /// Its position in the tour's stop list, from 0.
    pub index: u32,
    /// The place.
    pub place_id: String,
}

/// Where a walker is on a tour, from one position fix.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TourProgress {
    /// Distance walked along the path, metres (pass it back as the next call's hint).
    pub along_m: f64,
    /// Distance along the path to the end, metres.
    pub distance_left_m: f64,
    /// The first stop not yet reached; `None` once every stop is reached.
    pub next_stop: Option<NextStop>,
    /// Distance along the path to the next stop, metres.
    pub distance_to_next_stop_m: Option<f64>,
    /// Distance from the walker to the path, metres.
    pub off_route_m: f64,
    /// Whether the walker is off route (farther than 40 m or 1.5 × the fix's accuracy).
    pub off_route: bool,
    /// Share of the path walked, 0 to 1.
    pub fraction_done: f64,
}

/// One circular region to register with the OS.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Geofence {
    /// The place it watches; `None` for the refresh region.
    pub place_id: Option<String>,
    /// Centre.
    pub center: LatLon,
    /// Radius, metres.
    pub radius_m: f64,
}

/// The regions the OS should watch now (iOS allows 20 per app, Android 100).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GeofencePlan {
    /// Place regions, nearest first.
    pub regions: Vec<Geofence>,
    /// Centred on the user, reaching the farthest chosen place: leaving it means plan again.
    pub refresh: Geofence,
}

/// One position fix from the phone's location service.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LocationFix {
    /// Where.
    pub position: LatLon,
    /// Horizontal accuracy, metres (the platform's 68 % radius).
    pub accuracy_m: f64,
    /// When, milliseconds since the Unix epoch.
    pub time_ms: i64,
}

/// Something that happened near a place during a walk.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum ProximityEvent {
    /// The walker entered the place's surroundings and stayed for the dwell time.
    Enter {
        /// The place.
        place: PlaceSummary,
        /// Distance at the fix that confirmed the entry, metres.
        distance_m: f64,
        /// Time of that fix, milliseconds since the Unix epoch.
        time_ms: i64,
    },
    /// The walker left a place they had entered.
    Exit {
        /// The place.
        place: PlaceSummary,
        /// Time of the fix that showed the walker outside, milliseconds since the Unix epoch.
        time_ms: i64,
    },
}

/// An installed city.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InstalledCity {
    /// City id.
    pub city_id: String,
    /// Name in the reader's language.
    pub name: Localized,
    /// Content version.
    pub version: u64,
    /// SHA-256 of the pack, hex.
    pub sha256: String,
    /// Pack size, bytes.
    pub size: u64,
    /// Places.
    pub places: u32,
    /// Languages of the pack.
    pub languages: Vec<String>,
}

/// Where a saved place stands in the current pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SavedStatus {
    /// The place is in the installed pack.
    Present,
    /// A later pack removed the place; the entry is kept with its last known name.
    Removed,
    /// The city is not installed (any more).
    CityMissing,
}

/// A favourite, visit or note with its place's current standing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SavedPlace {
    /// City.
    pub city_id: String,
    /// Place id.
    pub place_id: String,
    /// Current name, or the last known one if removed.
    pub name: String,
    /// Whether the place still exists.
    pub status: SavedStatus,
    /// When it was saved (Unix seconds).
    pub at: i64,
    /// The note text, for notes.
    pub note: Option<String>,
}
