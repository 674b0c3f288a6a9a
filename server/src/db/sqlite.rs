//! The embedded back end: one SQLite file in WAL mode through `rusqlite` (the same bundled SQLite the phone uses).

use std::path::Path;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::{Backend, Conn, DbError, Row, Value};

/// A connection to the inbox file.
pub struct SqliteConn {
    conn: Connection,
}

impl SqliteConn {
    /// Opens (creating) the file: WAL, `synchronous = FULL` (a report is on disk before the phone hears "stored"),
    /// foreign keys on, and a busy timeout so concurrent writers wait rather than fail.
    pub fn open(path: &Path) -> Result<SqliteConn, DbError> {
        let conn = Connection::open(path).map_err(|e| DbError::Other(format!("{}: {e}", path.display())))?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(10))
        };
        setup().map_err(|e| DbError::Other(format!("{}: {e}", path.display())))?;
        Ok(SqliteConn { conn })
    }
}

/// `$1` → `?1`: SQLite numbers `?NNN` parameters by their digits, as PostgreSQL does `$NNN`.
fn dialect(sql: &str) -> String {
    sql.replace('$', "?")
}

fn err(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            DbError::Unique(e.to_string())
        }
        _ => DbError::Other(e.to_string()),
    }
}

struct P<'a>(&'a Value);

impl ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(Some(f)) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            _ => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

impl Conn for SqliteConn {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let ps: Vec<P<'_>> = params.iter().map(P).collect();
        let refs: Vec<&dyn ToSql> = ps.iter().map(|p| p as &dyn ToSql).collect();
        let mut st = self.conn.prepare_cached(&dialect(sql)).map_err(err)?;
        if st.readonly() || sql.contains("RETURNING") {
            let mut rows = st.query(refs.as_slice()).map_err(err)?;
            let mut n = 0;
            while rows.next().map_err(err)?.is_some() {
                n += 1;
            }
            return Ok(n);
        }
        st.execute(refs.as_slice()).map(|n| n as u64).map_err(err)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let ps: Vec<P<'_>> = params.iter().map(P).collect();
        let refs: Vec<&dyn ToSql> = ps.iter().map(|p| p as &dyn ToSql).collect();
        let mut st = self.conn.prepare_cached(&dialect(sql)).map_err(err)?;
        let n = st.column_count();
        let mut rows = st.query(refs.as_slice()).map_err(err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i).map_err(err)? {
                    ValueRef::Null => Value::Text(None),
                    ValueRef::Integer(i) => Value::Int(Some(i)),
                    ValueRef::Real(f) => Value::Real(Some(f)),
                    ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(err)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn is_healthy(&self) -> bool {
        self.conn.is_autocommit()
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}
