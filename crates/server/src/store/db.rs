//! The store interface: one connection type over the two databases Tenantscope keeps its data in —
//! the embedded SQLite file (the default) and PostgreSQL (`--database postgres://…`, several servers
//! over one database). The queries are written once, in the SQL both understand; what differs is
//! said here, in one place: placeholders (`?1`, `?` → `$1`), `LIKE` (case-insensitive for ASCII in
//! SQLite, `ILIKE` in PostgreSQL), what a transaction means (a write takes the one write lock, a read
//! is a snapshot), and how values travel (PostgreSQL's typed values are read and bound as the
//! dynamically typed values SQLite has: integers, reals, texts, blobs, null).
//!
//! The API mirrors the parts of rusqlite's the store used, so a query reads the same over both.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

pub use tokio_postgres::Error as PgError;

/// Which database a connection speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Where a store lives.
#[derive(Clone, Debug)]
pub enum Location {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://user@host:port/db` or `host=… dbname=…`).
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("query returned no rows")]
    QueryReturnedNoRows,
    #[error("column {0}: {1}")]
    Conversion(usize, String),
    #[error("{0}")]
    Other(String),
}

/// PostgreSQL's own message (the driver's Display says only "db error").
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("postgres: {} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("postgres: {e}: {cause}"),
            None => format!("postgres: {e}"),
        },
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::QueryReturnedNoRows,
            e => Error::Sqlite(e),
        }
    }
}

impl Error {
    /// The SQLite error code, when SQLite said it.
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            Error::Sqlite(e) => e.sqlite_error_code(),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `.optional()` on a one-row query: no row is None.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

pub mod types {
    /// An owned value, as SQLite types them.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Value {
        Null,
        Integer(i64),
        Real(f64),
        Text(String),
        Blob(Vec<u8>),
    }

    /// A borrowed value.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum ValueRef<'a> {
        Null,
        Integer(i64),
        Real(f64),
        Text(&'a [u8]),
        Blob(&'a [u8]),
    }

    impl<'a> ValueRef<'a> {
        pub fn as_str_or_null(self) -> Result<Option<&'a str>, super::Error> {
            match self {
                ValueRef::Null => Ok(None),
                _ => self.as_str().map(Some),
            }
        }

        pub fn as_str(self) -> Result<&'a str, super::Error> {
            match self {
                ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| super::Error::Other(e.to_string())),
                other => Err(super::Error::Other(format!("not a text: {other:?}"))),
            }
        }
    }

    impl<'a> From<&'a Value> for ValueRef<'a> {
        fn from(v: &'a Value) -> Self {
            match v {
                Value::Null => ValueRef::Null,
                Value::Integer(i) => ValueRef::Integer(*i),
                Value::Real(f) => ValueRef::Real(*f),
                Value::Text(t) => ValueRef::Text(t.as_bytes()),
                Value::Blob(b) => ValueRef::Blob(b),
            }
        }
    }

    impl From<ValueRef<'_>> for Value {
        fn from(v: ValueRef<'_>) -> Self {
            match v {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            }
        }
    }

    impl From<String> for Value {
        fn from(v: String) -> Self {
            Value::Text(v)
        }
    }
    impl From<&str> for Value {
        fn from(v: &str) -> Self {
            Value::Text(v.to_string())
        }
    }
    impl From<i64> for Value {
        fn from(v: i64) -> Self {
            Value::Integer(v)
        }
    }
    impl From<bool> for Value {
        fn from(v: bool) -> Self {
            Value::Integer(v as i64)
        }
    }
    impl From<f64> for Value {
        fn from(v: f64) -> Self {
            Value::Real(v)
        }
    }
    impl<T: Into<Value>> From<Option<T>> for Value {
        fn from(v: Option<T>) -> Self {
            v.map_or(Value::Null, Into::into)
        }
    }

    /// A value bound to a parameter.
    pub trait ToSql {
        fn to_sql(&self) -> ValueRef<'_>;
    }

    /// A value read from a column.
    pub trait FromSql: Sized {
        fn column_result(value: ValueRef<'_>) -> Result<Self, String>;
    }
}

use types::{FromSql, ToSql, Value, ValueRef};

macro_rules! to_sql_int {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> ValueRef<'_> {
                ValueRef::Integer(*self as i64)
            }
        }
    )*};
}
to_sql_int!(i64, i32, u32, u16, u8, usize, u64, bool);

impl ToSql for f64 {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}
impl ToSql for str {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}
impl ToSql for String {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}
impl ToSql for Vec<u8> {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}
impl ToSql for Value {
    fn to_sql(&self) -> ValueRef<'_> {
        self.into()
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        self.as_ref().map_or(ValueRef::Null, ToSql::to_sql)
    }
}

impl FromSql for i64 {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(i),
            // PostgreSQL's sums and averages of integers are numeric.
            ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
macro_rules! from_sql_int {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
                let i = i64::column_result(v)?;
                <$t>::try_from(i).map_err(|_| format!("integer {i} out of range"))
            }
        }
    )*};
}
from_sql_int!(i32, u32, u16, u8, usize, u64);

impl FromSql for bool {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        Ok(i64::column_result(v)? != 0)
    }
}
impl FromSql for f64 {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(i as f64),
            ValueRef::Real(f) => Ok(f),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}
impl FromSql for String {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Text(t) => String::from_utf8(t.to_vec()).map_err(|e| e.to_string()),
            other => Err(format!("expected a text, found {other:?}")),
        }
    }
}
impl FromSql for Vec<u8> {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            other => Err(format!("expected a blob, found {other:?}")),
        }
    }
}
impl FromSql for Value {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn column_result(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::column_result(v).map(Some),
        }
    }
}

/// A statement's parameters: an array or slice of values, `params![…]`, `params_from_iter(…)`.
pub trait Params {
    fn values(&self) -> Vec<ValueRef<'_>>;
}

impl Params for [&dyn ToSql; 0] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}
impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(|v| v.to_sql()).collect()
    }
}
macro_rules! params_array {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn values(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(ToSql::to_sql).collect()
            }
        }
        impl<T: ToSql> Params for &[T; $n] {
            fn values(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(ToSql::to_sql).collect()
            }
        }
    )*};
}
params_array!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Parameters from an iterator of values.
pub struct ParamsFromIter(Vec<Value>);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: IntoValue,
{
    ParamsFromIter(iter.into_iter().map(IntoValue::into_value).collect())
}

/// A parameter taken into `params_from_iter`: an owned value moves in, a borrowed one is copied.
pub trait IntoValue {
    fn into_value(self) -> Value;
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl<T: ToSql + ?Sized> IntoValue for &T {
    fn into_value(self) -> Value {
        Value::from(self.to_sql())
    }
}

impl Params for ParamsFromIter {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.0.iter().map(ValueRef::from).collect()
    }
}

/// Parameters of mixed types: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    () => { [] as [&dyn $crate::store::db::types::ToSql; 0] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::db::types::ToSql),+] as &[&dyn $crate::store::db::types::ToSql] };
}
pub use crate::params;

/// A value SQLite binds as it is.
struct Bound<'a>(ValueRef<'a>);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef as R;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => R::Null,
            ValueRef::Integer(i) => R::Integer(i),
            ValueRef::Real(f) => R::Real(f),
            ValueRef::Text(t) => R::Text(t),
            ValueRef::Blob(b) => R::Blob(b),
        }))
    }
}

/// A value bound for PostgreSQL as the type the server expects for its parameter.
#[derive(Debug)]
struct PgBound<'a>(ValueRef<'a>);

impl tokio_postgres::types::ToSql for PgBound<'_> {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, ToSql as T, Type};
        let text = |s: &str, out: &mut bytes::BytesMut| T::to_sql(&s, &Type::TEXT, out);
        let text_like = |ty: &Type| matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN);
        match self.0 {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => T::to_sql(&i, ty, out),
                Type::INT4 => T::to_sql(&i32::try_from(i)?, ty, out),
                Type::INT2 => T::to_sql(&i16::try_from(i)?, ty, out),
                Type::FLOAT8 => T::to_sql(&(i as f64), ty, out),
                Type::FLOAT4 => T::to_sql(&(i as f32), ty, out),
                Type::BOOL => T::to_sql(&(i != 0), ty, out),
                ref t if text_like(t) => text(&i.to_string(), out),
                ref t => Err(format!("an integer cannot be bound as {t}").into()),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => T::to_sql(&f, ty, out),
                Type::FLOAT4 => T::to_sql(&(f as f32), ty, out),
                Type::INT8 if f.fract() == 0.0 => T::to_sql(&(f as i64), ty, out),
                ref t if text_like(t) => text(&f.to_string(), out),
                ref t => Err(format!("a real cannot be bound as {t}").into()),
            },
            ValueRef::Text(t) => {
                let s = std::str::from_utf8(t)?;
                match *ty {
                    ref t if text_like(t) => text(s, out),
                    // A text compared with a number column (a filter value, say) is its number.
                    Type::INT8 => T::to_sql(&s.trim().parse::<i64>()?, ty, out),
                    Type::INT4 => T::to_sql(&s.trim().parse::<i32>()?, ty, out),
                    Type::FLOAT8 => T::to_sql(&s.trim().parse::<f64>()?, ty, out),
                    ref t => Err(format!("a text cannot be bound as {t}").into()),
                }
            }
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => T::to_sql(&b, ty, out),
                ref t => Err(format!("a blob cannot be bound as {t}").into()),
            },
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A PostgreSQL column read as the value SQLite would have.
struct PgValue<'a>(ValueRef<'a>);

impl<'a> tokio_postgres::types::FromSql<'a> for PgValue<'a> {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::Type;
        Ok(PgValue(match *ty {
            Type::BOOL => ValueRef::Integer(bool::from_sql(ty, raw)? as i64),
            Type::INT2 => ValueRef::Integer(i16::from_sql(ty, raw)? as i64),
            Type::INT4 => ValueRef::Integer(i32::from_sql(ty, raw)? as i64),
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::OID => ValueRef::Integer(u32::from_sql(ty, raw)? as i64),
            Type::FLOAT4 => ValueRef::Real(f32::from_sql(ty, raw)? as f64),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::NUMERIC => ValueRef::Real(numeric(raw)?),
            Type::BYTEA => ValueRef::Blob(raw),
            _ => ValueRef::Text(raw),
        }))
    }

    fn from_sql_null(_: &tokio_postgres::types::Type) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgValue(ValueRef::Null))
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }
}

/// A NUMERIC in PostgreSQL's binary form (digit count, weight, sign, scale, base-10000 digits) as f64.
fn numeric(raw: &[u8]) -> std::result::Result<f64, Box<dyn std::error::Error + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<u16, Box<dyn std::error::Error + Sync + Send>> {
        raw.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or_else(|| "short numeric".into())
    };
    let (ndigits, weight, sign) = (word(0)? as usize, word(2)? as i16, word(4)?);
    if sign == 0xC000 {
        return Ok(f64::NAN);
    }
    let mut value = 0.0f64;
    for i in 0..ndigits {
        value += word(8 + 2 * i)? as f64 * 10000f64.powi(weight as i32 - i as i32);
    }
    Ok(if sign == 0x4000 { -value } else { value })
}

/// The runtime that drives PostgreSQL connections (the store's callers are blocking threads).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tenantscope-pg")
            .enable_all()
            .build()
            .expect("cannot start the PostgreSQL runtime")
    })
}

/// Waits for a client call on the calling thread. The client's futures only wait for the answers
/// its connection task (on the store's runtime) reads, so any thread may wait for them — a blocking
/// worker as well as a task of the server that has to (start-up, tests).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

pub struct PgConn {
    client: tokio_postgres::Client,
    /// Prepared statements by their SQL as written.
    statements: RefCell<HashMap<String, tokio_postgres::Statement>>,
}

/// What a PostgreSQL connection waits for at most, unless the connection string says: connecting
/// (10 s), and a peer that went silent (TCP keepalives after 30 s idle; unacknowledged data for 60 s):
/// a half-dead connection fails instead of holding a request, the follow-up or a start-up forever.
pub fn pg_timeouts(config: &mut tokio_postgres::Config) {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    config.keepalives(true);
    config.keepalives_idle(std::time::Duration::from_secs(30));
    #[cfg(target_os = "linux")]
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(std::time::Duration::from_secs(60));
    }
}

/// Connects to PostgreSQL: the connection string as given, a driver task on the store's runtime.
pub fn connect_pg(url: &str) -> Result<tokio_postgres::Client> {
    let (sender, answer) = std::sync::mpsc::channel();
    let url = url.to_string();
    let mut config: tokio_postgres::Config = url.parse()?;
    pg_timeouts(&mut config);
    runtime().spawn(async move {
        match config.connect(tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                let _ = sender.send(Ok(client));
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "postgres connection ended");
                }
            }
            Err(e) => {
                let _ = sender.send(Err(e));
            }
        }
    });
    answer.recv().map_err(|_| Error::Other("the PostgreSQL runtime stopped".into()))?.map_err(Error::from)
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(PgConn),
}

/// One connection to the store.
pub struct Connection {
    inner: Inner,
    /// In a transaction begun by `begin` (PostgreSQL's connection does not say).
    in_tx: std::cell::Cell<bool>,
}

/// How a transaction begins: `Deferred` is a read snapshot (it may write too), `Immediate` takes
/// the store's one write lock first, so writes are applied one after another on every server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionBehavior {
    Deferred,
    Immediate,
}

/// The advisory lock every writing transaction holds on PostgreSQL (SQLite's IMMEDIATE): one per
/// schema (a tenant's store is a schema of its own; tenants never wait for each other).
pub const PG_WRITE_LOCK: i32 = 0x7465_6e61;

impl Connection {
    pub fn open(location: &Location) -> Result<Connection> {
        match location {
            Location::Sqlite(path) => Self::open_sqlite(path, rusqlite::OpenFlags::default()),
            Location::Postgres(url) => {
                let client = connect_pg(url)?;
                let conn = Connection {
                    inner: Inner::Postgres(PgConn { client, statements: RefCell::default() }),
                    in_tx: Default::default(),
                };
                // Notices ("already exists, skipping") are not worth a log line.
                conn.execute_batch("SET application_name = 'tenantscope'; SET client_min_messages = warning")?;
                Ok(conn)
            }
        }
    }

    pub fn open_sqlite(path: &std::path::Path, flags: rusqlite::OpenFlags) -> Result<Connection> {
        Ok(Connection { inner: Inner::Sqlite(rusqlite::Connection::open_with_flags(path, flags)?), in_tx: Default::default() })
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection (settings only SQLite has), if it is one.
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(pg) => Ok(block_on(pg.client.batch_execute(sql))?),
        }
    }

    /// Runs `sql` on SQLite only (its settings and maintenance: PRAGMA, ANALYZE limits, VACUUM).
    pub fn execute_sqlite(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(_) => Ok(()),
        }
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(Statement::Sqlite(c.prepare_cached(sql)?)),
            Inner::Postgres(pg) => {
                if let Some(statement) = pg.statements.borrow().get(sql) {
                    return Ok(Statement::Postgres(pg, statement.clone()));
                }
                let statement = block_on(pg.client.prepare(&pg_sql(sql)))?;
                let mut cache = pg.statements.borrow_mut();
                if cache.len() > 512 {
                    cache.clear();
                }
                cache.insert(sql.to_string(), statement.clone());
                Ok(Statement::Postgres(pg, statement))
            }
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&self, sql: &str, params: P, f: F) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.transaction_with_behavior(TransactionBehavior::Deferred)
    }

    pub fn transaction_with_behavior(&mut self, behavior: TransactionBehavior) -> Result<Transaction<'_>> {
        self.begin(behavior)?;
        Ok(Transaction { conn: self, done: false })
    }

    /// Outside any transaction (each statement commits by itself).
    pub fn is_autocommit(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(c) => c.is_autocommit(),
            Inner::Postgres(_) => !self.in_tx.get(),
        }
    }

    /// Begins a transaction (`end` ends it); `Transaction` does both.
    pub fn begin(&self, behavior: TransactionBehavior) -> Result<()> {
        let begin = match (self.dialect(), behavior) {
            (Dialect::Sqlite, TransactionBehavior::Deferred) => "BEGIN DEFERRED".to_string(),
            (Dialect::Sqlite, TransactionBehavior::Immediate) => "BEGIN IMMEDIATE".to_string(),
            // A snapshot, as SQLite's reads are: every statement sees the same committed state.
            (Dialect::Postgres, TransactionBehavior::Deferred) => "BEGIN ISOLATION LEVEL REPEATABLE READ".to_string(),
            // The write lock first, then every statement sees what committed before it.
            (Dialect::Postgres, TransactionBehavior::Immediate) => {
                format!("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({PG_WRITE_LOCK}, hashtext(current_schema()))")
            }
        };
        if let Err(e) = self.execute_batch(&begin) {
            // A lock wait that failed (a timeout, a cancel) leaves PostgreSQL's transaction open
            // and failed: ended here, so the connection is usable again.
            let _ = self.execute_batch("ROLLBACK");
            return Err(e);
        }
        self.in_tx.set(true);
        Ok(())
    }

    /// Commits (or rolls back) the transaction `begin` began.
    pub fn end(&self, commit: bool) -> Result<()> {
        let out = self.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" });
        if out.is_ok() || !commit {
            self.in_tx.set(false);
        }
        out
    }

    /// Whether the connection is still usable (PostgreSQL: not closed by the server).
    pub fn is_usable(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(_) => true,
            Inner::Postgres(pg) => !pg.client.is_closed(),
        }
    }
}

/// A transaction: commit it, or it is rolled back when dropped.
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        let out = self.conn.end(true);
        if out.is_err() {
            // Nothing of it stays (SQLite may keep a failed commit open).
            let _ = self.conn.end(false);
        }
        out
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.conn.end(false) {
                tracing::debug!(error = %e, "rollback");
            }
        }
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

pub enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres(&'c PgConn, tokio_postgres::Statement),
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        match self {
            Statement::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(params.values().into_iter().map(Bound)))?),
            Statement::Postgres(pg, statement) => {
                let values: Vec<PgBound<'_>> = params.values().into_iter().map(PgBound).collect();
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
                Ok(block_on(pg.client.execute(&*statement, &refs))? as usize)
            }
        }
    }

    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        match self {
            // The values are copied into the statement when bound.
            Statement::Sqlite(s) => Ok(Rows::Sqlite(s.query(rusqlite::params_from_iter(params.values().into_iter().map(Bound)))?)),
            Statement::Postgres(pg, statement) => {
                let values: Vec<PgBound<'_>> = params.values().into_iter().map(PgBound).collect();
                let stream = block_on(pg.client.query_raw(&*statement, values.iter()))?;
                Ok(Rows::Postgres(Box::pin(stream), None))
            }
        }
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<T> {
        let mut rows = self.query(params)?;
        let out = match rows.next()? {
            Some(row) => f(&row),
            None => Err(Error::QueryReturnedNoRows),
        };
        drop(rows);
        out
    }

    /// The rows mapped by `f`, as they are read (an iterator of results, like rusqlite's).
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>> {
        Ok(MappedRows { rows: self.query(params)?, map: f })
    }

    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut rows = self.query(params)?;
        Ok(rows.next()?.is_some())
    }
}

/// The rows of a query, each mapped as it is read.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    map: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.map)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::pin::Pin<Box<tokio_postgres::RowStream>>, Option<tokio_postgres::Row>),
}

impl Rows<'_> {
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Postgres(stream, current) => {
                use futures_util::StreamExt;
                *current = block_on(stream.next()).transpose()?;
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// A column's position.
pub trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}
impl RowIndex for i32 {
    fn index(self) -> usize {
        self as usize
    }
}

/// One row of a result.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        match self {
            Row::Sqlite(r) => {
                use rusqlite::types::ValueRef as R;
                Ok(match r.get_ref(idx)? {
                    R::Null => ValueRef::Null,
                    R::Integer(i) => ValueRef::Integer(i),
                    R::Real(f) => ValueRef::Real(f),
                    R::Text(t) => ValueRef::Text(t),
                    R::Blob(b) => ValueRef::Blob(b),
                })
            }
            Row::Postgres(r) => {
                if idx >= r.len() {
                    return Err(Error::Other(format!("no column {idx}")));
                }
                Ok(r.try_get::<_, PgValue<'_>>(idx)?.0)
            }
        }
    }

    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        T::column_result(self.get_ref(idx)?).map_err(|e| Error::Conversion(idx, e))
    }
}

/// The SQL as PostgreSQL takes it: `?NNN` and `?` as `$NNN` (numbered as SQLite does), `LIKE` as `ILIKE` (SQLite's LIKE is
/// case-insensitive for ASCII letters, as ILIKE is under the C collation the tables use). Quoted
/// texts are left as they are.
pub fn pg_sql(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    let mut number = 0;
    let mut quoted = false;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let b = bytes[i];
        if quoted {
            if b == b'\'' {
                quoted = false;
            }
            let len = sql[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&sql[i..i + len]);
            i += len;
            continue;
        }
        match b {
            b'\'' => {
                quoted = true;
                out.push('\'');
                i += 1;
            }
            b'?' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                // As SQLite numbers them: `?` is one more than the largest number so far.
                number = if end > start { sql[start..end].parse::<usize>().unwrap_or(0).max(number) } else { number + 1 };
                out.push('$');
                if end > start {
                    out.push_str(&sql[start..end]);
                } else {
                    out.push_str(&number.to_string());
                }
                i = end;
            }
            b'L' if sql[i..].starts_with("LIKE")
                && (i == 0 || !ident(bytes[i - 1]))
                && bytes.get(i + 4).is_none_or(|b| !ident(*b)) =>
            {
                out.push_str("ILIKE");
                i += 4;
            }
            _ => {
                // Copy the whole UTF-8 character.
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&sql[i..i + len]);
                i += len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_like_for_postgres() {
        assert_eq!(pg_sql("SELECT a FROM t WHERE b = ?1 AND c = ?2 OR d = ?1"), "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1");
        assert_eq!(pg_sql("SELECT a FROM t WHERE c IN (?, ?) AND d LIKE ? ESCAPE '\\'"), "SELECT a FROM t WHERE c IN ($1, $2) AND d ILIKE $3 ESCAPE '\\'");
        assert_eq!(pg_sql("SELECT 'what? LIKE' , ?12, LIKELY FROM x"), "SELECT 'what? LIKE' , $12, LIKELY FROM x");
        assert_eq!(pg_sql("SELECT 'é' || ? "), "SELECT 'é' || $1 ");
        assert_eq!(pg_sql("WHERE t >= ?1 AND t < ?2 AND (k IN (?, ?))"), "WHERE t >= $1 AND t < $2 AND (k IN ($3, $4))");
    }

    #[test]
    fn numerics_read_as_reals() {
        // 12.5: 2 digits, weight 0, positive, scale 1: [12, 5000].
        let raw = [0u8, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88];
        assert_eq!(numeric(&raw).unwrap(), 12.5);
        let negative = [0u8, 1, 0, 1, 0x40, 0, 0, 0, 0, 3];
        assert_eq!(numeric(&negative).unwrap(), -30000.0);
    }
}
