//! Text folding and transliteration, so search finds a place whatever script the user types it in.
//!
//! The search index (SQLite FTS5 with `unicode61 remove_diacritics 2`) already ignores case and most diacritics
//! (*Café*, *Škoda*, *Zürich*, Cyrillic case), but it does not fold *Ё* to *Е*, *ß* to *ss*, or any script to Latin.
//! So every text is indexed twice, as written and in its *search form*: transliterated to Latin ASCII, lowercased,
//! with punctuation turned into single spaces. Queries get the same treatment, which lets *Aladzha*, *аладжа* and
//! *Аладжа манастир* all find the Aladzha Monastery, and *Ёлка* find *Елка*.
//!
//! Bulgarian text follows the official Streamlined System of the 2009 Transliteration Act ([`bulgarian_to_latin`]),
//! because that is how Bulgarian places are signed and spelt in Latin (*Жеравна* → *Zheravna*, *Щит* → *Shtit*).
//! Everything else goes through a general transliteration, one character at a time ([`to_latin`]): the values of
//! the `any_ascii` tables, which the publisher looks up for exactly the characters a pack's texts use and stores in
//! the pack ([`CharLatin`]; the phone library does not carry the half-megabyte tables for all of Unicode). The two
//! disagree on a few Cyrillic letters, most visibly *щ*: Bulgarian pronounces it /ʃt/, so the law writes `sht`,
//! while Russian pronounces it /ɕː/ and `any_ascii` (like the usual Russian romanisations) writes `shch`; likewise
//! *ъ* is `a` in Bulgarian but an apostrophe (dropped by the search form) in `any_ascii`, and *х* is `h` versus
//! `kh`. A Cyrillic query does not say which language it is in, so [`query_forms`] returns both forms and the search
//! matches either.
//!
//! ```
//! use std::collections::BTreeMap;
//! use cityguide_core::text::translit::{bulgarian_to_latin, query_forms, search_form};
//!
//! // The general values of the characters a pack uses, as the publisher stores them in the pack.
//! let table: BTreeMap<char, String> =
//!     [('é', "e"), ('ü', "u"), ('Щ', "Shch"), ('у', "u"), ('к', "k"), ('и', "i"), ('н', "n"), ('о', "o")]
//!         .into_iter()
//!         .map(|(c, l)| (c, l.to_owned()))
//!         .collect();
//! assert_eq!(bulgarian_to_latin("Аладжа манастир"), "Aladzha manastir");
//! assert_eq!(search_form("Аладжа манастир", Some("bg"), &table), "aladzha manastir");
//! assert_eq!(search_form("Café Zürich", None, &table), "cafe zurich");
//! assert_eq!(query_forms("Щукино", &table), ["shtukino", "shchukino"]);
//! ```

/// Bulgarian Cyrillic to Latin by the Streamlined System (2009 Transliteration Act), preserving case and all
/// non-Cyrillic characters.
///
/// The table is а→a б→b в→v г→g д→d е→e ж→zh з→z и→i й→y к→k л→l м→m н→n о→o п→p р→r с→s т→t у→u ф→f х→h ц→ts ч→ch
/// ш→sh щ→sht ъ→a ь→y ю→yu я→ya, with word-final *ия* → `ia` and the single exception *България* → `Bulgaria`.
/// A capital whose Latin value has several letters is written in Titlecase (*Жеравна* → `Zheravna`) unless it sits
/// in an all-caps word (*ЖЕК* → `ZHEK`). The grave-accented *ѝ* is `i`, and a decomposed *й* (*и* + combining breve)
/// is `y`. Cyrillic letters that Bulgarian does not use (*ё*, *ы*, *э*, *і*, …) are left as they are, like any other
/// non-Bulgarian character; [`to_latin`] hands them to the general table.
///
/// ```
/// use cityguide_core::text::translit::bulgarian_to_latin;
///
/// assert_eq!(bulgarian_to_latin("Щит"), "Shtit");
/// assert_eq!(bulgarian_to_latin("Горна Митрополия"), "Gorna Mitropolia");
/// assert_eq!(bulgarian_to_latin("Република България"), "Republika Bulgaria");
/// ```
pub fn bulgarian_to_latin(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(end) = bulgaria_at(&chars, i) {
            out.push_str(if c.is_lowercase() {
                "bulgaria"
            } else if chars[i..end].iter().all(|c| c.is_uppercase()) {
                "BULGARIA"
            } else {
                "Bulgaria"
            });
            i = end;
            continue;
        }
        let Some((mut lower, upper)) = bulgarian_letter(c) else {
            out.push(c);
            i += 1;
            continue;
        };
        let mut consumed = 1;
        if lower == 'и' && chars.get(i + 1) == Some(&BREVE) {
            lower = 'й';
            consumed = 2;
        }
        let end = i + consumed;
        let latin = if lower == 'я' && follows_i(&chars, i) && next_letter(&chars, end).is_none() {
            "a"
        } else {
            latin_of(lower)
        };
        if !upper {
            out.push_str(latin);
        } else if latin.len() == 1 || in_caps(&chars, i, end) {
            out.push_str(&latin.to_ascii_uppercase());
        } else {
            let (first, rest) = latin.split_at(1);
            out.push_str(&first.to_ascii_uppercase());
            out.push_str(rest);
        }
        i = end;
    }
    out
}

/// The Latin (ASCII) form of single characters, one character at a time: the general transliteration.
///
/// The publisher answers for every character with the `any_ascii` tables (it romanises Cyrillic the Russian way,
/// *щ* → `Shch`, Greek by modern pronunciation, drops Latin diacritics, spells out ligatures: *ß* → `ss`) and stores
/// the answers for the characters of a pack's texts in the pack, where the phone reads them. A `BTreeMap` of such
/// answers is a table too.
pub trait CharLatin {
    /// The Latin form of `c` (ASCII, possibly empty for marks), or `None` when the table does not know it.
    fn latin(&self, c: char) -> Option<&str>;
}

impl CharLatin for std::collections::BTreeMap<char, String> {
    fn latin(&self, c: char) -> Option<&str> {
        self.get(&c).map(String::as_str)
    }
}

/// No general transliteration at all: ASCII stays, and every other character is unknown (so the search form drops
/// it). What a pack of a format before 1.4, which carries no table, gets.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTable;

impl CharLatin for NoTable {
    fn latin(&self, _: char) -> Option<&str> {
        None
    }
}

/// Transliteration to Latin ASCII where the table knows the characters.
///
/// With `lang` `bg` or a `bg-*` tag (any case), [`bulgarian_to_latin`] runs first and the table handles what remains
/// (Latin diacritics, other scripts); other languages go straight to the table. Characters the table does not know
/// are kept as they are. The result keeps case and punctuation; see [`search_form`] for the folded form.
///
/// ```
/// use std::collections::BTreeMap;
/// use cityguide_core::text::translit::to_latin;
///
/// let table: BTreeMap<char, String> =
///     [('Щ', "Shch"), ('у', "u"), ('к', "k"), ('и', "i"), ('н', "n"), ('о', "o"), ('é', "e")]
///         .into_iter()
///         .map(|(c, l)| (c, l.to_owned()))
///         .collect();
/// assert_eq!(to_latin("Щукино", Some("ru"), &table), "Shchukino");
/// assert_eq!(to_latin("Щит, Café", Some("bg-BG"), &table), "Shtit, Cafe");
/// ```
pub fn to_latin(text: &str, lang: Option<&str>, table: &dyn CharLatin) -> String {
    let general = |text: &str| {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match (c.is_ascii(), table.latin(c)) {
                (true, _) | (false, None) => out.push(c),
                (false, Some(latin)) => out.push_str(latin),
            }
        }
        out
    };
    if lang.is_some_and(is_bulgarian) { general(&bulgarian_to_latin(text)) } else { general(text) }
}

/// The folded search form: transliterated ([`to_latin`]), lowercased ASCII letters and digits, every run of other
/// characters turned into a single space, trimmed.
///
/// Apostrophes (and backticks) are dropped rather than turned into spaces, so the general rendering of *ъ* and *ь*
/// (*Подъезд* → `Pod'ezd`) and spellings like *O'Brien* stay one word. The output only ever contains `a-z`, `0-9`
/// and single spaces between words; text with no letters or digits gives an empty string. Characters the table does
/// not know count as punctuation.
///
/// ```
/// use std::collections::BTreeMap;
/// use cityguide_core::text::translit::search_form;
///
/// let table: BTreeMap<char, String> = [('ß', "ss"), ('Ё', "E"), ('Е', "E"), ('л', "l"), ('к', "k"), ('а', "a")]
///     .into_iter()
///     .map(|(c, l)| (c, l.to_owned()))
///     .collect();
/// assert_eq!(search_form("Straße", None, &table), search_form("Strasse", None, &table));
/// assert_eq!(search_form("Ёлка", None, &table), search_form("Елка", None, &table));
/// assert_eq!(search_form("  Даскал-Атанасово! ", Some("bg"), &table), "daskal atanasovo");
/// ```
pub fn search_form(text: &str, lang: Option<&str>, table: &dyn CharLatin) -> String {
    fold_ascii(&to_latin(text, lang, table))
}

/// Search forms of a user query: several forms when the script is ambiguous, each folded like [`search_form`].
///
/// A query with Cyrillic in it gives its Bulgarian form first and then its general form (they differ on *щ*, *ъ*,
/// *х*, …), deduplicated; any other query gives its one general form. Forms that fold to nothing (a query of only
/// punctuation or spaces, or of characters the table does not know) are left out, so the result may be empty.
///
/// ```
/// use std::collections::BTreeMap;
/// use cityguide_core::text::translit::query_forms;
///
/// let table: BTreeMap<char, String> = [('Ъ', "'"), ('г', "g"), ('л', "l"), ('е', "e"), ('н', "n"), ('ü', "u")]
///     .into_iter()
///     .map(|(c, l)| (c, l.to_owned()))
///     .collect();
/// assert_eq!(query_forms("Ъглен", &table), ["aglen", "glen"]);
/// assert_eq!(query_forms("Zürich", &table), ["zurich"]);
/// assert!(query_forms(" - ", &table).is_empty());
/// ```
pub fn query_forms(query: &str, table: &dyn CharLatin) -> Vec<String> {
    let mut forms = Vec::with_capacity(2);
    if query.chars().any(is_cyrillic) {
        forms.push(search_form(query, Some("bg"), table));
    }
    forms.push(search_form(query, None, table));
    forms.dedup();
    forms.retain(|f| !f.is_empty());
    forms
}

/// Combining breve: *и* followed by it is a decomposed *й*.
const BREVE: char = '\u{0306}';

/// `bg`, `BG`, `bg-BG`, `bg_Latn`, …
fn is_bulgarian(lang: &str) -> bool {
    let primary = lang.split(['-', '_']).next().unwrap_or_default();
    primary.eq_ignore_ascii_case("bg")
}

/// Cyrillic, Cyrillic Supplement and the Cyrillic Extended blocks.
fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

/// Combining marks, which belong to the letter before them and never end a word.
fn is_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// A letter of the Bulgarian alphabet (or *ѝ*), as its lowercase form and whether it was a capital.
fn bulgarian_letter(c: char) -> Option<(char, bool)> {
    match c {
        'а'..='я' | 'ѝ' => Some((c, false)),
        'А'..='Я' | 'Ѝ' => c.to_lowercase().next().map(|lower| (lower, true)),
        _ => None,
    }
    .filter(|&(lower, _)| !matches!(lower, 'ы' | 'э'))
}

/// The Streamlined System's value for a lowercase Bulgarian letter from [`bulgarian_letter`].
fn latin_of(lower: char) -> &'static str {
    match lower {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'ѝ' => "i",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "sht",
        'ъ' => "a",
        'ь' => "y",
        'ю' => "yu",
        'я' => "ya",
        // Not reachable: `bulgarian_letter` only lets the letters above through.
        _ => "",
    }
}

/// The first letter at or after `from`, skipping combining marks; `None` when a non-letter (or the end) comes first.
fn next_letter(chars: &[char], from: usize) -> Option<char> {
    chars[from.min(chars.len())..].iter().copied().find(|&c| !is_mark(c)).filter(|c| c.is_alphabetic())
}

/// The last letter before `at`, skipping combining marks; `None` when a non-letter (or the start) comes first.
fn prev_letter(chars: &[char], at: usize) -> Option<char> {
    chars[..at].iter().rev().copied().find(|&c| !is_mark(c)).filter(|c| c.is_alphabetic())
}

/// Whether the letter at `at` comes right after an *и* (not a decomposed *й*), for word-final *ия*.
fn follows_i(chars: &[char], at: usize) -> bool {
    let before = &chars[..at];
    let marks = before.iter().rev().take_while(|&&c| is_mark(c)).count();
    let i = before.len() - marks;
    i > 0 && matches!(chars[i - 1], 'и' | 'И') && !before[i..].contains(&BREVE)
}

/// Whether the capital spanning `start..end` is part of an all-caps word: the next letter is a capital, or it ends
/// the word right after another capital.
fn in_caps(chars: &[char], start: usize, end: usize) -> bool {
    match next_letter(chars, end) {
        Some(next) => next.is_uppercase(),
        None => prev_letter(chars, start).is_some_and(char::is_uppercase),
    }
}

/// If the word *България* (any case) starts at `at`, the index just after it.
fn bulgaria_at(chars: &[char], at: usize) -> Option<usize> {
    const WORD: [char; 8] = ['б', 'ъ', 'л', 'г', 'а', 'р', 'и', 'я'];
    let end = at + WORD.len();
    let candidate = chars.get(at..end)?;
    let matches = candidate.iter().zip(WORD).all(|(&c, w)| c == w || c.to_lowercase().eq([w]));
    (matches && prev_letter(chars, at).is_none() && next_letter(chars, end).is_none()).then_some(end)
}

/// Lowercases ASCII letters and digits, drops apostrophes and backticks, and turns every other run into one space.
fn fold_ascii(latin: &str) -> String {
    let mut out = String::with_capacity(latin.len());
    let mut gap = false;
    for b in latin.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(char::from(b.to_ascii_lowercase()));
            }
            b'\'' | b'`' => {}
            _ => gap = true,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general tables the publisher uses, for every character.
    struct AnyAscii;

    impl CharLatin for AnyAscii {
        fn latin(&self, c: char) -> Option<&str> {
            Some(any_ascii::any_ascii_char(c))
        }
    }

    #[test]
    fn table_covers_the_whole_alphabet() {
        assert_eq!(bulgarian_to_latin("абвгдежзийклмнопрстуфхцчшщъьюя"), "abvgdezhziyklmnoprstufhtschshshtayyuya");
        assert_eq!(bulgarian_to_latin("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЬЮЯ"), "ABVGDEZHZIYKLMNOPRSTUFHTSCHSHSHTAYYUYA");
    }

    #[test]
    fn bulgaria_is_the_single_exception() {
        assert_eq!(bulgarian_to_latin("България"), "Bulgaria");
        assert_eq!(bulgarian_to_latin("БЪЛГАРИЯ"), "BULGARIA");
        assert_eq!(bulgarian_to_latin("в българия"), "v bulgaria");
        assert_eq!(bulgarian_to_latin("Радио България-Запад"), "Radio Bulgaria-Zapad");
        // Only the word itself: inflected and compound forms follow the table.
        assert_eq!(bulgarian_to_latin("Българията"), "Balgariyata");
        assert_eq!(bulgarian_to_latin("Нова България"), "Nova Bulgaria");
        assert_eq!(bulgarian_to_latin("Новабългария"), "Novabalgaria");
    }

    #[test]
    fn word_final_iya_is_ia() {
        assert_eq!(bulgarian_to_latin("София"), "Sofia");
        assert_eq!(bulgarian_to_latin("Горна Митрополия"), "Gorna Mitropolia");
        assert_eq!(bulgarian_to_latin("Александрия-север"), "Aleksandria-sever");
        assert_eq!(bulgarian_to_latin("ИСТОРИЯ"), "ISTORIA");
        assert_eq!(bulgarian_to_latin("история."), "istoria.");
        // Not word-final, or not after и.
        assert_eq!(bulgarian_to_latin("Ияслав"), "Iyaslav");
        assert_eq!(bulgarian_to_latin("историята"), "istoriyata");
        assert_eq!(bulgarian_to_latin("Стара Загора, ферма"), "Stara Zagora, ferma");
        assert_eq!(bulgarian_to_latin("Крайя"), "Krayya");
        // A decomposed й does not make an ия.
        assert_eq!(bulgarian_to_latin("Кра\u{0438}\u{0306}я"), "Krayya");
        // A stress mark on the я does not hide the word end.
        assert_eq!(bulgarian_to_latin("Мария\u{0301}"), "Maria\u{0301}");
    }

    #[test]
    fn capitals_are_titlecase_or_all_caps() {
        assert_eq!(bulgarian_to_latin("Жеравна"), "Zheravna");
        assert_eq!(bulgarian_to_latin("Щит"), "Shtit");
        assert_eq!(bulgarian_to_latin("ЖЕК"), "ZHEK");
        assert_eq!(bulgarian_to_latin("ЕЖ"), "EZH");
        assert_eq!(bulgarian_to_latin("ЦУМ и НДК"), "TSUM i NDK");
        assert_eq!(bulgarian_to_latin("Ж"), "Zh");
        assert_eq!(bulgarian_to_latin("Ж.П. гара"), "Zh.P. gara");
        assert_eq!(bulgarian_to_latin("ЮЖЕН ПАРК"), "YUZHEN PARK");
        assert_eq!(bulgarian_to_latin("Юг"), "Yug");
        assert_eq!(bulgarian_to_latin("Ъглен"), "Aglen");
    }

    #[test]
    fn other_characters_are_kept() {
        assert_eq!(bulgarian_to_latin("Café „Виктория“ №5 – 10:00"), "Café „Viktoria“ №5 – 10:00");
        assert_eq!(bulgarian_to_latin("ул. \"Цар Симеон\" 12А"), "ul. \"Tsar Simeon\" 12A");
        assert_eq!(bulgarian_to_latin("Ёлка ы э і"), "Ёlka ы э і");
        assert_eq!(bulgarian_to_latin("ѝ Ѝ"), "i I");
        assert_eq!(bulgarian_to_latin("\u{0419}\u{0418}\u{0306}"), "YY");
        assert_eq!(bulgarian_to_latin(""), "");
        assert_eq!(bulgarian_to_latin("\u{0306}и"), "\u{0306}i");
    }

    #[test]
    fn to_latin_picks_the_rules_by_language() {
        assert_eq!(to_latin("Щит", Some("bg"), &AnyAscii), "Shtit");
        assert_eq!(to_latin("Щит", Some("BG"), &AnyAscii), "Shtit");
        assert_eq!(to_latin("Щит", Some("bg-BG"), &AnyAscii), "Shtit");
        assert_eq!(to_latin("Щит", Some("ru"), &AnyAscii), "Shchit");
        assert_eq!(to_latin("Щит", None, &AnyAscii), "Shchit");
        assert_eq!(to_latin("Щит", Some("bgx"), &AnyAscii), "Shchit");
        assert_eq!(to_latin("Ёлка Хижа", Some("bg"), &AnyAscii), "Elka Hizha");
    }

    #[test]
    fn search_forms_fold_what_fts5_does_not() {
        assert_eq!(search_form("Ёлка", None, &AnyAscii), search_form("Елка", None, &AnyAscii));
        assert_eq!(search_form("Ёлка", None, &AnyAscii), "elka");
        assert_eq!(search_form("Straße", None, &AnyAscii), search_form("Strasse", None, &AnyAscii));
        assert_eq!(search_form("STRASSE ẞ", None, &AnyAscii), "strasse ss");
        assert_eq!(search_form("Café Zürich", None, &AnyAscii), "cafe zurich");
        assert_eq!(search_form("Aladzha", None, &AnyAscii), "aladzha");
        assert_eq!(search_form("Аладжа манастир", Some("bg"), &AnyAscii), "aladzha manastir");
        assert_eq!(search_form("катедрала", Some("bg"), &AnyAscii), "katedrala");
        assert_eq!(search_form("Катедрала", Some("bg"), &AnyAscii), search_form("katedrala", None, &AnyAscii));
    }

    #[test]
    fn search_forms_of_other_scripts() {
        // Greek, Turkish, Ukrainian and Russian.
        assert_eq!(search_form("Αθήνα, ΘΕΣΣΑΛΟΝΊΚΗ", Some("el"), &AnyAscii), "athina thessaloniki");
        assert_eq!(search_form("İstanbul Şişli ığdır", Some("tr"), &AnyAscii), "istanbul sisli igdir");
        assert_eq!(search_form("Львів, Ґанок", Some("uk"), &AnyAscii), "lviv ganok");
        assert_eq!(search_form("Щёлково, подъезд", Some("ru"), &AnyAscii), "shchelkovo podezd");
        // The same Cyrillic word as Bulgarian and as anything else.
        assert_eq!(search_form("Щъркел", Some("bg"), &AnyAscii), "shtarkel");
        assert_eq!(search_form("Щъркел", None, &AnyAscii), "shchrkel");
    }

    #[test]
    fn search_forms_fold_punctuation_and_spacing() {
        assert_eq!(search_form("  Даскал-Атанасово!! ", Some("bg"), &AnyAscii), "daskal atanasovo");
        assert_eq!(search_form("O'Brien’s pub", None, &AnyAscii), "obriens pub");
        assert_eq!(search_form("ул. „Цар Симеон“ №12", Some("bg"), &AnyAscii), "ul tsar simeon no12");
        assert_eq!(search_form("Café\u{0301}\tZu\u{0308}rich\n", None, &AnyAscii), "cafe zurich");
        assert_eq!(search_form("", None, &AnyAscii), "");
        assert_eq!(search_form("— … ·", None, &AnyAscii), "");
    }

    #[test]
    fn mixed_scripts() {
        assert_eq!(bulgarian_to_latin("Hotel Жеравна Inn"), "Hotel Zheravna Inn");
        assert_eq!(search_form("Hotel „Жеравна“ Inn 3★", Some("bg"), &AnyAscii), "hotel zheravna inn 3");
        assert_eq!(search_form("Варна Varna Βάρνα", Some("bg"), &AnyAscii), "varna varna varna");
        assert_eq!(search_form("東京 Tōkyō", None, &AnyAscii), "dongjing tokyo");
    }

    #[test]
    fn query_forms_cover_both_readings_of_cyrillic() {
        assert!(query_forms("Аладжа", &AnyAscii).contains(&"aladzha".to_owned()));
        assert_eq!(query_forms("Аладжа", &AnyAscii), ["aladzha"]);
        assert_eq!(query_forms("аладжа манастир", &AnyAscii), ["aladzha manastir"]);
        assert_eq!(query_forms("Щукино", &AnyAscii), ["shtukino", "shchukino"]);
        assert_eq!(query_forms("Ъглен", &AnyAscii), ["aglen", "glen"]);
        assert_eq!(query_forms("Хижа", &AnyAscii), ["hizha", "khizha"]);
        assert_eq!(query_forms("Aladzha", &AnyAscii), ["aladzha"]);
        assert_eq!(query_forms("Café", &AnyAscii), ["cafe"]);
        assert!(query_forms("", &AnyAscii).is_empty());
        assert!(query_forms(" ,. ", &AnyAscii).is_empty());
    }
}
