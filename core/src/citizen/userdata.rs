//! The user's own data, whole: one JSON document out ([`Guide::export_user_data`]), the same document back in
//! ([`Guide::import_user_data`]), and one call that removes it all ([`Guide::erase_user_data`]).
//!
//! The document is described field by field in `docs/privacy.md`. Import checks the whole document before it
//! touches the database and then replaces the user's data in one transaction, so a bad file changes nothing. Erase
//! deletes the rows with `secure_delete` on, then rebuilds the database file (`VACUUM`) and truncates the
//! write-ahead log, so the deleted text is gone from the bytes on disk, not only from the tables.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::outbox::{BallotInfo, OutboxItem, OutboxKind, all_ballots, all_items, insert_item};
use super::wire::{BallotRequest, FeedbackRequest};
use super::{CitizenError, Consent, ConsentScope, INSTALLATION_KEY};
use crate::guide::Guide;

/// The `format` field of an export.
pub const USER_DATA_FORMAT: &str = "cityguide-user-data";
/// The `version` field this core writes and reads.
const USER_DATA_VERSION: u32 = 1;

/// Everything the app keeps about its user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserData {
    /// Always [`USER_DATA_FORMAT`].
    pub format: String,
    /// Version of the document, 1.
    pub version: u32,
    /// When it was exported, Unix seconds.
    pub exported_at: i64,
    /// Consent and the installation key.
    pub settings: UserSettings,
    /// Favourite places.
    pub favourites: Vec<FavouriteRow>,
    /// Visits, oldest first.
    pub visits: Vec<VisitRow>,
    /// Notes on places.
    pub notes: Vec<NoteRow>,
    /// Reports and ballots, sent or not, with their exact request bodies.
    pub outbox: Vec<OutboxItem>,
    /// The user's current choice in each consultation.
    pub ballots: Vec<BallotInfo>,
}

/// The user's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    /// Consent switches.
    pub consent: Consent,
    /// The random installation key, if one was made.
    pub installation_key: Option<String>,
}

/// A favourite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FavouriteRow {
    /// City.
    pub city_id: String,
    /// Place.
    pub place_id: String,
    /// When it was added, Unix seconds.
    pub added_at: i64,
    /// The place's name when last seen.
    pub name: String,
}

/// A visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitRow {
    /// City.
    pub city_id: String,
    /// Place.
    pub place_id: String,
    /// When, Unix seconds.
    pub visited_at: i64,
    /// The place's name when last seen.
    pub name: String,
}

/// A note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRow {
    /// City.
    pub city_id: String,
    /// Place.
    pub place_id: String,
    /// The note.
    pub text: String,
    /// When it was last changed, Unix seconds.
    pub updated_at: i64,
    /// The place's name when last seen.
    pub name: String,
}

/// How many records of each kind an import wrote or an erase removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UserDataCounts {
    /// Favourites.
    pub favourites: u64,
    /// Visits.
    pub visits: u64,
    /// Notes.
    pub notes: u64,
    /// Outbox items.
    pub outbox: u64,
    /// Ballots.
    pub ballots: u64,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(data: &UserData) -> Result<(), String> {
    if data.format != USER_DATA_FORMAT {
        return Err(format!("format is {:?}, expected {USER_DATA_FORMAT:?}", data.format));
    }
    if data.version != USER_DATA_VERSION {
        return Err(format!("version {} is not supported (this app reads {USER_DATA_VERSION})", data.version));
    }
    if let Some(k) = &data.settings.installation_key
        && !is_hex(k, 64)
    {
        return Err("settings.installation_key must be 64 lowercase hex digits".into());
    }
    let nonempty = |what: &str, i: usize, v: &str| {
        if v.is_empty() { Err(format!("{what}[{i}] has an empty city or place id")) } else { Ok(()) }
    };
    for (i, f) in data.favourites.iter().enumerate() {
        nonempty("favourites", i, &f.city_id)?;
        nonempty("favourites", i, &f.place_id)?;
    }
    for (i, f) in data.visits.iter().enumerate() {
        nonempty("visits", i, &f.city_id)?;
        nonempty("visits", i, &f.place_id)?;
    }
    for (i, f) in data.notes.iter().enumerate() {
        nonempty("notes", i, &f.city_id)?;
        nonempty("notes", i, &f.place_id)?;
    }
    let mut keys = std::collections::HashSet::new();
    for (i, item) in data.outbox.iter().enumerate() {
        if !is_hex(&item.key, 32) || !keys.insert(item.key.as_str()) {
            return Err(format!("outbox[{i}].key is not 32 hex digits or is repeated"));
        }
        let ok = match item.kind {
            OutboxKind::Feedback => serde_json::from_str::<FeedbackRequest>(&item.payload)
                .map_err(|e| e.to_string())
                .and_then(|r| if r.key == item.key { Ok(()) } else { Err("its key differs from the item's".into()) }),
            OutboxKind::Ballot => serde_json::from_str::<BallotRequest>(&item.payload)
                .map_err(|e| e.to_string())
                .and_then(|r| if r.key == item.key { Ok(()) } else { Err("its key differs from the item's".into()) }),
        };
        ok.map_err(|e| format!("outbox[{i}].payload is not a valid request: {e}"))?;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, b) in data.ballots.iter().enumerate() {
        if !keys.contains(b.outbox_key.as_str()) {
            return Err(format!("ballots[{i}] refers to outbox item {} which is not in the export", b.outbox_key));
        }
        if !seen.insert((b.city_id.as_str(), b.consultation_id.as_str())) {
            return Err(format!("ballots[{i}] repeats consultation {}", b.consultation_id));
        }
    }
    Ok(())
}

impl Guide {
    /// Everything the app keeps about its user, as a [`UserData`] value.
    pub fn user_data(&self, now: i64) -> Result<UserData, CitizenError> {
        let consent = self.consent()?;
        let installation_key = self.existing_installation_key()?;
        let (favourites, visits, notes, outbox, ballots) = self.store().read(|c| {
            let favourites = c
                .prepare(
                    "SELECT city_id, place_id, added_at, name FROM favourites ORDER BY added_at, city_id, place_id",
                )?
                .query_map([], |r| {
                    Ok(FavouriteRow { city_id: r.get(0)?, place_id: r.get(1)?, added_at: r.get(2)?, name: r.get(3)? })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let visits = c
                .prepare("SELECT city_id, place_id, visited_at, name FROM visits ORDER BY visited_at, rowid")?
                .query_map([], |r| {
                    Ok(VisitRow { city_id: r.get(0)?, place_id: r.get(1)?, visited_at: r.get(2)?, name: r.get(3)? })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let notes = c
                .prepare("SELECT city_id, place_id, text, updated_at, name FROM notes ORDER BY city_id, place_id")?
                .query_map([], |r| {
                    Ok(NoteRow {
                        city_id: r.get(0)?,
                        place_id: r.get(1)?,
                        text: r.get(2)?,
                        updated_at: r.get(3)?,
                        name: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((favourites, visits, notes, all_items(c)?, all_ballots(c)?))
        })?;
        Ok(UserData {
            format: USER_DATA_FORMAT.to_owned(),
            version: USER_DATA_VERSION,
            exported_at: now,
            settings: UserSettings { consent, installation_key },
            favourites,
            visits,
            notes,
            outbox,
            ballots,
        })
    }

    /// Everything the app keeps about its user, as the JSON document described in `docs/privacy.md`.
    pub fn export_user_data(&self, now: i64) -> Result<String, CitizenError> {
        serde_json::to_string_pretty(&self.user_data(now)?).map_err(|e| CitizenError::InvalidExport(e.to_string()))
    }

    /// Replaces the user's data with an export's. The whole document is checked first; if anything is wrong,
    /// nothing stored changes.
    pub fn import_user_data(&self, json: &str, now: i64) -> Result<UserDataCounts, CitizenError> {
        let data: UserData = serde_json::from_str(json).map_err(|e| CitizenError::InvalidExport(e.to_string()))?;
        check(&data).map_err(CitizenError::InvalidExport)?;
        self.store().write(|tx| -> Result<(), CitizenError> {
            clear(tx)?;
            for f in &data.favourites {
                tx.execute(
                    "INSERT INTO favourites (city_id, place_id, added_at, name) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (city_id, place_id) DO UPDATE SET added_at = ?3, name = ?4",
                    params![f.city_id, f.place_id, f.added_at, f.name],
                )?;
            }
            for v in &data.visits {
                tx.execute(
                    "INSERT INTO visits (city_id, place_id, visited_at, name) VALUES (?1, ?2, ?3, ?4)",
                    params![v.city_id, v.place_id, v.visited_at, v.name],
                )?;
            }
            for n in &data.notes {
                tx.execute(
                    "INSERT INTO notes (city_id, place_id, text, updated_at, name) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (city_id, place_id) DO UPDATE SET text = ?3, updated_at = ?4, name = ?5",
                    params![n.city_id, n.place_id, n.text, n.updated_at, n.name],
                )?;
            }
            for item in &data.outbox {
                insert_item(tx, item)?;
            }
            for b in &data.ballots {
                tx.execute(
                    "INSERT INTO ballots (city_id, consultation_id, option_id, seq, cast_at, outbox_key)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![b.city_id, b.consultation_id, b.stored_options(), b.seq, b.cast_at, b.outbox_key],
                )?;
            }
            for scope in ConsentScope::ALL {
                tx.execute(
                    "INSERT INTO consent (scope, granted, changed_at) VALUES (?1, ?2, ?3)",
                    params![scope.as_str(), data.settings.consent.allows(scope), now],
                )?;
            }
            if let Some(k) = &data.settings.installation_key {
                tx.execute("INSERT INTO settings (key, value) VALUES (?1, ?2)", params![INSTALLATION_KEY, k])?;
            }
            Ok(())
        })?;
        Ok(UserDataCounts {
            favourites: data.favourites.len() as u64,
            visits: data.visits.len() as u64,
            notes: data.notes.len() as u64,
            outbox: data.outbox.len() as u64,
            ballots: data.ballots.len() as u64,
        })
    }

    /// Removes everything the app keeps about its user: favourites, visits, notes, the outbox, ballots, consent
    /// (back to all off) and the installation key. Installed packs stay. The deleted data is also gone from the
    /// database file and its write-ahead log when this returns.
    pub fn erase_user_data(&self) -> Result<UserDataCounts, CitizenError> {
        self.store().with_writer(|c| c.pragma_update(None, "secure_delete", "ON"))?;
        let counts = self.store().write(|tx| -> Result<UserDataCounts, CitizenError> {
            let count = |t: &str| -> rusqlite::Result<u64> {
                tx.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get::<_, i64>(0)).map(|n| n as u64)
            };
            let counts = UserDataCounts {
                favourites: count("favourites")?,
                visits: count("visits")?,
                notes: count("notes")?,
                outbox: count("outbox")?,
                ballots: count("ballots")?,
            };
            clear(tx)?;
            Ok(counts)
        })?;
        // Rebuild the file without the freed pages, then fold the log into it and cut the log to zero bytes.
        self.store().with_writer(|c| {
            c.execute_batch("VACUUM;")?;
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        })?;
        Ok(counts)
    }
}

fn clear(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM favourites; DELETE FROM visits; DELETE FROM notes; DELETE FROM ballots; DELETE FROM outbox;
         DELETE FROM consent; DELETE FROM report_status;",
    )?;
    tx.execute("DELETE FROM settings WHERE key = ?1 OR key LIKE 'citizen.%'", [INSTALLATION_KEY])?;
    Ok(())
}
