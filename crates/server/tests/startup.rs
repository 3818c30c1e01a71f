//! Start-up as the store is prepared: the API answers 503 with progress until it is ready, the
//! console is served meanwhile; seeding leaves the store sound whatever happens; the devices index
//! is built safely.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::{Arc, OnceLock};
use tenantscope_server::seed::{seed, DemoOptions, DEMO_COMPLETE};
use tenantscope_server::store::{get_meta, Store};
use tenantscope_server::{app, app_preparing, app_switching, prepare, Config, Startup};
use tower::ServiceExt;

const ANCHOR: i64 = 1_795_536_000;

fn demo(devices: u64) -> DemoOptions {
    DemoOptions { devices, seed: 9, anchor: ANCHOR, progress: false }
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    (parts.status, parts.headers, String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned())
}

#[tokio::test]
async fn while_preparing_the_api_says_how_far_and_the_console_loads() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>Tenantscope</title>").unwrap();
    let startup = Arc::new(Startup::default());
    startup.set("generating the demo tenant", 45);
    let ready = Arc::new(OnceLock::new());
    let service = app_switching(app_preparing(Arc::clone(&startup), Some(&dist), &Default::default()), Arc::clone(&ready));

    for uri in ["/api/v1/summary", "/api/v1/devices?page=2", "/api/v1/devices/abc", "/api/v1"] {
        let (status, headers, body) = get(&service, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "2", "{uri}");
        let err: tenantscope_model::api::ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(err.error, "starting");
        assert_eq!(err.detail, "Preparing data — 45 % (generating the demo tenant)");
    }
    // The console itself is there (it shows the progress).
    let (status, _, body) = get(&service, "/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<title>Tenantscope</title>"));
    // Outside /api/v1 the API's own 404 still holds.
    assert_eq!(get(&service, "/api/v2/x").await.0, StatusCode::NOT_FOUND);

    // Ready: the same service answers from the store.
    let store = prepare(&Config { data_dir: dir.path().join("data"), database: None, dist: None, demo: Some(demo(300)) }, &startup).unwrap();
    ready.set(app(store, Some(&dist))).ok().unwrap();
    let (status, _, body) = get(&service, "/api/v1/summary").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"total_devices\":300"), "{body}");
}

#[test]
fn preparing_reports_progress_that_only_grows() {
    let dir = tempfile::tempdir().unwrap();
    let startup = Arc::new(Startup::default());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let watcher = {
        let (startup, seen) = (Arc::clone(&startup), Arc::clone(&seen));
        std::thread::spawn(move || {
            for _ in 0..400 {
                seen.lock().unwrap().push(startup.get().1);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    prepare(&Config { data_dir: dir.path().to_path_buf(), database: None, dist: None, demo: Some(demo(20_000)) }, &startup).unwrap();
    watcher.join().unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(seen.iter().any(|p| (3..80).contains(p)), "progress while generating: {seen:?}");
}

#[test]
fn seeding_marks_completion_and_puts_the_connection_back_as_it_was_even_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store, &demo(50)).unwrap();
    assert!(store.with(|c| get_meta(c, DEMO_COMPLETE)).unwrap().is_some(), "written with the tenant");
    // Seeding again into a full store fails (unique keys)...
    assert!(seed(&store, &demo(50)).is_err());
    // ... and nothing of it was kept, and the pooled connection has its normal settings back.
    let (devices, synchronous, cache): (i64, i64, i64) = store
        .with(|c| {
            Ok((
                c.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))?,
                c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                c.query_row("PRAGMA cache_size", [], |r| r.get(0))?,
            ))
        })
        .unwrap();
    assert_eq!(devices, 50);
    assert_eq!(synchronous, 1, "NORMAL, not OFF");
    let normal: i64 = tenantscope_server::store::CONNECTION_PRAGMAS
        .split("cache_size = ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert_eq!(cache, normal, "the pool's cache size, not the bulk load's");
}

#[test]
fn missing_statistics_are_refreshed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config { data_dir: dir.path().to_path_buf(), database: None, dist: None, demo: Some(demo(500)) };
    drop(prepare(&config, &Startup::default()).unwrap());
    let stats = |store: &Store| store.with(|c| Ok(c.query_row("SELECT COUNT(*) FROM sqlite_stat1", [], |r| r.get::<_, i64>(0))?));
    let store = Store::open(dir.path()).unwrap();
    assert!(stats(&store).unwrap() > 0);
    store.with(|c| Ok(c.execute_batch("DELETE FROM sqlite_stat1")?)).unwrap();
    drop(store);
    let store = prepare(&config, &Startup::default()).unwrap();
    assert!(stats(&store).unwrap() > 0, "statistics refreshed at start-up");
}

#[test]
fn a_failed_or_panicking_index_build_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store, &demo(200)).unwrap();
    let panicked = store.device_index_by(|_| panic!("a bug while building"));
    assert!(panicked.is_err());
    let failed = store.device_index_by(|_| Err(tenantscope_server::store::StoreError::Busy));
    assert!(failed.is_err());
    // The next request builds it and every later one uses it.
    let index = store.device_index().unwrap();
    assert_eq!(index.len(), 200);
    assert!(Arc::ptr_eq(&index, &store.device_index().unwrap()));
}

#[test]
fn an_index_built_across_a_write_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store, &demo(200)).unwrap();
    let first = store
        .device_index_by(|s| {
            let index = tenantscope_server::store::DeviceIndex::build(s);
            // A write commits while the build runs.
            s.invalidate_device_index();
            index
        })
        .unwrap();
    let second = store.device_index().unwrap();
    assert!(!Arc::ptr_eq(&first, &second), "rebuilt after the write");
    assert!(Arc::ptr_eq(&second, &store.device_index().unwrap()));
}

#[test]
fn requests_waiting_for_the_index_hold_no_connection() {
    // More concurrent first requests than connections: the build still gets one.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store, &demo(5_000)).unwrap();
    store.invalidate_device_index();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).max_blocking_threads(64).enable_all().build().unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let app = app(Arc::clone(&store), None);
                tokio::spawn(async move { get(&app, "/api/v1/devices?DefenderHealth=at_risk").await.0 })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::OK);
        }
    });
}

#[test]
fn a_panic_while_a_connection_is_out_frees_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for _ in 0..tenantscope_server::store::MAX_CONNECTIONS * 2 {
        let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.with(|_| -> tenantscope_server::store::Result<()> { panic!("a bug in a query") })
        }));
        assert!(hit.is_err());
    }
    // Not every place lost: the store still answers.
    let one: i64 = store.with(|c| Ok(c.query_row("SELECT 1", [], |r| r.get(0))?)).unwrap();
    assert_eq!(one, 1);
    assert!(store.open_connections() <= tenantscope_server::store::MAX_CONNECTIONS);
}
