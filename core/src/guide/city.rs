//! An installed city in memory: the verified pack and what queries need beside it, immutable once loaded and
//! shared between threads behind an `Arc`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::GuideError;
use super::types::*;
use crate::geodesy::LatLon;
use crate::pack::model::{Access, AccessibilityRec};
use crate::pack::{PackError, PackFile, fb};
use crate::query::hours::{HoursContext, OpenStatus, ParsedHours};
use crate::query::spatial::SpatialIndex;
use crate::query::tour::TourGeometry;
use crate::text::lang::{LanguageList, Ranking};

/// An installed city in memory: immutable once built.
pub(crate) struct City {
    pub(crate) pack: PackFile,
    pub(crate) index: SpatialIndex,
    hours: HoursContext,
    parsed_hours: Vec<Option<ParsedHours>>,
    /// Per place: its categories and all their ancestors (category indices).
    expanded_categories: Vec<Vec<u16>>,
    pub(crate) poi_by_id: HashMap<String, u32>,
    accessibility: Vec<AccessibilityRec>,
    pub(crate) tours: HashMap<String, (u32, Arc<TourGeometry>)>,
    /// The pack's languages (its default among them) with their fallback chains, worked out once at load.
    offered: LanguageList,
}

impl City {
    pub(crate) fn load(pack: PackFile) -> Result<City, GuideError> {
        let p = pack.pack();
        let coords: Vec<(f64, f64)> = p.coords().unwrap_or_default().iter().map(|c| (c.lat(), c.lon())).collect();
        // The index is the longest step of a start: build it on another core while the tables are read.
        let parts = std::thread::scope(|scope| {
            let index_job = scope.spawn(|| SpatialIndex::build(&coords));
            let meta = p.meta();
            let rules = meta.time_zone_rules().map(|r| r.bytes());
            let hours = HoursContext::for_pack(meta.time_zone(), rules, meta.country())
                .map_err(|e| GuideError::InvalidPack(PackError::Invalid(format!("time zone: {e}"))))?;
            let cats = p.categories().unwrap_or_default();
            let pois = p.pois().unwrap_or_default();
            let mut parsed_hours = Vec::with_capacity(pois.len());
            let mut expanded_categories = Vec::with_capacity(pois.len());
            let mut accessibility = Vec::with_capacity(pois.len());
            let mut poi_by_id = HashMap::with_capacity(pois.len());
            // Packs repeat a few expressions across many places: parse each distinct one once.
            let mut parsed_by_expr: HashMap<&str, Option<ParsedHours>> = HashMap::new();
            for (i, poi) in pois.iter().enumerate() {
                parsed_hours
                    .push(poi.opening_hours().and_then(|e| {
                        parsed_by_expr.entry(e).or_insert_with(|| crate::query::hours::parse(e)).clone()
                    }));
                let mut expanded: Vec<u16> = Vec::new();
                for c in poi.categories().unwrap_or_default() {
                    let mut cur = i32::from(c);
                    // The reader guarantees parents are in range and acyclic.
                    while cur >= 0 && !expanded.contains(&(cur as u16)) {
                        expanded.push(cur as u16);
                        cur = cats.get(cur as usize).parent();
                    }
                }
                expanded_categories.push(expanded);
                accessibility.push(crate::pack::accessibility_of(poi.accessibility()));
                poi_by_id.insert(poi.id().to_owned(), i as u32);
            }
            let mut tours = HashMap::new();
            for (i, t) in p.tours().unwrap_or_default().iter().enumerate() {
                let path: Vec<(f64, f64)> = t.path().unwrap_or_default().iter().map(|c| (c.lat(), c.lon())).collect();
                let stops: Vec<(f64, f64)> = t.stops().unwrap_or_default().iter().map(|s| coords[s as usize]).collect();
                tours.insert(t.id().to_owned(), (i as u32, Arc::new(TourGeometry::new(&path, &stops))));
            }
            let index = index_job.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok::<_, GuideError>((index, hours, parsed_hours, expanded_categories, poi_by_id, accessibility, tours))
        })?;
        let (index, hours, parsed_hours, expanded_categories, poi_by_id, accessibility, tours) = parts;
        let offered = {
            let meta = pack.pack().meta();
            let mut langs: Vec<&str> = meta.languages().map(|l| l.iter().collect()).unwrap_or_default();
            if !langs.contains(&meta.default_language()) {
                langs.push(meta.default_language());
            }
            LanguageList::offered(langs)
        };
        Ok(City { pack, index, hours, parsed_hours, expanded_categories, poi_by_id, accessibility, tours, offered })
    }

    pub(crate) fn p(&self) -> fb::Pack<'_> {
        self.pack.pack()
    }

    pub(crate) fn city_id(&self) -> &str {
        self.p().meta().city_id()
    }

    pub(crate) fn default_lang(&self) -> &str {
        self.p().meta().default_language()
    }

    pub(crate) fn coord(&self, i: u32) -> LatLon {
        let c = self.p().coords().unwrap_or_default().get(i as usize);
        LatLon::from_verified(c.lat(), c.lon())
    }

    pub(crate) fn status(&self, i: u32, now: DateTime<Utc>) -> OpenStatus {
        match &self.parsed_hours[i as usize] {
            Some(parsed) => self.hours.status_parsed(parsed, now),
            None => self.hours.status(self.p().pois().unwrap_or_default().get(i as usize).opening_hours(), now),
        }
    }

    /// Compiles a filter into a predicate over place indices.
    pub(crate) fn predicate(&self, f: &PlaceFilter) -> Result<impl Fn(u32) -> bool + '_, GuideError> {
        let cats = self.p().categories().unwrap_or_default();
        let mut wanted: HashSet<u16> = HashSet::new();
        for id in &f.categories {
            match cats.iter().position(|c| c.id() == id) {
                Some(pos) => {
                    wanted.insert(pos as u16);
                }
                None => {
                    return Err(GuideError::UnknownCategory {
                        city_id: self.city_id().to_owned(),
                        category_id: id.clone(),
                    });
                }
            }
        }
        let access = f.accessibility.clone();
        let open_at = f.open_at;
        Ok(move |i: u32| {
            (wanted.is_empty() || self.expanded_categories[i as usize].iter().any(|c| wanted.contains(c)))
                && access.iter().all(|a| a.of(&self.accessibility[i as usize]) == Access::Yes)
                && open_at.is_none_or(|now| self.status(i, now).is_open() == Some(true))
        })
    }

    /// The pack's languages in the order `reader` should get them: once per query, then [`City::resolve`] per field.
    pub(crate) fn ranking(&self, reader: &LanguageList) -> Ranking {
        self.offered.ranking(reader)
    }

    /// The text of a field for the reader whose ranking this is (the pack's texts are keyed by its languages, which
    /// the publisher checks), read in place: only the chosen text is copied.
    pub(crate) fn resolve(
        &self,
        v: Option<flatbuffers::Vector<'_, flatbuffers::ForwardsUOffset<fb::LocalizedText<'_>>>>,
        langs: &Ranking,
    ) -> Option<Localized> {
        langs
            .pick(v.unwrap_or_default().iter().map(|t| (t.lang(), t.text())), self.default_lang())
            .map(|(l, t)| Localized { text: t.to_owned(), lang: l.to_owned() })
    }

    pub(crate) fn category_info(&self, c: u16, langs: &Ranking) -> CategoryInfo {
        let cats = self.p().categories().unwrap_or_default();
        let cat = cats.get(usize::from(c));
        let parent = (cat.parent() >= 0).then(|| cats.get(cat.parent() as usize).id().to_owned());
        CategoryInfo { id: cat.id().to_owned(), parent, name: self.category_name(c, langs) }
    }

    pub(crate) fn category_name(&self, c: u16, langs: &Ranking) -> Option<Localized> {
        self.resolve(self.p().categories().unwrap_or_default().get(usize::from(c)).name(), langs)
    }

    pub(crate) fn summary(&self, i: u32, langs: &Ranking, from: Option<LatLon>) -> PlaceSummary {
        let poi = self.p().pois().unwrap_or_default().get(i as usize);
        let position = self.coord(i);
        let main = poi.categories().and_then(|c| c.iter().next()).unwrap_or(0);
        let cat = self.p().categories().unwrap_or_default().get(usize::from(main));
        let name = self
            .resolve(poi.name(), langs)
            .unwrap_or_else(|| Localized { text: poi.id().to_owned(), lang: String::new() });
        PlaceSummary {
            city_id: self.city_id().to_owned(),
            id: poi.id().to_owned(),
            name: name.text,
            lang: name.lang,
            summary: self.resolve(poi.summary(), langs),
            category: cat.id().to_owned(),
            category_name: self.category_name(main, langs),
            position,
            importance: poi.importance(),
            distance_m: from.map(|at| at.distance_m(position)),
            bearing_deg: from.map(|at| at.bearing_deg(position)),
            accessibility: self.accessibility[i as usize],
        }
    }

    pub(crate) fn index_of(&self, place_id: &str) -> Result<u32, GuideError> {
        self.poi_by_id.get(place_id).copied().ok_or_else(|| GuideError::UnknownPlace {
            city_id: self.city_id().to_owned(),
            place_id: place_id.to_owned(),
        })
    }
}

pub(crate) fn hours_info(expr: Option<&str>, status: &OpenStatus, now: DateTime<Utc>) -> HoursInfo {
    let (state, closes_at, opens_at, unknown_reason) = match *status {
        OpenStatus::Open { closes_at } => (OpenState::Open, closes_at, None, None),
        OpenStatus::Closed { opens_at } => (OpenState::Closed, None, opens_at, None),
        OpenStatus::Unknown { reason } => (OpenState::Unknown, None, None, Some(reason)),
    };
    HoursInfo {
        expression: expr.map(str::to_owned),
        state,
        closes_at,
        opens_at,
        unknown_reason,
        label: status.label(now),
    }
}
