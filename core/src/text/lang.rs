//! Language tags and text resolution.
//!
//! Packs carry texts in many languages and readers ask for theirs; this module decides which tags are real (so a
//! publisher's typo like `bu` for Bulgarian is caught at build time) and which text a reader gets when their first
//! choice is missing.

use crate::pack::model::Texts;

/// ISO 639-1 two-letter language codes.
const ISO_639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy \
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io \
is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na \
nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss \
st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// Three-letter codes for languages without a two-letter code that guides are commonly written in.
const ISO_639_3_EXTRA: &str = "ast fil haw yue rom rmy";

/// Checks a BCP 47 tag of the shapes guides use: `language[-Script][-REGION]`, e.g. `bg`, `sr-Latn`, `pt-BR`,
/// `zh-Hans-CN`. Returns the tag in canonical case, or `None` when it is not a known language.
pub fn canonical_tag(tag: &str) -> Option<String> {
    let mut parts = tag.trim().split(['-', '_']);
    let lang = parts.next()?.to_ascii_lowercase();
    let known = match lang.len() {
        2 => ISO_639_1.split_whitespace().any(|c| c == lang),
        3 => ISO_639_3_EXTRA.split_whitespace().any(|c| c == lang),
        _ => false,
    };
    if !known {
        return None;
    }
    let mut out = lang;
    let mut seen_script = false;
    let mut seen_region = false;
    for part in parts {
        let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
        if part.len() == 4 && alpha && !seen_script && !seen_region {
            seen_script = true;
            out.push('-');
            out.push_str(&part[..1].to_ascii_uppercase());
            out.push_str(&part[1..].to_ascii_lowercase());
        } else if ((part.len() == 2 && alpha) || (part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())))
            && !seen_region
        {
            seen_region = true;
            out.push('-');
            out.push_str(&part.to_ascii_uppercase());
        } else {
            return None;
        }
    }
    Some(out)
}

/// Picks the text to show: the first of the reader's languages that has one (an exact tag, then the same base
/// language, so `pt-BR` also finds `pt`), then the pack's default language, then any text at all.
/// Returns `(language, text)`, so the app can mark text that is not in the reader's language.
pub fn resolve<'a>(texts: &'a Texts, preferred: &[String], default: &str) -> Option<(&'a str, &'a str)> {
    let exact = |want: &str| texts.get_key_value(want).filter(|(_, t)| !t.is_empty());
    let base = |want: &str| {
        let b = want.split('-').next().unwrap_or(want);
        texts.iter().find(|(l, t)| !t.is_empty() && l.split('-').next() == Some(b))
    };
    preferred
        .iter()
        .find_map(|p| exact(p).or_else(|| base(p)))
        .or_else(|| exact(default))
        .or_else(|| texts.iter().find(|(_, t)| !t.is_empty()))
        .map(|(l, t)| (l.as_str(), t.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_tags() {
        assert_eq!(canonical_tag("bg").as_deref(), Some("bg"));
        assert_eq!(canonical_tag("PT-br").as_deref(), Some("pt-BR"));
        assert_eq!(canonical_tag("sr-latn").as_deref(), Some("sr-Latn"));
        assert_eq!(canonical_tag("zh-Hans-CN").as_deref(), Some("zh-Hans-CN"));
        assert_eq!(canonical_tag("bu"), None);
        assert_eq!(canonical_tag("english"), None);
        assert_eq!(canonical_tag("en-"), None);
        assert_eq!(canonical_tag(""), None);
    }

    #[test]
    fn resolution_order() {
        let t: Texts = [("bg", "Варна"), ("en", "Varna"), ("pt", "Varna (pt)")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let prefs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(resolve(&t, &prefs(&["de", "en"]), "bg"), Some(("en", "Varna")));
        assert_eq!(resolve(&t, &prefs(&["pt-BR"]), "bg"), Some(("pt", "Varna (pt)")));
        assert_eq!(resolve(&t, &prefs(&["ja"]), "bg"), Some(("bg", "Варна")));
        assert_eq!(resolve(&Texts::new(), &prefs(&["ja"]), "bg"), None);
    }
}
