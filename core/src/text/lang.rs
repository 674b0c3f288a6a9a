//! Language tags and text resolution, on CLDR data through ICU4X.
//!
//! Packs carry texts in many languages and readers ask for theirs. This module exists so that both sides speak the
//! same BCP 47 and the reader gets the text CLDR says is closest, whatever tag their phone sends:
//!
//! - **Readers' tags are never a reason to fail.** [`reader_tag`] accepts what Android (`LocaleList.toLanguageTags()`,
//!   with Android 14's `-u-mu-celsius`, `-u-fw-mon` preferences) and iOS (`Locale.preferredLanguages`,
//!   `Locale.identifier` with `_` and `@rg=gbzzzz` keywords) produce; parses it with ICU4X (`icu_locale_core`);
//!   replaces deprecated codes CLDR has aliases for (`iw` → `he`, `in` → `id`, `tl` → `fil`, `sh` → `sr-Latn`),
//!   and keeps language, script, region and variants, dropping extensions that do not change which text to show.
//!   [`LanguageChoice::from_tags`] does that for a whole list and says, per tag, why one was skipped.
//! - **Publishers' tags are strict.** [`canonical_tag`] refuses typos like `bu`: a pack's language must be one CLDR's
//!   likely-subtags data knows.
//! - **Fallback follows CLDR.** Each tag goes through ICU4X's `LocaleFallbacker` (CLDR parent locales and likely
//!   subtags): `de-AT` → `de`, `pt-BR` → `pt`, `en-GB` → `en-001` → `en`, `nb` → `no`, `zh-Hant-TW` → `zh-TW` →
//!   `zh-Hant` (never plain `zh`, which CLDR's likely subtags make Simplified), `sr-Latn` alone (never Cyrillic `sr`).
//!   We chose the fallbacker over `fluent-langneg` because fluent-langneg knows likely subtags for a handful of
//!   languages only and no parent locales, so it cannot give `nb` → `no` or `en-IN` → `en-001`.
//!
//! Resolution order ([`Ranking`]): for each of the reader's languages in turn, each step of its fallback chain, first a
//! text in exactly that locale, then one whose own chain passes through it (a sibling: `en-GB` for an `en-US` reader
//! once `en` is reached, `pt-PT` for `pt-BR`, `nn` for `nb`); after all of the reader's languages, a text in the same
//! language in another script (`sr` Cyrillic for `sr-Latn`, Simplified `zh` for `zh-Hant`) rather than a language
//! the reader did not ask for; then the pack's default language; then any text. The answer always says which
//! language it is in.
//!
//! Speed: chains are worked out once per list ([`LanguageList`]: the reader's when the guide's languages are set, the
//! pack's when a city is loaded); [`LanguageList::ranking`] then costs a few string comparisons per query, and
//! [`Ranking::pick`] a lookup per field.

use std::fmt;

use icu_locale::fallback::LocaleFallbackConfig;
use icu_locale::{LocaleCanonicalizer, LocaleExpander, LocaleFallbacker, TransformResult};
use icu_locale_core::subtags::{Language, language};
use icu_locale_core::{LanguageIdentifier, Locale};

use crate::pack::model::Texts;

/// Longest reader's tag looked at, in bytes. The longest real tags (every Android 14 regional preference, or an iOS
/// identifier with several keywords) stay under 64 bytes; a longer one is not a language and is skipped unparsed.
pub const MAX_TAG_LEN: usize = 128;

/// Most languages a reader's list keeps; the rest are skipped as [`SkipReason::TooMany`]. Phones list a handful.
pub const MAX_LANGUAGES: usize = 32;

/// Why a reader's language tag was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Empty, or only white space.
    Empty,
    /// Longer than [`MAX_TAG_LEN`] bytes.
    TooLong,
    /// Not a BCP 47 tag (nor one with `_` separators or `@` keywords), e.g. `english`, `en-`, `b+sr+Latn`.
    Malformed,
    /// A tag that names no language: `und` (undetermined), `mul` (several), `mis` (uncoded) or `zxx` (no
    /// linguistic content). No text can be in it.
    NoLanguage,
    /// The same language as an earlier tag of the list once canonical (`en_US` after `en-US`, or `en-US-u-mu-celsius`).
    Duplicate,
    /// Past the first [`MAX_LANGUAGES`] usable tags.
    TooMany,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Empty => "empty",
            SkipReason::TooLong => "too long",
            SkipReason::Malformed => "not a BCP 47 language tag",
            SkipReason::NoLanguage => "names no language",
            SkipReason::Duplicate => "repeats an earlier language",
            SkipReason::TooMany => "too many languages",
        })
    }
}

/// A reader's tag that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedTag {
    /// The tag as given (cut to [`MAX_TAG_LEN`] bytes and marked with `…` when longer, so a report stays small).
    pub tag: String,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// What the guide made of a reader's list of languages: the tags it uses, canonical and in order, and the ones it
/// skipped. A skipped tag never stops anything; when every tag is skipped, texts come in the pack's default language.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LanguageChoice {
    /// Canonical BCP 47 tags in use, most preferred first (e.g. `en-US`, `sr-Latn`, `he` for `iw`).
    pub used: Vec<String>,
    /// Tags that were not used, in the order given.
    pub skipped: Vec<SkippedTag>,
}

impl LanguageChoice {
    /// Reads a reader's list, most preferred first: each tag through [`reader_tag`], repeats and tags past
    /// [`MAX_LANGUAGES`] skipped. Never fails and never panics, whatever the strings hold.
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> LanguageChoice {
        let mut choice = LanguageChoice::default();
        for raw in tags {
            let raw = raw.as_ref();
            let reason = match reader_tag(raw) {
                Ok(tag) if choice.used.contains(&tag) => SkipReason::Duplicate,
                Ok(_) if choice.used.len() >= MAX_LANGUAGES => SkipReason::TooMany,
                Ok(tag) => {
                    choice.used.push(tag);
                    continue;
                }
                Err(reason) => reason,
            };
            choice.skipped.push(SkippedTag { tag: shortened(raw), reason });
        }
        choice
    }
}

/// `tag` cut to [`MAX_TAG_LEN`] bytes at a character boundary, with `…` when cut.
fn shortened(tag: &str) -> String {
    if tag.len() <= MAX_TAG_LEN {
        return tag.to_owned();
    }
    let mut end = MAX_TAG_LEN;
    while !tag.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &tag[..end])
}

/// Languages that label no text: undetermined, multiple, uncoded, no linguistic content.
const NO_LANGUAGE: [Language; 4] = [language!("und"), language!("mul"), language!("mis"), language!("zxx")];

/// The canonical form of a reader's language tag, or why it cannot be used.
///
/// Accepts BCP 47 in any case (`EN-us` → `en-US`), and as conveniences for the platforms, `_` for `-` (`en_US`,
/// `zh_Hant_TW` from iOS's `Locale.identifier`), `@` keywords after it (`en_GB@rg=gbzzzz`), and white space around
/// it. Replaces deprecated subtags by CLDR's aliases (`iw` → `he`, `in-ID` → `id-ID`, `tl` → `fil`, `sh` →
/// `sr-Latn`) and drops extensions and private use (`-u-mu-celsius`, `-u-rg-gbzzzz`, `-x-…`): they change units and
/// formats, not which text to show. Keeps language, script, region and variants. Never panics.
pub fn reader_tag(tag: &str) -> Result<String, SkipReason> {
    if tag.len() > MAX_TAG_LEN {
        return Err(SkipReason::TooLong);
    }
    let tag = tag.trim_matches(|c: char| c.is_ascii_whitespace());
    if tag.is_empty() {
        return Err(SkipReason::Empty);
    }
    // ICU's own identifiers put keywords after `@` (`en_US@calendar=japanese`): they are formatting choices too.
    let tag = tag.split_once('@').map_or(tag, |(id, _)| id);
    let id = canonical_id(parse_lenient(tag).ok_or(SkipReason::Malformed)?);
    if NO_LANGUAGE.contains(&id.language) {
        return Err(SkipReason::NoLanguage);
    }
    Ok(id.to_string())
}

/// Parses the language identifier of a BCP 47 tag (`_` accepted for `-`), stopping at the first extension: what
/// follows cannot change the language, and not parsing it keeps the extension parsers out of the phone library.
fn parse_lenient(tag: &str) -> Option<LanguageIdentifier> {
    if tag.contains('_') {
        LanguageIdentifier::try_from_locale_bytes(tag.replace('_', "-").as_bytes()).ok()
    } else {
        LanguageIdentifier::try_from_locale_bytes(tag.as_bytes()).ok()
    }
}

/// `id` with CLDR's aliases applied (`iw` → `he`, `sh` → `sr-Latn`).
fn canonical_id(id: LanguageIdentifier) -> LanguageIdentifier {
    let mut locale = Locale::from(id);
    // `Unmodified` and `Modified` both leave a valid locale.
    let _: TransformResult = LocaleCanonicalizer::new_common().canonicalize(&mut locale);
    locale.id
}

/// Checks a publisher's language tag and returns it in canonical form, or `None` when it is not a language CLDR knows.
///
/// Strict, so a typo in a city's sources (`bu` for Bulgarian, `english`) is caught when the pack is built rather than
/// shipped: the tag must be BCP 47 `language[-Script][-REGION][-variant…]` (`_` is accepted for `-`, as it always
/// was), without extensions or private use; CLDR's aliases are applied (`iw` → `he`, `tl` → `fil`); and the language
/// must be one CLDR's likely-subtags data knows (ICU4X's extended set: some 7,000 languages, `fil`, `yue`, `ast`,
/// `haw`, `la` among them). Only the publisher's build uses the extended data, so phones do not carry it.
pub fn canonical_tag(tag: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.is_empty() || tag.len() > MAX_TAG_LEN {
        return None;
    }
    let id = if tag.contains('_') {
        LanguageIdentifier::try_from_str(&tag.replace('_', "-")).ok()?
    } else {
        LanguageIdentifier::try_from_str(tag).ok()?
    };
    let id = canonical_id(id);
    known_language(id.language).then(|| id.to_string())
}

/// Whether CLDR's likely subtags know `language` (for `und`, which they map to English, no).
fn known_language(language: Language) -> bool {
    if language.is_unknown() {
        return false;
    }
    // Maximizing a bare language adds a script and a region exactly when the data has the language.
    let mut id = LanguageIdentifier::from((language, None, None));
    LocaleExpander::new_extended().maximize(&mut id) == TransformResult::Modified
}

/// One tag with its CLDR fallback chain.
#[derive(Debug, Clone)]
struct Entry {
    /// The tag: canonical for a reader's list, verbatim for the languages a pack offers (it is the key of the texts).
    tag: String,
    /// The fallback chain, most specific first, without the root: `zh-Hant-TW` gives `zh-TW`, `zh-Hant`.
    chain: Vec<String>,
    /// The language subtag, for the same-language-other-script step.
    language: Option<Language>,
}

impl Entry {
    fn new(tag: String, id: Option<LanguageIdentifier>) -> Entry {
        let Some(id) = id else { return Entry { tag, chain: Vec::new(), language: None } };
        let mut chain = Vec::new();
        let mut steps = LocaleFallbacker::new().for_config(LocaleFallbackConfig::default()).fallback_for((&id).into());
        // CLDR chains are a few steps; the bound only guards against a data error looping.
        while !steps.get().is_unknown() && chain.len() < 16 {
            chain.push(steps.get().to_string());
            steps.step();
        }
        Entry { tag, chain, language: Some(id.language) }
    }
}

/// A list of language tags with their CLDR fallback chains, worked out once: a reader's languages (from
/// [`LanguageList::new`]) or the languages a pack offers (from [`LanguageList::offered`]).
#[derive(Debug, Clone, Default)]
pub struct LanguageList {
    entries: Vec<Entry>,
}

impl LanguageList {
    /// A reader's languages, most preferred first, read as [`LanguageChoice::from_tags`] reads them (tags it would
    /// skip are left out).
    pub fn new<S: AsRef<str>>(tags: &[S]) -> LanguageList {
        LanguageList::from_choice(&LanguageChoice::from_tags(tags))
    }

    /// A reader's languages from a choice already made.
    pub fn from_choice(choice: &LanguageChoice) -> LanguageList {
        let entries =
            choice.used.iter().map(|t| Entry::new(t.clone(), LanguageIdentifier::try_from_str(t).ok())).collect();
        LanguageList { entries }
    }

    /// The languages a pack offers, as its texts are keyed. Tags are kept verbatim (so a text is found by its key);
    /// their chains come from the canonical form, and a tag that does not parse is only ever matched as the default.
    pub fn offered<S: AsRef<str>>(tags: impl IntoIterator<Item = S>) -> LanguageList {
        let entries = tags
            .into_iter()
            .map(|t| {
                let t = t.as_ref();
                let id = (t.len() <= MAX_TAG_LEN).then(|| parse_lenient(t)).flatten().map(canonical_id);
                Entry::new(t.to_owned(), id)
            })
            .collect();
        LanguageList { entries }
    }

    /// The tags, in order.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.tag.as_str())
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The languages of this list (a pack's offer) that suit `reader`, best first, in the order the module's
    /// documentation gives. Languages that suit the reader in no way are left out: they come after the default.
    pub fn ranking(&self, reader: &LanguageList) -> Ranking {
        let mut ranked: Vec<((u8, usize, usize, usize), usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(at, offered)| rank(offered, reader).map(|r| (r, at)))
            .collect();
        ranked.sort_unstable();
        Ranking { tags: ranked.into_iter().map(|(_, at)| self.entries[at].tag.clone()).collect() }
    }
}

/// Where an offered language stands for a reader; smaller is better. `(0, reader's tag, step of its chain, step of the
/// offered chain)` when the offered chain passes through a step of the reader's (0 at the offered side: exactly that
/// locale); `(1, reader's tag, 0, 0)` for the same language in another script; `None` when it does not suit at all.
fn rank(offered: &Entry, reader: &LanguageList) -> Option<(u8, usize, usize, usize)> {
    for (i, r) in reader.entries.iter().enumerate() {
        for (j, step) in r.chain.iter().enumerate() {
            if let Some(k) = offered.chain.iter().position(|c| c == step) {
                return Some((0, i, j, k));
            }
        }
    }
    let language = offered.language?;
    reader.entries.iter().position(|r| r.language == Some(language)).map(|i| (1, i, 0, 0))
}

/// The languages a pack offers, in the order a reader should get them (see [`LanguageList::ranking`]); picks the
/// text of a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    tags: Vec<String>,
}

impl Ranking {
    /// The ranked tags, best first.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The text to show among `texts` (`(language, text)` pairs; empty texts count as missing): the best-ranked
    /// language that has one, then `default` (the pack's default language), then the first text at all. Returns
    /// `(language, text)`, so the app can mark a text that is not in the reader's language.
    pub fn pick<'t, I>(&self, texts: I, default: &str) -> Option<(&'t str, &'t str)>
    where
        I: IntoIterator<Item = (&'t str, &'t str)>,
        I::IntoIter: Clone,
    {
        let texts = texts.into_iter().filter(|(_, t)| !t.is_empty());
        let find = |want: &str| texts.clone().find(|(l, _)| *l == want);
        self.tags.iter().find_map(|want| find(want)).or_else(|| find(default)).or_else(|| texts.clone().next())
    }

    /// [`Ranking::pick`] over a [`Texts`] map.
    pub fn pick_texts<'t>(&self, texts: &'t Texts, default: &str) -> Option<(&'t str, &'t str)> {
        self.pick(texts.iter().map(|(l, t)| (l.as_str(), t.as_str())), default)
    }
}

/// Picks the text to show: the reader's languages in order, each through its CLDR fallback chain (so `pt-BR` finds
/// `pt`, `zh-Hant-TW` finds `zh-Hant` and never Simplified `zh` first), then the same language in another script,
/// then the pack's default language, then any text at all. Returns `(language, text)`, so the app can mark text that
/// is not in the reader's language.
///
/// This works the chains out on every call; to resolve many fields for one reader, keep a [`LanguageList`] for the
/// reader and one for the pack's languages, and [`Ranking::pick`] with their [`LanguageList::ranking`].
pub fn resolve<'a>(texts: &'a Texts, preferred: &[String], default: &str) -> Option<(&'a str, &'a str)> {
    let offered = LanguageList::offered(texts.iter().filter(|(_, t)| !t.is_empty()).map(|(l, _)| l));
    offered.ranking(&LanguageList::new(preferred)).pick_texts(texts, default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_tags() {
        assert_eq!(canonical_tag("bg").as_deref(), Some("bg"));
        assert_eq!(canonical_tag("PT-br").as_deref(), Some("pt-BR"));
        assert_eq!(canonical_tag("pt_BR").as_deref(), Some("pt-BR"));
        assert_eq!(canonical_tag("sr-latn").as_deref(), Some("sr-Latn"));
        assert_eq!(canonical_tag("zh-Hans-CN").as_deref(), Some("zh-Hans-CN"));
        assert_eq!(canonical_tag("ca-ES-valencia").as_deref(), Some("ca-ES-valencia"));
        for three_letters in ["fil", "yue", "ast", "haw"] {
            assert_eq!(canonical_tag(three_letters).as_deref(), Some(three_letters));
        }
        assert_eq!(canonical_tag("iw").as_deref(), Some("he"), "CLDR's alias");
        for wrong in ["bu", "english", "en-", "", "und", "zxx", "en-US-u-mu-celsius", "x-private", "en\0"] {
            assert_eq!(canonical_tag(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn reader_tags_from_the_platforms() {
        let ok = |t: &str| reader_tag(t).unwrap_or_else(|r| panic!("{t:?}: {r}"));
        assert_eq!(ok("en-US"), "en-US");
        assert_eq!(ok("en_US"), "en-US");
        assert_eq!(ok("EN-latn-us"), "en-Latn-US");
        assert_eq!(ok("fil-PH"), "fil-PH");
        assert_eq!(ok("yue-Hant-HK"), "yue-Hant-HK");
        assert_eq!(ok("es-419"), "es-419");
        assert_eq!(ok("en-US-u-rg-gbzzzz"), "en-US");
        assert_eq!(ok("de-DE-u-mu-celsius-fw-mon"), "de-DE");
        assert_eq!(ok("en_GB@rg=gbzzzz"), "en-GB");
        assert_eq!(ok("ca-ES-valencia"), "ca-ES-valencia");
        assert_eq!(ok("iw-IL"), "he-IL");
        assert_eq!(ok("in"), "id");
        assert_eq!(ok(" de "), "de");
        assert_eq!(ok("xx-YY"), "xx-YY", "a well-formed language CLDR does not know is kept: it may match exactly");
        assert_eq!(reader_tag(""), Err(SkipReason::Empty));
        assert_eq!(reader_tag("   "), Err(SkipReason::Empty));
        for bad in ["_", "-", "en-", "english", "b+sr+Latn", "en\0", "i-klingon", "ру"] {
            assert_eq!(reader_tag(bad), Err(SkipReason::Malformed), "{bad:?}");
        }
        assert_eq!(reader_tag("und"), Err(SkipReason::NoLanguage));
        assert_eq!(reader_tag(&"a".repeat(300)), Err(SkipReason::TooLong));
    }

    #[test]
    fn a_list_reports_what_it_skipped() {
        let long = format!("en-{}", "x".repeat(300));
        let choice = LanguageChoice::from_tags(&["en_US", "", "en-US-u-mu-celsius", "bu-", "de", &long]);
        assert_eq!(choice.used, ["en-US", "de"]);
        let reasons: Vec<SkipReason> = choice.skipped.iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            [SkipReason::Empty, SkipReason::Duplicate, SkipReason::Malformed, SkipReason::TooLong],
            "{choice:?}"
        );
        assert!(choice.skipped[3].tag.len() <= MAX_TAG_LEN + '…'.len_utf8(), "the report keeps a short prefix");
        let many: Vec<String> =
            (0..40u8).map(|i| format!("q{}{}", (b'a' + i / 20) as char, (b'a' + i % 20) as char)).collect();
        let choice = LanguageChoice::from_tags(&many);
        assert_eq!(choice.used.len(), MAX_LANGUAGES);
        assert!(choice.skipped.iter().all(|s| s.reason == SkipReason::TooMany));
        assert_eq!(choice.skipped.len(), 40 - MAX_LANGUAGES);
    }

    fn texts(pairs: &[(&str, &str)]) -> Texts {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn prefs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolution_order() {
        let t = texts(&[("bg", "Варна"), ("en", "Varna"), ("pt", "Varna (pt)")]);
        assert_eq!(resolve(&t, &prefs(&["de", "en"]), "bg"), Some(("en", "Varna")));
        assert_eq!(resolve(&t, &prefs(&["pt-BR"]), "bg"), Some(("pt", "Varna (pt)")));
        assert_eq!(resolve(&t, &prefs(&["ja"]), "bg"), Some(("bg", "Варна")));
        assert_eq!(resolve(&t, &prefs(&[]), "bg"), Some(("bg", "Варна")));
        assert_eq!(resolve(&Texts::new(), &prefs(&["ja"]), "bg"), None);
        let no_default = texts(&[("de", ""), ("fr", "Varna (fr)")]);
        assert_eq!(resolve(&no_default, &prefs(&["de"]), "bg"), Some(("fr", "Varna (fr)")), "empty is missing");
    }

    #[test]
    fn siblings_and_scripts_come_in_order() {
        let t = texts(&[("en-GB", "GB"), ("en-US", "US"), ("sr", "Ћирилица"), ("de", "DE"), ("bg", "BG")]);
        let r = |p: &[&str]| resolve(&t, &prefs(p), "bg").map(|(l, _)| l);
        assert_eq!(r(&["en-AU"]), Some("en-GB"), "en-AU and en-GB share en-001");
        assert_eq!(r(&["en-IN", "de"]), Some("en-GB"), "en-IN's chain passes en-001 too");
        assert_eq!(r(&["en"]), Some("en-US"), "en-US is one step from en, en-GB two (through en-001)");
        assert_eq!(r(&["sr-Latn", "de"]), Some("de"), "the reader's second language before the other script");
        assert_eq!(r(&["sr-Latn"]), Some("sr"), "the other script before the pack's default");
    }
}
