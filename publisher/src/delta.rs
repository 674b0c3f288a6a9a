//! Making record-level deltas between two versions of a city's content: the publisher's half of
//! `cityguide_core::update::delta` (the phone decodes and applies them).
//!
//! A changed record travels as a patch of only the fields that changed (per language for texts, and as a splice of
//! the edited middle for long strings), so moving a place or fixing a typo in one summary costs bytes proportional
//! to the edit, not to the pack. The delta is JSON compressed with zstd at level 19: built once, downloaded many
//! times.

use std::collections::BTreeMap;

use cityguide_core::pack::model::Content;
use cityguide_core::update::delta::{Changes, DELTA_FORMAT, Delta, RecordPatch};
use serde::Serialize;
use serde_json::{Map, Value};

/// zstd level used by [`encode`]: deltas are built once and downloaded many times.
const ZSTD_LEVEL: i32 = 19;
/// Strings at least this long are patched as a splice (kept prefix and suffix, new middle) when that is smaller.
const SPLICE_MIN: usize = 48;

/// Computes the delta from `old` to `new`. The hashes are those of the two packs as written by
/// [`cityguide_core::pack::write_pack`]; they are carried, not checked.
pub fn diff(old: &Content, new: &Content, old_sha256: &str, new_sha256: &str) -> Delta {
    Delta {
        format: DELTA_FORMAT,
        city_id: new.meta.city_id.clone(),
        from_version: old.meta.version,
        to_version: new.meta.version,
        from_sha256: old_sha256.to_owned(),
        to_sha256: new_sha256.to_owned(),
        meta: new.meta.clone(),
        feedback_routes: (old.feedback_routes != new.feedback_routes).then(|| new.feedback_routes.clone()),
        consultations: (old.consultations != new.consultations).then(|| new.consultations.clone()),
        latin: (old.latin != new.latin).then(|| new.latin.clone()),
        categories: diff_records(&old.categories, &new.categories, |c| &c.id),
        places: diff_records(&old.places, &new.places, |p| &p.id),
        tours: diff_records(&old.tours, &new.tours, |t| &t.id),
    }
}

/// Serialises and compresses a delta. The same delta always gives the same bytes.
pub fn encode(delta: &Delta) -> Vec<u8> {
    // Serialising plain data into memory cannot fail, and level 19 is a valid level: neither error can occur.
    let json = serde_json::to_vec(delta).unwrap_or_default();
    zstd::bulk::compress(&json, ZSTD_LEVEL).unwrap_or_default()
}

fn diff_records<T: Serialize + Clone + PartialEq>(old: &[T], new: &[T], id: impl Fn(&T) -> &String) -> Changes<T> {
    let old_by_id: BTreeMap<&str, &T> = old.iter().map(|r| (id(r).as_str(), r)).collect();
    let new_by_id: BTreeMap<&str, &T> = new.iter().map(|r| (id(r).as_str(), r)).collect();
    let mut changes = Changes::default();
    for (k, o) in &old_by_id {
        match new_by_id.get(k) {
            None => changes.removed.push((*k).to_owned()),
            Some(n) if n != o => {
                let patch = diff_value(&to_value(*o), &to_value(*n));
                changes.changed.push(RecordPatch::new((*k).to_owned(), patch));
            }
            Some(_) => {}
        }
    }
    changes.added = new_by_id.iter().filter(|(k, _)| !old_by_id.contains_key(*k)).map(|(_, n)| (*n).clone()).collect();
    changes
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Model records are plain data with string keys: serialising them into a `Value` cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The patch turning object `old` into object `new` (both are records, so objects); a whole `[0, new]` otherwise.
fn diff_value(old: &Value, new: &Value) -> Value {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return set(new);
    };
    let mut ops = Map::new();
    for (k, ov) in o {
        match n.get(k) {
            None => {
                ops.insert(k.clone(), Value::Array(vec![1.into()]));
            }
            Some(nv) if nv != ov => {
                ops.insert(k.clone(), diff_field(ov, nv));
            }
            Some(_) => {}
        }
    }
    for (k, nv) in n {
        if !o.contains_key(k) {
            ops.insert(k.clone(), set(nv));
        }
    }
    Value::Object(ops)
}

fn diff_field(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(_), Value::Object(_)) => Value::Array(vec![2.into(), diff_value(old, new)]),
        (Value::String(o), Value::String(n)) if n.len() >= SPLICE_MIN => {
            let prefix = common_prefix(o, n);
            let suffix = common_suffix(&o[prefix..], &n[prefix..]);
            let middle = &n[prefix..n.len() - suffix];
            // A splice costs its two numbers; keep the whole string when little is shared.
            if prefix + suffix > 16 {
                Value::Array(vec![3.into(), prefix.into(), suffix.into(), middle.into()])
            } else {
                set(new)
            }
        }
        _ => set(new),
    }
}

fn set(v: &Value) -> Value {
    Value::Array(vec![0.into(), v.clone()])
}

/// Length in bytes of the longest common prefix, on a char boundary of both.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices().zip(b.chars()).find(|((_, ca), cb)| ca != cb).map_or_else(|| a.len().min(b.len()), |((i, _), _)| i)
}

/// Length in bytes of the longest common suffix, on a char boundary of both.
fn common_suffix(a: &str, b: &str) -> usize {
    a.chars().rev().zip(b.chars().rev()).take_while(|(x, y)| x == y).map(|(c, _)| c.len_utf8()).sum()
}

#[cfg(test)]
mod tests;
