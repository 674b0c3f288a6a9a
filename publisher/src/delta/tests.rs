use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::build::{BuildOptions, build_pack};
use cityguide_core::pack::write_pack;
use cityguide_core::update::catalog::sha256_hex;
use cityguide_core::update::delta::{DeltaError, apply, decode};

const CAP: u64 = 64 << 20;

fn built(dir: &str) -> (Content, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let b = build_pack(&dir, &BuildOptions::default()).expect("sources build");
    (b.content, b.bytes)
}

/// Every kind of change: places, tours, categories, metadata and feedback routes.
fn modify(old: &Content) -> Content {
    let mut c = old.clone();
    c.meta.version += 1;
    c.meta.created += 3600;
    c.meta.attribution = Some("© Test publisher, changed".into());
    // Move one place, edit a summary in the middle, drop a description language, add opening hours.
    let p = &mut c.places[0];
    p.lat = (p.lat + c.meta.bbox.min_lat) / 2.0;
    let lang = c.meta.default_language.clone();
    let s = p.summary.entry(lang.clone()).or_default();
    let mid = s.char_indices().nth(s.chars().count() / 2).map_or(0, |(i, _)| i);
    s.insert_str(mid, " (edited: ünïcödé, редакция) ");
    if let Some(l) = c.meta.languages.iter().find(|l| **l != lang).cloned() {
        c.places[0].description.remove(&l);
    }
    c.places[0].opening_hours = Some("Mo-Fr 09:00-17:00".into());
    c.places[0].accessibility.seating = cityguide_core::pack::model::Access::Yes;
    // Remove a place no tour visits.
    let in_tours: Vec<String> = c.tours.iter().flat_map(|t| t.stops.clone()).collect();
    if let Some(i) = c.places.iter().rposition(|p| !in_tours.contains(&p.id)) {
        c.places.remove(i);
    }
    // Add a place and a category.
    let mut np = c.places[c.places.len() / 2].clone();
    np.id = "zz-added-place".into();
    np.name.insert(lang.clone(), "A new place".into());
    c.places.push(np);
    let mut cat = c.categories[0].clone();
    cat.id = "zz-added-category".into();
    cat.parent = Some(c.categories[0].id.clone());
    cat.name.insert(lang.clone(), "New category".into());
    c.categories.push(cat);
    c.categories[0].name.insert(lang.clone(), "Renamed".into());
    // Change a tour, add one.
    if let Some(t) = c.tours.first_mut() {
        t.title.insert(lang.clone(), "A changed title".into());
        t.duration_min += 5;
        t.path.push((c.meta.bbox.min_lat, c.meta.bbox.min_lon));
        let mut nt = t.clone();
        nt.id = "zz-added-tour".into();
        c.tours.push(nt);
    }
    c.feedback_routes.pop();
    c
}

fn round_trip(dir: &str) {
    let (old, old_bytes) = built(dir);
    let new = modify(&old);
    let new_bytes = write_pack(&new).expect("modified content is valid");
    let (h_old, h_new) = (sha256_hex(&old_bytes), sha256_hex(&new_bytes));
    let d = diff(&old, &new, &h_old, &h_new);
    assert!(!d.places.added.is_empty() && !d.places.removed.is_empty() && !d.places.changed.is_empty());
    assert!(!d.categories.added.is_empty() && !d.categories.changed.is_empty());
    assert!(d.feedback_routes.is_some());
    let bytes = encode(&d);
    assert_eq!(bytes, encode(&d), "deterministic");
    let back = decode(&bytes, CAP).expect("decodes");
    assert_eq!(back, d);
    let applied = apply(&old, &back).expect("applies");
    let applied_bytes = write_pack(&applied).expect("writes");
    assert_eq!(sha256_hex(&applied_bytes), back.to_sha256);
    assert_eq!(applied, new);
    // The changed place carries only its changed fields.
    let fields = d.places.changed.iter().find(|p| p.id == old.places[0].id).expect("place 0 changed").fields();
    assert!(fields.contains(&"lat") && fields.contains(&"summary") && !fields.contains(&"name"), "{fields:?}");
}

#[test]
fn round_trip_mini() {
    round_trip("data/fixtures/mini");
}

#[test]
fn round_trip_varna() {
    round_trip("data/varna");
}

#[test]
fn no_change_is_tiny_and_applies() {
    let (old, bytes) = built("data/fixtures/mini");
    let h = sha256_hex(&bytes);
    let d = diff(&old, &old, &h, &h);
    assert!(d.places.is_empty() && d.tours.is_empty() && d.categories.is_empty() && d.feedback_routes.is_none());
    assert!(encode(&d).len() < 1024);
    assert_eq!(apply(&old, &d).expect("applies"), old);
}

#[test]
fn a_pack_without_zone_rules_gets_them_through_a_delta() {
    // A phone holding a format 1.1 pack (no time-zone rules) updates to a 1.2 pack that has them: the delta carries
    // the metadata whole, rules included, and the rebuilt pack is byte-identical to the publisher's.
    let (new, new_bytes) = built("data/fixtures/mini");
    assert!(new.meta.time_zone_rules.is_some());
    let mut old = new.clone();
    old.meta.time_zone_rules = None;
    old.meta.version -= 1;
    let old_bytes = write_pack(&old).expect("writes");
    let d = diff(&old, &new, &sha256_hex(&old_bytes), &sha256_hex(&new_bytes));
    let back = decode(&encode(&d), CAP).expect("decodes");
    assert_eq!(back.meta.time_zone_rules, new.meta.time_zone_rules);
    let applied = write_pack(&apply(&old, &back).expect("applies")).expect("writes");
    assert_eq!(applied, new_bytes);
    // And the other way: the rules do not linger when a delta's metadata has none.
    let d = diff(&new, &old, "new", "old");
    assert_eq!(apply(&new, &decode(&encode(&d), CAP).expect("decodes")).expect("applies").meta.time_zone_rules, None);
}

#[test]
fn refuses_wrong_city_and_base() {
    let (old, _) = built("data/fixtures/mini");
    let new = modify(&old);
    let d = diff(&old, &new, "a", "b");
    let mut other = old.clone();
    other.meta.version += 7;
    assert!(matches!(apply(&other, &d), Err(DeltaError::WrongBase { .. })));
    other = old.clone();
    other.meta.city_id = "elsewhere".into();
    assert!(matches!(apply(&other, &d), Err(DeltaError::WrongCity { .. })));
    // Applying twice: the base no longer fits.
    let once = apply(&old, &d).expect("applies");
    assert!(apply(&once, &d).is_err());
}

#[test]
fn caps_decompressed_size() {
    let (old, _) = built("data/varna");
    let new = modify(&old);
    let bytes = encode(&diff(&old, &new, "a", "b"));
    assert!(matches!(decode(&bytes, 100), Err(DeltaError::TooLarge { max: 100 })));
    // A zip bomb: a megabyte of zeros compresses to a few bytes.
    let bomb = zstd::bulk::compress(&vec![b' '; 1 << 20], 19).expect("compresses");
    assert!(matches!(decode(&bomb, 1000), Err(DeltaError::TooLarge { .. })));
}

#[test]
fn long_strings_travel_as_a_splice_that_applies() {
    let old = "Старият град на Варна е пълен с римски терми и църкви от Възраждането.";
    let new = "Старият град на Варна е пълен с римски терми, музеи и църкви от Възраждането.";
    let op = diff_field(&Value::String(old.into()), &Value::String(new.into()));
    assert_eq!(op[0], 3, "{op}");
    let base = Content { places: vec![], ..built("data/fixtures/mini").0 };
    let mut next = base.clone();
    next.meta.version += 1;
    next.meta.attribution = Some(old.into());
    let mut base2 = base.clone();
    base2.meta.attribution = Some(old.into());
    let mut next2 = base2.clone();
    next2.meta.version += 1;
    next2.meta.attribution = Some(new.into());
    let d = diff(&base2, &next2, "a", "b");
    assert_eq!(apply(&base2, &d).expect("applies").meta.attribution.as_deref(), Some(new));
}

fn mini_delta_bytes() -> (Content, Vec<u8>) {
    let (old, _) = built("data/fixtures/mini");
    let new = modify(&old);
    let bytes = encode(&diff(&old, &new, "a", "b"));
    (old, bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (old, _) = mini_delta_bytes();
        if let Ok(d) = decode(&bytes, CAP) {
            let _ = apply(&old, &d);
        }
    }

    #[test]
    fn bit_flips_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8)) {
        let (old, mut bytes) = mini_delta_bytes();
        for (i, bit) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        if let Ok(d) = decode(&bytes, CAP) {
            if let Ok(c) = apply(&old, &d) {
                let _ = write_pack(&c);
            }
        }
    }

    #[test]
    fn mutated_json_never_panics(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        // Flips inside the compressed bytes rarely survive zstd's checks; mutate the JSON itself too.
        let (old, bytes) = mini_delta_bytes();
        let mut json = zstd::bulk::decompress(&bytes, 1 << 20).expect("valid");
        let i = pos.index(json.len());
        json[i] = byte;
        let recompressed = zstd::bulk::compress(&json, 1).expect("compresses");
        if let Ok(d) = decode(&recompressed, CAP) {
            if let Ok(c) = apply(&old, &d) {
                let _ = write_pack(&c);
            }
        }
    }
}
