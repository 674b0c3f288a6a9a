//! The reader's languages end to end: every locale tag Android and iOS write for the languages CLDR knows opens the
//! guide and reaches its text; CLDR's fallback chains pick the closest text; and no string at all stops the guide.
//!
//! Where the locales come from (ICU4X's compiled data, so the list follows CLDR when ICU4X is updated):
//! - the locales CLDR has data for: the ids of the compiled exemplar-characters data, a marker with data per locale.
//!   `icu_locale`'s own baked provider cannot list its ids, but `icu_locale_data`'s macro implements
//!   `IterableDataProvider` when invoked with `ITER`, which this test does on a provider of its own (dev-dependencies
//!   only: the phone library does not carry it);
//! - every language of CLDR's likely subtags (`LocaleLikelySubtagsExtendedV1`, some 7,000), written the ways phones
//!   write it: alone, with its likely region, its likely script, and both (`aa`, `aa-ET`, `aa-Latn`, `aa-Latn-ET`).
//!
//! Each is tried plain, with Android 14's regional preferences (`-u-mu-celsius-fw-mon`), with iOS's region override
//! (`-u-rg-gbzzzz`) and with `_` separators (iOS's `Locale.identifier`).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use cityguide_core::pack::model::Texts;
use cityguide_core::text::lang::{self, LanguageList, MAX_LANGUAGES, MAX_TAG_LEN};
use cityguide_core::{Guide, GuideConfig, LanguageChoice, SkipReason};
use cityguide_publisher::build::{BuildOptions, build_pack};
use icu_locale::provider::{Baked, LocaleExemplarCharactersMainV1, LocaleLikelySubtagsExtendedV1};
use icu_locale::{LocaleCanonicalizer, LocaleFallbacker};
use icu_locale_core::{LanguageIdentifier, Locale};
use icu_provider::IterableDataProvider;
use icu_provider::prelude::*;
use proptest::prelude::*;

/// The crate names `icu_locale_data`'s baked-data macros refer to.
mod icu {
    pub use icu_collections as collections;
    pub use icu_locale as locale;
}

/// ICU4X's compiled exemplar-character data, iterable: its ids are the locales CLDR has data for.
struct CldrLocales;

const _: () = {
    use icu_locale_data::*;
    make_provider!(CldrLocales);
    impl_locale_exemplar_characters_main_v1!(CldrLocales, ITER);
};

/// The locales CLDR has data for (`sr-Latn`, `zh-Hant`, `yue-Hans`, `de-CH`, `el-polyton`...), without the root.
fn cldr_locales() -> Vec<String> {
    let ids = IterableDataProvider::<LocaleExemplarCharactersMainV1>::iter_ids(&CldrLocales).expect("iterable data");
    ids.iter().map(|id| id.locale.to_string()).filter(|l| l != "und").collect()
}

/// Every language of CLDR's likely subtags as phones write it: alone, with its likely region, script, and both.
fn likely_subtag_tags() -> Vec<String> {
    let data: DataResponse<LocaleLikelySubtagsExtendedV1> =
        Baked.load(DataRequest::default()).expect("compiled likely subtags");
    let mut out = Vec::new();
    for (language, (script, region)) in data.payload.get().language.iter_copied_values() {
        let Ok(language) = language.try_into_tinystr() else { continue };
        let (l, s, r) = (language.as_str(), script.as_str(), region.as_str());
        out.extend([l.to_owned(), format!("{l}-{r}"), format!("{l}-{s}"), format!("{l}-{s}-{r}")]);
    }
    out
}

/// A tag the ways the platforms write it.
fn platform_forms(tag: &str) -> [String; 4] {
    [tag.to_owned(), format!("{tag}-u-mu-celsius-fw-mon"), format!("{tag}-u-rg-gbzzzz"), tag.replace('-', "_")]
}

/// What the guide should call `tag`: ICU4X's own canonical form (CLDR aliases applied).
fn canonical(tag: &str) -> String {
    let mut locale = Locale::try_from_str(tag).expect("CLDR's tags parse");
    LocaleCanonicalizer::new_common().canonicalize(&mut locale);
    locale.to_string()
}

/// Which of `offered` (bare languages) a reader of `tag` should get, worked out from ICU4X directly: the first step of
/// the tag's CLDR fallback chain that is an offered language, else the tag's own language in another script or
/// region, else the pack's default.
fn expected<'a>(tag: &str, offered: &'a BTreeSet<String>, default: &'a str) -> &'a str {
    let id = LanguageIdentifier::try_from_str(tag).expect("canonical");
    let mut steps = LocaleFallbacker::new().for_config(Default::default()).fallback_for((&id).into());
    while !steps.get().is_unknown() {
        let step = steps.get();
        if step.script.is_none() && step.region.is_none() && step.variant.is_none() {
            if let Some(l) = offered.get(step.language.as_str()) {
                return l;
            }
        }
        steps.step();
    }
    offered.get(id.language.as_str()).map_or(default, |l| l.as_str())
}

/// The test pack's languages: one per language CLDR has data for, and three that only the extended likely subtags
/// know (Hawaiian, Latin, Swiss German), each naming the museum category `Museum (<tag>)`.
fn pack_languages() -> BTreeSet<String> {
    let mut langs: BTreeSet<String> = cldr_locales()
        .iter()
        .map(|l| LanguageIdentifier::try_from_str(l).expect("CLDR's tags parse").language.to_string())
        .collect();
    langs.extend(["haw", "la", "gsw"].map(str::to_owned));
    langs
}

/// The mini city with the museum category named in every language of [`pack_languages`]; `bg` stays the default.
fn many_languages_pack(langs: &BTreeSet<String>) -> Vec<u8> {
    let src = common::copy_sources(&common::mini());
    let dir = src.path();
    let list: Vec<String> = langs.iter().map(|l| format!("{l:?}")).collect();
    common::edit(dir, "city.toml", r#"languages = ["bg", "en", "de"]"#, &format!("languages = [{}]", list.join(", ")));
    common::edit(dir, "texts/bg.csv", "category,museum,Музей,", "category,museum,Museum (bg),");
    common::edit(dir, "texts/en.csv", "category,museum,Museum,", "category,museum,Museum (en),");
    common::edit(dir, "texts/de.csv", "category,museum,Museum,", "category,museum,Museum (de),");
    for l in langs.iter().filter(|l| !["bg", "en", "de"].contains(&l.as_str())) {
        let csv = format!("type,id,name,summary,description,easy_read\ncategory,museum,Museum ({l}),,,\n");
        std::fs::write(dir.join(format!("texts/{l}.csv")), csv).expect("write texts");
    }
    match build_pack(dir, &BuildOptions { version: None, created: None }) {
        Ok(built) => built.bytes,
        Err(failed) => panic!("the test pack builds: {:?}", failed.errors().collect::<Vec<_>>()),
    }
}

fn open(dir: &Path, langs: &[String]) -> Guide {
    Guide::open(GuideConfig::new(dir, langs.iter().cloned())).expect("a language tag never stops the guide opening")
}

/// The museum category's name and language, as the guide gives it to the reader.
fn museum(g: &Guide) -> (String, String) {
    let cats = g.categories("mini", None).expect("installed");
    let name = cats.into_iter().find(|c| c.id == "museum").and_then(|c| c.name).expect("the museum has a name");
    (name.lang, name.text)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_platform_tag_for_every_cldr_language_opens_the_guide_and_finds_its_text() {
    let langs = pack_languages();
    let tmp = tempfile::tempdir().expect("tmp");
    let g = open(tmp.path(), &[]);
    g.install_pack_bytes(many_languages_pack(&langs)).expect("installs");
    let texts: Texts = langs.iter().map(|l| (l.clone(), format!("Museum ({l})"))).collect();

    let cldr = cldr_locales();
    let likely = likely_subtag_tags();
    assert!(cldr.len() > 150, "CLDR has data for {} locales", cldr.len());
    assert!(likely.len() > 4 * 5_000, "likely subtags know {} languages", likely.len() / 4);
    let mut tried = 0usize;
    let mut own_language = 0usize;
    for base in cldr.iter().chain(&likely) {
        let want_tag = canonical(base);
        let want = expected(&want_tag, &langs, "bg");
        let language = LanguageIdentifier::try_from_str(&want_tag).expect("canonical").language;
        for form in platform_forms(base) {
            let choice = g.set_languages(std::slice::from_ref(&form));
            assert_eq!(choice.used, [want_tag.as_str()], "{form:?} is used as {want_tag}: {choice:?}");
            let got = museum(&g);
            assert_eq!((got.0.as_str(), got.1.as_str()), (want, format!("Museum ({want})").as_str()), "{form:?}");
            tried += 1;
            own_language += usize::from(langs.contains(language.as_str()) && want == language.as_str());
        }
    }
    assert_eq!(tried, 4 * (cldr.len() + likely.len()));
    // Nearly every tag whose language the pack has gets exactly that language; the few others follow CLDR's parents
    // into another language the pack has (`hi-Latn` → `en-IN` → `en`, `nb` → `no`), which `expected` accounts for.
    assert!(own_language > 4 * cldr.len(), "{own_language} tags found their own language");

    // The one-call `resolve` agrees with the guide's ranking, form for form.
    for base in &cldr {
        for form in platform_forms(base) {
            g.set_languages(std::slice::from_ref(&form));
            let got = museum(&g);
            let one_call = lang::resolve(&texts, std::slice::from_ref(&form), "bg").expect("a text");
            assert_eq!((got.0.as_str(), got.1.as_str()), one_call, "{form:?}");
        }
    }
}

#[test]
fn guide_opens_with_every_cldr_locale_in_every_platform_form() {
    let langs = pack_languages();
    let tmp = tempfile::tempdir().expect("tmp");
    open(tmp.path(), &[]).install_pack_bytes(many_languages_pack(&langs)).expect("installs");
    let mut all = Vec::new();
    for base in cldr_locales() {
        let want_tag = canonical(&base);
        for form in platform_forms(&base) {
            let g = open(tmp.path(), std::slice::from_ref(&form));
            assert_eq!(
                g.language_choice(),
                LanguageChoice { used: vec![want_tag.clone()], skipped: vec![] },
                "{form:?}"
            );
            assert_eq!(museum(&g).0, expected(&want_tag, &langs, "bg"), "{form:?}");
            all.push(form);
        }
    }
    // All of them at once: the first MAX_LANGUAGES distinct ones are used, the rest reported, nothing fails.
    let g = open(tmp.path(), &all);
    let choice = g.language_choice();
    assert_eq!(choice.used.len(), MAX_LANGUAGES);
    assert_eq!(choice.used.len() + choice.skipped.len(), all.len());
    assert!(choice.skipped.iter().all(|s| matches!(s.reason, SkipReason::Duplicate | SkipReason::TooMany)));
    assert_eq!(museum(&g).0, expected(&choice.used[0], &langs, "bg"), "the first language leads");
}

#[test]
fn cldr_chains_choose_the_closest_text() {
    let t: Texts = ["bg", "de", "en", "he", "no", "pt", "sr", "sr-Latn", "zh", "zh-Hant"]
        .into_iter()
        .map(|l| (l.to_owned(), format!("text in {l}")))
        .collect();
    let r = |p: &[&str]| lang::resolve(&t, &strings(p), "bg").map(|(l, _)| l.to_owned()).expect("a text");
    // Chinese: Traditional readers get zh-Hant, never plain zh (CLDR's likely subtags make it Simplified) first.
    for hant in ["zh-Hant-TW", "zh-TW", "zh-HK", "zh-Hant-HK", "zh_Hant_TW", "zh-Hant"] {
        assert_eq!(r(&[hant]), "zh-Hant", "{hant}");
    }
    for hans in ["zh-Hans-CN", "zh-CN", "zh-SG", "zh"] {
        assert_eq!(r(&[hans]), "zh", "{hans}");
    }
    // Serbian: the Latin script over Cyrillic sr (which `sr` alone means), and the other way round.
    assert_eq!(r(&["sr-Latn"]), "sr-Latn");
    assert_eq!(r(&["sr-Latn-RS"]), "sr-Latn");
    assert_eq!(r(&["sh"]), "sr-Latn", "CLDR's alias for Serbo-Croatian");
    assert_eq!(r(&["sr-RS"]), "sr");
    assert_eq!(r(&["sr-Cyrl"]), "sr");
    // Regions fall back to their language; Norwegian Bokmål to Norwegian; deprecated codes to their successors.
    assert_eq!(r(&["pt-BR"]), "pt");
    assert_eq!(r(&["pt-PT"]), "pt");
    assert_eq!(r(&["nb"]), "no");
    assert_eq!(r(&["nb-NO"]), "no");
    assert_eq!(r(&["de-AT"]), "de");
    assert_eq!(r(&["de-CH", "en"]), "de");
    assert_eq!(r(&["en-GB"]), "en");
    assert_eq!(r(&["en-US-u-rg-gbzzzz"]), "en");
    assert_eq!(r(&["iw-IL"]), "he", "Android's old code for Hebrew");
    // Later languages only when the earlier ones' chains have nothing.
    assert_eq!(r(&["ja", "de-AT", "en"]), "de");
    assert_eq!(r(&["ja"]), "bg", "then the pack's default");

    // Without zh-Hant, a Traditional reader's next language comes first, then Simplified, then the default.
    let no_hant: Texts = t.iter().filter(|(l, _)| *l != "zh-Hant").map(|(l, x)| (l.clone(), x.clone())).collect();
    let offered = LanguageList::offered(no_hant.keys());
    let ranking = offered.ranking(&LanguageList::new(&["zh-Hant-TW", "en"]));
    assert_eq!(ranking.tags(), ["en", "zh"]);
    assert_eq!(ranking.pick_texts(&no_hant, "bg"), Some(("en", "text in en")));
    let alone = offered.ranking(&LanguageList::new(&["zh-Hant-TW"]));
    assert_eq!(alone.pick_texts(&no_hant, "bg"), Some(("zh", "text in zh")), "other script before the default");
    let with_hant = LanguageList::offered(t.keys()).ranking(&LanguageList::new(&["zh-Hant-TW", "en"]));
    assert_eq!(with_hant.tags(), ["zh-Hant", "en", "zh"]);

    // Siblings: a text in another region of the same language once the chain reaches their common parent.
    let regions: Texts = [("bg", "bg"), ("en-GB", "en-GB"), ("pt-PT", "pt-PT"), ("nn", "nn"), ("es", "es")]
        .into_iter()
        .map(|(l, x)| (l.to_owned(), x.to_owned()))
        .collect();
    let r = |p: &[&str]| lang::resolve(&regions, &strings(p), "bg").map(|(l, _)| l.to_owned()).expect("a text");
    assert_eq!(r(&["pt-BR", "es"]), "pt-PT", "European Portuguese before the reader's Spanish");
    assert_eq!(r(&["en-US"]), "en-GB");
    assert_eq!(r(&["nb", "es"]), "nn", "Nynorsk shares Norwegian with Bokmål");
}

/// Tags no phone should send, and what the guide says about each.
fn unusable() -> Vec<(String, SkipReason)> {
    let mut v: Vec<(String, SkipReason)> = [
        ("", SkipReason::Empty),
        ("  ", SkipReason::Empty),
        ("_", SkipReason::Malformed),
        ("-", SkipReason::Malformed),
        ("en-", SkipReason::Malformed),
        ("en__US", SkipReason::Malformed),
        ("english", SkipReason::Malformed),
        ("b+sr+Latn", SkipReason::Malformed),
        ("en\0", SkipReason::Malformed),
        ("\0", SkipReason::Malformed),
        ("日本語", SkipReason::Malformed),
        ("en-US\u{1F4A5}", SkipReason::Malformed),
        ("\u{FFFD}\u{200B}", SkipReason::Malformed),
        ("x-private", SkipReason::Malformed),
        ("und", SkipReason::NoLanguage),
        ("zxx", SkipReason::NoLanguage),
    ]
    .into_iter()
    .map(|(t, r)| (t.to_owned(), r))
    .collect();
    v.push(("a".repeat(300), SkipReason::TooLong));
    v.push((format!("en-{}", "abcdefgh-".repeat(33)), SkipReason::TooLong));
    v.push(("ж".repeat(150), SkipReason::TooLong));
    v
}

#[test]
fn unusable_tags_are_skipped_and_reported_never_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = unusable();
    let mut list: Vec<String> = bad.iter().map(|(t, _)| t.clone()).collect();
    list.push("en_US".into());
    list.push("en-US".into());
    let g = open(tmp.path(), &list);
    g.install_pack_bytes(build_pack(&common::mini(), &BuildOptions::default()).expect("builds").bytes)
        .expect("installs");
    let choice = g.language_choice();
    assert_eq!(choice.used, ["en-US"], "en_US is accepted as en-US");
    let reasons: Vec<SkipReason> = choice.skipped.iter().map(|s| s.reason).collect();
    let mut want: Vec<SkipReason> = bad.iter().map(|(_, r)| *r).collect();
    want.push(SkipReason::Duplicate);
    assert_eq!(reasons, want);
    assert!(choice.skipped.iter().all(|s| s.tag.len() <= MAX_TAG_LEN + '…'.len_utf8()), "the report stays small");
    assert_eq!(museum(&g).0, "en");

    // A list with nothing usable, or no list: the pack's default language.
    let only_bad: Vec<String> = bad.iter().map(|(t, _)| t.clone()).collect();
    let choice = g.set_languages(&only_bad);
    assert!(choice.used.is_empty());
    assert_eq!(choice.skipped.len(), only_bad.len());
    assert_eq!(g.languages(), Vec::<String>::new());
    assert_eq!(museum(&g).0, "bg");
    assert!(g.set_languages(&[]).used.is_empty());
    assert_eq!(museum(&g).0, "bg");
    // A query's own list works the same way.
    let over = strings(&["", "de-AT"]);
    let cats = g.categories("mini", Some(&over)).expect("installed");
    assert_eq!(cats[0].name.as_ref().map(|n| n.lang.as_str()), Some("de"));
}

/// One guide with the mini city, shared by the property tests' cases.
fn shared_guide() -> &'static Guide {
    static GUIDE: OnceLock<(tempfile::TempDir, Guide)> = OnceLock::new();
    &GUIDE
        .get_or_init(|| {
            let tmp = tempfile::tempdir().expect("tmp");
            let g = open(tmp.path(), &[]);
            g.install_pack_bytes(build_pack(&common::mini(), &BuildOptions::default()).expect("builds").bytes)
                .expect("installs");
            (tmp, g)
        })
        .1
}

/// Strings that look like tags: letters, digits and separators, so the ICU4X parser's paths are exercised too.
fn tag_like() -> impl Strategy<Value = String> {
    "[a-zA-Z]{0,9}([-_@=][a-zA-Z0-9]{0,9}){0,7}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_strings_never_panic_nor_stop_the_guide(
        tags in prop::collection::vec(prop_oneof![any::<String>(), tag_like()], 0..12),
    ) {
        let g = shared_guide();
        let choice = g.set_languages(&tags);
        prop_assert_eq!(choice.used.len() + choice.skipped.len(), tags.len(), "every tag is accounted for");
        prop_assert!(choice.used.len() <= MAX_LANGUAGES);
        for used in &choice.used {
            prop_assert_eq!(lang::reader_tag(used), Ok(used.clone()), "used tags are canonical");
        }
        // Whatever the list, every name still resolves to some text of the pack.
        let (l, text) = museum(g);
        prop_assert!(!l.is_empty() && !text.is_empty());
        prop_assert!(lang::resolve(&Texts::new(), &tags, "bg").is_none());
        // The publisher's strict check never panics either, and its answers are canonical.
        if let Some(tag) = tags.first().and_then(|t| lang::canonical_tag(t)) {
            prop_assert_eq!(lang::canonical_tag(&tag), Some(tag.clone()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_strings_never_stop_the_guide_opening(tags in prop::collection::vec(any::<String>(), 0..6)) {
        let tmp = tempfile::tempdir().expect("tmp");
        let g = Guide::open(GuideConfig::new(tmp.path(), tags.iter().cloned()));
        prop_assert!(g.is_ok(), "{:?}", g.err());
        let choice = g.map(|g| g.language_choice()).unwrap_or_default();
        prop_assert_eq!(choice.used.len() + choice.skipped.len(), tags.len());
    }
}
