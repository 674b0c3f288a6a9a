//! Opening untrusted pack bytes: verification first, zero-copy access after.

use std::fs::File;
use std::path::Path;

use flatbuffers::{ForwardsUOffset, Vector, VerifierOptions};

use super::{FORMAT_MAJOR, PackError, fb};
use crate::pack::model::{
    Access, AccessibilityRec, AddressRec, BBox, CategoryRec, ConsultationOptionRec, ConsultationRec, ContactRec,
    Content, FeedbackRouteRec, MediaKind, MediaRec, Meta, PlaceRec, Texts, TourRec, VotingRuleRec,
};

/// Limits the reader enforces before it trusts a pack, sized for a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest pack accepted, bytes.
    pub max_bytes: u64,
    /// Deepest table nesting accepted (the schema needs 5).
    pub max_depth: usize,
    /// Most tables accepted.
    pub max_tables: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 256 * 1024 * 1024, max_depth: 16, max_tables: 16_000_000 }
    }
}

/// Verifies pack bytes completely: identifier, FlatBuffers structure, format major and semantic invariants.
///
/// On success the returned accessor is safe to use on these bytes; every later access is zero-copy.
pub(crate) fn verify_pack<'a>(bytes: &'a [u8], limits: &Limits) -> Result<fb::Pack<'a>, PackError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(PackError::TooLarge { size: bytes.len() as u64, max: limits.max_bytes });
    }
    if bytes.len() < 8 || !fb::pack_buffer_has_identifier(bytes) {
        return Err(PackError::WrongIdentifier);
    }
    let opts = VerifierOptions {
        max_depth: limits.max_depth,
        max_tables: limits.max_tables,
        max_apparent_size: (limits.max_bytes as usize).saturating_mul(2),
        ignore_missing_null_terminator: false,
    };
    let pack = fb::root_as_pack_with_opts(&opts, bytes).map_err(|e| PackError::Malformed(e.to_string()))?;
    if pack.format_major() != FORMAT_MAJOR {
        return Err(PackError::UnsupportedFormat { found: pack.format_major(), supported: FORMAT_MAJOR });
    }
    check_semantics(&pack)?;
    Ok(pack)
}

enum Storage {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

/// A verified pack, owning its bytes (in memory or memory-mapped), with zero-copy access.
pub struct PackFile {
    storage: Storage,
}

impl std::fmt::Debug for PackFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackFile").field("len", &self.bytes().len()).finish()
    }
}

impl PackFile {
    /// Verifies `bytes` with the default limits and keeps them.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PackFile, PackError> {
        Self::from_bytes_with(bytes, &Limits::default())
    }

    /// Verifies `bytes` with the given limits and keeps them.
    pub fn from_bytes_with(bytes: Vec<u8>, limits: &Limits) -> Result<PackFile, PackError> {
        verify_pack(&bytes, limits)?;
        Ok(PackFile { storage: Storage::Owned(bytes) })
    }

    /// Memory-maps and verifies a pack file with the default limits.
    ///
    /// The file must not be modified while it is open: the store writes packs once under a new name and only ever
    /// replaces them by renaming, so a mapped file never changes under the reader.
    pub fn open(path: &Path) -> Result<PackFile, PackError> {
        Self::open_with(path, &Limits::default())
    }

    /// Memory-maps and verifies a pack file with the given limits.
    pub fn open_with(path: &Path, limits: &Limits) -> Result<PackFile, PackError> {
        let io = |source| PackError::Io { path: path.display().to_string(), source };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > limits.max_bytes {
            return Err(PackError::TooLarge { size: len, max: limits.max_bytes });
        }
        if len == 0 {
            return Err(PackError::WrongIdentifier);
        }
        // SAFETY: the map is read-only and pack files are never modified in place (see the doc comment above).
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        verify_pack(&map, limits)?;
        Ok(PackFile { storage: Storage::Mapped(map) })
    }

    /// Memory-maps a pack file that this core verified completely when it was installed, checking only that its
    /// SHA-256 (lowercase hex) is still the one recorded then. Identical bytes need no second verification, and a
    /// hash costs a fraction of the verifier; a file that changed on disk (damage, tampering) is refused.
    pub fn open_installed(path: &Path, sha256_hex: &str, limits: &Limits) -> Result<PackFile, PackError> {
        use sha2::Digest;
        let io = |source| PackError::Io { path: path.display().to_string(), source };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > limits.max_bytes {
            return Err(PackError::TooLarge { size: len, max: limits.max_bytes });
        }
        if len < 8 {
            return Err(PackError::WrongIdentifier);
        }
        // SAFETY: read-only map of a file the store never modifies in place (see `open`).
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let digest: String = sha2::Sha256::digest(&map[..]).iter().map(|b| format!("{b:02x}")).collect();
        if digest != sha256_hex {
            return Err(PackError::Invalid(format!(
                "{} changed on disk since it was installed (SHA-256 differs); install the city again",
                path.display()
            )));
        }
        Ok(PackFile { storage: Storage::Mapped(map) })
    }

    /// The raw pack bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Owned(v) => v,
            Storage::Mapped(m) => m,
        }
    }

    /// What the pack holds, in brief: for a pack list, an install prompt or a log line.
    pub fn info(&self) -> PackInfo {
        let p = self.pack();
        let m = p.meta();
        PackInfo {
            city_id: m.city_id().to_owned(),
            version: m.version(),
            format_minor: p.format_minor(),
            default_language: m.default_language().to_owned(),
            languages: m.languages().map(|l| l.iter().map(str::to_owned).collect()).unwrap_or_default(),
            places: p.pois().map_or(0, |v| v.len() as u32),
            tours: p.tours().map_or(0, |v| v.len() as u32),
            size_bytes: self.bytes().len() as u64,
        }
    }

    /// Zero-copy access to the verified pack.
    pub(crate) fn pack(&self) -> fb::Pack<'_> {
        // SAFETY: the bytes were fully verified by `verify_pack` when this value was created and are immutable since.
        #[allow(unsafe_code)]
        unsafe {
            fb::root_as_pack_unchecked(self.bytes())
        }
    }

    /// The pack's metadata.
    pub(crate) fn meta(&self) -> fb::Metadata<'_> {
        self.pack().meta()
    }

    /// Decodes the whole pack into the logical model (copies everything; for tools, deltas and tests).
    pub fn to_content(&self) -> Content {
        to_content(&self.pack())
    }
}

fn invalid(msg: String) -> PackError {
    PackError::Invalid(msg)
}

fn coord_ok(lat: f64, lon: f64) -> bool {
    lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

fn check_texts(what: &str, texts: Option<Vector<'_, ForwardsUOffset<fb::LocalizedText<'_>>>>) -> Result<(), PackError> {
    let Some(texts) = texts else { return Ok(()) };
    let mut prev: Option<&str> = None;
    for t in texts.iter() {
        let lang = t.lang();
        if lang.is_empty() {
            return Err(invalid(format!("{what}: text with an empty language tag")));
        }
        if let Some(p) = prev
            && p >= lang
        {
            return Err(invalid(format!("{what}: languages not strictly ascending at {lang}")));
        }
        prev = Some(lang);
    }
    Ok(())
}

fn has_lang(texts: Option<Vector<'_, ForwardsUOffset<fb::LocalizedText<'_>>>>, lang: &str) -> bool {
    texts.is_some_and(|v| v.iter().any(|t| t.lang() == lang && !t.text().is_empty()))
}

fn check_sorted_ids<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), PackError> {
    let mut prev: Option<&str> = None;
    for (i, id) in ids.enumerate() {
        if id.is_empty() {
            return Err(invalid(format!("{what}[{i}]: empty id")));
        }
        if let Some(p) = prev
            && p >= id
        {
            return Err(invalid(format!("{what}[{i}]: id {id:?} is not after {p:?} (ids must be unique and sorted)")));
        }
        prev = Some(id);
    }
    Ok(())
}

fn check_semantics(pack: &fb::Pack<'_>) -> Result<(), PackError> {
    let meta = pack.meta();
    let city = meta.city_id();
    if city.is_empty() || !city.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(invalid(format!("meta.city_id {city:?} must be lowercase ASCII letters, digits, - or _")));
    }
    let default_lang = meta.default_language();
    if default_lang.is_empty() {
        return Err(invalid("meta.default_language is empty".into()));
    }
    if !meta.languages().is_some_and(|l| l.iter().any(|x| x == default_lang)) {
        return Err(invalid(format!("meta.languages does not list the default language {default_lang}")));
    }
    check_texts("meta.name", meta.name())?;
    // The core has no time-zone database (the pack carries its zone's rules): it checks the name's shape and that
    // the rules, when present, are valid TZif; whether the zone exists is the publisher's check.
    if !crate::query::hours::is_iana_name(meta.time_zone()) {
        return Err(invalid(format!("meta.time_zone {:?} is not an IANA time zone name", meta.time_zone())));
    }
    if let Some(rules) = meta.time_zone_rules() {
        crate::query::hours::CityTimeZone::from_tzif(meta.time_zone(), rules.bytes())
            .map_err(|e| invalid(format!("meta.time_zone_rules: {e}")))?;
    }
    let bbox = meta.bbox().ok_or_else(|| invalid("meta.bbox is missing".into()))?;
    if !coord_ok(bbox.min_lat(), bbox.min_lon())
        || !coord_ok(bbox.max_lat(), bbox.max_lon())
        || bbox.min_lat() > bbox.max_lat()
        || bbox.min_lon() > bbox.max_lon()
    {
        return Err(invalid("meta.bbox is not a valid box".into()));
    }

    let categories = pack.categories().unwrap_or_default();
    let ncat = categories.len();
    check_sorted_ids("categories", categories.iter().map(|c| c.id()))?;
    for (i, c) in categories.iter().enumerate() {
        check_texts(&format!("categories[{i}].name"), c.name())?;
        let parent = c.parent();
        if parent != -1 && (parent < 0 || parent as usize >= ncat || parent as usize == i) {
            return Err(invalid(format!("categories[{i}].parent {parent} is out of range")));
        }
        // Walk up the tree; more steps than categories means a cycle.
        let mut p = parent;
        let mut steps = 0;
        while p >= 0 {
            steps += 1;
            if steps > ncat {
                return Err(invalid(format!("categories[{i}]: parent chain has a cycle")));
            }
            p = categories.get(p as usize).parent();
            if p != -1 && (p < 0 || p as usize >= ncat) {
                return Err(invalid(format!("categories[{i}]: parent chain leaves the table")));
            }
        }
    }

    let pois = pack.pois().unwrap_or_default();
    let coords = pack.coords().unwrap_or_default();
    if pois.len() != coords.len() {
        return Err(invalid(format!("{} pois but {} coordinates", pois.len(), coords.len())));
    }
    check_sorted_ids("pois", pois.iter().map(|p| p.id()))?;
    for (i, (poi, c)) in pois.iter().zip(coords.iter()).enumerate() {
        let (lat, lon) = (c.lat(), c.lon());
        if !coord_ok(lat, lon) {
            return Err(invalid(format!("coords[{i}] is not a valid position")));
        }
        if lat < bbox.min_lat() || lat > bbox.max_lat() || lon < bbox.min_lon() || lon > bbox.max_lon() {
            return Err(invalid(format!("pois[{i}] ({}) lies outside the bounding box", poi.id())));
        }
        let cats = poi.categories().unwrap_or_default();
        if cats.is_empty() {
            return Err(invalid(format!("pois[{i}] ({}) has no category", poi.id())));
        }
        if let Some(bad) = cats.iter().find(|&c| usize::from(c) >= ncat) {
            return Err(invalid(format!("pois[{i}].categories refers to category {bad} of {ncat}")));
        }
        if poi.importance() > 100 {
            return Err(invalid(format!("pois[{i}].importance {} is above 100", poi.importance())));
        }
        for (field, texts) in [
            ("name", poi.name()),
            ("summary", poi.summary()),
            ("description", poi.description()),
            ("easy_read", poi.easy_read()),
        ] {
            check_texts(&format!("pois[{i}].{field}"), texts)?;
        }
        if !has_lang(poi.name(), default_lang) {
            return Err(invalid(format!(
                "pois[{i}] ({}) has no name in the default language {default_lang}",
                poi.id()
            )));
        }
        for (j, m) in poi.media().unwrap_or_default().iter().enumerate() {
            check_texts(&format!("pois[{i}].media[{j}].alt"), m.alt())?;
        }
    }

    let tours = pack.tours().unwrap_or_default();
    check_sorted_ids("tours", tours.iter().map(|t| t.id()))?;
    for (i, t) in tours.iter().enumerate() {
        for (field, texts) in [
            ("title", t.title()),
            ("summary", t.summary()),
            ("description", t.description()),
            ("easy_read", t.easy_read()),
        ] {
            check_texts(&format!("tours[{i}].{field}"), texts)?;
        }
        if let Some(bad) = t.stops().unwrap_or_default().iter().find(|&s| s as usize >= pois.len()) {
            return Err(invalid(format!("tours[{i}].stops refers to poi {bad} of {}", pois.len())));
        }
        let path = t.path().unwrap_or_default();
        if path.len() < 2 {
            return Err(invalid(format!("tours[{i}].path has fewer than 2 points")));
        }
        if path.iter().any(|p| !coord_ok(p.lat(), p.lon())) {
            return Err(invalid(format!("tours[{i}].path has an invalid position")));
        }
    }
    for (i, r) in pack.feedback_routes().unwrap_or_default().iter().enumerate() {
        if r.kind().is_empty() || r.office().is_empty() {
            return Err(invalid(format!("feedback_routes[{i}] has an empty kind or office")));
        }
    }
    let consultations = pack.consultations().unwrap_or_default();
    check_sorted_ids("consultations", consultations.iter().map(|c| c.id()))?;
    for (i, c) in consultations.iter().enumerate() {
        for (field, texts) in [("title", c.title()), ("question", c.question()), ("description", c.description())] {
            check_texts(&format!("consultations[{i}].{field}"), texts)?;
        }
        if !has_lang(c.title(), default_lang) || !has_lang(c.question(), default_lang) {
            return Err(invalid(format!(
                "consultations[{i}] has no title or question in the default language {default_lang}"
            )));
        }
        if c.closes() <= c.opens() {
            return Err(invalid(format!("consultations[{i}] closes before it opens")));
        }
        let options = c.options().unwrap_or_default();
        if options.len() < 2 {
            return Err(invalid(format!("consultations[{i}] has fewer than 2 options")));
        }
        let mut seen = std::collections::HashSet::new();
        for (j, o) in options.iter().enumerate() {
            if o.id().is_empty() || !seen.insert(o.id()) {
                return Err(invalid(format!("consultations[{i}].options[{j}] has an empty or repeated id")));
            }
            check_texts(&format!("consultations[{i}].options[{j}].label"), o.label())?;
            check_texts(&format!("consultations[{i}].options[{j}].description"), o.description())?;
            if !has_lang(o.label(), default_lang) {
                return Err(invalid(format!(
                    "consultations[{i}].options[{j}] has no label in the default language {default_lang}"
                )));
            }
        }
        match c.rule() {
            fb::VotingRule::Single => {}
            fb::VotingRule::UpTo if c.max_choices() >= 1 && usize::from(c.max_choices()) <= options.len() => {}
            fb::VotingRule::UpTo => {
                return Err(invalid(format!("consultations[{i}].max_choices must be 1 to the number of options")));
            }
            fb::VotingRule::Budget if c.budget() > 0 && options.iter().all(|o| o.cost() > 0) => {}
            fb::VotingRule::Budget => {
                return Err(invalid(format!(
                    "consultations[{i}] is a budget vote without a positive budget and costs"
                )));
            }
            _ => return Err(invalid(format!("consultations[{i}].rule is unknown to this reader"))),
        }
        if c.proposals_opens() < 0 || c.proposals_opens() > c.opens() {
            return Err(invalid(format!("consultations[{i}].proposals_opens is after voting opens")));
        }
        if let Some(a) = c.area()
            && !(coord_ok(a.min_lat(), a.min_lon())
                && coord_ok(a.max_lat(), a.max_lon())
                && a.min_lat() <= a.max_lat()
                && a.min_lon() <= a.max_lon())
        {
            return Err(invalid(format!("consultations[{i}].area is not a valid box")));
        }
    }
    check_latin(pack)
}

/// The transliteration table: as many forms as characters, characters strictly ascending and not ASCII, forms
/// ASCII and short.
fn check_latin(pack: &fb::Pack<'_>) -> Result<(), PackError> {
    let chars = pack.latin_chars().unwrap_or_default();
    let forms = pack.latin_forms().unwrap_or_default();
    if chars.len() != forms.len() {
        return Err(invalid(format!("latin_chars has {} entries but latin_forms has {}", chars.len(), forms.len())));
    }
    let mut last = None;
    for (i, (c, form)) in chars.iter().zip(forms.iter()).enumerate() {
        let ok = char::from_u32(c).is_some_and(|ch| !ch.is_ascii()) && last.is_none_or(|l| l < c);
        if !ok {
            return Err(invalid(format!("latin_chars[{i}] is not a non-ASCII character above the one before it")));
        }
        if !super::valid_latin_form(form) {
            return Err(invalid(format!("latin_forms[{i}] is not ASCII of at most {} bytes", super::MAX_LATIN_FORM)));
        }
        last = Some(c);
    }
    Ok(())
}

/// The pack's own transliteration table, read in place (a binary search over `latin_chars`).
impl crate::text::translit::CharLatin for PackFile {
    fn latin(&self, c: char) -> Option<&str> {
        let p = self.pack();
        let chars = p.latin_chars()?;
        let (mut lo, mut hi) = (0, chars.len());
        let key = u32::from(c);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match chars.get(mid).cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return p.latin_forms().map(|f| f.get(mid)),
            }
        }
        None
    }
}

fn texts(v: Option<Vector<'_, ForwardsUOffset<fb::LocalizedText<'_>>>>) -> Texts {
    v.map(|v| v.iter().map(|t| (t.lang().to_owned(), t.text().to_owned())).collect()).unwrap_or_default()
}

fn s(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

pub(crate) fn access_from_fb(a: fb::Access) -> Access {
    match a {
        fb::Access::No => Access::No,
        fb::Access::Limited => Access::Limited,
        fb::Access::Yes => Access::Yes,
        _ => Access::Unknown,
    }
}

/// The accessibility attributes of a place or tour table (all unknown when absent).
pub fn accessibility_of(a: Option<fb::Accessibility<'_>>) -> AccessibilityRec {
    let Some(a) = a else { return AccessibilityRec::default() };
    AccessibilityRec {
        step_free: access_from_fb(a.step_free()),
        wheelchair_toilet: access_from_fb(a.wheelchair_toilet()),
        accessible_parking: access_from_fb(a.accessible_parking()),
        audio_description: access_from_fb(a.audio_description()),
        tactile_models: access_from_fb(a.tactile_models()),
        seating: access_from_fb(a.seating()),
        hearing_loop: access_from_fb(a.hearing_loop()),
    }
}

/// Decodes a verified pack into the logical model.
pub(crate) fn to_content(pack: &fb::Pack<'_>) -> Content {
    let m = pack.meta();
    let bbox = m.bbox().copied().unwrap_or_else(|| fb::BoundingBox::new(0.0, 0.0, 0.0, 0.0));
    let meta = Meta {
        city_id: m.city_id().to_owned(),
        name: texts(m.name()),
        bbox: BBox {
            min_lat: bbox.min_lat(),
            min_lon: bbox.min_lon(),
            max_lat: bbox.max_lat(),
            max_lon: bbox.max_lon(),
        },
        version: m.version(),
        created: m.created(),
        default_language: m.default_language().to_owned(),
        languages: m.languages().map(|l| l.iter().map(str::to_owned).collect()).unwrap_or_default(),
        licence: s(m.licence()),
        attribution: s(m.attribution()),
        publisher: s(m.publisher()),
        website: s(m.website()),
        time_zone: m.time_zone().to_owned(),
        country: s(m.country()),
        time_zone_rules: m.time_zone_rules().map(|r| r.bytes().to_vec()),
    };
    let cats = pack.categories().unwrap_or_default();
    let cat_id = |i: usize| cats.get(i).id().to_owned();
    let categories = cats
        .iter()
        .map(|c| CategoryRec {
            id: c.id().to_owned(),
            parent: (c.parent() >= 0).then(|| cat_id(c.parent() as usize)),
            icon: s(c.icon()),
            name: texts(c.name()),
        })
        .collect();
    let pois = pack.pois().unwrap_or_default();
    let coords = pack.coords().unwrap_or_default();
    let places = pois
        .iter()
        .zip(coords.iter())
        .map(|(p, c)| {
            let addr = p.address();
            let contact = p.contact();
            PlaceRec {
                id: p.id().to_owned(),
                lat: c.lat(),
                lon: c.lon(),
                categories: p.categories().unwrap_or_default().iter().map(|i| cat_id(usize::from(i))).collect(),
                importance: p.importance(),
                name: texts(p.name()),
                summary: texts(p.summary()),
                description: texts(p.description()),
                easy_read: texts(p.easy_read()),
                address: AddressRec {
                    street: addr.and_then(|a| s(a.street())),
                    housenumber: addr.and_then(|a| s(a.housenumber())),
                    postcode: addr.and_then(|a| s(a.postcode())),
                    locality: addr.and_then(|a| s(a.locality())),
                },
                opening_hours: s(p.opening_hours()),
                accessibility: accessibility_of(p.accessibility()),
                contact: ContactRec {
                    phone: contact.and_then(|c| s(c.phone())),
                    email: contact.and_then(|c| s(c.email())),
                    website: contact.and_then(|c| s(c.website())),
                },
                wikidata: s(p.wikidata()),
                osm_id: s(p.osm_id()),
                media: p
                    .media()
                    .unwrap_or_default()
                    .iter()
                    .map(|m| MediaRec {
                        uri: m.uri().to_owned(),
                        kind: match m.kind() {
                            fb::MediaKind::Audio => MediaKind::Audio,
                            fb::MediaKind::Video => MediaKind::Video,
                            _ => MediaKind::Image,
                        },
                        credit: s(m.credit()),
                        licence: s(m.licence()),
                        alt: texts(m.alt()),
                    })
                    .collect(),
            }
        })
        .collect();
    let tours = pack
        .tours()
        .unwrap_or_default()
        .iter()
        .map(|t| TourRec {
            id: t.id().to_owned(),
            title: texts(t.title()),
            summary: texts(t.summary()),
            description: texts(t.description()),
            easy_read: texts(t.easy_read()),
            stops: t.stops().unwrap_or_default().iter().map(|i| pois.get(i as usize).id().to_owned()).collect(),
            path: t.path().unwrap_or_default().iter().map(|p| (p.lat(), p.lon())).collect(),
            duration_min: t.duration_min(),
            distance_m: t.distance_m(),
            accessibility: accessibility_of(t.accessibility()),
        })
        .collect();
    let feedback_routes = pack
        .feedback_routes()
        .unwrap_or_default()
        .iter()
        .map(|r| FeedbackRouteRec {
            kind: r.kind().to_owned(),
            place_category: s(r.place_category()),
            office: r.office().to_owned(),
            email: s(r.email()),
            phone: s(r.phone()),
            url: s(r.url()),
        })
        .collect();
    let consultations = pack
        .consultations()
        .unwrap_or_default()
        .iter()
        .map(|c| ConsultationRec {
            id: c.id().to_owned(),
            title: texts(c.title()),
            question: texts(c.question()),
            description: texts(c.description()),
            options: c
                .options()
                .unwrap_or_default()
                .iter()
                .map(|o| ConsultationOptionRec {
                    id: o.id().to_owned(),
                    label: texts(o.label()),
                    description: texts(o.description()),
                    cost: o.cost(),
                })
                .collect(),
            opens: c.opens(),
            closes: c.closes(),
            area: c.area().map(|a| BBox {
                min_lat: a.min_lat(),
                min_lon: a.min_lon(),
                max_lat: a.max_lat(),
                max_lon: a.max_lon(),
            }),
            url: s(c.url()),
            rule: match c.rule() {
                fb::VotingRule::UpTo => VotingRuleRec::UpTo { max: c.max_choices() },
                fb::VotingRule::Budget => VotingRuleRec::Budget { budget: c.budget() },
                _ => VotingRuleRec::Single,
            },
            currency: s(c.currency()),
            proposals_opens: Some(c.proposals_opens()).filter(|t| *t != 0),
        })
        .collect();
    let latin = pack
        .latin_chars()
        .unwrap_or_default()
        .iter()
        .zip(pack.latin_forms().unwrap_or_default().iter())
        .filter_map(|(c, f)| char::from_u32(c).map(|c| (c, f.to_owned())))
        .collect();
    Content { meta, categories, places, tours, feedback_routes, consultations, latin }
}

/// A pack in brief.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackInfo {
    /// Stable city id.
    pub city_id: String,
    /// Content version.
    pub version: u64,
    /// Format minor the pack was written with (the major is [`super::FORMAT_MAJOR`]).
    pub format_minor: u16,
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
