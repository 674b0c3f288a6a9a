//! GeoJSON sources (from QGIS or any GIS tool): places as Point features, tour paths as LineString features.
//!
//! Each feature is checked with the `geojson` crate on its own, so a bad feature is reported at its exact position
//! and the others are still checked.

use std::collections::HashMap;
use std::path::Path;

use geojson::{Feature, GeometryValue as Value};
use serde_json::Value as Json;

use super::diag::{JsonStep, LineIndex, json_locate};
use super::{Ctx, Known, Origin, PLACE_COLUMNS, RawPlace, parse_place};
use cityguide_core::pack::model::{BBox, PlaceRec};

/// A GeoJSON file read as JSON, with what is needed to locate its parts.
struct GeoFile {
    name: &'static str,
    text: String,
    index: LineIndex,
    features: Vec<Json>,
}

impl GeoFile {
    fn load(dir: &Path, name: &'static str, ctx: &mut Ctx) -> Option<GeoFile> {
        let text = match std::fs::read(dir.join(name)) {
            Ok(b) => match String::from_utf8(b) {
                Ok(t) => t,
                Err(_) => {
                    ctx.error(name, 1, 1, "the file is not UTF-8 text; export GeoJSON with UTF-8 encoding");
                    return None;
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                ctx.error(name, 1, 1, format!("cannot read the file: {e}"));
                return None;
            }
        };
        let text = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
        let index = LineIndex::new(&text);
        let json: Json = match serde_json::from_str(&text) {
            Ok(j) => j,
            Err(e) => {
                ctx.error(name, e.line().max(1), e.column().max(1), format!("malformed JSON: {e}"));
                return None;
            }
        };
        let mut file = GeoFile { name, text, index, features: Vec::new() };
        match json.get("type").and_then(Json::as_str) {
            Some("FeatureCollection") => {}
            other => {
                let at = file.at(&[JsonStep::Key("type")]);
                ctx.error(
                    name,
                    at.0,
                    at.1,
                    format!("expected a GeoJSON FeatureCollection, found type {other:?}; export the layer as a FeatureCollection"),
                );
                return None;
            }
        }
        match json.get("features") {
            Some(Json::Array(items)) => file.features = items.clone(),
            _ => {
                let at = file.at(&[JsonStep::Key("features")]);
                ctx.error(name, at.0, at.1, "a FeatureCollection needs a \"features\" array");
                return None;
            }
        }
        Some(file)
    }

    fn at(&self, path: &[JsonStep<'_>]) -> (usize, usize) {
        self.index.locate(&self.text, json_locate(&self.text, path))
    }

    fn feature_at(&self, i: usize, rest: &[JsonStep<'_>]) -> (usize, usize) {
        let mut path = vec![JsonStep::Key("features"), JsonStep::Index(i)];
        path.extend_from_slice(rest);
        self.at(&path)
    }

    fn error(&self, ctx: &mut Ctx, i: usize, rest: &[JsonStep<'_>], msg: impl Into<String>) {
        let (l, c) = self.feature_at(i, rest);
        ctx.error(self.name, l, c, msg);
    }

    /// The feature, checked by the geojson crate.
    fn feature(&self, ctx: &mut Ctx, i: usize) -> Option<Feature> {
        match serde_json::from_value::<Feature>(self.features[i].clone()) {
            Ok(f) => Some(f),
            Err(e) => {
                self.error(ctx, i, &[], format!("feature {} is not valid GeoJSON: {e}", i + 1));
                None
            }
        }
    }
}

fn prop_text(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    }
}

/// Places from `places.geojson`, if the file exists.
pub(super) fn read_places_geojson(dir: &Path, known: &Known<'_>, ctx: &mut Ctx) -> Option<Vec<(PlaceRec, Origin)>> {
    const F: &str = "places.geojson";
    let file = GeoFile::load(dir, F, ctx)?;
    let mut out = Vec::new();
    for i in 0..file.features.len() {
        let Some(feature) = file.feature(ctx, i) else { continue };
        let position = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(Value::Point { coordinates: p }) if p.len() >= 2 => (p[1], p[0]),
            Some(other) => {
                file.error(
                    ctx,
                    i,
                    &[JsonStep::Key("geometry"), JsonStep::Key("type")],
                    format!("a place must be a Point, found {}; use the layer's centroids", other.type_name()),
                );
                continue;
            }
            None => {
                file.error(ctx, i, &[], "this feature has no geometry; a place needs a Point");
                continue;
            }
        };
        let props = feature.properties.clone().unwrap_or_default();
        for key in props.keys().filter(|k| !PLACE_COLUMNS.contains(&k.as_str())) {
            let (l, c) = file.feature_at(i, &[JsonStep::Key("properties"), JsonStep::Key(key)]);
            ctx.warn(F, l, c, format!("unknown property \"{key}\"; it is ignored"));
        }
        let get = |field: &str| props.get(field).map(prop_text).unwrap_or_default();
        let at = |field: &str| match field {
            "lat" | "lon" => file.feature_at(i, &[JsonStep::Key("geometry"), JsonStep::Key("coordinates")]),
            _ => file.feature_at(i, &[JsonStep::Key("properties"), JsonStep::Key(field)]),
        };
        let raw = RawPlace { get: &get, at: &at, file: F, position: Some(position) };
        if let Some(p) = parse_place(&raw, known, ctx) {
            let (line, column) = file.feature_at(i, &[]);
            out.push((p, Origin { file: F.to_owned(), line, column }));
        }
    }
    Some(out)
}

/// Tour paths from `tours.geojson` by tour id, `(lat, lon)` order, if the file exists.
pub(super) fn read_tour_paths(dir: &Path, bbox: &BBox, ctx: &mut Ctx) -> Option<HashMap<String, Vec<(f64, f64)>>> {
    const F: &str = "tours.geojson";
    let file = GeoFile::load(dir, F, ctx)?;
    let mut out = HashMap::new();
    for i in 0..file.features.len() {
        let Some(feature) = file.feature(ctx, i) else { continue };
        let id = feature.properties.as_ref().and_then(|p| p.get("id")).map(prop_text).unwrap_or_default();
        if id.is_empty() {
            file.error(ctx, i, &[JsonStep::Key("properties")], "this path has no \"id\" property naming its tour");
            continue;
        }
        let line = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(Value::LineString { coordinates: l }) => l,
            Some(other) => {
                file.error(
                    ctx,
                    i,
                    &[JsonStep::Key("geometry"), JsonStep::Key("type")],
                    format!("the path of tour {id:?} must be a LineString, found {}", other.type_name()),
                );
                continue;
            }
            None => {
                file.error(ctx, i, &[], format!("the path of tour {id:?} has no geometry"));
                continue;
            }
        };
        if line.len() < 2 {
            file.error(
                ctx,
                i,
                &[JsonStep::Key("geometry")],
                format!("the path of tour {id:?} needs at least two points"),
            );
            continue;
        }
        let mut ok = true;
        let mut path = Vec::with_capacity(line.len());
        for (j, pos) in line.iter().enumerate() {
            let (lon, lat) = (pos[0], pos[1]);
            if !bbox.contains(lat, lon) {
                file.error(
                    ctx,
                    i,
                    &[JsonStep::Key("geometry"), JsonStep::Key("coordinates"), JsonStep::Index(j)],
                    format!("point {} of tour {id:?} ({lat}, {lon}) is outside the city's bounding box; GeoJSON order is [longitude, latitude]", j + 1),
                );
                ok = false;
                break;
            }
            path.push((lat, lon));
        }
        if out.contains_key(&id) {
            file.error(ctx, i, &[JsonStep::Key("properties")], format!("tour {id:?} has more than one path"));
            continue;
        }
        if ok {
            out.insert(id, path);
        }
    }
    Some(out)
}
