//! The phone's database: installed packs, the search index and everything the user keeps.
//!
//! One SQLite file (`guide.db`) in WAL mode beside the pack files. There is one writer connection, guarded by a
//! mutex, and a small pool of reader connections: in WAL mode readers see the last committed state and never wait
//! for the writer, so queries stay fast while an update installs. The schema evolves through numbered migrations
//! recorded in `PRAGMA user_version`; a database written by a newer app is refused rather than damaged.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, Transaction};

/// Why the store could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file next to the database could not be read or written.
    #[error("file error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer version of the app.
    #[error("the database has schema version {found}, newer than this app's {supported}; update the app")]
    NewerSchema {
        /// Version found in the file.
        found: u32,
        /// Latest version this core knows.
        supported: u32,
    },
}

/// Numbered schema migrations; migration `i` brings the database from version `i` to `i + 1`.
/// Never edit a released migration: append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: installed packs and the user's own data.
    "CREATE TABLE installed_packs (
        city_id TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        file TEXT NOT NULL,
        size INTEGER NOT NULL,
        installed_at INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE favourites (
        city_id TEXT NOT NULL,
        place_id TEXT NOT NULL,
        added_at INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (city_id, place_id)
     ) STRICT;
     CREATE TABLE visits (
        city_id TEXT NOT NULL,
        place_id TEXT NOT NULL,
        visited_at INTEGER NOT NULL,
        name TEXT NOT NULL
     ) STRICT;
     CREATE INDEX visits_by_place ON visits (city_id, place_id);
     CREATE TABLE notes (
        city_id TEXT NOT NULL,
        place_id TEXT NOT NULL,
        text TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (city_id, place_id)
     ) STRICT;
     CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;",
    // 2: the search index, rebuilt from the installed packs whenever one changes.
    "CREATE VIRTUAL TABLE search_index USING fts5(
        city_id UNINDEXED,
        poi UNINDEXED,
        lang UNINDEXED,
        field UNINDEXED,
        text,
        latin,
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '1 2 3'
     );
     CREATE TABLE search_prefix (
        city_id TEXT NOT NULL,
        prefix TEXT NOT NULL,
        importance INTEGER NOT NULL,
        poi INTEGER NOT NULL,
        PRIMARY KEY (city_id, prefix, poi)
     ) STRICT, WITHOUT ROWID;
     CREATE INDEX search_prefix_top ON search_prefix (city_id, prefix, importance DESC, poi);
     INSERT INTO settings (key, value) VALUES ('search_index_stale', '1')
        ON CONFLICT (key) DO UPDATE SET value = '1';",
    // 3: short-prefix rows also hold the words as written (not only their Latin form): rebuild the index.
    "INSERT INTO settings (key, value) VALUES ('search_index_stale', '1')
        ON CONFLICT (key) DO UPDATE SET value = '1';",
    // 4: citizens in the loop: consent switches (absent row = off), the feedback and ballot outbox, ballots.
    "CREATE TABLE consent (
        scope TEXT PRIMARY KEY NOT NULL CHECK (scope IN ('updates', 'feedback', 'location')),
        granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
        changed_at INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE outbox (
        key TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('feedback', 'ballot')),
        city_id TEXT NOT NULL,
        office TEXT,
        consultation_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'acknowledged', 'rejected')),
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        body TEXT NOT NULL
     ) STRICT;
     CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
     CREATE TABLE ballots (
        city_id TEXT NOT NULL,
        consultation_id TEXT NOT NULL,
        option_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        cast_at INTEGER NOT NULL,
        outbox_key TEXT NOT NULL,
        PRIMARY KEY (city_id, consultation_id)
     ) STRICT;",
    // 5: what the city answered about each sent report (status, public reply), fetched with the feedback consent.
    "CREATE TABLE report_status (
        key TEXT PRIMARY KEY NOT NULL,
        reference TEXT NOT NULL,
        status TEXT NOT NULL,
        public_reply TEXT,
        duplicate_of TEXT,
        updated_at INTEGER NOT NULL,
        checked_at INTEGER NOT NULL
     ) STRICT;",
];

/// Schema version after all migrations.
pub fn schema_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Applies the migrations the database lacks, each in its own transaction. Returns the version reached.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, schema_version())
}

/// Applies migrations up to `target` (tests use it to create databases of earlier versions).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > schema_version() {
        return Err(StoreError::NewerSchema { found: current, supported: schema_version() });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize).take(target.saturating_sub(current) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
        tx.commit()?;
    }
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The database and the directory it lives in.
pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

/// Readers kept open for reuse; more are opened on demand and closed when returned beyond this.
const READER_POOL: usize = 4;

impl Store {
    /// Opens (creating if needed) the store in `dir` and migrates it to the current schema.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: dir.display().to_string(), source })?;
        let db_path = dir.join("guide.db");
        let mut writer = Connection::open(&db_path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the call returns (the user's data and the active pack must survive a
        // power cut).
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        writer.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut writer)?;
        Ok(Store { dir: dir.to_path_buf(), db_path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.db_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    /// Runs a read on a pooled connection; it sees the last committed state and does not wait for the writer.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = match self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < READER_POOL {
            pool.push(conn);
        }
        Ok(result?)
    }

    /// Runs `f` in one write transaction, committed (and synced) only if `f` succeeds.
    pub fn write<T, E>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction().map_err(|e| E::from(e.into()))?;
        let value = f(&tx)?;
        tx.commit().map_err(|e| E::from(e.into()))?;
        Ok(value)
    }

    /// Runs `f` on the writer connection outside a transaction (checkpoints, vacuum).
    pub fn with_writer<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(&conn)?)
    }

    /// A user setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        self.read(|c| c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional())
    }

    /// Stores a user setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                [key, value],
            )
            .map_err(StoreError::from)
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_database_migrates_and_keeps_its_data() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let mut conn = Connection::open(dir.path().join("guide.db")).expect("open");
            assert_eq!(migrate_to(&mut conn, 1).expect("v1"), 1);
            conn.execute(
                "INSERT INTO favourites (city_id, place_id, added_at, name) VALUES ('varna', 'roman-thermae', 1, 'Терми')",
                [],
            )
            .expect("insert");
        }
        let store = Store::open(dir.path()).expect("opens and migrates");
        let (version, fav): (u32, String) = store
            .read(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("SELECT place_id FROM favourites", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!(version, schema_version());
        assert_eq!(fav, "roman-thermae");
        assert_eq!(store.setting("search_index_stale").expect("setting").as_deref(), Some("1"));
        let journal: String =
            store.with_writer(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0))).expect("pragma");
        assert_eq!(journal, "wal");
    }

    #[test]
    fn a_version_4_database_gains_the_report_status_table_and_keeps_its_outbox() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let mut conn = Connection::open(dir.path().join("guide.db")).expect("open");
            assert_eq!(migrate_to(&mut conn, 4).expect("v4"), 4);
            conn.execute_batch(
                "INSERT INTO outbox (key, kind, city_id, status, next_attempt_at, created_at, updated_at, body)
                 VALUES ('k', 'feedback', 'varna', 'acknowledged', 0, 0, 0, '{}');",
            )
            .expect("insert");
        }
        let store = Store::open(dir.path()).expect("opens and migrates");
        let (version, outbox, statuses): (u32, i64, i64) = store
            .read(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM report_status", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!((version, outbox, statuses), (5, 1, 0));
    }

    #[test]
    fn a_version_3_database_gains_the_citizen_tables_with_everything_off() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let mut conn = Connection::open(dir.path().join("guide.db")).expect("open");
            assert_eq!(migrate_to(&mut conn, 3).expect("v3"), 3);
            conn.execute_batch(
                "INSERT INTO notes (city_id, place_id, text, updated_at, name) VALUES ('varna', 'zoo', 'x', 1, 'Zoo');
                 INSERT INTO settings (key, value) VALUES ('sync.last_catalog_version', '7');",
            )
            .expect("insert");
        }
        let store = Store::open(dir.path()).expect("opens and migrates");
        let (version, note, consents, outbox, ballots): (u32, String, i64, i64, i64) = store
            .read(|c| {
                Ok((
                    c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
                    c.query_row("SELECT text FROM notes", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM consent", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?,
                    c.query_row("SELECT count(*) FROM ballots", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!(version, schema_version(), "every later migration ran too");
        assert_eq!(note, "x");
        assert_eq!((consents, outbox, ballots), (0, 0, 0), "no consent row means every consent is off");
        assert_eq!(store.setting("sync.last_catalog_version").expect("setting").as_deref(), Some("7"));
        // The checks hold: an unknown status or consent scope cannot be stored.
        let bad = store.write(|tx| {
            tx.execute("INSERT INTO consent (scope, granted, changed_at) VALUES ('tracking', 1, 0)", [])
                .map_err(StoreError::from)
        });
        assert!(bad.is_err());
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let conn = Connection::open(dir.path().join("guide.db")).expect("open");
            conn.pragma_update(None, "user_version", 99).expect("pragma");
        }
        let err = Store::open(dir.path()).expect_err("refused");
        assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    }

    #[test]
    fn readers_do_not_wait_for_an_open_write_transaction() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store.set_setting("k", "old").expect("set");
        let writer = store.writer.lock().expect("lock");
        writer.execute_batch("BEGIN IMMEDIATE; UPDATE settings SET value = 'new' WHERE key = 'k';").expect("begin");
        // While the write transaction is open, a reader still answers with the committed value.
        assert_eq!(store.setting("k").expect("read").as_deref(), Some("old"));
        writer.execute_batch("COMMIT").expect("commit");
        drop(writer);
        assert_eq!(store.setting("k").expect("read").as_deref(), Some("new"));
    }
}
