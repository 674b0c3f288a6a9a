//! The Bulgarian transliteration reproduces every official Latin settlement name in the EKATTE register, and the
//! search form is always plain folded ASCII, whatever it is given.

use std::path::{Path, PathBuf};

use cityguide_core::text::translit::{bulgarian_to_latin, query_forms, search_form};
use cityguide_publisher::latin::AnyAscii;
use proptest::prelude::*;

/// Rows in `ekatte_settlements.tsv`, header excluded.
const EKATTE_ROWS: usize = 4_626;

/// `../shared/testdata` beside the repository root (the workspace root is one level above this crate).
fn ekatte_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/bg-transliteration/ekatte_settlements.tsv")
}

#[test]
fn every_ekatte_settlement_name_transliterates_to_its_official_spelling() {
    let path = ekatte_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} (shared/ must sit beside the repository): {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("ekatte\tmunicipality\tname_bg\tname_en"), "unexpected header");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [ekatte, _municipality, name_bg, name_en] = fields[..] else {
            panic!("line {}: expected 4 tab-separated fields, got {line:?}", n + 2);
        };
        checked += 1;
        let got = bulgarian_to_latin(name_bg);
        if got != name_en {
            failures.push(format!("{ekatte} {name_bg}: expected {name_en}, got {got}"));
        }
        // The search form of the Cyrillic name equals that of the official Latin name, as a query would find it.
        assert_eq!(
            search_form(name_bg, Some("bg"), &AnyAscii),
            search_form(name_en, None, &AnyAscii),
            "{ekatte} {name_bg}"
        );
        assert!(query_forms(name_bg, &AnyAscii).contains(&search_form(name_en, None, &AnyAscii)), "{ekatte} {name_bg}");
    }
    println!("EKATTE pairs checked: {checked}, passed: {}", checked - failures.len());
    assert!(failures.is_empty(), "{} of {checked} pairs differ:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= EKATTE_ROWS, "only {checked} rows read, expected {EKATTE_ROWS}");
}

/// Whether `s` is words of ASCII lowercase letters and digits separated by single spaces.
fn is_folded(s: &str) -> bool {
    s.split(' ').all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        || s.is_empty()
}

proptest! {
    #[test]
    fn search_form_is_always_folded_ascii(text in any::<String>(), bg in any::<bool>()) {
        let form = search_form(&text, bg.then_some("bg"), &AnyAscii);
        prop_assert!(is_folded(&form), "{text:?} -> {form:?}");
    }

    #[test]
    fn search_form_of_cyrillic_and_marks_is_folded_ascii(text in "[\\u{0300}-\\u{036F}\\u{0400}-\\u{04FF} .'-]{0,40}") {
        for lang in [None, Some("bg")] {
            let form = search_form(&text, lang, &AnyAscii);
            prop_assert!(is_folded(&form), "{text:?} -> {form:?}");
        }
        for form in query_forms(&text, &AnyAscii) {
            prop_assert!(!form.is_empty() && is_folded(&form), "{text:?} -> {form:?}");
        }
    }

    #[test]
    fn search_form_is_idempotent(text in any::<String>()) {
        let form = search_form(&text, None, &AnyAscii);
        prop_assert_eq!(search_form(&form, None, &AnyAscii), form.clone());
        prop_assert_eq!(search_form(&form, Some("bg"), &AnyAscii), form);
    }
}
