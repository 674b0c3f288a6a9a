//! Record-level deltas between two versions of a city's content.
//!
//! A phone that holds version N of a pack downloads only what changed: records added and removed by stable id, and for
//! a changed record only the fields that changed (per language for texts, and as a splice of the edited middle for
//! long strings), so moving a place or fixing a typo in one summary costs bytes proportional to the edit, not to the
//! pack. Metadata, feedback routes and consultations are small and travel whole when they change.
//!
//! The delta is JSON compressed with zstd (level 19). It is checked, never trusted: [`decode`] caps the decompressed
//! size (zip bombs), [`apply`] checks the city and the base version and refuses any patch that does not fit the base
//! record, and the client then writes the pack with [`crate::pack::write_pack`] and compares its SHA-256 with the
//! signed catalog's hash of the full pack, falling back to the full pack on any mismatch. Neither function panics on
//! hostile bytes.
//!
//! ```
//! # use cityguide_core::{update::delta, pack::write_pack};
//! # use cityguide_publisher::build::{build_pack, BuildOptions};
//! # let old = build_pack(std::path::Path::new("../data/fixtures/mini"), &BuildOptions::default()).unwrap();
//! let mut new = old.content.clone();
//! new.meta.version += 1;
//! new.places[0].lat += 0.0001;
//! let new_bytes = write_pack(&new).unwrap();
//! // The publisher makes the delta (cityguide-publisher), the phone applies it.
//! let d = cityguide_publisher::delta::diff(&old.content, &new, "old-hash", "new-hash");
//! let bytes = cityguide_publisher::delta::encode(&d);
//! let back = delta::apply(&old.content, &delta::decode(&bytes, 1 << 20).unwrap()).unwrap();
//! assert_eq!(write_pack(&back).unwrap(), new_bytes);
//! ```

use std::collections::BTreeMap;
use std::io::Read;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pack::model::{CategoryRec, ConsultationRec, Content, FeedbackRouteRec, Meta, PlaceRec, TourRec};

/// Format of the encoded delta; [`decode`] refuses others.
pub const DELTA_FORMAT: u32 = 1;

/// What changed between two versions of one city's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Format of the delta, [`DELTA_FORMAT`].
    pub format: u32,
    /// The city both versions belong to.
    pub city_id: String,
    /// Version the delta applies to.
    pub from_version: u64,
    /// Version the delta produces.
    pub to_version: u64,
    /// SHA-256 (hex) of the base pack.
    pub from_sha256: String,
    /// SHA-256 (hex) of the pack the delta produces, once written with [`crate::pack::write_pack`].
    pub to_sha256: String,
    /// The new metadata, whole (it always changes: at least the version).
    pub meta: Meta,
    /// The new feedback routes, whole, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_routes: Option<Vec<FeedbackRouteRec>>,
    /// The new consultations, whole, when they changed (an older core ignores the field, its rebuilt pack then
    /// fails the hash check and it falls back to the full pack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultations: Option<Vec<ConsultationRec>>,
    /// The new transliteration table, whole, when it changed (format 1.4 packs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latin: Option<BTreeMap<char, String>>,
    /// Category changes.
    #[serde(default)]
    pub categories: Changes<CategoryRec>,
    /// Place changes.
    #[serde(default)]
    pub places: Changes<PlaceRec>,
    /// Tour changes.
    #[serde(default)]
    pub tours: Changes<TourRec>,
}

/// Changes to one kind of record, by stable id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned"))]
pub struct Changes<T> {
    /// Ids of records that are gone, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// New records, whole, ascending by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<T>,
    /// Records that exist in both versions and differ, ascending by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<RecordPatch>,
}

impl<T> Default for Changes<T> {
    fn default() -> Self {
        Changes { removed: Vec::new(), added: Vec::new(), changed: Vec::new() }
    }
}

impl<T> Changes<T> {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty() && self.changed.is_empty()
    }
}

/// The changed fields of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordPatch {
    /// The record's stable id.
    pub id: String,
    /// The field-level patch (its encoding is described in [`apply`]).
    #[serde(rename = "p")]
    patch: Value,
}

impl RecordPatch {
    /// A patch of the record `id`; `patch` is an object from field name to an operation as [`apply`] describes.
    /// The publisher makes these; [`apply`] checks every operation against the base record.
    pub fn new(id: String, patch: Value) -> RecordPatch {
        RecordPatch { id, patch }
    }

    /// Names of the top-level fields this patch touches.
    pub fn fields(&self) -> Vec<&str> {
        match &self.patch {
            Value::Object(m) => m.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a delta was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    /// The delta decompresses to more than allowed.
    #[error("delta decompresses to more than {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The bytes are not a zstd-compressed delta.
    #[error("damaged delta: {0}")]
    Malformed(String),
    /// The delta has a format this core does not know.
    #[error("delta format {0} is not supported")]
    UnsupportedFormat(u32),
    /// The delta is for another city.
    #[error("delta is for city {delta}, not {installed}")]
    WrongCity {
        /// City the delta names.
        delta: String,
        /// City of the installed content.
        installed: String,
    },
    /// The delta starts from another version.
    #[error("delta applies to version {delta}, the installed version is {installed}")]
    WrongBase {
        /// Base version the delta names.
        delta: u64,
        /// Installed version.
        installed: u64,
    },
    /// The delta does not fit the base content.
    #[error("delta does not fit the installed content: {0}")]
    Mismatch(String),
}

/// Decompresses and parses a delta, refusing more than `max_decompressed` bytes of JSON.
pub fn decode(bytes: &[u8], max_decompressed: u64) -> Result<Delta, DeltaError> {
    let decoder = zstd::stream::read::Decoder::new(bytes).map_err(|e| DeltaError::Malformed(e.to_string()))?;
    let mut json = Vec::new();
    decoder
        .take(max_decompressed.saturating_add(1))
        .read_to_end(&mut json)
        .map_err(|e| DeltaError::Malformed(format!("not zstd data: {e}")))?;
    if json.len() as u64 > max_decompressed {
        return Err(DeltaError::TooLarge { max: max_decompressed });
    }
    // Through a `Value`, as `apply` reads the patches: one set of deserializers for the record types instead of two
    // (from text and from a `Value`) keeps about 0.1 MB of generated code out of the phone library.
    let value: Value = serde_json::from_slice(&json).map_err(|e| DeltaError::Malformed(e.to_string()))?;
    let delta: Delta = serde_json::from_value(value).map_err(|e| DeltaError::Malformed(e.to_string()))?;
    if delta.format != DELTA_FORMAT {
        return Err(DeltaError::UnsupportedFormat(delta.format));
    }
    Ok(delta)
}

/// Applies a delta to the content it was computed from.
///
/// Checks the city and the base version; every removed or changed id must exist, every added id must not, and every
/// field patch must fit the base record. A patch is a JSON object from field name to an operation: `[0, value]` sets
/// the field, `[1]` removes a map entry (a language), `[2, {..}]` patches a nested object, `[3, prefix, suffix,
/// "middle"]` keeps the first `prefix` and last `suffix` bytes of a string and puts `middle` between them.
///
/// The result is not validated as a pack: write it with [`crate::pack::write_pack`] and compare the hash with the
/// catalog's, which is the real check.
pub fn apply(old: &Content, delta: &Delta) -> Result<Content, DeltaError> {
    if delta.format != DELTA_FORMAT {
        return Err(DeltaError::UnsupportedFormat(delta.format));
    }
    if delta.city_id != old.meta.city_id || delta.meta.city_id != old.meta.city_id {
        return Err(DeltaError::WrongCity { delta: delta.city_id.clone(), installed: old.meta.city_id.clone() });
    }
    if delta.from_version != old.meta.version {
        return Err(DeltaError::WrongBase { delta: delta.from_version, installed: old.meta.version });
    }
    if delta.meta.version != delta.to_version {
        return Err(DeltaError::Mismatch(format!(
            "metadata says version {}, the delta produces {}",
            delta.meta.version, delta.to_version
        )));
    }
    Ok(Content {
        meta: delta.meta.clone(),
        categories: apply_records("category", &old.categories, &delta.categories, |c| &c.id)?,
        places: apply_records("place", &old.places, &delta.places, |p| &p.id)?,
        tours: apply_records("tour", &old.tours, &delta.tours, |t| &t.id)?,
        feedback_routes: delta.feedback_routes.clone().unwrap_or_else(|| old.feedback_routes.clone()),
        consultations: delta.consultations.clone().unwrap_or_else(|| old.consultations.clone()),
        latin: delta.latin.clone().unwrap_or_else(|| old.latin.clone()),
    })
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Model records are plain data with string keys: serialising them into a `Value` cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn apply_records<T: Serialize + DeserializeOwned + Clone>(
    what: &str,
    old: &[T],
    changes: &Changes<T>,
    id: impl Fn(&T) -> &String,
) -> Result<Vec<T>, DeltaError> {
    let mut by_id: BTreeMap<String, T> = old.iter().map(|r| (id(r).clone(), r.clone())).collect();
    for k in &changes.removed {
        if by_id.remove(k).is_none() {
            return Err(DeltaError::Mismatch(format!("{what} {k} to remove does not exist")));
        }
    }
    for p in &changes.changed {
        let rec = by_id
            .get_mut(&p.id)
            .ok_or_else(|| DeltaError::Mismatch(format!("{what} {} to change does not exist", p.id)))?;
        let mut v = to_value(&*rec);
        patch_object(&mut v, &p.patch).map_err(|e| DeltaError::Mismatch(format!("{what} {}: {e}", p.id)))?;
        let patched: T =
            serde_json::from_value(v).map_err(|e| DeltaError::Mismatch(format!("{what} {}: {e}", p.id)))?;
        if id(&patched) != &p.id {
            return Err(DeltaError::Mismatch(format!("{what} {}: a patch may not change the id", p.id)));
        }
        *rec = patched;
    }
    for r in &changes.added {
        if by_id.insert(id(r).clone(), r.clone()).is_some() {
            return Err(DeltaError::Mismatch(format!("{what} {} to add already exists", id(r))));
        }
    }
    Ok(by_id.into_values().collect())
}

fn patch_object(target: &mut Value, patch: &Value) -> Result<(), String> {
    let (Value::Object(t), Value::Object(ops)) = (target, patch) else {
        return Err("patch of something that is not an object".into());
    };
    for (k, op) in ops {
        let Value::Array(op) = op else {
            return Err(format!("field {k}: operation is not an array"));
        };
        match (op.first().and_then(Value::as_u64), op.len()) {
            (Some(0), 2) => {
                t.insert(k.clone(), op[1].clone());
            }
            (Some(1), 1) => {
                if t.remove(k).is_none() {
                    return Err(format!("field {k} to remove does not exist"));
                }
            }
            (Some(2), 2) => {
                let field = t.get_mut(k).ok_or_else(|| format!("field {k} to patch does not exist"))?;
                patch_object(field, &op[1]).map_err(|e| format!("{k}.{e}"))?;
            }
            (Some(3), 4) => {
                let (Some(prefix), Some(suffix), Some(middle)) = (op[1].as_u64(), op[2].as_u64(), op[3].as_str())
                else {
                    return Err(format!("field {k}: bad splice"));
                };
                let Some(Value::String(s)) = t.get_mut(k) else {
                    return Err(format!("field {k} to splice is not a string"));
                };
                let spliced =
                    splice(s, prefix, suffix, middle).ok_or_else(|| format!("field {k}: splice out of range"))?;
                *s = spliced;
            }
            _ => return Err(format!("field {k}: unknown operation")),
        }
    }
    Ok(())
}

fn splice(s: &str, prefix: u64, suffix: u64, middle: &str) -> Option<String> {
    let prefix = usize::try_from(prefix).ok()?;
    let suffix = usize::try_from(suffix).ok()?;
    let end = s.len().checked_sub(suffix)?;
    if prefix > end {
        return None;
    }
    let head = s.get(..prefix)?;
    let tail = s.get(end..)?;
    let mut out = String::with_capacity(head.len() + middle.len() + tail.len());
    out.push_str(head);
    out.push_str(middle);
    out.push_str(tail);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_handles_multibyte_and_bad_ranges() {
        let old = "Старият град на Варна е пълен с римски терми и църкви от Възраждането.";
        let new = "Старият град на Варна е пълен с римски терми, музеи и църкви от Възраждането.";
        // Keep "…римски терми" (prefix) and " и църкви…" (suffix), put ", музеи" between.
        let prefix = old.find(" и църкви").expect("in old");
        let suffix = old.len() - prefix;
        let mut obj = serde_json::json!({ "s": old });
        patch_object(&mut obj, &serde_json::json!({ "s": [3, prefix, suffix, ", музеи"] })).expect("fits");
        assert_eq!(obj["s"], new);
        assert_eq!(splice("абв", 1, 0, "x"), None, "not a char boundary");
        assert_eq!(splice("abc", 2, 2, "x"), None, "overlap");
        assert_eq!(splice("abc", u64::MAX, 0, "x"), None);
        assert_eq!(splice("abc", 1, 1, "x").as_deref(), Some("axc"));
    }
}
