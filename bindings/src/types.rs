//! Records and enums as Kotlin and Swift see them, and their conversions from the core's types.
//!
//! UniFFI needs its own types at the boundary, so each core record has a twin here: same fields, names that read
//! naturally in Kotlin and Swift (UniFFI turns snake_case into camelCase), time as plain integers (Unix seconds;
//! milliseconds where the platform location APIs use them). Conversions only: every decision is the core's.

use cityguide_core as core;
use cityguide_core::pack::model::{Access, AccessibilityRec};

use crate::error::GuideError;

/// A position on Earth in degrees (WGS 84). Positions from the app are checked when they cross into the core: a
/// latitude outside -90..90, a longitude outside -180..180 or a NaN is `GuideError.InvalidArgument`.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Position {
    /// Latitude, -90 to 90.
    pub lat: f64,
    /// Longitude, -180 to 180.
    pub lon: f64,
}

impl TryFrom<Position> for core::LatLon {
    type Error = GuideError;
    fn try_from(p: Position) -> Result<Self, GuideError> {
        core::LatLon::new(p.lat, p.lon)
            .map_err(|e| GuideError::InvalidArgument { field: "position".into(), reason: e.to_string() })
    }
}

impl From<core::LatLon> for Position {
    fn from(p: core::LatLon) -> Self {
        Position { lat: p.lat(), lon: p.lon() }
    }
}

/// A map viewport: the box between two corners. A box whose `west` is greater than its `east` crosses the
/// antimeridian.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Bounds {
    /// Southern edge, latitude.
    pub south: f64,
    /// Western edge, longitude.
    pub west: f64,
    /// Northern edge, latitude.
    pub north: f64,
    /// Eastern edge, longitude.
    pub east: f64,
}

impl TryFrom<Bounds> for core::Viewport {
    type Error = GuideError;
    fn try_from(b: Bounds) -> Result<Self, GuideError> {
        let corner = |lat, lon| {
            core::LatLon::new(lat, lon)
                .map_err(|e| GuideError::InvalidArgument { field: "bounds".into(), reason: e.to_string() })
        };
        Ok(core::Viewport { south_west: corner(b.south, b.west)?, north_east: corner(b.north, b.east)? })
    }
}

/// A text and the language it is in (which may differ from the reader's first choice).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalizedText {
    /// The text.
    pub text: String,
    /// Its language, a BCP 47 tag.
    pub language: String,
}

impl From<core::Localized> for LocalizedText {
    fn from(l: core::Localized) -> Self {
        LocalizedText { text: l.text, language: l.lang }
    }
}

/// Whether an accessibility feature is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AccessLevel {
    /// Nobody has said.
    Unknown,
    /// Not available.
    No,
    /// Partly available (one step, a ramp with help).
    Limited,
    /// Available.
    Yes,
}

impl From<Access> for AccessLevel {
    fn from(a: Access) -> Self {
        match a {
            Access::Unknown => AccessLevel::Unknown,
            Access::No => AccessLevel::No,
            Access::Limited => AccessLevel::Limited,
            Access::Yes => AccessLevel::Yes,
        }
    }
}

/// The accessibility attributes of a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Accessibility {
    /// Entrance and main areas reachable without steps.
    pub step_free: AccessLevel,
    /// A toilet usable from a wheelchair.
    pub wheelchair_toilet: AccessLevel,
    /// Disabled parking nearby.
    pub accessible_parking: AccessLevel,
    /// Audio description.
    pub audio_description: AccessLevel,
    /// Tactile models or exhibits.
    pub tactile_models: AccessLevel,
    /// Places to sit.
    pub seating: AccessLevel,
    /// Induction loop for hearing aids.
    pub hearing_loop: AccessLevel,
}

impl From<AccessibilityRec> for Accessibility {
    fn from(a: AccessibilityRec) -> Self {
        Accessibility {
            step_free: a.step_free.into(),
            wheelchair_toilet: a.wheelchair_toilet.into(),
            accessible_parking: a.accessible_parking.into(),
            audio_description: a.audio_description.into(),
            tactile_models: a.tactile_models.into(),
            seating: a.seating.into(),
            hearing_loop: a.hearing_loop.into(),
        }
    }
}

/// An accessibility feature a filter can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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

impl From<AccessFeature> for core::AccessFeature {
    fn from(f: AccessFeature) -> Self {
        match f {
            AccessFeature::StepFree => core::AccessFeature::StepFree,
            AccessFeature::WheelchairToilet => core::AccessFeature::WheelchairToilet,
            AccessFeature::AccessibleParking => core::AccessFeature::AccessibleParking,
            AccessFeature::AudioDescription => core::AccessFeature::AudioDescription,
            AccessFeature::TactileModels => core::AccessFeature::TactileModels,
            AccessFeature::Seating => core::AccessFeature::Seating,
            AccessFeature::HearingLoop => core::AccessFeature::HearingLoop,
        }
    }
}

/// Which places a query returns. The default (all fields empty) returns every place.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct PlaceFilter {
    /// Category ids; a place matches if any of its categories is one of these or below one of them. Empty: all.
    #[uniffi(default)]
    pub categories: Vec<String>,
    /// Features that must be present (`Yes`; `Limited` and unknown do not count).
    #[uniffi(default)]
    pub accessibility: Vec<AccessFeature>,
    /// Only places known to be open at this instant, Unix seconds (unknown hours are left out). `null`: any.
    #[uniffi(default)]
    pub open_at: Option<i64>,
}

/// A place in a list or on a map.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PlaceSummary {
    /// City.
    pub city_id: String,
    /// Stable place id.
    pub id: String,
    /// Name in the best available language.
    pub name: String,
    /// Language of `name`.
    pub language: String,
    /// One-sentence summary.
    pub summary: Option<LocalizedText>,
    /// Main category id.
    pub category: String,
    /// Main category name.
    pub category_name: Option<LocalizedText>,
    /// Where it is.
    pub position: Position,
    /// 0 to 100.
    pub importance: u8,
    /// Distance from the query position, metres (when the query had one).
    pub distance_m: Option<f64>,
    /// Bearing from the query position, degrees clockwise from north.
    pub bearing_deg: Option<f64>,
    /// Accessibility attributes.
    pub accessibility: Accessibility,
}

impl From<core::PlaceSummary> for PlaceSummary {
    fn from(s: core::PlaceSummary) -> Self {
        PlaceSummary {
            city_id: s.city_id,
            id: s.id,
            name: s.name,
            language: s.lang,
            summary: s.summary.map(Into::into),
            category: s.category,
            category_name: s.category_name.map(Into::into),
            position: s.position.into(),
            importance: s.importance,
            distance_m: s.distance_m,
            bearing_deg: s.bearing_deg,
            accessibility: s.accessibility.into(),
        }
    }
}

/// A marker on the map: one place, or several close together at this zoom.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MapMarker {
    /// Where to draw the marker.
    pub position: Position,
    /// How many places it stands for (1: a single place).
    pub count: u32,
    /// The most important place among them.
    pub place: PlaceSummary,
}

impl From<core::MapMarker> for MapMarker {
    fn from(m: core::MapMarker) -> Self {
        MapMarker { position: m.position.into(), count: m.count, place: m.place.into() }
    }
}

/// Open, closed, or not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OpenState {
    /// Open now.
    Open,
    /// Closed now.
    Closed,
    /// No hours published, or they cannot be evaluated.
    Unknown,
}

/// Opening status of a place at one instant, evaluated in the city's time zone with its public holidays.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpeningStatus {
    /// Open, closed or unknown.
    pub state: OpenState,
    /// When it closes (if open), Unix seconds.
    pub closes_at: Option<i64>,
    /// When it opens next (if closed), Unix seconds.
    pub opens_at: Option<i64>,
    /// `closes_at` as local time of the city, RFC 3339 with offset (for display as the city's wall-clock time).
    pub closes_at_local: Option<String>,
    /// `opens_at` as local time of the city, RFC 3339 with offset.
    pub opens_at_local: Option<String>,
    /// The publisher's opening-hours expression (OpenStreetMap syntax).
    pub expression: Option<String>,
    /// A short English label, e.g. "open, closes 17:00".
    pub label: String,
}

impl From<core::OpenState> for OpenState {
    fn from(s: core::OpenState) -> Self {
        match s {
            core::OpenState::Open => OpenState::Open,
            core::OpenState::Closed => OpenState::Closed,
            core::OpenState::Unknown => OpenState::Unknown,
        }
    }
}

impl From<core::HoursInfo> for OpeningStatus {
    fn from(h: core::HoursInfo) -> Self {
        OpeningStatus {
            state: h.state.into(),
            closes_at: h.closes_at.map(|t| t.timestamp()),
            opens_at: h.opens_at.map(|t| t.timestamp()),
            closes_at_local: h.closes_at.map(|t| t.to_rfc3339()),
            opens_at_local: h.opens_at.map(|t| t.to_rfc3339()),
            expression: h.expression,
            label: h.label,
        }
    }
}

/// Kind of a media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MediaKind {
    /// A picture.
    Image,
    /// A sound file.
    Audio,
    /// A film.
    Video,
}

/// A picture, sound or film with its alternative text in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MediaItem {
    /// Where it is (relative to the pack's media base, or absolute).
    pub uri: String,
    /// Image, audio or video.
    pub kind: MediaKind,
    /// Alternative text for screen readers.
    pub alt: Option<LocalizedText>,
    /// Credit line.
    pub credit: Option<String>,
    /// Licence.
    pub licence: Option<String>,
}

impl From<core::MediaInfo> for MediaItem {
    fn from(m: core::MediaInfo) -> Self {
        let kind = match m.kind {
            core::MediaKind::Audio => MediaKind::Audio,
            core::MediaKind::Video => MediaKind::Video,
            core::MediaKind::Image => MediaKind::Image,
        };
        MediaItem { uri: m.uri, kind, alt: m.alt.map(Into::into), credit: m.credit, licence: m.licence }
    }
}

/// A category a place belongs to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CategoryRef {
    /// Stable id.
    pub id: String,
    /// Name in the best available language.
    pub name: Option<LocalizedText>,
}

/// Everything about one place.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PlaceDetail {
    /// The list fields.
    pub summary: PlaceSummary,
    /// History and culture.
    pub description: Option<LocalizedText>,
    /// Easy-read text.
    pub easy_read: Option<LocalizedText>,
    /// All its categories.
    pub categories: Vec<CategoryRef>,
    /// Address as written locally.
    pub address: Option<String>,
    /// Opening status at the instant asked for.
    pub opening: OpeningStatus,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Wikidata id.
    pub wikidata: Option<String>,
    /// Pictures, sounds and films with alt text.
    pub media: Vec<MediaItem>,
    /// In the user's favourites.
    pub favourite: bool,
    /// The user's note.
    pub note: Option<String>,
    /// How often the user marked it visited.
    pub visits: u32,
}

impl From<core::PlaceDetail> for PlaceDetail {
    fn from(d: core::PlaceDetail) -> Self {
        PlaceDetail {
            summary: d.summary.into(),
            description: d.description.map(Into::into),
            easy_read: d.easy_read.map(Into::into),
            categories: d
                .categories
                .into_iter()
                .map(|c| CategoryRef { id: c.id, name: c.name.map(Into::into) })
                .collect(),
            address: d.address,
            opening: d.hours.into(),
            phone: d.phone,
            email: d.email,
            website: d.website,
            wikidata: d.wikidata,
            media: d.media.into_iter().map(Into::into).collect(),
            favourite: d.favourite,
            note: d.note,
            visits: d.visits,
        }
    }
}

/// A category of places (categories form a tree).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Category {
    /// Stable id.
    pub id: String,
    /// Parent category id.
    pub parent: Option<String>,
    /// Name in the best available language.
    pub name: Option<LocalizedText>,
}

impl From<core::CategoryInfo> for Category {
    fn from(c: core::CategoryInfo) -> Self {
        Category { id: c.id, parent: c.parent, name: c.name.map(Into::into) }
    }
}

/// A tour in a list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TourSummary {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: LocalizedText,
    /// Summary.
    pub summary: Option<LocalizedText>,
    /// Number of stops.
    pub stop_count: u32,
    /// Length, metres.
    pub distance_m: u32,
    /// Walking time with visits, minutes.
    pub duration_min: u32,
    /// Whether the whole tour is step-free.
    pub step_free: AccessLevel,
}

impl From<core::TourSummary> for TourSummary {
    fn from(t: core::TourSummary) -> Self {
        TourSummary {
            id: t.id,
            title: t.title.into(),
            summary: t.summary.map(Into::into),
            stop_count: t.stops,
            distance_m: t.distance_m,
            duration_min: t.duration_min,
            step_free: t.step_free.into(),
        }
    }
}

/// A tour with its stops and path.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TourDetail {
    /// The list fields.
    pub summary: TourSummary,
    /// Description.
    pub description: Option<LocalizedText>,
    /// Easy-read text.
    pub easy_read: Option<LocalizedText>,
    /// Stops in walking order.
    pub stops: Vec<PlaceSummary>,
    /// The walking path.
    pub path: Vec<Position>,
}

impl From<core::TourDetail> for TourDetail {
    fn from(t: core::TourDetail) -> Self {
        TourDetail {
            summary: t.summary.into(),
            description: t.description.map(Into::into),
            easy_read: t.easy_read.map(Into::into),
            stops: t.stops.into_iter().map(Into::into).collect(),
            path: t.path.into_iter().map(Into::into).collect(),
        }
    }
}

/// Where a walker is on a tour, from one position fix.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TourProgress {
    /// Distance walked along the path, metres.
    pub along_m: f64,
    /// Distance left to the end of the path, metres.
    pub distance_left_m: f64,
    /// Index (in the tour's stops) of the first stop not yet reached; `null` once every stop is reached.
    pub next_stop_index: Option<u32>,
    /// Place id of that stop.
    pub next_stop_place_id: Option<String>,
    /// Distance along the path to the next stop, metres.
    pub distance_to_next_stop_m: Option<f64>,
    /// Distance from the walker to the path, metres.
    pub off_route_m: f64,
    /// Whether the walker has left the route (accounting for the fix's accuracy).
    pub off_route: bool,
    /// Share of the path walked, 0 to 1.
    pub fraction_done: f64,
}

impl From<core::TourProgress> for TourProgress {
    fn from(p: core::TourProgress) -> Self {
        TourProgress {
            along_m: p.along_m,
            distance_left_m: p.distance_left_m,
            next_stop_index: p.next_stop.as_ref().map(|n| n.index),
            next_stop_place_id: p.next_stop.map(|n| n.place_id),
            distance_to_next_stop_m: p.distance_to_next_stop_m,
            off_route_m: p.off_route_m,
            off_route: p.off_route,
            fraction_done: p.fraction_done,
        }
    }
}

/// An installed city.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InstalledCity {
    /// City id.
    pub city_id: String,
    /// Name in the reader's language.
    pub name: LocalizedText,
    /// Content version.
    pub version: u64,
    /// SHA-256 of the pack, hex.
    pub sha256: String,
    /// Pack size, bytes.
    pub size_bytes: u64,
    /// Number of places.
    pub place_count: u32,
    /// Languages of the pack, default first.
    pub languages: Vec<String>,
}

impl From<core::InstalledCity> for InstalledCity {
    fn from(c: core::InstalledCity) -> Self {
        InstalledCity {
            city_id: c.city_id,
            name: c.name.into(),
            version: c.version,
            sha256: c.sha256,
            size_bytes: c.size,
            place_count: c.places,
            languages: c.languages,
        }
    }
}

/// Where a saved place stands in the installed pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SavedStatus {
    /// The place is in the installed pack.
    Present,
    /// A later pack removed the place; the entry is kept with its last known name.
    Removed,
    /// The city is not installed (any more).
    CityMissing,
}

/// A favourite, visit or note.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SavedPlace {
    /// City.
    pub city_id: String,
    /// Place id.
    pub place_id: String,
    /// Current name, or the last known one if the place was removed.
    pub name: String,
    /// Whether the place still exists.
    pub status: SavedStatus,
    /// When it was saved, Unix seconds.
    pub saved_at: i64,
    /// The note text (notes only).
    pub note: Option<String>,
}

impl From<core::SavedPlace> for SavedPlace {
    fn from(s: core::SavedPlace) -> Self {
        SavedPlace {
            city_id: s.city_id,
            place_id: s.place_id,
            name: s.name,
            status: match s.status {
                core::SavedStatus::Present => SavedStatus::Present,
                core::SavedStatus::Removed => SavedStatus::Removed,
                core::SavedStatus::CityMissing => SavedStatus::CityMissing,
            },
            saved_at: s.at,
            note: s.note,
        }
    }
}

/// Size limits for downloads. The default suits a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DownloadLimits {
    /// Largest catalog accepted, bytes.
    #[uniffi(default = 1048576)]
    pub catalog_bytes: u64,
    /// Largest pack accepted (compressed or not), bytes.
    #[uniffi(default = 268435456)]
    pub pack_bytes: u64,
    /// Largest delta accepted (compressed or not), bytes.
    #[uniffi(default = 67108864)]
    pub delta_bytes: u64,
    /// Bytes asked for per range request (progress and cancellation happen between chunks).
    #[uniffi(default = 262144)]
    pub chunk_bytes: u64,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        let c = core::Caps::default();
        DownloadLimits { catalog_bytes: c.catalog, pack_bytes: c.pack, delta_bytes: c.delta, chunk_bytes: c.chunk }
    }
}

/// Everything a guide needs to start.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GuideConfig {
    /// Directory for the database and the pack files: the app's private storage.
    pub data_dir: String,
    /// The reader's languages, most preferred first (BCP 47 tags such as "bg", "en-GB").
    pub languages: Vec<String>,
    /// URL of the publisher's signed `catalog.json`; `null` for a guide that only side-loads packs.
    #[uniffi(default)]
    pub catalog_url: Option<String>,
    /// The publisher's public keys, as printed by `cityguide keygen` ("ed25519:…").
    #[uniffi(default)]
    pub trusted_keys: Vec<String>,
    /// Download size limits; `null`: the defaults.
    #[uniffi(default)]
    pub limits: Option<DownloadLimits>,
}

/// What updating one city would do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UpdateInfo {
    /// City.
    pub city_id: String,
    /// Installed version, if installed.
    pub installed_version: Option<u64>,
    /// Version in the catalog.
    pub available_version: u64,
    /// Whether an update would change anything (not installed, or a different version).
    pub update_available: bool,
    /// Bytes to download (the delta if one fits, else the compressed pack).
    pub download_bytes: u64,
    /// Whether a delta fits the installed version.
    pub via_delta: bool,
}

impl From<core::UpdateInfo> for UpdateInfo {
    fn from(u: core::UpdateInfo) -> Self {
        UpdateInfo {
            update_available: u.update_available,
            city_id: u.city_id,
            installed_version: u.installed_version,
            available_version: u.available_version,
            download_bytes: u.download_bytes,
            via_delta: u.via_delta,
        }
    }
}

/// How an update reached the catalog's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UpdateMethod {
    /// A delta from the installed version, applied and verified on the phone.
    Delta,
    /// The full pack (no delta from the installed version was offered).
    FullPack,
    /// The full pack, because the offered delta did not verify.
    FullPackAfterDeltaFailed,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum UpdateOutcome {
    /// The installed version is the catalog's: nothing was downloaded.
    UpToDate {
        /// The city as installed.
        city: InstalledCity,
    },
    /// The city was not installed; now it is.
    Installed {
        /// The city as installed now.
        city: InstalledCity,
        /// Bytes downloaded.
        downloaded_bytes: u64,
    },
    /// An older version was replaced.
    Updated {
        /// The city as installed now.
        city: InstalledCity,
        /// The version it replaced.
        from_version: u64,
        /// Delta or full pack.
        method: UpdateMethod,
        /// Bytes downloaded.
        downloaded_bytes: u64,
    },
}

impl From<core::UpdateOutcome> for UpdateOutcome {
    fn from(o: core::UpdateOutcome) -> Self {
        match o {
            core::UpdateOutcome::UpToDate { city } => UpdateOutcome::UpToDate { city: city.into() },
            core::UpdateOutcome::Installed { city, downloaded_bytes } => {
                UpdateOutcome::Installed { city: city.into(), downloaded_bytes }
            }
            core::UpdateOutcome::Updated { city, from_version, method, downloaded_bytes } => UpdateOutcome::Updated {
                city: city.into(),
                from_version,
                method: match method {
                    core::UpdateMethod::Delta => UpdateMethod::Delta,
                    core::UpdateMethod::FullPack => UpdateMethod::FullPack,
                    core::UpdateMethod::FullPackAfterDeltaFailed => UpdateMethod::FullPackAfterDeltaFailed,
                },
                downloaded_bytes,
            },
        }
    }
}

/// A consent the user can give or withdraw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConsentScope {
    /// Download catalogs, packs and deltas from the publisher.
    Updates,
    /// Send feedback reports and consultation ballots to the city.
    Feedback,
    /// Attach the user's position to a report the user chose to locate.
    Location,
}

impl From<ConsentScope> for cityguide_core::citizen::ConsentScope {
    fn from(s: ConsentScope) -> Self {
        match s {
            ConsentScope::Updates => Self::Updates,
            ConsentScope::Feedback => Self::Feedback,
            ConsentScope::Location => Self::Location,
        }
    }
}

impl From<cityguide_core::citizen::ConsentScope> for ConsentScope {
    fn from(s: cityguide_core::citizen::ConsentScope) -> Self {
        use cityguide_core::citizen::ConsentScope as C;
        match s {
            C::Updates => ConsentScope::Updates,
            C::Feedback => ConsentScope::Feedback,
            C::Location => ConsentScope::Location,
        }
    }
}

/// What the user has allowed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ConsentSettings {
    /// Downloading updates is allowed.
    pub updates: bool,
    /// Sending reports and ballots is allowed.
    pub feedback: bool,
    /// Attaching a position to a located report is allowed.
    pub location: bool,
}

impl From<cityguide_core::citizen::Consent> for ConsentSettings {
    fn from(c: cityguide_core::citizen::Consent) -> Self {
        ConsentSettings { updates: c.updates, feedback: c.feedback, location: c.location }
    }
}

/// Thresholds of a proximity tracker. The defaults suit a walking tourist.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct ProximityConfig {
    /// Radius within which a place is entered, metres.
    #[uniffi(default = 40.0)]
    pub enter_radius_m: f64,
    /// Radius beyond which an entered place is left, metres (larger than the enter radius: hysteresis).
    #[uniffi(default = 70.0)]
    pub exit_radius_m: f64,
    /// How long the walker must stay inside before the place counts as entered, milliseconds.
    #[uniffi(default = 5000)]
    pub min_dwell_ms: i64,
    /// No second enter event for the same place within this time, milliseconds.
    #[uniffi(default = 1800000)]
    pub cooldown_ms: i64,
    /// Fixes less accurate than this are ignored, metres.
    #[uniffi(default = 100.0)]
    pub max_accuracy_m: f64,
}

impl Default for ProximityConfig {
    fn default() -> Self {
        let d = core::ProximityConfig::default();
        ProximityConfig {
            enter_radius_m: d.enter_radius_m,
            exit_radius_m: d.exit_radius_m,
            min_dwell_ms: d.min_dwell_ms,
            cooldown_ms: d.cooldown_ms,
            max_accuracy_m: d.max_accuracy_m,
        }
    }
}

impl From<ProximityConfig> for core::ProximityConfig {
    fn from(c: ProximityConfig) -> Self {
        core::ProximityConfig {
            enter_radius_m: c.enter_radius_m,
            exit_radius_m: c.exit_radius_m,
            min_dwell_ms: c.min_dwell_ms,
            cooldown_ms: c.cooldown_ms,
            max_accuracy_m: c.max_accuracy_m,
            ..core::ProximityConfig::default()
        }
    }
}

/// One position fix from the phone's location service.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// Where.
    pub position: Position,
    /// Horizontal accuracy, metres (the platform's 68 % radius).
    pub accuracy_m: f64,
    /// When, milliseconds since the Unix epoch.
    pub time_ms: i64,
}

impl TryFrom<LocationFix> for core::LocationFix {
    type Error = GuideError;
    fn try_from(f: LocationFix) -> Result<Self, GuideError> {
        Ok(core::LocationFix { position: f.position.try_into()?, accuracy_m: f.accuracy_m, time_ms: f.time_ms })
    }
}

/// Something that happened near a place.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
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

impl From<core::ProximityEvent> for ProximityEvent {
    fn from(e: core::ProximityEvent) -> Self {
        match e {
            core::ProximityEvent::Enter { place, distance_m, time_ms } => {
                ProximityEvent::Enter { place: place.into(), distance_m, time_ms }
            }
            core::ProximityEvent::Exit { place, time_ms } => ProximityEvent::Exit { place: place.into(), time_ms },
        }
    }
}

/// One circular region to register with the OS.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Geofence {
    /// The place it watches; `null` for the refresh region.
    pub place_id: Option<String>,
    /// Centre.
    pub center: Position,
    /// Radius, metres.
    pub radius_m: f64,
}

impl From<core::Geofence> for Geofence {
    fn from(g: core::Geofence) -> Self {
        Geofence { place_id: g.place_id, center: g.center.into(), radius_m: g.radius_m }
    }
}

/// The regions the OS should watch now.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GeofencePlan {
    /// Place regions, nearest first.
    pub regions: Vec<Geofence>,
    /// Centred on the user, reaching the farthest chosen place: leaving it means plan again.
    pub refresh: Geofence,
}

impl From<core::GeofencePlan> for GeofencePlan {
    fn from(p: core::GeofencePlan) -> Self {
        GeofencePlan { regions: p.regions.into_iter().map(Into::into).collect(), refresh: p.refresh.into() }
    }
}

/// What a content pack holds, for a pack list or an install prompt.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PackSummary {
    /// Stable city id.
    pub city_id: String,
    /// Content version.
    pub version: u64,
    /// Default language.
    pub default_language: String,
    /// All languages, default first.
    pub languages: Vec<String>,
    /// Number of places.
    pub places: u32,
    /// Number of tours.
    pub tours: u32,
    /// Size in bytes.
    pub size_bytes: u64,
}

impl From<core::pack::PackInfo> for PackSummary {
    fn from(i: core::pack::PackInfo) -> Self {
        PackSummary {
            city_id: i.city_id,
            version: i.version,
            default_language: i.default_language,
            languages: i.languages,
            places: i.places,
            tours: i.tours,
            size_bytes: i.size_bytes,
        }
    }
}

/// Why a language tag was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SkipReason {
    /// Empty, or only white space.
    Empty,
    /// Too long to be a language tag.
    TooLong,
    /// Not a language tag.
    Malformed,
    /// A tag that names no language (`und`, `mul`, `mis`, `zxx`).
    NoLanguage,
    /// The same language as an earlier tag of the list.
    Duplicate,
    /// Past the number of languages the guide keeps.
    TooMany,
}

/// A tag the guide did not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedTag {
    /// The tag as given (cut when very long).
    pub tag: String,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// What the guide made of the reader's languages: the canonical tags it uses, in order, and the ones it skipped.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LanguageChoice {
    /// Canonical BCP 47 tags in use, most preferred first.
    pub used: Vec<String>,
    /// Tags that were not used, in the order given.
    pub skipped: Vec<SkippedTag>,
}

impl From<core::LanguageChoice> for LanguageChoice {
    fn from(c: core::LanguageChoice) -> Self {
        LanguageChoice {
            used: c.used,
            skipped: c
                .skipped
                .into_iter()
                .map(|t| SkippedTag {
                    tag: t.tag,
                    reason: match t.reason {
                        core::SkipReason::Empty => SkipReason::Empty,
                        core::SkipReason::TooLong => SkipReason::TooLong,
                        core::SkipReason::Malformed => SkipReason::Malformed,
                        core::SkipReason::NoLanguage => SkipReason::NoLanguage,
                        core::SkipReason::Duplicate => SkipReason::Duplicate,
                        core::SkipReason::TooMany => SkipReason::TooMany,
                    },
                })
                .collect(),
        }
    }
}
