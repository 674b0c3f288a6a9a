//! Storage for the city's server: PostgreSQL in production, SQLite embedded by default, with one schema, one set of
//! numbered migrations and one set of queries for both.
//!
//! Why not `sqlx`: the phone core links SQLite through `rusqlite` 0.41 (`libsqlite3-sys` 0.39, bundled), and Cargo
//! allows one crate with `links = "sqlite3"` in a workspace; sqlx 0.8's SQLite driver needs `libsqlite3-sys` 0.30.
//! Rather than two SQLite libraries or two copies of every query, the server writes its queries once in the SQL
//! both databases understand and runs them through the small [`Conn`] trait, implemented by `rusqlite` for SQLite
//! and by the `postgres` crate (the blocking client over `tokio-postgres`) for PostgreSQL. Every database call runs
//! on tokio's blocking pool through [`Db::run`], bounded by the connection pool, so slow storage never stalls the
//! async workers that answer health checks.
//!
//! The dialect rules the queries follow: parameters are written `$1`, `$2`... (rewritten to `?1`... for SQLite);
//! every integer column is `BIGINT` (Unix seconds, counters, flags as 0/1); reals are `DOUBLE PRECISION`; ids come
//! from the `counters` table (`UPDATE ... RETURNING`), never from `SERIAL` or `AUTOINCREMENT`; aggregates that
//! PostgreSQL would widen to `NUMERIC` are `CAST(... AS BIGINT)`.

mod pg;
mod sqlite;

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One SQL value. Nulls carry their type, because PostgreSQL checks a parameter's type even when it is null.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A `BIGINT`.
    Int(Option<i64>),
    /// A `DOUBLE PRECISION`.
    Real(Option<f64>),
    /// A `TEXT`.
    Text(Option<String>),
}

impl Value {
    /// The integer, if this is a non-null integer.
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => *v,
            Value::Real(v) => v.map(|f| f as i64),
            Value::Text(_) => None,
        }
    }
    /// The real, if non-null and numeric.
    pub fn real(&self) -> Option<f64> {
        match self {
            Value::Real(v) => *v,
            Value::Int(v) => v.map(|i| i as f64),
            Value::Text(_) => None,
        }
    }
    /// The text, if non-null text.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Text(v) => v.clone(),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Value::Real(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_owned))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(Some(i64::from(v)))
    }
}

/// A row: its values in the order of the select list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as an integer (0 when null or missing).
    pub fn i(&self, i: usize) -> i64 {
        self.0.get(i).and_then(Value::int).unwrap_or(0)
    }
    /// Column `i` as an optional integer.
    pub fn oi(&self, i: usize) -> Option<i64> {
        self.0.get(i).and_then(Value::int)
    }
    /// Column `i` as an optional real.
    pub fn of(&self, i: usize) -> Option<f64> {
        self.0.get(i).and_then(Value::real)
    }
    /// Column `i` as text (empty when null or missing).
    pub fn s(&self, i: usize) -> String {
        self.0.get(i).and_then(Value::text).unwrap_or_default()
    }
    /// Column `i` as optional text.
    pub fn os(&self, i: usize) -> Option<String> {
        self.0.get(i).and_then(Value::text)
    }
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness constraint refused the write.
    #[error("duplicate: {0}")]
    Unique(String),
    /// The connection is gone; the caller may retry on a new one.
    #[error("database connection lost: {0}")]
    Connection(String),
    /// Anything else.
    #[error("database error: {0}")]
    Other(String),
}

impl From<DbError> for String {
    fn from(e: DbError) -> String {
        e.to_string()
    }
}

/// What the queries need from a connection. Implemented for SQLite and PostgreSQL; see the module docs for the
/// SQL both understand.
pub trait Conn: Send {
    /// Runs a statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Starts a write transaction (SQLite takes the write lock at once, so two writers never deadlock).
    fn begin(&mut self) -> Result<(), DbError>;
    /// Whether the connection can still be used.
    fn is_healthy(&self) -> bool;
    /// Which database this is.
    fn backend(&self) -> Backend;
}

impl dyn Conn + '_ {
    /// The first row of a query, if any.
    pub fn one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn transaction<T, E: From<DbError>>(&mut self, f: impl FnOnce(&mut dyn Conn) -> Result<T, E>) -> Result<T, E> {
        self.begin()?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.batch("COMMIT") {
                    let _ = self.batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The next value of a named counter (1 for a new counter), atomically.
    pub fn next_id(&mut self, name: &str) -> Result<i64, DbError> {
        self.execute(
            "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
            &[name.into()],
        )?;
        let row = self
            .one("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value", &[name.into()])?
            .ok_or_else(|| DbError::Other(format!("counter {name} vanished")))?;
        Ok(row.i(0))
    }
}

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The numbered migrations, in order; each runs once, in a transaction, and is recorded in `schema_migrations`.
pub const MIGRATIONS: &[(&str, &str)] = &[("0001_inbox", include_str!("migrations/0001_inbox.sql"))];

enum Opener {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// A bounded pool of connections to one database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    opener: Opener,
    idle: Mutex<Vec<Box<dyn Conn>>>,
    slots: tokio::sync::Semaphore,
    backend: Backend,
    label: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The blocking PostgreSQL client runs a small runtime of its own and cannot be dropped on a thread that is
        // driving tokio (the server's last reference may go there at shutdown): close the connections elsewhere.
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|e| e.into_inner()));
        if idle.is_empty() {
            return;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        } else {
            drop(idle);
        }
    }
}

impl Db {
    /// Opens a database from a URL: `sqlite:PATH` (or a plain path; `sqlite::memory:` is SQLite's private in-memory
    /// database, which lives as long as the one SQLite connection, for the development server) or
    /// `postgres://...`/`postgresql://...`; runs
    /// the migrations. `max_connections` bounds the concurrent database work.
    pub fn open(url: &str, max_connections: usize) -> Result<Db, DbError> {
        let (opener, backend, label) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Opener::Postgres(url.to_owned()), Backend::Postgres, redact(url))
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            (Opener::Sqlite(path.into()), Backend::Sqlite, format!("sqlite:{path}"))
        };
        // SQLite has one writer at a time, and a writer that finds the database locked sleeps and polls (the busy
        // handler), which under load gives some requests seconds of waiting. One connection, handed out by tokio's
        // first-come-first-served semaphore, keeps the queue fair and the tail short.
        let slots = if backend == Backend::Sqlite { 1 } else { max_connections.max(1) };
        let db = Db {
            inner: Arc::new(Inner {
                opener,
                idle: Mutex::new(Vec::new()),
                slots: tokio::sync::Semaphore::new(slots),
                backend,
                label,
            }),
        };
        let mut conn = db.connect()?;
        migrate(conn.as_mut())?;
        db.release(conn);
        Ok(db)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The URL without a password, for logs.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    fn connect(&self) -> Result<Box<dyn Conn>, DbError> {
        match &self.inner.opener {
            Opener::Sqlite(p) => Ok(Box::new(sqlite::SqliteConn::open(p)?)),
            Opener::Postgres(u) => Ok(Box::new(pg::PgConn::open(u)?)),
        }
    }

    fn release(&self, conn: Box<dyn Conn>) {
        if conn.is_healthy() {
            self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
    }

    /// Runs `f` with a connection on the blocking pool. At most `max_connections` run at once; the rest wait.
    pub async fn run<T, E>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let permit = self.inner.slots.acquire().await.map_err(|_| DbError::Other("the pool is closed".into()))?;
        let db = self.clone();
        let result = tokio::task::spawn_blocking(move || db.run_blocking(f))
            .await
            .map_err(|e| DbError::Other(format!("a database task failed: {e}")))?;
        drop(permit);
        result
    }

    /// Runs `f` with a connection on the calling thread (for the command line and tests outside tokio).
    pub fn run_blocking<T, E: From<DbError>>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, E>) -> Result<T, E> {
        let idle = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match idle {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = f(conn.as_mut());
        self.release(conn);
        result
    }

    /// Whether the database answers a trivial query within `timeout`.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let q = self.run(|c| c.query("SELECT 1", &[]).map(|_| ()));
        matches!(tokio::time::timeout(timeout, q).await, Ok(Ok(())))
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Applies every migration not yet recorded, each in its own transaction. Refuses a database that records a
/// migration this server does not know (it was written by a newer version).
pub fn migrate(conn: &mut dyn Conn) -> Result<usize, DbError> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )?;
    if conn.backend() == Backend::Postgres {
        // Two servers starting together must not both migrate.
        conn.batch("SELECT pg_advisory_lock(7231100016)")?;
    }
    let result = (|| {
        let done: Vec<i64> =
            conn.query("SELECT version FROM schema_migrations ORDER BY version", &[])?.iter().map(|r| r.i(0)).collect();
        if let Some(v) = done.iter().find(|v| **v as usize > MIGRATIONS.len()) {
            return Err(DbError::Other(format!(
                "the database has migration {v}, newer than this server knows ({}); use a newer cityguide",
                MIGRATIONS.len()
            )));
        }
        let mut applied = 0;
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate() {
            let version = i as i64 + 1;
            if done.contains(&version) {
                continue;
            }
            conn.transaction(|c| -> Result<(), DbError> {
                c.batch(sql)?;
                c.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[version.into(), (*name).into(), chrono::Utc::now().timestamp().into()],
                )?;
                Ok(())
            })?;
            applied += 1;
        }
        Ok(applied)
    })();
    if conn.backend() == Backend::Postgres {
        let _ = conn.batch("SELECT pg_advisory_unlock(7231100016)");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(redact("postgres://city:s3cret@127.0.0.1:5432/inbox"), "postgres://city:***@127.0.0.1:5432/inbox");
        assert_eq!(redact("postgres://city@127.0.0.1/inbox"), "postgres://city@127.0.0.1/inbox");
    }
}
