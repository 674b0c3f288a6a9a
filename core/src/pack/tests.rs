//! The reader refuses every kind of bad pack with a specific reason, and no byte sequence makes it panic.
//!
//! A unit test module because it crafts bad packs with the generated FlatBuffers object API, which is internal to
//! the core. Valid packs come from the publisher's builder as bytes.

use std::path::Path;

use cityguide_publisher::build::{BuildOptions, build_pack};
use proptest::prelude::*;

use super::{Limits, PackError, PackFile, fb, verify_pack};
use crate::query::hours::HoursContext;

fn mini_bytes() -> Vec<u8> {
    let mini = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/fixtures/mini");
    build_pack(&mini, &BuildOptions::default()).expect("mini builds").bytes
}

/// Re-encodes the mini pack after changing its object form; used to craft packs the writer would never produce.
fn tampered(change: impl FnOnce(&mut fb::PackT)) -> Vec<u8> {
    let bytes = MINI.with(|m| m.clone());
    let mut obj = fb::root_as_pack(&bytes).expect("valid").unpack();
    change(&mut obj);
    let mut b = flatbuffers::FlatBufferBuilder::new();
    let root = obj.pack(&mut b);
    fb::finish_pack_buffer(&mut b, root);
    b.finished_data().to_vec()
}

fn invalid_reason(bytes: &[u8]) -> String {
    match verify_pack(bytes, &Limits::default()) {
        Err(PackError::Invalid(reason)) => reason,
        other => panic!("expected an invalid-pack error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn an_untampered_repack_is_accepted() {
    // Guards the tampering helper itself: without a change the pack stays valid.
    let bytes = tampered(|_| {});
    assert!(verify_pack(&bytes, &Limits::default()).is_ok());
}

#[test]
fn too_large() {
    let bytes = mini_bytes();
    let limits = Limits { max_bytes: 1000, ..Limits::default() };
    assert!(matches!(verify_pack(&bytes, &limits), Err(PackError::TooLarge { max: 1000, .. })));
}

#[test]
fn wrong_identifier() {
    let mut bytes = mini_bytes();
    bytes[4..8].copy_from_slice(b"ZZZZ");
    assert!(matches!(verify_pack(&bytes, &Limits::default()), Err(PackError::WrongIdentifier)));
    assert!(matches!(verify_pack(b"CG", &Limits::default()), Err(PackError::WrongIdentifier)));
    assert!(matches!(verify_pack(&[], &Limits::default()), Err(PackError::WrongIdentifier)));
}

#[test]
fn truncated_pack_is_malformed() {
    let bytes = mini_bytes();
    let cut = &bytes[..bytes.len() / 2];
    assert!(matches!(verify_pack(cut, &Limits::default()), Err(PackError::Malformed(_))));
}

#[test]
fn nesting_beyond_the_depth_limit_is_malformed() {
    let bytes = mini_bytes();
    let limits = Limits { max_depth: 2, ..Limits::default() };
    assert!(matches!(verify_pack(&bytes, &limits), Err(PackError::Malformed(_))));
    let limits = Limits { max_tables: 10, ..Limits::default() };
    assert!(matches!(verify_pack(&bytes, &limits), Err(PackError::Malformed(_))));
}

#[test]
fn another_format_major_is_refused_with_advice() {
    let bytes = tampered(|p| p.format_major = 2);
    let err = verify_pack(&bytes, &Limits::default()).expect_err("refused");
    assert!(matches!(err, PackError::UnsupportedFormat { found: 2, supported: 1 }));
    assert!(err.to_string().contains("update the app"));
}

#[test]
fn a_newer_minor_is_accepted() {
    let bytes = tampered(|p| p.format_minor = 7);
    assert!(verify_pack(&bytes, &Limits::default()).is_ok());
}

#[test]
fn coordinates_and_pois_must_match() {
    let bytes = tampered(|p| {
        p.coords.as_mut().expect("coords").pop();
    });
    assert!(invalid_reason(&bytes).contains("5 pois but 4 coordinates"));
}

#[test]
fn ids_must_be_sorted_and_unique() {
    let bytes = tampered(|p| p.pois.as_mut().expect("pois").swap(0, 1));
    assert!(invalid_reason(&bytes).contains("ids must be unique and sorted"));
    let bytes = tampered(|p| {
        let cats = p.categories.as_mut().expect("categories");
        cats[1].id = cats[0].id.clone();
    });
    assert!(invalid_reason(&bytes).contains("categories[1]"));
}

#[test]
fn positions_must_be_finite_and_in_the_box() {
    let bytes = tampered(|p| p.coords.as_mut().expect("coords")[0].lat = f64::NAN);
    assert!(invalid_reason(&bytes).contains("coords[0] is not a valid position"));
    let bytes = tampered(|p| p.coords.as_mut().expect("coords")[2].lon = 30.0);
    assert!(invalid_reason(&bytes).contains("outside the bounding box"));
}

#[test]
fn references_must_be_in_range() {
    let bytes = tampered(|p| p.pois.as_mut().expect("pois")[0].categories = Some(vec![99]));
    assert!(invalid_reason(&bytes).contains("refers to category 99"));
    let bytes = tampered(|p| p.tours.as_mut().expect("tours")[0].stops = Some(vec![0, 42]));
    assert!(invalid_reason(&bytes).contains("refers to poi 42"));
    let bytes = tampered(|p| p.categories.as_mut().expect("categories")[0].parent = 17);
    assert!(invalid_reason(&bytes).contains("parent 17 is out of range"));
}

#[test]
fn category_cycles_are_refused() {
    let bytes = tampered(|p| {
        let cats = p.categories.as_mut().expect("categories");
        cats[0].parent = 1;
        cats[1].parent = 0;
    });
    assert!(invalid_reason(&bytes).contains("cycle"));
}

#[test]
fn every_place_needs_a_name_in_the_default_language() {
    let bytes = tampered(|p| {
        let poi = &mut p.pois.as_mut().expect("pois")[0];
        poi.name.as_mut().expect("names").retain(|t| t.lang != "bg");
    });
    assert!(invalid_reason(&bytes).contains("no name in the default language bg"));
}

#[test]
fn metadata_must_be_usable() {
    let bytes = tampered(|p| p.meta.time_zone = "Europe/../Sofia".into());
    assert!(invalid_reason(&bytes).contains("not an IANA time zone name"));
    let bytes = tampered(|p| p.meta.languages = Some(vec!["en".into()]));
    assert!(invalid_reason(&bytes).contains("default language"));
    let bytes = tampered(|p| p.meta.city_id = "Varna City".into());
    assert!(invalid_reason(&bytes).contains("city_id"));
    let bytes = tampered(|p| p.meta.bbox = None);
    assert!(invalid_reason(&bytes).contains("bbox"));
}

#[test]
fn time_zone_rules_must_be_valid_tzif_or_absent() {
    let rules = fb::root_as_pack(&mini_bytes()).expect("valid").unpack().meta.time_zone_rules.expect("1.2 has rules");
    assert_eq!(&rules[..4], b"TZif");
    for (damage, bad) in [
        ("not TZif", b"no rules here".to_vec()),
        ("cut in half", rules[..rules.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("too large", [rules.clone(), vec![0; crate::query::hours::MAX_RULES_BYTES]].concat()),
    ] {
        let bytes = tampered(|p| p.meta.time_zone_rules = Some(bad));
        let reason = invalid_reason(&bytes);
        assert!(reason.contains("meta.time_zone_rules") && reason.contains("TZif"), "{damage}: {reason}");
    }
    // A pack from before format 1.2 has no rules: accepted, and its opening hours are unknown (not closed).
    let bytes = tampered(|p| {
        p.format_minor = 1;
        p.meta.time_zone_rules = None;
    });
    let pack = PackFile::from_bytes(bytes).expect("a 1.1 pack is accepted");
    assert_eq!(pack.info().format_minor, 1);
    assert_eq!(pack.to_content().meta.time_zone_rules, None);
}

#[test]
fn tours_need_a_path_and_texts_sorted_languages() {
    let bytes = tampered(|p| p.tours.as_mut().expect("tours")[0].path = Some(vec![]));
    assert!(invalid_reason(&bytes).contains("fewer than 2 points"));
    let bytes = tampered(|p| {
        let poi = &mut p.pois.as_mut().expect("pois")[0];
        poi.name.as_mut().expect("names").reverse();
    });
    assert!(invalid_reason(&bytes).contains("languages not strictly ascending"));
}

#[test]
fn importance_above_100_is_refused() {
    let bytes = tampered(|p| p.pois.as_mut().expect("pois")[0].importance = 101);
    assert!(invalid_reason(&bytes).contains("importance 101"));
}

#[test]
fn memory_mapped_and_in_memory_packs_agree() {
    let bytes = mini_bytes();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("mini.pack");
    std::fs::write(&path, &bytes).expect("write");
    let mapped = PackFile::open(&path).expect("opens");
    let owned = PackFile::from_bytes(bytes.clone()).expect("opens");
    assert_eq!(mapped.bytes(), &bytes[..]);
    assert_eq!(mapped.to_content(), owned.to_content());
    std::fs::write(&path, &bytes[..100]).expect("write");
    assert!(PackFile::open(&path).is_err());
    std::fs::write(&path, b"").expect("write");
    assert!(matches!(PackFile::open(&path), Err(PackError::WrongIdentifier)));
    assert!(matches!(PackFile::open(&dir.path().join("missing.pack")), Err(PackError::Io { .. })));
}

/// Reads everything a verified pack offers, the way the app would, including opening hours in the pack's zone.
fn touch_everything(bytes: &[u8]) {
    if let Ok(pack) = PackFile::from_bytes(bytes.to_vec()) {
        let content = pack.to_content();
        assert_eq!(content.places.len(), pack.pack().coords().map_or(0, |c| c.len()));
        let meta = pack.meta();
        let rules = meta.time_zone_rules().map(|r| r.bytes());
        let hours = HoursContext::for_pack(meta.time_zone(), rules, meta.country())
            .expect("a verified pack's time zone makes a context");
        let now = chrono::DateTime::from_timestamp(1_783_409_400, 0).expect("2026-07-07T07:30:00Z");
        for p in pack.pack().pois().unwrap_or_default() {
            let _ =
                (p.id(), p.opening_hours(), p.address().map(|a| a.street()), p.accessibility().map(|a| a.step_free()));
            let _ = hours.status(p.opening_hours(), now).label(now);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        touch_everything(&bytes);
        // With the right identifier the verifier has to work harder.
        let mut with_id = bytes.clone();
        if with_id.len() >= 8 {
            with_id[4..8].copy_from_slice(b"CGPK");
        }
        touch_everything(&with_id);
    }

    #[test]
    fn mutated_packs_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        words in proptest::collection::vec((any::<prop::sample::Index>(), any::<u32>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = MINI.with(|m| m.clone());
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor.max(1);
        }
        // Overwrite whole 32-bit words: offsets and vector lengths become huge, small or point elsewhere.
        for (at, value) in words {
            let i = at.index(bytes.len() / 4) * 4;
            bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        touch_everything(&bytes);
    }

    #[test]
    fn damaged_time_zone_rules_are_refused_or_harmless(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        // Damage only the TZif bytes inside a structurally valid pack: the verifier passes, so the rules check decides.
        let bytes = tampered(|p| {
            let rules = p.meta.time_zone_rules.as_mut().expect("rules");
            for (at, xor) in flips {
                let i = at.index(rules.len());
                rules[i] ^= xor.max(1);
            }
            if truncate {
                rules.truncate(cut.index(rules.len()));
            }
        });
        match verify_pack(&bytes, &Limits::default()) {
            Ok(_) => touch_everything(&bytes),
            Err(PackError::Invalid(reason)) => prop_assert!(reason.contains("meta.time_zone_rules"), "{}", reason),
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }

    #[test]
    fn resized_vectors_never_panic(at in any::<prop::sample::Index>(), len in prop_oneof![Just(0u32), Just(1), Just(u32::MAX), Just(0x7fff_ffff), 0u32..100_000]) {
        // Find a little-endian u32 that looks like a small vector length and change it.
        let mut bytes = MINI.with(|m| m.clone());
        let candidates: Vec<usize> = (0..bytes.len() / 4)
            .map(|i| i * 4)
            .filter(|&i| {
                let v = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
                (1..64).contains(&v)
            })
            .collect();
        let i = candidates[at.index(candidates.len())];
        bytes[i..i + 4].copy_from_slice(&len.to_le_bytes());
        touch_everything(&bytes);
    }
}

thread_local! {
    static MINI: Vec<u8> = mini_bytes();
}
