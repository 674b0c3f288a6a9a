//! Text in many languages and scripts: which language a reader gets ([`lang`]) and how names in Cyrillic, Greek or
//! any other script are written in Latin letters so a search finds them either way ([`translit`]).

pub mod lang;
pub mod translit;
