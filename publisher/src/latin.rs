//! The general transliteration a pack carries: the publisher looks up the Latin form of every non-ASCII character
//! its texts use in the `any_ascii` tables and stores exactly those in the pack, so phones search any script without
//! carrying the tables for all of Unicode (about 0.57 MB of the phone library).
//!
//! The lookup is per character, which is how `any_ascii` works too, so a phone using the pack's table transliterates
//! every text of the pack exactly as `any_ascii` would.

use std::collections::BTreeMap;

use cityguide_core::pack::model::{Content, Texts};
use cityguide_core::text::translit::CharLatin;

/// The `any_ascii` tables, as a [`CharLatin`] table that knows every character.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyAscii;

impl CharLatin for AnyAscii {
    fn latin(&self, c: char) -> Option<&str> {
        Some(any_ascii::any_ascii_char(c))
    }
}

/// The table for `content`: the Latin form of every non-ASCII character of its texts (names, summaries,
/// descriptions, easy-read texts, addresses, category and tour texts, the city's name, consultations).
pub fn latin_table(content: &Content) -> BTreeMap<char, String> {
    let mut chars = std::collections::BTreeSet::new();
    let mut add = |s: &str| chars.extend(s.chars().filter(|c| !c.is_ascii()));
    let mut texts = |t: &Texts| t.values().for_each(|s| add(s));
    texts(&content.meta.name);
    for c in &content.categories {
        texts(&c.name);
    }
    for p in &content.places {
        for t in [&p.name, &p.summary, &p.description, &p.easy_read] {
            texts(t);
        }
        for m in &p.media {
            texts(&m.alt);
        }
    }
    for t in &content.tours {
        for x in [&t.title, &t.summary, &t.description, &t.easy_read] {
            texts(x);
        }
    }
    for c in &content.consultations {
        for x in [&c.title, &c.question, &c.description] {
            texts(x);
        }
        for o in &c.options {
            texts(&o.label);
            texts(&o.description);
        }
    }
    for p in &content.places {
        let a = &p.address;
        for s in [&a.street, &a.housenumber, &a.postcode, &a.locality].into_iter().flatten() {
            add(s);
        }
    }
    chars.into_iter().map(|c| (c, any_ascii::any_ascii_char(c).to_owned())).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_transliterates_the_texts_exactly_as_any_ascii_does() {
        let mini = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/varna");
        let built = crate::build::build_pack(&mini, &Default::default()).expect("varna builds");
        let table = &built.content.latin;
        assert!(table.len() > 30, "Cyrillic and more: {} characters", table.len());
        assert!(table.keys().all(|c| !c.is_ascii()));
        for p in &built.content.places {
            for text in p.name.values().chain(p.summary.values()) {
                assert_eq!(
                    cityguide_core::text::translit::to_latin(text, None, table),
                    any_ascii::any_ascii(text),
                    "{text}"
                );
            }
        }
    }
}
