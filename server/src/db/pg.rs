//! The production back end: PostgreSQL through the `postgres` crate (the blocking client over `tokio-postgres`),
//! called only from tokio's blocking pool (see [`super::Db::run`]).

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls};

use super::{Backend, Conn, DbError, Row, Value};

/// One connection, with its prepared statements: each query text is parsed once per connection, which halves the
/// round trips of the statements that follow.
pub struct PgConn {
    client: Client,
    prepared: std::collections::HashMap<String, postgres::Statement>,
}

impl PgConn {
    /// Connects. TLS to the database is left to the deployment (a local socket, or a tunnel); see docs/feedback.md.
    pub fn open(url: &str) -> Result<PgConn, DbError> {
        let mut config: postgres::Config =
            url.parse().map_err(|e| DbError::Other(format!("not a PostgreSQL URL: {e}")))?;
        config.connect_timeout(std::time::Duration::from_secs(10));
        let client = config.connect(NoTls).map_err(|e| DbError::Connection(e.to_string()))?;
        Ok(PgConn { client, prepared: std::collections::HashMap::new() })
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(st) = self.prepared.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(err)?;
        if self.prepared.len() >= 256 {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

fn err(e: postgres::Error) -> DbError {
    if e.is_closed() {
        return DbError::Connection(e.to_string());
    }
    match e.code() {
        Some(c) if *c == postgres::error::SqlState::UNIQUE_VIOLATION => DbError::Unique(e.to_string()),
        _ => DbError::Other(e.as_db_error().map(|d| d.to_string()).unwrap_or_else(|| e.to_string())),
    }
}

#[derive(Debug)]
struct P<'a>(&'a Value);

impl ToSql for P<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let fits = match self.0 {
            Value::Int(Some(_)) => matches!(*ty, Type::INT8 | Type::INT4),
            Value::Real(Some(_)) => *ty == Type::FLOAT8,
            Value::Text(Some(_)) => matches!(*ty, Type::TEXT | Type::VARCHAR),
            _ => true,
        };
        if !fits {
            return Err(format!("a {:?} cannot be a parameter of type {ty}", self.0).into());
        }
        match self.0 {
            Value::Int(v) => match *ty {
                Type::INT4 => v.map(i32::try_from).transpose()?.to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Real(v) => v.to_sql(ty, out),
            Value::Text(v) => v.as_deref().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::INT4 | Type::FLOAT8 | Type::TEXT | Type::VARCHAR)
    }

    to_sql_checked!();
}

fn row(r: &postgres::Row) -> Result<Row, DbError> {
    let mut vals = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let get_err = |e: postgres::Error| DbError::Other(format!("column {}: {e}", c.name()));
        vals.push(match *c.type_() {
            Type::INT8 => Value::Int(r.try_get::<_, Option<i64>>(i).map_err(get_err)?),
            Type::INT4 => Value::Int(r.try_get::<_, Option<i32>>(i).map_err(get_err)?.map(i64::from)),
            Type::INT2 => Value::Int(r.try_get::<_, Option<i16>>(i).map_err(get_err)?.map(i64::from)),
            Type::BOOL => Value::Int(r.try_get::<_, Option<bool>>(i).map_err(get_err)?.map(i64::from)),
            Type::FLOAT8 => Value::Real(r.try_get::<_, Option<f64>>(i).map_err(get_err)?),
            Type::FLOAT4 => Value::Real(r.try_get::<_, Option<f32>>(i).map_err(get_err)?.map(f64::from)),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                Value::Text(r.try_get::<_, Option<String>>(i).map_err(get_err)?)
            }
            ref other => {
                return Err(DbError::Other(format!(
                    "column {} has type {other}; cast it to BIGINT, DOUBLE PRECISION or TEXT",
                    c.name()
                )));
            }
        });
    }
    Ok(Row(vals))
}

impl Conn for PgConn {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let ps: Vec<P<'_>> = params.iter().map(P).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let st = self.statement(sql)?;
        if sql.contains("RETURNING") {
            return self.client.query(&st, &refs).map(|r| r.len() as u64).map_err(err);
        }
        self.client.execute(&st, &refs).map_err(err)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let ps: Vec<P<'_>> = params.iter().map(P).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let st = self.statement(sql)?;
        self.client.query(&st, &refs).map_err(err)?.iter().map(row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(err)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    fn is_healthy(&self) -> bool {
        !self.client.is_closed()
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}
