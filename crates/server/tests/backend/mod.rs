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

/// Every GET route of the API with ids of the data in `store` for the routes that take one (not
/// /events: a stream).
pub fn read_routes(store: &Store) -> Vec<String> {
    let (device, collection, threat): (String, String, i64) = store
        .with(|c| {
            Ok((
                c.query_row("SELECT AADDeviceID FROM devices ORDER BY id LIMIT 1", [], |r| r.get(0))?,
                c.query_row("SELECT CollectionId FROM collections ORDER BY id LIMIT 1", [], |r| r.get(0))?,
                c.query_row("SELECT ThreatID FROM threats ORDER BY id LIMIT 1", [], |r| r.get(0))?,
            ))
        })
        .unwrap();
    tenantscope_server::api::routes()
        .paths()
        .iter()
        .filter(|p| !p.starts_with("/upload") && **p != "/import" && **p != "/events" && **p != "/session" && **p != "/openapi.json")
        .map(|p| {
            format!("/api/v1{}", p.replace("/devices/{id}", &format!("/devices/{device}")))
                .replace("/collections/{id}", &format!("/collections/{collection}"))
                .replace("/threats/{id}", &format!("/threats/{threat}"))
        })
        .collect()
}

/// Reads an events stream until `until` holds for the text read so far (or `wait` passes).
pub async fn read_events(body: &mut axum::body::Body, wait: std::time::Duration, until: impl Fn(&str) -> bool) -> String {
    use http_body_util::BodyExt;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while !until(&text) {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    text.push_str(&String::from_utf8_lossy(data));
                }
            }
            _ => break,
        }
    }
    text
}
