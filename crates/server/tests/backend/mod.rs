//! The store a test runs against: the SQLite file in the test's directory, or — when
//! `TENANTSCOPE_TEST_DATABASE` names a PostgreSQL server (`scripts/test.sh` starts a throw-away
//! cluster and runs the API and upload suites again with it) — a fresh database of the test's own.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tenantscope_server::store::db::{Connection, Location};
use tenantscope_server::store::Store;

/// The PostgreSQL server the suites run against, if any (a connection string to its maintenance database).
pub fn database() -> Option<String> {
    std::env::var("TENANTSCOPE_TEST_DATABASE").ok().filter(|url| !url.is_empty())
}

/// A connection string to a new, empty database on that server.
pub fn fresh_database(base: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("t{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let admin = Connection::open(&Location::Postgres(base.to_string())).expect("connect to the test database server");
    admin.execute_batch(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let (server, _) = base.rsplit_once('/').expect("a postgres:// URL ending in /DATABASE");
    format!("{server}/{name}")
}

/// A fresh, empty store: SQLite in `dir`, or a database of its own on the test server.
pub fn store(dir: &Path) -> Arc<Store> {
    match database() {
        Some(base) => Store::open_postgres(&fresh_database(&base)).unwrap(),
        None => Store::open(dir).unwrap(),
    }
}
