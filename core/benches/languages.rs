//! What choosing a text's language costs, through `Guide`, on the synthetic city of `common` with its texts in the
//! eight languages of Varna's packs:
//!
//! - **nearby50**: `Guide::nearby` for 50 places (name, summary, category name each) for a reader whose first
//!   language falls back through CLDR's chain (`de-AT` → `de`), and for one whose languages the pack lacks (`ja`,
//!   `ko`: every field ends at the pack's default);
//! - **resolve**: the one-call `text::lang::resolve` for one eight-language field, which works the chains out on
//!   every call (the guide does that once per reader and once per pack).
//!
//! `cargo bench -p cityguide-core --bench languages`

mod common;

use std::hint::black_box;
use std::time::Duration;

use cityguide_core::pack::model::Texts;
use cityguide_core::pack::write_pack;
use cityguide_core::text::lang;
use cityguide_core::{Guide, GuideConfig, LatLon, NearbyQuery};
use criterion::{Criterion, criterion_group, criterion_main};

/// Varna's languages.
const LANGS: [&str; 8] = ["bg", "de", "en", "fr", "ro", "ru", "tr", "uk"];

/// Every language gets the text of `texts` (Bulgarian or English) with its tag appended.
fn in_all_languages(texts: &Texts) -> Texts {
    let base = texts.get("en").or_else(|| texts.get("bg")).cloned().unwrap_or_default();
    if base.is_empty() {
        return Texts::new();
    }
    LANGS.iter().map(|l| (l.to_string(), format!("{base} ({l})"))).collect()
}

fn languages(c: &mut Criterion) {
    let mut content = common::content(2_000);
    content.meta.languages = LANGS.iter().map(|l| l.to_string()).collect();
    content.meta.name = in_all_languages(&content.meta.name);
    for cat in &mut content.categories {
        cat.name = in_all_languages(&cat.name);
    }
    for p in &mut content.places {
        p.name = in_all_languages(&p.name);
        p.summary = in_all_languages(&p.summary);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let guide = Guide::open(GuideConfig::new(dir.path(), ["de-AT", "en"])).expect("open");
    guide.install_pack_bytes(write_pack(&content).expect("write_pack")).expect("install");
    let at = LatLon::new(content.places[0].lat, content.places[0].lon).expect("a valid position");

    let mut g = c.benchmark_group("languages");
    g.sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    for reader in [["de-AT", "en"], ["ja", "ko"]] {
        let reader: Vec<String> = reader.iter().map(|s| s.to_string()).collect();
        guide.set_languages(&reader);
        g.bench_function(format!("nearby50/{}", reader.join(",")), |b| {
            b.iter(|| black_box(guide.nearby("synth", &NearbyQuery::new(at, 50), None).expect("nearby")))
        });
    }
    let field = in_all_languages(&content.places[0].name);
    let reader = vec!["de-AT".to_owned(), "en".to_owned()];
    g.bench_function("resolve/one_call", |b| b.iter(|| black_box(lang::resolve(&field, &reader, "bg"))));
    g.finish();
}

criterion_group!(benches, languages);
criterion_main!(benches);
