//! Deterministic serialisation of a [`Content`] into pack bytes.
//!
//! The same content always gives the same bytes: records are written in id order, texts in language order, and
//! nothing depends on time, hashing or the machine. That property is what lets a phone check a delta: the pack it
//! rebuilds must hash to the catalog's hash of the full pack.

use std::collections::HashMap;

use flatbuffers::{FlatBufferBuilder, ForwardsUOffset, Vector, WIPOffset};

use super::fb;
use super::{FORMAT_MAJOR, FORMAT_MINOR, MAX_LATIN_FORM, PackError, valid_latin_form};
use crate::pack::model::{Access, AccessibilityRec, Content, MediaKind, Texts, VotingRuleRec};

type Off<T> = WIPOffset<T>;
type TextVec<'a> = Off<Vector<'a, ForwardsUOffset<fb::LocalizedText<'a>>>>;

/// Serialises content into pack bytes.
///
/// Records must be sorted by id without duplicates and every reference (category, parent, tour stop) must resolve;
/// otherwise an error names the first offending record. The builder guarantees this for sources it accepted.
pub fn write_pack(content: &Content) -> Result<Vec<u8>, PackError> {
    check_sorted("categories", content.categories.iter().map(|c| c.id.as_str()))?;
    check_sorted("pois", content.places.iter().map(|p| p.id.as_str()))?;
    check_sorted("tours", content.tours.iter().map(|t| t.id.as_str()))?;
    let cat_index: HashMap<&str, usize> =
        content.categories.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let poi_index: HashMap<&str, usize> = content.places.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
    if content.categories.len() > usize::from(u16::MAX) {
        return Err(invalid("categories: more than 65535 categories"));
    }

    let mut b = FlatBufferBuilder::with_capacity(64 * 1024);

    let meta = {
        let m = &content.meta;
        let city_id = b.create_string(&m.city_id);
        let name = texts(&mut b, &m.name);
        let default_language = b.create_string(&m.default_language);
        let langs: Vec<_> = m.languages.iter().map(|l| b.create_string(l)).collect();
        let languages = b.create_vector(&langs);
        let licence = opt_str(&mut b, &m.licence);
        let attribution = opt_str(&mut b, &m.attribution);
        let publisher = opt_str(&mut b, &m.publisher);
        let website = opt_str(&mut b, &m.website);
        let time_zone = b.create_string(&m.time_zone);
        let country = opt_str(&mut b, &m.country);
        let time_zone_rules = m.time_zone_rules.as_ref().map(|r| b.create_vector(r));
        let bbox = fb::BoundingBox::new(m.bbox.min_lat, m.bbox.min_lon, m.bbox.max_lat, m.bbox.max_lon);
        fb::Metadata::create(
            &mut b,
            &fb::MetadataArgs {
                city_id: Some(city_id),
                name,
                bbox: Some(&bbox),
                version: m.version,
                created: m.created,
                default_language: Some(default_language),
                languages: Some(languages),
                licence,
                attribution,
                publisher,
                website,
                time_zone: Some(time_zone),
                country,
                time_zone_rules,
            },
        )
    };

    let mut cats = Vec::with_capacity(content.categories.len());
    for c in &content.categories {
        let parent = match &c.parent {
            None => -1,
            Some(p) => match cat_index.get(p.as_str()) {
                Some(i) => *i as i32,
                None => return Err(invalid(format!("category {}: parent {p} does not exist", c.id))),
            },
        };
        let id = b.create_string(&c.id);
        let icon = opt_str(&mut b, &c.icon);
        let name = texts(&mut b, &c.name);
        cats.push(fb::Category::create(&mut b, &fb::CategoryArgs { id: Some(id), parent, icon, name }));
    }
    let categories = b.create_vector(&cats);

    let mut pois = Vec::with_capacity(content.places.len());
    for p in &content.places {
        let mut idx = Vec::with_capacity(p.categories.len());
        for c in &p.categories {
            match cat_index.get(c.as_str()) {
                Some(i) => idx.push(*i as u16),
                None => return Err(invalid(format!("poi {}: category {c} does not exist", p.id))),
            }
        }
        let id = b.create_string(&p.id);
        let categories = b.create_vector(&idx);
        let name = texts(&mut b, &p.name);
        let summary = texts(&mut b, &p.summary);
        let description = texts(&mut b, &p.description);
        let easy_read = texts(&mut b, &p.easy_read);
        let address = {
            let a = &p.address;
            if a.street.is_none() && a.housenumber.is_none() && a.postcode.is_none() && a.locality.is_none() {
                None
            } else {
                let street = opt_str(&mut b, &a.street);
                let housenumber = opt_str(&mut b, &a.housenumber);
                let postcode = opt_str(&mut b, &a.postcode);
                let locality = opt_str(&mut b, &a.locality);
                Some(fb::Address::create(&mut b, &fb::AddressArgs { street, housenumber, postcode, locality }))
            }
        };
        let opening_hours = opt_str(&mut b, &p.opening_hours);
        let accessibility = accessibility(&mut b, &p.accessibility);
        let contact = {
            let c = &p.contact;
            if c.phone.is_none() && c.email.is_none() && c.website.is_none() {
                None
            } else {
                let phone = opt_str(&mut b, &c.phone);
                let email = opt_str(&mut b, &c.email);
                let website = opt_str(&mut b, &c.website);
                Some(fb::Contact::create(&mut b, &fb::ContactArgs { phone, email, website }))
            }
        };
        let wikidata = opt_str(&mut b, &p.wikidata);
        let osm_id = opt_str(&mut b, &p.osm_id);
        let media = if p.media.is_empty() {
            None
        } else {
            let mut items = Vec::with_capacity(p.media.len());
            for m in &p.media {
                let uri = b.create_string(&m.uri);
                let credit = opt_str(&mut b, &m.credit);
                let licence = opt_str(&mut b, &m.licence);
                let alt = texts(&mut b, &m.alt);
                let kind = match m.kind {
                    MediaKind::Image => fb::MediaKind::Image,
                    MediaKind::Audio => fb::MediaKind::Audio,
                    MediaKind::Video => fb::MediaKind::Video,
                };
                items.push(fb::Media::create(&mut b, &fb::MediaArgs { uri: Some(uri), kind, credit, licence, alt }));
            }
            Some(b.create_vector(&items))
        };
        pois.push(fb::Poi::create(
            &mut b,
            &fb::PoiArgs {
                id: Some(id),
                categories: Some(categories),
                importance: p.importance,
                name,
                summary,
                description,
                easy_read,
                address,
                opening_hours,
                accessibility,
                contact,
                wikidata,
                osm_id,
                media,
            },
        ));
    }
    let pois = b.create_vector(&pois);
    let coords: Vec<fb::LatLon> = content.places.iter().map(|p| fb::LatLon::new(p.lat, p.lon)).collect();
    let coords = b.create_vector(&coords);

    let mut tours = Vec::with_capacity(content.tours.len());
    for t in &content.tours {
        let mut stops = Vec::with_capacity(t.stops.len());
        for s in &t.stops {
            match poi_index.get(s.as_str()) {
                Some(i) => stops.push(*i as u32),
                None => return Err(invalid(format!("tour {}: stop {s} does not exist", t.id))),
            }
        }
        let id = b.create_string(&t.id);
        let title = texts(&mut b, &t.title);
        let summary = texts(&mut b, &t.summary);
        let description = texts(&mut b, &t.description);
        let easy_read = texts(&mut b, &t.easy_read);
        let stops = b.create_vector(&stops);
        let path: Vec<fb::LatLon> = t.path.iter().map(|(lat, lon)| fb::LatLon::new(*lat, *lon)).collect();
        let path = b.create_vector(&path);
        let accessibility = accessibility(&mut b, &t.accessibility);
        tours.push(fb::Tour::create(
            &mut b,
            &fb::TourArgs {
                id: Some(id),
                title,
                summary,
                description,
                easy_read,
                stops: Some(stops),
                path: Some(path),
                duration_min: t.duration_min,
                distance_m: t.distance_m,
                accessibility,
            },
        ));
    }
    let tours = b.create_vector(&tours);

    let mut routes = Vec::with_capacity(content.feedback_routes.len());
    for r in &content.feedback_routes {
        let kind = b.create_string(&r.kind);
        let place_category = opt_str(&mut b, &r.place_category);
        let office = b.create_string(&r.office);
        let email = opt_str(&mut b, &r.email);
        let phone = opt_str(&mut b, &r.phone);
        let url = opt_str(&mut b, &r.url);
        routes.push(fb::FeedbackRoute::create(
            &mut b,
            &fb::FeedbackRouteArgs { kind: Some(kind), place_category, office: Some(office), email, phone, url },
        ));
    }
    let feedback_routes = b.create_vector(&routes);

    check_sorted("consultations", content.consultations.iter().map(|c| c.id.as_str()))?;
    let mut consultations = Vec::with_capacity(content.consultations.len());
    for c in &content.consultations {
        let mut options = Vec::with_capacity(c.options.len());
        for o in &c.options {
            let id = b.create_string(&o.id);
            let label = texts(&mut b, &o.label);
            let description = texts(&mut b, &o.description);
            options.push(fb::ConsultationOption::create(
                &mut b,
                &fb::ConsultationOptionArgs { id: Some(id), label, description, cost: o.cost },
            ));
        }
        let options = b.create_vector(&options);
        let id = b.create_string(&c.id);
        let title = texts(&mut b, &c.title);
        let question = texts(&mut b, &c.question);
        let description = texts(&mut b, &c.description);
        let url = opt_str(&mut b, &c.url);
        let currency = opt_str(&mut b, &c.currency);
        let (rule, max_choices, budget) = match c.rule {
            VotingRuleRec::Single => (fb::VotingRule::Single, 0, 0),
            VotingRuleRec::UpTo { max } => (fb::VotingRule::UpTo, max, 0),
            VotingRuleRec::Budget { budget } => (fb::VotingRule::Budget, 0, budget),
        };
        let area = c.area.map(|a| fb::BoundingBox::new(a.min_lat, a.min_lon, a.max_lat, a.max_lon));
        consultations.push(fb::Consultation::create(
            &mut b,
            &fb::ConsultationArgs {
                id: Some(id),
                title,
                question,
                description,
                options: Some(options),
                opens: c.opens,
                closes: c.closes,
                area: area.as_ref(),
                url,
                rule,
                max_choices,
                budget,
                currency,
                proposals_opens: c.proposals_opens.unwrap_or(0),
            },
        ));
    }
    // Absent rather than empty when there are none: a pack without consultations stays as small as a 1.0 pack.
    let consultations = (!consultations.is_empty()).then(|| b.create_vector(&consultations));

    // The transliteration table, bounded like any other text: characters ascending, ASCII forms.
    if let Some((c, form)) = content.latin.iter().find(|(c, form)| c.is_ascii() || !valid_latin_form(form)) {
        return Err(PackError::Invalid(format!(
            "latin form of {c:?} must be ASCII of at most {MAX_LATIN_FORM} bytes for a non-ASCII character, not {form:?}"
        )));
    }
    let latin_chars = (!content.latin.is_empty())
        .then(|| b.create_vector(&content.latin.keys().map(|&c| u32::from(c)).collect::<Vec<u32>>()));
    let latin_forms = (!content.latin.is_empty()).then(|| {
        let forms: Vec<_> = content.latin.values().map(|f| b.create_string(f)).collect();
        b.create_vector(&forms)
    });

    let pack = fb::Pack::create(
        &mut b,
        &fb::PackArgs {
            format_major: FORMAT_MAJOR,
            format_minor: FORMAT_MINOR,
            meta: Some(meta),
            categories: Some(categories),
            pois: Some(pois),
            coords: Some(coords),
            tours: Some(tours),
            feedback_routes: Some(feedback_routes),
            consultations,
            latin_chars,
            latin_forms,
        },
    );
    fb::finish_pack_buffer(&mut b, pack);
    Ok(b.finished_data().to_vec())
}

fn invalid(msg: impl Into<String>) -> PackError {
    PackError::Invalid(msg.into())
}

fn check_sorted<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), PackError> {
    let mut prev: Option<&str> = None;
    for id in ids {
        if id.is_empty() {
            return Err(invalid(format!("{what}: empty id")));
        }
        if let Some(p) = prev
            && p >= id
        {
            return Err(invalid(format!("{what}: ids not strictly ascending at {id} (after {p})")));
        }
        prev = Some(id);
    }
    Ok(())
}

fn opt_str<'a>(b: &mut FlatBufferBuilder<'a>, s: &Option<String>) -> Option<Off<&'a str>> {
    s.as_deref().filter(|s| !s.is_empty()).map(|s| b.create_string(s))
}

fn texts<'a>(b: &mut FlatBufferBuilder<'a>, t: &Texts) -> Option<TextVec<'a>> {
    if t.is_empty() {
        return None;
    }
    let items: Vec<_> = t
        .iter()
        .map(|(lang, text)| {
            let lang = b.create_string(lang);
            let text = b.create_string(text);
            fb::LocalizedText::create(b, &fb::LocalizedTextArgs { lang: Some(lang), text: Some(text) })
        })
        .collect();
    Some(b.create_vector(&items))
}

pub(super) fn access_to_fb(a: Access) -> fb::Access {
    match a {
        Access::Unknown => fb::Access::Unknown,
        Access::No => fb::Access::No,
        Access::Limited => fb::Access::Limited,
        Access::Yes => fb::Access::Yes,
    }
}

fn accessibility<'a>(b: &mut FlatBufferBuilder<'a>, a: &AccessibilityRec) -> Option<Off<fb::Accessibility<'a>>> {
    if !a.is_known() {
        return None;
    }
    Some(fb::Accessibility::create(
        b,
        &fb::AccessibilityArgs {
            step_free: access_to_fb(a.step_free),
            wheelchair_toilet: access_to_fb(a.wheelchair_toilet),
            accessible_parking: access_to_fb(a.accessible_parking),
            audio_description: access_to_fb(a.audio_description),
            tactile_models: access_to_fb(a.tactile_models),
            seating: access_to_fb(a.seating),
            hearing_loop: access_to_fb(a.hearing_loop),
        },
    ))
}
