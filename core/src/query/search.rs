//! Typeahead search over places in every language and script.
//!
//! Two structures answer a query, chosen by its length:
//! - **short prefixes** (up to 3 characters, where a full-text match would touch a large part of the city): a
//!   `search_prefix` table keyed by the first 1–3 letters of every name word, with the place's importance, read
//!   top-k through an index — the cost does not grow with the number of places;
//! - **longer queries**: the FTS5 table `search_index` over names, summaries and descriptions, with the original text
//!   (diacritics and case folded by `unicode61 remove_diacritics 2`) and its Latin search form (`translit`), so
//!   *Aladzha*, *аладжа* and *Аладжа манастир* meet, and so do *katedrala* and *катедрала*.
//!
//! Ranking combines the text match (a name beats a summary beats a description; a whole-word match beats a prefix),
//! the place's importance and, when the user's position is known, the distance.

use std::collections::HashMap;

use rusqlite::{Connection, Transaction, params};

use crate::geodesy;
use crate::pack::fb;
use crate::text::translit::{CharLatin, query_forms, search_form};

/// Queries up to this many characters use the prefix table.
pub const SHORT_PREFIX: usize = 3;

/// One place found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchMatch {
    /// Index of the place in the pack.
    pub index: u32,
    /// Combined score; higher is better.
    pub score: f64,
    /// Distance from the user, when a position was given.
    pub distance_m: Option<f64>,
}

/// Text fields indexed, with the weight of a match in each.
const FIELDS: [(&str, f64); 3] = [("name", 4.0), ("summary", 1.5), ("description", 1.0)];

/// Replaces the index rows of one city with rows for `pack`, inside the caller's transaction.
pub fn index_city(
    tx: &Transaction<'_>,
    city_id: &str,
    pack: &fb::Pack<'_>,
    latin: &dyn CharLatin,
) -> rusqlite::Result<()> {
    remove_city(tx, city_id)?;
    let mut fts = tx.prepare_cached(
        "INSERT INTO search_index (city_id, poi, lang, field, text, latin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut prefix = tx.prepare_cached(
        "INSERT OR IGNORE INTO search_prefix (city_id, prefix, importance, poi) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, poi) in pack.pois().unwrap_or_default().iter().enumerate() {
        let fields = [poi.name(), poi.summary(), poi.description()];
        for ((field, _), texts) in FIELDS.iter().zip(fields) {
            for t in texts.unwrap_or_default() {
                let latin = search_form(t.text(), Some(t.lang()), latin);
                fts.execute(params![city_id, i as i64, t.lang(), field, t.text(), latin])?;
                if *field == "name" {
                    // Prefixes of the Latin form and of the words as written, so a short query in either script is
                    // answered from this table.
                    let original = words(t.text());
                    for word in latin.split(' ').map(str::to_owned).chain(original) {
                        let chars: Vec<char> = word.chars().collect();
                        for n in 1..=SHORT_PREFIX.min(chars.len()) {
                            let key: String = chars[..n].iter().collect();
                            prefix.execute(params![city_id, key, i64::from(poi.importance()), i as i64])?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Removes every index row of a city.
pub fn remove_city(tx: &Transaction<'_>, city_id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM search_index WHERE city_id = ?1", [city_id])?;
    tx.execute("DELETE FROM search_prefix WHERE city_id = ?1", [city_id])?;
    Ok(())
}

/// Quotes a token for an FTS5 query (a string literal; embedded quotes doubled).
fn fts_token(t: &str) -> String {
    format!("\"{}\"", t.replace('"', "\"\""))
}

/// Splits a query into words of letters and digits, lowercased.
fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
}

/// Finds places of `city_id` matching `query`, best first. `position(i)` gives the place's position for distance
/// ranking when `near` is set; `importance(i)` its importance; `latin` is the pack's transliteration table.
#[allow(clippy::too_many_arguments)]
pub fn search(
    conn: &Connection,
    city_id: &str,
    query: &str,
    latin: &dyn CharLatin,
    near: Option<(f64, f64)>,
    limit: usize,
    position: impl Fn(u32) -> (f64, f64),
    importance: impl Fn(u32) -> u8,
) -> rusqlite::Result<Vec<SearchMatch>> {
    let forms = query_forms(query, latin);
    let original = words(query);
    if forms.iter().all(|f| f.is_empty()) && original.is_empty() {
        return Ok(Vec::new());
    }
    // The path depends on what the user typed (3 Cyrillic letters may transliterate to 6 Latin ones).
    let typed = query.trim().chars().count();
    let mut scores: HashMap<u32, f64> = HashMap::new();
    if typed <= SHORT_PREFIX && original.len() == 1 {
        let mut keys: Vec<String> = original.clone();
        keys.extend(
            forms.iter().filter(|f| !f.is_empty() && f.chars().count() <= SHORT_PREFIX && !f.contains(' ')).cloned(),
        );
        keys.sort();
        keys.dedup();
        // Top places by importance whose name has a word starting with the prefix.
        let mut stmt = conn.prepare_cached(
            "SELECT poi, importance FROM search_prefix WHERE city_id = ?1 AND prefix = ?2
             ORDER BY importance DESC, poi LIMIT ?3",
        )?;
        let candidates = if near.is_some() { 200 } else { limit.max(1) };
        for key in &keys {
            let rows = stmt.query_map(params![city_id, key, candidates as i64], |r| Ok(r.get::<_, i64>(0)? as u32))?;
            for poi in rows {
                scores.entry(poi?).or_insert(FIELDS[0].1);
            }
        }
    } else {
        let mut clauses: Vec<String> = Vec::new();
        for form in forms.iter().filter(|f| !f.is_empty()) {
            let terms: Vec<String> = form.split(' ').map(|w| format!("latin : {}*", fts_token(w))).collect();
            clauses.push(format!("({})", terms.join(" AND ")));
        }
        if !original.is_empty() {
            let terms: Vec<String> = original.iter().map(|w| format!("text : {}*", fts_token(w))).collect();
            clauses.push(format!("({})", terms.join(" AND ")));
        }
        let expr = clauses.join(" OR ");
        let mut stmt = conn.prepare_cached(
            "SELECT poi, field, bm25(search_index) FROM search_index WHERE search_index MATCH ?1 AND city_id = ?2
             ORDER BY rank LIMIT 2000",
        )?;
        let rows = stmt.query_map(params![expr, city_id], |r| {
            Ok((r.get::<_, i64>(0)? as u32, r.get::<_, String>(1)?, r.get::<_, f64>(2)?))
        })?;
        for row in rows {
            let (poi, field, bm25) = row?;
            let w = FIELDS.iter().find(|(f, _)| *f == field).map_or(1.0, |(_, w)| *w);
            // bm25 is negative, more negative is better; squash to 0..1 so importance and distance still count.
            let m = w * (1.0 + (-bm25).max(0.0) / (1.0 + (-bm25).max(0.0)));
            let e = scores.entry(poi).or_insert(0.0);
            *e = e.max(m);
        }
    }
    let mut out: Vec<SearchMatch> = scores
        .into_iter()
        .map(|(index, text)| {
            let distance_m = near.map(|at| geodesy::distance_m(at, position(index)));
            let proximity = distance_m.map_or(0.0, |d| 2.0 / (1.0 + d / 1000.0));
            let score = text + f64::from(importance(index)) / 25.0 + proximity;
            SearchMatch { index, score, distance_m }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    out.truncate(limit);
    Ok(out)
}
