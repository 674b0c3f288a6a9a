//! Open data back out: a pack's places as GeoJSON.
//!
//! Cities publish their content as open data; the export uses the same property names as `places.geojson`
//! sources (plus `name:<lang>` for every language), so what goes out can be read by any GIS tool and come back in.

use geojson::{Feature, FeatureCollection, Geometry, GeometryValue, JsonObject, JsonValue};

use cityguide_core::pack::model::{AccessibilityRec, Content};

/// The places of `content` as a GeoJSON FeatureCollection, in id order.
pub fn places_geojson(content: &Content) -> FeatureCollection {
    let features = content
        .places
        .iter()
        .map(|p| {
            let mut props = JsonObject::new();
            let mut put = |k: &str, v: Option<&str>| {
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    props.insert(k.to_owned(), JsonValue::from(v));
                }
            };
            put("id", Some(&p.id));
            put("categories", Some(&p.categories.join(";")));
            put("wikidata", p.wikidata.as_deref());
            put("osm_id", p.osm_id.as_deref());
            put("opening_hours", p.opening_hours.as_deref());
            put("street", p.address.street.as_deref());
            put("housenumber", p.address.housenumber.as_deref());
            put("postcode", p.address.postcode.as_deref());
            put("locality", p.address.locality.as_deref());
            put("phone", p.contact.phone.as_deref());
            put("email", p.contact.email.as_deref());
            put("website", p.contact.website.as_deref());
            for (field, value) in AccessibilityRec::FIELDS.iter().zip(p.accessibility.values()) {
                put(field, Some(value.as_str()));
            }
            let default_name = p.name.get(&content.meta.default_language);
            put("name", default_name.map(String::as_str));
            for (lang, name) in &p.name {
                put(&format!("name:{lang}"), Some(name));
            }
            props.insert("importance".to_owned(), JsonValue::from(p.importance));
            Feature {
                bbox: None,
                geometry: Some(Geometry::new(GeometryValue::new_point([p.lon, p.lat]))),
                id: None,
                properties: Some(props),
                foreign_members: None,
            }
        })
        .collect();
    FeatureCollection { bbox: None, features, foreign_members: None }
}
